//! Fault injection for the crash tests: in debug builds, `GALLERYFS_CRASH_AT=POINT`
//! makes the process abort at that named step of a trash move, as a `kill -9` would.
//! Release builds compile every call to nothing.

/// Aborts the process if this is the step named by `GALLERYFS_CRASH_AT`.
#[inline]
pub fn point(name: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::OnceLock;
        static TARGET: OnceLock<Option<String>> = OnceLock::new();
        let target = TARGET.get_or_init(|| std::env::var("GALLERYFS_CRASH_AT").ok());
        if target.as_deref() == Some(name) {
            eprintln!("galleryfs: fault injection: crashing at {name}");
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

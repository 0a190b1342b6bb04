//! Fault injection for the crash tests: in debug builds, `GALLERYFS_CRASH_AT=POINT`
//! makes the process abort at that named step of a trash move, as a `kill -9` would.
//! `GALLERYFS_FAIL=STEP` makes a step fail as it would on a STORAGE that
//! cannot do it (`link`: no hard links), so fallbacks are testable too.
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

/// Whether step `name` is to fail as on a STORAGE that cannot do it
/// (`GALLERYFS_FAIL=name`, debug builds only).
#[inline]
pub fn refused(name: &str) -> bool {
    #[cfg(debug_assertions)]
    {
        use std::sync::OnceLock;
        static REFUSED: OnceLock<Option<String>> = OnceLock::new();
        let refused = REFUSED.get_or_init(|| std::env::var("GALLERYFS_FAIL").ok());
        refused.as_deref() == Some(name)
    }
    #[cfg(not(debug_assertions))]
    {
        let _ = name;
        false
    }
}

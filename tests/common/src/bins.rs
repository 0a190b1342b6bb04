//! The binaries under test. `env!("CARGO_BIN_EXE_…")` exists only in the
//! main package's own integration tests, so this library finds them where
//! cargo puts them: an integration test runs as `target/<profile>/deps/NAME-HASH`
//! and the package's binaries are `target/<profile>/NAME` (as `assert_cmd`'s
//! `cargo_bin` does). `GALLERYFS_BIN_DIR` overrides the directory.

use std::path::{Path, PathBuf};

/// `target/<profile>/galleryfs`.
pub fn galleryfs_bin() -> PathBuf {
    bin("galleryfs")
}

/// `target/<profile>/gallery-trash`.
pub fn gallery_trash_bin() -> PathBuf {
    bin("gallery-trash")
}

/// The binary `name` of the package under test; panics if it is not there.
pub fn bin(name: &str) -> PathBuf {
    let dir = bin_dir();
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: the galleryfs binaries are found next to the test executable's \
         deps/ directory (run the tests with `cargo test` in the galleryfs package, which \
         builds them first), or in GALLERYFS_BIN_DIR",
        path.display()
    );
    path
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GALLERYFS_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut dir = exe
        .parent()
        .expect("the test executable's directory")
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// Whether `a` and `b` name the same file (for checking [`bin`] against cargo's own paths).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Asserts that [`galleryfs_bin`] and [`gallery_trash_bin`] are the binaries
/// cargo built for the calling suite; pass `env!("CARGO_BIN_EXE_galleryfs")`
/// and `env!("CARGO_BIN_EXE_gallery-trash")`.
pub fn assert_found(galleryfs: &str, gallery_trash: &str) {
    for (found, built) in [
        (galleryfs_bin(), galleryfs),
        (gallery_trash_bin(), gallery_trash),
    ] {
        assert!(
            same_file(&found, Path::new(built)),
            "the testkit found {}, but cargo built {built}",
            found.display()
        );
    }
}

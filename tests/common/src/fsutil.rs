//! Small file-system helpers that panic with the path on an unexpected error.

use std::collections::BTreeSet;
use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `p` as a C string for a libc call.
pub fn cpath(p: &Path) -> CString {
    cstr(p)
}

/// A path, name or other OS string as a C string for a libc call.
pub fn cstr(s: impl AsRef<OsStr>) -> CString {
    CString::new(s.as_ref().as_bytes()).expect("no NUL in a test path or name")
}

/// The names in `dir` (without `.` and `..`), sorted; panics on a name that is not UTF-8.
pub fn sorted_names(dir: &Path) -> Vec<String> {
    sorted_os_names(dir)
        .into_iter()
        .map(|n| {
            n.into_string()
                .unwrap_or_else(|n| panic!("{n:?} in {} is not UTF-8", dir.display()))
        })
        .collect()
}

/// The names in `dir` (without `.` and `..`), sorted, as bytes.
pub fn sorted_os_names(dir: &Path) -> Vec<OsString> {
    names(dir).into_iter().collect()
}

/// The names in `dir` (without `.` and `..`).
pub fn names(dir: &Path) -> BTreeSet<OsString> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").file_name())
        .collect()
}

/// `lstat`, which must succeed.
pub fn lstat(p: &Path) -> fs::Metadata {
    fs::symlink_metadata(p).unwrap_or_else(|e| panic!("lstat {}: {e}", p.display()))
}

/// Whether `p` exists (not following a symlink); panics on errors other than ENOENT.
pub fn exists(p: &Path) -> bool {
    match fs::symlink_metadata(p) {
        Ok(_) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => panic!("lstat {}: {e}", p.display()),
    }
}

/// The content of `p`, which must be readable.
pub fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// Writes `content` to `p`, which must succeed.
pub fn write(p: &Path, content: &[u8]) {
    fs::write(p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
}

/// Writes `content` to `p`, creating its missing parent directories first.
pub fn write_with_parents(p: &Path, content: &[u8]) {
    if let Some(parent) = p.parent() {
        mkdir_p(parent);
    }
    write(p, content);
}

/// `mkdir -p`, which must succeed.
pub fn mkdir_p(p: &Path) {
    fs::create_dir_all(p).unwrap_or_else(|e| panic!("mkdir -p {}: {e}", p.display()));
}

/// `chmod`, which must succeed.
pub fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
}

/// Removes empty directory `p` from another process (`rmdir`): what the
/// calling process removed below it then stays loose entries, not folded
/// into one for the directory (galleryfs folds one process's removal).
pub fn rmdir_elsewhere(p: &Path) {
    let status = std::process::Command::new("rmdir")
        .arg(p)
        .status()
        .expect("run rmdir");
    assert!(status.success(), "rmdir {} failed", p.display());
}

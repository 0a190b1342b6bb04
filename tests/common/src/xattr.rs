//! Extended attributes, never following symlinks (`lgetxattr`, `llistxattr`,
//! `lsetxattr`, `lremovexattr`), as the trash's attributes are read.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::errno::check;
use crate::fsutil::{cpath, cstr};

/// The attributes every trash entry carries.
pub const TRASH_XATTRS: [&str; 5] = [
    "user.trash.original_path",
    "user.trash.deleted_at",
    "user.trash.expires_at",
    "user.trash.days_left",
    "user.trash.reason",
];

/// Reads a value of any size through `call(buf, len)` (a `*getxattr`/`*listxattr`).
fn sized(mut call: impl FnMut(*mut libc::c_void, usize) -> isize) -> io::Result<Vec<u8>> {
    loop {
        let len = call(std::ptr::null_mut(), 0);
        if len < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; len as usize];
        let n = call(buf.as_mut_ptr().cast(), buf.len());
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ERANGE) {
                continue; // grew meanwhile
            }
            return Err(e);
        }
        buf.truncate(n as usize);
        return Ok(buf);
    }
}

/// The value of xattr `name` of `path`.
pub fn get(path: &Path, name: &str) -> io::Result<Vec<u8>> {
    let p = cpath(path);
    let n = cstr(name);
    // SAFETY: valid C strings; the buffer is valid for `len` bytes (or null with 0).
    sized(|buf, len| unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf, len) })
}

/// The value of xattr `name` of an open file.
pub fn fget(file: &File, name: &str) -> io::Result<Vec<u8>> {
    let n = cstr(name);
    let fd = file.as_raw_fd();
    // SAFETY: a valid fd and C string; the buffer is valid for `len` bytes.
    sized(|buf, len| unsafe { libc::fgetxattr(fd, n.as_ptr(), buf, len) })
}

/// The value of xattr `name`, `None` if absent (ENODATA); panics on any other error.
pub fn get_opt(path: &Path, name: &str) -> Option<Vec<u8>> {
    match get(path, name) {
        Ok(v) => Some(v),
        Err(e) if e.raw_os_error() == Some(libc::ENODATA) => None,
        Err(e) => panic!("getxattr {} {name}: {e}", path.display()),
    }
}

/// The value of an xattr that must be present, as UTF-8 text.
pub fn get_string(path: &Path, name: &str) -> String {
    let v = get(path, name).unwrap_or_else(|e| panic!("getxattr {} {name}: {e}", path.display()));
    String::from_utf8(v)
        .unwrap_or_else(|e| panic!("xattr {name} of {} is not UTF-8: {e}", path.display()))
}

/// The xattr names `path` lists.
pub fn list(path: &Path) -> io::Result<BTreeSet<String>> {
    let p = cpath(path);
    // SAFETY: a valid C string; the buffer is valid for `len` bytes.
    let buf = sized(|buf, len| unsafe { libc::llistxattr(p.as_ptr(), buf.cast(), len) })?;
    Ok(buf
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

/// The xattr names `path` lists, which must succeed.
pub fn names(path: &Path) -> BTreeSet<String> {
    list(path).unwrap_or_else(|e| panic!("listxattr {}: {e}", path.display()))
}

/// The `user.trash.*` names `path` lists.
pub fn trash_names(path: &Path) -> BTreeSet<String> {
    names(path)
        .into_iter()
        .filter(|n| n.starts_with("user.trash."))
        .collect()
}

/// Sets xattr `name` of `path` to `value` (flags 0: create or replace).
pub fn set(path: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    let p = cpath(path);
    let n = cstr(name);
    // SAFETY: valid C strings and value buffer.
    check(unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    })
}

/// Removes xattr `name` of `path`.
pub fn remove(path: &Path, name: &str) -> io::Result<()> {
    let p = cpath(path);
    let n = cstr(name);
    // SAFETY: valid C strings.
    check(unsafe { libc::lremovexattr(p.as_ptr(), n.as_ptr()) })
}

/// One attribute read with the `getfattr` tool, as a user would
/// (`getfattr --only-values --absolute-names -n NAME PATH`), which must succeed.
pub fn getfattr(path: &Path, name: &str) -> String {
    crate::cmd::ok(
        std::process::Command::new("getfattr")
            .args(["--only-values", "--absolute-names", "-n", name])
            .arg(path),
    )
}

/// The value of xattr `name` as UTF-8 text, `None` if absent (ENODATA);
/// panics on any other error.
pub fn get_string_opt(path: &Path, name: &str) -> Option<String> {
    get_opt(path, name).map(|v| {
        String::from_utf8(v)
            .unwrap_or_else(|e| panic!("xattr {name} of {} is not UTF-8: {e}", path.display()))
    })
}

//! errno helpers: reading the errno of a failed call, asserting it, naming it.

use std::fmt::Debug;
use std::io;

/// The errno of the last failed libc call (`EIO` if the OS gave none).
pub fn last_errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The errno of `e` (0 if it carries none).
pub fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// The errno of `r` if it failed with one; `None` if it succeeded or failed without one.
pub fn errno_of<T>(r: io::Result<T>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

/// The errno of a call that must fail; panics if it succeeded or carries no errno.
pub fn must_fail<T: Debug>(what: &str, r: io::Result<T>) -> i32 {
    match r {
        Ok(v) => panic!("{what} succeeded ({v:?}) but should have failed"),
        Err(e) => e
            .raw_os_error()
            .unwrap_or_else(|| panic!("{what} failed without an errno: {e}")),
    }
}

/// Asserts that `r` failed with errno `want`.
pub fn assert_errno<T: Debug>(what: &str, r: io::Result<T>, want: i32) {
    let got = must_fail(what, r);
    assert_eq!(
        got,
        want,
        "{what}: expected {}, got {}",
        io::Error::from_raw_os_error(want),
        io::Error::from_raw_os_error(got)
    );
}

/// `io::Result` of a libc call that returns a negative value on error.
pub fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The symbolic name of an errno (`"ENOENT"`), or `"errno N"` for one not listed.
pub fn errno_name(e: i32) -> String {
    match symbol(e) {
        Some(name) => name.to_string(),
        None => format!("errno {e}"),
    }
}

/// The errno a symbolic name (`"EROFS"`) stands for.
pub fn errno_from_name(name: &str) -> Option<i32> {
    NAMES.iter().find(|(_, n)| *n == name).map(|(e, _)| *e)
}

fn symbol(e: i32) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == e).map(|(_, name)| *name)
}

const NAMES: &[(i32, &str)] = &[
    (libc::EPERM, "EPERM"),
    (libc::ENOENT, "ENOENT"),
    (libc::EIO, "EIO"),
    (libc::ENXIO, "ENXIO"),
    (libc::E2BIG, "E2BIG"),
    (libc::EBADF, "EBADF"),
    (libc::EAGAIN, "EAGAIN"),
    (libc::EACCES, "EACCES"),
    (libc::EBUSY, "EBUSY"),
    (libc::EEXIST, "EEXIST"),
    (libc::EXDEV, "EXDEV"),
    (libc::ENOTDIR, "ENOTDIR"),
    (libc::EISDIR, "EISDIR"),
    (libc::EINVAL, "EINVAL"),
    (libc::ETXTBSY, "ETXTBSY"),
    (libc::EFBIG, "EFBIG"),
    (libc::ENOSPC, "ENOSPC"),
    (libc::ESPIPE, "ESPIPE"),
    (libc::EROFS, "EROFS"),
    (libc::EMLINK, "EMLINK"),
    (libc::ERANGE, "ERANGE"),
    (libc::ENAMETOOLONG, "ENAMETOOLONG"),
    (libc::ENOSYS, "ENOSYS"),
    (libc::ENOTEMPTY, "ENOTEMPTY"),
    (libc::ELOOP, "ELOOP"),
    (libc::ENODATA, "ENODATA"),
    (libc::EOVERFLOW, "EOVERFLOW"),
    (libc::ENOTSOCK, "ENOTSOCK"),
    (libc::EOPNOTSUPP, "EOPNOTSUPP"),
    (libc::EADDRINUSE, "EADDRINUSE"),
    (libc::ENOTCONN, "ENOTCONN"),
    (libc::ESTALE, "ESTALE"),
    (libc::EDQUOT, "EDQUOT"),
];

//! The few system calls std does not offer: reading an extended attribute
//! without following symlinks, attributes of open files (bulk requests),
//! renaming without replacing, the effective uid and user/group names. The only `unsafe` code of gallery-trash lives here.

use std::ffi::{CStr, CString, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::ptr;

/// First buffer size for attribute values; `user.trash.*` values are short.
const XATTR_FIRST_TRY: usize = 256;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// One `lgetxattr(2)` of `name` into `buf`: the value's length.
fn lgetxattr_into(path: &CStr, name: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `path` and `name` are NUL-terminated; `buf` is valid for
    // writes of `buf.len()` bytes and the kernel writes at most that many.
    let got = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    usize::try_from(got).map_err(|_| io::Error::last_os_error())
}

/// `name` of `path` read once with a buffer of `size` bytes (ERANGE if the
/// value is longer): for values that may change between two reads.
pub(crate) fn lgetxattr_once(path: &Path, name: &str, size: usize) -> io::Result<Vec<u8>> {
    let path = c_path(path)?;
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = vec![0u8; size];
    let got = lgetxattr_into(&path, &name, &mut buf)?;
    buf.truncate(got);
    Ok(buf)
}

/// `lgetxattr(2)`: the value of attribute `name` of `path` itself (a symlink is not followed).
pub(crate) fn lgetxattr(path: &Path, name: &str) -> io::Result<Vec<u8>> {
    let path = c_path(path)?;
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = vec![0u8; XATTR_FIRST_TRY];
    loop {
        let err = match lgetxattr_into(&path, &name, &mut buf) {
            Ok(got) => {
                buf.truncate(got);
                return Ok(buf);
            }
            Err(e) => e,
        };
        if err.raw_os_error() != Some(libc::ERANGE) {
            return Err(err);
        }
        // Too small: ask for the size (it may change again before the next try).
        // SAFETY: a null buffer of size 0 only asks for the value's length.
        let needed = unsafe { libc::lgetxattr(path.as_ptr(), name.as_ptr(), ptr::null_mut(), 0) };
        if needed < 0 {
            return Err(io::Error::last_os_error());
        }
        buf.resize((needed as usize).max(buf.len() * 2), 0);
    }
}

/// `fsetxattr(2)`: sets attribute `name` of the open file `file` to `value`.
pub(crate) fn fsetxattr(file: &std::fs::File, name: &str, value: &[u8]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `name` is NUL-terminated and `value` valid for reads of its length.
    let rc = unsafe {
        libc::fsetxattr(
            file.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `fgetxattr(2)` of `name` of the open file `file`, once, with a buffer of
/// `size` bytes (ERANGE if the value is longer).
pub(crate) fn fgetxattr_once(file: &std::fs::File, name: &str, size: usize) -> io::Result<Vec<u8>> {
    use std::os::fd::AsRawFd;
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = vec![0u8; size];
    // SAFETY: `name` is NUL-terminated; `buf` is valid for writes of `size`
    // bytes and the kernel writes at most that many.
    let got = unsafe {
        libc::fgetxattr(
            file.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let got = usize::try_from(got).map_err(|_| io::Error::last_os_error())?;
    buf.truncate(got);
    Ok(buf)
}

/// `renameat2(2)` with `RENAME_NOREPLACE`: fails with EEXIST instead of
/// replacing `to`. EINVAL means the filesystem does not support the flag.
pub(crate) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    // CWD makes the paths relative to the working directory like rename(2)
    // (they are absolute anyway).
    renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE).map_err(io::Error::from)
}

pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The name of user `uid` (passwd database, through NSS), if it has one.
pub(crate) fn user_name(uid: u32) -> Option<OsString> {
    lookup_name(|buf| {
        // SAFETY: an all-zero passwd is a valid value for getpwuid_r to fill.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf` outlives the use of `pwd`.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        // SAFETY: on success with a result, pw_name points to a NUL-terminated string inside `buf`.
        (
            rc,
            (!result.is_null()).then(|| unsafe { CStr::from_ptr(pwd.pw_name) }.to_bytes().to_vec()),
        )
    })
}

/// The name of group `gid` (group database, through NSS), if it has one.
pub(crate) fn group_name(gid: u32) -> Option<OsString> {
    lookup_name(|buf| {
        // SAFETY: an all-zero group is a valid value for getgrgid_r to fill.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf` outlives the use of `grp`.
        let rc = unsafe {
            libc::getgrgid_r(
                gid,
                &mut grp,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        // SAFETY: on success with a result, gr_name points to a NUL-terminated string inside `buf`.
        (
            rc,
            (!result.is_null()).then(|| unsafe { CStr::from_ptr(grp.gr_name) }.to_bytes().to_vec()),
        )
    })
}

/// Calls a `get*_r` function with a growing buffer until it is large enough.
fn lookup_name(
    mut call: impl FnMut(&mut [u8]) -> (libc::c_int, Option<Vec<u8>>),
) -> Option<OsString> {
    let mut buf = vec![0u8; 1024];
    loop {
        let (rc, name) = call(&mut buf);
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        return if rc == 0 {
            name.map(OsString::from_vec)
        } else {
            None
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0).as_deref(), Some(std::ffi::OsStr::new("root")));
        assert!(group_name(0).is_some());
    }

    #[test]
    fn missing_xattr_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = lgetxattr(dir.path(), galleryfs::contract::XATTR_ORIGINAL_PATH).unwrap_err();
        // ENODATA where user xattrs are supported, EOPNOTSUPP where they are not.
        assert!(
            matches!(err.raw_os_error(), Some(libc::ENODATA | libc::EOPNOTSUPP)),
            "{err}"
        );
    }

    #[test]
    fn reads_long_values() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        let value = vec![b'v'; 3000];
        let (p, v) = (c_path(&file).unwrap(), value.clone());
        // SAFETY: valid NUL-terminated strings and a buffer of the given length.
        let rc = unsafe {
            libc::setxattr(
                p.as_ptr(),
                c"user.test".as_ptr(),
                v.as_ptr().cast(),
                v.len(),
                0,
            )
        };
        if rc != 0 {
            return; // this filesystem has no user xattrs; nothing to check
        }
        assert_eq!(lgetxattr(&file, "user.test").unwrap(), value);
    }

    #[test]
    fn rename_noreplace_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        let err = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
        assert_eq!(std::fs::read(&b).unwrap(), b"b");
        let c = dir.path().join("c");
        rename_noreplace(&a, &c).unwrap();
        assert_eq!(std::fs::read(&c).unwrap(), b"a");
    }
}

//! The backing store's syscalls, all relative to directory fds and single name
//! components, never following symlinks. This is the one place for `unsafe`.
//!
//! Operating on `(dir fd, name)` instead of absolute paths means a concurrent
//! rename elsewhere in the tree cannot redirect an operation, and paths longer
//! than PATH_MAX work.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::error::{FsError, FsResult};

pub type Stat = libc::stat;

fn cname(name: &OsStr) -> FsResult<CString> {
    CString::new(name.as_bytes()).map_err(|_| FsError::EINVAL)
}

fn check(ret: libc::c_int) -> FsResult<()> {
    if ret < 0 {
        Err(FsError::last())
    } else {
        Ok(())
    }
}

fn check_fd(fd: RawFd) -> FsResult<OwnedFd> {
    if fd < 0 {
        Err(FsError::last())
    } else {
        // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// `/proc/self/fd/N`: reaches the inode behind an `O_PATH` fd for calls
/// that have no fd variant (chmod, xattrs), without following symlinks in the store.
fn proc_path(fd: BorrowedFd<'_>) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL in a number")
}

pub fn openat(dir: BorrowedFd<'_>, name: &OsStr, flags: i32, mode: u32) -> FsResult<OwnedFd> {
    let name = cname(name)?;
    // SAFETY: valid fd and NUL-terminated name; the result is checked.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            mode as libc::c_uint,
        )
    };
    check_fd(fd)
}

/// An `O_PATH` handle on `name` (symlinks included, not followed).
pub fn open_path(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<OwnedFd> {
    openat(dir, name, libc::O_PATH, 0)
}

/// A detached copy of the mount at `path` (`open_tree(OPEN_TREE_CLONE)`):
/// calls through it reach the same filesystem without holding the mount
/// itself, so they never make its unmount busy. Needs CAP_SYS_ADMIN.
pub fn open_tree_clone(path: &OsStr) -> FsResult<OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    let path = cname(path)?;
    // SAFETY: a NUL-terminated path and plain flags; the result is checked.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    check_fd(fd as RawFd)
}

/// An `O_PATH` handle on the directory `name`.
pub fn open_dir_path(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<OwnedFd> {
    openat(dir, name, libc::O_PATH | libc::O_DIRECTORY, 0)
}

pub fn fstatat(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<Stat> {
    let name = cname(name)?;
    let mut st = MaybeUninit::<Stat>::uninit();
    // SAFETY: valid pointers; `st` is initialised when the call succeeds.
    check(unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    // SAFETY: the call succeeded.
    Ok(unsafe { st.assume_init() })
}

pub fn fstat(fd: BorrowedFd<'_>) -> FsResult<Stat> {
    let mut st = MaybeUninit::<Stat>::uninit();
    // SAFETY: valid pointers; an empty path with AT_EMPTY_PATH stats the fd itself
    // (works for O_PATH fds, unlike fstat on older kernels).
    check(unsafe {
        libc::fstatat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            st.as_mut_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    // SAFETY: the call succeeded.
    Ok(unsafe { st.assume_init() })
}

pub fn mkdirat(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> FsResult<()> {
    let name = cname(name)?;
    // SAFETY: valid fd and name.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode as libc::mode_t) })
}

pub fn mknodat(dir: BorrowedFd<'_>, name: &OsStr, mode: u32, rdev: u64) -> FsResult<()> {
    let name = cname(name)?;
    // SAFETY: valid fd and name.
    check(unsafe {
        libc::mknodat(
            dir.as_raw_fd(),
            name.as_ptr(),
            mode as libc::mode_t,
            rdev as libc::dev_t,
        )
    })
}

pub fn symlinkat(target: &OsStr, dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<()> {
    let target = cname(target)?;
    let name = cname(name)?;
    // SAFETY: valid fd and names.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })
}

pub fn readlinkat(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<Vec<u8>> {
    let name = cname(name)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: the buffer is valid for buf.len() bytes.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(FsError::last());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn unlinkat(dir: BorrowedFd<'_>, name: &OsStr, remove_dir: bool) -> FsResult<()> {
    let name = cname(name)?;
    let flags = if remove_dir { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: valid fd and name.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })
}

pub fn renameat2(
    old_dir: BorrowedFd<'_>,
    old: &OsStr,
    new_dir: BorrowedFd<'_>,
    new: &OsStr,
    flags: u32,
) -> FsResult<()> {
    let old = cname(old)?;
    let new = cname(new)?;
    // SAFETY: valid fds and names.
    check(unsafe {
        libc::renameat2(
            old_dir.as_raw_fd(),
            old.as_ptr(),
            new_dir.as_raw_fd(),
            new.as_ptr(),
            flags,
        )
    })
}

pub fn linkat(
    old_dir: BorrowedFd<'_>,
    old: &OsStr,
    new_dir: BorrowedFd<'_>,
    new: &OsStr,
) -> FsResult<()> {
    let old = cname(old)?;
    let new = cname(new)?;
    // SAFETY: valid fds and names; flags 0 never follows a symlink `old`.
    check(unsafe {
        libc::linkat(
            old_dir.as_raw_fd(),
            old.as_ptr(),
            new_dir.as_raw_fd(),
            new.as_ptr(),
            0,
        )
    })
}

/// Changes owner; `None` leaves that id unchanged. Never follows a symlink.
pub fn fchownat(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    uid: Option<u32>,
    gid: Option<u32>,
) -> FsResult<()> {
    let name = cname(name)?;
    let uid = uid.unwrap_or(u32::MAX);
    let gid = gid.unwrap_or(u32::MAX);
    // SAFETY: valid fd and name.
    check(unsafe {
        libc::fchownat(
            dir.as_raw_fd(),
            name.as_ptr(),
            uid,
            gid,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Changes owner of the inode behind an (O_PATH) fd.
pub fn fchown_fd(fd: BorrowedFd<'_>, uid: Option<u32>, gid: Option<u32>) -> FsResult<()> {
    let uid = uid.unwrap_or(u32::MAX);
    let gid = gid.unwrap_or(u32::MAX);
    // SAFETY: valid fd; empty path with AT_EMPTY_PATH acts on the fd itself.
    check(unsafe { libc::fchownat(fd.as_raw_fd(), c"".as_ptr(), uid, gid, libc::AT_EMPTY_PATH) })
}

/// chmod of the inode behind an (O_PATH) fd. Symlinks have no mode of their own.
pub fn fchmod_fd(fd: BorrowedFd<'_>, mode: u32) -> FsResult<()> {
    let path = proc_path(fd);
    // SAFETY: valid path.
    check(unsafe { libc::chmod(path.as_ptr(), mode as libc::mode_t) })
}

/// Sets times of the inode behind an (O_PATH) fd; each is `UTIME_OMIT`, `UTIME_NOW` or a time.
pub fn futimens_fd(fd: BorrowedFd<'_>, times: &[libc::timespec; 2]) -> FsResult<()> {
    let path = proc_path(fd);
    // SAFETY: valid path and a two-element array. utimensat has no AT_EMPTY_PATH
    // on older kernels, so the fd is reached through its /proc magic link.
    check(unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), times.as_ptr(), 0) })
}

pub fn ftruncate(fd: BorrowedFd<'_>, size: u64) -> FsResult<()> {
    // SAFETY: valid fd.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), size as libc::off_t) })
}

pub fn fallocate(fd: BorrowedFd<'_>, mode: i32, offset: u64, len: u64) -> FsResult<()> {
    // SAFETY: valid fd.
    check(unsafe {
        libc::fallocate(
            fd.as_raw_fd(),
            mode,
            offset as libc::off_t,
            len as libc::off_t,
        )
    })
}

pub fn fsync(fd: BorrowedFd<'_>, datasync: bool) -> FsResult<()> {
    // SAFETY: valid fd.
    check(unsafe {
        if datasync {
            libc::fdatasync(fd.as_raw_fd())
        } else {
            libc::fsync(fd.as_raw_fd())
        }
    })
}

pub fn lseek(fd: BorrowedFd<'_>, offset: i64, whence: i32) -> FsResult<i64> {
    // SAFETY: valid fd.
    let r = unsafe { libc::lseek(fd.as_raw_fd(), offset, whence) };
    if r < 0 { Err(FsError::last()) } else { Ok(r) }
}

pub fn pread(file: &File, buf: &mut [u8], offset: u64) -> FsResult<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r.map_err(FsError::from),
        }
    }
}

/// Reads up to `buf.len()` bytes, stopping early only at end of file.
pub fn pread_full(file: &File, buf: &mut [u8], offset: u64) -> FsResult<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = pread(file, &mut buf[done..], offset + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

pub fn copy_file_range(
    fd_in: BorrowedFd<'_>,
    off_in: u64,
    fd_out: BorrowedFd<'_>,
    off_out: u64,
    len: u64,
) -> FsResult<usize> {
    let mut off_in = off_in as libc::loff_t;
    let mut off_out = off_out as libc::loff_t;
    // SAFETY: valid fds and offset pointers.
    let n = unsafe {
        libc::copy_file_range(
            fd_in.as_raw_fd(),
            &mut off_in,
            fd_out.as_raw_fd(),
            &mut off_out,
            len as usize,
            0,
        )
    };
    if n < 0 {
        Err(FsError::last())
    } else {
        Ok(n as usize)
    }
}

pub fn fstatvfs(fd: BorrowedFd<'_>) -> FsResult<libc::statvfs> {
    let mut st = MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: valid pointers.
    check(unsafe { libc::fstatvfs(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: the call succeeded.
    Ok(unsafe { st.assume_init() })
}

/// One name in a directory listing.
pub struct DirEntry {
    pub name: OsString,
    pub ino: u64,
    /// `DT_*` type, `DT_UNKNOWN` if the backing filesystem does not say.
    pub dtype: u8,
}

/// Lists the directory `fd` refers to (O_PATH is fine), without `.` and `..`.
pub fn read_dir(fd: BorrowedFd<'_>) -> FsResult<Vec<DirEntry>> {
    Ok(read_dir_at(fd, 0, usize::MAX)?
        .into_iter()
        .map(|(e, _)| e)
        .filter(|e| e.name != "." && e.name != "..")
        .collect())
}

/// Up to `max` names of the directory `fd` refers to, `.` and `..`
/// included, from position `cookie` (0: the start), each with the position
/// after it: the backing filesystem's own `telldir` cookies, which stay
/// valid across opens (as NFS relies on), so a listing needs no state
/// between calls.
pub fn read_dir_at(fd: BorrowedFd<'_>, cookie: u64, max: usize) -> FsResult<Vec<(DirEntry, u64)>> {
    let dir_fd = openat(fd, OsStr::new("."), libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    let raw = std::os::fd::IntoRawFd::into_raw_fd(dir_fd);
    // SAFETY: `raw` is an open directory fd; fdopendir takes ownership of it.
    let dir = unsafe { libc::fdopendir(raw) };
    if dir.is_null() {
        let err = FsError::last();
        // SAFETY: fdopendir failed, so we still own `raw`.
        unsafe { libc::close(raw) };
        return Err(err);
    }
    if cookie != 0 {
        // SAFETY: `dir` is a valid DIR*; the cookie came from its d_off.
        unsafe { libc::seekdir(dir, cookie as libc::c_long) };
    }
    let mut entries = Vec::new();
    let result = loop {
        if entries.len() == max {
            break Ok(());
        }
        // SAFETY: resetting errno distinguishes end of directory from an error.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: `dir` is a valid DIR*.
        let ent = unsafe { libc::readdir64(dir) };
        if ent.is_null() {
            // SAFETY: reading errno of this thread.
            let errno = unsafe { *libc::__errno_location() };
            break if errno == 0 {
                Ok(())
            } else {
                Err(FsError::from_errno(errno))
            };
        }
        // SAFETY: readdir64 returned a valid entry with a NUL-terminated name.
        let (name, ino, dtype, next) = unsafe {
            let ent = &*ent;
            (
                CStr::from_ptr(ent.d_name.as_ptr()).to_bytes(),
                ent.d_ino,
                ent.d_type,
                ent.d_off as u64,
            )
        };
        let entry = DirEntry {
            name: OsString::from_vec(name.to_vec()),
            ino,
            dtype,
        };
        entries.push((entry, next));
    };
    // SAFETY: `dir` is valid and closed exactly once (this also closes `raw`).
    unsafe { libc::closedir(dir) };
    result.map(|()| entries)
}

/// Removes `name` in `dir` and, for a directory, everything below it.
pub fn remove_tree(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<()> {
    let st = match fstatat(dir, name) {
        Ok(st) => st,
        Err(FsError::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        let sub = open_dir_path(dir, name)?;
        for entry in read_dir(sub.as_fd())? {
            remove_tree(sub.as_fd(), &entry.name)?;
        }
        unlinkat(dir, name, true)
    } else {
        unlinkat(dir, name, false)
    }
}

/// Bytes allocated to `name` and, for a directory, to everything below it.
pub fn tree_size(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<u64> {
    let st = fstatat(dir, name)?;
    let mut total = st.st_blocks as u64 * 512;
    if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        let sub = open_dir_path(dir, name)?;
        for entry in read_dir(sub.as_fd())? {
            total += tree_size(sub.as_fd(), &entry.name).unwrap_or(0);
        }
    }
    Ok(total)
}

pub fn getxattr(fd: BorrowedFd<'_>, name: &OsStr, size: usize) -> FsResult<Vec<u8>> {
    let path = proc_path(fd);
    let name = cname(name)?;
    let mut buf = vec![0u8; size];
    // SAFETY: valid path, name and buffer of `size` bytes (size 0 asks for the length).
    let n = unsafe { libc::getxattr(path.as_ptr(), name.as_ptr(), buf.as_mut_ptr().cast(), size) };
    if n < 0 {
        return Err(FsError::last());
    }
    if size == 0 {
        return Ok(vec![0u8; n as usize]);
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// Like `getxattr`, but with `size == 0` returns only the length (as a vec of that length).
pub fn listxattr(fd: BorrowedFd<'_>, size: usize) -> FsResult<Vec<u8>> {
    let path = proc_path(fd);
    let mut buf = vec![0u8; size];
    // SAFETY: valid path and buffer of `size` bytes.
    let n = unsafe { libc::listxattr(path.as_ptr(), buf.as_mut_ptr().cast(), size) };
    if n < 0 {
        return Err(FsError::last());
    }
    if size == 0 {
        return Ok(vec![0u8; n as usize]);
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// The full list of xattr names, however long.
pub fn listxattr_all(fd: BorrowedFd<'_>) -> FsResult<Vec<u8>> {
    loop {
        let len = listxattr(fd, 0)?.len();
        if len == 0 {
            return Ok(Vec::new());
        }
        match listxattr(fd, len) {
            Err(FsError::ERANGE) => continue,
            r => return r,
        }
    }
}

pub fn setxattr(fd: BorrowedFd<'_>, name: &OsStr, value: &[u8], flags: i32) -> FsResult<()> {
    let path = proc_path(fd);
    let name = cname(name)?;
    // SAFETY: valid path, name and value buffer.
    check(unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    })
}

pub fn removexattr(fd: BorrowedFd<'_>, name: &OsStr) -> FsResult<()> {
    let path = proc_path(fd);
    let name = cname(name)?;
    // SAFETY: valid path and name.
    check(unsafe { libc::removexattr(path.as_ptr(), name.as_ptr()) })
}

/// The soft limit on open files (RLIMIT_NOFILE).
pub fn open_file_limit() -> Option<u64> {
    let mut limit = MaybeUninit::<libc::rlimit>::uninit();
    // SAFETY: valid out-pointer; initialised when the call succeeds.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, limit.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: the call succeeded.
    Some(unsafe { limit.assume_init() }.rlim_cur)
}

/// The process's effective gid.
pub fn getegid() -> u32 {
    // SAFETY: getegid cannot fail.
    unsafe { libc::getegid() }
}

/// The process's effective uid.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// Clears the umask: modes from the kernel already have the caller's umask applied.
pub fn clear_umask() {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(0) };
}

pub fn file_type(st: &Stat) -> u32 {
    st.st_mode & libc::S_IFMT
}

pub fn is_regular(st: &Stat) -> bool {
    file_type(st) == libc::S_IFREG
}

pub fn is_dir(st: &Stat) -> bool {
    file_type(st) == libc::S_IFDIR
}

pub fn as_fd(file: &File) -> BorrowedFd<'_> {
    file.as_fd()
}

/// A new open file description of the file open as `fd`, with `flags`
/// (through its /proc magic link, which must be followed).
pub fn reopen(fd: BorrowedFd<'_>, flags: i32) -> FsResult<OwnedFd> {
    let path = proc_path(fd);
    // O_NOFOLLOW would refuse the magic link itself (ELOOP); the caller's
    // O_NOFOLLOW was about its own path, which the kernel already resolved.
    let flags = (flags & !libc::O_NOFOLLOW) | libc::O_CLOEXEC;
    // SAFETY: valid NUL-terminated path; the result is checked.
    let fd = unsafe { libc::open(path.as_ptr(), flags) };
    check_fd(fd)
}

/// A new unnamed regular file in directory `dir` (`O_TMPFILE`), open for
/// reading and writing; `link_fd` gives it a name.
pub fn open_tmpfile(dir: BorrowedFd<'_>, mode: u32) -> FsResult<OwnedFd> {
    // SAFETY: valid fd and a NUL-terminated literal; the result is checked.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c".".as_ptr(),
            libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    check_fd(fd)
}

/// Gives the file open as `fd` (an `O_TMPFILE`) the name `dir/name`.
/// Through its /proc magic link, which needs no CAP_DAC_READ_SEARCH
/// (`AT_EMPTY_PATH` would).
pub fn link_fd(fd: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<()> {
    let path = proc_path(fd);
    let name = cname(name)?;
    // SAFETY: valid path, fd and name.
    check(unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            path.as_ptr(),
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    })
}

/// `FICLONE`: `_IOW(0x94, 9, int)`.
const FICLONE: libc::c_ulong = 0x4004_9409;

/// Makes `dst` share `src`'s extents (a reflink): O(extents), no data
/// copied. EOPNOTSUPP (or EXDEV, EINVAL) where the filesystem cannot.
pub fn ficlone(dst: BorrowedFd<'_>, src: BorrowedFd<'_>) -> FsResult<()> {
    // SAFETY: FICLONE takes the source fd as its argument; both fds are valid.
    check(unsafe { libc::ioctl(dst.as_raw_fd(), FICLONE, src.as_raw_fd()) })
}

/// Copies `len` bytes of `src` to the start of `dst`, in the kernel.
pub fn copy_all(dst: BorrowedFd<'_>, src: BorrowedFd<'_>, len: u64) -> FsResult<()> {
    let mut done = 0;
    while done < len {
        match copy_file_range(src, done, dst, done, (len - done).min(1 << 30))? {
            0 => break,
            n => done += n as u64,
        }
    }
    Ok(())
}

/// Gives `dst` the mode, owner (when `chown`), times and extended attributes
/// of `src` (last stat `st`): a copy that reads as the original did.
pub fn copy_metadata(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    st: &Stat,
    chown: bool,
) -> FsResult<()> {
    copy_xattrs(src, dst)?;
    if chown {
        fchown_fd(dst, Some(st.st_uid), Some(st.st_gid))?;
    }
    fchmod_fd(dst, st.st_mode & 0o7777)?;
    let times = [
        libc::timespec {
            tv_sec: st.st_atime,
            tv_nsec: st.st_atime_nsec,
        },
        libc::timespec {
            tv_sec: st.st_mtime,
            tv_nsec: st.st_mtime_nsec,
        },
    ];
    futimens_fd(dst, &times)
}

/// Copies every extended attribute of `src` that `dst` accepts: a namespace
/// the process may not write (`security.*`, `trusted.*` without
/// privileges) is skipped, not an error.
pub fn copy_xattrs(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> FsResult<()> {
    let names = listxattr_all(src)?;
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = OsStr::from_bytes(name);
        let value = match getxattr(src, name, 0).and_then(|v| getxattr(src, name, v.len())) {
            Ok(value) => value,
            Err(FsError::ENODATA) | Err(FsError::ERANGE) => continue,
            Err(e) => return Err(e),
        };
        match setxattr(dst, name, &value, 0) {
            Ok(()) => {}
            Err(FsError::EPERM) | Err(FsError::ENOTSUP) | Err(FsError::EACCES) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether `fd` holds a byte other than zero in `start..end`: holes read as
/// zeros, so a range of holes and zeros loses nothing when cut off. Reads at
/// most `budget` bytes of data, then assumes there is something.
pub fn has_nonzero(fd: BorrowedFd<'_>, start: u64, end: u64, budget: u64) -> FsResult<bool> {
    let mut at = start;
    let mut read = 0;
    let mut buf = vec![0u8; 64 * 1024];
    while at < end {
        let data = match lseek(fd, at as i64, libc::SEEK_DATA) {
            Ok(data) => data as u64,
            // No data after `at`.
            Err(e) if e.errno() == libc::ENXIO => return Ok(false),
            // No SEEK_DATA here: read everything.
            Err(FsError::EINVAL) => at,
            Err(e) => return Err(e),
        };
        if data >= end {
            return Ok(false);
        }
        let want = (end - data).min(buf.len() as u64) as usize;
        // SAFETY: the buffer holds `want` bytes; the fd is valid.
        let n = unsafe {
            libc::pread(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                want,
                data as libc::off_t,
            )
        };
        if n < 0 {
            return Err(FsError::last());
        }
        if n == 0 {
            return Ok(false);
        }
        if buf[..n as usize].iter().any(|&b| b != 0) {
            return Ok(true);
        }
        read += n as u64;
        if read >= budget {
            return Ok(true);
        }
        at = data + n as u64;
    }
    Ok(false)
}

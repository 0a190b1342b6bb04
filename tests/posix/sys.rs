//! Thin syscall wrappers: every call returns `Ok` or the errno, so a case
//! can record exactly what the kernel answered.

use std::path::Path;

pub use galleryfs_testkit::errno::errno_name as errname;
use galleryfs_testkit::errno::last_errno;
pub use galleryfs_testkit::fsutil::cstr;

pub type Fd = libc::c_int;
pub type SysResult<T> = Result<T, i32>;

fn check(rc: libc::c_int) -> SysResult<()> {
    if rc < 0 { Err(last_errno()) } else { Ok(()) }
}

fn check_fd(rc: libc::c_int) -> SysResult<Fd> {
    if rc < 0 { Err(last_errno()) } else { Ok(rc) }
}

fn check_len(rc: isize) -> SysResult<usize> {
    if rc < 0 {
        Err(last_errno())
    } else {
        Ok(rc as usize)
    }
}

pub fn open(path: &Path, flags: i32, mode: u32) -> SysResult<Fd> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check_fd(unsafe { libc::open(p.as_ptr(), flags | libc::O_CLOEXEC, mode) })
}

pub fn close(fd: Fd) -> SysResult<()> {
    // SAFETY: the caller owns fd.
    check(unsafe { libc::close(fd) })
}

pub fn write(fd: Fd, data: &[u8]) -> SysResult<usize> {
    // SAFETY: valid buffer.
    check_len(unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) })
}

pub fn pwrite(fd: Fd, data: &[u8], offset: i64) -> SysResult<usize> {
    // SAFETY: valid buffer.
    check_len(unsafe { libc::pwrite(fd, data.as_ptr().cast(), data.len(), offset) })
}

pub fn read(fd: Fd, len: usize) -> SysResult<Vec<u8>> {
    let mut buf = vec![0u8; len];
    // SAFETY: valid buffer of len bytes.
    let n = check_len(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), len) })?;
    buf.truncate(n);
    Ok(buf)
}

pub fn pread(fd: Fd, len: usize, offset: i64) -> SysResult<Vec<u8>> {
    let mut buf = vec![0u8; len];
    // SAFETY: valid buffer of len bytes.
    let n = check_len(unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), len, offset) })?;
    buf.truncate(n);
    Ok(buf)
}

pub fn lseek(fd: Fd, offset: i64, whence: i32) -> SysResult<i64> {
    // SAFETY: plain syscall.
    let r = unsafe { libc::lseek(fd, offset, whence) };
    if r < 0 { Err(last_errno()) } else { Ok(r) }
}

fn stat_with(f: impl FnOnce(*mut libc::stat) -> libc::c_int) -> SysResult<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    check(f(st.as_mut_ptr()))?;
    // SAFETY: the call succeeded and filled it.
    Ok(unsafe { st.assume_init() })
}

pub fn stat(path: &Path) -> SysResult<libc::stat> {
    let p = cstr(path);
    // SAFETY: valid path and buffer.
    stat_with(|st| unsafe { libc::stat(p.as_ptr(), st) })
}

pub fn lstat(path: &Path) -> SysResult<libc::stat> {
    let p = cstr(path);
    // SAFETY: valid path and buffer.
    stat_with(|st| unsafe { libc::lstat(p.as_ptr(), st) })
}

pub fn fstat(fd: Fd) -> SysResult<libc::stat> {
    // SAFETY: valid buffer.
    stat_with(|st| unsafe { libc::fstat(fd, st) })
}

pub fn mkdir(path: &Path, mode: u32) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::mkdir(p.as_ptr(), mode) })
}

pub fn rmdir(path: &Path) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::rmdir(p.as_ptr()) })
}

pub fn unlink(path: &Path) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::unlink(p.as_ptr()) })
}

pub fn link(from: &Path, to: &Path) -> SysResult<()> {
    let (a, b) = (cstr(from), cstr(to));
    // SAFETY: valid C strings.
    check(unsafe { libc::link(a.as_ptr(), b.as_ptr()) })
}

pub fn symlink(target: &str, path: &Path) -> SysResult<()> {
    let (a, b) = (cstr(target), cstr(path));
    // SAFETY: valid C strings.
    check(unsafe { libc::symlink(a.as_ptr(), b.as_ptr()) })
}

pub fn readlink(path: &Path) -> SysResult<Vec<u8>> {
    let p = cstr(path);
    let mut buf = vec![0u8; 8192];
    // SAFETY: valid buffer.
    let n = check_len(unsafe { libc::readlink(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })?;
    buf.truncate(n);
    Ok(buf)
}

pub fn rename2(from: &Path, to: &Path, flags: u32) -> SysResult<()> {
    let (a, b) = (cstr(from), cstr(to));
    // SAFETY: valid C strings.
    check(unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            flags,
        )
    })
}

pub fn rename(from: &Path, to: &Path) -> SysResult<()> {
    rename2(from, to, 0)
}

pub fn mknod(path: &Path, mode: u32, dev: u64) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::mknod(p.as_ptr(), mode, dev) })
}

pub fn mkfifo(path: &Path, mode: u32) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::mkfifo(p.as_ptr(), mode) })
}

pub fn truncate(path: &Path, len: i64) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::truncate(p.as_ptr(), len) })
}

pub fn ftruncate(fd: Fd, len: i64) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::ftruncate(fd, len) })
}

pub fn fallocate(fd: Fd, mode: i32, offset: i64, len: i64) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::fallocate(fd, mode, offset, len) })
}

pub fn fsync(fd: Fd) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::fsync(fd) })
}

pub fn chmod(path: &Path, mode: u32) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::chmod(p.as_ptr(), mode) })
}

pub fn fchmod(fd: Fd, mode: u32) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::fchmod(fd, mode) })
}

pub fn chown(path: &Path, uid: u32, gid: u32) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::chown(p.as_ptr(), uid, gid) })
}

pub fn lchown(path: &Path, uid: u32, gid: u32) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::lchown(p.as_ptr(), uid, gid) })
}

pub fn fchown(fd: Fd, uid: u32, gid: u32) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::fchown(fd, uid, gid) })
}

/// `utimensat(AT_FDCWD, path, times, flags)`; `None` passes a NULL times.
pub fn utimensat(path: &Path, times: Option<[libc::timespec; 2]>, flags: i32) -> SysResult<()> {
    let p = cstr(path);
    let ptr = times.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
    // SAFETY: valid C string and times.
    check(unsafe { libc::utimensat(libc::AT_FDCWD, p.as_ptr(), ptr, flags) })
}

pub fn futimens(fd: Fd, times: [libc::timespec; 2]) -> SysResult<()> {
    // SAFETY: valid times.
    check(unsafe { libc::futimens(fd, times.as_ptr()) })
}

pub fn ts(sec: i64, nsec: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    }
}

pub fn ts_now() -> libc::timespec {
    ts(0, libc::UTIME_NOW)
}

pub fn ts_omit() -> libc::timespec {
    ts(0, libc::UTIME_OMIT)
}

pub fn setxattr(path: &Path, name: &str, value: &[u8], flags: i32) -> SysResult<()> {
    let (p, n) = (cstr(path), cstr(name));
    // SAFETY: valid strings and buffer.
    check(unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    })
}

pub fn lsetxattr(path: &Path, name: &str, value: &[u8], flags: i32) -> SysResult<()> {
    let (p, n) = (cstr(path), cstr(name));
    // SAFETY: valid strings and buffer.
    check(unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    })
}

pub fn fsetxattr(fd: Fd, name: &str, value: &[u8], flags: i32) -> SysResult<()> {
    let n = cstr(name);
    // SAFETY: valid string and buffer.
    check(unsafe { libc::fsetxattr(fd, n.as_ptr(), value.as_ptr().cast(), value.len(), flags) })
}

/// getxattr with a buffer of `size` bytes (0 asks the length).
pub fn getxattr_sized(path: &Path, name: &str, size: usize) -> SysResult<Vec<u8>> {
    let (p, n) = (cstr(path), cstr(name));
    let mut buf = vec![0u8; size];
    // SAFETY: valid strings and buffer.
    let len = check_len(unsafe {
        libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), size)
    })?;
    if size == 0 {
        return Ok(len.to_string().into_bytes());
    }
    buf.truncate(len);
    Ok(buf)
}

pub fn getxattr(path: &Path, name: &str) -> SysResult<Vec<u8>> {
    getxattr_sized(path, name, 65536)
}

pub fn lgetxattr(path: &Path, name: &str) -> SysResult<Vec<u8>> {
    let (p, n) = (cstr(path), cstr(name));
    let mut buf = vec![0u8; 65536];
    // SAFETY: valid strings and buffer.
    let len = check_len(unsafe {
        libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
    })?;
    buf.truncate(len);
    Ok(buf)
}

pub fn removexattr(path: &Path, name: &str) -> SysResult<()> {
    let (p, n) = (cstr(path), cstr(name));
    // SAFETY: valid strings.
    check(unsafe { libc::removexattr(p.as_ptr(), n.as_ptr()) })
}

/// The `user.*` names, sorted (listxattr order is the filesystem's own).
pub fn list_user_xattrs(path: &Path) -> SysResult<Vec<String>> {
    let p = cstr(path);
    let mut buf = vec![0u8; 65536];
    // SAFETY: valid string and buffer.
    let len =
        check_len(unsafe { libc::llistxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })?;
    let mut names: Vec<String> = buf[..len]
        .split(|&b| b == 0)
        .filter(|n| n.starts_with(b"user."))
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    names.sort();
    Ok(names)
}

pub fn statvfs(path: &Path) -> SysResult<libc::statvfs> {
    let p = cstr(path);
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: valid path and buffer.
    check(unsafe { libc::statvfs(p.as_ptr(), st.as_mut_ptr()) })?;
    // SAFETY: filled by the successful call.
    Ok(unsafe { st.assume_init() })
}

pub fn statfs(path: &Path) -> SysResult<libc::statfs> {
    let p = cstr(path);
    let mut st = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: valid path and buffer.
    check(unsafe { libc::statfs(p.as_ptr(), st.as_mut_ptr()) })?;
    // SAFETY: filled by the successful call.
    Ok(unsafe { st.assume_init() })
}

/// Changes the calling thread's working directory (see `longpath`: only
/// in a thread that unshared its fs context).
pub fn chdir(path: &str) -> SysResult<()> {
    let p = cstr(path);
    // SAFETY: valid C string.
    check(unsafe { libc::chdir(p.as_ptr()) })
}

/// Gives the calling thread its own cwd, umask and root (CLONE_FS), so
/// `chdir` in it does not move the other test threads.
pub fn unshare_fs() -> SysResult<()> {
    // SAFETY: plain syscall, affects only this thread.
    check(unsafe { libc::unshare(libc::CLONE_FS) })
}

pub fn renameat(from_dir: Fd, from: &str, to_dir: Fd, to: &str) -> SysResult<()> {
    let (a, b) = (cstr(from), cstr(to));
    // SAFETY: valid C strings.
    check(unsafe { libc::renameat(from_dir, a.as_ptr(), to_dir, b.as_ptr()) })
}

pub fn fgetxattr(fd: Fd, name: &str) -> SysResult<Vec<u8>> {
    let n = cstr(name);
    let mut buf = vec![0u8; 65536];
    // SAFETY: valid string and buffer.
    let len =
        check_len(unsafe { libc::fgetxattr(fd, n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })?;
    buf.truncate(len);
    Ok(buf)
}

pub fn umask(mask: u32) -> u32 {
    // SAFETY: plain syscall.
    unsafe { libc::umask(mask) }
}

//! The backing store's syscalls, all relative to directory fds and single name
//! components, never following symlinks.
//!
//! Operating on `(dir fd, name)` instead of absolute paths means a concurrent
//! rename elsewhere in the tree cannot redirect an operation, and paths longer
//! than PATH_MAX work.
//!
//! The calls go through `rustix`, which makes them safe functions on
//! `BorrowedFd`/`OwnedFd` and copies a name of under 256 bytes into a NUL-
//! terminated buffer on the stack (no allocation per call); its errno is
//! passed on unchanged. The public types stay the `libc` ones (`Stat` is
//! `libc::stat`, flags are `libc` constants) so callers need no rustix.

use std::ffi::{CStr, OsStr, OsString};
use std::fs::File;
use std::io::{self, Write as _};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use rustix::fs::{self as rfs, AtFlags, CWD, Mode, OFlags};
use rustix::process::{Gid, Uid};

use crate::error::{FsError, FsResult};

pub type Stat = libc::stat;

/// rustix's errors are the kernel's errno, which FUSE replies carry as it is.
impl From<rustix::io::Errno> for FsError {
    fn from(e: rustix::io::Errno) -> FsError {
        FsError::from_errno(e.raw_os_error())
    }
}

/// `/proc/self/fd/N`, NUL-terminated on the stack: reaches the inode behind
/// an `O_PATH` fd for calls that have no fd variant (chmod, xattrs), without
/// following symlinks in the store.
struct ProcFdPath([u8; 32]);

impl ProcFdPath {
    fn as_c_str(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.0).expect("zero-filled past the number")
    }
}

fn proc_path(fd: BorrowedFd<'_>) -> ProcFdPath {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    // 14 bytes of prefix, at most 10 digits, and zeros (the NUL) after them.
    let mut buf = [0u8; 32];
    buf[..PREFIX.len()].copy_from_slice(PREFIX);
    write!(&mut buf[PREFIX.len()..], "{}", fd.as_raw_fd()).expect("an fd fits");
    ProcFdPath(buf)
}

/// `libc::stat` from rustix's: the same fields (rustix's own struct has
/// private padding and, on some targets, other integer types).
fn to_libc_stat(st: &rfs::Stat) -> Stat {
    // SAFETY: `libc::stat` holds only integers (and padding), for which all
    // zeros is a valid value.
    let mut out: Stat = unsafe { std::mem::zeroed() };
    out.st_dev = st.st_dev as _;
    out.st_ino = st.st_ino as _;
    out.st_nlink = st.st_nlink as _;
    out.st_mode = st.st_mode as _;
    out.st_uid = st.st_uid as _;
    out.st_gid = st.st_gid as _;
    out.st_rdev = st.st_rdev as _;
    out.st_size = st.st_size as _;
    out.st_blksize = st.st_blksize as _;
    out.st_blocks = st.st_blocks as _;
    out.st_atime = st.st_atime as _;
    out.st_atime_nsec = st.st_atime_nsec as _;
    out.st_mtime = st.st_mtime as _;
    out.st_mtime_nsec = st.st_mtime_nsec as _;
    out.st_ctime = st.st_ctime as _;
    out.st_ctime_nsec = st.st_ctime_nsec as _;
    out
}

fn oflags(flags: i32) -> OFlags {
    OFlags::from_bits_retain(flags as u32)
}

pub fn openat(dir: BorrowedFd<'_>, name: &OsStr, flags: i32, mode: u32) -> FsResult<OwnedFd> {
    let flags = oflags(flags) | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    Ok(rfs::openat(dir, name, flags, Mode::from_bits_retain(mode))?)
}

/// An `O_PATH` handle on `name` (symlinks included, not followed).
pub fn open_path(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<OwnedFd> {
    openat(dir, name, libc::O_PATH, 0)
}

/// A detached copy of the mount at `path` (`open_tree(OPEN_TREE_CLONE)`):
/// calls through it reach the same filesystem without holding the mount
/// itself, so they never make its unmount busy. Needs CAP_SYS_ADMIN.
pub fn open_tree_clone(path: &OsStr) -> FsResult<OwnedFd> {
    use rustix::mount::OpenTreeFlags;
    let flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    Ok(rustix::mount::open_tree(CWD, path, flags)?)
}

/// An `O_PATH` handle on the directory `name`.
pub fn open_dir_path(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<OwnedFd> {
    openat(dir, name, libc::O_PATH | libc::O_DIRECTORY, 0)
}

pub fn fstatat(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<Stat> {
    let st = rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(to_libc_stat(&st))
}

pub fn fstat(fd: BorrowedFd<'_>) -> FsResult<Stat> {
    // An empty path with AT_EMPTY_PATH stats the fd itself (works for O_PATH
    // fds, unlike fstat on older kernels).
    let st = rfs::statat(fd, c"", AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(to_libc_stat(&st))
}

pub fn mkdirat(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> FsResult<()> {
    Ok(rfs::mkdirat(dir, name, Mode::from_bits_retain(mode))?)
}

pub fn mknodat(dir: BorrowedFd<'_>, name: &OsStr, mode: u32, rdev: u64) -> FsResult<()> {
    // rustix takes the type apart from the permissions and joins them again.
    // A type of 0 is a regular file, as mknod(2) says; an invalid one stays
    // invalid (all S_IFMT bits), for the kernel to refuse with EINVAL.
    let kind = match mode & libc::S_IFMT {
        0 => rfs::FileType::RegularFile,
        t => rfs::FileType::from_raw_mode(t),
    };
    let perm = Mode::from_bits_retain(mode & !libc::S_IFMT);
    Ok(rfs::mknodat(dir, name, kind, perm, rdev)?)
}

pub fn symlinkat(target: &OsStr, dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<()> {
    Ok(rfs::symlinkat(target, dir, name)?)
}

pub fn readlinkat(dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    let n = rfs::readlinkat_raw(dir, name, &mut buf[..])?;
    buf.truncate(n);
    Ok(buf)
}

pub fn unlinkat(dir: BorrowedFd<'_>, name: &OsStr, remove_dir: bool) -> FsResult<()> {
    let flags = if remove_dir {
        AtFlags::REMOVEDIR
    } else {
        AtFlags::empty()
    };
    Ok(rfs::unlinkat(dir, name, flags)?)
}

/// `renameat2(2)`; `flags` are `libc::RENAME_*` (NOREPLACE, EXCHANGE, WHITEOUT).
pub fn renameat2(
    old_dir: BorrowedFd<'_>,
    old: &OsStr,
    new_dir: BorrowedFd<'_>,
    new: &OsStr,
    flags: u32,
) -> FsResult<()> {
    let flags = rfs::RenameFlags::from_bits_retain(flags);
    Ok(rfs::renameat_with(old_dir, old, new_dir, new, flags)?)
}

pub fn linkat(
    old_dir: BorrowedFd<'_>,
    old: &OsStr,
    new_dir: BorrowedFd<'_>,
    new: &OsStr,
) -> FsResult<()> {
    // No AT_SYMLINK_FOLLOW: a symlink `old` is linked, not its target.
    Ok(rfs::linkat(old_dir, old, new_dir, new, AtFlags::empty())?)
}

/// `None` is "unchanged" (-1 to the kernel); any other id passes as it is.
fn ids(uid: Option<u32>, gid: Option<u32>) -> (Option<Uid>, Option<Gid>) {
    (
        uid.map(Uid::from_raw_unchecked),
        gid.map(Gid::from_raw_unchecked),
    )
}

/// Changes owner; `None` leaves that id unchanged. Never follows a symlink.
pub fn fchownat(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    uid: Option<u32>,
    gid: Option<u32>,
) -> FsResult<()> {
    let (uid, gid) = ids(uid, gid);
    Ok(rfs::chownat(
        dir,
        name,
        uid,
        gid,
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

/// Changes owner of the inode behind an (O_PATH) fd.
pub fn fchown_fd(fd: BorrowedFd<'_>, uid: Option<u32>, gid: Option<u32>) -> FsResult<()> {
    let (uid, gid) = ids(uid, gid);
    // An empty path with AT_EMPTY_PATH acts on the fd itself.
    Ok(rfs::chownat(fd, c"", uid, gid, AtFlags::EMPTY_PATH)?)
}

/// chmod of the inode behind an (O_PATH) fd. Symlinks have no mode of their own.
pub fn fchmod_fd(fd: BorrowedFd<'_>, mode: u32) -> FsResult<()> {
    let path = proc_path(fd);
    Ok(rfs::chmod(path.as_c_str(), Mode::from_bits_retain(mode))?)
}

/// Sets times of the inode behind an (O_PATH) fd; each is `UTIME_OMIT`, `UTIME_NOW` or a time.
pub fn futimens_fd(fd: BorrowedFd<'_>, times: &[libc::timespec; 2]) -> FsResult<()> {
    let path = proc_path(fd);
    let ts = |t: &libc::timespec| rfs::Timespec {
        tv_sec: t.tv_sec as _,
        tv_nsec: t.tv_nsec as _,
    };
    let times = rfs::Timestamps {
        last_access: ts(&times[0]),
        last_modification: ts(&times[1]),
    };
    // utimensat has no AT_EMPTY_PATH on older kernels, so the fd is reached
    // through its /proc magic link.
    Ok(rfs::utimensat(
        CWD,
        path.as_c_str(),
        &times,
        AtFlags::empty(),
    )?)
}

pub fn ftruncate(fd: BorrowedFd<'_>, size: u64) -> FsResult<()> {
    Ok(rfs::ftruncate(fd, size)?)
}

pub fn fallocate(fd: BorrowedFd<'_>, mode: i32, offset: u64, len: u64) -> FsResult<()> {
    let mode = rfs::FallocateFlags::from_bits_retain(mode as u32);
    Ok(rfs::fallocate(fd, mode, offset, len)?)
}

pub fn fsync(fd: BorrowedFd<'_>, datasync: bool) -> FsResult<()> {
    if datasync {
        Ok(rfs::fdatasync(fd)?)
    } else {
        Ok(rfs::fsync(fd)?)
    }
}

pub fn lseek(fd: BorrowedFd<'_>, offset: i64, whence: i32) -> FsResult<i64> {
    use rfs::SeekFrom;
    // rustix passes the offsets of Start, Data and Hole back as the same
    // i64, so a negative one gets the kernel's own answer.
    let pos = match whence {
        libc::SEEK_SET => SeekFrom::Start(offset as u64),
        libc::SEEK_CUR => SeekFrom::Current(offset),
        libc::SEEK_END => SeekFrom::End(offset),
        libc::SEEK_DATA => SeekFrom::Data(offset as u64),
        libc::SEEK_HOLE => SeekFrom::Hole(offset as u64),
        _ => return Err(FsError::EINVAL),
    };
    Ok(rfs::seek(fd, pos)? as i64)
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
    let (mut off_in, mut off_out) = (off_in, off_out);
    Ok(rfs::copy_file_range(
        fd_in,
        Some(&mut off_in),
        fd_out,
        Some(&mut off_out),
        len as usize,
    )?)
}

/// `ST_VALID`: the kernel sets it in `statfs.f_flags` to say the flags are
/// filled in; glibc's `fstatvfs` clears it from `f_flag`, and so do we.
const ST_VALID: u64 = 0x0020;

pub fn fstatvfs(fd: BorrowedFd<'_>) -> FsResult<libc::statvfs> {
    // rustix does what glibc does: one fstatfs, its fields translated.
    let st = rfs::fstatvfs(fd)?;
    // SAFETY: `libc::statvfs` holds only integers (and padding), for which
    // all zeros is a valid value.
    let mut out: libc::statvfs = unsafe { std::mem::zeroed() };
    out.f_bsize = st.f_bsize as _;
    out.f_frsize = st.f_frsize as _;
    out.f_blocks = st.f_blocks as _;
    out.f_bfree = st.f_bfree as _;
    out.f_bavail = st.f_bavail as _;
    out.f_files = st.f_files as _;
    out.f_ffree = st.f_ffree as _;
    out.f_favail = st.f_favail as _;
    out.f_fsid = st.f_fsid as _;
    out.f_flag = (st.f_flag.bits() ^ ST_VALID) as _;
    out.f_namemax = st.f_namemax as _;
    Ok(out)
}

/// One name in a directory listing.
pub struct DirEntry {
    pub name: OsString,
    pub ino: u64,
    /// `DT_*` type, `DT_UNKNOWN` if the backing filesystem does not say.
    pub dtype: u8,
}

/// The `DT_*` value rustix read as `kind` (it offers no raw `d_type`).
fn dirent_type(kind: rfs::FileType) -> u8 {
    use rfs::FileType as T;
    match kind {
        T::RegularFile => libc::DT_REG,
        T::Directory => libc::DT_DIR,
        T::Symlink => libc::DT_LNK,
        T::Fifo => libc::DT_FIFO,
        T::Socket => libc::DT_SOCK,
        T::CharacterDevice => libc::DT_CHR,
        T::BlockDevice => libc::DT_BLK,
        T::Unknown => libc::DT_UNKNOWN,
    }
}

/// Lists the directory `fd` refers to (O_PATH is fine), without `.` and `..`.
pub fn read_dir(fd: BorrowedFd<'_>) -> FsResult<Vec<DirEntry>> {
    Ok(read_dir_at(fd, 0, usize::MAX)?
        .into_iter()
        .map(|(e, _)| e)
        .filter(|e| e.name != "." && e.name != "..")
        .collect())
}

/// Bytes of `getdents64` buffer: what glibc's `opendir` allocates.
const DIRENT_BUFFER: usize = 32 * 1024;

/// Up to `max` names of the directory `fd` refers to, `.` and `..`
/// included, from position `cookie` (0: the start), each with the position
/// after it: the backing filesystem's own `telldir` cookies, which stay
/// valid across opens (as NFS relies on), so a listing needs no state
/// between calls.
pub fn read_dir_at(fd: BorrowedFd<'_>, cookie: u64, max: usize) -> FsResult<Vec<(DirEntry, u64)>> {
    let dir = openat(fd, OsStr::new("."), libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    if cookie != 0 {
        // The cookie came from an entry's d_off: seekdir is this lseek.
        match rfs::seek(&dir, rfs::SeekFrom::Start(cookie)) {
            Ok(_) => {}
            // Removed since the listing began (ext4 gives a removed
            // directory size 0, past which it refuses to seek): the end,
            // as its getdents has it.
            Err(rustix::io::Errno::INVAL)
                if fstat(dir.as_fd()).is_ok_and(|st| st.st_nlink == 0) =>
            {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        }
    }
    // On the stack: the listing allocates only its entries.
    let mut buf = [MaybeUninit::<u8>::uninit(); DIRENT_BUFFER];
    let mut raw = rfs::RawDir::new(&dir, &mut buf);
    let mut entries = Vec::new();
    while entries.len() < max {
        let ent = match raw.next() {
            None => break,
            Some(Ok(ent)) => ent,
            // A directory removed while open: the end, as readdir(3) has it.
            Some(Err(rustix::io::Errno::NOENT)) => break,
            Some(Err(e)) => return Err(e.into()),
        };
        let entry = DirEntry {
            name: OsString::from_vec(ent.file_name().to_bytes().to_vec()),
            ino: ent.ino(),
            dtype: dirent_type(ent.file_type()),
        };
        entries.push((entry, ent.next_entry_cookie()));
    }
    Ok(entries)
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
    if size == 0 {
        let n = rfs::getxattr_query(path.as_c_str(), name)?;
        return Ok(vec![0u8; n]);
    }
    let mut buf = vec![0u8; size];
    let n = rfs::getxattr(path.as_c_str(), name, &mut buf[..])?;
    buf.truncate(n);
    Ok(buf)
}

/// Like `getxattr`, but with `size == 0` returns only the length (as a vec of that length).
pub fn listxattr(fd: BorrowedFd<'_>, size: usize) -> FsResult<Vec<u8>> {
    let path = proc_path(fd);
    if size == 0 {
        let n = rfs::listxattr_query(path.as_c_str())?;
        return Ok(vec![0u8; n]);
    }
    let mut buf = vec![0u8; size];
    let n = rfs::listxattr(path.as_c_str(), &mut buf[..])?;
    buf.truncate(n);
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
    let flags = rfs::XattrFlags::from_bits_retain(flags as u32);
    Ok(rfs::setxattr(path.as_c_str(), name, value, flags)?)
}

pub fn removexattr(fd: BorrowedFd<'_>, name: &OsStr) -> FsResult<()> {
    let path = proc_path(fd);
    Ok(rfs::removexattr(path.as_c_str(), name)?)
}

/// The soft limit on open files (RLIMIT_NOFILE); `u64::MAX` for unlimited.
pub fn open_file_limit() -> Option<u64> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    Some(limit.current.unwrap_or(libc::RLIM_INFINITY))
}

/// The process's effective gid.
pub fn getegid() -> u32 {
    rustix::process::getegid().as_raw()
}

/// The process's effective uid.
pub fn geteuid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Clears the umask: modes from the kernel already have the caller's umask applied.
pub fn clear_umask() {
    rustix::process::umask(Mode::empty());
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
    let flags = (oflags(flags) - OFlags::NOFOLLOW) | OFlags::CLOEXEC;
    Ok(rfs::open(path.as_c_str(), flags, Mode::empty())?)
}

/// A new unnamed regular file in directory `dir` (`O_TMPFILE`), open for
/// reading and writing; `link_fd` gives it a name.
pub fn open_tmpfile(dir: BorrowedFd<'_>, mode: u32) -> FsResult<OwnedFd> {
    let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
    Ok(rfs::openat(dir, c".", flags, Mode::from_bits_retain(mode))?)
}

/// Gives the file open as `fd` (an `O_TMPFILE`) the name `dir/name`.
/// Through its /proc magic link, which needs no CAP_DAC_READ_SEARCH
/// (`AT_EMPTY_PATH` would).
pub fn link_fd(fd: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<()> {
    let path = proc_path(fd);
    Ok(rfs::linkat(
        CWD,
        path.as_c_str(),
        dir,
        name,
        AtFlags::SYMLINK_FOLLOW,
    )?)
}

/// Makes `dst` share `src`'s extents (a reflink, `FICLONE`): O(extents), no
/// data copied. EOPNOTSUPP (or EXDEV, EINVAL) where the filesystem cannot.
pub fn ficlone(dst: BorrowedFd<'_>, src: BorrowedFd<'_>) -> FsResult<()> {
    Ok(rfs::ioctl_ficlone(dst, src)?)
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
        let n = rustix::io::pread(fd, &mut buf[..want], data)?;
        if n == 0 {
            return Ok(false);
        }
        if buf[..n].iter().any(|&b| b != 0) {
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

#[cfg(test)]
mod tests;

//! The wrappers keep the kernel's errno and the `libc` shapes exactly: FUSE
//! replies and the callers' matches depend on both.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use super::*;

fn dir() -> (tempfile::TempDir, OwnedFd) {
    let tmp = tempfile::tempdir().unwrap();
    let fd = OwnedFd::from(File::open(tmp.path()).unwrap());
    (tmp, fd)
}

fn name(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn errors_are_the_kernels_errno() {
    let (tmp, d) = dir();
    let d = d.as_fd();
    assert_eq!(fstatat(d, name("missing")).unwrap_err(), FsError::ENOENT);
    mkdirat(d, name("sub"), 0o755).unwrap();
    assert_eq!(mkdirat(d, name("sub"), 0o755).unwrap_err(), FsError::EEXIST);
    fs::write(tmp.path().join("sub/f"), b"x").unwrap();
    assert_eq!(
        unlinkat(d, name("sub"), true).unwrap_err(),
        FsError::ENOTEMPTY
    );
    assert_eq!(
        unlinkat(d, name("sub"), false).unwrap_err(),
        FsError::EISDIR
    );
    let long = "n".repeat(300);
    assert_eq!(
        openat(d, name(&long), libc::O_RDONLY, 0)
            .unwrap_err()
            .errno(),
        libc::ENAMETOOLONG
    );
    // A NUL cannot reach the kernel: EINVAL, as a CString refused it before.
    let nul = OsStr::from_bytes(b"a\0b");
    assert_eq!(mkdirat(d, nul, 0o755).unwrap_err(), FsError::EINVAL);
    // O_NOFOLLOW is always on: a symlink is not opened through.
    symlinkat(name("sub/f"), d, name("link")).unwrap();
    assert_eq!(
        openat(d, name("link"), libc::O_RDONLY, 0)
            .unwrap_err()
            .errno(),
        libc::ELOOP
    );
    assert_eq!(readlinkat(d, name("link")).unwrap(), b"sub/f");
}

#[test]
fn rename_flags_pass_through() {
    let (tmp, d) = dir();
    let d = d.as_fd();
    fs::write(tmp.path().join("a"), b"a").unwrap();
    fs::write(tmp.path().join("b"), b"b").unwrap();
    let noreplace = renameat2(d, name("a"), d, name("b"), libc::RENAME_NOREPLACE);
    assert_eq!(noreplace.unwrap_err(), FsError::EEXIST);
    renameat2(d, name("a"), d, name("b"), libc::RENAME_EXCHANGE).unwrap();
    assert_eq!(fs::read(tmp.path().join("a")).unwrap(), b"b");
    assert_eq!(fs::read(tmp.path().join("b")).unwrap(), b"a");
    let exchange = renameat2(d, name("a"), d, name("c"), libc::RENAME_EXCHANGE);
    assert_eq!(exchange.unwrap_err(), FsError::ENOENT);
}

#[test]
fn stat_matches_std() {
    let (tmp, d) = dir();
    let path = tmp.path().join("f");
    fs::write(&path, vec![7u8; 5000]).unwrap();
    let st = fstatat(d.as_fd(), name("f")).unwrap();
    let m = fs::symlink_metadata(&path).unwrap();
    assert_eq!(
        (
            st.st_dev,
            st.st_ino,
            st.st_mode,
            st.st_nlink,
            st.st_uid,
            st.st_gid
        ),
        (m.dev(), m.ino(), m.mode(), m.nlink(), m.uid(), m.gid())
    );
    assert_eq!(
        (st.st_size, st.st_blocks),
        (m.size() as i64, m.blocks() as i64)
    );
    assert_eq!(st.st_blksize, m.blksize() as i64);
    assert_eq!((st.st_mtime, st.st_mtime_nsec), (m.mtime(), m.mtime_nsec()));
    assert_eq!((st.st_atime, st.st_atime_nsec), (m.atime(), m.atime_nsec()));
    assert_eq!((st.st_ctime, st.st_ctime_nsec), (m.ctime(), m.ctime_nsec()));
    let fd = open_path(d.as_fd(), name("f")).unwrap();
    assert_eq!(fstat(fd.as_fd()).unwrap().st_ino, m.ino());
}

#[test]
fn mknod_of_type_zero_is_a_regular_file() {
    let (_tmp, d) = dir();
    mknodat(d.as_fd(), name("plain"), 0o640, 0).unwrap();
    mknodat(d.as_fd(), name("fifo"), libc::S_IFIFO | 0o600, 0).unwrap();
    let plain = fstatat(d.as_fd(), name("plain")).unwrap();
    assert_eq!(plain.st_mode, libc::S_IFREG | 0o640);
    assert_eq!(
        file_type(&fstatat(d.as_fd(), name("fifo")).unwrap()),
        libc::S_IFIFO
    );
    let bad = mknodat(d.as_fd(), name("bad"), libc::S_IFMT | 0o600, 0);
    assert_eq!(bad.unwrap_err(), FsError::EINVAL);
}

#[test]
fn listing_resumes_at_any_cookie() {
    let (tmp, d) = dir();
    // Long names and many of them: more than one getdents64 buffer.
    let names: Vec<String> = (0..600).map(|i| format!("{i:0>200}")).collect();
    for n in &names {
        fs::write(tmp.path().join(n), b"").unwrap();
    }
    fs::create_dir(tmp.path().join("dir")).unwrap();
    let all = read_dir_at(d.as_fd(), 0, usize::MAX).unwrap();
    assert_eq!(all.len(), names.len() + 3);
    let dot = all.iter().find(|(e, _)| e.name == ".").unwrap();
    assert_eq!(dot.0.dtype, libc::DT_DIR);
    let sub = all.iter().find(|(e, _)| e.name == "dir").unwrap();
    assert_eq!(
        sub.0.ino,
        fs::metadata(tmp.path().join("dir")).unwrap().ino()
    );
    // Page through it 7 entries at a time, as the FUSE readdir does.
    let mut paged = Vec::new();
    let mut cookie = 0;
    loop {
        let page = read_dir_at(d.as_fd(), cookie, 7).unwrap();
        let Some((_, next)) = page.last() else { break };
        cookie = *next;
        paged.extend(page.into_iter().map(|(e, _)| e.name));
    }
    let full: Vec<_> = all.into_iter().map(|(e, _)| e.name).collect();
    assert_eq!(paged, full);
    assert_eq!(read_dir(d.as_fd()).unwrap().len(), names.len() + 1);
}

#[test]
fn listing_a_removed_directory_is_empty() {
    let (tmp, _d) = dir();
    fs::create_dir(tmp.path().join("gone")).unwrap();
    let fd = OwnedFd::from(File::open(tmp.path().join("gone")).unwrap());
    fs::remove_dir(tmp.path().join("gone")).unwrap();
    assert_eq!(read_dir_at(fd.as_fd(), 0, usize::MAX).unwrap().len(), 0);
}

#[test]
fn a_listing_resumed_in_a_directory_removed_meanwhile_ends() {
    // The rest of an `rm -r`'s listing of a trash entry that Empty Trash
    // deleted meanwhile: ext4 refuses the seek (EINVAL: the removed
    // directory's size is 0), a local filesystem's getdents just ends.
    let (tmp, _d) = dir();
    let gone = tmp.path().join("gone");
    fs::create_dir(&gone).unwrap();
    for i in 0..20 {
        fs::write(gone.join(format!("f{i}")), b"").unwrap();
    }
    let fd = OwnedFd::from(File::open(&gone).unwrap());
    let (_, cookie) = read_dir_at(fd.as_fd(), 0, 5).unwrap().pop().unwrap();
    fs::remove_dir_all(&gone).unwrap();
    assert_eq!(
        read_dir_at(fd.as_fd(), cookie, usize::MAX).unwrap().len(),
        0
    );
}

#[test]
fn xattrs_and_metadata_through_proc() {
    let (tmp, d) = dir();
    fs::write(tmp.path().join("f"), b"").unwrap();
    let fd = open_path(d.as_fd(), name("f")).unwrap();
    let fd = fd.as_fd();
    assert_eq!(
        proc_path(fd).as_c_str().to_bytes(),
        format!("/proc/self/fd/{}", fd.as_raw_fd()).as_bytes()
    );
    fchmod_fd(fd, 0o604).unwrap();
    let times = [
        libc::timespec {
            tv_sec: 1_000_000,
            tv_nsec: 5,
        },
        libc::timespec {
            tv_sec: 2_000_000,
            tv_nsec: libc::UTIME_OMIT,
        },
    ];
    let before = fstat(fd).unwrap();
    futimens_fd(fd, &times).unwrap();
    let st = fstat(fd).unwrap();
    assert_eq!(st.st_mode & 0o7777, 0o604);
    assert_eq!((st.st_atime, st.st_atime_nsec), (1_000_000, 5));
    assert_eq!(
        (st.st_mtime, st.st_mtime_nsec),
        (before.st_mtime, before.st_mtime_nsec)
    );
    match setxattr(fd, name("user.t"), b"value", 0) {
        // No user xattrs on this filesystem: the rest has nothing to check.
        Err(FsError::ENOTSUP) => return,
        r => r.unwrap(),
    }
    let create = setxattr(fd, name("user.t"), b"v", libc::XATTR_CREATE);
    assert_eq!(create.unwrap_err(), FsError::EEXIST);
    assert_eq!(getxattr(fd, name("user.t"), 0).unwrap().len(), 5);
    assert_eq!(getxattr(fd, name("user.t"), 64).unwrap(), b"value");
    assert_eq!(
        getxattr(fd, name("user.t"), 2).unwrap_err(),
        FsError::ERANGE
    );
    assert_eq!(
        getxattr(fd, name("user.none"), 64).unwrap_err(),
        FsError::ENODATA
    );
    assert!(
        listxattr_all(fd)
            .unwrap()
            .split(|&b| b == 0)
            .any(|n| n == b"user.t")
    );
    removexattr(fd, name("user.t")).unwrap();
    assert_eq!(
        removexattr(fd, name("user.t")).unwrap_err(),
        FsError::ENODATA
    );
}

#[test]
fn statvfs_flags_are_glibcs() {
    let (_tmp, d) = dir();
    let st = fstatvfs(d.as_fd()).unwrap();
    // The kernel's ST_VALID never shows, as with glibc's fstatvfs.
    assert_eq!(st.f_flag & ST_VALID, 0);
    assert!(st.f_frsize > 0 && st.f_namemax == 255);
}

#[test]
fn lseek_finds_data_and_holes() {
    let (tmp, _d) = dir();
    let f = File::create(tmp.path().join("f")).unwrap();
    f.set_len(1 << 20).unwrap();
    let fd = f.as_fd();
    // One hole to the end: no data after 0 (ENXIO), the hole starts at 0.
    assert_eq!(
        lseek(fd, 0, libc::SEEK_DATA).unwrap_err().errno(),
        libc::ENXIO
    );
    assert_eq!(lseek(fd, 0, libc::SEEK_HOLE).unwrap(), 0);
    assert_eq!(lseek(fd, -1, libc::SEEK_SET).unwrap_err(), FsError::EINVAL);
    assert_eq!(lseek(fd, 10, libc::SEEK_END).unwrap(), (1 << 20) + 10);
    assert_eq!(lseek(fd, 0, 99).unwrap_err(), FsError::EINVAL);
    assert!(!has_nonzero(fd, 0, 1 << 20, u64::MAX).unwrap());
}

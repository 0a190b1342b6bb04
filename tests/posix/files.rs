//! Symlinks, FIFOs, sockets and device nodes; truncate and ftruncate;
//! fallocate; lseek SEEK_DATA/SEEK_HOLE; copy_file_range; statfs.

use std::fs;

use crate::diff::{ALICE, differential};
use crate::sys::{self, close};

fn text(r: sys::SysResult<Vec<u8>>) -> sys::SysResult<String> {
    r.map(|v| String::from_utf8_lossy(&v).into_owned())
}

#[test]
fn symlinks_and_readlink() {
    differential("symlinks", |c| {
        fs::write(c.p("f"), b"target data").unwrap();
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        let targets = [
            ("rel", "f".to_string()),
            ("up", "../symlinks/f".to_string()),
            ("dangling", "nowhere".to_string()),
            ("dir", "d".to_string()),
            ("abs", "/nonexistent/abs/path".to_string()),
            ("spaces", "a name with spaces\nand a newline".to_string()),
            ("long", "x".repeat(4095)),
            ("chain", "rel".to_string()),
        ];
        for (name, target) in &targets {
            c.rec(&format!("symlink {name}"), sys::symlink(target, &c.p(name)));
            c.stat(name);
            c.rec(
                &format!("readlink {name} length"),
                sys::readlink(&c.p(name)).map(|t| t.len()),
            );
        }
        c.rec("readlink rel", text(sys::readlink(&c.p("rel"))));
        c.rec("readlink spaces", text(sys::readlink(&c.p("spaces"))));
        c.rec(
            "symlink 4096-byte target",
            sys::symlink(&"x".repeat(4096), &c.p("toolong")),
        );
        c.rec("symlink empty target", sys::symlink("", &c.p("empty")));
        c.rec("symlink over existing", sys::symlink("f", &c.p("rel")));
        c.rec("readlink a file", text(sys::readlink(&c.p("f"))));
        c.rec("readlink missing", text(sys::readlink(&c.p("missing"))));
        c.content("chain");
        c.content("dangling");
        c.content("dir/../f");
        c.list("dir");
        // Writing through a dangling symlink creates the target.
        fs::write(c.p("dangling"), b"created").unwrap();
        c.content("nowhere");
        // A loop.
        c.rec(
            "symlink loop1 -> loop2",
            sys::symlink("loop2", &c.p("loop1")),
        );
        c.rec(
            "symlink loop2 -> loop1",
            sys::symlink("loop1", &c.p("loop2")),
        );
        c.rec_ok("stat loop1", sys::stat(&c.p("loop1")));
        c.stat("loop1");
        // Removing a symlink removes only the link.
        let trash = c.trash_entries();
        c.rec("unlink rel", sys::unlink(&c.p("rel")));
        c.content("f");
        if c.gallery() {
            // The removed symlink is a trash entry like any removed file.
            assert_eq!(c.trash_entries().len(), trash.len() + 1);
        }
        c.list(".");
    });
}

#[test]
fn fifos_sockets_and_devices() {
    differential("specials", |c| {
        c.rec("mkfifo p 0640", sys::mkfifo(&c.p("p"), 0o640));
        c.stat("p");
        c.rec("mkfifo p again", sys::mkfifo(&c.p("p"), 0o640));
        c.rec("mkfifo missing/p", sys::mkfifo(&c.p("missing/p"), 0o640));
        // Data flows through the FIFO (the kernel's pipe, not the filesystem).
        let r = sys::open(&c.p("p"), libc::O_RDONLY | libc::O_NONBLOCK, 0).unwrap();
        let w = sys::open(&c.p("p"), libc::O_WRONLY | libc::O_NONBLOCK, 0).unwrap();
        c.rec("write fifo", sys::write(w, b"through the pipe"));
        c.rec("read fifo", text(sys::read(r, 100)));
        c.rec("read empty fifo", text(sys::read(r, 100)));
        c.rec("lseek fifo", sys::lseek(r, 0, libc::SEEK_SET));
        close(w).unwrap();
        close(r).unwrap();
        c.rec(
            "open fifo O_WRONLY|O_NONBLOCK without reader",
            sys::open(&c.p("p"), libc::O_WRONLY | libc::O_NONBLOCK, 0),
        );
        c.stat("p");
        // mknod of each type (root may make device nodes).
        c.rec(
            "mknod fifo",
            sys::mknod(&c.p("np"), libc::S_IFIFO | 0o600, 0),
        );
        c.rec(
            "mknod regular",
            sys::mknod(&c.p("nr"), libc::S_IFREG | 0o600, 0),
        );
        c.rec(
            "mknod char 1:3",
            sys::mknod(&c.p("nc"), libc::S_IFCHR | 0o666, libc::makedev(1, 3)),
        );
        c.rec(
            "mknod block 7:0",
            sys::mknod(&c.p("nb"), libc::S_IFBLK | 0o600, libc::makedev(7, 0)),
        );
        c.rec(
            "mknod dir",
            sys::mknod(&c.p("nd"), libc::S_IFDIR | 0o700, 0),
        );
        for n in ["np", "nr", "nc", "nb"] {
            c.stat(n);
            let st = sys::lstat(&c.p(n)).unwrap();
            c.note(format!(
                "{n} rdev {}:{}",
                libc::major(st.st_rdev),
                libc::minor(st.st_rdev)
            ));
        }
        c.as_user(ALICE, "mknod x c 1 3 2>&1; echo $?");
        // A unix socket bound in the directory.
        let path = c.p("sock");
        let listener = std::os::unix::net::UnixListener::bind(&path);
        c.note(format!(
            "bind: {}",
            if listener.is_ok() { "ok" } else { "err" }
        ));
        c.stat("sock");
        if let Ok(l) = listener {
            let client = std::os::unix::net::UnixStream::connect(&path);
            c.note(format!(
                "connect: {}",
                if client.is_ok() { "ok" } else { "err" }
            ));
            drop(l);
        }
        c.rec(
            "bind again",
            std::os::unix::net::UnixListener::bind(&path)
                .map(|_| ())
                .map_err(|e| e.raw_os_error().unwrap_or(0)),
        );
        c.list(".");
    });
}

#[test]
fn truncate_and_ftruncate() {
    differential("truncate", |c| {
        fs::write(c.p("f"), b"0123456789").unwrap();
        c.rec("truncate 4", sys::truncate(&c.p("f"), 4));
        c.content("f");
        c.rec("truncate 8 (grows with zeros)", sys::truncate(&c.p("f"), 8));
        c.content("f");
        c.rec("truncate -1", sys::truncate(&c.p("f"), -1));
        c.rec("truncate 1 TiB (sparse)", sys::truncate(&c.p("f"), 1 << 40));
        c.stat("f");
        c.rec("truncate 64 TiB", sys::truncate(&c.p("f"), 1 << 46));
        c.rec("truncate i64::MAX", sys::truncate(&c.p("f"), i64::MAX));
        c.stat("f");
        c.rec("truncate 0", sys::truncate(&c.p("f"), 0));
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        c.rec("truncate d", sys::truncate(&c.p("d"), 0));
        c.rec("truncate missing", sys::truncate(&c.p("missing"), 0));
        c.rec("mkfifo p", sys::mkfifo(&c.p("p"), 0o666));
        c.rec("truncate p", sys::truncate(&c.p("p"), 0));
        c.rec("symlink l -> f", sys::symlink("f", &c.p("l")));
        c.rec("truncate l (follows)", sys::truncate(&c.p("l"), 3));
        c.stat("f");
        let ro = sys::open(&c.p("f"), libc::O_RDONLY, 0).unwrap();
        c.rec("ftruncate O_RDONLY", sys::ftruncate(ro, 0));
        close(ro).unwrap();
        let rw = sys::open(&c.p("f"), libc::O_RDWR, 0).unwrap();
        c.rec("pwrite at 100", sys::pwrite(rw, b"end", 100));
        c.rec("ftruncate 50", sys::ftruncate(rw, 50));
        c.rec(
            "pread after shrink",
            sys::pread(rw, 200, 0).map(|v| v.len()),
        );
        c.rec("ftruncate 5000", sys::ftruncate(rw, 5000));
        c.rec("pread tail is zero", sys::pread(rw, 10, 4990));
        c.rec("ftruncate -5", sys::ftruncate(rw, -5));
        c.fstat("f", rw);
        close(rw).unwrap();
        // Permissions: truncate needs write permission, not ownership.
        c.rec("chmod . 0777", sys::chmod(&c.p("."), 0o777));
        fs::write(c.p("w"), b"writable").unwrap();
        c.rec("chmod w 0666", sys::chmod(&c.p("w"), 0o666));
        c.as_user(
            ALICE,
            "truncate -s 2 w; echo $?; truncate -s 2 f; echo $?; cat w",
        );
        // O_APPEND fds can still ftruncate.
        let ap = sys::open(&c.p("w"), libc::O_WRONLY | libc::O_APPEND, 0).unwrap();
        c.rec("ftruncate O_APPEND", sys::ftruncate(ap, 1));
        close(ap).unwrap();
        c.content("w");
    });
}

#[test]
fn fallocate_modes() {
    differential("fallocate", |c| {
        fs::write(c.p("f"), vec![b'a'; 16384]).unwrap();
        let fd = sys::open(&c.p("f"), libc::O_RDWR, 0).unwrap();
        let blocks = |fd| sys::fstat(fd).map(|st| st.st_blocks);
        c.rec("fallocate 0 grows", sys::fallocate(fd, 0, 0, 65536));
        c.fstat("f", fd);
        c.rec(
            "fallocate KEEP_SIZE beyond",
            sys::fallocate(fd, libc::FALLOC_FL_KEEP_SIZE, 65536, 65536),
        );
        c.fstat("f", fd);
        c.rec(
            "blocks cover the KEEP_SIZE range",
            blocks(fd).map(|b| b >= 256),
        );
        c.rec(
            "fallocate PUNCH_HOLE|KEEP_SIZE",
            sys::fallocate(
                fd,
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                4096,
                8192,
            ),
        );
        c.rec("read punched range", sys::pread(fd, 8, 4096));
        c.rec("read after the hole", sys::pread(fd, 4, 12288));
        c.rec(
            "fallocate PUNCH_HOLE without KEEP_SIZE",
            sys::fallocate(fd, libc::FALLOC_FL_PUNCH_HOLE, 0, 4096),
        );
        c.rec(
            "fallocate ZERO_RANGE",
            sys::fallocate(fd, libc::FALLOC_FL_ZERO_RANGE, 0, 100),
        );
        c.rec("read zeroed range", sys::pread(fd, 4, 96));
        c.rec(
            "fallocate ZERO_RANGE|KEEP_SIZE beyond EOF",
            sys::fallocate(
                fd,
                libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE,
                65536,
                4096,
            ),
        );
        c.fstat("f", fd);
        c.rec("fallocate len 0", sys::fallocate(fd, 0, 0, 0));
        c.rec("fallocate negative offset", sys::fallocate(fd, 0, -1, 10));
        c.rec(
            "fallocate past max size",
            sys::fallocate(fd, 0, i64::MAX - 10, 100),
        );
        c.rec("fallocate unknown mode", sys::fallocate(fd, 0x1000, 0, 10));
        // COLLAPSE_RANGE and INSERT_RANGE shift data: ext4 does them; the
        // kernel's FUSE layer refuses them before asking the filesystem
        // (fs/fuse/file.c accepts only KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE).
        let collapse = sys::fallocate(fd, libc::FALLOC_FL_COLLAPSE_RANGE, 0, 4096);
        let insert = sys::fallocate(fd, libc::FALLOC_FL_INSERT_RANGE, 0, 4096);
        if c.gallery() {
            assert_eq!(
                collapse,
                Err(libc::EOPNOTSUPP),
                "COLLAPSE_RANGE through FUSE"
            );
            assert_eq!(insert, Err(libc::EOPNOTSUPP), "INSERT_RANGE through FUSE");
        } else {
            assert_eq!(collapse, Ok(()));
            assert_eq!(insert, Ok(()));
        }
        close(fd).unwrap();
        let ro = sys::open(&c.p("f"), libc::O_RDONLY, 0).unwrap();
        c.rec("fallocate on O_RDONLY", sys::fallocate(ro, 0, 0, 10));
        close(ro).unwrap();
        c.rec("mkfifo p", sys::mkfifo(&c.p("p"), 0o666));
        let p = sys::open(&c.p("p"), libc::O_RDWR | libc::O_NONBLOCK, 0).unwrap();
        c.rec("fallocate on a FIFO", sys::fallocate(p, 0, 0, 10));
        close(p).unwrap();
        // posix_fallocate (glibc uses fallocate).
        let fd = sys::open(&c.p("g"), libc::O_CREAT | libc::O_RDWR, 0o644).unwrap();
        // SAFETY: plain call on our fd.
        let rc = unsafe { libc::posix_fallocate(fd, 0, 123_457) };
        c.note(format!("posix_fallocate: {rc}"));
        c.fstat("g", fd);
        close(fd).unwrap();
    });
}

#[test]
fn lseek_data_and_holes() {
    differential("lseek", |c| {
        let fd = sys::open(&c.p("f"), libc::O_CREAT | libc::O_RDWR, 0o644).unwrap();
        sys::pwrite(fd, &[b'd'; 4096], 0).unwrap();
        sys::pwrite(fd, &[b'e'; 4096], 1 << 20).unwrap();
        sys::fsync(fd).unwrap();
        c.rec("SEEK_END", sys::lseek(fd, 0, libc::SEEK_END));
        c.rec("SEEK_DATA 0", sys::lseek(fd, 0, libc::SEEK_DATA));
        c.rec("SEEK_HOLE 0", sys::lseek(fd, 0, libc::SEEK_HOLE));
        c.rec("SEEK_DATA 8192", sys::lseek(fd, 8192, libc::SEEK_DATA));
        c.rec("SEEK_HOLE 1 MiB", sys::lseek(fd, 1 << 20, libc::SEEK_HOLE));
        c.rec(
            "SEEK_DATA past EOF",
            sys::lseek(fd, 2 << 20, libc::SEEK_DATA),
        );
        c.rec("SEEK_SET -1", sys::lseek(fd, -1, libc::SEEK_SET));
        c.rec("SEEK_CUR", sys::lseek(fd, 10, libc::SEEK_CUR));
        c.rec("bad whence", sys::lseek(fd, 0, 17));
        close(fd).unwrap();
    });
}

#[test]
fn copy_file_range_and_sendfile() {
    differential("copy_range", |c| {
        fs::write(
            c.p("src"),
            (0..=255u8).cycle().take(100_000).collect::<Vec<_>>(),
        )
        .unwrap();
        let src = sys::open(&c.p("src"), libc::O_RDONLY, 0).unwrap();
        let dst = sys::open(&c.p("dst"), libc::O_CREAT | libc::O_RDWR, 0o644).unwrap();
        let mut off_in: i64 = 1000;
        let mut off_out: i64 = 10;
        // SAFETY: valid fds and offsets.
        let n = unsafe { libc::copy_file_range(src, &mut off_in, dst, &mut off_out, 50_000, 0) };
        c.note(format!("copy_file_range: {n} (in {off_in}, out {off_out})"));
        // SAFETY: valid fds.
        let n = unsafe { libc::sendfile(dst, src, std::ptr::null_mut(), 5000) };
        c.note(format!("sendfile: {n}"));
        c.fstat("dst", dst);
        close(src).unwrap();
        close(dst).unwrap();
        let data = fs::read(c.p("dst")).unwrap();
        let sum: u64 = data.iter().map(|&b| b as u64).sum();
        c.note(format!("dst: {} bytes, sum {sum}", data.len()));
        // Same file, overlapping: EINVAL.
        let f = sys::open(&c.p("src"), libc::O_RDWR, 0).unwrap();
        let (mut a, mut b): (i64, i64) = (0, 10);
        // SAFETY: valid fd and offsets.
        let n = unsafe { libc::copy_file_range(f, &mut a, f, &mut b, 100, 0) };
        c.note(format!("overlapping copy_file_range: {n}"));
        close(f).unwrap();
    });
}

/// statfs of the gallery describes STORAGE's filesystem (a native directory
/// on it is the reference), apart from what FUSE reports of its own.
#[test]
fn statfs_sanity() {
    differential("statfs", |c| {
        let v = sys::statvfs(&c.p(".")).unwrap();
        let f = sys::statfs(&c.p(".")).unwrap();
        c.note(format!(
            "f_bsize {} f_frsize {} f_namemax {}",
            v.f_bsize, v.f_frsize, v.f_namemax
        ));
        c.note(format!(
            "blocks sane: {}",
            v.f_bavail <= v.f_bfree && v.f_bfree <= v.f_blocks && v.f_blocks > 0
        ));
        c.note(format!("files sane: {}", v.f_ffree <= v.f_files));
        // The same filesystem underneath: the totals match (free space moves).
        c.note(format!("f_blocks {} f_files {}", v.f_blocks, v.f_files));
        let flags =
            v.f_flag & !(libc::ST_NOSUID | libc::ST_NODEV | libc::ST_RELATIME | libc::ST_NOATIME);
        c.note(format!("read-only: {}", flags & libc::ST_RDONLY != 0));
        if c.gallery() {
            // By design: the filesystem type is FUSE's, and the mount is nosuid,nodev.
            assert_eq!(f.f_type, 0x6573_5546, "FUSE_SUPER_MAGIC");
        }
        c.rec("statfs missing", sys::statfs(&c.p("missing")).map(|_| ()));
        // Free space is STORAGE's filesystem's (plus the trash's bytes, which
        // the mount counts as available): a native directory beside it is
        // on that filesystem, so the two agree within what other tests move.
        let here = sys::statvfs(&c.p(".")).unwrap();
        let storage = sys::statvfs(&std::env::temp_dir()).unwrap();
        let close_enough = here.f_bfree.abs_diff(storage.f_bfree) < storage.f_blocks / 100;
        c.note(format!(
            "free blocks within 1% of the backing filesystem's: {close_enough}"
        ));
    });
}

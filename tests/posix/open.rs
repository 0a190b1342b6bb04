//! open(2) flags: O_CREAT, O_EXCL, O_APPEND, O_TRUNC, O_DIRECTORY,
//! O_NOFOLLOW, access modes, O_TMPFILE.

use crate::diff::differential;
use crate::sys::{self, close};

const RW: i32 = libc::O_RDWR;
const WO: i32 = libc::O_WRONLY;
const RO: i32 = libc::O_RDONLY;

#[test]
fn o_creat_and_o_excl() {
    differential("creat_excl", |c| {
        let dir = c.times(".");
        c.tick();
        let fd = c.rec_okv(
            "open f O_CREAT|O_EXCL 0640",
            sys::open(&c.p("f"), libc::O_CREAT | libc::O_EXCL | WO, 0o640),
        );
        c.stat("f");
        c.changed(".", dir);
        let _ = fd.map(close);
        c.rec_ok(
            "open f O_CREAT|O_EXCL again",
            sys::open(&c.p("f"), libc::O_CREAT | libc::O_EXCL | WO, 0o640),
        );
        let (dir, f) = (c.times("."), c.times("f"));
        c.tick();
        let fd = c.rec_okv(
            "open f O_CREAT (exists)",
            sys::open(&c.p("f"), libc::O_CREAT | WO, 0o600),
        );
        let _ = fd.map(close);
        c.stat("f");
        c.changed_mc("f", f);
        c.changed(".", dir);
        // A dangling symlink: O_EXCL refuses it, plain O_CREAT creates its target.
        c.rec(
            "symlink dangling -> target",
            sys::symlink("target", &c.p("dangling")),
        );
        c.rec_ok(
            "open dangling O_CREAT|O_EXCL",
            sys::open(&c.p("dangling"), libc::O_CREAT | libc::O_EXCL | WO, 0o644),
        );
        let fd = c.rec_okv(
            "open dangling O_CREAT",
            sys::open(&c.p("dangling"), libc::O_CREAT | WO, 0o644),
        );
        let _ = fd.map(close);
        c.stat("target");
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        c.rec_ok(
            "open d O_CREAT|O_EXCL",
            sys::open(&c.p("d"), libc::O_CREAT | libc::O_EXCL | WO, 0o644),
        );
        c.rec_ok(
            "open d O_CREAT|O_WRONLY",
            sys::open(&c.p("d"), libc::O_CREAT | WO, 0o644),
        );
        c.rec_ok(
            "open d O_CREAT|O_RDONLY",
            sys::open(&c.p("d"), libc::O_CREAT | RO, 0o644).map(close),
        );
        c.rec_ok(
            "open missing/f O_CREAT",
            sys::open(&c.p("missing/f"), libc::O_CREAT | WO, 0o644),
        );
        c.rec_ok(
            "open f/x O_CREAT (f is a file)",
            sys::open(&c.p("f/x"), libc::O_CREAT | WO, 0o644),
        );
        // Every permission and set-id bit the caller asks for, less the umask.
        for mode in [0o7777, 0o4755, 0o2755, 0o1777, 0o000] {
            let name = format!("m{mode:o}");
            let fd = c.rec_okv(
                &format!("open {name} O_CREAT {mode:04o}"),
                sys::open(&c.p(&name), libc::O_CREAT | libc::O_EXCL | RW, mode),
            );
            if let Ok(fd) = fd {
                // A mode without write permission still gives the creator its fd.
                c.rec("write through the new fd", sys::write(fd, b"x"));
                c.fstat(&name, fd);
                close(fd).unwrap();
            }
        }
        let long = "n".repeat(255);
        let fd = c.rec_okv(
            "open 255-byte name",
            sys::open(&c.p(&long), libc::O_CREAT | WO, 0o644),
        );
        let _ = fd.map(close);
        let too_long = "n".repeat(256);
        c.rec_ok(
            "open 256-byte name",
            sys::open(&c.p(&too_long), libc::O_CREAT | WO, 0o644),
        );
        c.list(".");
    });
}

#[test]
fn o_append() {
    differential("append", |c| {
        std::fs::write(c.p("f"), b"abc").unwrap();
        let a = sys::open(&c.p("f"), libc::O_APPEND | WO, 0).unwrap();
        let b = sys::open(&c.p("f"), libc::O_APPEND | RW, 0).unwrap();
        c.rec("write a 'de'", sys::write(a, b"de"));
        c.rec("write b 'fg'", sys::write(b, b"fg"));
        c.rec("lseek a 0", sys::lseek(a, 0, libc::SEEK_SET));
        c.rec("write a 'hi' after seek 0", sys::write(a, b"hi"));
        // Linux: pwrite on an O_APPEND fd appends whatever the offset.
        c.rec("pwrite b 'jk' at 1", sys::pwrite(b, b"jk", 1));
        c.rec("lseek b cur", sys::lseek(b, 0, libc::SEEK_CUR));
        c.rec(
            "pread b 20 at 0",
            sys::pread(b, 20, 0).map(|v| String::from_utf8(v).unwrap()),
        );
        c.fstat("a", a);
        c.content("f");
        // A plain writer at offset 0 overwrites; the appender still appends.
        let w = sys::open(&c.p("f"), WO, 0).unwrap();
        c.rec("write plain 'ZZ' at 0", sys::write(w, b"ZZ"));
        c.rec("write a 'lm'", sys::write(a, b"lm"));
        c.content("f");
        for fd in [a, b, w] {
            close(fd).unwrap();
        }
        // O_APPEND|O_CREAT on a new file, and O_APPEND|O_TRUNC.
        let fd = sys::open(&c.p("g"), libc::O_APPEND | libc::O_CREAT | WO, 0o644).unwrap();
        c.rec("write g", sys::write(fd, b"1"));
        c.rec("write g", sys::write(fd, b"2"));
        close(fd).unwrap();
        let fd = sys::open(&c.p("g"), libc::O_APPEND | libc::O_TRUNC | WO, 0).unwrap();
        c.rec("write g after O_TRUNC", sys::write(fd, b"3"));
        close(fd).unwrap();
        c.content("g");
        // ftruncate under an appender moves the end it appends at.
        let fd = sys::open(&c.p("g"), libc::O_APPEND | RW, 0).unwrap();
        c.rec("ftruncate g 0", sys::ftruncate(fd, 0));
        c.rec("write g 'x'", sys::write(fd, b"x"));
        c.rec("ftruncate g 4", sys::ftruncate(fd, 4));
        c.rec("write g 'y'", sys::write(fd, b"y"));
        close(fd).unwrap();
        c.content("g");
    });
}

#[test]
fn o_trunc() {
    differential("trunc", |c| {
        std::fs::write(c.p("f"), b"data").unwrap();
        let t = c.times("f");
        c.tick();
        let fd = c.rec_okv(
            "open f O_TRUNC|O_WRONLY",
            sys::open(&c.p("f"), libc::O_TRUNC | WO, 0),
        );
        let _ = fd.map(close);
        c.stat("f");
        c.changed_mc("f", t);
        // Truncating an empty file still counts as a change on Linux.
        let t = c.times("f");
        c.tick();
        let fd = c.rec_okv(
            "open f O_TRUNC (empty)",
            sys::open(&c.p("f"), libc::O_TRUNC | WO, 0),
        );
        let _ = fd.map(close);
        c.changed_mc("f", t);
        // O_RDONLY|O_TRUNC truncates on Linux.
        std::fs::write(c.p("f"), b"data").unwrap();
        let fd = c.rec_okv(
            "open f O_TRUNC|O_RDONLY",
            sys::open(&c.p("f"), libc::O_TRUNC | RO, 0),
        );
        let _ = fd.map(close);
        c.stat("f");
        // O_CREAT|O_TRUNC on an existing file, and on a new one.
        std::fs::write(c.p("f"), b"data").unwrap();
        let fd = c.rec_okv(
            "open f O_CREAT|O_TRUNC",
            sys::open(&c.p("f"), libc::O_CREAT | libc::O_TRUNC | RW, 0o600),
        );
        let _ = fd.map(close);
        c.stat("f");
        let fd = c.rec_okv(
            "open new O_CREAT|O_TRUNC",
            sys::open(&c.p("new"), libc::O_CREAT | libc::O_TRUNC | RW, 0o600),
        );
        let _ = fd.map(close);
        c.stat("new");
        // O_TRUNC on a directory and a FIFO.
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        c.rec_ok(
            "open d O_TRUNC|O_RDONLY",
            sys::open(&c.p("d"), libc::O_TRUNC | RO, 0),
        );
        c.rec("mkfifo p", sys::mkfifo(&c.p("p"), 0o644));
        let fd = c.rec_okv(
            "open p O_TRUNC|O_RDWR",
            sys::open(&c.p("p"), libc::O_TRUNC | RW | libc::O_NONBLOCK, 0),
        );
        let _ = fd.map(close);
        // Another open fd sees the truncation.
        std::fs::write(c.p("f"), b"0123456789").unwrap();
        let r = sys::open(&c.p("f"), RO, 0).unwrap();
        c.rec("read 4 before", sys::read(r, 4));
        let fd = sys::open(&c.p("f"), libc::O_TRUNC | WO, 0).unwrap();
        c.rec("read rest after O_TRUNC elsewhere", sys::read(r, 100));
        c.fstat("reader", r);
        close(fd).unwrap();
        close(r).unwrap();
    });
}

#[test]
fn o_directory_and_o_nofollow() {
    differential("directory_nofollow", |c| {
        std::fs::write(c.p("f"), b"x").unwrap();
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        c.rec("symlink lf -> f", sys::symlink("f", &c.p("lf")));
        c.rec("symlink ld -> d", sys::symlink("d", &c.p("ld")));
        c.rec("symlink loop -> loop", sys::symlink("loop", &c.p("loop")));
        let cases: &[(&str, &str, i32)] = &[
            ("d", "O_DIRECTORY", libc::O_DIRECTORY | RO),
            ("f", "O_DIRECTORY", libc::O_DIRECTORY | RO),
            ("ld", "O_DIRECTORY", libc::O_DIRECTORY | RO),
            (
                "ld",
                "O_DIRECTORY|O_NOFOLLOW",
                libc::O_DIRECTORY | libc::O_NOFOLLOW | RO,
            ),
            ("lf", "O_DIRECTORY", libc::O_DIRECTORY | RO),
            ("d", "O_WRONLY", WO),
            ("d", "O_RDWR", RW),
            (
                "d",
                "O_DIRECTORY|O_CREAT",
                libc::O_DIRECTORY | libc::O_CREAT | RO,
            ),
            (
                "new",
                "O_DIRECTORY|O_CREAT",
                libc::O_DIRECTORY | libc::O_CREAT | RO,
            ),
            ("f", "O_NOFOLLOW", libc::O_NOFOLLOW | RO),
            ("lf", "O_NOFOLLOW", libc::O_NOFOLLOW | RO),
            ("ld", "O_NOFOLLOW", libc::O_NOFOLLOW | RO),
            (
                "lf",
                "O_NOFOLLOW|O_CREAT",
                libc::O_NOFOLLOW | libc::O_CREAT | WO,
            ),
            ("loop", "(follow)", RO),
            ("loop", "O_NOFOLLOW", libc::O_NOFOLLOW | RO),
            (
                "ld/../f",
                "O_NOFOLLOW (not the last component)",
                libc::O_NOFOLLOW | RO,
            ),
            ("f/", "trailing slash", RO),
            ("d/", "trailing slash", RO),
            ("lf/", "trailing slash", RO),
        ];
        for (name, what, flags) in cases {
            let r = sys::open(&c.p(name), *flags, 0o644);
            if let Ok(fd) = r {
                c.fstat(&format!("open {name} {what}"), fd);
                close(fd).unwrap();
            } else {
                c.rec_ok(&format!("open {name} {what}"), r);
            }
        }
        // O_PATH|O_NOFOLLOW gives the symlink itself.
        let fd = sys::open(&c.p("lf"), libc::O_PATH | libc::O_NOFOLLOW, 0).unwrap();
        c.fstat("lf O_PATH|O_NOFOLLOW", fd);
        c.rec("read through O_PATH", sys::read(fd, 1));
        close(fd).unwrap();
        c.list(".");
    });
}

#[test]
fn access_modes() {
    differential("accmode", |c| {
        std::fs::write(c.p("f"), b"hello").unwrap();
        let ro = sys::open(&c.p("f"), RO, 0).unwrap();
        c.rec("read O_RDONLY", sys::read(ro, 5));
        c.rec("write O_RDONLY", sys::write(ro, b"x"));
        c.rec("ftruncate O_RDONLY", sys::ftruncate(ro, 0));
        c.rec("fallocate O_RDONLY", sys::fallocate(ro, 0, 0, 10));
        close(ro).unwrap();
        let wo = sys::open(&c.p("f"), WO, 0).unwrap();
        c.rec("read O_WRONLY", sys::read(wo, 5));
        c.rec("write O_WRONLY", sys::write(wo, b"J"));
        close(wo).unwrap();
        // Access mode 3 (O_WRONLY|O_RDWR): permitted on Linux, needs read
        // and write permission, allows neither read nor write.
        let r = sys::open(&c.p("f"), 3, 0);
        c.rec_ok("open accmode 3", r);
        if let Ok(fd) = r {
            c.rec("read accmode 3", sys::read(fd, 1));
            c.rec("write accmode 3", sys::write(fd, b"x"));
            close(fd).unwrap();
        }
        // pjdfstest's open::einval_invalid_combination leaves such fds open
        // on files it then deletes along with their directory: the next
        // directory, which may reuse the inode number, must work.
        c.content("f");
        c.rec("chmod f 0444", sys::chmod(&c.p("f"), 0o444));
        // Root ignores permission bits for read and write.
        let r = sys::open(&c.p("f"), RW, 0);
        c.rec_ok("open 0444 O_RDWR as root", r.map(close));
        c.rec("chmod f 0000", sys::chmod(&c.p("f"), 0o000));
        let r = sys::open(&c.p("f"), RO, 0);
        c.rec_ok("open 0000 O_RDONLY as root", r.map(close));
        c.rec("chmod f 0644", sys::chmod(&c.p("f"), 0o644));
        c.as_user(
            crate::diff::ALICE,
            "cat f; echo x >> f; echo rc=$?; : > newfile; echo rc=$?",
        );
    });
}

#[test]
fn o_tmpfile() {
    differential("tmpfile", |c| {
        let r = sys::open(&c.p("."), libc::O_TMPFILE | RW, 0o600);
        if c.gallery() {
            // By design of the FUSE library: fuser 0.18 has no FUSE_TMPFILE
            // request, so the kernel answers EOPNOTSUPP, which is what
            // callers of O_TMPFILE (glibc's tmpfile(), systemd, …) expect
            // from filesystems without it: they fall back to a named file.
            assert_eq!(r.err(), Some(libc::EOPNOTSUPP), "O_TMPFILE in the gallery");
            std::fs::write(c.p("named"), b"tmp").unwrap();
        } else {
            let fd = r.expect("O_TMPFILE natively");
            sys::write(fd, b"tmp").unwrap();
            assert_eq!(sys::fstat(fd).unwrap().st_nlink, 0);
            let path = format!("/proc/self/fd/{fd}");
            let (src, dst) = (sys::cstr(&path), sys::cstr(c.p("named")));
            // SAFETY: valid C strings.
            let rc = unsafe {
                libc::linkat(
                    libc::AT_FDCWD,
                    src.as_ptr(),
                    libc::AT_FDCWD,
                    dst.as_ptr(),
                    libc::AT_SYMLINK_FOLLOW,
                )
            };
            assert_eq!(rc, 0, "linkat of the O_TMPFILE");
            close(fd).unwrap();
        }
        c.content("named");
        c.list(".");
    });
}

//! Which timestamps each operation changes, and utimensat/futimens with
//! explicit times, UTIME_NOW and UTIME_OMIT.

use std::fs;

use crate::diff::{ALICE, BOB, Ctx, differential};
use crate::sys::{self, close, ts, ts_now, ts_omit};

/// Runs `op` after a tick and records which timestamps of each of `watch`
/// changed (atime excluded: relatime decides it natively).
fn watch(c: &mut Ctx, what: &str, watch: &[&str], op: impl FnOnce(&mut Ctx)) {
    let before: Vec<_> = watch.iter().map(|w| c.times(w)).collect();
    c.tick();
    c.note(format!("-- {what}"));
    op(c);
    for (w, t) in watch.iter().zip(before) {
        c.changed_mc(w, t);
    }
}

#[test]
fn timestamps_of_each_operation() {
    differential("times_ops", |c| {
        fs::write(c.p("f"), b"0123456789").unwrap();
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        watch(c, "write", &["f", "."], |c| {
            let fd = sys::open(&c.p("f"), libc::O_WRONLY, 0).unwrap();
            c.rec("pwrite", sys::pwrite(fd, b"ab", 2));
            close(fd).unwrap();
        });
        watch(c, "write of 0 bytes", &["f"], |c| {
            let fd = sys::open(&c.p("f"), libc::O_WRONLY, 0).unwrap();
            c.rec("write 0", sys::write(fd, b""));
            close(fd).unwrap();
        });
        watch(c, "read", &["f"], |c| {
            let fd = sys::open(&c.p("f"), libc::O_RDONLY, 0).unwrap();
            c.rec("read", sys::read(fd, 4).map(String::from_utf8));
            close(fd).unwrap();
        });
        watch(c, "chmod", &["f", "."], |c| {
            c.rec("chmod 600", sys::chmod(&c.p("f"), 0o600))
        });
        watch(c, "chmod to the same mode", &["f"], |c| {
            c.rec("chmod 600", sys::chmod(&c.p("f"), 0o600))
        });
        watch(c, "chown", &["f"], |c| {
            c.rec("chown", sys::chown(&c.p("f"), ALICE, ALICE))
        });
        watch(c, "chown -1 -1", &["f"], |c| {
            c.rec("chown -1 -1", sys::chown(&c.p("f"), u32::MAX, u32::MAX))
        });
        watch(c, "truncate shorter", &["f"], |c| {
            c.rec("truncate 4", sys::truncate(&c.p("f"), 4))
        });
        watch(c, "truncate to the same size", &["f"], |c| {
            c.rec("truncate 4", sys::truncate(&c.p("f"), 4))
        });
        watch(c, "ftruncate longer", &["f"], |c| {
            let fd = sys::open(&c.p("f"), libc::O_WRONLY, 0).unwrap();
            c.rec("ftruncate 100", sys::ftruncate(fd, 100));
            close(fd).unwrap();
        });
        watch(c, "fallocate", &["f"], |c| {
            let fd = sys::open(&c.p("f"), libc::O_WRONLY, 0).unwrap();
            c.rec("fallocate 0..200", sys::fallocate(fd, 0, 0, 200));
            close(fd).unwrap();
        });
        watch(c, "fallocate KEEP_SIZE", &["f"], |c| {
            let fd = sys::open(&c.p("f"), libc::O_WRONLY, 0).unwrap();
            c.rec(
                "fallocate KEEP_SIZE",
                sys::fallocate(fd, libc::FALLOC_FL_KEEP_SIZE, 0, 8192),
            );
            close(fd).unwrap();
        });
        watch(c, "setxattr", &["f"], |c| {
            c.rec("setxattr", sys::setxattr(&c.p("f"), "user.k", b"v", 0))
        });
        watch(c, "getxattr", &["f"], |c| {
            c.rec(
                "getxattr",
                sys::getxattr(&c.p("f"), "user.k").map(String::from_utf8),
            )
        });
        watch(c, "removexattr", &["f"], |c| {
            c.rec("removexattr", sys::removexattr(&c.p("f"), "user.k"))
        });
        watch(c, "link", &["f", "d"], |c| {
            c.rec("link", sys::link(&c.p("f"), &c.p("d/h")))
        });
        watch(c, "unlink of the other link", &["f", "d"], |c| {
            c.rec("unlink d/h", sys::unlink(&c.p("d/h")))
        });
        let (f, dot, d) = (c.times("f"), c.times("."), c.times("d"));
        c.tick();
        c.note("-- rename");
        c.rec("rename f d/f", sys::rename(&c.p("f"), &c.p("d/f")));
        c.changed_mc("d/f", f);
        c.changed_mc(".", dot);
        c.changed_mc("d", d);
        watch(c, "create in d", &["d"], |c| {
            let fd = sys::open(&c.p("d/new"), libc::O_CREAT | libc::O_WRONLY, 0o644);
            c.rec_ok("create d/new", fd.map(close));
        });
        watch(c, "mkdir in d", &["d"], |c| {
            c.rec("mkdir d/sub", sys::mkdir(&c.p("d/sub"), 0o755))
        });
        watch(c, "rmdir in d", &["d"], |c| {
            c.rec("rmdir d/sub", sys::rmdir(&c.p("d/sub")))
        });
        watch(c, "symlink in d", &["d"], |c| {
            c.rec("symlink", sys::symlink("x", &c.p("d/l")))
        });
        watch(c, "mkfifo in d", &["d"], |c| {
            c.rec("mkfifo", sys::mkfifo(&c.p("d/p"), 0o644))
        });
        watch(c, "readdir", &["d"], |c| c.list("d"));
        watch(c, "lookup", &["d", "d/f"], |c| {
            c.rec_ok("stat d/f", sys::stat(&c.p("d/f")));
        });
        watch(c, "open without writing", &["d/f"], |c| {
            let fd = sys::open(&c.p("d/f"), libc::O_RDWR, 0);
            c.rec_ok("open O_RDWR, close", fd.map(close));
        });
        watch(c, "fsync", &["d/f"], |c| {
            let fd = sys::open(&c.p("d/f"), libc::O_RDWR, 0).unwrap();
            c.rec("fsync", sys::fsync(fd));
            close(fd).unwrap();
        });
        // Unlink: natively the parent changes; in the gallery too (the name
        // leaves it for the trash).
        watch(c, "unlink in d", &["d"], |c| {
            c.rec("unlink d/new", sys::unlink(&c.p("d/new")))
        });
    });
}

#[test]
fn mmap_write_updates_mtime() {
    differential("times_mmap", |c| {
        fs::write(c.p("f"), vec![b'.'; 8192]).unwrap();
        let t = c.times("f");
        c.tick();
        let fd = sys::open(&c.p("f"), libc::O_RDWR, 0).unwrap();
        // SAFETY: a fresh shared mapping of a file we own, unmapped below.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED, "mmap");
            std::ptr::copy_nonoverlapping(b"mapped".as_ptr(), p.cast::<u8>().add(100), 6);
            c.note(format!("msync: {}", libc::msync(p, 8192, libc::MS_SYNC)));
            libc::munmap(p, 8192);
        }
        close(fd).unwrap();
        c.changed_mc("f", t);
        let data = fs::read(c.p("f")).unwrap();
        c.note(format!(
            "data at 100: {:?}",
            String::from_utf8_lossy(&data[100..106])
        ));
    });
}

#[test]
fn utimensat_now_omit_and_explicit() {
    differential("utimensat", |c| {
        fs::write(c.p("f"), b"x").unwrap();
        c.rec("symlink l -> f", sys::symlink("f", &c.p("l")));
        let set = [
            ts(1_000_000_000, 123_456_789),
            ts(1_100_000_000, 987_654_321),
        ];
        c.rec(
            "utimensat explicit",
            sys::utimensat(&c.p("f"), Some(set), 0),
        );
        c.exact_times("f");
        // UTIME_OMIT for both changes nothing, not even ctime.
        let t = c.times("f");
        c.tick();
        c.rec(
            "utimensat OMIT OMIT",
            sys::utimensat(&c.p("f"), Some([ts_omit(), ts_omit()]), 0),
        );
        c.changed("f", t);
        c.exact_times("f");
        // UTIME_NOW for atime only.
        let t = c.times("f");
        c.tick();
        c.rec(
            "utimensat NOW OMIT",
            sys::utimensat(&c.p("f"), Some([ts_now(), ts_omit()]), 0),
        );
        c.changed("f", t);
        // UTIME_OMIT atime, explicit mtime.
        c.rec(
            "utimensat OMIT explicit",
            sys::utimensat(&c.p("f"), Some([ts_omit(), ts(1_200_000_000, 5)]), 0),
        );
        let st = sys::stat(&c.p("f")).unwrap();
        c.note(format!("mtime {}.{}", st.st_mtime, st.st_mtime_nsec));
        // NULL times: both now.
        let t = c.times("f");
        c.tick();
        c.rec("utimensat NULL", sys::utimensat(&c.p("f"), None, 0));
        c.changed("f", t);
        // Through the symlink (follows) and on the symlink itself.
        let (tf, tl) = (c.times("f"), c.times("l"));
        c.tick();
        c.rec(
            "utimensat l explicit (follow)",
            sys::utimensat(&c.p("l"), Some(set), 0),
        );
        c.changed("f", tf);
        c.changed("l", tl);
        c.rec(
            "utimensat l explicit NOFOLLOW",
            sys::utimensat(&c.p("l"), Some(set), libc::AT_SYMLINK_NOFOLLOW),
        );
        c.exact_times("l");
        // futimens, negative and far-future times, bad nanoseconds.
        let fd = sys::open(&c.p("f"), libc::O_RDONLY, 0).unwrap();
        c.rec("futimens explicit", sys::futimens(fd, set));
        close(fd).unwrap();
        c.exact_times("f");
        // Before 1970 with nanoseconds: fuser 0.18 decodes these wrongly
        // (galleryfs stored -2 s + 999999995 ns for -1 s + 5 ns).
        c.rec(
            "utimensat before 1970",
            sys::utimensat(&c.p("f"), Some([ts(-1000, 0), ts(-1, 5)]), 0),
        );
        c.exact_times("f");
        c.rec(
            "utimensat before 1970",
            sys::utimensat(
                &c.p("f"),
                Some([ts(-86_400 * 365, 999_999_999), ts(-5, 500_000_000)]),
                0,
            ),
        );
        c.exact_times("f");
        c.rec(
            "utimensat year 2100",
            sys::utimensat(
                &c.p("f"),
                Some([ts(4_102_444_800, 0), ts(4_102_444_800, 1)]),
                0,
            ),
        );
        c.exact_times("f");
        c.rec(
            "utimensat nsec 1e9",
            sys::utimensat(&c.p("f"), Some([ts(0, 1_000_000_000), ts_omit()]), 0),
        );
        c.rec(
            "utimensat missing",
            sys::utimensat(&c.p("missing"), None, 0),
        );
        c.rec(
            "utimensat bad flags",
            sys::utimensat(&c.p("f"), None, 0x4000_0000),
        );
        // On a directory.
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        c.rec(
            "utimensat d explicit",
            sys::utimensat(&c.p("d"), Some(set), 0),
        );
        c.exact_times("d");
    });
}

/// Who may set which times: the owner anything; anyone with write access
/// "now" (UTIME_NOW for both or NULL); others nothing.
#[test]
fn utimensat_permissions() {
    differential("utimensat_perms", |c| {
        fs::write(c.p("mine"), b"x").unwrap();
        fs::write(c.p("writable"), b"x").unwrap();
        fs::write(c.p("readonly"), b"x").unwrap();
        sys::chown(&c.p("mine"), ALICE, ALICE).unwrap();
        sys::chmod(&c.p("writable"), 0o666).unwrap();
        sys::chmod(&c.p("readonly"), 0o644).unwrap();
        let py = |f: &str, how: &str| {
            format!(
                "python3 -c \"import os,sys\ntry:\n    os.utime('{f}', {how})\n    print('ok')\nexcept OSError as e:\n    print(e.strerror)\""
            )
        };
        for f in ["mine", "writable", "readonly"] {
            c.as_user(ALICE, &py(f, "None"));
            c.as_user(
                ALICE,
                &py(f, "ns=(1000000000000000000, 1000000000000000000)"),
            );
            c.as_user(ALICE, &format!("touch {f}; echo $?"));
            c.as_user(ALICE, &format!("touch -d @1000 {f}; echo $?"));
            c.as_user(BOB, &format!("touch -m {f}; echo $?"));
        }
        c.exact_times("mine");
    });
}

//! Extended attributes: XATTR_CREATE / XATTR_REPLACE, sizes, namespaces,
//! symlinks and special files, permissions.

use std::fs;

use crate::diff::{ALICE, BOB, differential};
use crate::sys;

const CREATE: i32 = libc::XATTR_CREATE;
const REPLACE: i32 = libc::XATTR_REPLACE;

fn text(r: sys::SysResult<Vec<u8>>) -> sys::SysResult<String> {
    r.map(|v| String::from_utf8_lossy(&v).into_owned())
}

#[test]
fn xattr_create_and_replace() {
    differential("xattr_flags", |c| {
        fs::write(c.p("f"), b"x").unwrap();
        let f = c.p("f");
        c.rec(
            "set user.a CREATE",
            sys::setxattr(&f, "user.a", b"1", CREATE),
        );
        c.rec(
            "set user.a CREATE again",
            sys::setxattr(&f, "user.a", b"2", CREATE),
        );
        c.rec("get user.a", text(sys::getxattr(&f, "user.a")));
        c.rec(
            "set user.b REPLACE (missing)",
            sys::setxattr(&f, "user.b", b"1", REPLACE),
        );
        c.rec("get user.b", text(sys::getxattr(&f, "user.b")));
        c.rec(
            "set user.a REPLACE",
            sys::setxattr(&f, "user.a", b"replaced", REPLACE),
        );
        c.rec("get user.a", text(sys::getxattr(&f, "user.a")));
        c.rec(
            "set user.a 0 (either)",
            sys::setxattr(&f, "user.a", b"third", 0),
        );
        c.rec(
            "set CREATE|REPLACE",
            sys::setxattr(&f, "user.c", b"1", CREATE | REPLACE),
        );
        c.rec("set bad flag", sys::setxattr(&f, "user.c", b"1", 4));
        c.rec("list", sys::list_user_xattrs(&f));
        // Sizes: the length query, a too-small buffer, empty and large values.
        c.rec(
            "get user.a size 0",
            text(sys::getxattr_sized(&f, "user.a", 0)),
        );
        c.rec(
            "get user.a size 2",
            text(sys::getxattr_sized(&f, "user.a", 2)),
        );
        c.rec("set user.empty ''", sys::setxattr(&f, "user.empty", b"", 0));
        c.rec("get user.empty", text(sys::getxattr(&f, "user.empty")));
        let big = vec![b'v'; 3000];
        c.rec(
            "set user.big 3000 bytes",
            sys::setxattr(&f, "user.big", &big, 0),
        );
        c.rec(
            "get user.big length",
            sys::getxattr(&f, "user.big").map(|v| v.len()),
        );
        let huge = vec![b'h'; 70_000];
        c.rec(
            "set user.huge 70000 bytes",
            sys::setxattr(&f, "user.huge", &huge, 0),
        );
        c.rec(
            "set 255-byte name",
            sys::setxattr(&f, &format!("user.{}", "n".repeat(250)), b"1", 0),
        );
        c.rec(
            "set 256-byte name",
            sys::setxattr(&f, &format!("user.{}", "n".repeat(251)), b"1", 0),
        );
        c.rec("set empty name", sys::setxattr(&f, "", b"1", 0));
        c.rec(
            "set unknown namespace",
            sys::setxattr(&f, "bogus.x", b"1", 0),
        );
        c.rec("set 'user.' alone", sys::setxattr(&f, "user.", b"1", 0));
        // Removal.
        c.rec("remove user.a", sys::removexattr(&f, "user.a"));
        c.rec("remove user.a again", sys::removexattr(&f, "user.a"));
        c.rec("get user.a", text(sys::getxattr(&f, "user.a")));
        c.rec("list", sys::list_user_xattrs(&f));
        // Through an fd, and on a directory.
        let fd = sys::open(&f, libc::O_RDONLY, 0).unwrap();
        c.rec(
            "fsetxattr user.fd",
            sys::fsetxattr(fd, "user.fd", b"via fd", CREATE),
        );
        c.rec("fgetxattr user.fd", text(sys::fgetxattr(fd, "user.fd")));
        sys::close(fd).unwrap();
        c.rec("mkdir d", sys::mkdir(&c.p("d"), 0o755));
        c.rec(
            "set d user.dir",
            sys::setxattr(&c.p("d"), "user.dir", b"D", CREATE),
        );
        c.rec("get d user.dir", text(sys::getxattr(&c.p("d"), "user.dir")));
        // Values survive a rename and are shared by hard links.
        c.rec("rename f g", sys::rename(&f, &c.p("g")));
        c.rec("link g h", sys::link(&c.p("g"), &c.p("h")));
        c.rec("get h user.fd", text(sys::getxattr(&c.p("h"), "user.fd")));
        c.rec("set h user.h", sys::setxattr(&c.p("h"), "user.h", b"H", 0));
        c.rec("list g", sys::list_user_xattrs(&c.p("g")));
        c.rec(
            "get missing file",
            text(sys::getxattr(&c.p("missing"), "user.a")),
        );
    });
}

#[test]
fn xattr_namespaces_and_special_files() {
    differential("xattr_ns", |c| {
        fs::write(c.p("f"), b"x").unwrap();
        c.rec("symlink l -> f", sys::symlink("f", &c.p("l")));
        c.rec("mkfifo p", sys::mkfifo(&c.p("p"), 0o666));
        // user.* on a symlink or FIFO is refused by the kernel.
        c.rec(
            "lsetxattr l user.x",
            sys::lsetxattr(&c.p("l"), "user.x", b"1", 0),
        );
        c.rec(
            "setxattr l user.x (follows)",
            sys::setxattr(&c.p("l"), "user.x", b"1", 0),
        );
        c.rec("get f user.x", text(sys::getxattr(&c.p("f"), "user.x")));
        c.rec("lget l user.x", text(sys::lgetxattr(&c.p("l"), "user.x")));
        c.rec(
            "lsetxattr p user.x",
            sys::lsetxattr(&c.p("p"), "user.x", b"1", 0),
        );
        // trusted.* needs CAP_SYS_ADMIN: root has it here.
        c.rec(
            "set trusted.t",
            sys::setxattr(&c.p("f"), "trusted.t", b"T", 0),
        );
        c.rec("get trusted.t", text(sys::getxattr(&c.p("f"), "trusted.t")));
        c.rec(
            "lset l trusted.t",
            sys::lsetxattr(&c.p("l"), "trusted.t", b"T", 0),
        );
        c.rec(
            "lget l trusted.t",
            text(sys::lgetxattr(&c.p("l"), "trusted.t")),
        );
        // security.* other than capabilities/selinux.
        c.rec(
            "set security.test",
            sys::setxattr(&c.p("f"), "security.test", b"S", 0),
        );
        c.rec(
            "get security.test",
            text(sys::getxattr(&c.p("f"), "security.test")),
        );
        c.as_user(ALICE, "getfattr -n trusted.t f 2>&1 | head -1; echo $?");
    });
}

#[test]
fn xattr_permissions() {
    differential("xattr_perms", |c| {
        c.rec("chmod . 0777", sys::chmod(&c.p("."), 0o777));
        c.as_user(ALICE, "echo a > a; echo w > w; chmod 644 a; chmod 666 w; setfattr -n user.k -v alice a; echo $?");
        // Reading needs read permission; writing needs write permission (or ownership for trusted).
        c.as_user(BOB, "getfattr --only-values -n user.k a; echo; echo get=$?");
        c.as_user(BOB, "setfattr -n user.k -v bob a; echo set=$?");
        c.as_user(
            BOB,
            "setfattr -n user.k -v bob w; echo set=$?; getfattr --only-values -n user.k w; echo",
        );
        c.as_user(BOB, "setfattr -n trusted.k -v bob w; echo set=$?");
        c.as_user(
            ALICE,
            "chmod 200 a; getfattr --only-values -n user.k a; echo get=$?",
        );
        // The sticky-directory rule: in a sticky directory, user.* of another
        // user's file may be set only by its owner.
        c.rec("mkdir tmp", sys::mkdir(&c.p("tmp"), 0o777));
        c.rec("chmod tmp 1777", sys::chmod(&c.p("tmp"), 0o1777));
        c.as_user(
            ALICE,
            "cd tmp && mkdir ad && chmod 777 ad && setfattr -n user.k -v a ad; echo $?",
        );
        c.as_user(BOB, "cd tmp && setfattr -n user.k -v b ad; echo set=$?");
    });
}

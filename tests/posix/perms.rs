//! chmod and chown rules, set-id bits, setgid directory inheritance and
//! sticky directories, acted out by other users (`setpriv --reuid U --regid U
//! --clear-groups`) on an `allow_other` mount, against the same natively.

use std::fs;

use crate::diff::{ALICE, BOB, GROUP, differential};
use crate::sys;

/// `stat` output that must match: name, type, mode, owner.
const STAT: &str = "stat -c '%n %F %a %u %g'";

#[test]
fn chmod_rules() {
    differential("chmod_rules", |c| {
        c.rec("chmod . 0777", sys::chmod(&c.p("."), 0o777));
        c.as_user(
            ALICE,
            "umask 022; echo a > a; mkdir ad; chmod 640 a; echo $?",
        );
        c.as_user(BOB, "chmod 666 a; echo $?; chmod 777 ad; echo $?");
        // Owner may set any bit; set-gid on a file of a group the owner is
        // not in is dropped silently; sticky on a file is kept for root only
        // on some systems — compare.
        for mode in ["4755", "2755", "1755", "6777", "0", "7777"] {
            c.as_user(ALICE, &format!("chmod {mode} a; echo $?; {STAT} a"));
        }
        c.rec(
            "chown a to alice:group",
            sys::chown(&c.p("a"), ALICE, GROUP),
        );
        c.as_user(ALICE, &format!("chmod 2755 a; {STAT} a"));
        c.rec("chmod a 2755 as root", sys::chmod(&c.p("a"), 0o2755));
        c.stat("a");
        c.as_user(
            ALICE,
            &format!("chmod 1777 ad; {STAT} ad; chmod 2777 ad; {STAT} ad"),
        );
        // A symlink's mode cannot be changed; chmod follows it.
        c.as_user(ALICE, &format!("ln -s a la; chmod 600 la; {STAT} a la"));
        c.as_user(BOB, "chmod 600 la; echo $?");
    });
}

#[test]
fn chown_rules() {
    differential("chown_rules", |c| {
        c.rec("chmod . 0777", sys::chmod(&c.p("."), 0o777));
        c.as_user(ALICE, "echo a > a; mkdir ad; ln -s a la");
        // Non-root may not give files away, nor take them.
        c.as_user(ALICE, &format!("chown {BOB} a; echo $?"));
        c.as_user(BOB, &format!("chown {BOB} a; echo $?"));
        // The owner may change the group only to one of its own groups.
        c.as_user(
            ALICE,
            &format!("chgrp {ALICE} a; echo $?; chgrp {GROUP} a; echo $?"),
        );
        c.as_user(BOB, &format!("chgrp {BOB} a; echo $?"));
        // chown -1 -1 as the owner is allowed (no change).
        c.as_user(
            ALICE,
            "python3 -c \"import os; os.chown('a', -1, -1); print('ok')\"",
        );
        // Root: any owner; set-id bits of a regular file are cleared, a
        // directory's are kept.
        c.rec("chmod a 6755", sys::chmod(&c.p("a"), 0o6755));
        c.rec("chmod ad 3775", sys::chmod(&c.p("ad"), 0o3775));
        c.rec("chown a bob", sys::chown(&c.p("a"), BOB, BOB));
        c.stat("a");
        c.rec("chown ad bob", sys::chown(&c.p("ad"), BOB, BOB));
        c.stat("ad");
        // Set-gid without group execute (mandatory-locking mark) survives chown.
        c.rec("chmod a 2644", sys::chmod(&c.p("a"), 0o2644));
        c.rec("chown a alice", sys::chown(&c.p("a"), ALICE, ALICE));
        c.stat("a");
        // Owner chgrp clears set-id bits too.
        c.rec("chmod a 6755", sys::chmod(&c.p("a"), 0o6755));
        c.as_user(ALICE, &format!("chgrp {ALICE} a; {STAT} a"));
        // lchown changes the symlink, chown its target.
        c.rec("lchown la bob", sys::lchown(&c.p("la"), BOB, BOB));
        c.stat("la");
        c.stat("a");
        c.rec("chown la group", sys::chown(&c.p("la"), u32::MAX, GROUP));
        c.stat("la");
        c.stat("a");
        // Through an fd.
        let fd = sys::open(&c.p("a"), libc::O_RDONLY, 0).unwrap();
        c.rec("fchown a root", sys::fchown(fd, 0, 0));
        sys::close(fd).unwrap();
        c.stat("a");
    });
}

/// A file written by someone other than its owner loses set-uid (and
/// set-gid when group-executable), as the kernel's file_remove_privs does.
#[test]
fn write_clears_set_id_bits() {
    differential("write_kills_suid", |c| {
        c.rec("chmod . 0777", sys::chmod(&c.p("."), 0o777));
        c.as_user(
            ALICE,
            "echo a > a; echo b > b; echo g > g; chmod 4777 a; chmod 6777 b; chmod 2767 g",
        );
        c.as_user(BOB, &format!("echo more >> a; echo more >> b; {STAT} a b"));
        let g = c.as_user_unrecorded(BOB, &format!("echo more >> g; {STAT} g"));
        // Set-gid without group execute, written by someone outside the
        // file's group: Linux filesystems drop it (setattr_should_drop_sgid);
        // the kernel's FUSE layer keeps it, because without
        // FUSE_HANDLE_KILLPRIV(_V2) it clears set-gid only on group-executable
        // files (fs/fuse/dir.c, fuse_setattr). A FUSE limit, not galleryfs's.
        let want = if c.gallery() {
            "g regular file 2767"
        } else {
            "g regular file 767"
        };
        assert!(g.contains(want), "{g}");
        c.as_user(ALICE, &format!("chmod 4777 a; truncate -s 1 a; {STAT} a"));
        c.as_user(ALICE, "chmod 4777 a");
        c.as_user(BOB, &format!("truncate -s 0 a; {STAT} a"));
        // Root writing does not clear them (CAP_FSETID).
        c.rec("chmod a 6777", sys::chmod(&c.p("a"), 0o6777));
        fs::OpenOptions::new()
            .append(true)
            .open(c.p("a"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"root"))
            .unwrap();
        c.stat("a");
    });
}

#[test]
fn setgid_directory_inheritance() {
    differential("setgid_dir", |c| {
        c.rec("chmod . 0777", sys::chmod(&c.p("."), 0o777));
        c.rec("mkdir shared", sys::mkdir(&c.p("shared"), 0o777));
        c.rec(
            "chown shared to root:group",
            sys::chown(&c.p("shared"), 0, GROUP),
        );
        c.rec("chmod shared 2777", sys::chmod(&c.p("shared"), 0o2777));
        c.stat("shared");
        // New files take the directory's group; new directories also its set-gid bit.
        c.as_user(
            ALICE,
            &format!(
                "cd shared && echo f > f && mkdir d && mkdir d/deeper && mkfifo p && ln -s f l && {STAT} f d d/deeper p l"
            ),
        );
        // Set-gid asked by a creator outside the group is dropped.
        c.as_user(
            ALICE,
            &format!(
                "cd shared && python3 -c \"import os; os.close(os.open('sg', os.O_CREAT|os.O_WRONLY, 0o2775)); os.mkdir('sgd', 0o2775)\" && {STAT} sg sgd"
            ),
        );
        // Root creating inside.
        fs::write(c.p("shared/rootfile"), b"r").unwrap();
        c.stat("shared/rootfile");
        c.rec(
            "mkdir shared/rootdir 0700",
            sys::mkdir(&c.p("shared/rootdir"), 0o700),
        );
        c.stat("shared/rootdir");
        // Moving a file in keeps its group (only creation inherits).
        c.as_user(
            ALICE,
            &format!("echo m > m && mv m shared/m && {STAT} shared/m"),
        );
        // A hard link keeps the inode's group.
        c.as_user(
            ALICE,
            &format!("echo h > h && ln h shared/h && {STAT} shared/h"),
        );
        // Without the set-gid bit the creator's group applies again.
        c.rec("chmod shared 0777", sys::chmod(&c.p("shared"), 0o777));
        c.as_user(
            ALICE,
            &format!("cd shared && echo x > x && mkdir xd && {STAT} x xd"),
        );
    });
}

#[test]
fn sticky_directory_rules() {
    differential("sticky_dir", |c| {
        c.rec("mkdir tmp", sys::mkdir(&c.p("tmp"), 0o777));
        c.rec("chmod tmp 1777", sys::chmod(&c.p("tmp"), 0o1777));
        c.as_user(
            ALICE,
            "cd tmp && echo a > a && echo a2 > a2 && mkdir ad && chmod 666 a",
        );
        c.as_user(BOB, "cd tmp && echo b > b");
        // Bob may not remove or rename Alice's names, even writable ones.
        c.as_user(
            BOB,
            "cd tmp; rm -f a; echo rm=$?; mv a x; echo mv=$?; rmdir ad; echo rmdir=$?",
        );
        c.as_user(BOB, "cd tmp; mv b a2; echo mv-over=$?; ls");
        c.as_user(BOB, "cd tmp; echo more >> a; echo write=$?");
        // Alice may remove her own; Bob his own; Alice not Bob's.
        c.as_user(
            ALICE,
            "cd tmp; rm a2; echo rm=$?; rm -f b; echo rm-b=$?; ls",
        );
        c.as_user(BOB, "cd tmp; mv b b2; echo mv=$?; rm b2; echo rm=$?; ls");
        // The directory's owner may remove anything.
        c.rec("chown tmp bob", sys::chown(&c.p("tmp"), BOB, BOB));
        c.rec("chmod tmp 1777", sys::chmod(&c.p("tmp"), 0o1777));
        c.as_user(
            BOB,
            "cd tmp; rm -f a; echo rm=$?; rmdir ad; echo rmdir=$?; ls",
        );
        c.list("tmp");
        // Root may remove anything.
        c.as_user(ALICE, "cd tmp && echo z > z");
        c.rec("unlink tmp/z as root", sys::unlink(&c.p("tmp/z")));
        c.list("tmp");
    });
}

#[test]
fn directory_permissions() {
    differential("dir_perms", |c| {
        c.rec("chmod . 0777", sys::chmod(&c.p("."), 0o777));
        c.as_user(ALICE, "mkdir ro rx wx; echo f > ro/f; echo f > rx/f; echo f > wx/f; chmod 555 ro; chmod 500 rx; chmod 300 wx");
        // As the owner, then as another user.
        for who in [ALICE, BOB] {
            c.as_user(
                who,
                "ls ro; echo ls=$?; echo new > ro/new; echo create=$?; rm -f ro/f; echo rm=$?",
            );
            c.as_user(who, "ls wx; echo ls=$?; cat wx/f; echo cat=$?; echo n > wx/n; echo create=$?; rm wx/n; echo rm=$?");
            c.as_user(who, "cat rx/f; echo cat=$?; mkdir rx/d; echo mkdir=$?");
        }
        c.as_user(BOB, "echo x > private; chmod 600 private");
        c.as_user(
            ALICE,
            "cat private; echo cat=$?; echo y >> private; echo append=$?",
        );
        c.as_user(
            ALICE,
            "test -r private; echo r=$?; test -w private; echo w=$?; test -x rx; echo x=$?",
        );
    });
}

/// umask applies to every kind of creation (in a thread with its own umask).
#[test]
fn umask_applies() {
    differential("umask", |c| {
        let dir = c.dir().to_path_buf();
        let log = std::thread::spawn(move || {
            sys::unshare_fs().unwrap();
            sys::umask(0o027);
            let mut out = Vec::new();
            let fd = sys::open(&dir.join("f"), libc::O_CREAT | libc::O_WRONLY, 0o777).unwrap();
            sys::close(fd).unwrap();
            sys::mkdir(&dir.join("d"), 0o777).unwrap();
            sys::mkfifo(&dir.join("p"), 0o777).unwrap();
            sys::mknod(&dir.join("n"), libc::S_IFREG | 0o666, 0).unwrap();
            for n in ["f", "d", "p", "n"] {
                let st = sys::lstat(&dir.join(n)).unwrap();
                out.push(format!("{n}: {:04o}", st.st_mode & 0o7777));
            }
            out
        })
        .join()
        .unwrap();
        for line in log {
            c.note(line);
        }
    });
}

//! The first row, for metadata: chmod, chown, touch, truncate, fallocate and
//! xattrs in `gallery/` pass through, and files belong to whoever created
//! them while entries keep their owner.

use super::*;

#[test]
fn metadata_changes_pass_through() {
    let m = Mount::new();
    let (g, sg) = (m.gallery(), storage_gallery(&m));
    write(&g.join("f"), b"0123456789");

    chmod(&g.join("f"), 0o751);
    assert_eq!(meta(&g.join("f")).mode, 0o751);
    assert_eq!(meta(&sg.join("f")).mode, 0o751);

    std::os::unix::fs::chown(g.join("f"), Some(USER), Some(USER)).unwrap();
    assert_eq!(
        (meta(&g.join("f")).uid, meta(&g.join("f")).gid),
        (USER, USER)
    );
    assert_eq!(
        (meta(&sg.join("f")).uid, meta(&sg.join("f")).gid),
        (USER, USER)
    );

    // A symlink is changed itself, never its target.
    std::os::unix::fs::symlink("f", g.join("s")).unwrap();
    chown(&g.join("s"), USER + 1, USER + 1);
    assert_eq!(meta(&g.join("s")).uid, USER + 1);
    assert_eq!(meta(&sg.join("s")).uid, USER + 1);
    assert_eq!(
        meta(&g.join("f")).uid,
        USER,
        "lchown changed the symlink's target"
    );

    touch_d(&g.join("f"), "2001-02-03 04:05:06.789 UTC");
    let f = lstat(&g.join("f"));
    assert_eq!(
        (f.mtime(), f.mtime_nsec()),
        (981_173_106, 789_000_000),
        "mtime after touch -d"
    );
    assert_eq!(
        (f.atime(), f.atime_nsec()),
        (981_173_106, 789_000_000),
        "atime after touch -d"
    );
    assert_eq!(
        meta(&sg.join("f")).mtime,
        (981_173_106, 789_000_000),
        "backing mtime"
    );
    touch_d(&g.join("s"), "1999-12-31 23:59:59 UTC");
    assert_eq!(
        meta(&g.join("s")).mtime,
        (946_684_799, 0),
        "touch -h on a symlink"
    );
    assert_eq!(
        meta(&sg.join("s")).mtime,
        (946_684_799, 0),
        "backing symlink mtime"
    );
    assert_eq!(
        meta(&g.join("f")).mtime,
        (981_173_106, 789_000_000),
        "touch -h changed the target"
    );
    ok(Command::new("touch").arg(g.join("f")));
    assert!(
        lstat(&g.join("f")).mtime() > 1_600_000_000,
        "plain touch sets the time to now"
    );

    ok(Command::new("truncate").arg("-s").arg("4").arg(g.join("f")));
    assert_eq!(read(&g.join("f")), b"0123");
    assert_eq!(read(&sg.join("f")), b"0123");
    ok(Command::new("truncate")
        .arg("-s")
        .arg("100")
        .arg(g.join("f")));
    assert_eq!(lstat(&g.join("f")).len(), 100);
    let mut expect = b"0123".to_vec();
    expect.resize(100, 0);
    assert_eq!(read(&g.join("f")), expect);
    let file = OpenOptions::new().write(true).open(g.join("f")).unwrap();
    file.set_len(2).unwrap();
    drop(file);
    assert_eq!(read(&g.join("f")), b"01", "ftruncate through an open file");
    assert_eq!(lstat(&sg.join("f")).len(), 2);

    ok(Command::new("fallocate")
        .arg("-l")
        .arg("1MiB")
        .arg(g.join("alloc")));
    let a = lstat(&g.join("alloc"));
    assert_eq!(a.len(), 1 << 20, "fallocate size");
    assert!(
        a.blocks() >= 2048,
        "fallocate allocated only {} blocks",
        a.blocks()
    );
    assert_eq!(lstat(&sg.join("alloc")).len(), 1 << 20);
    ok(Command::new("fallocate")
        .arg("-p")
        .arg("-o")
        .arg("0")
        .arg("-l")
        .arg("512KiB")
        .arg(g.join("alloc")));
    assert_eq!(
        lstat(&g.join("alloc")).len(),
        1 << 20,
        "punching a hole keeps the size"
    );
    assert!(
        lstat(&sg.join("alloc")).blocks() < 2048,
        "punching a hole frees blocks"
    );

    ok(Command::new("setfattr")
        .args(["-n", "user.foo", "-v", "bar"])
        .arg(g.join("f")));
    let got = ok(Command::new("getfattr")
        .args(["--only-values", "-n", "user.foo"])
        .arg(g.join("f")));
    assert_eq!(got, "bar");
    assert_eq!(
        xattr::get_opt(&sg.join("f"), "user.foo").as_deref(),
        Some(&b"bar"[..]),
        "backing xattr"
    );
    assert!(xattr::names(&g.join("f")).contains("user.foo"));
    mkdir_p(&g.join("dir"));
    xattr::set(&g.join("dir"), "user.dirattr", b"on a dir").unwrap();
    assert_eq!(
        xattr::get_opt(&g.join("dir"), "user.dirattr").as_deref(),
        Some(&b"on a dir"[..])
    );
    ok(Command::new("setfattr")
        .args(["-x", "user.foo"])
        .arg(g.join("f")));
    assert_eq!(xattr::get_opt(&g.join("f"), "user.foo"), None);
    assert_eq!(xattr::get_opt(&sg.join("f"), "user.foo"), None);
    fails(
        Command::new("getfattr")
            .args(["-n", "user.foo"])
            .arg(g.join("f")),
    );
    let path = cpath(&g.join("f"));
    // SAFETY: valid C strings.
    let removed = check(unsafe { libc::lremovexattr(path.as_ptr(), c"user.foo".as_ptr()) });
    assert_errno("removexattr of a missing xattr", removed, libc::ENODATA);
}

#[test]
fn files_belong_to_their_creator_and_entries_to_their_owner() {
    let m = Mount::with_options(&["allow_other"]);
    // The temp dir is root's and private: let other users reach the mount.
    chmod(m.base.path(), 0o755);
    chmod(&m.gallery(), 0o1777);
    let as_user = |uid: u32, script: &str| {
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={uid}"))
            .arg(format!("--regid={uid}"))
            .arg("--clear-groups")
            .args(["sh", "-c", script])
            .current_dir(&m.mountpoint);
        run(&mut cmd)
    };
    let out = as_user(
        USER,
        "umask 022 && echo x > gallery/f && mkdir gallery/d && ln -s f gallery/s && mkfifo gallery/p",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["f", "d", "s", "p"] {
        let md = meta(&m.gallery().join(name));
        assert_eq!(
            (md.uid, md.gid),
            (USER, USER),
            "owner of {name} created by uid {USER}"
        );
        assert_eq!(
            (meta(&storage_gallery(&m).join(name)).uid),
            USER,
            "backing owner of {name}"
        );
    }
    assert_eq!(meta(&m.gallery().join("f")).mode, 0o644);
    // A setgid directory passes its group on.
    mkdir_p(&m.gallery().join("shared"));
    chown(&m.gallery().join("shared"), 0, 4242);
    chmod(&m.gallery().join("shared"), 0o2777);
    assert!(
        as_user(
            USER,
            "echo y > gallery/shared/g && mkdir gallery/shared/sub"
        )
        .status
        .success()
    );
    assert_eq!(
        meta(&m.gallery().join("shared/g")).gid,
        4242,
        "group in a setgid dir"
    );
    assert_eq!(
        meta(&m.gallery().join("shared/sub")).mode & 0o2000,
        0o2000,
        "setgid inherited by a subdir"
    );

    assert!(as_user(USER, "rm gallery/f").status.success());
    assert_eq!(meta(&m.trash().join("f")).uid, USER);
    // Sticky .trash: another user can neither restore nor purge it.
    let other = 65534;
    let out = as_user(other, "mv .trash/f gallery/stolen");
    assert!(
        !out.status.success(),
        "another user restored someone's entry"
    );
    let out = as_user(other, "rm -f .trash/f");
    assert!(!out.status.success(), "another user purged someone's entry");
    assert_eq!(read(&m.trash().join("f")), b"x\n");
    let out = as_user(USER, "mv .trash/f gallery/f");
    assert!(
        out.status.success(),
        "the owner cannot restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&m.gallery().join("f")), b"x\n");
}

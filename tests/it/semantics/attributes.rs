//! The trash attributes (`user.trash.original_path`, `deleted_at`,
//! `expires_at`, `days_left`) and their persistence across a remount.

use super::*;

// ---- 13. trash attributes ----------------------------------------------------------

#[test]
fn entries_carry_the_trash_attributes() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("albums/2026"));
    let f = g.join("albums/2026/cat.jpg");
    write(&f, b"meow");
    xattr::set(&f, "user.own", b"mine").unwrap();
    assert!(
        xattr::trash_names(&f).is_empty(),
        "a gallery file lists trash attributes"
    );
    assert_eq!(
        xattr::get_opt(&f, "user.trash.original_path"),
        None,
        "a gallery file has trash attributes"
    );
    let before = Utc::now().timestamp();
    rm(&f);
    let after = Utc::now().timestamp();

    let e = t.join("cat.jpg");
    let mut expected: BTreeSet<String> = TRASH_XATTRS.iter().map(|s| s.to_string()).collect();
    expected.insert("user.own".into());
    // This test's thread deleted it: the deleter is known.
    expected.insert("user.trash.deleted_by".into());
    assert_eq!(xattr::names(&e), expected, "listxattr of an entry");
    assert_eq!(
        xattr::get_string(&e, "user.trash.original_path"),
        "albums/2026/cat.jpg"
    );
    let deleted = time_xattr(&e, "user.trash.deleted_at");
    assert!(
        (before..=after).contains(&deleted.timestamp()),
        "deleted_at {deleted} is not between {before} and {after}"
    );
    let expires = time_xattr(&e, "user.trash.expires_at");
    assert_eq!(
        (expires - deleted).num_seconds(),
        30 * SECS_PER_DAY,
        "default retention"
    );
    assert_eq!(xattr::get_string(&e, "user.trash.days_left"), "30d");
    assert_eq!(xattr::get_string(&e, "user.trash.reason"), "deleted");
    // The `rm` that deleted it: its thread id and start time.
    let by = xattr::get_string(&e, "user.trash.deleted_by");
    let (pid, start) = by.split_once(':').expect("PID:START");
    assert!(
        pid.parse::<u32>().unwrap() > 0 && start.parse::<u64>().is_ok(),
        "{by}"
    );

    let dump = ok(Command::new("getfattr").arg("-d").arg(&e));
    for line in [
        "user.own=\"mine\"",
        "user.trash.original_path=\"albums/2026/cat.jpg\"",
        "user.trash.days_left=\"30d\"",
        "user.trash.reason=\"deleted\"",
    ] {
        assert!(
            dump.lines().any(|l| l == line),
            "getfattr -d lacks {line}:\n{dump}"
        );
    }
    assert!(dump.contains(&format!(
        "user.trash.deleted_at=\"{}\"",
        deleted.format("%Y-%m-%dT%H:%M:%SZ")
    )));

    // A trashed directory is an entry too; what is inside it is not.
    mkdir_p(&g.join("d"));
    write(&g.join("d/inner"), b"i");
    mv(&g.join("d"), &t.join("D"));
    assert_eq!(xattr::trash_names(&t.join("D")).len(), 6);
    assert_eq!(
        xattr::get_string(&t.join("D"), "user.trash.original_path"),
        "d"
    );
    assert!(xattr::trash_names(&t.join("D/inner")).is_empty());

    // Reserved on gallery files, and gone once restored.
    write(&g.join("plain"), b"p");
    let err = fails(
        Command::new("setfattr")
            .args(["-n", "user.trash.x", "-v", "1"])
            .arg(g.join("plain")),
    );
    assert!(
        !err.is_empty(),
        "setfattr of a reserved name failed silently"
    );
    xattr::set(&g.join("plain"), "user.trash.original_path", b"forged")
        .expect_err("a forged trash attribute was accepted");
    assert!(
        xattr::names(&g.join("plain")).is_empty(),
        "{:?}",
        xattr::names(&g.join("plain"))
    );
    assert!(xattr::names(&storage_gallery(&m).join("plain")).is_empty());
    // Copies carry the file's own attributes; the gallery drops the trash's quietly.
    ok(Command::new("cp").arg("-a").arg(&e).arg(g.join("copy.jpg")));
    assert_eq!(
        xattr::names(&g.join("copy.jpg")),
        BTreeSet::from(["user.own".to_owned()])
    );
    mv(&e, &g.join("back.jpg"));
    assert_eq!(
        xattr::names(&g.join("back.jpg")),
        BTreeSet::from(["user.own".to_owned()])
    );
}

#[test]
fn days_left_and_expires_at_follow_the_retention() {
    for (retention, secs, days_left) in [
        ("3s", 3, "1d"),
        ("12h", 12 * 3600, "1d"),
        ("40d", 40 * SECS_PER_DAY, "40d"),
    ] {
        let option = format!("retention={retention}");
        let m = Mount::with_options(&[&option]);
        write(&m.gallery().join("f"), b"f");
        rm(&m.gallery().join("f"));
        let e = m.trash().join("f");
        let deleted = time_xattr(&e, "user.trash.deleted_at");
        let expires = time_xattr(&e, "user.trash.expires_at");
        assert_eq!(
            (expires - deleted).num_seconds(),
            secs,
            "expires_at - deleted_at with {option}"
        );
        assert_eq!(
            xattr::get_string(&e, "user.trash.days_left"),
            days_left,
            "days_left with {option}"
        );
    }
}

#[test]
fn special_file_entries_list_only_attributes_they_can_show() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    std::os::unix::fs::symlink("target", g.join("lnk")).unwrap();
    ok(Command::new("mkfifo").arg(g.join("fifo")));
    rm(&g.join("lnk"));
    rm(&g.join("fifo"));
    assert_eq!(fs::read_link(t.join("lnk")).unwrap(), Path::new("target"));
    assert!(lstat(&t.join("fifo")).file_type().is_fifo());
    // Linux allows user.* xattrs only on regular files and directories, so
    // listing them on a symlink or fifo would name attributes nobody can read.
    for e in ["lnk", "fifo"] {
        let out = run(Command::new("getfattr").arg("-h").arg("-d").arg(t.join(e)));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "getfattr -h -d .trash/{e}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for name in xattr::names(&t.join(e)) {
            assert!(
                xattr::get_opt(&t.join(e), &name).is_some(),
                "{e} lists {name} but has no such attribute"
            );
        }
    }
    mv(&t.join("lnk"), &g.join("lnk"));
    assert_eq!(fs::read_link(g.join("lnk")).unwrap(), Path::new("target"));
}

#[test]
fn days_left_counts_down_to_1d() {
    let mut m = Mount::new();
    for name in ["fresh", "half", "last"] {
        write(&m.gallery().join(name), name.as_bytes());
        rm(&m.gallery().join(name));
    }
    m.unmount();
    // Age the entries as if days had passed (the catalog is plain SQLite).
    let db = rusqlite::Connection::open(m.storage.join("galleryfs.db")).expect("open the catalog");
    for (name, aged) in [
        ("half", 15 * SECS_PER_DAY + 60),
        ("last", 30 * SECS_PER_DAY - 3600),
    ] {
        let n = db
            .execute(
                "UPDATE entries SET deleted_at = deleted_at - ?1 WHERE name = ?2",
                rusqlite::params![aged, name.as_bytes()],
            )
            .expect("age an entry");
        assert_eq!(n, 1, "no catalog row for {name}");
    }
    drop(db);
    m.mount();
    for (name, left) in [("fresh", "30d"), ("half", "15d"), ("last", "1d")] {
        assert_eq!(
            xattr::get_string(&m.trash().join(name), "user.trash.days_left"),
            left,
            "days_left of {name}"
        );
    }
}

// ---- 14. persistence ---------------------------------------------------------------

#[test]
fn entries_and_their_attributes_survive_a_remount() {
    let mut m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("a"));
    write(&g.join("a/f"), b"file");
    xattr::set(&g.join("a/f"), "user.own", b"mine").unwrap();
    mkdir_p(&g.join("d/sub"));
    write(&g.join("d/sub/x"), b"x");
    rm(&g.join("a/f"));
    mv(&g.join("d"), &t.join("D"));
    let snapshot = |e: &Path| -> BTreeMap<String, Vec<u8>> {
        xattr::names(e)
            .into_iter()
            .map(|n| (n.clone(), xattr::get_opt(e, &n).unwrap()))
            .collect()
    };
    let (f_attrs, d_attrs) = (snapshot(&t.join("f")), snapshot(&t.join("D")));
    let f_meta = meta(&t.join("f"));

    m.remount();

    assert_eq!(
        names(&t),
        name_set(&["D", "f"]),
        "entries after remount; log:\n{}",
        m.log()
    );
    assert!(ls_a(&m.mountpoint).contains(&".trash".to_owned()));
    assert_eq!(read(&t.join("f")), b"file");
    assert_eq!(read(&t.join("D/sub/x")), b"x");
    assert_eq!(snapshot(&t.join("f")), f_attrs, "xattrs of f after remount");
    assert_eq!(snapshot(&t.join("D")), d_attrs, "xattrs of D after remount");
    assert_eq!(meta(&t.join("f")), f_meta);

    // Retention is read at mount: it changes expires_at of existing entries.
    m.options = vec!["retention=40d".into()];
    m.remount();
    let deleted = time_xattr(&t.join("f"), "user.trash.deleted_at");
    let expires = time_xattr(&t.join("f"), "user.trash.expires_at");
    assert_eq!((expires - deleted).num_seconds(), 40 * SECS_PER_DAY);
    assert_eq!(
        xattr::get_string(&t.join("f"), "user.trash.days_left"),
        "40d"
    );

    mv(&t.join("f"), &g.join("a/f"));
    assert_eq!(meta(&g.join("a/f")), f_meta, "restore after remount");
    assert_eq!(
        xattr::get_opt(&g.join("a/f"), "user.own").as_deref(),
        Some(&b"mine"[..])
    );
}

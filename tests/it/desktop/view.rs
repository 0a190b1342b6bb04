//! The `.Trash-UID` view itself: per-user, expiring with the entries, unlisted
//! but reachable, exact `.trashinfo` files claimed with `O_EXCL`, and
//! renames inside the mount that never answer EXDEV.

use super::*;

// ---- users, expiry ------------------------------------------------------

#[test]
fn a_second_uid_sees_only_its_own_entries_and_cannot_open_anothers() {
    let m = shared_mount();
    write(&m.gallery().join("root.jpg"), b"r");
    fs::remove_file(m.gallery().join("root.jpg")).unwrap();
    // A home for the user, for GIO.
    let home = m.base.path().join("home");
    fs::create_dir(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(USER), Some(USER)).unwrap();

    let mine = as_user(
        &m,
        USER,
        &format!(
            "unset DBUS_SESSION_BUS_ADDRESS
             echo u > gallery/u.jpg && rm gallery/u.jpg &&
             echo g > gallery/g.jpg && gio trash gallery/g.jpg &&
             stat -c '%u %a' .Trash-{USER} .Trash-{USER}/files .Trash-{USER}/info &&
             echo '== files' && ls -A .Trash-{USER}/files &&
             echo '== info' && ls -A .Trash-{USER}/info &&
             echo '== content' && cat .Trash-{USER}/info/u.jpg.trashinfo"
        ),
        &[("HOME", &home), ("XDG_DATA_HOME", &home)],
    );
    let out = String::from_utf8_lossy(&mine.stdout);
    assert!(mine.status.success(), "{mine:?}");
    assert_eq!(
        out.lines().take(3).collect::<Vec<_>>(),
        vec![format!("{USER} 700"); 3],
        "owned by the user, private:\n{out}"
    );
    assert_eq!(section(&out, "files"), "g.jpg\nu.jpg\n");
    assert_eq!(section(&out, "info"), "g.jpg.trashinfo\nu.jpg.trashinfo\n");
    assert!(
        section(&out, "content").contains("\nPath=gallery/u.jpg\n"),
        "{out}"
    );
    assert_eq!(
        getfattr(&m.trash().join("g.jpg"), "user.trash.original_path"),
        "g.jpg"
    );

    for script in [
        "ls .Trash-0",
        "ls .Trash-0/files",
        "cat .Trash-0/info/root.jpg.trashinfo",
    ] {
        let theirs = as_user(&m, USER, script, &[]);
        let err = String::from_utf8_lossy(&theirs.stderr);
        assert!(
            !theirs.status.success() && err.contains("Permission denied"),
            "{script} as uid {USER}: {theirs:?}"
        );
        assert!(theirs.stdout.is_empty(), "{script}: {theirs:?}");
    }

    // And root's own view holds only root's entry.
    assert_eq!(names(&trash_dir(&m).join("files")), ["root.jpg"]);
    assert_eq!(names(&trash_dir(&m).join("info")), ["root.jpg.trashinfo"]);
    assert_eq!(names(&m.trash()), ["g.jpg", "root.jpg", "u.jpg"]);
}

#[test]
fn expiry_removes_entries_from_files_and_info() {
    let m = Mount::with_options(&["retention=3s", "sweep=1s"]);
    let c = Clients::new();
    let view = trash_dir(&m);
    write(&m.gallery().join("old.jpg"), b"o");
    fs::remove_file(m.gallery().join("old.jpg")).unwrap();
    // The kernel now caches both names.
    assert_eq!(names(&view.join("files")), ["old.jpg"]);
    assert_eq!(names(&view.join("info")), ["old.jpg.trashinfo"]);
    assert!(view.join("files/old.jpg").exists());
    assert!(view.join("info/old.jpg.trashinfo").exists());

    wait_until("old.jpg to expire from the view", || {
        !view.join("files/old.jpg").exists()
            && !view.join("info/old.jpg.trashinfo").exists()
            && names(&view.join("files")).is_empty()
            && names(&view.join("info")).is_empty()
    });
    assert!(names(&m.trash()).is_empty());
    let out = c.gio(&m, "echo '== list'; gio trash --list");
    assert!(gio_entries(&m, section(&out, "list")).is_empty(), "{out}");
}

// ---- the view through the filesystem ------------------------------------

#[test]
fn the_view_is_unlisted_but_resolves_and_its_directories_exist() {
    let m = Mount::new();
    let view = trash_dir(&m);
    write(&m.gallery().join("a.jpg"), b"a");
    fs::remove_file(m.gallery().join("a.jpg")).unwrap();

    assert_eq!(names(&m.mountpoint), [".trash", "gallery"]);
    let md = fs::symlink_metadata(&view).unwrap();
    assert!(md.is_dir());
    assert_eq!((md.uid(), md.mode() & 0o7777), (my_uid(), 0o700));
    let mut inside = names(&view);
    inside.retain(|n| n == "files" || n == "info");
    assert_eq!(inside, ["files", "info"]);
    for dir in [view.clone(), view.join("files"), view.join("info")] {
        assert_eq!(
            errno_of(fs::create_dir(&dir)),
            Some(libc::EEXIST),
            "mkdir {}",
            dir.display()
        );
    }
    assert_eq!(
        errno_of(fs::symlink_metadata(m.mountpoint.join(".Trash"))),
        Some(libc::ENOENT),
        "no shared .Trash: GIO would prefer it"
    );
}

#[test]
fn trashinfo_is_exact_in_local_time_with_a_percent_encoded_path() {
    // A zone far from UTC, with half hours, so local time is really local.
    let m = Mount::with_env(&[], &[("TZ", "IST-5:30")]);
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    let name = "cat photo é&%.jpg";
    write(&m.gallery().join("albums").join(name), b"meow");
    fs::remove_file(m.gallery().join("albums").join(name)).unwrap();

    let info = trash_dir(&m).join("info").join(format!("{name}.trashinfo"));
    let content = fs::read_to_string(&info).unwrap();
    let deleted = deleted_at(&m.trash().join(name));
    let date = deleted.with_timezone(&ist).format("%Y-%m-%dT%H:%M:%S");
    assert_eq!(
        content,
        format!(
            "[Trash Info]\nPath=gallery/albums/cat%20photo%20%C3%A9%26%25.jpg\nDeletionDate={date}\n"
        )
    );
    let md = fs::metadata(&info).unwrap();
    assert_eq!(
        md.len(),
        content.len() as u64,
        "size matches what read gives"
    );
    assert_eq!(md.mtime(), deleted.timestamp(), "mtime is the deletion");
    // Read in small pieces, as GKeyFile and Python may.
    let mut f = fs::File::open(&info).unwrap();
    let mut pieces = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        pieces.extend_from_slice(&buf[..n]);
    }
    assert_eq!(pieces, content.as_bytes());
}

#[test]
fn info_files_are_claimed_with_o_excl_and_give_way_to_the_entry() {
    let m = Mount::new();
    let info = trash_dir(&m).join("info");
    let create = |name: &str| {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(info.join(name))
    };
    write(&m.gallery().join("taken.jpg"), b"t");
    fs::remove_file(m.gallery().join("taken.jpg")).unwrap();
    assert_eq!(
        errno_of(create("taken.jpg.trashinfo")),
        Some(libc::EEXIST),
        "an entry holds the name"
    );

    // A client's claim: kept, readable, exclusive, released by unlink.
    let written = b"[Trash Info]\nPath=gallery/free.jpg\nDeletionDate=2000-01-01T00:00:00\n";
    create("free.jpg.trashinfo")
        .unwrap()
        .write_all(written)
        .unwrap();
    assert_eq!(fs::read(info.join("free.jpg.trashinfo")).unwrap(), written);
    assert_eq!(
        errno_of(create("free.jpg.trashinfo")),
        Some(libc::EEXIST),
        "claimed"
    );
    fs::remove_file(info.join("free.jpg.trashinfo")).unwrap();
    assert_eq!(
        errno_of(fs::metadata(info.join("free.jpg.trashinfo"))),
        Some(libc::ENOENT)
    );

    // Claim, move the file in: galleryfs's own info file replaces the
    // client's at once (no ENOENT while the kernel still caches the name).
    create("free.jpg.trashinfo")
        .unwrap()
        .write_all(written)
        .unwrap();
    write(&m.gallery().join("sub/free.jpg"), b"f");
    fs::rename(
        m.gallery().join("sub/free.jpg"),
        trash_dir(&m).join("files/free.jpg"),
    )
    .unwrap();
    let deleted = deleted_at(&m.trash().join("free.jpg"));
    let expected = format!(
        "[Trash Info]\nPath=gallery/sub/free.jpg\nDeletionDate={}\n",
        local(deleted, "%Y-%m-%dT%H:%M:%S")
    );
    assert_eq!(
        fs::read_to_string(info.join("free.jpg.trashinfo")).unwrap(),
        expected
    );
    assert_eq!(
        fs::metadata(info.join("free.jpg.trashinfo")).unwrap().len(),
        expected.len() as u64
    );
    assert_eq!(
        getfattr(&m.trash().join("free.jpg"), "user.trash.original_path"),
        "sub/free.jpg"
    );
}

#[test]
fn renames_inside_the_mount_never_answer_exdev() {
    let m = Mount::new();
    let g = m.gallery();
    let view = trash_dir(&m);
    for name in ["a.jpg", "b.jpg", "c.jpg", "d.jpg"] {
        write(&g.join(name), name.as_bytes());
    }
    fs::create_dir(g.join("back")).unwrap();
    let mut results = Vec::new();
    let mut rename = |from: PathBuf, to: PathBuf| {
        let r = fs::rename(&from, &to);
        results.push((from, to, r.as_ref().err().and_then(|e| e.raw_os_error())));
        r
    };

    // What the clients do.
    rename(g.join("a.jpg"), view.join("files/a.jpg")).expect("trash into files/");
    rename(view.join("files/a.jpg"), g.join("back/a.jpg")).expect("restore from files/");
    rename(g.join("b.jpg"), m.trash().join("b.jpg")).expect("trash into .trash/");
    rename(m.trash().join("b.jpg"), view.join("files/b2.jpg")).expect("rename an entry");
    rename(view.join("files/b2.jpg"), m.trash().join("b3.jpg")).expect("rename an entry");
    fs::create_dir(view.join("expunged")).unwrap();
    rename(view.join("files/b3.jpg"), view.join("expunged/k")).expect("gvfsd-trash's delete");
    fs::write(view.join("info/c.jpg.trashinfo.ABC123"), b"x").unwrap();
    rename(
        view.join("info/c.jpg.trashinfo.ABC123"),
        view.join("info/c.jpg.trashinfo"),
    )
    .expect("GIO's temporary info file");
    // And what makes no sense: refused, but never with EXDEV.
    let _ = rename(g.join("c.jpg"), view.join("info/c.jpg"));
    let _ = rename(g.join("d.jpg"), view.join("d.jpg"));
    let _ = rename(view.join("info/c.jpg.trashinfo"), g.join("c.trashinfo"));
    let _ = rename(view.join("files"), g.join("files"));

    for (from, to, errno) in &results {
        assert_ne!(
            *errno,
            Some(libc::EXDEV),
            "{} → {}",
            from.display(),
            to.display()
        );
    }
    assert_eq!(fs::read(g.join("back/a.jpg")).unwrap(), b"a.jpg");
    assert!(names(&m.trash()).is_empty(), "b3 was purged");
    assert!(names(&m.storage.join("trash")).is_empty());
    assert!(g.join("c.jpg").exists() && g.join("d.jpg").exists());
    assert!(names(&view.join("expunged")).is_empty());
}

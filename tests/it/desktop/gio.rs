//! GIO (`gio trash`, as every GIO file manager trashes) with gvfsd-trash:
//! moving to the trash, listing, restoring, emptying.

use super::*;
use galleryfs_testkit::fsutil::rmdir_elsewhere;

// ---- GIO ----------------------------------------------------------------

#[test]
fn gio_trash_moves_files_into_the_galleryfs_trash() {
    let m = Mount::new();
    let c = Clients::new();
    write(&m.gallery().join("albums/x.jpg"), b"x data");
    write(&m.gallery().join("trip/a.jpg"), b"a");
    write(&m.gallery().join("trip/sub/b.jpg"), b"b");

    // gvfsd-trash is already running when `gio trash` moves the file, and
    // lists right after it: the info file must never vanish in between.
    let out = c.gio(
        &m,
        "gio trash --list >/dev/null
         gio trash \"$MNT/gallery/albums/x.jpg\" \"$MNT/gallery/trip\"
         echo '== list'
         gio trash --list",
    );
    // Another x.jpg: GIO finds `info/x.jpg.trashinfo` taken (EEXIST) and
    // names the entry x.2.jpg.
    write(&m.gallery().join("albums/x.jpg"), b"x again");
    let again = c.gio(
        &m,
        "gio trash \"$MNT/gallery/albums/x.jpg\"
         echo '== list'
         gio trash --list",
    );

    assert!(!m.gallery().join("albums/x.jpg").exists());
    assert!(m.gallery().join("albums").is_dir(), "the folder stays");
    assert!(!m.gallery().join("trip").exists());
    assert_eq!(names(&m.trash()), ["trip", "x.2.jpg", "x.jpg"]);
    assert_eq!(fs::read(m.trash().join("x.jpg")).unwrap(), b"x data");
    assert_eq!(fs::read(m.trash().join("x.2.jpg")).unwrap(), b"x again");
    assert_eq!(
        getfattr(&m.trash().join("x.2.jpg"), "user.trash.original_path"),
        "albums/x.jpg"
    );
    assert_eq!(fs::read(m.trash().join("trip/sub/b.jpg")).unwrap(), b"b");
    assert_eq!(
        getfattr(&m.trash().join("x.jpg"), "user.trash.original_path"),
        "albums/x.jpg"
    );
    assert_eq!(
        getfattr(&m.trash().join("trip"), "user.trash.original_path"),
        "trip"
    );

    let items = gallery_trash_list(&m);
    let mut listed: Vec<(&str, &str)> = items
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap(),
                v["original_path"].as_str().unwrap(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("trip", "trip"),
            ("x.2.jpg", "albums/x.jpg"),
            ("x.jpg", "albums/x.jpg")
        ]
    );

    let mnt = m.mountpoint.display();
    let mut shown: Vec<String> = gio_entries(&m, section(&out, "list"))
        .into_iter()
        .map(|(_, orig)| orig)
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        [
            format!("{mnt}/gallery/albums/x.jpg"),
            format!("{mnt}/gallery/trip"),
        ],
        "gio trash --list:\n{out}"
    );
    let x = format!("{mnt}/gallery/albums/x.jpg");
    let xs: Vec<String> = gio_entries(&m, section(&again, "list"))
        .into_iter()
        .filter(|(_, orig)| *orig == x)
        .map(|(uri, _)| uri)
        .collect();
    assert_eq!(xs.len(), 2, "two entries from albums/x.jpg:\n{again}");
    assert!(xs.iter().any(|u| u.ends_with("x.2.jpg")), "{xs:?}");
    assert_eq!(
        names(&trash_dir(&m).join("files")),
        ["trip", "x.2.jpg", "x.jpg"]
    );
}

#[test]
fn rm_shows_in_gio_trash_list_also_with_gvfsd_trash_already_running() {
    let m = Mount::new();
    let c = Clients::new();
    write(&m.gallery().join("albums/y photo.jpg"), b"y");
    write(&m.gallery().join("albums/z.jpg"), b"z");
    let mnt = m.mountpoint.display();
    let y = format!("{mnt}/gallery/albums/y photo.jpg");
    let z = format!("{mnt}/gallery/albums/z.jpg");

    // y is removed before gvfsd-trash starts, z while it runs: gvfsd-trash
    // re-reads files/ only because its mtime changed.
    fs::remove_file(m.gallery().join("albums/y photo.jpg")).unwrap();
    let out = c.gio(
        &m,
        "echo '== before'
         gio trash --list
         rm \"$MNT/gallery/albums/z.jpg\"
         echo '== after'
         gio trash --list
         for p in \"$MNT/gallery/albums/y photo.jpg\" \"$MNT/gallery/albums/z.jpg\"; do
             uri=$(gio trash --list | awk -F '\\t' -v p=\"$p\" '$2 == p { print $1 }')
             echo \"== info $p\"
             gio info -a trash:: \"$uri\"
         done",
    );

    let before: Vec<String> = gio_entries(&m, section(&out, "before"))
        .into_iter()
        .map(|(_, orig)| orig)
        .collect();
    assert_eq!(before, std::slice::from_ref(&y), "{out}");
    let after = gio_entries(&m, section(&out, "after"));
    let mut shown: Vec<&str> = after.iter().map(|(_, orig)| orig.as_str()).collect();
    shown.sort();
    assert_eq!(shown, [y.as_str(), z.as_str()], "{out}");
    for (uri, _) in &after {
        assert!(uri.starts_with("trash:///"), "{uri}");
    }
    let y_uri = &after.iter().find(|(_, orig)| *orig == y).unwrap().0;
    assert!(y_uri.ends_with("y%2520photo.jpg"), "{y_uri}");

    for (name, orig) in [("y photo.jpg", &y), ("z.jpg", &z)] {
        let info = section(&out, &format!("info {orig}"));
        assert_eq!(gio_attribute(info, "trash::orig-path"), orig.as_str());
        let deleted = deleted_at(&m.trash().join(name));
        assert_eq!(
            gio_attribute(info, "trash::deletion-date"),
            local(deleted, "%Y-%m-%dT%H:%M:%S"),
            "{name}"
        );
    }
}

#[test]
fn gio_trash_restore_puts_files_back_also_into_a_removed_folder() {
    let m = Mount::new();
    let c = Clients::new();
    let g = m.gallery();
    write(&g.join("albums/r.jpg"), b"r data");
    write(&g.join("gone/deep/s.jpg"), b"s data");
    fs::set_permissions(g.join("albums/r.jpg"), fs::Permissions::from_mode(0o640)).unwrap();
    let r_ino = fs::metadata(g.join("albums/r.jpg")).unwrap().ino();
    fs::remove_file(g.join("albums/r.jpg")).unwrap();
    fs::remove_file(g.join("gone/deep/s.jpg")).unwrap();
    rmdir_elsewhere(&g.join("gone/deep"));
    rmdir_elsewhere(&g.join("gone"));
    assert_eq!(names(&m.trash()), ["r.jpg", "s.jpg"]);

    let out = c.gio(
        &m,
        "for p in \"$MNT/gallery/albums/r.jpg\" \"$MNT/gallery/gone/deep/s.jpg\"; do
             uri=$(gio trash --list | awk -F '\\t' -v p=\"$p\" '$2 == p { print $1 }')
             [ -n \"$uri\" ] || { echo \"$p is not in gio trash --list\" >&2; exit 1; }
             gio trash --restore \"$uri\"
         done
         echo '== after'
         gio trash --list",
    );

    assert_eq!(fs::read(g.join("albums/r.jpg")).unwrap(), b"r data");
    let md = fs::metadata(g.join("albums/r.jpg")).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o640, "restored exactly as it was");
    assert_eq!(md.ino(), r_ino, "restored exactly as it was");
    assert_eq!(fs::read(g.join("gone/deep/s.jpg")).unwrap(), b"s data");
    assert!(names(&m.trash()).is_empty(), "{:?}", names(&m.trash()));
    assert!(names(&trash_dir(&m).join("files")).is_empty());
    assert!(names(&trash_dir(&m).join("info")).is_empty());
    assert!(gallery_trash_list(&m).is_empty());
    assert!(
        gio_entries(&m, section(&out, "after")).is_empty(),
        "gio trash --list after restoring:\n{out}"
    );
}

#[test]
fn gio_trash_empty_purges_all_the_users_entries_and_only_them() {
    let m = shared_mount();
    let c = Clients::new();
    write(&m.gallery().join("a.jpg"), b"a");
    write(&m.gallery().join("albums/b.jpg"), b"b");
    write(&m.gallery().join("trip/c.jpg"), b"c");
    fs::remove_file(m.gallery().join("a.jpg")).unwrap();
    fs::remove_file(m.gallery().join("albums/b.jpg")).unwrap();
    fs::rename(m.gallery().join("trip"), m.trash().join("trip")).unwrap();
    let theirs = as_user(&m, USER, "echo u > gallery/u.jpg && rm gallery/u.jpg", &[]);
    assert!(theirs.status.success(), "{theirs:?}");
    assert_eq!(names(&m.trash()), ["a.jpg", "b.jpg", "trip", "u.jpg"]);

    let out = c.gio(
        &m,
        "gio trash --empty
         echo '== after'
         gio trash --list",
    );

    assert!(gio_entries(&m, section(&out, "after")).is_empty(), "{out}");
    assert_eq!(names(&m.trash()), ["u.jpg"], "another user's entry stays");
    assert_eq!(names(&m.storage.join("trash")), ["u.jpg"]);
    assert!(names(&trash_dir(&m).join("files")).is_empty());
    assert!(names(&trash_dir(&m).join("info")).is_empty());
    // No data survives the client's delete.
    wait_until("the purge to finish", || {
        stored_files(&m) == ["trash/u.jpg"]
    });
}

/// Files kept in STORAGE's gallery, trash and purge area.
fn stored_files(m: &Mount) -> Vec<String> {
    let out = ok(Command::new("find")
        .args(["gallery", "trash", "purging", "-type", "f"])
        .current_dir(&m.storage)
        .stderr(Stdio::null()));
    let mut files: Vec<String> = out.lines().map(str::to_string).collect();
    files.sort();
    files
}

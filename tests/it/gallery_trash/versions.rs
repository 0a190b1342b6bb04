//! `gallery-trash versions` and `restore --at`: the versions the trash keeps
//! of one file (overwritten, replaced, deleted), newest first, and restoring
//! a chosen one; the REASON column and field of `list` and `info`.

use super::*;

/// The columns of a table row (cells are two or more spaces apart).
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn deleted_at(item: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(item["deleted_at"].as_str().unwrap())
        .unwrap()
        .to_utc()
}

#[test]
fn versions_lists_kept_overwrites_newest_first_and_restore_at_picks_one() {
    // Every overwrite is kept, however close together.
    let m = Mount::with_options(&["overwrite_interval=0"]);
    let albums = m.gallery().join("albums");
    let cat = albums.join("cat.jpg");
    write(&cat, b"v1");
    fs::write(&cat, b"v2").unwrap(); // O_TRUNC: v1 is kept as overwritten
    wait_past_deletions(&m);
    let v3 = m.base.path().join("v3.jpg");
    fs::write(&v3, b"v3").unwrap();
    ok(Command::new("cp").arg(&v3).arg(&cat)); // v2 kept as overwritten
    wait_past_deletions(&m);
    fs::remove_file(&cat).unwrap(); // v3 deleted
    assert_eq!(m.trash_os_names().len(), 3);

    // The table, from inside the gallery with a relative PATH.
    let table = gallery_trash(&albums).args(["versions", "cat.jpg"]).show();
    let lines: Vec<&str> = table.succeeded().out.lines().collect();
    assert_eq!(lines.len(), 5, "header, 3 rows, footer:\n{}", table.out);
    assert_eq!(cells(lines[0]), ["NAME", "REASON", "DELETED", "SIZE"]);
    assert_eq!(lines[4], "3 versions of gallery/albums/cat.jpg, 6 B");
    let rows: Vec<Vec<&str>> = lines[1..4].iter().map(|l| cells(l)).collect();
    let reasons: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(reasons, ["deleted", "overwritten", "overwritten"]);
    let contents: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| fs::read(m.trash().join(r[0])).unwrap())
        .collect();
    assert_eq!(contents, [b"v3", b"v2", b"v1"], "newest first");
    for row in &rows {
        // DELETED is local time (UTC here) to the second.
        let at = time_attr(&m.trash().join(row[0]), "user.trash.deleted_at");
        assert_eq!(
            row[2],
            at.format("%Y-%m-%d %H:%M:%S").to_string(),
            "{row:?}"
        );
        assert_eq!(row[3], "2 B");
    }
    assert!(table.err.is_empty(), "{table:#?}");

    // JSON: the same entries in the same order, with list's fields.
    let json = gallery_trash(&m.mountpoint)
        .args(["versions", "--json", "gallery/albums/cat.jpg"])
        .show();
    let items = parse_json(&json.succeeded().out);
    let names: Vec<&str> = items.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, rows.iter().map(|r| r[0]).collect::<Vec<_>>());
    let reasons: Vec<&str> = items
        .iter()
        .map(|v| v["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["deleted", "overwritten", "overwritten"]);
    assert!(items.iter().all(|v| v["original_path"] == "albums/cat.jpg"));
    assert!(deleted_at(&items[0]) > deleted_at(&items[1]));
    assert!(deleted_at(&items[1]) > deleted_at(&items[2]));
    // An entry of .trash means its original path; an absolute path works too.
    let by_entry = gallery_trash(&m.trash())
        .args(["versions", "--json"])
        .arg(rows[2][0])
        .show();
    assert_eq!(parse_json(&by_entry.succeeded().out), items);
    let absolute = gallery_trash(m.base.path())
        .args(["versions", "--json"])
        .arg(&cat)
        .show();
    assert_eq!(parse_json(&absolute.succeeded().out), items);

    // `restore PATH --at` the middle one's time, as --json prints it.
    let middle = items[1]["deleted_at"].as_str().unwrap();
    let restored = gallery_trash(&albums)
        .args(["restore", "cat.jpg", "--at", middle])
        .show();
    assert_eq!(
        restored.succeeded().out,
        format!("restored {} -> gallery/albums/cat.jpg\n", rows[1][0])
    );
    assert_eq!(fs::read(&cat).unwrap(), b"v2");

    // The oldest, by the time `versions` printed: cat.jpg is taken now, so
    // the restore is refused, saying what to do instead.
    let oldest = rows[2][2];
    let refused = gallery_trash(&albums)
        .args(["restore", "cat.jpg", "--at", oldest])
        .show();
    let errors = refused.failed_with(1).errors_from("restore");
    assert_eq!(
        errors,
        [format!(
            "gallery-trash restore: Restore failed: gallery/albums/cat.jpg already exists \
             (--rename restores it under a free name, --to PATH elsewhere; \
             `mv` of .trash/{} over it would replace it, \
             putting the current file in the trash as replaced)",
            rows[2][0]
        )]
    );
    assert_eq!(fs::read(&cat).unwrap(), b"v2", "nothing replaced");
    // Restoring that overwritten entry by name is refused the same way.
    let by_name = gallery_trash(&m.mountpoint)
        .arg("restore")
        .arg(Path::new(".trash").join(rows[2][0]))
        .show();
    assert_eq!(by_name.failed_with(1).errors_from("restore"), errors);
    // --to takes it elsewhere.
    let to = gallery_trash(&albums)
        .args(["restore", "cat.jpg", "--at", oldest, "--to", "v1.jpg"])
        .show();
    assert_eq!(
        to.succeeded().out,
        format!("restored {} -> gallery/albums/v1.jpg\n", rows[2][0])
    );
    assert_eq!(fs::read(albums.join("v1.jpg")).unwrap(), b"v1");

    // Nothing deleted that early; a TIME that is no time; --at with an entry.
    let early = gallery_trash(&albums)
        .args(["restore", "cat.jpg", "--at", "2000-01-01"])
        .show();
    let errors = early.failed_with(1).errors_from("restore");
    assert_eq!(
        errors,
        [format!(
            "gallery-trash restore: Restore failed: no version of gallery/albums/cat.jpg \
             deleted at or before 2000-01-01 (the oldest was deleted {})",
            rows[0][2]
        )]
    );
    let bad = gallery_trash(&albums)
        .args(["restore", "cat.jpg", "--at", "last tuesday"])
        .show();
    bad.failed_with(2);
    assert!(
        bad.err.contains("'last tuesday'") && bad.err.contains("--at"),
        "{bad:#?}"
    );
    assert!(bad.err.contains("RFC 3339"), "{bad:#?}");
    let with_entry = gallery_trash(&m.mountpoint)
        .arg("restore")
        .arg(Path::new(".trash").join(rows[0][0]))
        .args(["--at", middle])
        .show();
    assert!(
        with_entry.failed_with(1).errors_from("restore")[0].contains("--at"),
        "{with_entry:#?}"
    );
    assert_eq!(fs::read(&cat).unwrap(), b"v2");

    // What the hint says: mv of the entry over the file replaces it, and
    // the current file goes to the trash as replaced.
    fs::rename(m.trash().join(rows[0][0]), &cat).unwrap();
    assert_eq!(fs::read(&cat).unwrap(), b"v3");
    let left = parse_json(
        &gallery_trash(&albums)
            .args(["versions", "--json", "cat.jpg"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0]["reason"], "replaced");
    assert_eq!(
        fs::read(m.trash().join(left[0]["name"].as_str().unwrap())).unwrap(),
        b"v2"
    );
}

#[test]
fn versions_within_a_minute_are_told_apart_by_the_second() {
    let m = Mount::with_options(&["overwrite_interval=0"]);
    let note = m.gallery().join("note.txt");
    write(&note, b"first");
    fs::write(&note, b"second").unwrap();
    wait_past_deletions(&m);
    fs::write(&note, b"third").unwrap();
    let items = parse_json(
        &gallery_trash(&m.mountpoint)
            .args(["versions", "--json", "gallery/note.txt"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(items.len(), 2);
    let (newer, older) = (deleted_at(&items[0]), deleted_at(&items[1]));
    // The local second of the older one restores it, not the newer.
    let restored = gallery_trash(&m.mountpoint)
        .args(["restore", "gallery/note.txt", "--to", "gallery/older.txt"])
        .arg("--at")
        .arg(older.format("%Y-%m-%d %H:%M:%S").to_string())
        .show();
    restored.succeeded();
    assert_eq!(fs::read(m.gallery().join("older.txt")).unwrap(), b"first");
    // To the minute: the newest of that minute or before, here the newer
    // one (`22:03` takes in 22:03:59).
    let restored = gallery_trash(&m.mountpoint)
        .args(["restore", "gallery/note.txt", "--to", "gallery/newer.txt"])
        .arg("--at")
        .arg(newer.format("%Y-%m-%d %H:%M").to_string())
        .show();
    restored.succeeded();
    assert_eq!(fs::read(m.gallery().join("newer.txt")).unwrap(), b"second");
    assert!(m.trash_os_names().is_empty());
}

#[test]
fn versions_of_a_path_with_none_say_so_and_exit_1() {
    let m = Mount::new();
    trash_file(&m, "cat.jpg", b"meow");
    let none = gallery_trash(&m.mountpoint)
        .args(["versions", "gallery/albums/dog.jpg"])
        .show();
    assert_eq!(
        none.failed_with(1).errors_from("versions"),
        ["gallery-trash versions: no versions of gallery/albums/dog.jpg in the trash"]
    );
    assert_eq!(none.out, "");
    // JSON output still parses: an empty array.
    let json = gallery_trash(&m.mountpoint)
        .args(["versions", "--json", "gallery/dog.jpg"])
        .show();
    assert_eq!(json.failed_with(1).out.trim(), "[]");
    assert_eq!(json.errors_from("versions").len(), 1);
    // Not a path in the gallery, not inside any galleryfs, no PATH at all.
    for (cwd, arg) in [(&m.mountpoint, "gallery"), (&m.mountpoint, "/")] {
        let shown = gallery_trash(cwd).args(["versions", arg]).show();
        assert_eq!(
            shown.failed_with(1).errors_from("versions").len(),
            1,
            "{arg}"
        );
    }
    gallery_trash(&m.mountpoint)
        .arg("versions")
        .show()
        .failed_with(2);
    // One version: singular footer.
    let one = gallery_trash(&m.gallery())
        .args(["versions", "cat.jpg"])
        .show();
    assert_eq!(
        one.succeeded().out.lines().last(),
        Some("1 version of gallery/cat.jpg, 4 B")
    );
}

#[test]
fn list_and_info_show_why_each_entry_is_in_the_trash() {
    let m = Mount::with_options(&["overwrite_interval=0"]);
    let mnt = &m.mountpoint;
    let g = m.gallery();
    trash_file(&m, "gone.jpg", b"gone");
    write(&g.join("a.jpg"), b"a");
    write(&g.join("b.jpg"), b"b");
    fs::rename(g.join("a.jpg"), g.join("b.jpg")).unwrap(); // b.jpg: replaced
    write(&g.join("c.jpg"), b"old");
    fs::write(g.join("c.jpg"), b"new").unwrap(); // c.jpg: overwritten
    std::os::unix::fs::symlink("gone.jpg", g.join("link")).unwrap();
    // The kernel refuses a symlink user.* attributes: read on its info file.
    fs::remove_file(g.join("link")).unwrap();

    let table = gallery_trash(mnt).arg("list").show();
    let lines: Vec<&str> = table.succeeded().out.lines().collect();
    assert_eq!(
        cells(lines[0]),
        [
            "NAME",
            "ORIGINAL PATH",
            "REASON",
            "DELETED",
            "DAYS LEFT",
            "SIZE"
        ]
    );
    for (name, reason) in [
        ("gone.jpg", "deleted"),
        ("b.jpg", "replaced"),
        ("c.jpg", "overwritten"),
        ("link", "deleted"),
    ] {
        let row = cells(line_with(&table.out, &format!("{name} ")));
        assert_eq!(row[0], name, "{row:?}");
        assert_eq!(row[2], reason, "{row:?}");
    }

    let items = parse_json(
        &gallery_trash(mnt)
            .args(["list", "--json"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(by_name(&items, "gone.jpg")["reason"], "deleted");
    assert_eq!(by_name(&items, "b.jpg")["reason"], "replaced");
    assert_eq!(by_name(&items, "c.jpg")["reason"], "overwritten");
    assert_eq!(by_name(&items, "link")["reason"], "deleted");
    for item in &items {
        if let Some(reason) = item["reason"].as_str() {
            let name = item["name"].as_str().unwrap();
            let entry = match item["kind"] == "symlink" {
                true => mnt.join(format!(".Trash-0/info/{name}.trashinfo")),
                false => m.trash().join(name),
            };
            assert_eq!(
                reason.as_bytes(),
                xattr::get_opt(&entry, "user.trash.reason").unwrap()
            );
        }
    }

    let info = gallery_trash(mnt)
        .args(["info", ".trash/b.jpg", ".trash/link"])
        .show();
    let out = &info.succeeded().out;
    let reasons: Vec<&str> = out.lines().filter(|l| l.starts_with("reason:")).collect();
    assert_eq!(
        reasons,
        ["reason:        replaced", "reason:        deleted"],
        "{out}"
    );
    let json = parse_json(
        &gallery_trash(mnt)
            .args(["info", "--json", "gallery/c.jpg"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(json[0]["reason"], "overwritten");
}

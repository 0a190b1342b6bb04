//! `gallery-trash list`: the table, `--json`, an empty trash, odd names,
//! directory sizes, and symlink, FIFO and socket entries (whose facts come
//! from their `.Trash-UID/info` file).

use super::*;
use std::os::unix::fs::FileTypeExt;

#[test]
fn list_shows_table_json_empty_trash_odd_names_and_directory_sizes() {
    let m = Mount::new();
    let mnt = &m.mountpoint;

    let empty = gallery_trash(mnt).args(["list", "--json"]).show();
    assert_eq!(empty.succeeded().out.trim(), "[]");
    let empty = gallery_trash(mnt).arg("list").arg(mnt).show();
    assert_eq!(empty.succeeded().out, "Trash is empty\n");

    trash_file(&m, "albums/cat.jpg", &[7; 1000]);
    write(&m.gallery().join("trip/a.jpg"), &[1; 2000]);
    write(&m.gallery().join("trip/sub/b.jpg"), &[2; 3000]);
    fs::rename(m.gallery().join("trip"), m.trash().join("trip")).unwrap();
    let odd = OsStr::from_bytes(b"bad\xff\x01name.jpg");
    // Not empty: an empty file is litter, which `list` leaves out.
    fs::write(m.gallery().join(odd), b"!").unwrap();
    fs::remove_file(m.gallery().join(odd)).unwrap();

    let table = gallery_trash(mnt).arg("list").arg(mnt).show();
    table.succeeded();
    let lines: Vec<&str> = table.out.lines().collect();
    assert_eq!(lines.len(), 5, "header, 3 rows, footer:\n{}", table.out);
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "ORIGINAL PATH",
            "REASON",
            "DELETED",
            "DAYS LEFT",
            "SIZE"
        ]
    );
    assert_eq!(lines[4], "3 items, 5.9 KiB");

    let cat = line_with(&table.out, "cat.jpg");
    let deleted = time_attr(&m.trash().join("cat.jpg"), "user.trash.deleted_at");
    assert!(cat.starts_with("cat.jpg "), "{cat}");
    assert!(cat.contains("gallery/albums/cat.jpg "), "{cat}");
    assert_eq!(cat.split_whitespace().nth(2), Some("deleted"), "{cat}");
    assert!(
        cat.contains(&deleted.format("%Y-%m-%d %H:%M").to_string()),
        "{cat}"
    );
    assert!(cat.contains(" 30d "), "{cat}");
    assert!(cat.ends_with(" 1000 B"), "{cat}");

    let trip = line_with(&table.out, "trip/");
    assert!(trip.contains("gallery/trip "), "{trip}");
    assert!(trip.ends_with(" 4.9 KiB"), "directory total 5000 B: {trip}");

    // Escaped, never raw.
    let bad = line_with(&table.out, "bad");
    assert!(bad.starts_with("bad\\xff\\x01name.jpg "), "{bad}");
    assert!(bad.contains("gallery/bad\\xff\\x01name.jpg"), "{bad}");
    assert!(!table.out.contains('\u{1}'));

    let json = gallery_trash(mnt).args(["list", "--json"]).arg(mnt).show();
    let items = parse_json(&json.succeeded().out);
    assert_eq!(items.len(), 3);
    let cat = by_name(&items, "cat.jpg");
    let entry = m.trash().join("cat.jpg");
    let keys: Vec<&str> = cat
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected_keys = [
        "name",
        "path",
        "original_path",
        "deleted_at",
        "expires_at",
        "days_left",
        "reason",
        "size",
        "kind",
        "litter",
    ];
    expected_keys.sort();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort();
    assert_eq!(keys_sorted, expected_keys);
    assert_eq!(cat["path"], entry.to_str().unwrap());
    assert_eq!(cat["original_path"], "albums/cat.jpg");
    assert_eq!(
        cat["deleted_at"].as_str().unwrap().as_bytes(),
        xattr::get_opt(&entry, "user.trash.deleted_at").unwrap()
    );
    assert_eq!(
        cat["expires_at"].as_str().unwrap().as_bytes(),
        xattr::get_opt(&entry, "user.trash.expires_at").unwrap()
    );
    assert_eq!(cat["days_left"], 30);
    assert_eq!(cat["reason"], "deleted");
    assert_eq!(cat["size"], 1000);
    assert_eq!(cat["kind"], "file");
    assert_eq!(cat["litter"], false);

    let trip = by_name(&items, "trip");
    assert_eq!(
        (trip["kind"].as_str(), trip["size"].as_u64()),
        (Some("dir"), Some(5000))
    );
    assert_eq!(trip["original_path"], "trip");

    let bad = items
        .iter()
        .find(|v| v.get("name_bytes").is_some())
        .expect("an entry with name_bytes");
    assert_eq!(bad["name"], "bad\u{fffd}\u{1}name.jpg");
    let bytes: Vec<u8> = bad["name_bytes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(bytes, b"bad\xff\x01name.jpg");
    assert_eq!(bad["size"], 1);

    let sorted = gallery_trash(mnt)
        .args(["list", "--json", "--sort", "size"])
        .show();
    let names: Vec<String> = parse_json(&sorted.succeeded().out)
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["trip", "cat.jpg", "bad\u{fffd}\u{1}name.jpg"]);
    let reversed = gallery_trash(mnt)
        .args(["list", "--json", "--sort", "name", "--reverse"])
        .show();
    let names: Vec<String> = parse_json(&reversed.succeeded().out)
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["trip", "cat.jpg", "bad\u{fffd}\u{1}name.jpg"]);
}

#[test]
fn symlink_fifo_and_socket_entries_show_their_facts_and_restore() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    let g = m.gallery();
    std::os::unix::fs::symlink("cat.jpg", g.join("link")).unwrap();
    sh(&g, "mkfifo pipe");
    drop(std::os::unix::net::UnixListener::bind(g.join("sock")).unwrap());
    for name in ["link", "pipe", "sock"] {
        fs::remove_file(g.join(name)).unwrap();
    }
    // The kernel refuses user.* attributes on them; their info files have them.
    for name in ["link", "pipe", "sock"] {
        assert_eq!(
            xattr::get_opt(&m.trash().join(name), "user.trash.original_path"),
            None
        );
        let info = mnt.join(format!(".Trash-0/info/{name}.trashinfo"));
        assert_eq!(
            xattr::get_opt(&info, "user.trash.original_path").as_deref(),
            Some(name.as_bytes())
        );
    }

    let table = gallery_trash(mnt).args(["list", "--sort", "name"]).show();
    let out = &table.succeeded().out;
    assert!(!out.contains('?'), "{out}");
    for name in ["link", "pipe", "sock"] {
        let row = line_with(out, name);
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells[..3],
            [name, &format!("gallery/{name}"), "deleted"],
            "{row}"
        );
        assert_eq!(cells[5], "30d", "{row}");
    }
    let json = parse_json(
        &gallery_trash(mnt)
            .args(["list", "--json"])
            .show()
            .succeeded()
            .out,
    );
    for (name, kind) in [("link", "symlink"), ("pipe", "fifo"), ("sock", "socket")] {
        let item = by_name(&json, name);
        assert_eq!(item["kind"], kind);
        assert_eq!(item["original_path"], name);
        assert_eq!(item["reason"], "deleted");
        assert_eq!(item["days_left"], 30);
        assert_eq!(item["litter"], false);
        assert_eq!(
            item["deleted_at"].as_str().map(str::as_bytes),
            xattr::get_opt(
                &mnt.join(format!(".Trash-0/info/{name}.trashinfo")),
                "user.trash.deleted_at"
            )
            .as_deref()
        );
    }
    let info = gallery_trash(mnt).args(["info", ".trash/pipe"]).show();
    assert!(
        line_with(&info.succeeded().out, "original path:").ends_with(" gallery/pipe"),
        "{}",
        info.out
    );

    // Known original paths: restored by name or by original path, no --to.
    let by_name = gallery_trash(mnt).args(["restore", ".trash/link"]).show();
    assert_eq!(by_name.succeeded().out, "restored link -> gallery/link\n");
    assert_eq!(fs::read_link(g.join("link")).unwrap(), Path::new("cat.jpg"));
    let by_path = gallery_trash(mnt).args(["restore", "gallery/pipe"]).show();
    assert_eq!(by_path.succeeded().out, "restored pipe -> gallery/pipe\n");
    assert!(
        fs::symlink_metadata(g.join("pipe"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    // The three came from one command (this thread): undo brings back the last.
    let undo = gallery_trash(mnt).args(["undo", "--yes"]).show();
    assert_eq!(undo.succeeded().out, "restored sock -> gallery/sock\n");
    assert!(
        fs::symlink_metadata(g.join("sock"))
            .unwrap()
            .file_type()
            .is_socket()
    );
}

#[test]
fn wide_character_names_align() {
    use unicode_width::UnicodeWidthStr;
    let m = Mount::new();
    for name in ["猫の写真.jpg", "cat.jpg", "ｆｕｌｌ.png"] {
        trash_file(&m, &format!("写真/{name}"), b"x");
    }
    let shown = gallery_trash(&m.mountpoint).arg("list").show();
    let out = &shown.succeeded().out;
    let rows: Vec<&str> = out.lines().take(4).collect();
    assert!(rows[0].starts_with("NAME "), "{out}");
    // Every column starts at the same terminal cell in every row.
    let cell_of = |line: &str, needle: &str| {
        let at = line
            .find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in {line:?}"));
        UnicodeWidthStr::width(&line[..at])
    };
    for needle in ["gallery/", "deleted", "30d"] {
        let cells: Vec<usize> = rows[1..].iter().map(|l| cell_of(l, needle)).collect();
        assert!(
            cells.iter().all(|&c| c == cells[0]),
            "{needle}: {cells:?}\n{out}"
        );
    }
    assert_eq!(
        cell_of(rows[0], "ORIGINAL PATH"),
        cell_of(rows[1], "gallery/"),
        "{out}"
    );
    assert_eq!(
        cell_of(rows[0], "REASON"),
        cell_of(rows[1], "deleted"),
        "{out}"
    );
}

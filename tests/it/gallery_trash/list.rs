//! `gallery-trash list`: the table, `--json`, an empty trash, odd names,
//! directory sizes, and symlink entries (unknown original path, restored
//! with `--to`).

use super::*;

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
    fs::write(m.gallery().join(odd), b"").unwrap();
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
    assert_eq!(bad["size"], 0);

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
fn symlink_entries_show_an_unknown_original_path_and_restore_with_to() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    std::os::unix::fs::symlink("cat.jpg", m.gallery().join("link")).unwrap();
    fs::remove_file(m.gallery().join("link")).unwrap();

    let table = gallery_trash(mnt).arg("list").show();
    let row = line_with(&table.succeeded().out, "link");
    assert!(row.split_whitespace().nth(1) == Some("?"), "{row}");
    let json = parse_json(
        &gallery_trash(mnt)
            .args(["list", "--json"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(json[0]["kind"], "symlink");
    assert_eq!(json[0]["original_path"], Value::Null);
    assert_eq!(json[0]["reason"], Value::Null);

    let without = gallery_trash(mnt).args(["restore", ".trash/link"]).show();
    let errors = without.failed_with(1).errors_from("restore");
    assert!(
        errors[0].contains("Restore failed: ") && errors[0].contains("--to"),
        "{errors:?}"
    );

    let with = gallery_trash(mnt)
        .args(["restore", ".trash/link", "--to", "gallery/link"])
        .show();
    assert_eq!(with.succeeded().out, "restored link -> gallery/link\n");
    assert_eq!(
        fs::read_link(m.gallery().join("link")).unwrap(),
        Path::new("cat.jpg")
    );
}

//! `gallery-trash undo` after real `rm` processes: the entries of the last
//! deleting command go back (the files of `rm a*.jpg`, the one folder entry
//! of `rm -rf dir`), taken places are refused by name, `undo --list` shows
//! one row per command; and the filters of `list` and `restore --under`.

use super::*;

/// The cells of a table row (two or more spaces apart).
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn deleter(entry: &Path) -> String {
    let value = xattr::get_opt(entry, "user.trash.deleted_by")
        .unwrap_or_else(|| panic!("{} has no deleted_by", entry.display()));
    String::from_utf8(value).unwrap()
}

/// The names `list --json` prints for these arguments, sorted.
fn listed(cwd: &Path, args: &[&str]) -> Vec<String> {
    let shown = gallery_trash(cwd)
        .arg("list")
        .arg("--json")
        .args(args)
        .show();
    let mut names: Vec<String> = parse_json(&shown.succeeded().out)
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn undo_restores_all_files_one_rm_removed() {
    let m = Mount::new();
    let shots = m.gallery().join("shots");
    for name in ["a1.jpg", "a2.jpg", "a3.jpg", "a4.jpg", "a5.jpg", "b.jpg"] {
        write(&shots.join(name), name.as_bytes());
    }
    sh(&shots, "rm b.jpg");
    wait_past_deletions(&m);
    sh(&shots, "rm a*.jpg");
    assert_eq!(m.trash_os_names().len(), 6);
    let by = deleter(&m.trash().join("a1.jpg"));
    for n in 2..=5 {
        assert_eq!(deleter(&m.trash().join(format!("a{n}.jpg"))), by);
    }
    assert_ne!(deleter(&m.trash().join("b.jpg")), by, "another rm");

    // Asked without --yes: the table of the five, then the question on
    // stderr; end of input is no.
    let asked = gallery_trash(&m.mountpoint).arg("undo").show();
    let lines: Vec<&str> = asked.succeeded().out.lines().collect();
    assert_eq!(
        lines.len(),
        8,
        "header, 5 rows, footer, answer:\n{asked:#?}"
    );
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
    for (n, line) in lines[1..6].iter().enumerate() {
        let row = cells(line);
        assert_eq!(row[0], format!("a{}.jpg", n + 1), "{line}");
        assert_eq!(row[1], format!("gallery/shots/a{}.jpg", n + 1), "{line}");
        assert_eq!(row[2], "deleted", "{line}");
    }
    assert_eq!(lines[6], "5 items, 30 B");
    assert_eq!(lines[7], "Nothing restored.");
    assert_eq!(asked.err, "Restore 5 entries? [y/N] \n");
    assert_eq!(m.trash_os_names().len(), 6);

    // A dry run shows the same and changes nothing.
    let dry = gallery_trash(&m.mountpoint)
        .args(["undo", "--dry-run"])
        .show();
    assert!(
        dry.succeeded()
            .out
            .ends_with("5 items, 30 B\nDry run: would restore 5 entries; nothing changed.\n"),
        "{dry:#?}"
    );
    assert!(dry.err.is_empty(), "{dry:#?}");
    assert_eq!(m.trash_os_names().len(), 6);

    let undone = gallery_trash(&m.mountpoint).args(["undo", "--yes"]).show();
    let expected: String = (1..=5)
        .map(|n| format!("restored a{n}.jpg -> gallery/shots/a{n}.jpg\n"))
        .collect();
    assert_eq!(undone.succeeded().out, expected);
    assert!(undone.err.is_empty(), "{undone:#?}");
    for n in 1..=5 {
        let name = format!("a{n}.jpg");
        assert_eq!(fs::read(shots.join(&name)).unwrap(), name.as_bytes());
    }
    assert_eq!(m.trash_names(), ["b.jpg"], "the earlier rm is not undone");

    // Answering y at the prompt undoes the next one back.
    let again = gallery_trash(&shots).arg("undo").input(b"y\n").show();
    assert!(
        again
            .succeeded()
            .out
            .ends_with("restored b.jpg -> gallery/shots/b.jpg\n"),
        "{again:#?}"
    );
    assert_eq!(again.err, "Restore 1 entry? [y/N] \n");
    assert!(m.trash_os_names().is_empty());
}

#[test]
fn undo_restores_a_folder_removed_whole() {
    let m = Mount::new();
    let g = m.gallery();
    write(&g.join("albums/2026/a.jpg"), b"a");
    write(&g.join("albums/2026/sub/b.jpg"), b"bb");
    write(&g.join("albums/keep.jpg"), b"keep");
    fs::set_permissions(g.join("albums/2026/sub"), fs::Permissions::from_mode(0o750)).unwrap();
    sh(&g, "rm -rf albums/2026");
    assert_eq!(m.trash_names(), ["2026"], "one removal, one entry");

    let listed = gallery_trash(&m.mountpoint).args(["undo", "--list"]).show();
    let lines: Vec<&str> = listed.succeeded().out.lines().collect();
    assert_eq!(lines.len(), 3, "{listed:#?}");
    let row = cells(lines[1]);
    assert_eq!(&row[2..], ["1", "gallery/albums", "3 B"], "{row:?}");

    let undone = gallery_trash(&m.mountpoint).args(["undo", "--yes"]).show();
    assert_eq!(
        undone.succeeded().out,
        "restored 2026 -> gallery/albums/2026\n"
    );
    assert_eq!(fs::read(g.join("albums/2026/a.jpg")).unwrap(), b"a");
    assert_eq!(fs::read(g.join("albums/2026/sub/b.jpg")).unwrap(), b"bb");
    let sub = fs::metadata(g.join("albums/2026/sub")).unwrap();
    assert!(sub.is_dir());
    assert_eq!(sub.mode() & 0o7777, 0o750);
    assert_eq!(fs::read(g.join("albums/keep.jpg")).unwrap(), b"keep");
    assert!(m.trash_os_names().is_empty());
}

#[test]
fn nothing_to_undo_says_so_and_exits_1() {
    let mut m = Mount::new();
    let empty = gallery_trash(&m.mountpoint).arg("undo").show();
    assert_eq!(
        empty.failed_with(1).errors_from("undo"),
        [
            "gallery-trash undo: nothing to undo: no entry of the trash that you may restore \
             records the command that deleted it"
        ]
    );
    assert_eq!(empty.out, "");
    let list = gallery_trash(&m.mountpoint).args(["undo", "--list"]).show();
    assert_eq!(list.succeeded().out, "Nothing to undo\n");
    let json = gallery_trash(&m.mountpoint)
        .args(["undo", "--list", "--json"])
        .show();
    assert_eq!(json.succeeded().out.trim(), "[]");

    // An entry adopted at mount (a file found in STORAGE/trash after an
    // unclean stop) records no deleter.
    m.kill9();
    fs::write(m.storage_trash().join("stray.jpg"), b"stray").unwrap();
    m.mount();
    assert_eq!(m.trash_names(), ["stray.jpg"]);
    assert!(xattr::get_opt(&m.trash().join("stray.jpg"), "user.trash.deleted_by").is_none());
    let stray = gallery_trash(&m.mountpoint).args(["undo", "--yes"]).show();
    assert!(
        stray.failed_with(1).errors_from("undo")[0].contains("nothing to undo"),
        "{stray:#?}"
    );
    let list = gallery_trash(&m.mountpoint).args(["undo", "--list"]).show();
    assert_eq!(
        list.succeeded().out,
        "Nothing to undo\nNot listed: 1 entry that records no deleter (see gallery-trash list)\n"
    );
    assert_eq!(m.trash_names(), ["stray.jpg"]);
}

#[test]
fn a_taken_original_place_is_refused_by_name_and_rename_restores_beside_it() {
    let m = Mount::new();
    let g = m.gallery();
    write(&g.join("a.jpg"), b"old a");
    write(&g.join("b.jpg"), b"old b");
    write(&g.join("c.jpg"), b"old c");
    sh(&g, "rm a.jpg b.jpg c.jpg");
    write(&g.join("a.jpg"), b"new a");
    write(&g.join("c.jpg"), b"new c");

    let refused = gallery_trash(&m.mountpoint).args(["undo", "--yes"]).show();
    assert_eq!(
        refused.failed_with(1).errors_from("undo"),
        [
            "gallery-trash undo: gallery/a.jpg already exists (.trash/a.jpg goes there)",
            "gallery-trash undo: gallery/c.jpg already exists (.trash/c.jpg goes there)",
            "gallery-trash undo: nothing restored: 2 places are taken \
             (--rename restores under free names, --to DIR elsewhere)",
        ]
    );
    assert_eq!(refused.out, "");
    assert_eq!(m.trash_names().len(), 3, "nothing restored");
    assert_eq!(fs::read(g.join("a.jpg")).unwrap(), b"new a");
    // A dry run says the same.
    let dry = gallery_trash(&m.mountpoint)
        .args(["undo", "--dry-run"])
        .show();
    assert_eq!(dry.failed_with(1).errors_from("undo").len(), 3);
    assert!(dry.out.contains("3 items, 15 B"), "{dry:#?}");

    let renamed = gallery_trash(&m.mountpoint)
        .args(["undo", "--yes", "--rename"])
        .show();
    assert_eq!(
        renamed.succeeded().out,
        "restored a.jpg -> gallery/a (restored).jpg\n\
         restored b.jpg -> gallery/b.jpg\n\
         restored c.jpg -> gallery/c (restored).jpg\n"
    );
    assert_eq!(fs::read(g.join("a.jpg")).unwrap(), b"new a");
    assert_eq!(fs::read(g.join("a (restored).jpg")).unwrap(), b"old a");
    assert_eq!(fs::read(g.join("b.jpg")).unwrap(), b"old b");
    assert_eq!(fs::read(g.join("c (restored).jpg")).unwrap(), b"old c");
    assert!(m.trash_os_names().is_empty());

    // --to a directory: the whole deletion goes there instead.
    sh(&g, "rm 'a (restored).jpg' b.jpg");
    fs::create_dir(g.join("back")).unwrap();
    let to = gallery_trash(&g)
        .args(["undo", "--yes", "--to", "back"])
        .show();
    assert_eq!(
        to.succeeded().out,
        "restored a (restored).jpg -> gallery/back/a (restored).jpg\n\
         restored b.jpg -> gallery/back/b.jpg\n"
    );
}

#[test]
fn undo_list_shows_one_row_per_command_newest_first() {
    let m = Mount::new();
    let g = m.gallery();
    write(&g.join("a/x1.jpg"), &[1; 100]);
    write(&g.join("a/x2.jpg"), &[2; 200]);
    write(&g.join("b/dir/y.jpg"), &[3; 300]);
    write(&g.join("b/dir/deep/z.jpg"), &[4; 400]);
    sh(&g, "rm a/x1.jpg a/x2.jpg");
    wait_past_deletions(&m);
    sh(&g, "rm -r b/dir");
    assert_eq!(m.trash_names().len(), 3);
    let first = deleter(&m.trash().join("dir"));
    let second = deleter(&m.trash().join("x1.jpg"));
    assert_ne!(first, second);

    let table = gallery_trash(&m.mountpoint).args(["undo", "--list"]).show();
    let lines: Vec<&str> = table.succeeded().out.lines().collect();
    assert_eq!(lines.len(), 4, "header, 2 rows, footer:\n{}", table.out);
    assert_eq!(
        cells(lines[0]),
        ["DELETED", "PID", "ENTRIES", "WHERE", "SIZE"]
    );
    let pid = |by: &str| by.split(':').next().unwrap().to_string();
    let when = |entry: &str| {
        time_attr(&m.trash().join(entry), "user.trash.deleted_at")
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    assert_eq!(
        cells(lines[1]),
        [
            when("dir"),
            pid(&first),
            "1".into(),
            "gallery/b".into(),
            "700 B".into()
        ]
    );
    let newest_of_a = when("x1.jpg").max(when("x2.jpg"));
    assert_eq!(
        cells(lines[2]),
        [
            newest_of_a,
            pid(&second),
            "2".into(),
            "gallery/a".into(),
            "300 B".into()
        ]
    );
    assert_eq!(lines[3], "2 deletions, 3 entries, 1000 B");

    let items = parse_json(
        &gallery_trash(&m.mountpoint)
            .args(["undo", "--list", "--json"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["deleted_by"], first.as_str());
    assert_eq!(items[0]["pid"].to_string(), pid(&first));
    assert_eq!(items[0]["count"], 1);
    assert_eq!(items[0]["where"], "b");
    assert_eq!(items[0]["size"], 700);
    assert_eq!(items[0]["entries"][0]["name"], "dir");
    assert_eq!(items[0]["entries"][0]["original_path"], "b/dir");
    assert_eq!(items[1]["deleted_by"], second.as_str());
    assert_eq!(items[1]["count"], 2);
    assert_eq!(items[1]["where"], "a");
    assert_eq!(
        items[1]["deleted_at"].as_str().unwrap().as_bytes(),
        ["x1.jpg", "x2.jpg"]
            .iter()
            .map(|e| xattr::get_opt(&m.trash().join(e), "user.trash.deleted_at").unwrap())
            .max()
            .unwrap()
    );

    // undo takes the first row.
    let undone = gallery_trash(&m.mountpoint).args(["undo", "--yes"]).show();
    assert_eq!(undone.succeeded().out, "restored dir -> gallery/b/dir\n");
    assert_eq!(fs::read(g.join("b/dir/deep/z.jpg")).unwrap(), [4; 400]);
}

#[test]
fn list_filters_by_place_time_and_reason() {
    // Every overwrite is kept, however close together.
    let m = Mount::with_options(&["overwrite_interval=0"]);
    let mnt = &m.mountpoint;
    let g = m.gallery();
    trash_file(&m, "albums/old.jpg", b"old");
    let before = time_attr(&m.trash().join("old.jpg"), "user.trash.deleted_at");
    wait_past_deletions(&m);
    let after = before + chrono::Duration::seconds(1);
    write(&g.join("albums/cat.jpg"), b"first cat");
    let new_cat = m.base.path().join("cat.jpg");
    fs::write(&new_cat, b"second cat").unwrap();
    ok(Command::new("cp")
        .arg(&new_cat)
        .arg(g.join("albums/cat.jpg")));
    trash_file(&m, "other/dog.jpg", b"dog");
    write(&g.join("albums2/x.jpg"), b"x");
    sh(&g, "rm albums2/x.jpg");
    assert_eq!(listed(mnt, &[]), ["cat.jpg", "dog.jpg", "old.jpg", "x.jpg"]);

    // --under: relative to the current directory, from the mount root,
    // absolute; whole components only (albums2 is not under albums).
    assert_eq!(listed(&g, &["--under", "albums"]), ["cat.jpg", "old.jpg"]);
    assert_eq!(
        listed(mnt, &["--under", "gallery/albums"]),
        ["cat.jpg", "old.jpg"]
    );
    let absolute = g.join("albums/cat.jpg");
    assert_eq!(
        listed(m.base.path(), &["--under", absolute.to_str().unwrap()]),
        ["cat.jpg"]
    );
    assert_eq!(listed(&g.join("albums"), &["--under", "."]).len(), 2);
    assert_eq!(listed(mnt, &["--under", "gallery"]).len(), 4);

    // --reason.
    assert_eq!(listed(mnt, &["--reason", "overwritten"]), ["cat.jpg"]);
    assert_eq!(
        listed(mnt, &["--reason", "deleted", "--under", "gallery/albums"]),
        ["old.jpg"]
    );

    // --since and --until: a time ago, RFC 3339, a local time (UTC here).
    assert_eq!(listed(mnt, &["--since", "2h"]).len(), 4);
    assert!(listed(mnt, &["--until", "2h"]).is_empty());
    let rfc = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        listed(mnt, &["--since", &rfc(after)]),
        ["cat.jpg", "dog.jpg", "x.jpg"]
    );
    assert_eq!(listed(mnt, &["--until", &rfc(before)]), ["old.jpg"]);
    let local = after.format("%Y-%m-%d %H:%M:%S").to_string();
    assert_eq!(
        listed(mnt, &["--since", &local, "--under", "gallery/albums"]),
        ["cat.jpg"]
    );
    assert_eq!(listed(mnt, &["--since", "today"]).len(), 4);
    assert!(listed(mnt, &["--until", "yesterday"]).is_empty());

    // The table: only the rows that match; a note when none does.
    let table = gallery_trash(mnt)
        .args(["list", "--reason", "overwritten"])
        .show();
    let lines: Vec<&str> = table.succeeded().out.lines().collect();
    assert_eq!(lines.len(), 3, "{}", table.out);
    assert_eq!(cells(lines[1])[1], "gallery/albums/cat.jpg");
    assert_eq!(cells(lines[1])[2], "overwritten");
    assert_eq!(lines[2], "1 item, 9 B");
    let none = gallery_trash(mnt)
        .args(["list", "--under", "gallery/nowhere", "--until", "2h"])
        .show();
    assert_eq!(
        none.succeeded().out,
        "No entries match (of 4 in the trash): under gallery/nowhere, deleted until 2h\n"
    );

    // Bad values are usage errors naming them.
    let bad = gallery_trash(mnt)
        .args(["list", "--since", "last tuesday"])
        .show();
    bad.failed_with(2);
    assert!(
        bad.err.contains("'last tuesday'") && bad.err.contains("--since"),
        "{bad:#?}"
    );
    let bad = gallery_trash(mnt).args(["list", "--reason", "lost"]).show();
    bad.failed_with(2);
    assert!(bad.err.contains("'lost'"), "{bad:#?}");
    let outside = gallery_trash(mnt).args(["list", "--under", "/"]).show();
    assert!(
        outside.failed_with(2).errors_from("list")[0].contains("not inside a galleryfs mount"),
        "{outside:#?}"
    );
    let trash = gallery_trash(mnt)
        .args(["list", "--under", ".trash"])
        .show();
    assert_eq!(
        trash.failed_with(2).errors_from("list"),
        ["gallery-trash list: --under must be a path in gallery/ (.trash)"]
    );
    let backwards = gallery_trash(mnt)
        .args(["list", "--since", "today", "--until", "yesterday"])
        .show();
    assert!(
        backwards.failed_with(2).errors_from("list")[0].contains("is after --until"),
        "{backwards:#?}"
    );
}

#[test]
fn restore_under_restores_the_latest_of_each_path_below_a_folder() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    let g = m.gallery();
    trash_file(&m, "albums/2026/a.jpg", b"a v1");
    let first = time_attr(&m.trash().join("a.jpg"), "user.trash.deleted_at");
    wait_past_deletions(&m);
    trash_file(&m, "albums/2026/a.jpg", b"a v2");
    trash_file(&m, "albums/2026/sub/b.jpg", b"b");
    trash_file(&m, "albums/2025/c.jpg", b"c");
    trash_file(&m, "other/d.jpg", b"d");
    write(&g.join("gone/e.jpg"), b"e");
    sh(&g, "rm -r gone");
    assert_eq!(m.trash_os_names().len(), 6);

    // A dry run: the table of what would go back, nothing changed.
    let dry = gallery_trash(&g.join("albums"))
        .args(["restore", "--under", "2026", "--dry-run"])
        .show();
    let lines: Vec<&str> = dry.succeeded().out.lines().collect();
    assert_eq!(lines.len(), 5, "header, 2 rows, footer, note:\n{}", dry.out);
    assert_eq!(cells(lines[1])[1], "gallery/albums/2026/a.jpg");
    assert_eq!(cells(lines[2])[1], "gallery/albums/2026/sub/b.jpg");
    assert_eq!(
        lines[4],
        "Dry run: would restore 2 entries; nothing changed."
    );
    assert_eq!(m.trash_os_names().len(), 6);

    // The newest a.jpg and b.jpg (its folder recreated); the older a.jpg stays.
    let restored = gallery_trash(mnt)
        .args(["restore", "--under", "gallery/albums/2026"])
        .show();
    let out = restored.succeeded().out.clone();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{restored:#?}");
    assert!(lines[0].ends_with(" -> gallery/albums/2026/a.jpg"), "{out}");
    assert_eq!(lines[1], "restored b.jpg -> gallery/albums/2026/sub/b.jpg");
    assert_eq!(fs::read(g.join("albums/2026/a.jpg")).unwrap(), b"a v2");
    assert_eq!(fs::read(g.join("albums/2026/sub/b.jpg")).unwrap(), b"b");
    assert_eq!(m.trash_os_names().len(), 4);

    // A window: only what was deleted until the first deletion's second.
    fs::remove_file(g.join("albums/2026/a.jpg")).unwrap();
    let window = gallery_trash(mnt)
        .args(["restore", "--under", "gallery/albums", "--until"])
        .arg(first.format("%Y-%m-%d %H:%M:%S").to_string())
        .show();
    let out = &window.succeeded().out;
    assert!(out.ends_with(" -> gallery/albums/2026/a.jpg\n"), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(fs::read(g.join("albums/2026/a.jpg")).unwrap(), b"a v1");
    // --since 2h takes in the rest below albums: c.jpg goes back, a.jpg
    // (v2, deleted again) does not replace v1, which says so; the others go on.
    let rest = gallery_trash(mnt)
        .args(["restore", "--under", "gallery/albums", "--since", "2h"])
        .show();
    let errors = rest.failed_with(1).errors_from("restore");
    assert_eq!(errors.len(), 1, "{rest:#?}");
    assert!(
        errors[0].starts_with(
            "gallery-trash restore: Restore failed: gallery/albums/2026/a.jpg already exists"
        ),
        "{errors:?}"
    );
    assert_eq!(rest.out, "restored c.jpg -> gallery/albums/2025/c.jpg\n");
    assert_eq!(fs::read(g.join("albums/2025/c.jpg")).unwrap(), b"c");
    assert_eq!(fs::read(g.join("albums/2026/a.jpg")).unwrap(), b"a v1");

    // Nothing there: exit 1, saying where; inside a folder removed whole,
    // naming the folder's entry.
    let none = gallery_trash(mnt)
        .args(["restore", "--under", "gallery/nowhere"])
        .show();
    assert_eq!(
        none.failed_with(1).errors_from("restore"),
        ["gallery-trash restore: Restore failed: nothing in the trash under gallery/nowhere"]
    );
    let inside = gallery_trash(mnt)
        .args(["restore", "--under", "gallery/gone/e.jpg"])
        .show();
    assert_eq!(
        inside.failed_with(1).errors_from("restore"),
        [
            "gallery-trash restore: Restore failed: nothing in the trash under gallery/gone/e.jpg; \
             gallery/gone/e.jpg was removed with its folder .trash/gone: restore that"
        ]
    );
    let whole = gallery_trash(mnt)
        .args(["restore", "--under", "gallery/gone"])
        .show();
    assert_eq!(whole.succeeded().out, "restored gone -> gallery/gone\n");
    assert_eq!(fs::read(g.join("gone/e.jpg")).unwrap(), b"e");
}

#[test]
fn undo_takes_only_the_callers_own_deletions() {
    let m = Mount::with_options(&["allow_other"]);
    let mnt = &m.mountpoint;
    // The test's temp dir is root's and private: let the other users reach the mount and the binary.
    fs::set_permissions(m.base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(m.gallery(), fs::Permissions::from_mode(0o1777)).unwrap();
    let bin = m.base.path().join("gallery-trash");
    fs::copy(gallery_trash_bin(), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let as_user = |uid: u32, script: &str| {
        ok(Command::new("setpriv")
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={uid}"))
            .arg("--clear-groups")
            .args(["sh", "-c", script])
            .current_dir(mnt))
    };
    as_user(
        OWNER_UID,
        "echo 1 > gallery/mine1.jpg && echo 2 > gallery/mine2.jpg && rm gallery/mine*.jpg",
    );
    wait_past_deletions(&m);
    // Newer, and readable, but not the owner's to restore (the sticky .trash).
    as_user(
        OTHER_UID,
        "echo t > gallery/theirs.jpg && rm gallery/theirs.jpg",
    );

    let undo = |uid: u32, args: &[&str]| {
        gallery_trash(mnt)
            .arg("undo")
            .args(args)
            .run_as(uid, &bin)
            .show()
    };
    let listed = undo(OWNER_UID, &["--list", "--json"]);
    let groups = parse_json(&listed.succeeded().out);
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!(groups[0]["count"], 2);
    let mine = undo(OWNER_UID, &["--yes"]);
    assert_eq!(
        mine.succeeded().out,
        "restored mine1.jpg -> gallery/mine1.jpg\nrestored mine2.jpg -> gallery/mine2.jpg\n"
    );
    assert_eq!(m.trash_names(), ["theirs.jpg"]);
    let nothing = undo(OWNER_UID, &["--yes"]);
    assert!(
        nothing.failed_with(1).errors_from("undo")[0].contains("nothing to undo"),
        "{nothing:#?}"
    );
    let theirs = undo(OTHER_UID, &["--yes"]);
    assert_eq!(
        theirs.succeeded().out,
        "restored theirs.jpg -> gallery/theirs.jpg\n"
    );
    assert!(m.trash_os_names().is_empty());
}

//! Litter through gallery-trash: what git and vim leave in the trash is not
//! listed (a last line counts it), `--all` lists it, it expires after
//! `litter_retention`, `empty` counts it apart, `undo` leaves it; a
//! repository removed whole is an entry like any other.

use super::*;

use galleryfs_testkit::fsutil::sorted_names;
use galleryfs_testkit::wait::wait_until;

/// The NAME column of a `list` table (names without spaces).
fn listed(out: &str) -> Vec<String> {
    out.lines()
        .skip(1)
        .take_while(|l| !l.contains(" item"))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
        .collect()
}

/// Whether entry `name` says it is litter: on itself, or for a symlink
/// (git probes for them), on its info file.
fn is_litter(m: &Mount, name: &str) -> bool {
    let entry = m.trash().join(name);
    let facts = match fs::symlink_metadata(&entry).unwrap().is_symlink() {
        true => m.mountpoint.join(format!(".Trash-0/info/{name}.trashinfo")),
        false => entry,
    };
    xattr::get_opt(&facts, "user.trash.litter").as_deref() == Some(&b"yes"[..])
}

#[test]
fn git_and_vim_temporaries_are_litter_and_expire_but_a_removed_repository_is_not() {
    for tool in ["git", "vim"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok(),
            "{tool} is needed (.ci/run installs it)"
        );
    }
    let mut m = Mount::new();
    let mnt = m.mountpoint.clone();
    let home = tempfile::tempdir().unwrap();
    sh(
        &m.gallery(),
        "mkdir repo && cd repo && git init -q && for i in 1 2 3; do \
           echo $i > f$i && git add . && \
           git -c user.name=t -c user.email=t@example.com commit -qm c$i; done",
    );
    fs::write(m.gallery().join("notes.txt"), "hello\n").unwrap();
    // vim as a user starts it (its defaults, a swap file next to the file),
    // without a terminal.
    let vim = Command::new("timeout")
        .args([
            "60",
            "vim",
            "-i",
            "NONE",
            "-c",
            "normal Goworld",
            "-c",
            "wq",
        ])
        .arg("notes.txt")
        .current_dir(m.gallery())
        .env("HOME", home.path())
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(vim.success(), "vim: {vim}");
    assert_eq!(
        fs::read_to_string(m.gallery().join("notes.txt")).unwrap(),
        "hello\nworld\n"
    );

    let names = m.trash_names();
    assert!(
        names.iter().any(|n| n.starts_with(".notes.txt")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("index")), "{names:?}");
    let litter: Vec<&String> = names.iter().filter(|n| is_litter(&m, n)).collect();
    // All but the content vim's save overwrote.
    assert_eq!(litter.len(), names.len() - 1, "{names:?}");
    assert!(!is_litter(&m, "notes.txt"));

    let list = gallery_trash(&mnt).arg("list").show();
    let out = &list.succeeded().out;
    assert_eq!(listed(out), ["notes.txt"], "{out}");
    assert!(out.contains(" overwritten "), "{out}");
    assert_eq!(
        out.lines().last().unwrap(),
        format!(
            "and {} short-lived temporary files (editor swap files, git internals): --all shows them",
            litter.len()
        )
    );

    let all = gallery_trash(&mnt).args(["list", "--all"]).show();
    let out = &all.succeeded().out;
    assert_eq!(listed(out).len(), names.len(), "{out}");
    assert!(out.contains("gallery/repo/.git/index"), "{out}");
    assert!(out.contains("gallery/.notes.txt.swp"), "{out}");
    assert!(!out.contains("--all"), "{out}");
    let json = parse_json(
        &gallery_trash(&mnt)
            .args(["list", "--all", "--json"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(json.len(), names.len());
    assert_eq!(
        json.iter().filter(|v| v["litter"] == true).count(),
        litter.len()
    );
    assert_eq!(by_name(&json, "notes.txt")["litter"], false);
    let plain = parse_json(
        &gallery_trash(&mnt)
            .args(["list", "--json"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(plain.len(), 1, "{plain:#?}");

    fs::remove_dir_all(m.gallery().join("repo")).unwrap();
    let list = gallery_trash(&mnt).args(["list", "--sort", "name"]).show();
    assert_eq!(listed(&list.succeeded().out), ["notes.txt", "repo/"]);
    assert!(!is_litter(&m, "repo"));
    assert!(m.trash().join("repo/.git/HEAD").exists());

    // Litter goes once litter_retention has passed; the rest stays.
    m.options = vec!["litter_retention=1s".into(), "sweep=1s".into()];
    m.remount();
    wait_until("the litter to expire", || {
        sorted_names(&m.trash()) == ["notes.txt", "repo"]
    });
    let list = gallery_trash(&mnt).args(["list", "--sort", "name"]).show();
    let out = &list.succeeded().out;
    assert_eq!(listed(out), ["notes.txt", "repo/"], "{out}");
    assert!(!out.contains("temporary"), "{out}");
    assert!(m.trash().join("repo/.git/HEAD").exists());
}

#[test]
fn a_vim_style_save_leaves_only_litter() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    let g = m.gallery();
    fs::write(g.join("x"), "old\n").unwrap();
    // What vim does with `backupcopy=no`: a swap file, its probe of the
    // folder, the file renamed to its backup, the new file, then the backup
    // and the swap file removed.
    fs::write(g.join(".x.swp"), vec![0u8; 4096]).unwrap();
    fs::write(g.join("4913"), "").unwrap();
    fs::remove_file(g.join("4913")).unwrap();
    fs::rename(g.join("x"), g.join("x~")).unwrap();
    fs::write(g.join("x"), "new\n").unwrap();
    fs::remove_file(g.join("x~")).unwrap();
    fs::remove_file(g.join(".x.swp")).unwrap();
    assert_eq!(sorted_names(&m.trash()), [".x.swp", "4913", "x~"]);
    let list = gallery_trash(mnt).arg("list").show();
    assert_eq!(
        list.succeeded().out,
        "Trash is empty but for 3 short-lived temporary files (editor swap files, git internals): --all shows them\n"
    );
    assert_eq!(
        fs::read(m.trash().join("x~")).unwrap(),
        b"old\n",
        "the backup holds the old content, for an hour"
    );

    fs::remove_file(g.join("x")).unwrap();
    let list = gallery_trash(mnt).arg("list").show();
    let out = &list.succeeded().out;
    assert_eq!(listed(out), ["x"], "{out}");
    assert!(out.ends_with("--all shows them\n"), "{out}");
    // Filters apply to what the last line counts.
    let replaced = gallery_trash(mnt)
        .args(["list", "--reason", "replaced"])
        .show();
    assert_eq!(
        replaced.succeeded().out,
        "No entries match (of 1 in the trash): reason replaced\n"
    );
}

#[test]
fn empty_counts_litter_apart_and_undo_leaves_it() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    trash_file(&m, "a.jpg", b"a");
    trash_file(&m, ".a.jpg.swp", b"swap");
    trash_file(&m, "b.jpg", b"b");
    trash_file(&m, "empty.txt", b"");
    let undo = gallery_trash(mnt).args(["undo", "--dry-run"]).show();
    let out = &undo.succeeded().out;
    let mut undone = listed(out);
    undone.sort();
    assert_eq!(undone, ["a.jpg", "b.jpg"], "one command, no litter:\n{out}");
    let undo = gallery_trash(mnt).args(["undo", "--list", "--json"]).show();
    let groups = parse_json(&undo.succeeded().out);
    assert_eq!(groups[0]["count"], 2, "{groups:#?}");

    let asked = gallery_trash(mnt).arg("empty").input(b"n\n").show();
    assert!(
        asked
            .succeeded()
            .err
            .contains("Delete all 2 items (and 2 short-lived temporary files)? [y/N]"),
        "{asked:#?}"
    );
    let emptied = gallery_trash(mnt).args(["empty", "--yes"]).show();
    assert!(
        emptied
            .succeeded()
            .out
            .contains("Deleted 2 items (and 2 short-lived temporary files)."),
        "{}",
        emptied.out
    );
    assert!(m.trash_os_names().is_empty());

    trash_file(&m, "c~", b"c");
    let asked = gallery_trash(mnt).arg("empty").input(b"y\n").show();
    assert!(
        asked
            .succeeded()
            .err
            .contains("Delete all 1 short-lived temporary file? [y/N]"),
        "{asked:#?}"
    );
    assert!(m.trash_os_names().is_empty());
}

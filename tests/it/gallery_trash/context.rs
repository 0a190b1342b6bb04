//! How gallery-trash runs: exit 1 after processing the rest when some
//! entries fail, the mount found from the current directory, and another
//! uid that can neither restore nor purge private entries.

use super::*;

#[test]
fn partial_failures_exit_1_after_processing_the_rest() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    trash_file(&m, "a.jpg", b"a");
    trash_file(&m, "b.jpg", b"b");

    let restore = gallery_trash(mnt)
        .args([
            "restore",
            ".trash/missing.jpg",
            ".trash/a.jpg",
            "gallery/never.jpg",
        ])
        .show();
    let errors = restore.failed_with(1).errors_from("restore");
    assert_eq!(errors.len(), 2, "{restore:#?}");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("Restore failed: no such entry")),
        "{errors:?}"
    );
    assert_eq!(restore.out, "restored a.jpg -> gallery/a.jpg\n");
    assert_eq!(fs::read(m.gallery().join("a.jpg")).unwrap(), b"a");

    let purge = gallery_trash(mnt)
        .args(["purge", "--yes", ".trash/b.jpg", ".trash/missing.jpg"])
        .show();
    let errors = purge.failed_with(1).errors_from("purge");
    assert_eq!(errors.len(), 1, "{purge:#?}");
    assert_eq!(purge.out, "purged b.jpg\n");
    assert!(m.trash_os_names().is_empty());

    let outside = gallery_trash(mnt).args(["info", "/"]).show();
    assert_eq!(outside.failed_with(1).errors_from("info").len(), 1);

    // Usage errors are status 2.
    gallery_trash(mnt).arg("restore").show().failed_with(2);
    gallery_trash(mnt)
        .args(["list", "--sort", "colour"])
        .show()
        .failed_with(2);
    gallery_trash(mnt)
        .args(["frobnicate"])
        .show()
        .failed_with(2);
}

#[test]
fn runs_from_inside_the_mount_without_mount_argument() {
    let m = Mount::new();
    let cat = m.gallery().join("albums/2026/cat.jpg");
    write(&cat, b"meow");
    fs::set_permissions(&cat, fs::Permissions::from_mode(0o644)).unwrap();
    fs::remove_file(&cat).unwrap();
    let deep = m.gallery().join("albums/2026");

    let list = gallery_trash(&deep).arg("list").show();
    assert!(line_with(&list.succeeded().out, "cat.jpg").contains("gallery/albums/2026/cat.jpg"));
    let from_root = gallery_trash(&m.mountpoint).args(["list", "--json"]).show();
    assert_eq!(parse_json(&from_root.succeeded().out).len(), 1);

    // Inside .trash, a bare name is the entry.
    let info = gallery_trash(&m.trash()).args(["info", "cat.jpg"]).show();
    assert!(
        line_with(&info.succeeded().out, "original path").ends_with("gallery/albums/2026/cat.jpg"),
        "{}",
        info.out
    );
    let json = parse_json(
        &gallery_trash(&m.trash())
            .args(["info", "--json", "cat.jpg"])
            .show()
            .succeeded()
            .out,
    );
    assert_eq!(json[0]["mode"], "0644");
    assert_eq!(json[0]["uid"], 0);
    let restored = gallery_trash(&m.trash())
        .args(["restore", "cat.jpg"])
        .show();
    assert_eq!(
        restored.succeeded().out,
        "restored cat.jpg -> gallery/albums/2026/cat.jpg\n"
    );

    // Outside any galleryfs: says so, suggests MOUNT.
    let outside = gallery_trash(m.base.path()).arg("list").show();
    let errors = outside.failed_with(2).errors_from("list");
    assert!(
        errors[0].contains("not inside a galleryfs mount") && errors[0].contains("MOUNT"),
        "{errors:?}"
    );
    let empty_outside = gallery_trash(m.base.path()).args(["empty", "--yes"]).show();
    empty_outside.failed_with(2);
}

#[test]
fn another_uid_can_neither_restore_nor_purge_private_entries() {
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
        "umask 077 && echo secret > gallery/secret.jpg && rm gallery/secret.jpg",
    );
    as_user(
        OTHER_UID,
        "echo mine > gallery/mine.jpg && rm gallery/mine.jpg",
    );
    let secret = m.trash().join("secret.jpg");
    assert_eq!(fs::symlink_metadata(&secret).unwrap().uid(), OWNER_UID);

    let other = |args: &[&str], input: &[u8]| {
        gallery_trash(mnt)
            .args(args)
            .input(input)
            .run_as(OTHER_UID, &bin)
            .show()
    };

    let list = other(&["list"], b"");
    assert!(
        list.succeeded().out.contains("secret.jpg") && list.out.contains("mine.jpg"),
        "{}",
        list.out
    );

    for args in [
        &["restore", ".trash/secret.jpg"][..],
        &["restore", ".trash/secret.jpg", "--to", "gallery/stolen.jpg"],
        &["restore", ".trash/secret.jpg", "--rename"],
    ] {
        let shown = other(args, b"");
        let errors = shown.failed_with(1).errors_from("restore");
        assert_eq!(
            errors,
            ["gallery-trash restore: Restore failed: permission denied (.trash/secret.jpg)"],
            "{args:?}"
        );
    }
    // By original path: its attributes are private too, so it cannot even be found.
    let by_path = other(&["restore", "gallery/secret.jpg"], b"");
    assert!(by_path.failed_with(1).errors_from("restore")[0].contains("Restore failed: "));
    assert!(!m.gallery().join("secret.jpg").exists() && !m.gallery().join("stolen.jpg").exists());

    let purge = other(&["purge", "--yes", ".trash/secret.jpg"], b"");
    assert!(
        purge.failed_with(1).errors_from("purge")[0].contains("permission denied"),
        "{purge:#?}"
    );
    let asked = other(&["purge", ".trash/secret.jpg"], b"y\n");
    asked.failed_with(1);
    assert!(
        !asked.out.contains("[y/N]") && !asked.err.contains("[y/N]"),
        "nothing to ask about: {asked:#?}"
    );
    assert_eq!(fs::read(&secret).unwrap(), b"secret\n");

    // Their own entry: restore and trash again work for them.
    let mine = other(&["restore", ".trash/mine.jpg"], b"");
    assert_eq!(
        mine.succeeded().out,
        "restored mine.jpg -> gallery/mine.jpg\n"
    );
    as_user(OTHER_UID, "rm gallery/mine.jpg");

    // The question counts only what they may delete; the rest is named apart.
    let empty = other(&["empty"], b"y\n");
    assert!(
        empty.succeeded().err.contains("Delete all 1 item? [y/N]"),
        "{empty:#?}"
    );
    assert!(
        empty
            .out
            .contains("1 item of other users will be kept (permission denied)."),
        "{empty:#?}"
    );
    assert!(
        empty.out.contains("mine.jpg") && !empty.out.contains("secret.jpg"),
        "lists only what goes: {empty:#?}"
    );
    assert!(empty.out.contains("Deleted 1 item."), "{}", empty.out);
    assert!(empty.out.contains("Kept 1 item"), "{}", empty.out);
    assert_eq!(m.trash_os_names(), ["secret.jpg"]);
    assert_eq!(fs::read(&secret).unwrap(), b"secret\n");
}

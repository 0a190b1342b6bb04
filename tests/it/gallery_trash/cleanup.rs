//! What trash-cli users expect of purge, empty and restore: `--dry-run`
//! changes nothing, `empty --older-than` takes only the old entries,
//! `purge PATTERN` takes entries by glob.

use super::*;

#[test]
fn dry_run_changes_nothing() {
    let m = Mount::new();
    let gallery = m.gallery();
    trash_file(&m, "a.jpg", b"a");
    trash_file(&m, "b.jpg", b"b");
    let before = m.trash_os_names();

    let purge = gallery_trash(&gallery)
        .args(["purge", "--dry-run", "--yes", "a.jpg"])
        .show();
    purge.succeeded();
    assert!(purge.out.starts_with("NAME "), "{purge:#?}");
    assert!(purge.out.contains("gallery/a.jpg"), "{purge:#?}");
    assert!(
        purge
            .out
            .ends_with("1 item, 1 B\nDry run: would delete 1 item; nothing changed.\n"),
        "{purge:#?}"
    );
    assert_eq!(purge.err, "", "nothing asked");

    let empty = gallery_trash(&gallery).args(["empty", "--dry-run"]).show();
    empty.succeeded();
    assert!(
        empty.out.contains("gallery/a.jpg") && empty.out.contains("gallery/b.jpg"),
        "{empty:#?}"
    );
    assert!(
        empty
            .out
            .ends_with("2 items, 2 B\nDry run: would delete 2 items; nothing changed.\n"),
        "{empty:#?}"
    );
    assert_eq!(empty.err, "");

    let restore = gallery_trash(&gallery)
        .args(["restore", "--dry-run", "a.jpg"])
        .show();
    assert_eq!(
        restore.succeeded().out,
        "would restore a.jpg -> gallery/a.jpg\n"
    );
    assert!(!gallery.join("a.jpg").exists());
    assert_eq!(m.trash_os_names(), before);

    // Where the place is taken, the dry run fails as the restore would,
    // naming the ways out; with --rename it shows the free name.
    write(&gallery.join("a.jpg"), b"new");
    let taken = gallery_trash(&gallery)
        .args(["restore", "--dry-run", "a.jpg"])
        .show();
    assert_eq!(
        taken.failed_with(1).errors_from("restore"),
        [
            "gallery-trash restore: Restore failed: gallery/a.jpg already exists (--rename \
          restores it under a free name, --to PATH elsewhere; `mv` of .trash/a.jpg over it \
          would replace it, putting the current file in the trash as replaced)"
        ]
    );
    let renamed = gallery_trash(&gallery)
        .args(["restore", "--dry-run", "--rename", "a.jpg"])
        .show();
    assert_eq!(
        renamed.succeeded().out,
        "would restore a.jpg -> gallery/a (restored).jpg\n"
    );
    // Missing parents are not made by a dry run.
    trash_file(&m, "deep/er/c.jpg", b"c");
    // Another process removes the folders, so they do not fold c.jpg in.
    sh(&gallery, "rmdir deep/er deep");
    let deep = gallery_trash(&gallery)
        .args(["restore", "--dry-run", "../.trash/c.jpg"])
        .show();
    assert_eq!(
        deep.succeeded().out,
        "would restore c.jpg -> gallery/deep/er/c.jpg\n"
    );
    assert!(!gallery.join("deep").exists(), "{deep:#?}");
    assert_eq!(fs::read(gallery.join("a.jpg")).unwrap(), b"new");
    assert!(m.trash().join("c.jpg").exists());
}

#[test]
fn empty_older_than_takes_only_the_old_ones() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    trash_file(&m, "old1.jpg", b"1");
    trash_file(&m, "old2.jpg", b"2");
    // Real time, no clock to fake: the old ones get 10 seconds older
    // (deleted_at has whole seconds), new.jpg stays younger than 8 while
    // the commands below run.
    let old = time_attr(&m.trash().join("old2.jpg"), "user.trash.deleted_at");
    galleryfs_testkit::wait::until_clock_passes((old + chrono::Duration::seconds(10)).into());
    trash_file(&m, "new.jpg", b"3");

    let asked = gallery_trash(mnt)
        .args(["empty", "--older-than", "8 seconds"])
        .input(b"n\n")
        .show();
    asked.succeeded();
    assert!(
        asked.out.contains("old1.jpg") && asked.out.contains("old2.jpg"),
        "{asked:#?}"
    );
    assert!(!asked.out.contains("new.jpg"), "{asked:#?}");
    assert_eq!(
        asked.err,
        "This cannot be undone.\nDelete 2 items deleted more than 8 seconds ago? [y/N] \n"
    );
    assert_eq!(m.trash_os_names().len(), 3, "nothing deleted on no");

    // Nothing that old: said, and nothing asked.
    let none = gallery_trash(mnt)
        .args(["empty", "--older-than", "1w"])
        .show();
    assert_eq!(
        none.succeeded().out,
        "Nothing in the trash was deleted more than 1w ago.\n"
    );
    let yes = gallery_trash(mnt)
        .args(["empty", "--older-than", "8s"])
        .input(b"y\n")
        .show();
    assert!(
        yes.succeeded().out.ends_with("Deleted 2 items.\n"),
        "{yes:#?}"
    );
    assert_eq!(m.trash_os_names(), ["new.jpg"]);

    let bad = gallery_trash(mnt)
        .args(["empty", "--older-than", "soon"])
        .show();
    bad.failed_with(2);
    assert!(
        bad.err.contains("'soon'") && bad.err.contains("--older-than"),
        "{bad:#?}"
    );
    assert_eq!(m.trash_os_names(), ["new.jpg"]);
}

#[test]
fn purge_takes_a_pattern() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    for name in [
        "albums/cat.jpg",
        "albums/dog.png",
        "other/cow.jpg",
        "notes.txt",
        "star*.jpg",
        "starfish.jpg",
    ] {
        trash_file(&m, name, b"x");
    }

    // An argument that names an entry is that entry, glob characters or not.
    let exact = gallery_trash(mnt)
        .args(["purge", "--yes", ".trash/star*.jpg"])
        .show();
    assert_eq!(exact.succeeded().out, "purged star*.jpg\n");

    // By name, with the usual question.
    let asked = gallery_trash(mnt)
        .args(["purge", "c*.jpg"])
        .input(b"y\n")
        .show();
    asked.succeeded();
    assert_eq!(
        asked.err,
        "This cannot be undone.\nPermanently delete 2 items? [y/N] \n"
    );
    assert!(
        asked.out.contains("purged cat.jpg\n") && asked.out.contains("purged cow.jpg\n"),
        "{asked:#?}"
    );
    // By original path.
    let under = gallery_trash(mnt)
        .args(["purge", "--yes", "albums/*"])
        .show();
    assert_eq!(under.succeeded().out, "purged dog.png\n");
    assert_eq!(m.trash_os_names(), ["notes.txt", "starfish.jpg"]);

    // A pattern that takes nothing fails, naming it; the others still go.
    let none = gallery_trash(mnt)
        .args(["purge", "--yes", "*.gif", "*.txt"])
        .show();
    assert_eq!(
        none.failed_with(1).errors_from("purge"),
        [
            "gallery-trash purge: Purge failed: nothing in the trash matches *.gif (by entry \
          name, original name, or with a / original path)"
        ]
    );
    assert_eq!(none.out, "purged notes.txt\n");
    // Outside a mount, a pattern has no trash to match in.
    let outside = gallery_trash(m.base.path())
        .args(["purge", "--yes", "*.jpg"])
        .show();
    outside.failed_with(2);
    assert!(
        outside.err.starts_with(
            "gallery-trash purge: PATTERN *.jpg matches in the current directory's mount: "
        ),
        "{outside:#?}"
    );
    assert_eq!(m.trash_os_names(), ["starfish.jpg"]);
}

//! `gallery-trash restore`: missing parents recreated with the user's umask,
//! an original path meaning its most recent deletion, conflicts refused
//! unless `--rename` or `--to`.

use super::*;
use galleryfs_testkit::fsutil::rmdir_elsewhere;

#[test]
fn restore_recreates_deleted_parent_directories_with_the_users_umask() {
    let m = Mount::new();
    let mnt = &m.mountpoint;
    trash_file(&m, "a/b/cat.jpg", b"meow");
    rmdir_elsewhere(&m.gallery().join("a/b"));
    rmdir_elsewhere(&m.gallery().join("a"));

    let bin = gallery_trash_bin();
    let bin = bin.display();
    let out = sh(
        mnt,
        &format!("umask 027 && TZ=UTC0 '{bin}' restore '.trash/cat.jpg'"),
    );
    assert_eq!(out, "restored cat.jpg -> gallery/a/b/cat.jpg\n");
    assert_eq!(fs::read(m.gallery().join("a/b/cat.jpg")).unwrap(), b"meow");
    for dir in ["a", "a/b"] {
        let meta = fs::metadata(m.gallery().join(dir)).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o7777, 0o750, "{dir} made with umask 027");
        assert_eq!(meta.uid(), 0);
    }
    assert_eq!(
        gallery_trash(mnt).arg("list").show().succeeded().out,
        "Trash is empty\n"
    );
}

#[test]
fn restore_by_original_path_takes_the_most_recent_deletion() {
    let m = Mount::new();
    let albums = m.gallery().join("albums");
    for version in ["v1", "v2", "v3"] {
        if version != "v1" {
            wait_past_deletions(&m);
        }
        trash_file(&m, "albums/cat.jpg", version.as_bytes());
    }
    trash_file(&m, "albums/dog.jpg", b"woof");
    assert_eq!(m.trash_os_names().len(), 4);

    // Relative, from inside the gallery: `rm cat.jpg && gallery-trash restore cat.jpg`.
    let first = gallery_trash(&albums).args(["restore", "cat.jpg"]).show();
    assert!(
        first.succeeded().out.starts_with("restored cat"),
        "{first:#?}"
    );
    assert!(
        first.out.ends_with(" -> gallery/albums/cat.jpg\n"),
        "{first:#?}"
    );
    assert_eq!(fs::read(albums.join("cat.jpg")).unwrap(), b"v3");

    // Absolute, once the place is free again: the next most recent.
    fs::rename(albums.join("cat.jpg"), albums.join("kept.jpg")).unwrap();
    let second = gallery_trash(m.base.path())
        .arg("restore")
        .arg(albums.join("cat.jpg"))
        .show();
    assert!(
        second
            .succeeded()
            .out
            .ends_with(" -> gallery/albums/cat.jpg\n"),
        "{second:#?}"
    );
    assert_eq!(fs::read(albums.join("cat.jpg")).unwrap(), b"v2");
    assert_eq!(m.trash_os_names().len(), 2, "v1 and dog.jpg stay");
}

#[test]
fn restore_conflicts_fail_unless_rename_or_to() {
    // `trash_file` writes over names that are taken here; kept overwrites
    // would add entries under the names this test restores by.
    let m = Mount::with_options(&["overwrite=off"]);
    let mnt = &m.mountpoint;
    let cat = m.gallery().join("cat.jpg");
    trash_file(&m, "cat.jpg", b"old");
    write(&cat, b"new");

    let refused = gallery_trash(mnt)
        .args(["restore", "gallery/cat.jpg"])
        .show();
    let errors = refused.failed_with(1).errors_from("restore");
    assert_eq!(
        errors,
        [
            "gallery-trash restore: Restore failed: gallery/cat.jpg already exists \
             (--rename restores it under a free name, --to PATH elsewhere; \
             `mv` of .trash/cat.jpg over it would replace it, \
             putting the current file in the trash as replaced)"
        ]
    );
    assert_eq!(refused.out, "");
    assert_eq!(fs::read(&cat).unwrap(), b"new");
    assert_eq!(fs::read(m.trash().join("cat.jpg")).unwrap(), b"old");

    let renamed = gallery_trash(mnt)
        .args(["restore", "--rename", ".trash/cat.jpg"])
        .show();
    assert_eq!(
        renamed.succeeded().out,
        "restored cat.jpg -> gallery/cat (restored).jpg\n"
    );
    assert_eq!(
        fs::read(m.gallery().join("cat (restored).jpg")).unwrap(),
        b"old"
    );
    assert_eq!(fs::read(&cat).unwrap(), b"new");

    // Both names taken: the next number.
    fs::rename(&cat, m.gallery().join("keep.jpg")).unwrap();
    trash_file(&m, "cat.jpg", b"third");
    fs::copy(m.gallery().join("keep.jpg"), &cat).unwrap();
    let again = gallery_trash(mnt)
        .args(["restore", "gallery/cat.jpg", "--rename"])
        .show();
    assert_eq!(
        again.succeeded().out,
        "restored cat.jpg -> gallery/cat (restored 2).jpg\n"
    );
    assert_eq!(
        fs::read(m.gallery().join("cat (restored 2).jpg")).unwrap(),
        b"third"
    );

    // --to a free path, --to a taken path, --to a directory.
    trash_file(&m, "cat.jpg", b"fourth");
    write(&cat, b"new");
    fs::create_dir(m.gallery().join("elsewhere")).unwrap();
    let taken = gallery_trash(mnt)
        .args(["restore", ".trash/cat.jpg", "--to", "gallery/keep.jpg"])
        .show();
    let errors = taken.failed_with(1).errors_from("restore");
    assert_eq!(
        errors,
        [
            "gallery-trash restore: Restore failed: gallery/keep.jpg already exists \
             (--rename restores it under a free name; \
             `mv` of .trash/cat.jpg over it would replace it, \
             putting the current file in the trash as replaced)"
        ]
    );
    assert_eq!(fs::read(m.gallery().join("keep.jpg")).unwrap(), b"new");

    let to = gallery_trash(mnt)
        .args([
            "restore",
            ".trash/cat.jpg",
            "--to",
            "gallery/elsewhere/moved.jpg",
        ])
        .show();
    assert_eq!(
        to.succeeded().out,
        "restored cat.jpg -> gallery/elsewhere/moved.jpg\n"
    );
    assert_eq!(
        fs::read(m.gallery().join("elsewhere/moved.jpg")).unwrap(),
        b"fourth"
    );

    trash_file(&m, "albums/dog.jpg", b"woof");
    let into = gallery_trash(mnt)
        .args(["restore", ".trash/dog.jpg", "--to"])
        .arg(m.gallery().join("elsewhere"))
        .show();
    assert_eq!(
        into.succeeded().out,
        "restored dog.jpg -> gallery/elsewhere/dog.jpg\n"
    );
    assert_eq!(
        fs::read(m.gallery().join("elsewhere/dog.jpg")).unwrap(),
        b"woof"
    );
    assert!(m.trash_os_names().is_empty());
}

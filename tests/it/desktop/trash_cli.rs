//! trash-cli (`trash-put`, `trash-list`, `trash-restore`, `trash-rm`,
//! `trash-empty`) on the mount's `.Trash-UID`.

use super::*;
use galleryfs_testkit::fsutil::rmdir_elsewhere;

// ---- trash-cli ----------------------------------------------------------

#[test]
fn trash_put_and_trash_list_agree_with_dot_trash() {
    let m = Mount::new();
    let c = Clients::new();
    let albums = m.gallery().join("albums");
    write(&albums.join("a b.jpg"), b"a");
    write(&albums.join("c.jpg"), b"c1");
    ok(c.trash_cli("trash-put")
        .args(["a b.jpg", "c.jpg"])
        .current_dir(&albums));
    // A second c.jpg: trash-cli finds `info/c.jpg.trashinfo` taken (EEXIST)
    // and picks another name, which galleryfs keeps.
    write(&albums.join("c.jpg"), b"c2");
    ok(c.trash_cli("trash-put").arg("c.jpg").current_dir(&albums));

    assert!(names(&albums).is_empty());
    let entries = names(&m.trash());
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(entries.contains(&"a b.jpg".to_string()), "{entries:?}");
    assert!(entries.contains(&"c.jpg".to_string()), "{entries:?}");
    let second = entries
        .iter()
        .find(|e| !["a b.jpg", "c.jpg"].contains(&e.as_str()))
        .unwrap();
    assert_eq!(fs::read(m.trash().join("c.jpg")).unwrap(), b"c1");
    assert_eq!(fs::read(m.trash().join(second)).unwrap(), b"c2");
    for e in &entries {
        let orig = getfattr(&m.trash().join(e), "user.trash.original_path");
        let want = if e == "a b.jpg" {
            "albums/a b.jpg"
        } else {
            "albums/c.jpg"
        };
        assert_eq!(orig, want, "{e}");
    }

    let listed = ok(c
        .trash_cli("trash-list")
        .arg("--trash-dir")
        .arg(trash_dir(&m)));
    let mut lines: Vec<&str> = listed.lines().collect();
    lines.sort();
    let mnt = m.mountpoint.display();
    let mut want: Vec<String> = entries
        .iter()
        .map(|e| {
            let orig = getfattr(&m.trash().join(e), "user.trash.original_path");
            let when = local(deleted_at(&m.trash().join(e)), "%Y-%m-%d %H:%M:%S");
            format!("{when} {mnt}/gallery/{orig}")
        })
        .collect();
    want.sort();
    assert_eq!(lines, want, "trash-list:\n{listed}");
}

#[test]
fn trash_restore_answers_its_prompt_and_puts_the_file_back() {
    let m = Mount::new();
    let c = Clients::new();
    let albums = m.gallery().join("albums");
    write(&albums.join("r.jpg"), b"r data");
    write(&albums.join("keep.jpg"), b"k");
    fs::remove_file(albums.join("r.jpg")).unwrap();
    fs::remove_file(albums.join("keep.jpg")).unwrap();
    rmdir_elsewhere(&albums);

    let mut restore = c.trash_cli("trash-restore");
    restore
        .arg("--trash-dir")
        .arg(trash_dir(&m))
        .arg(albums.join("r.jpg"))
        .current_dir(&m.mountpoint)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = restore.spawn().expect("run trash-restore");
    child.stdin.take().unwrap().write_all(b"0\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains(&format!("{}", albums.join("r.jpg").display()))
            && stdout.contains("What file to restore"),
        "trash-restore showed:\n{stdout}"
    );

    assert_eq!(fs::read(albums.join("r.jpg")).unwrap(), b"r data");
    assert_eq!(names(&m.trash()), ["keep.jpg"]);
    assert_eq!(names(&trash_dir(&m).join("info")), ["keep.jpg.trashinfo"]);
    let listed = ok(c
        .trash_cli("trash-list")
        .arg("--trash-dir")
        .arg(trash_dir(&m)));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("/gallery/albums/keep.jpg"), "{listed}");
}

#[test]
fn trash_rm_and_trash_empty_purge() {
    let m = Mount::new();
    let c = Clients::new();
    for name in ["one.jpg", "two.jpg", "three.png"] {
        write(&m.gallery().join(name), name.as_bytes());
        fs::remove_file(m.gallery().join(name)).unwrap();
    }

    // trash-rm does not scan fuse.galleryfs mounts and ignores --trash-dir:
    // TRASH_VOLUMES names the mount.
    ok(c.trash_cli("trash-rm")
        .arg("*.png")
        .env("TRASH_VOLUMES", &m.mountpoint));
    assert_eq!(names(&m.trash()), ["one.jpg", "two.jpg"]);
    assert_eq!(names(&m.storage.join("trash")), ["one.jpg", "two.jpg"]);
    assert_eq!(
        names(&trash_dir(&m).join("info")),
        ["one.jpg.trashinfo", "two.jpg.trashinfo"]
    );

    ok(c.trash_cli("trash-empty")
        .arg("--trash-dir")
        .arg(trash_dir(&m))
        .arg("-f"));
    assert!(names(&m.trash()).is_empty());
    assert!(names(&m.storage.join("trash")).is_empty());
    assert!(names(&trash_dir(&m).join("files")).is_empty());
    assert!(names(&trash_dir(&m).join("info")).is_empty());
    let listed = ok(c
        .trash_cli("trash-list")
        .arg("--trash-dir")
        .arg(trash_dir(&m)));
    assert_eq!(listed, "");
}

/// Issue 16: after trash-restore (which lstats the info file and unlinks
/// only what it finds), the same name trashed again is one entry under its
/// own name, listed once: no info file of the restored entry survives to
/// make trash-put's exclusive create of `info/NAME.trashinfo` fail. The
/// same after trash-empty.
#[test]
fn trash_put_after_trash_restore_leaves_no_ghost() {
    let m = Mount::new();
    let c = Clients::new();
    let gallery = m.gallery();
    write(&gallery.join("f.txt"), b"first");
    ok(c.trash_cli("trash-put").arg("f.txt").current_dir(&gallery));
    let mut restore = c.trash_cli("trash-restore");
    restore
        .arg("--trash-dir")
        .arg(trash_dir(&m))
        .arg(gallery.join("f.txt"))
        .current_dir(&gallery)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = restore.spawn().expect("run trash-restore");
    child.stdin.take().unwrap().write_all(b"0\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(fs::read(gallery.join("f.txt")).unwrap(), b"first");
    assert!(names(&trash_dir(&m).join("info")).is_empty());

    ok(c.trash_cli("trash-put").arg("f.txt").current_dir(&gallery));
    assert_eq!(names(&trash_dir(&m).join("files")), ["f.txt"]);
    assert_eq!(names(&trash_dir(&m).join("info")), ["f.txt.trashinfo"]);
    assert_eq!(names(&m.trash()), ["f.txt"]);
    let listed = ok(c
        .trash_cli("trash-list")
        .arg("--trash-dir")
        .arg(trash_dir(&m)));
    assert_eq!(listed.lines().count(), 1, "trash-list:\n{listed}");

    // trash-empty unlinks the file, then its info.
    ok(c.trash_cli("trash-empty")
        .arg("--trash-dir")
        .arg(trash_dir(&m))
        .arg("-f"));
    write(&gallery.join("f.txt"), b"second");
    ok(c.trash_cli("trash-put").arg("f.txt").current_dir(&gallery));
    assert_eq!(names(&trash_dir(&m).join("files")), ["f.txt"]);
    assert_eq!(names(&trash_dir(&m).join("info")), ["f.txt.trashinfo"]);
    assert_eq!(fs::read(m.trash().join("f.txt")).unwrap(), b"second");
}

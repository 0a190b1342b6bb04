//! The mount root: fixed (`gallery/` and `.trash/` only, read-only), and
//! `.trash` listed only while it holds something.

use super::*;

// ---- 11. the mount root ----------------------------------------------------------

#[test]
fn the_mount_root_is_fixed_and_shows_trash_only_when_not_empty() {
    let m = Mount::new();
    let root = &m.mountpoint;
    let refused = |what: &str, r: io::Result<()>| {
        let e = must_fail(what, r);
        assert!(
            e == libc::EPERM || e == libc::EACCES,
            "{what}: {}",
            io::Error::from_raw_os_error(e)
        );
    };
    refused("create in the root", File::create(root.join("x")).map(drop));
    refused("mkdir in the root", fs::create_dir(root.join("y")));
    refused(
        "symlink in the root",
        std::os::unix::fs::symlink("gallery", root.join("z")),
    );
    refused("rmdir gallery", fs::remove_dir(m.gallery()));
    refused("rmdir .trash", fs::remove_dir(m.trash()));
    refused("rename gallery", fs::rename(m.gallery(), root.join("g2")));
    refused("rename .trash", fs::rename(m.trash(), root.join("t2")));
    write(&m.gallery().join("f"), b"f");
    refused(
        "rename into the root",
        fs::rename(m.gallery().join("f"), root.join("f")),
    );
    refused(
        "rename gallery into the trash",
        fs::rename(m.gallery(), m.trash().join("g")),
    );
    let err = fails(Command::new("touch").arg(root.join("x")));
    assert!(
        err.contains("Operation not permitted") || err.contains("Permission denied"),
        "touch: {err}"
    );
    assert!(exists(&m.gallery().join("f")));

    assert_eq!(
        ls_a(root),
        [".", "..", "gallery"],
        "an empty trash is hidden"
    );
    assert!(
        ok(Command::new("ls").arg(m.trash())).is_empty(),
        "ls of the empty trash"
    );
    let tm = lstat(&m.trash());
    assert!(tm.is_dir());
    assert_eq!(
        (tm.mode() & 0o7777, tm.uid(), tm.gid()),
        (0o1777, 0, 0),
        ".trash mode and owner"
    );

    rm(&m.gallery().join("f"));
    assert_eq!(ls_a(root), [".", "..", ".trash", "gallery"]);
    mv(&m.trash().join("f"), &m.gallery().join("f"));
    assert_eq!(
        ls_a(root),
        [".", "..", "gallery"],
        "trash shown after its last entry was restored"
    );
    rm(&m.gallery().join("f"));
    assert!(ls_a(root).contains(&".trash".to_owned()));
    rm(&m.trash().join("f"));
    assert_eq!(
        ls_a(root),
        [".", "..", "gallery"],
        "trash shown after its last entry was purged"
    );
}

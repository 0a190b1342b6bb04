//! The rows that delete or replace: `rm` moves a file to `.trash/` (a name
//! with other hard links just goes), `mv A B` over an existing B trashes B
//! (and a failed rename leaves it), `rmdir` removes, `rm -r` trashes each
//! file.

use super::*;

// ---- 2, 3. unlink ----------------------------------------------------------------

#[test]
fn rm_moves_the_file_to_the_trash_unchanged() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("a"));
    let f = g.join("a/f");
    write(&f, b"precious pixels");
    xattr::set(&f, "user.own", b"mine").unwrap();
    chmod(&f, 0o640);
    chown(&f, USER, USER);
    touch_d(&f, "2010-05-06 07:08:09.5 UTC");
    let before = meta(&f);

    rm(&f);

    assert!(!exists(&f), "the file is still in the gallery");
    assert!(!exists(&storage_gallery(&m).join("a/f")));
    assert_eq!(
        names(&m.trash()),
        name_set(&["f"]),
        "trash listing; log:\n{}",
        m.log()
    );
    let entry = m.trash().join("f");
    assert_eq!(read(&entry), b"precious pixels");
    assert_eq!(
        meta(&entry),
        before,
        "the entry's metadata differs from the deleted file's"
    );
    assert_eq!(
        xattr::get_opt(&entry, "user.own").as_deref(),
        Some(&b"mine"[..])
    );
    assert_eq!(xattr::get_string(&entry, "user.trash.original_path"), "a/f");
    assert_eq!(
        read(&storage_trash(&m).join("f")),
        b"precious pixels",
        "STORAGE/trash lacks the data"
    );
    assert!(ls_a(&m.mountpoint).contains(&".trash".to_owned()));
    assert_errno(
        "unlink of a directory",
        fs::remove_file(g.join("a")),
        libc::EISDIR,
    );
}

#[test]
fn rm_of_a_hard_linked_name_is_a_real_unlink() {
    let m = Mount::new();
    let g = m.gallery();
    write(&g.join("a"), b"linked");
    fs::hard_link(g.join("a"), g.join("b")).unwrap();

    rm(&g.join("b"));
    assert!(
        names(&m.trash()).is_empty(),
        "a name whose data survives became an entry"
    );
    assert!(names(&storage_trash(&m)).is_empty());
    assert_eq!(
        lstat(&g.join("a")).nlink(),
        1,
        "the remaining name's link count"
    );
    assert_eq!(lstat(&storage_gallery(&m).join("a")).nlink(), 1);
    assert!(!exists(&g.join("b")));

    rm(&g.join("a"));
    assert_eq!(
        names(&m.trash()),
        name_set(&["a"]),
        "the last name must be trashed"
    );
    assert_eq!(read(&m.trash().join("a")), b"linked");
    assert_eq!(lstat(&m.trash().join("a")).nlink(), 1);
}

// ---- 4. rename over an existing file ------------------------------------------

#[test]
fn rename_over_a_file_trashes_the_replaced_one() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("dir"));
    write(&g.join("dir/y"), b"old y");
    write(&g.join("x"), b"new y");
    let x_ino = meta(&g.join("x")).ino;

    mv(&g.join("x"), &g.join("dir/y"));
    assert!(!exists(&g.join("x")));
    assert_eq!(read(&g.join("dir/y")), b"new y");
    assert_eq!(meta(&g.join("dir/y")).ino, x_ino);
    assert_eq!(names(&m.trash()), name_set(&["y"]));
    assert_eq!(
        read(&m.trash().join("y")),
        b"old y",
        "the replaced file's content"
    );
    assert_eq!(
        xattr::get_string(&m.trash().join("y"), "user.trash.original_path"),
        "dir/y"
    );
    assert_eq!(
        xattr::get_string(&m.trash().join("y"), "user.trash.reason"),
        "replaced"
    );

    write(&g.join("z"), b"newest y");
    ok(Command::new("mv")
        .arg("-f")
        .arg(g.join("z"))
        .arg(g.join("dir/y")));
    assert_eq!(read(&g.join("dir/y")), b"newest y");
    assert_eq!(names(&m.trash()), name_set(&["y", "y (2)"]));
    assert_eq!(read(&m.trash().join("y (2)")), b"new y");

    write(&g.join("w"), b"by syscall");
    fs::rename(g.join("w"), g.join("dir/y")).unwrap();
    assert_eq!(read(&m.trash().join("y (3)")), b"newest y");

    // The replaced file has another name: nothing is lost, no entry.
    write(&g.join("h"), b"hard");
    fs::hard_link(g.join("h"), g.join("h2")).unwrap();
    write(&g.join("s"), b"src");
    fs::rename(g.join("s"), g.join("h")).unwrap();
    assert_eq!(read(&g.join("h")), b"src");
    assert_eq!(read(&g.join("h2")), b"hard");
    assert_eq!(lstat(&g.join("h2")).nlink(), 1);
    assert_eq!(
        names(&m.trash()).len(),
        3,
        "a replaced file with another link became an entry"
    );
    assert_eq!(names(&storage_trash(&m)).len(), 3);
}

#[test]
fn a_failed_rename_leaves_the_target_and_the_trash_alone() {
    let m = Mount::new();
    let g = m.gallery();
    let untouched = |what: &str| {
        assert!(
            names(&m.trash()).is_empty(),
            "{what}: the trash changed; log:\n{}",
            m.log()
        );
        assert!(
            names(&storage_trash(&m)).is_empty(),
            "{what}: STORAGE/trash changed"
        );
    };

    mkdir_p(&g.join("full"));
    write(&g.join("full/inside"), b"in");
    write(&g.join("file"), b"file");
    assert_errno(
        "rename of a file onto a non-empty dir",
        fs::rename(g.join("file"), g.join("full")),
        libc::EISDIR,
    );
    assert_eq!(read(&g.join("full/inside")), b"in");
    assert_eq!(read(&g.join("file")), b"file");
    untouched("file onto dir");

    mkdir_p(&g.join("dir"));
    assert_errno(
        "rename of a dir onto a file",
        fs::rename(g.join("dir"), g.join("file")),
        libc::ENOTDIR,
    );
    assert_eq!(read(&g.join("file")), b"file");
    assert!(lstat(&g.join("dir")).is_dir());
    untouched("dir onto file");

    mkdir_p(&g.join("full/sub"));
    write(&g.join("full/sub/deep"), b"deep");
    assert_errno(
        "rename of a dir into itself",
        fs::rename(g.join("full"), g.join("full/sub/x")),
        libc::EINVAL,
    );
    untouched("dir into itself");

    // A failure only the backing store can report: the source vanished
    // behind the kernel's back (its cached name still looks valid).
    write(&g.join("src"), b"src");
    write(&g.join("dst"), b"dst");
    assert!(exists(&g.join("src")) && exists(&g.join("dst")));
    fs::remove_file(storage_gallery(&m).join("src")).unwrap();
    assert_errno(
        "rename of a vanished source",
        fs::rename(g.join("src"), g.join("dst")),
        libc::ENOENT,
    );
    assert_eq!(
        read(&g.join("dst")),
        b"dst",
        "the target was replaced by a failed rename"
    );
    assert_eq!(lstat(&storage_gallery(&m).join("dst")).nlink(), 1);
    untouched("vanished source");
}

// ---- 5. rmdir and rm -r -----------------------------------------------------------

#[test]
fn rmdir_removes_and_rm_r_trashes_the_folder_whole() {
    let m = Mount::new();
    let g = m.gallery();
    mkdir_p(&g.join("empty"));
    fs::remove_dir(g.join("empty")).unwrap();
    assert!(!exists(&g.join("empty")));
    assert!(!exists(&storage_gallery(&m).join("empty")));
    assert!(
        names(&m.trash()).is_empty(),
        "an empty directory became an entry"
    );

    mkdir_p(&g.join("t/sub/deeper"));
    mkdir_p(&g.join("t/sub/empty"));
    write(&g.join("t/a.txt"), b"A");
    write(&g.join("t/sub/b.txt"), b"B");
    write(&g.join("t/sub/deeper/c.txt"), b"C");
    fs::set_permissions(g.join("t/sub"), fs::Permissions::from_mode(0o750)).unwrap();
    ok(Command::new("rm").arg("-r").arg(g.join("t")));

    // One removal of a folder, one entry: the folder, whole.
    assert!(!exists(&g.join("t")));
    assert!(!exists(&storage_gallery(&m).join("t")));
    assert_eq!(names(&m.trash()), name_set(&["t"]));
    let e = m.trash().join("t");
    assert_eq!(xattr::get_string(&e, "user.trash.original_path"), "t");
    assert_eq!(xattr::get_string(&e, "user.trash.reason"), "deleted");
    for (path, content) in [
        ("a.txt", "A"),
        ("sub/b.txt", "B"),
        ("sub/deeper/c.txt", "C"),
    ] {
        assert_eq!(read(&e.join(path)), content.as_bytes());
    }
    assert!(
        lstat(&e.join("sub/empty")).is_dir(),
        "the empty subfolder too"
    );
    assert_eq!(lstat(&e.join("sub")).mode() & 0o7777, 0o750);
    assert_eq!(names(&storage_trash(&m)), name_set(&["t"]));
    // Restored whole by one move.
    fs::rename(&e, g.join("t")).unwrap();
    assert_eq!(read(&g.join("t/sub/deeper/c.txt")), b"C");
    assert!(names(&m.trash()).is_empty());
}

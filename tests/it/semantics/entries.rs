//! What may be done to an entry: `rm .trash/NAME` and `rm -r .trash/DIR`
//! delete permanently (STORAGE keeps nothing), `mv .trash/A .trash/B`
//! renames it with its attributes, and purge and rmdir follow POSIX.

use super::*;

// ---- 8. purge ------------------------------------------------------------------

#[test]
fn purging_deletes_the_data_from_storage() {
    let m = Mount::new();
    let (g, t, st) = (m.gallery(), m.trash(), storage_trash(&m));
    write(&g.join("f"), b"f");
    rm(&g.join("f"));
    rm(&t.join("f"));
    assert!(names(&t).is_empty());
    assert!(
        names(&st).is_empty(),
        "rm .trash/f left data in STORAGE/trash"
    );

    mkdir_p(&g.join("d/sub"));
    write(&g.join("d/sub/x"), b"x");
    write(&g.join("d/y"), b"y");
    mv(&g.join("d"), &t.join("D"));
    ok(Command::new("rm").arg("-r").arg(t.join("D")));
    assert!(!exists(&t.join("D")));
    assert!(
        names(&st).is_empty(),
        "rm -r .trash/D left data in STORAGE/trash"
    );
    assert!(names(&m.storage.join("purging")).is_empty());

    mkdir_p(&g.join("e/sub"));
    write(&g.join("e/sub/x"), b"x");
    write(&g.join("e/y"), b"y");
    mv(&g.join("e"), &t.join("E"));
    rm(&t.join("E/y"));
    assert!(
        !exists(&st.join("E/y")),
        "unlink inside a trashed dir left the data"
    );
    rm(&t.join("E/sub/x"));
    fs::remove_dir(t.join("E/sub")).unwrap();
    assert!(
        !exists(&st.join("E/sub")),
        "rmdir inside a trashed dir left the dir"
    );
    assert_eq!(
        names(&t),
        name_set(&["E"]),
        "the trashed dir is still an entry"
    );
    fs::remove_dir(t.join("E")).unwrap();
    assert!(names(&st).is_empty());
    assert!(!ls_a(&m.mountpoint).contains(&".trash".to_owned()));
}

// ---- 9. rename an entry ---------------------------------------------------------

#[test]
fn renaming_an_entry_keeps_its_attributes() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    write(&g.join("a"), b"a");
    xattr::set(&g.join("a"), "user.own", b"mine").unwrap();
    write(&g.join("b"), b"b");
    rm(&g.join("a"));
    rm(&g.join("b"));
    let deleted_at = xattr::get_string(&t.join("a"), "user.trash.deleted_at");

    mv(&t.join("a"), &t.join("c"));
    assert_eq!(names(&t), name_set(&["b", "c"]));
    assert_eq!(names(&storage_trash(&m)), name_set(&["b", "c"]));
    let c = t.join("c");
    assert_eq!(read(&c), b"a");
    assert_eq!(xattr::get_string(&c, "user.trash.original_path"), "a");
    assert_eq!(xattr::get_string(&c, "user.trash.deleted_at"), deleted_at);
    assert_eq!(
        xattr::get_opt(&c, "user.own").as_deref(),
        Some(&b"mine"[..])
    );

    assert_errno(
        "rename onto another entry",
        fs::rename(&c, t.join("b")),
        libc::EEXIST,
    );
    assert_eq!(read(&t.join("b")), b"b");
    assert_eq!(read(&c), b"a");
    assert_eq!(names(&t), name_set(&["b", "c"]));
}

#[test]
fn purge_and_rmdir_of_entries_follow_posix() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("d"));
    write(&g.join("d/x"), b"x");
    mv(&g.join("d"), &t.join("D"));
    assert_errno(
        "rmdir of a non-empty trashed dir",
        fs::remove_dir(t.join("D")),
        libc::ENOTEMPTY,
    );
    assert_errno(
        "unlink of a trashed dir",
        fs::remove_file(t.join("D")),
        libc::EISDIR,
    );
    assert_eq!(names(&t), name_set(&["D"]));
    assert_eq!(read(&t.join("D/x")), b"x");
    assert_errno(
        "unlink of a missing entry",
        fs::remove_file(t.join("nope")),
        libc::ENOENT,
    );

    // An open file keeps its data after the name is gone.
    write(&g.join("open"), b"still here");
    let mut held = File::open(g.join("open")).unwrap();
    rm(&g.join("open"));
    rm(&t.join("open"));
    assert!(!exists(&storage_trash(&m).join("open")));
    let mut content = Vec::new();
    held.read_to_end(&mut content).unwrap();
    assert_eq!(content, b"still here");
}

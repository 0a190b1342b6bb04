//! `mv gallery/…/x .trash/NAME` makes a named entry, and `mv .trash/NAME
//! gallery/…/P` restores it exactly (content, mode, owner, times, xattrs,
//! inode number).

use super::*;

// ---- 6. move into the trash by name ----------------------------------------------

#[test]
fn mv_into_the_trash_makes_a_named_entry() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("a"));
    write(&g.join("a/x"), b"x");
    chown(&g.join("a/x"), USER, USER);
    mv(&g.join("a/x"), &t.join("keep"));
    assert!(!exists(&g.join("a/x")));
    assert_eq!(read(&t.join("keep")), b"x");
    assert_eq!(
        xattr::get_string(&t.join("keep"), "user.trash.original_path"),
        "a/x"
    );
    assert_eq!(meta(&t.join("keep")).uid, USER);

    mkdir_p(&g.join("d/e"));
    write(&g.join("d/e/f"), b"deep");
    write(&g.join("d/top"), b"top");
    mv(&g.join("d"), &t.join("old dir"));
    assert!(!exists(&g.join("d")));
    assert_eq!(read(&t.join("old dir/e/f")), b"deep");
    assert_eq!(read(&t.join("old dir/top")), b"top");
    assert_eq!(
        xattr::get_string(&t.join("old dir"), "user.trash.original_path"),
        "d"
    );
    assert_eq!(read(&storage_trash(&m).join("old dir/e/f")), b"deep");
    assert_eq!(names(&t), name_set(&["keep", "old dir"]));

    write(&g.join("y"), b"y");
    assert_errno(
        "rename onto a taken entry name",
        fs::rename(g.join("y"), t.join("keep")),
        libc::EEXIST,
    );
    assert_eq!(read(&g.join("y")), b"y", "the file left the gallery");
    assert_eq!(read(&t.join("keep")), b"x", "an entry was replaced");
    assert_eq!(
        xattr::get_string(&t.join("keep"), "user.trash.original_path"),
        "a/x"
    );
    let err = fails(Command::new("mv").arg(g.join("y")).arg(t.join("keep")));
    assert!(err.contains("File exists"), "mv onto a taken entry: {err}");
    assert_eq!(read(&t.join("keep")), b"x");
    assert_eq!(names(&t), name_set(&["keep", "old dir"]));
}

#[test]
fn a_gallery_name_of_a_hard_link_moved_into_the_trash_stays_a_gallery_file() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    // The trash name is the one galleryfs learns last in both cases.
    write(&g.join("b"), b"b");
    fs::hard_link(g.join("b"), g.join("a")).unwrap();
    mv(&g.join("a"), &t.join("A"));
    assert_eq!(read(&t.join("A")), b"b");
    write(&g.join("other"), b"o");
    mkdir_p(&g.join("d"));
    fs::hard_link(g.join("other"), g.join("d/f")).unwrap();
    mv(&g.join("d"), &t.join("D"));
    assert_eq!(read(&t.join("D/f")), b"o");

    for name in ["b", "other"] {
        let p = g.join(name);
        let mut f = OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap_or_else(|e| panic!("gallery/{name} is no longer writable: {e}"));
        f.write_all(b"+").unwrap();
        drop(f);
        chmod(&p, 0o600);
        xattr::set(&p, "user.mine", b"1")
            .unwrap_or_else(|e| panic!("setxattr gallery/{name}: {e}"));
        assert!(
            xattr::trash_names(&p).is_empty(),
            "gallery/{name} lists {:?}",
            xattr::trash_names(&p)
        );
        assert_eq!(
            xattr::get_opt(&p, "user.trash.original_path"),
            None,
            "gallery/{name}"
        );
    }
    assert_eq!(read(&g.join("b")), b"b+");
    assert_eq!(read(&g.join("other")), b"o+");
}

// ---- 7. restore --------------------------------------------------------------

#[test]
fn restore_brings_the_entry_back_exactly() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    mkdir_p(&g.join("a"));
    let f = g.join("a/f");
    write(&f, b"restore me");
    xattr::set(&f, "user.own", b"mine").unwrap();
    chmod(&f, 0o604);
    chown(&f, USER, USER);
    touch_d(&f, "2015-01-02 03:04:05.25 UTC");
    let before = meta(&f);
    rm(&f);
    assert_eq!(names(&t), name_set(&["f"]));

    mv(&t.join("f"), &f);
    assert_eq!(read(&f), b"restore me");
    assert_eq!(meta(&f), before, "restored metadata or inode differ");
    assert_eq!(
        xattr::get_opt(&f, "user.own").as_deref(),
        Some(&b"mine"[..])
    );
    assert!(
        xattr::trash_names(&f).is_empty(),
        "restored file lists {:?}",
        xattr::trash_names(&f)
    );
    assert_eq!(xattr::get_opt(&f, "user.trash.original_path"), None);
    assert!(names(&t).is_empty(), "the entry is still listed");
    assert!(
        names(&storage_trash(&m)).is_empty(),
        "the entry is still in STORAGE/trash"
    );
    assert_eq!(read(&storage_gallery(&m).join("a/f")), b"restore me");
    assert!(!ls_a(&m.mountpoint).contains(&".trash".to_owned()));

    // Restoring over a file sends that file to the trash.
    write(&g.join("other"), b"other");
    rm(&g.join("other"));
    write(&g.join("a/occupant"), b"occupant");
    mv(&t.join("other"), &g.join("a/occupant"));
    assert_eq!(read(&g.join("a/occupant")), b"other");
    let replaced: Vec<OsString> = names(&t).into_iter().collect();
    assert_eq!(
        replaced.len(),
        1,
        "the replaced file did not become one entry: {replaced:?}"
    );
    let replaced = t.join(&replaced[0]);
    assert_eq!(read(&replaced), b"occupant");
    assert_eq!(
        xattr::get_string(&replaced, "user.trash.original_path"),
        "a/occupant"
    );

    // A missing parent is ENOENT, and the entry stays.
    let entry_name = replaced.file_name().unwrap().to_owned();
    assert_errno(
        "restore under a missing directory",
        fs::rename(&replaced, g.join("nope/x")),
        libc::ENOENT,
    );
    assert_eq!(names(&t), BTreeSet::from([entry_name]));

    // A whole directory comes back as it was.
    mkdir_p(&g.join("tree/sub"));
    write(&g.join("tree/sub/leaf"), b"leaf");
    chmod(&g.join("tree/sub"), 0o750);
    let tree_before = (
        meta(&g.join("tree")),
        meta(&g.join("tree/sub")),
        meta(&g.join("tree/sub/leaf")),
    );
    mv(&g.join("tree"), &t.join("tree"));
    assert!(!exists(&g.join("tree")));
    mv(&t.join("tree"), &g.join("tree"));
    let tree_after = (
        meta(&g.join("tree")),
        meta(&g.join("tree/sub")),
        meta(&g.join("tree/sub/leaf")),
    );
    assert_eq!(tree_after, tree_before);
    assert_eq!(read(&g.join("tree/sub/leaf")), b"leaf");
    assert!(xattr::trash_names(&g.join("tree")).is_empty());
}

//! The node table against a temporary backing tree.

use super::*;
use std::fs;
use std::os::unix::fs::MetadataExt;

fn table() -> (tempfile::TempDir, NodeTable) {
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str| -> OwnedFd {
        let path = dir.path().join(name);
        fs::create_dir(&path).unwrap();
        fs::File::open(path).unwrap().into()
    };
    let (gallery, trash) = (open("gallery"), open("trash"));
    (dir, NodeTable::new(gallery, trash).unwrap())
}

fn stat(t: &NodeTable, name: &str) -> Stat {
    backing::fstatat(t.gallery_fd().as_fd(), OsStr::new(name)).unwrap()
}

/// `gallery/d/x`, both known to the kernel: the table, the nodes of `d`
/// and `x`, and `x`'s attributes.
fn folder_with_a_file() -> (tempfile::TempDir, NodeTable, NodeId, NodeId, Stat) {
    let (dir, t) = table();
    fs::create_dir(dir.path().join("gallery/d")).unwrap();
    fs::write(dir.path().join("gallery/d/x"), "x").unwrap();
    let d = t.remember(GALLERY, OsStr::new("d"), &stat(&t, "d"));
    let x_st = stat(&t, "d/x");
    let x = t.remember(d, OsStr::new("x"), &x_st);
    (dir, t, d, x, x_st)
}

#[test]
fn a_number_taken_over_before_the_old_name_is_destroyed_stays_alive() {
    let (dir, t) = table();
    fs::write(dir.path().join("gallery/old"), "old").unwrap();
    let st = stat(&t, "old");
    let id = t.remember(GALLERY, OsStr::new("old"), &st);
    // "old" is removed and a new file gets its inode number, and is
    // remembered, before the removal is recorded.
    fs::rename(
        dir.path().join("gallery/old"),
        dir.path().join("gallery/new"),
    )
    .unwrap();
    assert_eq!(t.remember(GALLERY, OsStr::new("new"), &st), id);
    t.destroyed_pinned(GALLERY, OsStr::new("old"), None);
    // So does the removal of the inode, found by its number: its one name
    // still holds it.
    t.destroyed_inode(GALLERY, OsStr::new("old"), &st, None);
    // The live node keeps its generation: a bumped one would make the
    // kernel treat its inode as stale (EIO).
    assert_eq!(t.remember(GALLERY, OsStr::new("new"), &st), id);
    assert_eq!(t.generation(id), 0);
    assert_eq!(t.stat(id).unwrap().st_ino, st.st_ino);
}

#[test]
fn a_pinned_removed_inode_keeps_its_number_until_forgotten() {
    let (dir, t) = table();
    let path = dir.path().join("gallery/f");
    fs::write(&path, "f").unwrap();
    let st = stat(&t, "f");
    let id = t.remember(GALLERY, OsStr::new("f"), &st);
    assert!(t.pin(GALLERY, OsStr::new("unknown")).is_none());
    let pin = t.pin(GALLERY, OsStr::new("f"));
    assert!(pin.is_some());
    fs::remove_file(&path).unwrap();
    t.destroyed_pinned(GALLERY, OsStr::new("f"), pin);
    // No new file can get the number while the kernel may hold the node.
    for i in 0..50 {
        let p = dir.path().join(format!("gallery/n{i}"));
        fs::write(&p, "n").unwrap();
        assert_ne!(fs::metadata(&p).unwrap().ino(), st.st_ino);
    }
    // A removed node answers ENOENT, not ESTALE.
    assert_eq!(t.stat(id).unwrap_err(), FsError::ENOENT);
    t.forget(id, 1);
    assert_eq!(t.len(), 2, "only gallery and trash are left");
}

#[test]
fn a_new_inode_on_the_number_of_a_purged_trees_file_gets_a_number_of_its_own() {
    let (dir, t, d, x, x_st) = folder_with_a_file();
    assert_eq!(x, x_st.st_ino, "a file's own inode number");
    // The tree goes for good; the kernel still holds both nodes.
    fs::remove_dir_all(dir.path().join("gallery/d")).unwrap();
    t.destroyed_pinned(GALLERY, OsStr::new("d"), None);
    assert_eq!(t.place(x).unwrap_err(), FsError::ENOENT);
    assert_eq!(t.stat(x).unwrap_err(), FsError::ENOENT);
    // A new file the backing filesystem gives the same inode number (the
    // same key here) is not the old node, nor the old node with a new
    // generation (EIO for whoever holds the old one).
    fs::write(dir.path().join("gallery/n"), "n").unwrap();
    let n = t.remember(GALLERY, OsStr::new("n"), &x_st);
    assert_ne!(n, x);
    assert_eq!(t.generation(x), 0);
    assert_eq!(t.find(GALLERY, OsStr::new("n")), Some(n));
    t.forget(x, 1);
    t.forget(d, 1);
    assert_eq!(
        t.remember(GALLERY, OsStr::new("n"), &x_st),
        n,
        "the number stays"
    );
}

#[test]
fn a_folder_moved_into_the_trash_is_removed_for_its_old_number_and_new_through_the_trash() {
    let (dir, t, d, x, x_st) = folder_with_a_file();
    assert_eq!(t.place(x).unwrap(), Place::Gallery);
    fs::rename(dir.path().join("gallery/d"), dir.path().join("trash/d")).unwrap();
    t.depart(GALLERY, OsStr::new("d"), TRASH, OsStr::new("d"));
    // The kernel's old numbers: a removed folder and what is in it.
    assert_eq!(t.place(d).unwrap_err(), FsError::ENOENT);
    assert_eq!(t.place(x).unwrap_err(), FsError::ENOENT);
    // ...whose inode is still reachable for a listing through an open fd.
    assert!(t.dir_fd(d).is_ok());
    // Through the trash's name: numbers of their own, in the trash.
    let d_st = backing::fstatat(t.trash_fd().as_fd(), OsStr::new("d")).unwrap();
    let d2 = t.remember(TRASH, OsStr::new("d"), &d_st);
    assert_ne!(d2, d);
    assert_eq!(t.place(d2).unwrap(), Place::TrashEntry);
    let x2 = t.remember(d2, OsStr::new("x"), &x_st);
    assert_ne!(x2, x);
    assert_eq!(t.place(x2).unwrap(), Place::InTrash);
    assert_eq!(t.find(TRASH, OsStr::new("d")), Some(d2));
    // Once the kernel forgets the old ones, the new ones live on.
    t.forget(x, 1);
    t.forget(d, 1);
    assert_eq!(t.remember(TRASH, OsStr::new("d"), &d_st), d2);
    assert_eq!(t.remember(d2, OsStr::new("x"), &x_st), x2);
}

#[test]
fn a_directory_the_kernel_holds_elsewhere_is_not_given_on_a_lookup_s_old_stat() {
    let (dir, t, d, _x, _) = folder_with_a_file();
    // A lookup of trash/d stat'ed the folder there; it has since moved
    // (the kernel renamed it to gallery/d, which the table knows).
    let st = stat(&t, "d");
    let trash = t.trash_fd().clone();
    assert_eq!(
        t.remember_looked_up(trash.as_fd(), TRASH, OsStr::new("d"), st)
            .err(),
        Some(FsError::ENOENT),
        "stat'ed again: it is not in the trash"
    );
    assert_eq!(t.find(GALLERY, OsStr::new("d")), Some(d), "nothing changed");
    assert_eq!(t.find(TRASH, OsStr::new("d")), None);
    // The same name again is given as usual.
    let gallery = t.gallery_fd().clone();
    let (id, _) = t
        .remember_looked_up(gallery.as_fd(), GALLERY, OsStr::new("d"), st)
        .unwrap();
    assert_eq!(id, d);
    // Moved into the trash behind the kernel's back: the fresh stat finds
    // it there, and as the kernel still holds `d` in the gallery, the trash's
    // name gets a number of its own (the kernel would have to move its
    // dentry of `d` across directories: ESTALE when it cannot lock).
    fs::rename(dir.path().join("gallery/d"), dir.path().join("trash/d")).unwrap();
    let (id, _) = t
        .remember_looked_up(trash.as_fd(), TRASH, OsStr::new("d"), st)
        .unwrap();
    assert_ne!(id, d);
    assert_eq!(t.find(TRASH, OsStr::new("d")), Some(id));
    assert_eq!(t.find(GALLERY, OsStr::new("d")), None);
}

#[test]
fn a_directory_keeps_its_number_where_the_kernel_renamed_it() {
    let (dir, t, d, _x, _) = folder_with_a_file();
    // The kernel's own rename gallery/d -> trash/d moves its dentry along.
    fs::rename(dir.path().join("gallery/d"), dir.path().join("trash/d")).unwrap();
    t.moved(GALLERY, OsStr::new("d"), TRASH, OsStr::new("d"));
    t.kernel_moved(Some(d), TRASH);
    let st = backing::fstatat(t.trash_fd().as_fd(), OsStr::new("d")).unwrap();
    assert_eq!(t.remember(TRASH, OsStr::new("d"), &st), d);
    // Forgotten, it may be named anywhere again.
    t.forget(d, 2);
    fs::rename(dir.path().join("trash/d"), dir.path().join("gallery/d")).unwrap();
    assert_eq!(t.remember(GALLERY, OsStr::new("d"), &stat(&t, "d")), d);
}

#[test]
fn a_file_of_a_trashed_folder_removed_through_one_view_is_dead_in_both() {
    let (dir, t) = table();
    fs::create_dir(dir.path().join("trash/d")).unwrap();
    fs::write(dir.path().join("trash/d/x"), "x").unwrap();
    let trash = t.trash_fd().clone();
    let at = |name: &str| backing::fstatat(trash.as_fd(), OsStr::new(name)).unwrap();
    let (d_st, x_st) = (at("d"), at("d/x"));
    let files = crate::node::View::Files(d_st.st_uid).id();
    let d = t.remember(TRASH, OsStr::new("d"), &d_st);
    let twin = t.remember_in_view(files, OsStr::new("d"), &d_st);
    assert_ne!(d, twin, "a directory has a number of its own in each view");
    // The file keeps one number, whichever view the kernel reached it by
    // (the second lookup replaces the table's first name of it).
    let x = t.remember(d, OsStr::new("x"), &x_st);
    assert_eq!(t.remember(twin, OsStr::new("x"), &x_st), x);
    // Removed for good through `.trash/d/x`.
    fs::remove_file(dir.path().join("trash/d/x")).unwrap();
    t.destroyed_inode(d, OsStr::new("x"), &x_st, None);
    assert_eq!(t.stat(x).unwrap_err(), FsError::ENOENT);
    assert_eq!(t.find(twin, OsStr::new("x")), None);
    // A new file given the freed inode number (the same key here) is not
    // the old one: the kernel would show it with the old one's pages.
    fs::write(dir.path().join("gallery/n"), "n").unwrap();
    assert_ne!(t.remember(GALLERY, OsStr::new("n"), &x_st), x);
}

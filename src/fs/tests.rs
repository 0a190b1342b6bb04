//! The core driven directly, without FUSE: names go in, errnos come out.
use std::ffi::OsStr;
use std::fs;
use std::time::Duration;

use super::*;
use crate::contract::{XATTR_DAYS_LEFT, XATTR_DELETED_AT, XATTR_ORIGINAL_PATH};
use crate::node::{GALLERY, ROOT};

use crate::store::Store;

struct Core {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    fs: GalleryFs,
}

const ME: Caller = Caller {
    uid: 0,
    gid: 0,
    pid: 0,
};

fn core() -> Core {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::open(&root).unwrap();
    let nodes = NodeTable::new(store.gallery_fd, store.trash_fd).unwrap();
    let trash = TrashStore::new(
        store.catalog,
        nodes.gallery_fd().clone(),
        nodes.trash_fd().clone(),
        store.purging_fd,
        store.pending_fd,
        Duration::from_secs(30 * 86_400),
    );
    let fs = GalleryFs::new(nodes, trash, store.storage_fd, Default::default());
    Core {
        _dir: dir,
        root,
        fs,
    }
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn write_file(c: &Core, parent: NodeId, name: &str, data: &[u8]) -> NodeId {
    let (entry, fh) =
        c.fs.create(parent, os(name), 0o644, libc::O_WRONLY, ME)
            .unwrap();
    c.fs.write(fh, 0, data).unwrap();
    c.fs.release(fh);
    entry.node
}

#[test]
fn unlink_in_the_gallery_makes_an_entry_with_xattrs() {
    let c = core();
    let dir = c.fs.mkdir(GALLERY, os("albums"), 0o755, ME).unwrap().node;
    let node = write_file(&c, dir, "cat.jpg", b"meow");
    c.fs.unlink(ME, dir, os("cat.jpg")).unwrap();
    assert_eq!(
        c.fs.lookup(dir, os("cat.jpg")).unwrap_err(),
        FsError::ENOENT
    );
    let entry = c.fs.lookup(TRASH, os("cat.jpg")).unwrap();
    assert_eq!(entry.node, node, "same inode, same node");
    assert_eq!(
        c.fs.getxattr(entry.node, os(XATTR_ORIGINAL_PATH)).unwrap(),
        b"albums/cat.jpg"
    );
    assert_eq!(
        c.fs.getxattr(entry.node, os(XATTR_DAYS_LEFT)).unwrap(),
        b"30d"
    );
    let names = c.fs.listxattr(entry.node).unwrap();
    assert!(
        names
            .split(|&b| b == 0)
            .any(|n| n == XATTR_DELETED_AT.as_bytes())
    );
    assert_eq!(fs::read(c.root.join("trash/cat.jpg")).unwrap(), b"meow");
}

#[test]
fn the_trash_is_read_only_and_the_root_is_not_writable() {
    let c = core();
    write_file(&c, GALLERY, "f", b"x");
    c.fs.unlink(ME, GALLERY, os("f")).unwrap();
    let entry = c.fs.lookup(TRASH, os("f")).unwrap().node;
    assert_eq!(
        c.fs.open(entry, libc::O_WRONLY).unwrap_err(),
        FsError::EROFS
    );
    let chmod = SetAttr {
        mode: Some(0o600),
        ..SetAttr::default()
    };
    assert_eq!(
        c.fs.setattr(entry, chmod, None).unwrap_err(),
        FsError::EROFS
    );
    assert_eq!(
        c.fs.mkdir(TRASH, os("d"), 0o755, ME).unwrap_err(),
        FsError::EROFS
    );
    assert_eq!(
        c.fs.mkdir(ROOT, os("d"), 0o755, ME).unwrap_err(),
        FsError::EPERM
    );
    assert_eq!(
        c.fs.rename(ME, ROOT, os("gallery"), ROOT, os("g"), 0)
            .unwrap_err(),
        FsError::EPERM
    );
    assert!(c.fs.open(entry, libc::O_RDONLY).is_ok());
}

#[test]
fn rename_over_a_file_trashes_it_and_a_failed_rename_keeps_it() {
    let c = core();
    write_file(&c, GALLERY, "old", b"old");
    write_file(&c, GALLERY, "new", b"new");
    c.fs.mkdir(GALLERY, os("dir"), 0o755, ME).unwrap();
    write_file(&c, GALLERY, "dir2", b"not a dir");
    // A directory cannot replace a file: the target stays, the trash stays empty.
    assert_eq!(
        c.fs.rename(ME, GALLERY, os("dir"), GALLERY, os("dir2"), 0)
            .unwrap_err(),
        FsError::ENOTDIR
    );
    assert!(c.fs.lookup(TRASH, os("dir2")).is_err());
    c.fs.rename(ME, GALLERY, os("new"), GALLERY, os("old"), 0)
        .unwrap();
    assert_eq!(fs::read(c.root.join("gallery/old")).unwrap(), b"new");
    assert_eq!(fs::read(c.root.join("trash/old")).unwrap(), b"old");
    let entry = c.fs.lookup(TRASH, os("old")).unwrap().node;
    assert_eq!(
        c.fs.getxattr(entry, os(XATTR_ORIGINAL_PATH)).unwrap(),
        b"old"
    );
}

#[test]
fn restore_replaces_and_trashes_what_was_there() {
    let c = core();
    write_file(&c, GALLERY, "p", b"first");
    c.fs.unlink(ME, GALLERY, os("p")).unwrap();
    write_file(&c, GALLERY, "p", b"second");
    c.fs.rename(ME, TRASH, os("p"), GALLERY, os("p"), 0)
        .unwrap();
    assert_eq!(fs::read(c.root.join("gallery/p")).unwrap(), b"first");
    // "p" was still the restored entry's name when the replaced file was trashed.
    assert_eq!(fs::read(c.root.join("trash/p (2)")).unwrap(), b"second");
    // Into .trash under a taken name: EEXIST, nothing replaced.
    write_file(&c, GALLERY, "q", b"q");
    let taken = c.fs.rename(ME, GALLERY, os("q"), TRASH, os("p (2)"), 0);
    assert_eq!(taken.unwrap_err(), FsError::EEXIST);
    assert_eq!(fs::read(c.root.join("trash/p (2)")).unwrap(), b"second");
}

#[test]
fn hard_linked_files_are_unlinked_for_real() {
    let c = core();
    let node = write_file(&c, GALLERY, "a", b"data");
    c.fs.link(node, GALLERY, os("b")).unwrap();
    c.fs.unlink(ME, GALLERY, os("a")).unwrap();
    assert!(
        c.fs.lookup(TRASH, os("a")).is_err(),
        "no entry while another link exists"
    );
    assert_eq!(c.fs.getattr(node, None).unwrap().0.nlink, 1);
    c.fs.unlink(ME, GALLERY, os("b")).unwrap();
    assert!(c.fs.lookup(TRASH, os("b")).is_ok());
}

fn names(c: &Core, dir: NodeId) -> Vec<String> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let items = c.fs.readdir(dir, offset).unwrap();
        let Some(last) = items.last() else { break };
        offset = last.offset;
        out.extend(
            items
                .iter()
                .map(|i| i.name.to_string_lossy().into_owned())
                .filter(|n| n != "." && n != ".."),
        );
    }
    out
}

fn total_size(c: &Core) -> u64 {
    let value = c.fs.getxattr(TRASH, os("user.trash.total_size")).unwrap();
    String::from_utf8(value).unwrap().parse().unwrap()
}

#[test]
fn the_root_shows_the_trash_only_when_it_holds_something() {
    let c = core();
    assert_eq!(names(&c, ROOT), ["gallery"]);
    write_file(&c, GALLERY, "f", b"x");
    c.fs.unlink(ME, GALLERY, os("f")).unwrap();
    assert_eq!(names(&c, ROOT), ["gallery", ".trash"]);
    let (attr, _) = c.fs.getattr(TRASH, None).unwrap();
    assert_eq!(attr.perm, 0o1777, "sticky and world-writable, like /tmp");
    assert_eq!(names(&c, TRASH), ["f"]);
}

#[test]
fn removing_an_entry_inside_the_trash_deletes_it_for_good() {
    let c = core();
    write_file(&c, GALLERY, "f", b"data");
    c.fs.unlink(ME, GALLERY, os("f")).unwrap();
    c.fs.lookup(TRASH, os("f")).unwrap();
    c.fs.unlink(ME, TRASH, os("f")).unwrap();
    assert!(names(&c, TRASH).is_empty());
    assert!(!c.root.join("trash/f").exists());
    assert_eq!(
        c.fs.unlink(ME, TRASH, os("f")).unwrap_err(),
        FsError::ENOENT,
        "never ESTALE"
    );
}

#[test]
fn moving_a_folder_into_the_trash_and_back_restores_it_whole() {
    let c = core();
    let album = c.fs.mkdir(GALLERY, os("album"), 0o750, ME).unwrap().node;
    write_file(&c, album, "a.jpg", b"a");
    write_file(&c, album, "b.jpg", b"b");
    c.fs.rename(ME, GALLERY, os("album"), TRASH, os("album"), 0)
        .unwrap();
    assert_eq!(names(&c, TRASH), ["album"]);
    let entry = c.fs.lookup(TRASH, os("album")).unwrap().node;
    assert_eq!(
        c.fs.getxattr(entry, os(XATTR_ORIGINAL_PATH)).unwrap(),
        b"album"
    );
    assert_eq!(
        c.fs.open(c.fs.lookup(entry, os("a.jpg")).unwrap().node, libc::O_RDWR)
            .unwrap_err(),
        FsError::EROFS,
        "nothing in the trash opens for writing"
    );
    c.fs.rename(ME, TRASH, os("album"), GALLERY, os("back"), 0)
        .unwrap();
    assert_eq!(fs::read(c.root.join("gallery/back/b.jpg")).unwrap(), b"b");
    assert!(names(&c, TRASH).is_empty());
    assert_eq!(total_size(&c), 0);
}

#[test]
fn a_partial_restore_and_a_delete_inside_shrink_the_entry() {
    let c = core();
    let album = c.fs.mkdir(GALLERY, os("album"), 0o755, ME).unwrap().node;
    write_file(&c, album, "big", &[7u8; 64 * 1024]);
    write_file(&c, album, "small", b"s");
    write_file(&c, album, "gone", &[1u8; 16 * 1024]);
    c.fs.rename(ME, GALLERY, os("album"), TRASH, os("album"), 0)
        .unwrap();
    let before = total_size(&c);
    let entry = c.fs.lookup(TRASH, os("album")).unwrap().node;
    c.fs.lookup(entry, os("big")).unwrap();
    c.fs.rename(ME, entry, os("big"), GALLERY, os("big"), 0)
        .unwrap();
    assert_eq!(
        fs::read(c.root.join("gallery/big")).unwrap().len(),
        64 * 1024
    );
    let after_restore = total_size(&c);
    assert!(
        after_restore + 64 * 1024 <= before,
        "{after_restore} vs {before}"
    );
    c.fs.lookup(entry, os("gone")).unwrap();
    c.fs.unlink(ME, entry, os("gone")).unwrap();
    assert!(total_size(&c) + 16 * 1024 <= after_restore);
    assert_eq!(names(&c, entry), ["small"]);
    // Nothing moves into a trashed directory.
    write_file(&c, GALLERY, "new", b"n");
    assert_eq!(
        c.fs.rename(ME, GALLERY, os("new"), entry, os("new"), 0)
            .unwrap_err(),
        FsError::EROFS
    );
}

#[test]
fn the_desktop_view_shows_each_uid_its_own_entries() {
    let c = core();
    write_file(&c, GALLERY, "mine.jpg", b"m");
    c.fs.unlink(ME, GALLERY, os("mine.jpg")).unwrap();
    let top = c.fs.lookup(ROOT, os(".Trash-0")).unwrap().node;
    let files = c.fs.lookup(top, os("files")).unwrap().node;
    assert_eq!(files, View::Files(0).id());
    assert_eq!(names(&c, files), ["mine.jpg"]);
    let info = c.fs.lookup(top, os("info")).unwrap().node;
    assert_eq!(names(&c, info), ["mine.jpg.trashinfo"]);
    let info_file = c.fs.lookup(info, os("mine.jpg.trashinfo")).unwrap().node;
    let fh = c.fs.open(info_file, libc::O_RDONLY).unwrap();
    let text = String::from_utf8(c.fs.read(fh, 0, 4096).unwrap()).unwrap();
    c.fs.release(fh);
    assert!(
        text.starts_with("[Trash Info]\nPath=gallery/mine.jpg\n"),
        "{text}"
    );
    // Another uid may not look into uid 0's view, nor see its entries in its own.
    let other = Caller {
        uid: 1000,
        gid: 1000,
        pid: 0,
    };
    assert_eq!(
        c.fs.lookup_as(other, ROOT, os(".Trash-0")).unwrap_err(),
        FsError::EACCES
    );
    let theirs = View::Files(1000).id();
    assert!(names(&c, theirs).is_empty());
    assert_eq!(
        c.fs.lookup(theirs, os("mine.jpg")).unwrap_err(),
        FsError::ENOENT
    );
}

#[test]
fn moving_an_entry_into_expunged_purges_it() {
    let c = core();
    write_file(&c, GALLERY, "x", b"x");
    c.fs.unlink(ME, GALLERY, os("x")).unwrap();
    let top = c.fs.lookup(ROOT, os(".Trash-0")).unwrap().node;
    let expunged = c.fs.mkdir(top, os("expunged"), 0o700, ME).unwrap().node;
    let files = View::Files(0).id();
    c.fs.lookup(files, os("x")).unwrap();
    c.fs.rename(ME, files, os("x"), expunged, os("K1"), 0)
        .unwrap();
    assert!(names(&c, TRASH).is_empty());
    assert!(names(&c, expunged).is_empty());
    assert!(!c.root.join("trash/x").exists());
}

#[test]
fn renaming_an_entry_keeps_its_metadata_and_refuses_taken_names() {
    let c = core();
    let d = c.fs.mkdir(GALLERY, os("d"), 0o755, ME).unwrap().node;
    write_file(&c, d, "a", b"a");
    write_file(&c, d, "b", b"b");
    c.fs.unlink(ME, d, os("a")).unwrap();
    c.fs.unlink(ME, d, os("b")).unwrap();
    assert_eq!(
        c.fs.rename(ME, TRASH, os("a"), TRASH, os("b"), 0)
            .unwrap_err(),
        FsError::EEXIST
    );
    c.fs.rename(ME, TRASH, os("a"), TRASH, os("c"), 0).unwrap();
    let entry = c.fs.lookup(TRASH, os("c")).unwrap().node;
    assert_eq!(
        c.fs.getxattr(entry, os(XATTR_ORIGINAL_PATH)).unwrap(),
        b"d/a"
    );
    assert_eq!(
        c.fs.rename(ME, TRASH, os("c"), TRASH, os("e"), libc::RENAME_EXCHANGE)
            .unwrap_err(),
        FsError::EINVAL,
        "exchange is for the gallery only"
    );
}

#[test]
fn setting_trash_attributes_is_refused_everywhere() {
    let c = core();
    let node = write_file(&c, GALLERY, "f", b"x");
    assert_eq!(
        c.fs.setxattr(node, os(XATTR_ORIGINAL_PATH), b"x", 0)
            .unwrap_err(),
        FsError::ENOTSUP,
        "reserved in the gallery"
    );
    c.fs.setxattr(node, os("user.note"), b"kept", 0).unwrap();
    c.fs.unlink(ME, GALLERY, os("f")).unwrap();
    let entry = c.fs.lookup(TRASH, os("f")).unwrap().node;
    assert_eq!(c.fs.getxattr(entry, os("user.note")).unwrap(), b"kept");
    assert_eq!(
        c.fs.setxattr(entry, os("user.note"), b"changed", 0)
            .unwrap_err(),
        FsError::EROFS
    );
    assert_eq!(
        c.fs.setxattr(ROOT, os("user.note"), b"x", 0).unwrap_err(),
        FsError::EPERM
    );
}

/// The NUL-separated names of a listxattr answer.
fn xattr_names(list: &[u8]) -> Vec<String> {
    list.split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8(n.to_vec()).unwrap())
        .collect()
}

#[test]
fn litter_is_marked_and_left_out_of_the_desktop_view() {
    let c = core();
    write_file(&c, GALLERY, ".notes.swp", b"swap");
    write_file(&c, GALLERY, "notes", b"n");
    c.fs.unlink(ME, GALLERY, os(".notes.swp")).unwrap();
    c.fs.unlink(ME, GALLERY, os("notes")).unwrap();
    assert_eq!(names(&c, TRASH), [".notes.swp", "notes"]);
    let swap = c.fs.lookup(TRASH, os(".notes.swp")).unwrap().node;
    let litter = crate::contract::XATTR_LITTER;
    assert_eq!(c.fs.getxattr(swap, os(litter)).unwrap(), b"yes");
    assert!(xattr_names(&c.fs.listxattr(swap).unwrap()).contains(&litter.to_string()));
    let notes = c.fs.lookup(TRASH, os("notes")).unwrap().node;
    assert_eq!(
        c.fs.getxattr(notes, os(litter)).unwrap_err(),
        FsError::ENODATA
    );
    assert!(!xattr_names(&c.fs.listxattr(notes).unwrap()).contains(&litter.to_string()));
    let top = c.fs.lookup(ROOT, os(".Trash-0")).unwrap().node;
    let files = c.fs.lookup(top, os("files")).unwrap().node;
    assert_eq!(names(&c, files), ["notes"]);
    assert_eq!(
        c.fs.lookup(files, os(".notes.swp")).unwrap_err(),
        FsError::ENOENT
    );
    let info = c.fs.lookup(top, os("info")).unwrap().node;
    assert_eq!(names(&c, info), ["notes.trashinfo"]);
    // By name, its info file is there, with its facts.
    let swap_info = c.fs.lookup(info, os(".notes.swp.trashinfo")).unwrap().node;
    assert_eq!(c.fs.getxattr(swap_info, os(litter)).unwrap(), b"yes");
}

#[test]
fn an_info_file_carries_its_entrys_attributes() {
    let c = core();
    c.fs.symlink(GALLERY, os("link"), os("target"), ME).unwrap();
    c.fs.unlink(ME, GALLERY, os("link")).unwrap();
    let top = c.fs.lookup(ROOT, os(".Trash-0")).unwrap().node;
    let info = c.fs.lookup(top, os("info")).unwrap().node;
    let file = c.fs.lookup(info, os("link.trashinfo")).unwrap().node;
    assert_eq!(
        c.fs.getxattr(file, os(XATTR_ORIGINAL_PATH)).unwrap(),
        b"link"
    );
    assert_eq!(c.fs.getxattr(file, os(XATTR_DAYS_LEFT)).unwrap(), b"30d");
    let listed = xattr_names(&c.fs.listxattr(file).unwrap());
    for name in crate::contract::ENTRY_XATTRS {
        assert!(listed.contains(&name.to_string()), "{listed:?}");
    }
    assert_eq!(
        c.fs.getxattr(file, os("user.x")).unwrap_err(),
        FsError::ENODATA
    );
    // The rest of the view has none.
    assert!(c.fs.listxattr(info).unwrap().is_empty());
    assert_eq!(
        c.fs.getxattr(info, os(XATTR_DELETED_AT)).unwrap_err(),
        FsError::ENODATA
    );
}

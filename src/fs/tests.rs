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

const ME: Caller = Caller { uid: 0, gid: 0 };

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
        Duration::from_secs(30 * 86_400),
    );
    let fs = GalleryFs::new(nodes, trash, store.storage_fd);
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
    c.fs.unlink(dir, os("cat.jpg")).unwrap();
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
    c.fs.unlink(GALLERY, os("f")).unwrap();
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
        c.fs.rename(ROOT, os("gallery"), ROOT, os("g"), 0)
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
        c.fs.rename(GALLERY, os("dir"), GALLERY, os("dir2"), 0)
            .unwrap_err(),
        FsError::ENOTDIR
    );
    assert!(c.fs.lookup(TRASH, os("dir2")).is_err());
    c.fs.rename(GALLERY, os("new"), GALLERY, os("old"), 0)
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
    c.fs.unlink(GALLERY, os("p")).unwrap();
    write_file(&c, GALLERY, "p", b"second");
    c.fs.rename(TRASH, os("p"), GALLERY, os("p"), 0).unwrap();
    assert_eq!(fs::read(c.root.join("gallery/p")).unwrap(), b"first");
    // "p" was still the restored entry's name when the replaced file was trashed.
    assert_eq!(fs::read(c.root.join("trash/p (2)")).unwrap(), b"second");
    // Into .trash under a taken name: EEXIST, nothing replaced.
    write_file(&c, GALLERY, "q", b"q");
    let taken = c.fs.rename(GALLERY, os("q"), TRASH, os("p (2)"), 0);
    assert_eq!(taken.unwrap_err(), FsError::EEXIST);
    assert_eq!(fs::read(c.root.join("trash/p (2)")).unwrap(), b"second");
}

#[test]
fn hard_linked_files_are_unlinked_for_real() {
    let c = core();
    let node = write_file(&c, GALLERY, "a", b"data");
    c.fs.link(node, GALLERY, os("b")).unwrap();
    c.fs.unlink(GALLERY, os("a")).unwrap();
    assert!(
        c.fs.lookup(TRASH, os("a")).is_err(),
        "no entry while another link exists"
    );
    assert_eq!(c.fs.getattr(node, None).unwrap().0.nlink, 1);
    c.fs.unlink(GALLERY, os("b")).unwrap();
    assert!(c.fs.lookup(TRASH, os("b")).is_ok());
}

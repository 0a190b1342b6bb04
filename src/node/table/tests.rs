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
    t.destroyed(GALLERY, OsStr::new("old"));
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

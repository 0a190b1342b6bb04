//! The store driven directly: moves, crashes between their steps, reconcile.

use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use super::Store;
use super::catalog::EntryState;
use super::reconcile::ReconcileReport;
use super::trash::{NewRow, Origin, TrashStore};
use crate::backing;
use crate::clock::now_secs;
use crate::contract::Reason;
use crate::error::FsError;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn origin_b(st: &backing::Stat) -> Origin<'_> {
    Origin {
        original_path: b"b",
        st,
        by: None,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    trash: TrashStore,
}

fn fixture(retention: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::open(&root).unwrap();
    let trash = TrashStore::new(
        store.catalog,
        Arc::new(store.gallery_fd),
        Arc::new(store.trash_fd),
        store.purging_fd,
        store.pending_fd,
        retention,
    );
    std::mem::forget(store.storage_fd);
    Fixture {
        _dir: dir,
        root,
        trash,
    }
}

impl Fixture {
    fn gallery(&self) -> std::path::PathBuf {
        self.root.join("gallery")
    }
    fn trash_dir(&self) -> std::path::PathBuf {
        self.root.join("trash")
    }
    fn names(&self, dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }
    fn put(&self, name: &str) -> Vec<u8> {
        let st = backing::fstatat(self.trash.gallery_fd.as_fd(), OsStr::new(name)).unwrap();
        let origin = Origin {
            original_path: name.as_bytes(),
            st: &st,
            by: None,
        };
        self.trash
            .put(self.trash.gallery_fd.as_fd(), OsStr::new(name), origin)
            .unwrap()
    }
}

const MONTH: Duration = Duration::from_secs(30 * 86_400);

#[test]
fn put_moves_the_file_and_records_it_under_a_free_name() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("cat.jpg"), "one").unwrap();
    assert_eq!(f.put("cat.jpg"), b"cat.jpg");
    fs::write(f.gallery().join("cat.jpg"), "two").unwrap();
    assert_eq!(f.put("cat.jpg"), b"cat (2).jpg");
    assert_eq!(f.names(&f.trash_dir()), ["cat (2).jpg", "cat.jpg"]);
    assert_eq!(
        fs::read_to_string(f.trash_dir().join("cat (2).jpg")).unwrap(),
        "two"
    );
    let entry = f.trash.lookup(b"cat (2).jpg").unwrap().unwrap();
    assert_eq!(entry.row.original_path, b"cat.jpg");
    assert_eq!(crate::contract::days_left(entry.expires_at, now_secs()), 30);
    assert!(f.names(&f.gallery()).is_empty());
}

#[test]
fn a_crash_between_row_and_rename_leaves_the_file_in_the_gallery() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("a"), "a").unwrap();
    let st = backing::fstatat(f.trash.gallery_fd.as_fd(), OsStr::new("a")).unwrap();
    let origin = Origin {
        original_path: b"a",
        st: &st,
        by: None,
    };
    let new = NewRow {
        name: b"a",
        origin: &origin,
        size: 0,
        state: EntryState::Settled,
        reason: crate::contract::Reason::Deleted,
        litter: false,
    };
    TrashStore::new_row(&f.trash.catalog(), &new).unwrap();
    let report = f.trash.reconcile().unwrap();
    assert_eq!(report.rows_dropped, 1);
    assert!(f.trash.lookup(b"a").unwrap().is_none());
    assert_eq!(f.names(&f.gallery()), ["a"]);
}

#[test]
fn an_interrupted_replacement_rolls_back_if_the_rename_never_happened() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("b"), "old").unwrap();
    let gallery = f.trash.gallery_fd.clone();
    let st = backing::fstatat(gallery.as_fd(), OsStr::new("b")).unwrap();
    let stash = f
        .trash
        .stash(gallery.as_fd(), OsStr::new("b"), origin_b(&st))
        .unwrap();
    std::mem::forget(stash); // crash: neither settled nor unstashed
    let report = f.trash.reconcile().unwrap();
    assert_eq!(report.rolled_back, 1);
    assert!(
        f.names(&f.trash_dir()).is_empty(),
        "the hard link is removed"
    );
    assert_eq!(fs::metadata(f.gallery().join("b")).unwrap().nlink(), 1);
}

#[test]
fn an_interrupted_replacement_settles_if_the_rename_happened() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("b"), "old").unwrap();
    fs::write(f.gallery().join("new"), "new").unwrap();
    let gallery = f.trash.gallery_fd.clone();
    let st = backing::fstatat(gallery.as_fd(), OsStr::new("b")).unwrap();
    let stash = f
        .trash
        .stash(gallery.as_fd(), OsStr::new("b"), origin_b(&st))
        .unwrap();
    fs::rename(f.gallery().join("new"), f.gallery().join("b")).unwrap();
    std::mem::forget(stash); // crash before settle
    let report = f.trash.reconcile().unwrap();
    assert_eq!(report.finished, 1);
    assert_eq!(fs::read_to_string(f.trash_dir().join("b")).unwrap(), "old");
    assert_eq!(fs::read_to_string(f.gallery().join("b")).unwrap(), "new");
    assert!(f.trash.lookup(b"b").unwrap().is_some());
}

#[test]
fn an_interrupted_entry_rename_keeps_whichever_name_exists() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("x"), "x").unwrap();
    f.put("x");
    let id = f.trash.lookup(b"x").unwrap().unwrap().row.id;
    // Crash after the row changed but before the rename.
    assert!(f.trash.catalog().begin_rename(id, b"y").unwrap());
    f.trash.reconcile().unwrap();
    assert!(f.trash.lookup(b"x").unwrap().is_some());
    assert!(f.trash.lookup(b"y").unwrap().is_none());
    // Crash after the rename too.
    assert!(f.trash.catalog().begin_rename(id, b"y").unwrap());
    fs::rename(f.trash_dir().join("x"), f.trash_dir().join("y")).unwrap();
    f.trash.reconcile().unwrap();
    let entry = f.trash.lookup(b"y").unwrap().unwrap();
    assert_eq!(entry.row.original_path, b"x");
}

#[test]
fn reconcile_adopts_orphan_files_and_finishes_parked_deletions() {
    let f = fixture(MONTH);
    fs::write(f.trash_dir().join("stray.txt"), "s").unwrap();
    fs::create_dir_all(f.root.join("purging/7-1/deep")).unwrap();
    fs::write(f.root.join("purging/7-1/deep/f"), "f").unwrap();
    let report = f.trash.reconcile().unwrap();
    assert_eq!(report.rows_added, 1);
    let entry = f.trash.lookup(b"stray.txt").unwrap().unwrap();
    assert_eq!(entry.row.original_path, b"stray.txt");
    assert!(f.names(&f.root.join("purging")).is_empty());
    assert_eq!(f.trash.reconcile().unwrap(), ReconcileReport::default());
    // After a clean stop, the next mount trusts the catalog.
    f.trash.close();
    fs::write(f.trash_dir().join("late"), "l").unwrap();
    assert_eq!(f.trash.reconcile().unwrap(), ReconcileReport::default());
    // After an unclean one (still marked in use), it checks everything.
    assert_eq!(f.trash.reconcile().unwrap().rows_added, 1);
}

#[test]
fn expiry_deletes_due_entries_and_hides_them_before() {
    let f = fixture(Duration::from_secs(3600));
    fs::create_dir_all(f.gallery().join("album/sub")).unwrap();
    fs::write(f.gallery().join("album/sub/p.jpg"), "p").unwrap();
    fs::write(f.gallery().join("fresh"), "f").unwrap();
    f.put("album");
    f.put("fresh");
    // Age "album" past the retention.
    f.trash
        .catalog()
        .conn
        .execute(
            "UPDATE entries SET deleted_at = deleted_at - 7200 WHERE name = ?1",
            [&b"album"[..]],
        )
        .unwrap();
    assert!(
        f.trash.lookup(b"album").unwrap().is_none(),
        "expired entries are hidden"
    );
    let purged = f.trash.expire_batch().unwrap();
    assert_eq!(purged.len(), 1);
    assert_eq!(f.names(&f.trash_dir()), ["fresh"]);
    assert!(f.names(&f.root.join("purging")).is_empty());
    assert!(f.trash.expire_batch().unwrap().is_empty());
}

#[test]
fn expiry_never_purges_a_newer_entry_that_took_the_expired_ones_name() {
    let f = fixture(Duration::from_secs(3600));
    fs::write(f.gallery().join("a"), "old").unwrap();
    f.put("a");
    f.trash
        .catalog()
        .conn
        .execute(
            "UPDATE entries SET deleted_at = deleted_at - 7200 WHERE name = ?1",
            [&b"a"[..]],
        )
        .unwrap();
    // The sweep has read the expired row...
    let stale = f.trash.catalog().expired(now_secs() - 3600, 10).unwrap();
    assert_eq!(stale.len(), 1);
    // ...when the entry is restored and a new file called "a" is trashed.
    let gallery = f.trash.gallery_fd.clone();
    f.trash
        .take_out(b"a", gallery.as_fd(), OsStr::new("restored"), 0)
        .unwrap();
    fs::write(f.gallery().join("a"), "new").unwrap();
    assert_eq!(f.put("a"), b"a");
    assert_eq!(
        f.trash.purge_row(&stale[0]).unwrap_err(),
        FsError::ENOENT,
        "the newer entry is not the expired one"
    );
    assert_eq!(fs::read_to_string(f.trash_dir().join("a")).unwrap(), "new");
    assert!(f.trash.lookup(b"a").unwrap().is_some());
    // The same for a rename: the expired row, renamed, keeps its row.
    f.trash.rename(b"a", b"b").unwrap();
    let renamed = f.trash.catalog().by_name(b"b").unwrap().unwrap();
    let mut old_name = renamed.clone();
    old_name.name = b"a".to_vec();
    assert!(f.trash.purge_row(&old_name).is_err());
    assert!(f.trash.catalog().by_name(b"b").unwrap().is_some());
    assert_eq!(
        fs::read_to_string(f.gallery().join("restored")).unwrap(),
        "old"
    );
}

#[test]
fn take_out_restores_and_forgets_the_row() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("r"), "r").unwrap();
    f.put("r");
    let gallery = f.trash.gallery_fd.clone();
    f.trash
        .take_out(b"r", gallery.as_fd(), OsStr::new("back"), 0)
        .unwrap();
    assert_eq!(fs::read_to_string(f.gallery().join("back")).unwrap(), "r");
    assert!(f.trash.catalog().by_name(b"r").unwrap().is_none());
}

#[test]
fn an_interrupted_displacement_moves_the_file_back_if_the_rename_never_happened() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("b"), "old").unwrap();
    let gallery = f.trash.gallery_fd.clone();
    let st = backing::fstatat(gallery.as_fd(), OsStr::new("b")).unwrap();
    let stash = f
        .trash
        .displace(
            gallery.as_fd(),
            OsStr::new("b"),
            origin_b(&st),
            Reason::Replaced,
        )
        .unwrap();
    assert!(
        !f.gallery().join("b").exists(),
        "moved aside for the rename"
    );
    std::mem::forget(stash); // crash: neither settled nor unstashed
    let report = f.trash.reconcile().unwrap();
    assert_eq!(report.rolled_back, 1);
    assert_eq!(fs::read_to_string(f.gallery().join("b")).unwrap(), "old");
    assert!(f.names(&f.trash_dir()).is_empty());
    assert!(f.trash.lookup(b"b").unwrap().is_none());
}

#[test]
fn an_interrupted_displacement_settles_if_the_rename_happened() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("b"), "old").unwrap();
    fs::write(f.gallery().join("new"), "new").unwrap();
    let gallery = f.trash.gallery_fd.clone();
    let st = backing::fstatat(gallery.as_fd(), OsStr::new("b")).unwrap();
    let stash = f
        .trash
        .displace(
            gallery.as_fd(),
            OsStr::new("b"),
            origin_b(&st),
            Reason::Replaced,
        )
        .unwrap();
    fs::rename(f.gallery().join("new"), f.gallery().join("b")).unwrap();
    std::mem::forget(stash); // crash before settle
    assert_eq!(f.trash.reconcile().unwrap().finished, 1);
    assert_eq!(fs::read_to_string(f.trash_dir().join("b")).unwrap(), "old");
    assert_eq!(fs::read_to_string(f.gallery().join("b")).unwrap(), "new");
    assert!(f.trash.lookup(b"b").unwrap().is_some());
}

#[test]
fn a_failed_rename_puts_a_displaced_file_back() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("b"), "old").unwrap();
    let gallery = f.trash.gallery_fd.clone();
    let st = backing::fstatat(gallery.as_fd(), OsStr::new("b")).unwrap();
    let stash = f
        .trash
        .displace(
            gallery.as_fd(),
            OsStr::new("b"),
            origin_b(&st),
            Reason::Replaced,
        )
        .unwrap();
    f.trash.unstash(stash, gallery.as_fd()).unwrap();
    assert_eq!(fs::read_to_string(f.gallery().join("b")).unwrap(), "old");
    assert!(f.names(&f.trash_dir()).is_empty());
    assert_eq!(f.trash.reconcile().unwrap(), ReconcileReport::default());
}

#[test]
fn sizes_a_crash_left_stale_are_measured_again() {
    let f = fixture(MONTH);
    fs::create_dir(f.gallery().join("album")).unwrap();
    fs::write(f.gallery().join("album/big"), vec![1u8; 64 * 1024]).unwrap();
    fs::write(f.gallery().join("album/small"), "s").unwrap();
    f.put("album");
    let id = f.trash.lookup(b"album").unwrap().unwrap().row.id;
    let before = f.trash.lookup(b"album").unwrap().unwrap().row.size;
    // Crash between the change inside the entry and its new size.
    f.trash.catalog().begin_resize(id).unwrap();
    fs::remove_file(f.trash_dir().join("album/big")).unwrap();
    let report = f.trash.reconcile().unwrap();
    assert_eq!(report.remeasured, 1);
    let after = f.trash.lookup(b"album").unwrap().unwrap().row.size;
    assert!(after + 64 * 1024 <= before, "{after} vs {before}");
    assert_eq!(
        after,
        backing::tree_size(f.trash.trash_fd.as_fd(), OsStr::new("album")).unwrap()
    );
    assert_eq!(
        f.trash.reconcile().unwrap().remeasured,
        0,
        "the mark is gone"
    );
}

/// Ages entry `name` by `secs`.
fn age(f: &Fixture, name: &[u8], secs: i64) {
    f.trash
        .catalog()
        .conn
        .execute(
            "UPDATE entries SET deleted_at = deleted_at - ?2 WHERE name = ?1",
            rusqlite::params![name, secs],
        )
        .unwrap();
}

#[test]
fn litter_expires_after_its_own_retention() {
    let f = fixture(MONTH);
    for (name, content) in [(".notes.swp", "swap"), ("empty", ""), ("notes", "n")] {
        fs::write(f.gallery().join(name), content).unwrap();
        f.put(name);
    }
    fs::create_dir_all(f.gallery().join("repo/.git/refs")).unwrap();
    fs::write(f.gallery().join("repo/.git/index"), "i").unwrap();
    let st = backing::fstatat(f.trash.gallery_fd.as_fd(), OsStr::new("repo/.git/index")).unwrap();
    let dir = backing::open_dir_path(f.trash.gallery_fd.as_fd(), OsStr::new("repo/.git")).unwrap();
    let origin = Origin {
        original_path: b"repo/.git/index",
        st: &st,
        by: None,
    };
    f.trash
        .put(dir.as_fd(), OsStr::new("index"), origin)
        .unwrap();
    let litter = |name: &[u8]| f.trash.lookup(name).unwrap().unwrap().litter;
    assert!(litter(b".notes.swp") && litter(b"empty") && litter(b"index"));
    assert!(!litter(b"notes"));
    let swap = f.trash.lookup(b".notes.swp").unwrap().unwrap();
    assert_eq!(swap.expires_at, swap.row.deleted_at + 3600);
    for name in [&b".notes.swp"[..], b"empty", b"index", b"notes"] {
        age(&f, name, 3601);
    }
    assert!(
        f.trash.lookup(b"empty").unwrap().is_none(),
        "hidden once expired"
    );
    let mut purged: Vec<_> = f
        .trash
        .expire_batch()
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    purged.sort();
    assert_eq!(purged, [&b".notes.swp"[..], b"empty", b"index"]);
    assert_eq!(f.names(&f.trash_dir()), ["notes"]);
    assert!(f.trash.has_live_entries().unwrap());
}

#[test]
fn a_move_into_the_trash_is_never_litter_and_off_makes_none() {
    let f = fixture(MONTH);
    fs::write(f.gallery().join("a~"), "a").unwrap();
    let st = backing::fstatat(f.trash.gallery_fd.as_fd(), OsStr::new("a~")).unwrap();
    let origin = Origin {
        original_path: b"a~",
        st: &st,
        by: None,
    };
    f.trash
        .put_as(f.trash.gallery_fd.as_fd(), OsStr::new("a~"), b"a~", origin)
        .unwrap();
    assert!(!f.trash.lookup(b"a~").unwrap().unwrap().litter);
    fs::write(f.gallery().join("b~"), "b").unwrap();
    f.put("b~");
    age(&f, b"b~", 3601);
    assert!(f.trash.lookup(b"b~").unwrap().is_none());
    // With litter off, what was marked is an entry like any other.
    let off = crate::config::Litter {
        on: false,
        ..Default::default()
    };
    let trash = f.trash.with_litter(&off);
    let entry = trash.lookup(b"b~").unwrap().unwrap();
    assert!(!entry.litter && entry.row.litter);
    assert_eq!(entry.expires_at, entry.row.deleted_at + 30 * 86_400);
    assert!(trash.expire_batch().unwrap().is_empty());
}

#[test]
fn a_file_put_in_trash_behind_galleryfs_s_back_keeps_its_name_and_a_new_entry_takes_the_next() {
    let f = fixture(MONTH);
    fs::write(f.trash_dir().join("a.jpg"), "stray").unwrap();
    fs::write(f.gallery().join("a.jpg"), "mine").unwrap();
    assert_eq!(f.put("a.jpg"), b"a (2).jpg");
    assert_eq!(
        fs::read_to_string(f.trash_dir().join("a.jpg")).unwrap(),
        "stray"
    );
    assert_eq!(
        fs::read_to_string(f.trash_dir().join("a (2).jpg")).unwrap(),
        "mine"
    );
    assert!(f.trash.lookup(b"a.jpg").unwrap().is_none(), "no row for it");
    assert!(f.trash.lookup(b"a (2).jpg").unwrap().is_some());
    assert!(f.names(&f.gallery()).is_empty());
}

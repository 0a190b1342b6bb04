//! The space policy against a fake filesystem (`Host`).
use super::*;

const MIB: u64 = 1 << 20;

/// A disk of `total` bytes holding `used` bytes besides the trash, and a
/// trash catalog, in memory.
struct Fake {
    space: Space,
    state: Mutex<FakeState>,
}

struct FakeState {
    total: u64,
    used: u64,
    entries: Vec<EntryRow>,
    purged: Vec<String>,
}

impl Fake {
    fn new(total: u64, used: u64, policy: Policy) -> Fake {
        let fake = Fake {
            space: Space::new(Arc::new(Usage::new(0))),
            state: Mutex::new(FakeState {
                total,
                used,
                entries: Vec::new(),
                purged: Vec::new(),
            }),
        };
        let limits = Limits::resolve(&policy, fake.backing().unwrap());
        fake.space.limits.set(limits).unwrap();
        fake
    }

    /// An entry of `size` deleted `age` seconds ago; it takes disk space.
    fn trash(&self, name: &str, size: u64, age: i64) {
        let mut s = lock(&self.state);
        let id = s.entries.iter().map(|e| e.id).max().unwrap_or(0) + 1;
        s.used += size;
        s.entries.push(EntryRow {
            id,
            name: name.as_bytes().to_vec(),
            original_path: name.as_bytes().to_vec(),
            deleted_at: now_secs() - age,
            kind: libc::S_IFREG,
            uid: 0,
            size,
            state: crate::store::catalog::EntryState::Settled,
            prev_name: None,
            ino: 0,
            reason: crate::contract::Reason::Deleted,
            by: None,
            litter: false,
        });
        drop(s);
        self.space.usage.trashed(size);
    }

    /// A write of `size`: ENOSPC unless it fits.
    fn write(&self, size: u64) -> FsResult<()> {
        let mut s = lock(&self.state);
        if s.used + size > s.total {
            return Err(FsError::ENOSPC);
        }
        s.used += size;
        Ok(())
    }

    fn purged(&self) -> Vec<String> {
        lock(&self.state).purged.clone()
    }
}

impl Host for Fake {
    fn space(&self) -> &Space {
        &self.space
    }

    fn backing(&self) -> FsResult<Figures> {
        let s = lock(&self.state);
        let free = (s.total - s.used) / 4096;
        Ok(Figures {
            frsize: 4096,
            blocks: s.total / 4096,
            bfree: free,
            bavail: free,
        })
    }

    fn oldest(&self, cutoff: i64, limit: usize) -> FsResult<Vec<EntryRow>> {
        let mut rows: Vec<EntryRow> = lock(&self.state)
            .entries
            .iter()
            .filter(|e| e.deleted_at <= cutoff)
            .cloned()
            .collect();
        rows.sort_by_key(|e| (e.deleted_at, e.id));
        rows.truncate(limit);
        Ok(rows)
    }

    fn newest(&self) -> FsResult<Option<i64>> {
        Ok(lock(&self.state)
            .entries
            .iter()
            .max_by_key(|e| (e.deleted_at, e.id))
            .map(|e| e.id))
    }

    fn purge(&self, row: &EntryRow) -> FsResult<()> {
        let mut s = lock(&self.state);
        let i = s
            .entries
            .iter()
            .position(|e| e.id == row.id)
            .ok_or(FsError::ENOENT)?;
        let e = s.entries.remove(i);
        s.used -= e.size;
        s.purged.push(String::from_utf8(e.name).unwrap());
        drop(s);
        self.space.usage.purged(row.size);
        Ok(())
    }
}

fn no_policy() -> Policy {
    Policy::default()
}

#[test]
fn df_counts_the_trash_as_available() {
    let backing = Figures {
        frsize: 4096,
        blocks: 1000,
        bfree: 100,
        bavail: 90,
    };
    let shown = report(backing, 200 * 4096, 0, None);
    assert_eq!((shown.blocks, shown.bfree, shown.bavail), (1000, 300, 290));
    // Never more than the total.
    let shown = report(backing, 5000 * 4096, 0, None);
    assert_eq!((shown.bfree, shown.bavail), (1000, 1000));
    // A partial block of trash is not promised.
    assert_eq!(report(backing, 4095, 0, None).bavail, 90);
}

#[test]
fn df_with_a_quota_shows_the_quota_and_the_gallery() {
    let backing = Figures {
        frsize: 4096,
        blocks: 100_000,
        bfree: 50_000,
        bavail: 50_000,
    };
    let shown = report(backing, 0, 10 * MIB, Some(64 * MIB));
    assert_eq!(shown.blocks, 64 * MIB / 4096);
    assert_eq!(shown.bavail, 54 * MIB / 4096);
    assert_eq!(shown.bfree, 54 * MIB / 4096);
    // Over the quota: nothing available, never negative.
    assert_eq!(report(backing, 0, 65 * MIB, Some(64 * MIB)).bavail, 0);
    // A nearly full disk limits what the quota can promise.
    let tight = Figures {
        bavail: 256,
        bfree: 256,
        ..backing
    };
    assert_eq!(report(tight, MIB, 0, Some(64 * MIB)).bavail, 512);
}

#[test]
fn a_full_disk_purges_the_oldest_entries_until_the_write_fits() {
    let fake = Fake::new(64 * MIB, 30 * MIB, no_policy());
    fake.trash("a", 8 * MIB, 300);
    fake.trash("b", 8 * MIB, 200);
    fake.trash("c", 8 * MIB, 100);
    fake.trash("d", 8 * MIB, 0);
    // 2 MiB free; 12 MiB needed (plus the margin): a and b go, c and d stay.
    let done = fake.space.retry(&fake, 12 * MIB, || fake.write(12 * MIB));
    assert_eq!(done, Ok(()));
    assert_eq!(fake.purged(), ["a", "b"]);
    assert_eq!(fake.space.usage.trash_bytes(), 16 * MIB);
    assert!(fake.space.purging());
}

#[test]
fn nothing_is_purged_when_the_operation_succeeds_or_the_error_is_another() {
    let fake = Fake::new(64 * MIB, 10 * MIB, no_policy());
    fake.trash("a", 8 * MIB, 100);
    assert_eq!(fake.space.retry(&fake, MIB, || fake.write(MIB)), Ok(()));
    let mut calls = 0;
    let failed: FsResult<()> = fake.space.retry(&fake, MIB, || {
        calls += 1;
        Err(FsError::EACCES)
    });
    assert_eq!((failed, calls), (Err(FsError::EACCES), 1));
    assert!(fake.purged().is_empty());
    assert!(!fake.space.purging());
}

#[test]
fn min_retention_beats_the_disk() {
    let policy = Policy {
        min_retention: Duration::from_secs(3600),
        ..no_policy()
    };
    let fake = Fake::new(64 * MIB, 30 * MIB, policy);
    fake.trash("old", 8 * MIB, 7200);
    fake.trash("young", 24 * MIB, 60);
    // Purging "old" is not enough for 16 MiB, and "young" must stay.
    let mut calls = 0;
    let done = fake.space.retry(&fake, 16 * MIB, || {
        calls += 1;
        fake.write(16 * MIB)
    });
    assert_eq!(done, Err(FsError::ENOSPC));
    assert_eq!(fake.purged(), ["old"]);
    assert_eq!(calls, 2, "retried once after purging");
    // With nothing left that may go, no retry at all.
    let mut calls = 0;
    let done = fake.space.retry(&fake, 16 * MIB, || {
        calls += 1;
        fake.write(16 * MIB)
    });
    assert_eq!((done, calls), (Err(FsError::ENOSPC), 1));
}

#[test]
fn an_empty_trash_means_enospc_at_once() {
    let fake = Fake::new(64 * MIB, 64 * MIB, no_policy());
    let mut calls = 0;
    let done = fake.space.retry(&fake, MIB, || {
        calls += 1;
        fake.write(MIB)
    });
    assert_eq!((done, calls), (Err(FsError::ENOSPC), 1));
}

#[test]
fn concurrent_writers_purge_no_more_than_needed() {
    let fake = Arc::new(Fake::new(64 * MIB, 0, no_policy()));
    for (i, age) in (0..6).zip([600, 500, 400, 300, 200, 100]) {
        fake.trash(&format!("e{i}"), 8 * MIB, age);
    }
    // 48 MiB of trash, 16 MiB free: 8 writers of 3 MiB need 24 MiB, so
    // with the margin one or two entries must go, never more.
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let fake = fake.clone();
            std::thread::spawn(move || fake.space.retry(&*fake, 3 * MIB, || fake.write(3 * MIB)))
        })
        .collect();
    for w in writers {
        assert_eq!(w.join().unwrap(), Ok(()));
    }
    let purged = fake.purged();
    assert!(
        purged == ["e0"] || purged == ["e0", "e1"],
        "purged {purged:?}"
    );
}

#[test]
fn the_cap_purges_the_oldest_but_never_the_new_entry() {
    let policy = Policy {
        max_trash: Some(TrashCap::Bytes(20 * MIB)),
        ..no_policy()
    };
    let fake = Fake::new(1 << 40, 0, policy);
    fake.trash("a", 8 * MIB, 30);
    fake.trash("b", 8 * MIB, 20);
    fake.space.after_change(&fake);
    assert!(fake.purged().is_empty());
    fake.trash("c", 8 * MIB, 10);
    fake.space.after_change(&fake);
    assert_eq!(fake.purged(), ["a"]);
    // Larger than the cap by itself: everything older goes, it stays...
    fake.trash("huge", 30 * MIB, 0);
    fake.space.after_change(&fake);
    assert_eq!(fake.purged(), ["a", "b", "c"]);
    assert_eq!(fake.space.usage.trash_bytes(), 30 * MIB);
    // ...until the next entry arrives.
    fake.trash("next", MIB, -1);
    fake.space.after_change(&fake);
    assert_eq!(fake.purged(), ["a", "b", "c", "huge"]);
    assert!(fake.space.warned.load(Ordering::SeqCst));
}

#[test]
fn the_cap_spares_entries_younger_than_min_retention() {
    let policy = Policy {
        max_trash: Some(TrashCap::Bytes(10 * MIB)),
        min_retention: Duration::from_secs(3600),
        ..no_policy()
    };
    let fake = Fake::new(1 << 40, 0, policy);
    fake.trash("old", 8 * MIB, 7200);
    fake.trash("young", 8 * MIB, 60);
    fake.trash("newest", 8 * MIB, 0);
    fake.space.after_change(&fake);
    assert_eq!(fake.purged(), ["old"]);
    assert_eq!(fake.space.usage.trash_bytes(), 16 * MIB);
}

#[test]
fn a_percentage_cap_is_of_the_backing_filesystem() {
    let policy = Policy {
        max_trash: Some(TrashCap::Percent(10)),
        ..no_policy()
    };
    let fake = Fake::new(64 * MIB, 0, policy);
    assert_eq!(fake.space.limits().cap, Some(64 * MIB / 10));
    let mut names = Vec::new();
    fake.space.list_xattrs(&mut names);
    assert_eq!(
        names,
        b"user.trash.total_size\0user.trash.max_size\0user.trash.purging_for_space\0"
    );
    let value = |name: &str| fake.space.xattr(OsStr::new(name)).unwrap().unwrap();
    assert_eq!(
        value(XATTR_MAX_SIZE),
        (64 * MIB / 10).to_string().as_bytes()
    );
    assert_eq!(value(XATTR_TOTAL_SIZE), b"0");
    assert_eq!(value(XATTR_PURGING_FOR_SPACE), b"no");
    assert!(fake.space.xattr(OsStr::new("user.other")).is_none());
}

#[test]
fn the_quota_reserves_and_refuses() {
    let policy = Policy {
        quota: Some(10 * MIB),
        ..no_policy()
    };
    let fake = Fake::new(1 << 40, 0, policy);
    fake.space.added(6 * MIB);
    let held = fake.space.reserve(3 * MIB).unwrap();
    assert_eq!(fake.space.reserve(2 * MIB).err(), Some(FsError::EDQUOT));
    drop(held);
    assert!(fake.space.reserve(4 * MIB).is_ok());
    assert_eq!(fake.space.reserve(4 * MIB + 1).err(), Some(FsError::EDQUOT));
    // Moving to the trash frees quota; restoring takes it again.
    fake.space.usage.trashed(6 * MIB);
    assert_eq!(fake.space.usage.gallery_bytes(), 0);
    fake.space.usage.restored(6 * MIB);
    assert_eq!(fake.space.usage.gallery_bytes(), 6 * MIB);
}

#[test]
fn passthrough_writers_only_without_pressure() {
    let fake = Fake::new(1 << 40, 0, no_policy());
    assert!(fake.space.may_pass_through(&fake, 1, libc::O_WRONLY));
    fake.trash("a", MIB, 10);
    assert!(fake.space.may_pass_through(&fake, 2, libc::O_RDWR));
    lock(&fake.state).used = (1 << 40) - 512 * MIB;
    assert!(!fake.space.may_pass_through(&fake, 3, libc::O_WRONLY));
    assert!(fake.space.may_pass_through(&fake, 4, libc::O_RDONLY));
    assert_eq!(lock(&fake.space.writers).len(), 2);
    fake.space.released(1);
    fake.space.released(2);
    assert!(lock(&fake.space.writers).is_empty());
}

#[test]
fn the_watcher_purges_while_passthrough_writers_fill_the_disk() {
    let fake = Arc::new(Fake::new(1 << 40, 0, no_policy()));
    fake.trash("old", 100 << 30, 100);
    fake.trash("new", MIB, 50);
    assert!(fake.space.may_pass_through(&*fake, 1, libc::O_WRONLY));
    let watcher = Watcher::start(fake.clone()).unwrap();
    // The writer fills the disk to 100 MiB from full, behind galleryfs's back.
    let total = lock(&fake.state).total;
    lock(&fake.state).used = total - 100 * MIB;
    let start = std::time::Instant::now();
    while fake.purged().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "no purge");
        std::thread::yield_now();
    }
    watcher.stop();
    assert_eq!(fake.purged(), ["old"]);
}

#[test]
fn the_watcher_leaves_the_trash_alone_without_passthrough_writers() {
    let fake = Fake::new(1 << 40, 0, no_policy());
    fake.trash("old", MIB, 100);
    lock(&fake.state).used = (1 << 40) - MIB;
    fake.space.watch(&fake);
    assert!(fake.purged().is_empty(), "writes reach galleryfs: no need");
    assert!(fake.space.may_pass_through(&fake, 1, libc::O_RDONLY));
    fake.space.watch(&fake);
    assert!(fake.purged().is_empty(), "readers need no room");
}

#[test]
fn growth_estimates() {
    // SAFETY: `stat` is plain old data, for which all zeroes is a valid value.
    let mut st: Stat = unsafe { std::mem::zeroed() };
    st.st_size = 8192;
    st.st_blocks = 16;
    assert_eq!(growth(&st, 0, 4096), 0, "overwrite");
    assert_eq!(growth(&st, 8192, 100), BLOCK, "append");
    assert_eq!(growth(&st, 4096, 8192), BLOCK, "half over the end");
    st.st_blocks = 0;
    assert_eq!(growth(&st, 0, 4096), BLOCK, "sparse: anything may allocate");
}

#[test]
fn tree_bytes_counts_hard_links_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a"), vec![1u8; 10_000]).unwrap();
    std::fs::hard_link(dir.path().join("sub/a"), dir.path().join("b")).unwrap();
    let fd = std::fs::File::open(dir.path()).unwrap();
    let bytes = |p: &str| {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(dir.path().join(p))
            .unwrap()
            .blocks()
            * 512
    };
    assert_eq!(
        tree_bytes(fd.as_fd()).unwrap(),
        bytes("") + bytes("sub") + bytes("sub/a")
    );
}

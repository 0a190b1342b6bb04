//! Moves between the gallery and the trash, purges and expiry, each a rename
//! (or unlink) in STORAGE paired with a catalog change, in a crash-safe order.
//!
//! The orderings, and what the next mount's `reconcile` makes of a crash
//! between their steps:
//! - put (gallery → trash): insert the row, then rename. A row without its
//!   file is dropped: the file never left the gallery.
//! - stash (a file about to be replaced by a rename): insert a `Linking` row,
//!   hard-link the file into the trash, then the caller renames over it. If
//!   the gallery name still shows the same inode the rename never happened:
//!   the link is removed; otherwise the row settles.
//! - take out (restore): rename out, then delete the row (a row without its
//!   file is dropped).
//! - purge: remove the file (directories: rename into `purging/` first, so a
//!   half-deleted tree never looks like an entry), then delete the row.
//! - rename an entry: the row records both names (`Renaming`), then rename;
//!   whichever name exists at the next mount wins.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::backing::{self, Stat};
use crate::catalog::{Catalog, EntryRow, EntryState, NewEntry};
use crate::error::{FsError, FsResult};
use crate::fault;
use crate::naming;
use crate::space::Usage;

pub const SECS_PER_DAY: i64 = 86_400;

/// Rows read per catalog query when listing or expiring.
pub const BATCH: usize = 512;

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A trash entry as seen through the mount.
#[derive(Clone, Debug)]
pub struct Entry {
    pub row: EntryRow,
    pub expires_at: i64,
}

impl Entry {
    /// Whole days left, rounded up: 30 on the day of deletion, 1 in the last day.
    pub fn days_left(&self, now: i64) -> i64 {
        let left = self.expires_at - now;
        ((left + SECS_PER_DAY - 1) / SECS_PER_DAY).max(1)
    }
}

/// A gallery file hard-linked into the trash while a rename replaces it.
#[must_use]
pub struct Stash {
    id: i64,
    name: Vec<u8>,
    size: u64,
}

/// What reconciliation found and repaired at mount.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub finished: usize,
    pub rolled_back: usize,
    pub rows_dropped: usize,
    pub rows_added: usize,
}

pub struct Trash {
    catalog: Mutex<Catalog>,
    trash_fd: Arc<OwnedFd>,
    gallery_fd: Arc<OwnedFd>,
    purging_fd: OwnedFd,
    retention: i64,
    /// Serialises name choice with the catalog/rename pairs that use the name.
    moves: Mutex<()>,
    /// Names claimed by desktop clients before their file arrives.
    reserved: Mutex<std::collections::HashSet<Vec<u8>>>,
    /// The trash's bytes (sum of the rows' sizes), kept on every change (see `space`).
    usage: Arc<Usage>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn exists(dir: BorrowedFd<'_>, name: &[u8]) -> FsResult<Option<Stat>> {
    match backing::fstatat(dir, OsStr::from_bytes(name)) {
        Ok(st) => Ok(Some(st)),
        Err(FsError::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Trash {
    pub fn new(
        catalog: Catalog,
        gallery_fd: Arc<OwnedFd>,
        trash_fd: Arc<OwnedFd>,
        purging_fd: OwnedFd,
        retention: Duration,
    ) -> Trash {
        let usage = Arc::new(Usage::new(catalog.total_size().unwrap_or_else(|e| {
            log::warn!("cannot total the trash's size: {e}");
            0
        })));
        Trash {
            usage,
            catalog: Mutex::new(catalog),
            trash_fd,
            gallery_fd,
            purging_fd,
            retention: retention.as_secs().min(i64::MAX as u64 / 4) as i64,
            moves: Mutex::new(()),
            reserved: Mutex::new(std::collections::HashSet::new()),
        }
    }

    pub fn retention_secs(&self) -> i64 {
        self.retention
    }

    fn catalog(&self) -> MutexGuard<'_, Catalog> {
        lock(&self.catalog)
    }

    fn entry(&self, row: EntryRow) -> Entry {
        let expires_at = row.deleted_at.saturating_add(self.retention);
        Entry { row, expires_at }
    }

    fn visible(&self, row: &EntryRow, now: i64) -> bool {
        row.state == EntryState::Settled && row.deleted_at.saturating_add(self.retention) > now
    }

    /// The live (settled, unexpired) entry called `name`.
    pub fn lookup(&self, name: &[u8]) -> FsResult<Option<Entry>> {
        let row = self.catalog().by_name(name)?;
        Ok(row
            .filter(|r| self.visible(r, now_secs()))
            .map(|r| self.entry(r)))
    }

    /// Live entries with id > `after_id`, in id order, from the next `limit`
    /// rows; also the last id read, to continue from.
    pub fn page(&self, after_id: i64, limit: usize) -> FsResult<(Vec<Entry>, Option<i64>)> {
        let rows = self.catalog().page(after_id, limit)?;
        Ok(self.live_page(rows))
    }

    /// The live entries of a page of rows, and the last id it read.
    fn live_page(&self, rows: Vec<EntryRow>) -> (Vec<Entry>, Option<i64>) {
        let last = rows.last().map(|r| r.id);
        let now = now_secs();
        let live = rows.into_iter().filter(|r| self.visible(r, now));
        (live.map(|r| self.entry(r)).collect(), last)
    }

    /// Like `page`, for the entries owned by `uid`.
    pub fn page_for_uid(
        &self,
        uid: u32,
        after_id: i64,
        limit: usize,
    ) -> FsResult<(Vec<Entry>, Option<i64>)> {
        let rows = self.catalog().page_for_uid(uid, after_id, limit)?;
        Ok(self.live_page(rows))
    }

    /// The live entry with catalog id `id`.
    pub fn lookup_id(&self, id: i64) -> FsResult<Option<Entry>> {
        let row = self.catalog().by_id(id)?;
        Ok(row
            .filter(|r| self.visible(r, now_secs()))
            .map(|r| self.entry(r)))
    }

    /// Keeps `name` from being chosen for a new entry (a desktop client has
    /// claimed it by creating `info/NAME.trashinfo`); false if it is taken.
    pub fn reserve(&self, name: &[u8]) -> FsResult<bool> {
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        if self.name_taken(&catalog, name)? {
            return Ok(false);
        }
        Ok(lock(&self.reserved).insert(name.to_vec()))
    }

    pub fn unreserve(&self, name: &[u8]) {
        lock(&self.reserved).remove(name);
    }

    pub fn has_live_entries(&self) -> FsResult<bool> {
        Ok(self.catalog().count_live(now_secs() - self.retention, 1)? > 0)
    }

    /// Whether a new entry may not be called `name`: an entry has it, a
    /// file in trash/ has it, or a desktop client claimed it.
    fn name_taken(&self, catalog: &Catalog, name: &[u8]) -> FsResult<bool> {
        Ok(self.name_used(catalog, name)? || lock(&self.reserved).contains(name))
    }

    /// The first free entry name for a file called `name`. Galleries repeat
    /// names (every camera folder has its IMG_0001.jpg), so the names already
    /// used are read in one range query rather than probed one by one.
    fn free_name(&self, catalog: &Catalog, name: &[u8]) -> FsResult<Vec<u8>> {
        let Some(prefix) = naming::collision_prefix(name) else {
            return naming::first_free(name, |c| self.name_taken(catalog, c));
        };
        let used: std::collections::HashSet<Vec<u8>> =
            catalog.names_with_prefix(&prefix)?.into_iter().collect();
        naming::first_free(name, |c| {
            Ok(used.contains(c) || self.name_taken(catalog, c)?)
        })
    }

    fn name_used(&self, catalog: &Catalog, name: &[u8]) -> FsResult<bool> {
        Ok(catalog.name_taken(name)? || exists(self.trash_fd.as_fd(), name)?.is_some())
    }

    fn new_row(
        catalog: &Catalog,
        name: &[u8],
        original_path: &[u8],
        st: &Stat,
        size: u64,
        state: EntryState,
    ) -> FsResult<i64> {
        catalog
            .insert(&NewEntry {
                name,
                original_path,
                deleted_at: now_secs(),
                kind: backing::file_type(st),
                uid: st.st_uid,
                size,
                state,
                ino: st.st_ino,
            })?
            .ok_or(FsError::EEXIST)
    }

    fn size_of(dir: BorrowedFd<'_>, name: &OsStr, st: &Stat) -> u64 {
        if backing::is_dir(st) {
            backing::tree_size(dir, name).unwrap_or(0)
        } else {
            st.st_blocks as u64 * 512
        }
    }

    /// Moves `dir/name` (whose stat is `st`) into the trash as a new entry named
    /// after it; returns the entry's name.
    pub fn put(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        original_path: &[u8],
        st: &Stat,
    ) -> FsResult<Vec<u8>> {
        let size = Self::size_of(dir, name, st);
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        let entry = self.free_name(&catalog, name.as_bytes())?;
        self.put_locked(&catalog, dir, name, &entry, original_path, st, size)?;
        Ok(entry)
    }

    /// Moves `dir/name` into the trash as entry `entry`; EEXIST if that name is taken.
    pub fn put_as(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        entry: &[u8],
        original_path: &[u8],
        st: &Stat,
    ) -> FsResult<()> {
        let size = Self::size_of(dir, name, st);
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        // A name claimed by a desktop client is taken by the rename it announced.
        if self.name_used(&catalog, entry)? {
            return Err(FsError::EEXIST);
        }
        self.put_locked(&catalog, dir, name, entry, original_path, st, size)?;
        lock(&self.reserved).remove(entry);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn put_locked(
        &self,
        catalog: &Catalog,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        entry: &[u8],
        original_path: &[u8],
        st: &Stat,
        size: u64,
    ) -> FsResult<()> {
        let id = Self::new_row(catalog, entry, original_path, st, size, EntryState::Settled)?;
        fault::point("put:after-insert");
        let moved = backing::renameat2(
            dir,
            name,
            self.trash_fd.as_fd(),
            OsStr::from_bytes(entry),
            libc::RENAME_NOREPLACE,
        );
        if let Err(e) = moved {
            catalog.delete(id)?;
            return Err(e);
        }
        fault::point("put:after-rename");
        self.usage.trashed(size);
        Ok(())
    }

    /// Hard-links `dir/name`, a file a rename is about to replace, into the
    /// trash. The caller then renames and calls `settle` or `unstash`.
    pub fn stash(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        original_path: &[u8],
        st: &Stat,
    ) -> FsResult<Stash> {
        let size = Self::size_of(dir, name, st);
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        let entry = self.free_name(&catalog, name.as_bytes())?;
        let id = Self::new_row(
            &catalog,
            &entry,
            original_path,
            st,
            size,
            EntryState::Linking,
        )?;
        fault::point("stash:after-insert");
        if let Err(e) = backing::linkat(dir, name, self.trash_fd.as_fd(), OsStr::from_bytes(&entry))
        {
            catalog.delete(id)?;
            return Err(e);
        }
        fault::point("stash:after-link");
        Ok(Stash {
            id,
            name: entry,
            size,
        })
    }

    /// The rename replaced the stashed file: it is now a trash entry.
    pub fn settle(&self, stash: Stash) -> FsResult<Vec<u8>> {
        fault::point("stash:before-settle");
        self.catalog().settle(stash.id)?;
        self.usage.trashed(stash.size);
        Ok(stash.name)
    }

    /// The rename failed: the stashed file stays where it was, only in the gallery.
    pub fn unstash(&self, stash: Stash) -> FsResult<()> {
        let _moves = lock(&self.moves);
        backing::unlinkat(self.trash_fd.as_fd(), OsStr::from_bytes(&stash.name), false)?;
        self.catalog().delete(stash.id)?;
        Ok(())
    }

    /// Restores entry `entry` to `dir/name` with renameat2 `flags`.
    pub fn take_out(
        &self,
        entry: &[u8],
        dir: BorrowedFd<'_>,
        name: &OsStr,
        flags: u32,
    ) -> FsResult<()> {
        let _moves = lock(&self.moves);
        let row = self.catalog().by_name(entry)?;
        backing::renameat2(
            self.trash_fd.as_fd(),
            OsStr::from_bytes(entry),
            dir,
            name,
            flags,
        )?;
        fault::point("take-out:after-rename");
        if let Some(row) = row {
            self.catalog().delete(row.id)?;
            self.usage.restored(row.size);
        }
        Ok(())
    }

    /// Deletes entry `entry` permanently (a directory must be empty unless `tree`).
    pub fn purge(&self, entry: &[u8], tree: bool) -> FsResult<Option<EntryRow>> {
        self.purge_checked(entry, tree, None)
    }

    /// Purges entry `row` (a whole tree), read earlier by the expiry sweep or
    /// a purge for space, if it is still the entry under its name: it may
    /// have been restored, renamed or replaced meanwhile by a newer entry of
    /// the same name, which must not go in its place. ENOENT if not. (Row
    /// ids alone do not tell: SQLite hands a deleted last id out again.)
    pub fn purge_row(&self, row: &EntryRow) -> FsResult<Option<EntryRow>> {
        self.purge_checked(&row.name, true, Some((row.id, row.deleted_at)))
    }

    fn purge_checked(
        &self,
        entry: &[u8],
        tree: bool,
        expect: Option<(i64, i64)>,
    ) -> FsResult<Option<EntryRow>> {
        let _moves = lock(&self.moves);
        let row = self.catalog().by_name(entry)?;
        if expect.is_some() && row.as_ref().map(|r| (r.id, r.deleted_at)) != expect {
            return Err(FsError::ENOENT);
        }
        let name = OsStr::from_bytes(entry);
        let st = exists(self.trash_fd.as_fd(), entry)?.ok_or(FsError::ENOENT)?;
        if backing::is_dir(&st) && tree {
            let parking = OsString::from(format!(
                "{}-{}",
                row.as_ref().map_or(0, |r| r.id),
                now_secs()
            ));
            backing::renameat2(
                self.trash_fd.as_fd(),
                name,
                self.purging_fd.as_fd(),
                &parking,
                0,
            )?;
            fault::point("purge:after-park");
            if let Some(row) = &row {
                self.catalog().delete(row.id)?;
            }
            if let Err(e) = backing::remove_tree(self.purging_fd.as_fd(), &parking) {
                log::warn!(
                    "could not finish deleting {parking:?} in purging/: {e}; retried at next mount"
                );
            }
        } else {
            backing::unlinkat(self.trash_fd.as_fd(), name, backing::is_dir(&st))?;
            fault::point("purge:after-unlink");
            if let Some(row) = &row {
                self.catalog().delete(row.id)?;
            }
        }
        if let Some(row) = &row {
            self.usage.purged(row.size);
        }
        Ok(row)
    }

    /// Renames entry `from` to `to`; EEXIST if `to` is taken.
    pub fn rename(&self, from: &[u8], to: &[u8]) -> FsResult<()> {
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        if self.name_taken(&catalog, to)? {
            return Err(FsError::EEXIST);
        }
        let row = catalog.by_name(from)?;
        if let Some(row) = &row
            && !catalog.begin_rename(row.id, to)?
        {
            return Err(FsError::EEXIST);
        }
        fault::point("rename:after-begin");
        let trash = self.trash_fd.as_fd();
        let renamed = backing::renameat2(
            trash,
            OsStr::from_bytes(from),
            trash,
            OsStr::from_bytes(to),
            libc::RENAME_NOREPLACE,
        );
        if renamed.is_ok() {
            fault::point("rename:after-rename");
        }
        if let Some(row) = &row {
            match renamed {
                Ok(()) => catalog.settle(row.id)?,
                Err(_) => catalog.revert_rename(row.id)?,
            }
        }
        renamed
    }

    /// Purges up to `BATCH` expired entries; returns them. Call until empty.
    pub fn expire_batch(&self) -> FsResult<Vec<EntryRow>> {
        let purged = self.expire_batch_with(|_| ())?;
        Ok(purged.into_iter().map(|(row, ())| row).collect())
    }

    /// `expire_batch`, calling `before` on each entry just before it goes
    /// (the filesystem pins the inode the kernel may still hold); returns
    /// what it gave for each entry purged.
    pub fn expire_batch_with<T>(
        &self,
        mut before: impl FnMut(&EntryRow) -> T,
    ) -> FsResult<Vec<(EntryRow, T)>> {
        let cutoff = now_secs() - self.retention;
        let rows = self.catalog().expired(cutoff, BATCH)?;
        let mut purged = Vec::with_capacity(rows.len());
        for row in rows {
            let given = before(&row);
            match self.purge_row(&row) {
                Ok(_) => purged.push((row, given)),
                Err(FsError::ENOENT) => {
                    // Restored, renamed or purged meanwhile; or the file
                    // vanished behind our back: only then is the row dropped.
                    let catalog = self.catalog();
                    if let Some(gone) = catalog.by_id(row.id)?
                        && (gone.name.as_slice(), gone.deleted_at)
                            == (&row.name[..], row.deleted_at)
                        && exists(self.trash_fd.as_fd(), &row.name)?.is_none()
                    {
                        self.usage.purged(gone.size);
                        catalog.delete(row.id)?;
                    }
                }
                Err(e) => log::warn!(
                    "could not delete expired entry {:?}: {e}",
                    String::from_utf8_lossy(&row.name)
                ),
            }
        }
        Ok(purged)
    }

    /// Finishes or rolls back moves a crash interrupted, and makes the catalog
    /// and `trash/` agree: a row without a file is dropped, a file without a
    /// row gets one (original path unknown: its own name). Both are logged.
    pub fn reconcile(&self) -> FsResult<ReconcileReport> {
        let mut report = ReconcileReport::default();
        let trash = self.trash_fd.as_fd();
        // Directories whose deletion was interrupted.
        for parked in backing::read_dir(self.purging_fd.as_fd())? {
            log::info!("finishing the deletion of {:?}", parked.name);
            backing::remove_tree(self.purging_fd.as_fd(), &parked.name)?;
        }
        let mut catalog = self.catalog();
        for row in catalog.unsettled()? {
            let label = String::from_utf8_lossy(&row.name).into_owned();
            match row.state {
                EntryState::Linking => {
                    let in_trash = exists(trash, &row.name)?;
                    let in_gallery = self.resolve_in_gallery(&row.original_path);
                    match (in_trash, in_gallery) {
                        (Some(t), Some(g)) if (t.st_dev, t.st_ino) == (g.st_dev, g.st_ino) => {
                            log::warn!("rolling back interrupted replacement of {label:?}");
                            backing::unlinkat(trash, OsStr::from_bytes(&row.name), false)?;
                            catalog.delete(row.id)?;
                            report.rolled_back += 1;
                        }
                        (Some(_), _) => {
                            log::warn!(
                                "finishing interrupted replacement: {label:?} is in the trash"
                            );
                            catalog.settle(row.id)?;
                            report.finished += 1;
                        }
                        (None, _) => {
                            catalog.delete(row.id)?;
                            report.rolled_back += 1;
                        }
                    }
                }
                EntryState::Renaming => {
                    if exists(trash, &row.name)?.is_some() {
                        catalog.settle(row.id)?;
                        report.finished += 1;
                    } else {
                        catalog.revert_rename(row.id)?;
                        report.rolled_back += 1;
                    }
                    log::warn!("settled interrupted rename of trash entry {label:?}");
                }
                EntryState::Settled => {}
            }
        }
        if catalog.was_in_use()? {
            // The last mount did not end cleanly (or this catalog is new):
            // make the catalog and trash/ agree entry by entry.
            self.reconcile_all(&mut catalog, &mut report)?;
        }
        catalog.set_in_use(true)?;
        self.usage.set_trash(catalog.total_size()?);
        Ok(report)
    }

    /// The full comparison of catalog rows and files in trash/, streamed so
    /// memory stays bounded however many entries there are.
    fn reconcile_all(&self, catalog: &mut Catalog, report: &mut ReconcileReport) -> FsResult<()> {
        let trash = self.trash_fd.as_fd();
        let mut missing = Vec::new();
        catalog.for_each(|row| {
            if exists(trash, &row.name).ok().flatten().is_none() {
                missing.push(row);
            }
        })?;
        catalog.in_transaction(|catalog| {
            for row in &missing {
                log::warn!(
                    "trash entry {:?} has no file in STORAGE/trash: dropping its row",
                    String::from_utf8_lossy(&row.name)
                );
                catalog.delete(row.id)?;
            }
            Ok(())
        })?;
        report.rows_dropped += missing.len();
        for file in backing::read_dir(trash)? {
            let name = file.name.as_bytes();
            if catalog.by_name(name)?.is_some() {
                continue;
            }
            let Ok(st) = backing::fstatat(trash, &file.name) else {
                continue;
            };
            log::warn!(
                "STORAGE/trash/{:?} has no catalog row: adding it (original path unknown)",
                String::from_utf8_lossy(name)
            );
            let size = Self::size_of(trash, &file.name, &st);
            Self::new_row(catalog, name, name, &st, size, EntryState::Settled)?;
            report.rows_added += 1;
        }
        Ok(())
    }

    /// Stats `gallery/PATH` without following symlinks; None if any part is missing.
    fn resolve_in_gallery(&self, path: &[u8]) -> Option<Stat> {
        let mut dir: Option<OwnedFd> = None;
        let parts: Vec<&[u8]> = path
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty())
            .collect();
        let (last, parents) = parts.split_last()?;
        for part in parents {
            let base = dir.as_ref().map_or(self.gallery_fd.as_fd(), |d| d.as_fd());
            dir = Some(backing::open_dir_path(base, OsStr::from_bytes(part)).ok()?);
        }
        let base = dir.as_ref().map_or(self.gallery_fd.as_fd(), |d| d.as_fd());
        backing::fstatat(base, OsStr::from_bytes(last)).ok()
    }

    pub fn total_size(&self) -> FsResult<u64> {
        Ok(self.catalog().total_size()?)
    }

    /// The trash's byte counters, shared with the space policy (`space`).
    pub fn usage(&self) -> &Arc<Usage> {
        &self.usage
    }

    /// Up to `limit` settled entries deleted at or before `cutoff`, oldest first.
    pub fn oldest(&self, cutoff: i64, limit: usize) -> FsResult<Vec<EntryRow>> {
        Ok(self.catalog().expired(cutoff, limit)?)
    }

    /// The id of the most recently deleted entry.
    pub fn newest_id(&self) -> FsResult<Option<i64>> {
        Ok(self.catalog().newest_id()?)
    }

    /// `bytes` of entry `id`'s tree left the trash (deleted inside it, or
    /// moved back to the gallery when `restored`).
    pub fn shrink(&self, id: i64, bytes: u64, restored: bool) -> FsResult<()> {
        self.catalog().shrink(id, bytes)?;
        if restored {
            self.usage.restored(bytes);
        } else {
            self.usage.purged(bytes);
        }
        Ok(())
    }

    /// Flushes the catalog and records a clean unmount; called last.
    pub fn close(&self) {
        let catalog = self.catalog();
        if let Err(e) = catalog.checkpoint() {
            log::warn!("could not checkpoint the trash database: {e}");
        }
        if let Err(e) = catalog.set_in_use(false) {
            log::warn!("could not record the clean unmount: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::fs;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    struct Fixture {
        _dir: tempfile::TempDir,
        root: std::path::PathBuf,
        trash: Trash,
    }

    fn fixture(retention: Duration) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let store = Store::open(&root).unwrap();
        let trash = Trash::new(
            store.catalog,
            Arc::new(store.gallery_fd),
            Arc::new(store.trash_fd),
            store.purging_fd,
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
            self.trash
                .put(
                    self.trash.gallery_fd.as_fd(),
                    OsStr::new(name),
                    name.as_bytes(),
                    &st,
                )
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
        assert_eq!(entry.days_left(now_secs()), 30);
        assert!(f.names(&f.gallery()).is_empty());
    }

    #[test]
    fn a_crash_between_row_and_rename_leaves_the_file_in_the_gallery() {
        let f = fixture(MONTH);
        fs::write(f.gallery().join("a"), "a").unwrap();
        let st = backing::fstatat(f.trash.gallery_fd.as_fd(), OsStr::new("a")).unwrap();
        Trash::new_row(&f.trash.catalog(), b"a", b"a", &st, 0, EntryState::Settled).unwrap();
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
            .stash(gallery.as_fd(), OsStr::new("b"), b"b", &st)
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
            .stash(gallery.as_fd(), OsStr::new("b"), b"b", &st)
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
}

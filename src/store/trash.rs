//! `TrashStore`: every move between the gallery and the trash, purge and
//! expiry, each a rename (or unlink) in STORAGE paired with a catalog change
//! in the order the `store` module's crash-order list gives.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::catalog::{Catalog, DeletedBy, EntryRow, EntryState, NewEntry};
use super::litter::Litter;
use super::naming;
use super::usage::Usage;
use crate::backing::{self, Stat};
use crate::clock::now_secs;
use crate::config;
use crate::contract::Reason;
use crate::error::{FsError, FsResult};
use crate::fault;
use crate::sync::lock;

/// Rows read per catalog query when listing or expiring.
pub const BATCH: usize = 512;

/// Expired entries purged per bulk purge (see `expire_chunk`): their rows
/// go in one transaction, and a move waits for at most these.
const EXPIRE_CHUNK: usize = 64;

/// A trash entry as seen through the mount.
#[derive(Clone, Debug)]
pub struct Entry {
    pub row: EntryRow,
    pub expires_at: i64,
    /// A program's temporary file on this mount (see `litter`): the
    /// desktop view leaves it out, and `user.trash.litter` says so.
    pub litter: bool,
}

/// Where a new entry comes from: what its row records besides its name.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    /// Relative to `gallery/`.
    pub original_path: &'a [u8],
    /// The file's last stat.
    pub st: &'a Stat,
    /// The process that deleted, replaced or overwrote it, if known.
    pub by: Option<DeletedBy>,
}

/// A row about to be inserted (see `TrashStore::insert_then_move`).
pub(super) struct NewRow<'a> {
    pub(super) name: &'a [u8],
    pub(super) origin: &'a Origin<'a>,
    pub(super) size: u64,
    pub(super) state: EntryState,
    pub(super) reason: Reason,
    /// See `TrashStore::classify`.
    pub(super) litter: bool,
}

/// A gallery file put aside in the trash while a rename replaces it: hard
/// linked (`stash`), or moved where hard links are impossible (`displace`).
#[must_use]
pub struct Stash {
    id: i64,
    name: Vec<u8>,
    size: u64,
    /// Moved, not linked: undoing it moves the file back.
    displaced: Option<Vec<u8>>,
}

/// The trash: catalog rows and the files of `trash/`, changed together only
/// in the crash order of `store`.
pub struct TrashStore {
    pub(super) catalog: Mutex<Catalog>,
    pub(super) trash_fd: Arc<OwnedFd>,
    pub(super) gallery_fd: Arc<OwnedFd>,
    pub(super) purging_fd: OwnedFd,
    /// `STORAGE/pending`: emptied folders waiting to be folded (see `fold`).
    pub(super) pending_fd: OwnedFd,
    retention: i64,
    /// Which new entries are litter, and how long litter stays.
    litter: Litter,
    /// Serialises name choice with the catalog/rename pairs that use the name.
    pub(super) moves: Mutex<()>,
    /// Names claimed by desktop clients before their file arrives.
    reserved: Mutex<std::collections::HashSet<Vec<u8>>>,
    /// The trash's bytes (sum of the rows' sizes), kept on every change (see `space`).
    pub(super) usage: Arc<Usage>,
    /// Whether STORAGE makes reflinks, learned at the first copy.
    pub(super) reflinks: super::reflinks::Reflinks,
    /// Numbers the names of pending folders (see `fold`).
    pub(super) pending_seq: std::sync::atomic::AtomicU64,
    /// Rows of entries that already left `trash/` but whose deletion the
    /// catalog refused (a full or failing disk): retried at the next
    /// deletion and at unmount; while any stays, the clean unmount leaves
    /// `in_use` set, so the next mount compares every row with `trash/`.
    stale: Mutex<Vec<i64>>,
    /// A settle the catalog refused: the unmount leaves `in_use` set too.
    unsettled: std::sync::atomic::AtomicBool,
}

pub(super) fn exists(dir: BorrowedFd<'_>, name: &[u8]) -> FsResult<Option<Stat>> {
    match backing::fstatat(dir, OsStr::from_bytes(name)) {
        Ok(st) => Ok(Some(st)),
        Err(FsError::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

impl TrashStore {
    pub fn new(
        catalog: Catalog,
        gallery_fd: Arc<OwnedFd>,
        trash_fd: Arc<OwnedFd>,
        purging_fd: OwnedFd,
        pending_fd: OwnedFd,
        retention: Duration,
    ) -> TrashStore {
        let retention = retention.as_secs().min(i64::MAX as u64 / 4) as i64;
        let usage = Arc::new(Usage::new(catalog.total_size().unwrap_or_else(|e| {
            log::warn!("cannot total the trash's size: {e}");
            0
        })));
        TrashStore {
            usage,
            catalog: Mutex::new(catalog),
            trash_fd,
            gallery_fd,
            purging_fd,
            pending_fd,
            retention,
            litter: Litter::new(&config::Litter::default(), retention),
            moves: Mutex::new(()),
            reflinks: Default::default(),
            pending_seq: Default::default(),
            stale: Default::default(),
            unsettled: Default::default(),
            reserved: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// The `litter=`, `litter_pattern=` and `litter_retention=` settings
    /// (without them, litter is told apart by the default patterns).
    pub fn with_litter(mut self, settings: &config::Litter) -> TrashStore {
        self.litter = Litter::new(settings, self.retention);
        self
    }

    pub fn retention_secs(&self) -> i64 {
        self.retention
    }

    pub(super) fn catalog(&self) -> MutexGuard<'_, Catalog> {
        lock(&self.catalog)
    }

    /// Whether `row` counts as litter on this mount: marked so when it was
    /// inserted, and litter is not `off` now.
    pub fn is_litter(&self, row: &EntryRow) -> bool {
        row.litter && self.litter.on()
    }

    /// Whether a new entry from `origin` is litter (see `litter`).
    pub(super) fn classify(&self, origin: &Origin<'_>) -> bool {
        self.litter.is_litter(
            origin.original_path,
            backing::file_type(origin.st),
            origin.st.st_size.max(0) as u64,
        )
    }

    /// When `row` expires: each entry `retention` after its deletion, litter sooner.
    fn expires_at(&self, row: &EntryRow) -> i64 {
        let retention = match self.is_litter(row) {
            true => self.litter.retention,
            false => self.retention,
        };
        row.deleted_at.saturating_add(retention)
    }

    /// When, at `now`, the trash's listing last lost an entry to expiry
    /// (0: never) and when it next will: what the kernel's cache of the
    /// listing must not outlive (see `fs::core::listing_mtime`). Litter
    /// rows are counted at both retentions: at worst a needless refresh.
    pub fn expiry_marks(&self, now: i64) -> FsResult<(i64, Option<i64>)> {
        let catalog = self.catalog();
        let mut marks = (0, None);
        let mut add = |retention: i64, litter: bool| -> FsResult<()> {
            let (last, next) = catalog.deletion_marks(now.saturating_sub(retention), litter)?;
            if let Some(d) = last {
                marks.0 = marks.0.max(d.saturating_add(retention));
            }
            if let Some(d) = next {
                let at = d.saturating_add(retention);
                marks.1 = Some(marks.1.map_or(at, |n: i64| n.min(at)));
            }
            Ok(())
        };
        add(self.retention, false)?;
        if self.litter.on() {
            add(self.litter.retention, true)?;
        }
        Ok(marks)
    }

    pub(super) fn entry(&self, row: EntryRow) -> Entry {
        Entry {
            expires_at: self.expires_at(&row),
            litter: self.is_litter(&row),
            row,
        }
    }

    pub(super) fn visible(&self, row: &EntryRow, now: i64) -> bool {
        row.state == EntryState::Settled && self.expires_at(row) > now
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

    /// Like `page`, for the entries the desktop view of `uid` shows: those
    /// owned by `uid`, but not litter.
    pub fn page_for_uid(
        &self,
        uid: u32,
        after_id: i64,
        limit: usize,
    ) -> FsResult<(Vec<Entry>, Option<i64>)> {
        let rows = self.catalog().page_for_uid(uid, after_id, limit)?;
        let (mut entries, last) = self.live_page(rows);
        entries.retain(|e| !e.litter);
        Ok((entries, last))
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
        let now = now_secs();
        let live =
            self.catalog()
                .count_live(now - self.retention, now - self.shortest_retention(), 1)?;
        Ok(live > 0)
    }

    /// The retention of litter where it counts, else that of every entry.
    fn shortest_retention(&self) -> i64 {
        match self.litter.on() {
            true => self.litter.retention,
            false => self.retention,
        }
    }

    /// Whether a new entry may not be called `name`: an entry has it, a
    /// file in trash/ has it, or a desktop client claimed it.
    fn name_taken(&self, catalog: &Catalog, name: &[u8]) -> FsResult<bool> {
        Ok(self.name_used(catalog, name)? || lock(&self.reserved).contains(name))
    }

    /// The first free entry name for a file called `name`. Galleries repeat
    /// names (every camera folder has its IMG_0001.jpg), so the names already
    /// used are read in one range query rather than probed one by one.
    pub(super) fn free_name(&self, catalog: &Catalog, name: &[u8]) -> FsResult<Vec<u8>> {
        self.free_name_in(catalog, name, true)
    }

    /// `free_name`, looking in `trash/` too only if `on_disk`.
    fn free_name_in(&self, catalog: &Catalog, name: &[u8], on_disk: bool) -> FsResult<Vec<u8>> {
        let taken = |c: &[u8]| -> FsResult<bool> {
            Ok(match on_disk {
                true => self.name_taken(catalog, c)?,
                false => catalog.name_taken(c)? || lock(&self.reserved).contains(c),
            })
        };
        let Some(prefix) = naming::collision_prefix(name) else {
            return naming::first_free(name, taken);
        };
        let used: std::collections::HashSet<Vec<u8>> =
            catalog.names_with_prefix(&prefix)?.into_iter().collect();
        naming::first_free(name, |c| Ok(used.contains(c) || taken(c)?))
    }

    fn name_used(&self, catalog: &Catalog, name: &[u8]) -> FsResult<bool> {
        Ok(catalog.name_taken(name)? || exists(self.trash_fd.as_fd(), name)?.is_some())
    }

    pub(super) fn new_row(catalog: &Catalog, new: &NewRow<'_>) -> FsResult<i64> {
        let origin = new.origin;
        catalog
            .insert(&NewEntry {
                name: new.name,
                original_path: origin.original_path,
                deleted_at: now_secs(),
                kind: backing::file_type(origin.st),
                uid: origin.st.st_uid,
                size: new.size,
                state: new.state,
                ino: origin.st.st_ino,
                reason: new.reason,
                by: origin.by,
                litter: new.litter,
            })?
            .ok_or(FsError::EEXIST)
    }

    pub(super) fn size_of(dir: BorrowedFd<'_>, name: &OsStr, st: &Stat) -> u64 {
        if backing::is_dir(st) {
            backing::tree_size(dir, name).unwrap_or(0)
        } else {
            st.st_blocks as u64 * 512
        }
    }

    /// Moves `dir/name` (whose stat is `st`) into the trash as a new entry named
    /// after it; returns the entry's name.
    pub fn put(&self, dir: BorrowedFd<'_>, name: &OsStr, origin: Origin<'_>) -> FsResult<Vec<u8>> {
        let size = Self::size_of(dir, name, origin.st);
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        // Every file comes into trash/ after its row, so the catalog says
        // which names are free, without a lookup in a directory of many
        // thousands: a file put there behind galleryfs's back makes the
        // no-replace rename fail, and then the names on disk count too.
        let mut on_disk = false;
        loop {
            let entry = self.free_name_in(&catalog, name.as_bytes(), on_disk)?;
            let new = NewRow {
                name: &entry,
                origin: &origin,
                size,
                state: EntryState::Settled,
                reason: Reason::Deleted,
                litter: self.classify(&origin),
            };
            match self.put_locked(&catalog, dir, name, &new) {
                Err(FsError::EEXIST) if !on_disk => on_disk = true,
                Err(e) => return Err(e),
                Ok(()) => return Ok(entry),
            }
        }
    }

    /// Moves `dir/name` into the trash as entry `entry`; EEXIST if that name
    /// is taken. Never litter: whoever moves a file into the trash means it.
    pub fn put_as(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        entry: &[u8],
        origin: Origin<'_>,
    ) -> FsResult<()> {
        let size = Self::size_of(dir, name, origin.st);
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        // A name claimed by a desktop client is taken by the rename it announced.
        if self.name_used(&catalog, entry)? {
            return Err(FsError::EEXIST);
        }
        let new = NewRow {
            name: entry,
            origin: &origin,
            size,
            state: EntryState::Settled,
            reason: Reason::Deleted,
            litter: false,
        };
        self.put_locked(&catalog, dir, name, &new)?;
        lock(&self.reserved).remove(entry);
        Ok(())
    }

    fn put_locked(
        &self,
        catalog: &Catalog,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        new: &NewRow<'_>,
    ) -> FsResult<()> {
        let trash = (self.trash_fd.as_fd(), OsStr::from_bytes(new.name));
        Self::insert_then_move(catalog, new, (dir, name), trash, || {
            fault::point("put:after-insert")
        })?;
        fault::point("put:after-rename");
        self.usage.trashed(new.size);
        Ok(())
    }

    /// The order of every move into the store: insert `new`'s row, run
    /// `between` (a fault point), then move `from` to `to`; the row goes
    /// again if the move fails (and a crash in between leaves a row without
    /// its file, which reconcile drops). Returns the row's id.
    pub(super) fn insert_then_move(
        catalog: &Catalog,
        new: &NewRow<'_>,
        from: (BorrowedFd<'_>, &OsStr),
        to: (BorrowedFd<'_>, &OsStr),
        between: impl FnOnce(),
    ) -> FsResult<i64> {
        let id = Self::new_row(catalog, new)?;
        between();
        if let Err(e) = backing::renameat2(from.0, from.1, to.0, to.1, libc::RENAME_NOREPLACE) {
            catalog.delete(id)?;
            return Err(e);
        }
        Ok(id)
    }

    /// Hard-links `dir/name`, a file a rename is about to replace, into the
    /// trash. The caller then renames and calls `settle` or `unstash`.
    pub fn stash(&self, dir: BorrowedFd<'_>, name: &OsStr, origin: Origin<'_>) -> FsResult<Stash> {
        let size = Self::size_of(dir, name, origin.st);
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        let entry = self.free_name(&catalog, name.as_bytes())?;
        let new = NewRow {
            name: &entry,
            origin: &origin,
            size,
            state: EntryState::Linking,
            reason: Reason::Replaced,
            litter: self.classify(&origin),
        };
        let id = Self::new_row(&catalog, &new)?;
        fault::point("stash:after-insert");
        let linked = if fault::refused("link") {
            Err(FsError::EPERM)
        } else {
            backing::linkat(dir, name, self.trash_fd.as_fd(), OsStr::from_bytes(&entry))
        };
        if let Err(e) = linked {
            catalog.delete(id)?;
            return Err(e);
        }
        fault::point("stash:after-link");
        Ok(Stash {
            id,
            name: entry,
            size,
            displaced: None,
        })
    }

    /// `stash` for a filesystem without hard links: moves `dir/name` into
    /// the trash under a `Replacing` row. Between this and the caller's
    /// rename, the gallery shows no file at the name.
    pub fn displace(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        origin: Origin<'_>,
        reason: Reason,
    ) -> FsResult<Stash> {
        let size = Self::size_of(dir, name, origin.st);
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        let entry = self.free_name(&catalog, name.as_bytes())?;
        let new = NewRow {
            name: &entry,
            origin: &origin,
            size,
            state: EntryState::Replacing,
            reason,
            litter: self.classify(&origin),
        };
        let trash = (self.trash_fd.as_fd(), OsStr::from_bytes(&entry));
        let id = Self::insert_then_move(&catalog, &new, (dir, name), trash, || {
            fault::point("displace:after-insert")
        })?;
        fault::point("displace:after-move");
        Ok(Stash {
            id,
            name: entry,
            size,
            displaced: Some(name.as_bytes().to_vec()),
        })
    }

    /// The rename replaced the stashed file: it is now a trash entry.
    pub fn settle(&self, stash: Stash) -> FsResult<Vec<u8>> {
        fault::point("stash:before-settle");
        if let Err(e) = self.catalog().settle(stash.id) {
            // The rename happened; an unsettled row is looked at by every mount.
            self.catalog_lags("settle", e.into());
            self.unsettled
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.usage.trashed(stash.size);
        Ok(stash.name)
    }

    /// The rename failed: the stashed file stays (or goes back) where it
    /// was, in `dir`, only in the gallery.
    pub fn unstash(&self, stash: Stash, dir: BorrowedFd<'_>) -> FsResult<()> {
        let _moves = lock(&self.moves);
        let entry = OsStr::from_bytes(&stash.name);
        match &stash.displaced {
            None => backing::unlinkat(self.trash_fd.as_fd(), entry, false)?,
            Some(name) => backing::renameat2(
                self.trash_fd.as_fd(),
                entry,
                dir,
                OsStr::from_bytes(name),
                libc::RENAME_NOREPLACE,
            )?,
        }
        self.forget_row(stash.id);
        Ok(())
    }

    /// Runs `change`, which alters the tree of entry `id` (moves a piece of
    /// it out, or deletes one) and returns the bytes that left it. The row
    /// is marked first, so a crash between the change and the new size
    /// leaves a mark from which reconcile recomputes the size.
    pub fn change_inside(
        &self,
        id: i64,
        restored: bool,
        change: impl FnOnce() -> FsResult<u64>,
    ) -> FsResult<()> {
        self.catalog().begin_resize(id)?;
        let bytes = match change() {
            Ok(bytes) => bytes,
            Err(e) => {
                // Nothing changed; the size is still right.
                self.catalog().shrink(id, 0)?;
                return Err(e);
            }
        };
        fault::point("resize:after-change");
        if let Err(e) = self.catalog().shrink(id, bytes) {
            // The change is made; the mark stays and the next mount measures.
            log::warn!("could not record the trash's new size: {e}");
        }
        if restored {
            self.usage.restored(bytes);
        } else {
            self.usage.purged(bytes);
        }
        Ok(())
    }

    /// Runs `change` on directory `dir` of an entry's tree, found at `rel`
    /// below STORAGE/trash, under the lock every move into and out of the
    /// trash takes, once that path is seen to still be `dir`: a restore of
    /// the entry or of a piece of it racing with a deletion inside would
    /// otherwise let the deletion reach a folder that is back in the
    /// gallery, and delete from it for good. ENOENT if it moved.
    pub fn within<T>(
        &self,
        rel: &[u8],
        dir: BorrowedFd<'_>,
        change: impl FnOnce() -> FsResult<T>,
    ) -> FsResult<T> {
        let _moves = lock(&self.moves);
        let here = backing::fstat(dir)?;
        let there = backing::fstatat(self.trash_fd.as_fd(), OsStr::from_bytes(rel))?;
        if (here.st_dev, here.st_ino) != (there.st_dev, there.st_ino) {
            return Err(FsError::ENOENT);
        }
        change()
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
            self.forget_row(row.id);
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
                self.forget_row(row.id);
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
                self.forget_row(row.id);
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
    #[cfg(test)]
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
        let now = now_secs();
        let rows = {
            let catalog = self.catalog();
            let mut rows = catalog.expired(now - self.retention, BATCH)?;
            // Litter past its own, shorter retention (by its index: the
            // query above would scan every entry older than that).
            if self.shortest_retention() < self.retention {
                let old: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
                let litter = catalog.expired_litter(now - self.shortest_retention(), BATCH)?;
                rows.extend(litter.into_iter().filter(|r| !old.contains(&r.id)));
            }
            rows
        };
        let mut purged = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(EXPIRE_CHUNK) {
            self.expire_chunk(chunk, &mut before, &mut purged)?;
        }
        Ok(purged)
    }

    /// Purges those of `rows` (expired when read) that are still those
    /// entries, as one bulk purge (`bulk`, whose crash order it has).
    fn expire_chunk<T>(
        &self,
        rows: &[EntryRow],
        before: &mut impl FnMut(&EntryRow) -> T,
        purged: &mut Vec<(EntryRow, T)>,
    ) -> FsResult<()> {
        let mut bulk = self.bulk_of(rows)?;
        for row in rows {
            let Ok(entry) = bulk.entry(&row.name) else {
                continue;
            };
            let given = before(row);
            match bulk.purge(&entry) {
                Ok(()) => purged.push((entry.row, given)),
                Err(FsError::ENOENT) => bulk.forget(&entry),
                Err(e) => log::warn!(
                    "could not delete expired entry {:?}: {e}",
                    String::from_utf8_lossy(&row.name)
                ),
            }
        }
        Ok(())
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

    /// Deletes the row of an entry whose file already left `trash/`. The
    /// change is made, so a failure here must not undo or report it: the
    /// row is kept for a retry (see `stale`).
    pub(super) fn forget_row(&self, id: i64) {
        let mut stale = lock(&self.stale);
        stale.push(id);
        self.delete_stale(&mut stale);
    }

    /// `forget_row` for many rows at once, in one transaction (a bulk
    /// request's: see `bulk`).
    pub(super) fn forget_rows(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        let mut stale = lock(&self.stale);
        stale.extend_from_slice(ids);
        let mut catalog = self.catalog();
        let deleted = catalog.in_transaction(|c| stale.iter().try_for_each(|&id| c.delete(id)));
        match deleted {
            Ok(()) => stale.clear(),
            Err(e) => self.catalog_lags("delete", e.into()),
        }
    }

    fn delete_stale(&self, stale: &mut Vec<i64>) {
        let catalog = self.catalog();
        while let Some(&id) = stale.last() {
            match catalog.delete(id) {
                Ok(()) => {
                    stale.pop();
                }
                Err(e) => {
                    self.catalog_lags("delete", e.into());
                    return;
                }
            }
        }
    }

    fn catalog_lags(&self, what: &str, e: FsError) {
        log::warn!(
            "STORAGE changed but the trash catalog could not record it yet ({what}: {e}); \
             retried, else the next mount compares the catalog with trash/"
        );
    }

    /// Flushes the catalog and records a clean unmount; called last.
    pub fn close(&self) {
        if let Err(e) = self.catalog().checkpoint() {
            log::warn!("could not checkpoint the trash database: {e}");
        }
        // The checkpoint emptied the log: room for what a full disk refused.
        let mut stale = lock(&self.stale);
        self.delete_stale(&mut stale);
        let catalog = self.catalog();
        if !stale.is_empty() || self.unsettled.load(std::sync::atomic::Ordering::Relaxed) {
            log::warn!("the trash catalog missed changes: the next mount reconciles it in full");
            return;
        }
        if let Err(e) = catalog.set_in_use(false) {
            log::warn!("could not record the clean unmount: {e}");
        }
    }
}

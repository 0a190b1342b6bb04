//! Bulk purges and restores (`contract::bulk`), and the expiry sweep's
//! batches: many entries under one hold of the `moves` lock, their rows
//! deleted in one catalog transaction.
//!
//! Crash order: each entry's file leaves `trash/` (unlinked, a directory
//! parked in `purging/`, or renamed into the gallery) while its row stays;
//! the rows of all of them go in one transaction at the end, then the
//! parked trees. A crash in between leaves rows without files, which the
//! next mount drops (it finds `in_use` set and compares every row with
//! `trash/`), and parked trees, which it deletes: every entry of the
//! request is gone (purged or restored) or still whole.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::MutexGuard;

use super::catalog::EntryRow;
use super::trash::{Entry, TrashStore, exists};
use crate::backing::{self, Stat};
use crate::clock::now_secs;
use crate::error::{FsError, FsResult};
use crate::fault;
use crate::sync::lock;

/// One bulk request's changes to the trash, finished when dropped.
pub struct Bulk<'a> {
    store: &'a TrashStore,
    _moves: MutexGuard<'a, ()>,
    /// The live rows of the request's names, read at its start (the names
    /// cannot change while `moves` is held).
    rows: HashMap<Vec<u8>, EntryRow>,
    /// Rows whose files have left `trash/`.
    gone: Vec<i64>,
    /// Directories parked in `purging/`, deleted once their rows are.
    parked: Vec<OsString>,
}

impl TrashStore {
    /// Starts a bulk request on the entries called `names`: no other move
    /// of the trash runs until it ends.
    pub fn bulk(&self, names: &[&[u8]]) -> FsResult<Bulk<'_>> {
        let now = now_secs();
        self.bulk_where(names, |r| self.visible(r, now))
    }

    /// A bulk purge of `rows`, read earlier (the expiry sweep's due rows):
    /// of those, only the ones still the entries under their names (not
    /// restored, renamed or replaced by a newer entry of the name since).
    pub(super) fn bulk_of(&self, rows: &[EntryRow]) -> FsResult<Bulk<'_>> {
        let names: Vec<&[u8]> = rows.iter().map(|r| &r.name[..]).collect();
        self.bulk_where(&names, |now| {
            rows.iter()
                .any(|r| (r.id, r.deleted_at, &r.name) == (now.id, now.deleted_at, &now.name))
        })
    }

    fn bulk_where(&self, names: &[&[u8]], keep: impl Fn(&EntryRow) -> bool) -> FsResult<Bulk<'_>> {
        let moves = lock(&self.moves);
        let rows = self
            .catalog()
            .by_names(names)?
            .into_iter()
            .filter(keep)
            .map(|r| (r.name.clone(), r))
            .collect();
        Ok(Bulk {
            store: self,
            _moves: moves,
            rows,
            gone: Vec::new(),
            parked: Vec::new(),
        })
    }
}

impl Bulk<'_> {
    /// The live entry `name` (one of the request's), once: ENOENT if there
    /// is none, or if the request named it before.
    pub fn entry(&mut self, name: &[u8]) -> FsResult<Entry> {
        let row = self.rows.remove(name).ok_or(FsError::ENOENT)?;
        Ok(self.store.entry(row))
    }

    /// The stat of entry `name`'s file.
    pub fn stat(&self, name: &[u8]) -> FsResult<Stat> {
        exists(self.store.trash_fd.as_fd(), name)?.ok_or(FsError::ENOENT)
    }

    /// Purges `entry` (one of the request's): unlinks a file, parks a
    /// directory in `purging/` (its tree goes when the request ends).
    pub fn purge(&mut self, entry: &Entry) -> FsResult<()> {
        let name = OsStr::from_bytes(&entry.row.name);
        let trash = self.store.trash_fd.as_fd();
        let unlinked = match entry.row.kind {
            libc::S_IFDIR => Err(FsError::EISDIR),
            _ => backing::unlinkat(trash, name, false),
        };
        match unlinked {
            // The catalog's type is the file's (entries never change type);
            // a directory is parked whatever it says.
            Err(FsError::EISDIR) => {
                let parking = OsString::from(format!("{}-{}", entry.row.id, now_secs()));
                backing::renameat2(trash, name, self.store.purging_fd.as_fd(), &parking, 0)?;
                self.parked.push(parking);
            }
            done => done?,
        }
        fault::point("bulk:after-purge");
        self.gone.push(entry.row.id);
        self.store.usage.purged(entry.row.size);
        Ok(())
    }

    /// Drops `entry`'s row (one of the request's), whose file is already
    /// gone from `trash/` (deleted behind galleryfs's back).
    pub fn forget(&mut self, entry: &Entry) {
        self.gone.push(entry.row.id);
        self.store.usage.purged(entry.row.size);
    }

    /// Restores `entry` to `dir/name`, never replacing what is there (EEXIST).
    pub fn take_out(&mut self, entry: &Entry, dir: BorrowedFd<'_>, name: &OsStr) -> FsResult<()> {
        backing::renameat2(
            self.store.trash_fd.as_fd(),
            OsStr::from_bytes(&entry.row.name),
            dir,
            name,
            libc::RENAME_NOREPLACE,
        )?;
        fault::point("bulk:after-restore");
        self.gone.push(entry.row.id);
        self.store.usage.restored(entry.row.size);
        Ok(())
    }
}

impl Drop for Bulk<'_> {
    /// Deletes the rows of everything that left `trash/` (one transaction),
    /// then the parked trees.
    fn drop(&mut self) {
        self.store.forget_rows(&self.gone);
        for parked in self.parked.drain(..) {
            if let Err(e) = backing::remove_tree(self.store.purging_fd.as_fd(), &parked) {
                log::warn!(
                    "could not finish deleting {parked:?} in purging/: {e}; retried at next mount"
                );
            }
        }
    }
}

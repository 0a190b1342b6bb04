//! Folding one removal of a folder into one entry: `rm -r`, `find -delete`,
//! `rsync --delete` and `shutil.rmtree` empty a folder one name at a time,
//! so each file first becomes an entry of its own and each emptied
//! subfolder a pending (hidden) one; when the process removes the folder
//! itself, everything it removed below it moves into the folder, which
//! becomes the one entry.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::Ordering;

use super::catalog::{DeletedBy, EntryRow, EntryState};
use super::trash::{NewRow, Origin, TrashStore, exists};
use crate::backing;
use crate::contract::Reason;
use crate::error::{FsError, FsResult};
use crate::fault;
use crate::sync::lock;

/// A fold done: the entry's name, and each folded entry's old name with
/// its path inside the new entry.
pub struct Folded {
    pub entry: Vec<u8>,
    pub moved: Vec<(Vec<u8>, Vec<u8>)>,
}

impl TrashStore {
    /// Whether `by` removed anything below gallery directory `path` that a
    /// removal of the directory itself would fold.
    pub fn deleted_below(&self, by: DeletedBy, path: &[u8]) -> FsResult<bool> {
        Ok(self.catalog().deleted_below(by, path)?)
    }

    /// An emptied directory `dir/name` that `by` removed: kept out of sight
    /// in `pending/` in case its parent's removal folds it.
    pub fn put_pending(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        origin: Origin<'_>,
    ) -> FsResult<()> {
        let _moves = lock(&self.moves);
        let catalog = self.catalog();
        let tail = format!(
            "{}-{}",
            now_nanos(),
            self.pending_seq.fetch_add(1, Ordering::Relaxed)
        );
        let size = origin.st.st_blocks as u64 * 512;
        let row_name = pending_name(&tail);
        let new = NewRow {
            name: &row_name,
            origin: &origin,
            size,
            state: EntryState::Pending,
            reason: Reason::Deleted,
            litter: self.classify(&origin),
        };
        let to = (self.pending_fd.as_fd(), OsStr::new(&tail));
        Self::insert_then_move(&catalog, &new, (dir, name), to, || {
            fault::point("pending:after-insert")
        })?;
        self.usage.trashed(size);
        Ok(())
    }

    /// Where `row`'s file is: `pending/` for a pending folder, else `trash/`.
    pub(super) fn file_of<'r>(&self, row: &'r EntryRow) -> (BorrowedFd<'_>, &'r OsStr) {
        match pending_file(&row.name) {
            Some(tail) if row.state == EntryState::Pending => (self.pending_fd.as_fd(), tail),
            _ => (self.trash_fd.as_fd(), OsStr::from_bytes(&row.name)),
        }
    }

    /// Folds the removal of emptied gallery directory `dir/name` (gallery
    /// path `origin.original_path`) by `by`: the directory itself becomes
    /// the entry, and every entry `by` made below it moves into it at its
    /// relative path. In the store's crash order: a `Folding` row marks the
    /// rows it takes; a crash before the folder moved undoes the mark, a
    /// crash after it is finished by reconcile.
    pub fn fold(&self, dir: BorrowedFd<'_>, name: &OsStr, origin: Origin<'_>) -> FsResult<Folded> {
        let by = origin.by.ok_or(FsError::EINVAL)?;
        let _moves = lock(&self.moves);
        let (id, entry) = {
            let mut catalog = self.catalog();
            let entry = self.free_name(&catalog, name.as_bytes())?;
            let new = NewRow {
                name: &entry,
                origin: &origin,
                size: 0,
                state: EntryState::Folding,
                reason: Reason::Deleted,
                // A folder: litter only inside a `.git`.
                litter: self.classify(&origin),
            };
            let id = catalog.in_transaction(|catalog| {
                let id = Self::new_row(catalog, &new)
                    .map_err(|_| rusqlite::Error::StatementChangedRows(0))?;
                catalog.mark_folded(id, by, origin.original_path)?;
                Ok(id)
            })?;
            (id, entry)
        };
        fault::point("fold:after-mark");
        let moved = backing::renameat2(
            dir,
            name,
            self.trash_fd.as_fd(),
            OsStr::from_bytes(&entry),
            libc::RENAME_NOREPLACE,
        );
        if let Err(e) = moved {
            self.catalog().abandon_fold(id)?;
            return Err(e);
        }
        fault::point("fold:after-rename");
        self.usage.trashed(origin.st.st_blocks as u64 * 512);
        let moved = self.finish_fold(id, &entry, origin.original_path)?;
        Ok(Folded { entry, moved })
    }

    /// Moves the rows folded into row `id` (entry `entry`, of gallery
    /// directory `path`) into it, then records the fold; what reconcile
    /// runs too. Returns what moved where.
    pub(super) fn finish_fold(
        &self,
        id: i64,
        entry: &[u8],
        path: &[u8],
    ) -> FsResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let trash = self.trash_fd.as_fd();
        let top = backing::open_dir_path(trash, OsStr::from_bytes(entry))?;
        let catalog = self.catalog();
        let rows = catalog.folded(id)?;
        let mut moved = Vec::with_capacity(rows.len());
        let mut size = backing::fstat(top.as_fd())?.st_blocks as u64 * 512;
        for row in &rows {
            let Some(rel) = row.original_path.strip_prefix(&[path, b"/"].concat()[..]) else {
                catalog.unfold(row.id)?;
                continue;
            };
            match self.move_into(top.as_fd(), row, rel) {
                Ok(true) => {
                    size += row.size;
                    moved.push((row.name.clone(), rel.to_vec()));
                }
                // Moved before a crash: only the record is left to do.
                Ok(false)
                    if {
                        let (dir, name) = self.file_of(row);
                        exists(dir, name.as_bytes())?.is_none()
                    } =>
                {
                    size += row.size
                }
                // Its place in the folder is taken (the same path removed
                // twice): a file stays an entry of its own; an emptied
                // folder holds nothing the one in its place lacks.
                Ok(false) | Err(FsError::EEXIST) if row.state == EntryState::Pending => {
                    self.remove_pending(&catalog, row)?
                }
                Ok(false) | Err(FsError::EEXIST) => catalog.unfold(row.id)?,
                Err(e) => return Err(e),
            }
            fault::point("fold:after-move");
        }
        catalog.finish_fold(id, size)?;
        Ok(moved)
    }

    /// Moves `row`'s file to `rel` inside folder `top`, making missing
    /// parents; false if the file is no longer in `trash/` or `rel` (or a
    /// folder on the way to it) is taken.
    fn move_into(&self, top: BorrowedFd<'_>, row: &EntryRow, rel: &[u8]) -> FsResult<bool> {
        let (from, from_name) = self.file_of(row);
        let parts: Vec<&[u8]> = rel
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty())
            .collect();
        let Some((last, parents)) = parts.split_last() else {
            return Ok(false);
        };
        // Gone already (a crash after its move): no parents made for it.
        // Where there are none to make, the rename itself says so.
        if !parents.is_empty() && exists(from, from_name.as_bytes())?.is_none() {
            return Ok(false);
        }
        let mut at = None;
        for part in parents {
            let base = at
                .as_ref()
                .map_or(top, |d: &std::os::fd::OwnedFd| d.as_fd());
            let part = OsStr::from_bytes(part);
            match backing::mkdirat(base, part, 0o755) {
                Ok(()) | Err(FsError::EEXIST) => {}
                Err(e) => return Err(e),
            }
            at = match backing::open_dir_path(base, part) {
                Ok(fd) => Some(fd),
                // Not a folder there: the removal took a file by that
                // name too (its folder went by another's hand). Taken.
                Err(FsError::ENOTDIR | FsError::ELOOP) => return Ok(false),
                Err(e) => return Err(e),
            };
        }
        let base = at.as_ref().map_or(top, |d| d.as_fd());
        match backing::renameat2(
            from,
            from_name,
            base,
            OsStr::from_bytes(last),
            libc::RENAME_NOREPLACE,
        ) {
            Ok(()) => Ok(true),
            Err(FsError::EEXIST | FsError::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Pending directories older than `cutoff` whose folder was never
    /// removed by their process: the removal ended with them, and an empty
    /// directory holds nothing to keep.
    pub fn drop_pending(&self, cutoff: i64) -> FsResult<usize> {
        let rows = self.catalog().pending_before(cutoff, super::trash::BATCH)?;
        for row in &rows {
            self.forget_pending(row)?;
        }
        Ok(rows.len())
    }

    /// Deletes pending folder `row` for good.
    pub(super) fn forget_pending(&self, row: &EntryRow) -> FsResult<()> {
        let _moves = lock(&self.moves);
        self.remove_pending(&self.catalog(), row)
    }

    fn remove_pending(&self, catalog: &super::catalog::Catalog, row: &EntryRow) -> FsResult<()> {
        let (dir, name) = self.file_of(row);
        match backing::remove_tree(dir, name) {
            Ok(()) | Err(FsError::ENOENT) => {}
            Err(e) => return Err(e),
        }
        catalog.delete(row.id)?;
        self.usage.purged(row.size);
        Ok(())
    }

    /// After a crash, pending folder `row` is what is left of an interrupted
    /// removal: it becomes an entry of its own, with the folder's metadata.
    pub(super) fn show_pending(
        &self,
        catalog: &super::catalog::Catalog,
        row: &EntryRow,
    ) -> FsResult<()> {
        let (dir, name) = self.file_of(row);
        if exists(dir, name.as_bytes())?.is_none() {
            catalog.delete(row.id)?;
            return Ok(());
        }
        let base = row
            .original_path
            .rsplit(|&b| b == b'/')
            .next()
            .unwrap_or_default();
        let entry = self.free_name(catalog, base)?;
        backing::renameat2(
            dir,
            name,
            self.trash_fd.as_fd(),
            OsStr::from_bytes(&entry),
            libc::RENAME_NOREPLACE,
        )?;
        catalog.rename_settle(row.id, &entry)?;
        Ok(())
    }
}

/// A pending folder's row name: a `/` no entry name can hold, then its
/// file's name in `pending/`.
fn pending_name(tail: &str) -> Vec<u8> {
    [b"/", tail.as_bytes()].concat()
}

fn pending_file(name: &[u8]) -> Option<&OsStr> {
    name.strip_prefix(b"/").map(OsStr::from_bytes)
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

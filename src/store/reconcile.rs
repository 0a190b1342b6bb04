//! Reconciliation at mount: finishes or rolls back every composition a crash
//! interrupted (see the crash order in `store`), and, after an unclean stop,
//! makes the catalog and `trash/` agree entry by entry.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use super::catalog::{Catalog, EntryRow, EntryState};
use super::trash::{NewRow, Origin, TrashStore, exists};
use crate::backing::{self, Stat};
use crate::contract::Reason;
use crate::error::FsResult;

/// What reconciliation found and repaired at mount.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub finished: usize,
    pub rolled_back: usize,
    pub rows_dropped: usize,
    pub rows_added: usize,
    /// Sizes recomputed after an interrupted change inside an entry.
    pub remeasured: usize,
}

impl TrashStore {
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
        let unclean = self.catalog().was_in_use()?;
        // Folds first: they take pending and settled rows of their own.
        let folding = self.catalog().unsettled()?;
        for row in folding.iter().filter(|r| r.state == EntryState::Folding) {
            if exists(trash, &row.name)?.is_some() {
                log::warn!(
                    "finishing the interrupted folding of {:?}",
                    String::from_utf8_lossy(&row.name)
                );
                self.finish_fold(row.id, &row.name, &row.original_path)?;
                report.finished += 1;
            } else {
                self.catalog().abandon_fold(row.id)?;
                report.rolled_back += 1;
            }
        }
        let mut stale = Vec::new();
        let catalog = self.catalog();
        for row in catalog.unsettled()? {
            let label = String::from_utf8_lossy(&row.name).into_owned();
            match row.state {
                // After a crash, an emptied folder of a removal that took more
                // than it (`rm -r` stopped half-way) shows, with its metadata;
                // after a clean stop, or alone, it was an empty folder's
                // removal: it goes.
                EntryState::Pending if unclean && self.part_of_removal(&catalog, &row)? => {
                    log::warn!(
                        "keeping the emptied folder {:?} of an interrupted removal",
                        String::from_utf8_lossy(&row.original_path)
                    );
                    self.show_pending(&catalog, &row)?;
                    report.finished += 1;
                }
                EntryState::Pending => stale.push(row),
                EntryState::Folding => {}
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
                EntryState::Replacing => self.finish_replacing(&catalog, &row, &mut report)?,
                EntryState::Copying => {
                    // The gallery file was never changed: the copy goes.
                    log::warn!("removing the interrupted copy {label:?}");
                    match backing::unlinkat(trash, OsStr::from_bytes(&row.name), false) {
                        Ok(()) | Err(crate::error::FsError::ENOENT) => {}
                        Err(e) => return Err(e),
                    }
                    catalog.delete(row.id)?;
                    report.rolled_back += 1;
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
        drop(catalog);
        for row in stale {
            self.forget_pending(&row)?;
        }
        let mut catalog = self.catalog();
        self.remeasure(&catalog, &mut report)?;
        if unclean {
            // The last mount did not end cleanly (or this catalog is new):
            // make the catalog and trash/ agree entry by entry.
            self.reconcile_all(&mut catalog, &mut report)?;
        }
        catalog.set_in_use(true)?;
        self.usage.set_trash(catalog.total_size()?);
        Ok(report)
    }

    /// The full comparison of catalog rows and files in trash/: one listing
    /// of trash/ (its names in one sorted arena), one scan of the catalog's name index,
    /// a binary search per row; only a file without a row is stat'ed. With
    /// a million entries this is one pass over each instead of a million
    /// lookups in each.
    fn reconcile_all(&self, catalog: &mut Catalog, report: &mut ReconcileReport) -> FsResult<()> {
        let trash = self.trash_fd.as_fd();
        let names = Names::of_dir(trash)?;
        let mut matched = vec![false; names.len()];
        let mut missing = Vec::new();
        catalog.for_each_name(|id, name| match names.find(name) {
            Some(i) => matched[i] = true,
            None => missing.push((id, name.to_vec())),
        })?;
        catalog.in_transaction(|catalog| {
            for (id, name) in &missing {
                log::warn!(
                    "trash entry {:?} has no file in STORAGE/trash: dropping its row",
                    String::from_utf8_lossy(name)
                );
                catalog.delete(*id)?;
            }
            Ok(())
        })?;
        report.rows_dropped += missing.len();
        let unmatched = (0..names.len()).filter(|&i| !matched[i]);
        for name in unmatched.map(|i| names.get(i)) {
            let file = OsStr::from_bytes(name);
            let Ok(st) = backing::fstatat(trash, file) else {
                continue;
            };
            log::warn!(
                "STORAGE/trash/{:?} has no catalog row: adding it (original path unknown)",
                String::from_utf8_lossy(name)
            );
            let size = Self::size_of(trash, file, &st);
            let origin = Origin {
                original_path: name,
                st: &st,
                by: None,
            };
            let new = NewRow {
                name,
                origin: &origin,
                size,
                state: EntryState::Settled,
                reason: Reason::Deleted,
                // Where it came from is unknown: nothing tells it is litter.
                litter: false,
            };
            Self::new_row(catalog, &new)?;
            report.rows_added += 1;
        }
        Ok(())
    }

    /// `displace` was interrupted: if the rename never put anything at the
    /// original path, the file goes back there (the old state); otherwise
    /// the rename happened and the entry stays (the new state).
    fn finish_replacing(
        &self,
        catalog: &Catalog,
        row: &EntryRow,
        report: &mut ReconcileReport,
    ) -> FsResult<()> {
        let label = String::from_utf8_lossy(&row.name);
        let trash = self.trash_fd.as_fd();
        if exists(trash, &row.name)?.is_none() {
            catalog.delete(row.id)?;
            report.rolled_back += 1;
            return Ok(());
        }
        if self.resolve_in_gallery(&row.original_path).is_none()
            && let Some((dir, last)) = self.gallery_parent(&row.original_path)
        {
            let base = dir.as_ref().map_or(self.gallery_fd.as_fd(), |d| d.as_fd());
            let back = backing::renameat2(
                trash,
                OsStr::from_bytes(&row.name),
                base,
                OsStr::from_bytes(last),
                libc::RENAME_NOREPLACE,
            );
            if back.is_ok() {
                log::warn!("rolling back interrupted replacement of {label:?}");
                catalog.delete(row.id)?;
                report.rolled_back += 1;
                return Ok(());
            }
        }
        log::warn!("finishing interrupted replacement: {label:?} is in the trash");
        catalog.settle(row.id)?;
        report.finished += 1;
        Ok(())
    }

    /// Whether pending folder `row`'s process removed more than it below its
    /// parent folder.
    fn part_of_removal(&self, catalog: &Catalog, row: &EntryRow) -> FsResult<bool> {
        let Some(by) = row.by else { return Ok(false) };
        let parent = match row.original_path.iter().rposition(|&b| b == b'/') {
            Some(i) => &row.original_path[..i],
            None => return Ok(false),
        };
        Ok(catalog.deleted_below_but(by, parent, row.id)?)
    }

    /// Recomputes the sizes that changes inside trashed directories left
    /// marked (`change_inside`): a crash came between change and record.
    fn remeasure(&self, catalog: &Catalog, report: &mut ReconcileReport) -> FsResult<()> {
        let trash = self.trash_fd.as_fd();
        for (id, name) in catalog.resizing()? {
            let size = match exists(trash, &name)? {
                Some(st) => Self::size_of(trash, OsStr::from_bytes(&name), &st),
                None => 0,
            };
            catalog.set_size(id, size)?;
            report.remeasured += 1;
        }
        Ok(())
    }

    /// The directory holding `gallery/PATH` (None for `gallery/` itself) and
    /// PATH's last component; None if a parent is missing.
    fn gallery_parent<'p>(&self, path: &'p [u8]) -> Option<(Option<OwnedFd>, &'p [u8])> {
        let parts: Vec<&[u8]> = path
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty())
            .collect();
        let (last, parents) = parts.split_last()?;
        let mut dir: Option<OwnedFd> = None;
        for part in parents {
            let base = dir.as_ref().map_or(self.gallery_fd.as_fd(), |d| d.as_fd());
            dir = Some(backing::open_dir_path(base, OsStr::from_bytes(part)).ok()?);
        }
        Some((dir, last))
    }

    /// Stats `gallery/PATH` without following symlinks; None if any part is missing.
    fn resolve_in_gallery(&self, path: &[u8]) -> Option<Stat> {
        let (dir, last) = self.gallery_parent(path)?;
        let base = dir.as_ref().map_or(self.gallery_fd.as_fd(), |d| d.as_fd());
        backing::fstatat(base, OsStr::from_bytes(last)).ok()
    }
}

/// The names of a directory, `.` and `..` left out, in one buffer, sorted
/// bytewise for binary search: a million names cost their bytes and eight
/// more each, not a heap allocation each.
struct Names {
    bytes: Vec<u8>,
    /// (start, length) in `bytes`, sorted by the names they denote.
    spans: Vec<(u32, u32)>,
}

impl Names {
    fn of_dir(dir: std::os::fd::BorrowedFd<'_>) -> FsResult<Names> {
        const CHUNK: usize = 4096;
        let mut names = Names {
            bytes: Vec::new(),
            spans: Vec::new(),
        };
        let mut cookie = 0;
        loop {
            let chunk = backing::read_dir_at(dir, cookie, CHUNK)?;
            let Some(&(_, last)) = chunk.last() else {
                break;
            };
            cookie = last;
            for (entry, _) in &chunk {
                let name = entry.name.as_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                // Offsets past 4 GiB of names would need a wider span.
                let start = u32::try_from(names.bytes.len())
                    .map_err(|_| crate::error::FsError::from_errno(libc::EOVERFLOW))?;
                names.bytes.extend_from_slice(name);
                names.spans.push((start, name.len() as u32));
            }
        }
        let bytes = &names.bytes;
        let span = |&(s, l): &(u32, u32)| &bytes[s as usize..(s + l) as usize];
        names.spans.sort_unstable_by(|a, b| span(a).cmp(span(b)));
        Ok(names)
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn get(&self, i: usize) -> &[u8] {
        let (s, l) = self.spans[i];
        &self.bytes[s as usize..(s + l) as usize]
    }

    fn find(&self, name: &[u8]) -> Option<usize> {
        self.spans
            .binary_search_by(|&(s, l)| self.bytes[s as usize..(s + l) as usize].cmp(name))
            .ok()
    }
}

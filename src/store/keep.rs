//! Keeping a copy of a gallery file whose content is about to be destroyed
//! in place (a truncation, a hole punched into it): the copy becomes an
//! `overwritten` entry before the change is made. A reflink where STORAGE
//! has them (btrfs, xfs), else a copy in the kernel.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

use super::catalog::EntryState;
use super::trash::{NewRow, Origin, TrashStore};
use crate::backing::{self, Stat};
use crate::contract::Reason;
use crate::error::{FsError, FsResult};
use crate::fault;
use crate::sync::lock;

/// How a copy was made, or why none was.
#[derive(Debug, PartialEq, Eq)]
pub enum Kept {
    /// As entry `name`.
    As(Vec<u8>),
    /// Not kept: STORAGE makes no reflinks and the file is larger than the
    /// copy limit.
    TooLarge,
}

impl TrashStore {
    /// Whether an `overwritten` entry of `original_path` was made at or
    /// after `since`: a burst of saves keeps only its first.
    pub fn overwritten_since(&self, original_path: &[u8], since: i64) -> FsResult<bool> {
        Ok(self.catalog().overwritten_since(original_path, since)?)
    }

    /// Copies gallery file `src` (open for reading; last stat `st`) into the
    /// trash as an `overwritten` entry of `original_path`, with its mode,
    /// owner (`chown`), times and xattrs. A copy larger than `copy_max`
    /// is made only as a reflink.
    pub fn copy_in(
        &self,
        src: BorrowedFd<'_>,
        origin: Origin<'_>,
        copy_max: u64,
        chown: bool,
    ) -> FsResult<Kept> {
        let (original_path, st) = (origin.original_path, origin.st);
        let size = st.st_size as u64;
        if !self.reflinks.available() && size > copy_max {
            return Ok(Kept::TooLarge);
        }
        let name = original_path
            .rsplit(|&b| b == b'/')
            .next()
            .unwrap_or_default();
        let (id, entry) = {
            let _moves = lock(&self.moves);
            let catalog = self.catalog();
            let entry = self.free_name(&catalog, name)?;
            // The copy's own inode number is recorded when it settles.
            let mut unknown = *st;
            unknown.st_ino = 0;
            let new = NewRow {
                name: &entry,
                origin: &Origin {
                    st: &unknown,
                    ..origin
                },
                size: st.st_blocks as u64 * 512,
                state: EntryState::Copying,
                reason: Reason::Overwritten,
                litter: self.classify(&origin),
            };
            let id = Self::new_row(&catalog, &new)?;
            (id, entry)
        };
        fault::point("copy:after-insert");
        let made = self.make_copy(src, &entry, st, copy_max, chown);
        let outcome = match made {
            Ok(Some(ino)) => {
                fault::point("copy:after-copy");
                self.catalog().settle_copy(id, ino)?;
                self.usage.copied(st.st_blocks as u64 * 512);
                return Ok(Kept::As(entry));
            }
            Ok(None) => Ok(Kept::TooLarge),
            Err(e) => Err(e),
        };
        // Nothing was kept: neither the copy nor its row stays.
        let _ = backing::unlinkat(self.trash_fd.as_fd(), OsStr::from_bytes(&entry), false);
        self.catalog().delete(id)?;
        outcome
    }

    /// Fills `trash/ENTRY` from `src`; its inode number, or None if only a
    /// copy above `copy_max` would have done.
    fn make_copy(
        &self,
        src: BorrowedFd<'_>,
        entry: &[u8],
        st: &Stat,
        copy_max: u64,
        chown: bool,
    ) -> FsResult<Option<u64>> {
        let dst = backing::openat(
            self.trash_fd.as_fd(),
            OsStr::from_bytes(entry),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
            0o600,
        )?;
        let size = st.st_size as u64;
        let cloned = if self.reflinks.available() {
            match backing::ficlone(dst.as_fd(), src) {
                Ok(()) => {
                    self.reflinks.learned(true);
                    true
                }
                Err(FsError::ENOTSUP | FsError::EXDEV | FsError::EINVAL | FsError::ENOTTY) => {
                    self.reflinks.learned(false);
                    false
                }
                Err(e) => return Err(e),
            }
        } else {
            false
        };
        if !cloned {
            if size > copy_max {
                return Ok(None);
            }
            backing::copy_all(dst.as_fd(), src, size)?;
        }
        backing::copy_metadata(src, dst.as_fd(), st, chown)?;
        Ok(Some(backing::fstat(dst.as_fd())?.st_ino))
    }
}

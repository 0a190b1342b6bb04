//! The store: STORAGE on disk and everything that changes it as a unit of
//! the trash. `layout` recognises, initialises and locks STORAGE; `catalog`
//! is the SQLite catalog (SQLite only); `naming` chooses entry names;
//! `usage` counts bytes; `litter` tells a program's temporary files from
//! the rest; `TrashStore` (`trash`, with `keep` for copies of
//! overwritten files and `fold` for removals of folders) owns every
//! crash-ordered composition and `reconcile` repairs what a crash interrupted.
//!
//! # Crash order
//!
//! Every operation that moves data between the gallery and the trash is one
//! of these compositions. Each names its steps, the fault point between them
//! (`fault::point`, where the crash suite kills the daemon with
//! `GALLERYFS_CRASH_AT`), and what the next mount's `reconcile` makes of a
//! crash there. A crash leaves the old state or the new one, never neither
//! and never both.
//!
//! | composition | steps | fault point | a crash there, then a remount |
//! |---|---|---|---|
//! | put (unlink in `gallery/`, rename into `.trash/`) | insert a settled row; rename the file into `trash/` | `put:after-insert` | a row without its file is dropped: the file never left the gallery |
//! | | | `put:after-rename` | the entry is complete |
//! | stash (rename over a file: the replaced file) | insert a `Linking` row; hard-link the file into `trash/`; the caller renames over it; settle the row | `stash:after-insert` | no link: the row is dropped |
//! | | | `stash:after-link` | the gallery name still shows the linked inode: the rename never happened, the link is removed and the row dropped |
//! | | | `stash:before-settle` | the gallery name shows another inode: the rename happened, the row settles |
//! | displace (the same where STORAGE has no hard links) | insert a `Replacing` row; move the file into `trash/`; the caller renames into its place; settle | `displace:after-insert` | no file in `trash/`: the row is dropped |
//! | | | `displace:after-move` | nothing at the original path: the rename never happened, the file moves back and the row is dropped; something there: the row settles |
//! | keep by inode (an overwrite empties a file nobody else has open: `fs::keep`) | displace it (as above, reason `overwritten`); link a new empty file at the name; settle | `displace:after-insert`, `displace:after-move` | as for displace: nothing at the name, so the old file moves back; or the new file is there and the entry settles |
//! | keep by copy (`copy_in`, before a truncation or a punched hole) | insert a `Copying` row; reflink or copy into `trash/`; settle; the caller then changes the file | `copy:after-insert` | no copy: the row is dropped, the file untouched |
//! | | | `copy:after-copy` | a copy that never settled: it and its row are removed, the file untouched. After the settle (no fault point): an entry equal to the file, which the change never reached — nothing lost |
//! | fold (the removal of a folder by the thread that emptied it: `store::fold`) | insert a `Folding` row and mark the rows it takes (one transaction); move the folder into `trash/`; move each marked entry and pending folder into it; delete the marked rows and settle | `fold:after-mark` | the folder never moved: the marks are undone, the entries stay loose |
//! | | | `fold:after-rename`, `fold:after-move` | the folder is in `trash/`: reconcile moves the rest in and settles it |
//! | pending folder (an emptied subfolder of a removal) | insert a `Pending` row; move the folder into `pending/` | `pending:after-insert` | a row without its folder is dropped: the folder never left the gallery |
//! | | | after the move (no fault point) | after an unclean stop a pending folder of a removal that took more shows as an entry, else it goes |
//! | take out (restore) | rename the entry out of `trash/`; delete its row | `take-out:after-rename` | a row without its file is dropped: the restore is complete |
//! | change inside a trashed directory (partial restore, delete inside) | mark the row `resizing`; change STORAGE; record the new size and clear the mark | `resize:after-change` | the marked row's size is measured again |
//! | purge (a file, an empty directory) | unlink; delete the row | `purge:after-unlink` | a row without its file is dropped |
//! | purge (a tree) | rename into `purging/`; delete the row; delete the tree | `purge:after-park` | the row is dropped, `purging/` is emptied |
//! | expiry (up to 64 due entries at a time) | a bulk purge of those still the entries they were read as (below) | `bulk:after-purge` | as for a bulk purge: each due entry is gone or still whole |
//! | bulk purge (`user.trash.purge.T`: many entries, `store::bulk`) | unlink each file, park each directory in `purging/`; delete all their rows in one transaction; delete the parked trees | `bulk:after-purge` | rows without files are dropped, `purging/` is emptied: each entry is purged or still whole |
//! | bulk restore (`user.trash.restore.T`) | rename each entry out of `trash/` (`RENAME_NOREPLACE`); delete all their rows in one transaction | `bulk:after-restore` | rows without files are dropped: each entry is restored or still in the trash |
//! | rename an entry | record both names in the row (`Renaming`); rename in `trash/`; settle | `rename:after-begin` | only the old name exists: the rename is undone |
//! | | | `rename:after-rename` | the new name exists: the row settles |
//!
//! The clean-stop flag: the catalog's `in_use` is set at mount and cleared
//! last at a clean unmount (after a WAL checkpoint). A mount that finds it
//! set knows the last one was killed and compares every row with `trash/`
//! (rows without files are dropped, files without rows adopted); after a
//! clean stop only the unsettled and `resizing` rows above are looked at.
//! The flag also records the boot of the machine it was set on: a mount
//! that finds it set on another boot (the machine went down while mounted)
//! first runs `PRAGMA quick_check` over the whole file; after galleryfs
//! alone was killed, SQLite's log recovers the file as it was at any
//! instant, and the check (seconds for a million rows, cold) is skipped.
//! When STORAGE changed but the catalog refused to record it (a full disk),
//! the operation still succeeds: the row deletion is retried at the next
//! one and at unmount, and while one is missing the unmount leaves `in_use`
//! set. Room for the log and for the database's growth at the checkpoint is
//! reserved at mount (`layout`), so that this stays rare.

mod bulk;
pub mod catalog;
mod fold;
mod keep;
mod layout;
pub mod litter;
pub mod naming;
mod reconcile;
mod reflinks;
mod trash;
pub mod usage;

#[cfg(test)]
mod tests;

pub use bulk::Bulk;
pub use keep::Kept;
pub use layout::{DATABASE, Store};
pub use trash::{Entry, Origin, TrashStore};

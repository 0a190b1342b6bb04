//! The gallery's rule for overwrites: content that an open with `O_TRUNC`,
//! a truncation or a hole punched into a regular file would destroy is kept
//! as an `overwritten` trash entry first, the cheapest way that applies:
//!
//! 1. by inode: a file emptied whole (`O_TRUNC`, `truncate -s 0`) that has
//!    one name and that nobody has open goes to the trash itself, and a new
//!    empty file with its mode, owner and xattrs takes its name (no copy);
//! 2. otherwise by a copy (`store::TrashStore::copy_in`): a reflink where
//!    STORAGE makes them, else a copy up to `overwrite_copy_max`.
//!
//! Nothing is kept when nothing would be lost (an empty file, a truncation
//! that grows it) or when the path's last overwrite was kept less than
//! `overwrite_interval` ago.

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

use super::core::Core;
use super::events::{self, Change};
use crate::backing::{self, Stat};
use crate::clock::now_secs;
use crate::contract::Reason;
use crate::error::{FsError, FsResult};
use crate::node::{NodeId, Place};
use crate::store::{Kept, Origin};

/// How much of a range about to be destroyed is read to tell whether it
/// holds anything but zeros; past this it is kept.
const ZERO_CHECK_BUDGET: u64 = 16 << 20;

/// What is about to happen to a file's content.
#[derive(Clone, Copy, Debug)]
pub(super) enum Overwrite {
    /// Its size becomes `size`.
    Truncate { size: u64 },
    /// `len` bytes from `offset` are replaced or removed (a punched hole, a
    /// zeroed or collapsed range).
    Range { offset: u64, len: u64 },
}

/// Where a gallery file is, and its last stat.
struct Target {
    parent: NodeId,
    name: OsString,
    original: Vec<u8>,
    st: Stat,
}

/// The file `node` if `change` would destroy content worth keeping.
fn target(core: &Core, node: NodeId, st: Stat, change: Overwrite) -> FsResult<Option<Target>> {
    let policy = core.overwrite;
    let size = st.st_size.max(0) as u64;
    let (start, end) = match change {
        Overwrite::Truncate { size: to } => (to, size),
        Overwrite::Range { offset, len } => (offset, offset.saturating_add(len).min(size)),
    };
    // Nothing to lose: an empty range, or one of holes and zeros only (`cp
    // --sparse=always` punches holes into what it writes).
    if !policy.keep || !backing::is_regular(&st) || start >= end || st.st_blocks == 0 {
        return Ok(None);
    }
    if (start, end) != (0, size) {
        let (fd, _) = core
            .nodes
            .open_file(node, libc::O_RDONLY | libc::O_NONBLOCK)?;
        if !backing::has_nonzero(fd.as_fd(), start, end, ZERO_CHECK_BUDGET)? {
            return Ok(None);
        }
    }
    // Its name in the gallery: a hard link may also have one in the trash.
    let in_gallery = |(parent, _): &(NodeId, OsString)| {
        matches!(
            core.nodes.place(*parent),
            Ok(Place::GalleryRoot | Place::Gallery)
        )
    };
    let Some((parent, name)) = core.nodes.links(node)?.into_iter().find(in_gallery) else {
        // Removed while open, so already in the trash.
        return Ok(None);
    };
    let original = core.original_path(parent, &name)?;
    let interval = policy.interval.as_secs() as i64;
    if interval > 0
        && core
            .store
            .overwritten_since(&original, now_secs() - interval)?
    {
        log::debug!(
            "overwrite of {:?} not kept: its last one was kept less than {interval} s ago",
            String::from_utf8_lossy(&original)
        );
        return Ok(None);
    }
    Ok(Some(Target {
        parent,
        name,
        original,
        st,
    }))
}

/// Before `change` to gallery file `node` (last stat `st`): keeps its
/// content by a copy if it is worth keeping.
pub(super) fn before(core: &Core, node: NodeId, st: Stat, change: Overwrite) -> FsResult<()> {
    match target(core, node, st, change)? {
        Some(t) => by_copy(core, node, &t),
        None => Ok(()),
    }
}

/// An empty file takes the place of gallery file `node` (last stat `st`),
/// which goes to the trash whole, if it is worth keeping and can go by
/// inode; returns the new file, open for reading and writing. None if the
/// caller must truncate it itself (a copy was kept if one was needed).
pub(super) fn empty(core: &Core, node: NodeId, st: Stat) -> FsResult<Option<File>> {
    let change = Overwrite::Truncate { size: 0 };
    let Some(t) = target(core, node, st, change)? else {
        return Ok(None);
    };
    if t.st.st_nlink != 1 || core.handles.is_open(node) {
        // Another name or an open file would go on using the inode.
        by_copy(core, node, &t)?;
        return Ok(None);
    }
    match by_inode(core, node, &t) {
        Ok(file) => Ok(Some(file)),
        // No O_TMPFILE on this STORAGE: a copy does it.
        Err(FsError::ENOTSUP | FsError::EISDIR | FsError::EINVAL) => {
            by_copy(core, node, &t)?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Mechanism 1: the inode goes to the trash, a new empty file takes its name.
/// A displace in the store's crash order: a crash leaves the old file at the
/// name, or the entry and the new file.
fn by_inode(core: &Core, node: NodeId, t: &Target) -> FsResult<File> {
    let dir = core.nodes.dir_fd(t.parent)?;
    let fresh = backing::open_tmpfile(dir.as_fd(), t.st.st_mode & 0o7777)?;
    like(core, node, &fresh, &t.st)?;
    let origin = Origin {
        original_path: &t.original,
        st: &t.st,
        by: None,
    };
    let stash = core
        .store
        .displace(dir.as_fd(), &t.name, origin, Reason::Overwritten)?;
    if let Err(e) = backing::link_fd(fresh.as_fd(), dir.as_fd(), &t.name) {
        core.store.unstash(stash, dir.as_fd())?;
        return Err(e);
    }
    let entry = core.store.settle(stash)?;
    core.nodes.swapped(node, &backing::fstat(fresh.as_fd())?);
    events::announce(
        core,
        Change::Appeared {
            name: &entry,
            uid: t.st.st_uid,
            kind: libc::S_IFREG,
        },
    );
    Ok(File::from(fresh))
}

/// Gives new file `fresh` the owner, mode and extended attributes of gallery
/// file `node` (last stat `st`).
fn like(core: &Core, node: NodeId, fresh: &OwnedFd, st: &Stat) -> FsResult<()> {
    let (old, _) = core.nodes.path_fd(node)?;
    backing::copy_xattrs(old.as_fd(), fresh.as_fd())?;
    if core.can_chown {
        backing::fchown_fd(fresh.as_fd(), Some(st.st_uid), Some(st.st_gid))?;
    }
    backing::fchmod_fd(fresh.as_fd(), st.st_mode & 0o7777)
}

/// Mechanism 2 or 3: a reflink or a copy of the content becomes the entry.
fn by_copy(core: &Core, node: NodeId, t: &Target) -> FsResult<()> {
    let src = match core
        .nodes
        .open_file(node, libc::O_RDONLY | libc::O_NONBLOCK)
    {
        Ok((src, _)) => src,
        // A non-root galleryfs cannot read a file its owner made write-only:
        // nobody could read what would be kept.
        Err(FsError::EACCES) => {
            log::warn!(
                "overwrite of gallery/{} not kept: galleryfs may not read it",
                String::from_utf8_lossy(&t.original)
            );
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let copy_max = core.overwrite.copy_max;
    let bytes = t.st.st_blocks.max(0) as u64 * 512;
    let kept = core.space.retry(core, bytes, || {
        let origin = Origin {
            original_path: &t.original,
            st: &t.st,
            by: None,
        };
        core.store
            .copy_in(src.as_fd(), origin, copy_max, core.can_chown)
    })?;
    match kept {
        Kept::As(entry) => events::announce(
            core,
            Change::Appeared {
                name: &entry,
                uid: t.st.st_uid,
                kind: libc::S_IFREG,
            },
        ),
        Kept::TooLarge => log::warn!(
            "overwrite of gallery/{} not kept: {} bytes is above overwrite_copy_max ({copy_max}) and STORAGE makes no reflinks",
            String::from_utf8_lossy(&t.original),
            t.st.st_size
        ),
    }
    Ok(())
}

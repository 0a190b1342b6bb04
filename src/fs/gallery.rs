//! `gallery/`: a normal read-write tree over `STORAGE/gallery`, except that
//! nothing in it is lost by accident. This module decides what every
//! operation means there: an unlink moves the file into the trash, a rename
//! over a file moves the file it replaces into the trash first.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use super::core::{Core, backing_open_flags};
use super::events::{self, Change};
use super::fold;
use super::keep::{self, Overwrite};
use super::types::{Attr, Caller, Entry, SetAttr, TimeSpec};
use crate::backing::{self, Stat};
use crate::contract::Reason;
use crate::error::{FsError, FsResult};
use crate::node::{BackingKey, NodeId, TRASH};
use crate::space;
use crate::store::Origin;
use crate::store::catalog::DeletedBy;

/// Gives a name galleryfs just created to the caller, as the kernel would
/// have: owner = caller, group = caller's unless the directory is setgid.
fn give_to_caller(
    core: &Core,
    dir: &OwnedFd,
    name: &OsStr,
    caller: Caller,
    mode: u32,
) -> FsResult<()> {
    if !core.can_chown {
        return Ok(());
    }
    let dir_st = backing::fstat(dir.as_fd())?;
    let gid = (dir_st.st_mode & libc::S_ISGID == 0).then_some(caller.gid);
    backing::fchownat(dir.as_fd(), name, Some(caller.uid), gid)?;
    if mode & (libc::S_ISUID | libc::S_ISGID) != 0 && mode & libc::S_IFMT != libc::S_IFLNK {
        // chown cleared the set-id bits the caller asked for.
        let fd = backing::open_path(dir.as_fd(), name)?;
        backing::fchmod_fd(fd.as_fd(), mode & 0o7777)?;
    }
    Ok(())
}

/// Runs `make` to create `parent/name`, then hands it to the caller; on a
/// failure after creation the new name is removed again.
fn create_node(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    caller: Caller,
    mode: u32,
    mut make: impl FnMut(&OwnedFd) -> FsResult<()>,
) -> FsResult<Entry> {
    let dir = core.nodes.dir_fd(parent)?;
    let _quota = core.space.reserve_for_node(mode)?;
    core.space.retry(core, space::BLOCK, || make(&dir))?;
    let finish = || -> FsResult<Entry> {
        give_to_caller(core, &dir, name, caller, mode)?;
        let st = backing::fstatat(dir.as_fd(), name)?;
        core.entry_for(dir.as_fd(), parent, name, &st)
    };
    finish()
        .inspect(|e| core.space.added(e.attr.blocks * 512))
        .inspect_err(|_| {
            let _ = backing::unlinkat(dir.as_fd(), name, mode & libc::S_IFMT == libc::S_IFDIR);
        })
}

pub(super) fn mkdir(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    mode: u32,
    caller: Caller,
) -> FsResult<Entry> {
    create_node(core, parent, name, caller, mode | libc::S_IFDIR, |dir| {
        backing::mkdirat(dir.as_fd(), name, mode & 0o7777)
    })
}

pub(super) fn mknod(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    mode: u32,
    rdev: u32,
    caller: Caller,
) -> FsResult<Entry> {
    create_node(core, parent, name, caller, mode, |dir| {
        backing::mknodat(dir.as_fd(), name, mode, rdev as u64)
    })
}

pub(super) fn symlink(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    target: &OsStr,
    caller: Caller,
) -> FsResult<Entry> {
    create_node(core, parent, name, caller, libc::S_IFLNK, |dir| {
        backing::symlinkat(target, dir.as_fd(), name)
    })
}

pub(super) fn create(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    mode: u32,
    flags: i32,
    caller: Caller,
) -> FsResult<(Entry, u64)> {
    let flags = backing_open_flags(flags) | libc::O_CREAT | libc::O_EXCL;
    let mut opened = None;
    let entry = create_node(core, parent, name, caller, mode | libc::S_IFREG, |dir| {
        opened = Some(backing::openat(dir.as_fd(), name, flags, mode & 0o7777)?);
        Ok(())
    })?;
    let fd = opened.ok_or(FsError::EIO)?;
    let fh = core
        .handles
        .add_file(std::fs::File::from(fd), entry.node, flags);
    Ok((entry, fh))
}

/// A new name `new_parent/new_name` for gallery file `node`.
pub(super) fn link(
    core: &Core,
    node: NodeId,
    new_parent: NodeId,
    new_name: &OsStr,
) -> FsResult<Entry> {
    let (src_parent, src_name) = core.nodes.link(node)?;
    let src_dir = core.nodes.dir_fd(src_parent)?;
    let key = core.nodes.key(node)?;
    let st = backing::fstatat(src_dir.as_fd(), &src_name)?;
    if BackingKey::of(&st) != key {
        return Err(FsError::ENOENT);
    }
    let dst_dir = core.nodes.dir_fd(new_parent)?;
    core.space.retry(core, space::BLOCK, || {
        backing::linkat(src_dir.as_fd(), &src_name, dst_dir.as_fd(), new_name)
    })?;
    core.lookup_backed(new_parent, new_name)
}

/// Unlink in the gallery: the file becomes a trash entry, unless another
/// hard link keeps its data.
pub(super) fn unlink(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    by: Option<DeletedBy>,
) -> FsResult<()> {
    let dir = core.nodes.dir_fd(parent)?;
    let st = backing::fstatat(dir.as_fd(), name)?;
    if backing::is_dir(&st) {
        return Err(FsError::EISDIR);
    }
    if st.st_nlink > 1 {
        // Another name keeps the data: a plain unlink loses nothing.
        backing::unlinkat(dir.as_fd(), name, false)?;
        core.nodes.unlinked(parent, name);
        return Ok(());
    }
    let original = core.original_path(parent, name)?;
    fold::touched(core, parent, &original, by);
    let origin = Origin {
        original_path: &original,
        st: &st,
        by,
    };
    let entry = core
        .space
        .retry(core, 0, || core.store.put(dir.as_fd(), name, origin))?;
    core.nodes
        .moved(parent, name, TRASH, OsStr::from_bytes(&entry));
    events::announce(
        core,
        Change::Appeared {
            name: &entry,
            uid: st.st_uid,
            kind: backing::file_type(&st),
        },
    );
    Ok(())
}

/// Rmdir in the gallery. The end of a removal of a folder by one process
/// (`rm -r`) folds what it removed below into one entry; an emptied
/// subfolder waits, hidden, for that (see `fold`); an empty directory
/// removed by the kernel itself holds nothing to keep.
pub(super) fn rmdir(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    by: Option<DeletedBy>,
) -> FsResult<()> {
    if let Some(by) = by {
        return fold::rmdir(core, parent, name, by);
    }
    let dir = core.nodes.dir_fd(parent)?;
    let st = backing::fstatat(dir.as_fd(), name);
    let pin = core.pin(parent, name);
    backing::unlinkat(dir.as_fd(), name, true)?;
    core.nodes.destroyed_pinned(parent, name, pin);
    if let Ok(st) = &st {
        core.space.removed(st.st_blocks as u64 * 512);
    }
    Ok(())
}

/// A rename from one gallery directory to another. With RENAME_WHITEOUT the
/// backing filesystem leaves its whiteout (a 0/0 character device) at the
/// source, as ext4 does; galleryfs running as root has the CAP_MKNOD that
/// needs (else the backing rename answers EPERM).
pub(super) fn rename(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    new_parent: NodeId,
    new_name: &OsStr,
    flags: u32,
    by: Option<DeletedBy>,
) -> FsResult<()> {
    let src = core.nodes.dir_fd(parent)?;
    rename_into(core, new_parent, new_name, flags, by, |dst| {
        core.space.retry(core, space::BLOCK, || {
            backing::renameat2(src.as_fd(), name, dst.as_fd(), new_name, flags)
        })
    })?;
    if flags & libc::RENAME_EXCHANGE != 0 {
        core.nodes.exchanged(parent, name, new_parent, new_name);
    } else {
        core.nodes.moved(parent, name, new_parent, new_name);
    }
    Ok(())
}

/// Runs `rename`, which puts something at `new_parent/new_name` in the
/// gallery (from the gallery, or a restore from the trash). A file it
/// replaces, unless other hard links keep its data, is first stashed in the
/// trash (hard-linked, or moved where STORAGE has no hard links), so it
/// becomes a trash entry exactly when the rename succeeds.
pub(super) fn rename_into(
    core: &Core,
    new_parent: NodeId,
    new_name: &OsStr,
    flags: u32,
    by: Option<DeletedBy>,
    rename: impl FnOnce(&OwnedFd) -> FsResult<()>,
) -> FsResult<()> {
    let dst = core.nodes.dir_fd(new_parent)?;
    let replaces = flags & (libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE) == 0;
    let victim = if replaces {
        match backing::fstatat(dst.as_fd(), new_name) {
            Ok(st) if !backing::is_dir(&st) && st.st_nlink == 1 => Some(st),
            Ok(_) => None,
            Err(FsError::ENOENT) => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let Some(victim) = victim else {
        return rename(&dst);
    };
    let original = core.original_path(new_parent, new_name)?;
    let origin = Origin {
        original_path: &original,
        st: &victim,
        by,
    };
    let stash = match core.store.stash(dst.as_fd(), new_name, origin) {
        Ok(stash) => stash,
        // No hard links on this filesystem (or too many): move it aside instead.
        Err(FsError::EPERM) | Err(FsError::EMLINK) => {
            core.store
                .displace(dst.as_fd(), new_name, origin, Reason::Replaced)?
        }
        Err(e) => return Err(e),
    };
    match rename(&dst) {
        Ok(()) => {
            let entry = core.store.settle(stash)?;
            core.nodes
                .moved(new_parent, new_name, TRASH, OsStr::from_bytes(&entry));
            events::announce(
                core,
                Change::Appeared {
                    name: &entry,
                    uid: victim.st_uid,
                    kind: backing::file_type(&victim),
                },
            );
            Ok(())
        }
        Err(e) => {
            core.store.unstash(stash, dst.as_fd())?;
            Err(e)
        }
    }
}

/// Setattr of a gallery node (or, through an open handle, of a file that
/// was removed while open).
pub(super) fn setattr(core: &Core, node: NodeId, set: SetAttr, fh: Option<u64>) -> FsResult<Attr> {
    if let Some(size) = set.size {
        truncate(core, node, size, fh)?;
    }
    let (fd, _) = core.nodes.path_fd(node)?;
    // A request that sets nothing is the kernel's ctime update
    // (`chown(f, -1, -1)`), which POSIX requires: chown(-1, -1) does it.
    let nothing =
        set.mode.is_none() && set.size.is_none() && set.atime.is_none() && set.mtime.is_none();
    if set.uid.is_some() || set.gid.is_some() || nothing {
        backing::fchown_fd(fd.as_fd(), set.uid, set.gid)?;
    }
    if let Some(mode) = set.mode {
        backing::fchmod_fd(fd.as_fd(), mode & 0o7777)?;
    }
    if set.atime.is_some() || set.mtime.is_some() {
        let times = [TimeSpec::timespec(set.atime), TimeSpec::timespec(set.mtime)];
        backing::futimens_fd(fd.as_fd(), &times)?;
    }
    Ok(core.attr_of(node, &backing::fstat(fd.as_fd())?))
}

/// Truncates gallery file `node` to `size` (through open file `fh` if
/// given), keeping what it destroys (see `keep`).
fn truncate(core: &Core, node: NodeId, size: u64, fh: Option<u64>) -> FsResult<()> {
    let change = Overwrite::Truncate { size };
    if let Some(file) = core.handles.file_of(fh) {
        keep::before(core, node, backing::fstat(file.as_fd())?, change)?;
        return core.truncate(file.as_fd(), size);
    }
    let st = core.nodes.stat(node)?;
    if size == 0 {
        if keep::empty(core, node, st)?.is_some() {
            // A new empty file took the old one's place.
            return Ok(());
        }
    } else {
        keep::before(core, node, st, change)?;
    }
    let (fd, _) = core
        .nodes
        .open_file(node, libc::O_WRONLY | libc::O_NONBLOCK)?;
    core.truncate(fd.as_fd(), size)
}

/// Opens gallery file `node` with `O_TRUNC`, keeping what it destroys (see
/// `keep`): the file emptied whole goes to the trash and the open gets the
/// new empty one, or the content is copied first and the file truncated.
pub(super) fn open_truncating(core: &Core, node: NodeId, flags: i32) -> FsResult<u64> {
    // The kernel refuses O_RDONLY|O_TRUNC of a running program only after
    // this open has truncated it (handle_truncate): refuse it first.
    if core.handles.is_executing(node) {
        return Err(FsError::ETXTBSY);
    }
    let flags = flags & !libc::O_TRUNC;
    let st = core.nodes.stat(node)?;
    if let Some(fresh) = keep::empty(core, node, st)? {
        let file = backing::reopen(fresh.as_fd(), backing_open_flags(flags))?;
        return Ok(core
            .handles
            .add_file(std::fs::File::from(file), node, flags));
    }
    if backing::is_regular(&st) {
        // Through an fd of its own: O_RDONLY|O_TRUNC truncates too. An empty
        // file is truncated as well: that updates its times, as on Linux.
        let (fd, _) = core
            .nodes
            .open_file(node, libc::O_WRONLY | libc::O_NONBLOCK)?;
        core.truncate(fd.as_fd(), 0)?;
    }
    core.open_backed(node, flags)
}

/// Whether xattr `name` may be set or removed on a gallery node.
pub(super) fn xattr_settable(name: &OsStr) -> FsResult<()> {
    let name = name.as_bytes();
    if name.starts_with(crate::contract::XATTR_PREFIX.as_bytes()) {
        // Reserved for the trash's own attributes.
        return Err(FsError::ENOTSUP);
    }
    if name.starts_with(b"system.posix_acl_") {
        // The kernel would not enforce them (no FUSE_POSIX_ACL): refuse
        // rather than store permissions that mean nothing.
        return Err(FsError::ENOTSUP);
    }
    Ok(())
}

/// Last stat of `st`'s bytes when it leaves the gallery for good.
pub(super) fn bytes_freed(st: &Stat) -> u64 {
    if backing::is_dir(st) || st.st_nlink <= 1 {
        st.st_blocks as u64 * 512
    } else {
        0
    }
}

//! One removal of a folder, one entry: what `rmdir` means in the gallery
//! when the process removing the folder (`rm -r`, `find -delete`, `rsync
//! --delete`, `shutil.rmtree`) emptied it first. Each file it removed became
//! an entry of its own and each emptied subfolder a hidden pending one; the
//! folder's own removal folds them all into it (`store::TrashStore::fold`),
//! and the folders get back the times they had before the removal began.

use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use super::core::Core;
use super::deleter::{REMEMBERED, times_of};
use super::events::{self, Change};
use super::types::Invalidation;
use crate::backing;
use crate::error::{FsError, FsResult};
use crate::node::{NodeId, TRASH, View};
use crate::store::Origin;
use crate::store::catalog::DeletedBy;
use crate::sync::lock;

/// The gallery path of the folder holding `path`.
fn parent_of(path: &[u8]) -> &[u8] {
    path.iter()
        .rposition(|&b| b == b'/')
        .map_or(&[][..], |i| &path[..i])
}

/// `by` is about to remove `path` from gallery folder `parent`: remember
/// the folder's times if this is the first thing it removes there.
pub(super) fn touched(core: &Core, parent: NodeId, path: &[u8], by: Option<DeletedBy>) {
    let Some(by) = by else { return };
    let key = (by, parent_of(path).to_vec());
    if lock(&core.folder_times.times).contains_key(&key) {
        return;
    }
    let Ok(st) = core
        .nodes
        .dir_fd(parent)
        .and_then(|fd| backing::fstat(fd.as_fd()))
    else {
        return;
    };
    let mut times = lock(&core.folder_times.times);
    if times.len() >= REMEMBERED {
        times.clear();
    }
    times.entry(key).or_insert(times_of(&st));
}

/// Rmdir of gallery folder `parent/name` by process `by`.
pub(super) fn rmdir(core: &Core, parent: NodeId, name: &OsStr, by: DeletedBy) -> FsResult<()> {
    let dir = core.nodes.dir_fd(parent)?;
    let st = backing::fstatat(dir.as_fd(), name)?;
    if !backing::is_dir(&st) {
        return Err(FsError::ENOTDIR);
    }
    if !backing::read_dir(backing::open_dir_path(dir.as_fd(), name)?.as_fd())?.is_empty() {
        return Err(FsError::ENOTEMPTY);
    }
    let path = core.original_path(parent, name)?;
    touched(core, parent, &path, Some(by));
    let origin = Origin {
        original_path: &path,
        st: &st,
        by: Some(by),
    };
    if !core.store.deleted_below(by, &path)? {
        // Emptied by nobody, or the end of a removal below a folder that
        // is going too: hidden until that folder's removal folds it.
        let pin = core.pin(parent, name);
        core.space.retry(core, 0, || {
            core.store.put_pending(dir.as_fd(), name, origin)
        })?;
        core.nodes.destroyed_pinned(parent, name, pin);
        return Ok(());
    }
    let pin = core.pin(parent, name);
    let folded = core
        .space
        .retry(core, 0, || core.store.fold(dir.as_fd(), name, origin))?;
    // The kernel marked the removed directory's inode dead: the entry must
    // come to it as a new inode (a new generation), not as that one.
    core.nodes.destroyed_pinned(parent, name, pin);
    for (old, rel) in &folded.moved {
        let old = OsStr::from_bytes(old);
        if core.nodes.find(TRASH, old).is_none() {
            // The kernel never looked it up: nothing of it is cached.
            continue;
        }
        // The name is gone: folded away, it answers ENOENT like any entry
        // that left (linking it below the folder's node would leave it an
        // orphan once the kernel forgets the folder's gallery name).
        let _ = rel;
        core.nodes.unlinked(TRASH, old);
        for dir in [TRASH, View::Files(st.st_uid).id()] {
            core.invalidate(Invalidation::Entry(dir, old.to_os_string()));
        }
    }
    restore_times(core, &folded.entry, &path, by);
    let gone: Vec<Vec<u8>> = folded.moved.into_iter().map(|(old, _)| old).collect();
    events::announce(
        core,
        Change::Folded {
            gone: &gone,
            entry: &folded.entry,
            uid: st.st_uid,
        },
    );
    Ok(())
}

/// Gives the folders of new entry `entry` (gallery folder `path`) back the
/// times they had when `by` began removing from them.
fn restore_times(core: &Core, entry: &[u8], path: &[u8], by: DeletedBy) {
    let prefix = [path, b"/"].concat();
    let mut folders = Vec::new();
    lock(&core.folder_times.times).retain(|(who, folder), times| {
        let rel = if folder == path {
            Some(Vec::new())
        } else {
            folder.strip_prefix(&prefix[..]).map(<[u8]>::to_vec)
        };
        match rel {
            Some(rel) if *who == by => {
                folders.push((rel, *times));
                false
            }
            _ => true,
        }
    });
    // Deepest first: setting a folder's times never disturbs its parent's.
    folders.sort_by_key(|(rel, _)| std::cmp::Reverse(rel.len()));
    let trash = core.nodes.trash_fd();
    for (rel, times) in folders {
        let at = [entry, b"/", &rel[..]].concat();
        let at = if rel.is_empty() { entry.to_vec() } else { at };
        let opened = at.split(|&b| b == b'/').filter(|p| !p.is_empty()).try_fold(
            None::<std::os::fd::OwnedFd>,
            |dir, part| {
                let base = dir.as_ref().map_or(trash.as_fd(), |d| d.as_fd());
                backing::open_dir_path(base, OsStr::from_bytes(part)).map(Some)
            },
        );
        if let Ok(Some(fd)) = opened
            && let Err(e) = backing::futimens_fd(fd.as_fd(), &times)
        {
            log::debug!("times of a folded folder: {e}");
        }
    }
}

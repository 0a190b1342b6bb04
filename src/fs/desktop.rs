//! The freedesktop.org Trash view: for the calling uid U, the mount root
//! resolves `.Trash-U/` with `files/` (U's entries of `.trash/`, same names,
//! served by the trash part) and `info/NAME.trashinfo` (synthesized from the
//! catalog), so GIO file managers and trash-cli list, restore and empty the
//! galleryfs trash. This module decides what every operation means in the
//! rest of `.Trash-U`. An entry's info file also carries the entry's
//! `user.trash.*` attributes; litter (see `store::litter`) has no place in
//! `files/` or `info/` listings, though its info file opens by name.
//!
//! Nothing here is stored: files clients write (`info/*.trashinfo`, GIO's
//! temporary files, KDE's `directorysizes`) live in memory (`state`) until
//! the entry they announce arrives, and `expunged/` is always empty because
//! a move into it purges at once.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use std::time::SystemTime;

use super::core::Core;
use super::handles::ViewFile;
use super::trash;
use super::types::{Attr, Caller, DirItem, Entry, SetAttr};
use super::view::{
    CLIENT_OFFSET, VIEW_TTL, dir_attr, entry_of_info, file_attr, info_name, top_dir_uid, trashinfo,
};
use crate::clock::at;
use crate::contract;
use crate::error::{FsError, FsResult};
use crate::node::{ROOT, View};
use crate::sync::lock;

const FILES: &[u8] = contract::FILES_DIR.as_bytes();
const INFO: &[u8] = contract::INFO_DIR.as_bytes();
const EXPUNGED: &[u8] = contract::EXPUNGED_DIR.as_bytes();

/// `.Trash-U` in the mount root, for U itself (and root).
pub(in crate::fs) fn top_lookup(core: &Core, caller: Caller, name: &OsStr) -> FsResult<Entry> {
    let uid = top_dir_uid(name.as_bytes()).ok_or(FsError::ENOENT)?;
    if caller.uid != uid && caller.uid != 0 {
        return Err(FsError::EACCES);
    }
    view_entry(core, View::Top(uid))
}

fn view_entry(core: &Core, view: View) -> FsResult<Entry> {
    let attr = getattr(core, view)?;
    // Their listings change at expiry, unseen (see `Core::listing_ttl`).
    let ttl = match view {
        View::Files(_) | View::Info(_) => core.listing_ttl(),
        _ => VIEW_TTL,
    };
    Ok(Entry {
        node: view.id(),
        attr,
        ttl,
        generation: 0,
    })
}

pub(in crate::fs) fn getattr(core: &Core, view: View) -> FsResult<Attr> {
    let resolved = core.desktop.resolve(view);
    if resolved != view {
        let mut attr = getattr(core, resolved)?;
        attr.ino = view.id();
        return Ok(attr);
    }
    Ok(match view {
        View::Top(uid) | View::Files(uid) | View::Info(uid) | View::Expunged(uid) => {
            dir_attr(view.id(), uid, uid, core.listing_mtime())
        }
        View::InfoFile(id) => {
            let Some(entry) = core.store.lookup_id(id)? else {
                // Restored or purged through files/: the kernel still holds
                // the info file by this node, and a client checks it with
                // lstat before unlinking it (trash-restore unlinks only what
                // lstat finds; a tombstone left behind would make the next
                // trash-put of that name find its info file taken).
                let (uid, content) = core.desktop.tombstone_of(id).ok_or(FsError::ENOENT)?;
                return Ok(file_attr(
                    view.id(),
                    uid,
                    uid,
                    content.len(),
                    0o600,
                    core.desktop.changed_at(),
                ));
            };
            let content = trashinfo(&entry.row.original_path, entry.row.deleted_at);
            let uid = entry.row.uid;
            file_attr(
                view.id(),
                uid,
                uid,
                content.len(),
                0o600,
                at(entry.row.deleted_at),
            )
        }
        View::ClientFile(id) => {
            let clients = lock(&core.desktop.clients);
            let f = clients.get(&id).ok_or(FsError::ENOENT)?;
            file_attr(
                view.id(),
                f.uid,
                f.uid,
                f.data.len(),
                (f.mode & 0o7777) as u16,
                f.mtime,
            )
        }
    })
}

/// Trash attribute `name` of view node `view`: an entry's info file carries
/// its entry's, the one regular file that can for a symlink, FIFO or socket
/// entry (the kernel refuses `user.*` attributes on those before asking
/// us). Nothing else of the view has any.
pub(in crate::fs) fn getxattr(core: &Core, view: View, name: &str) -> FsResult<Vec<u8>> {
    match core.desktop.resolve(view) {
        View::InfoFile(id) => {
            let entry = core.store.lookup_id(id)?.ok_or(FsError::ENOENT)?;
            trash::attr_of(&entry, name)
        }
        _ => Err(FsError::ENODATA),
    }
}

/// The listxattr names of view node `view` (see `getxattr`).
pub(in crate::fs) fn listxattr(core: &Core, view: View) -> FsResult<Vec<u8>> {
    let mut names = Vec::new();
    if let View::InfoFile(id) = core.desktop.resolve(view) {
        let entry = core.store.lookup_id(id)?.ok_or(FsError::ENOENT)?;
        trash::add_attr_names(Some(&entry), &mut names);
    }
    Ok(names)
}

pub(in crate::fs) fn lookup(core: &Core, parent: View, name: &OsStr) -> FsResult<Entry> {
    match parent {
        View::Top(uid) => match name.as_bytes() {
            FILES => view_entry(core, View::Files(uid)),
            INFO => view_entry(core, View::Info(uid)),
            EXPUNGED if lock(&core.desktop.expunged).contains(&uid) => {
                view_entry(core, View::Expunged(uid))
            }
            _ => {
                let id = core.desktop.client(parent, name).ok_or(FsError::ENOENT)?;
                view_entry(core, View::ClientFile(id))
            }
        },
        View::Info(uid) => {
            if let Some(id) = core.desktop.client(parent, name) {
                return view_entry(core, View::ClientFile(id));
            }
            let entry = entry_of_info(name).ok_or(FsError::ENOENT)?;
            match core.store.lookup(entry)? {
                Some(e) if e.row.uid == uid => view_entry(core, View::InfoFile(e.row.id)),
                _ => {
                    // Restored or purged through the view, not yet unlinked.
                    let content = core.desktop.tombstone(uid, name).ok_or(FsError::ENOENT)?;
                    let id = core.desktop.add_client(uid, parent, name, content, 0o600);
                    core.desktop.unbury(uid, name);
                    view_entry(core, View::ClientFile(id))
                }
            }
        }
        View::Expunged(_) => Err(FsError::ENOENT),
        View::Files(_) | View::InfoFile(_) | View::ClientFile(_) => Err(FsError::ENOTDIR),
    }
}

/// The names of a view directory after `offset` (`files/` is listed by
/// the trash listing; see `opendir`).
pub(in crate::fs) fn readdir(core: &Core, dir: View, offset: u64) -> FsResult<Vec<DirItem>> {
    let mut items = vec![
        DirItem::new(".", 1, dir.id(), libc::S_IFDIR),
        DirItem::new("..", 2, ROOT, libc::S_IFDIR),
    ];
    let clients = |items: &mut Vec<DirItem>| {
        for (&id, f) in lock(&core.desktop.clients).iter() {
            if f.dir == dir {
                let node = View::ClientFile(id).id();
                items.push(DirItem::new(
                    f.name.clone(),
                    CLIENT_OFFSET + id,
                    node,
                    libc::S_IFREG,
                ));
            }
        }
    };
    match dir {
        View::Top(uid) => {
            items.push(DirItem::new(
                contract::FILES_DIR,
                3,
                View::Files(uid).id(),
                libc::S_IFDIR,
            ));
            items.push(DirItem::new(
                contract::INFO_DIR,
                4,
                View::Info(uid).id(),
                libc::S_IFDIR,
            ));
            if lock(&core.desktop.expunged).contains(&uid) {
                items.push(DirItem::new(
                    contract::EXPUNGED_DIR,
                    5,
                    View::Expunged(uid).id(),
                    libc::S_IFDIR,
                ));
            }
            clients(&mut items);
        }
        View::Info(uid) => {
            // Entries by catalog id (offset id + 2), then client files.
            let mut after = offset.saturating_sub(2).min(CLIENT_OFFSET - 1) as i64;
            if offset < CLIENT_OFFSET {
                loop {
                    let (entries, last) = core.store.page_for_uid(uid, after, 1024)?;
                    for e in entries {
                        let node = View::InfoFile(e.row.id).id();
                        items.push(DirItem::new(
                            info_name(&e.row.name),
                            e.row.id as u64 + 2,
                            node,
                            libc::S_IFREG,
                        ));
                    }
                    match last {
                        Some(last) => after = last,
                        None => break,
                    }
                }
            }
            clients(&mut items);
        }
        View::Expunged(_) => {}
        _ => return Err(FsError::ENOTDIR),
    }
    items.sort_by_key(|i| i.offset);
    Ok(items.into_iter().filter(|i| i.offset > offset).collect())
}

pub(in crate::fs) fn open(core: &Core, view: View, flags: i32) -> FsResult<u64> {
    let handle = match core.desktop.resolve(view) {
        View::InfoFile(id) => {
            if flags & libc::O_ACCMODE != libc::O_RDONLY {
                return Err(FsError::EACCES);
            }
            let entry = core.store.lookup_id(id)?.ok_or(FsError::ENOENT)?;
            ViewFile::Snapshot(Arc::new(trashinfo(
                &entry.row.original_path,
                entry.row.deleted_at,
            )))
        }
        View::ClientFile(id) => {
            let mut clients = lock(&core.desktop.clients);
            let f = clients.get_mut(&id).ok_or(FsError::ENOENT)?;
            if flags & libc::O_TRUNC != 0 {
                f.data.clear();
            }
            ViewFile::Client(id)
        }
        _ => return Err(FsError::EISDIR),
    };
    Ok(core.handles.add_view(handle))
}

/// Reads from a view handle; None if `fh` is not one.
pub(in crate::fs) fn read(
    core: &Core,
    fh: u64,
    offset: u64,
    size: u32,
) -> Option<FsResult<Vec<u8>>> {
    let slice = |data: &[u8]| {
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(size as usize).min(data.len());
        data[start..end].to_vec()
    };
    Some(match core.handles.view(fh)? {
        ViewFile::Snapshot(data) => Ok(slice(&data)),
        ViewFile::Client(id) => match lock(&core.desktop.clients).get(&id) {
            Some(f) => Ok(slice(&f.data)),
            None => Err(FsError::ENOENT),
        },
    })
}

/// Writes to a view handle; None if `fh` is not one.
pub(in crate::fs) fn write(
    core: &Core,
    fh: u64,
    offset: u64,
    data: &[u8],
) -> Option<FsResult<u32>> {
    Some(match core.handles.view(fh)? {
        ViewFile::Snapshot(_) => Err(FsError::EBADF),
        ViewFile::Client(id) => match lock(&core.desktop.clients).get_mut(&id) {
            Some(f) => {
                let end = offset as usize + data.len();
                if end > 1 << 20 {
                    return Some(Err(FsError::EFBIG));
                }
                if f.data.len() < end {
                    f.data.resize(end, 0);
                }
                f.data[offset as usize..end].copy_from_slice(data);
                f.mtime = SystemTime::now();
                Ok(data.len() as u32)
            }
            None => Err(FsError::ENOENT),
        },
    })
}

pub(in crate::fs) fn setattr(core: &Core, view: View, set: SetAttr) -> FsResult<Attr> {
    match core.desktop.resolve(view) {
        View::ClientFile(id) => {
            let mut clients = lock(&core.desktop.clients);
            let f = clients.get_mut(&id).ok_or(FsError::ENOENT)?;
            if let Some(size) = set.size {
                f.data.resize(size.min(1 << 20) as usize, 0);
            }
            if let Some(mode) = set.mode {
                f.mode = mode;
            }
            f.mtime = SystemTime::now();
        }
        // Times and modes of the synthesized parts are not kept; accept
        // what clients do to them (GIO fchmods its info file) silently
        // only where nothing is lost by it.
        View::InfoFile(_) if set.size.is_none() && set.uid.is_none() && set.gid.is_none() => {}
        _ => return Err(FsError::EPERM),
    }
    getattr(core, view)
}

/// Creating `info/NAME.trashinfo` claims NAME for the entry the client
/// is about to move in (EEXIST if NAME is taken); other files (GIO's
/// temporary files, KDE's directorysizes) are simply kept in memory.
pub(in crate::fs) fn create(
    core: &Core,
    caller: Caller,
    parent: View,
    name: &OsStr,
    mode: u32,
    flags: i32,
) -> FsResult<(Entry, u64)> {
    let uid = match parent {
        View::Top(uid) | View::Info(uid) => uid,
        View::Expunged(_) | View::Files(_) => return Err(FsError::EPERM),
        _ => return Err(FsError::ENOTDIR),
    };
    if core.desktop.client(parent, name).is_some() {
        return Err(FsError::EEXIST);
    }
    if let (View::Info(_), Some(entry)) = (parent, entry_of_info(name))
        && !core.store.reserve(entry)?
    {
        return Err(FsError::EEXIST);
    }
    let owner = if caller.uid == 0 { uid } else { caller.uid };
    let id = core
        .desktop
        .add_client(owner, parent, name, Vec::new(), mode & 0o7777);
    let entry = view_entry(core, View::ClientFile(id))?;
    let fh = open(core, View::ClientFile(id), flags & !libc::O_TRUNC)?;
    Ok((entry, fh))
}

pub(in crate::fs) fn mkdir(core: &Core, parent: View, name: &OsStr) -> FsResult<Entry> {
    match (parent, name.as_bytes()) {
        (View::Top(uid), EXPUNGED) => {
            lock(&core.desktop.expunged).insert(uid);
            view_entry(core, View::Expunged(uid))
        }
        (View::Top(_), FILES | INFO) => Err(FsError::EEXIST),
        _ => Err(FsError::EPERM),
    }
}

/// Unlinking an info file: a client's own is dropped (and its claim on
/// the name released); an entry's is a no-op, since galleryfs keeps the
/// metadata itself.
pub(in crate::fs) fn unlink(core: &Core, parent: View, name: &OsStr) -> FsResult<()> {
    if let Some(id) = core.desktop.client(parent, name) {
        lock(&core.desktop.clients).remove(&id);
        if let (View::Info(_), Some(entry)) = (parent, entry_of_info(name))
            && core.store.lookup(entry)?.is_none()
        {
            core.store.unreserve(entry);
        }
        return Ok(());
    }
    match parent {
        // Clients unlink the info file after restoring or purging through
        // files/, and galleryfs keeps the metadata itself: always a no-op.
        View::Info(uid) if entry_of_info(name).is_some() => {
            core.desktop.unbury(uid, name);
            Ok(())
        }
        View::Info(_) => Err(FsError::ENOENT),
        View::Top(_) | View::Expunged(_) => Err(FsError::ENOENT),
        _ => Err(FsError::ENOTDIR),
    }
}

pub(in crate::fs) fn rmdir(core: &Core, parent: View, name: &OsStr) -> FsResult<()> {
    match (parent, name.as_bytes()) {
        (View::Top(uid), EXPUNGED) => {
            lock(&core.desktop.expunged).remove(&uid);
            Ok(())
        }
        (View::Top(_), FILES | INFO) => Err(FsError::EPERM),
        _ => Err(FsError::ENOENT),
    }
}

/// Whether `files/NAME` (of uid's view) may be moved into `expunged/`,
/// which purges it: it must be one of uid's live entries the view shows.
pub(in crate::fs) fn expungeable(core: &Core, uid: u32, name: &OsStr) -> FsResult<()> {
    match core.store.lookup(name.as_bytes())? {
        Some(entry) if entry.row.uid == uid && !entry.litter => Ok(()),
        _ => Err(FsError::ENOENT),
    }
}

/// Renames of client files within one directory of the view.
pub(in crate::fs) fn rename(
    core: &Core,
    from: View,
    name: &OsStr,
    to: View,
    new_name: &OsStr,
) -> FsResult<()> {
    if from != to || !matches!(from, View::Top(_) | View::Info(_)) {
        return Err(FsError::EPERM);
    }
    let id = core.desktop.client(from, name).ok_or(FsError::ENOENT)?;
    let mut clients = lock(&core.desktop.clients);
    // Replacing a client file (GIO renames its temporary file over the info
    // file it created) drops the old one; its claim stays.
    if let Some(old) = clients
        .iter()
        .find(|(_, f)| f.dir == to && f.name == new_name)
        .map(|(&old, _)| old)
    {
        clients.remove(&old);
    }
    if let Some(f) = clients.get_mut(&id) {
        f.name = new_name.to_os_string();
    }
    Ok(())
}

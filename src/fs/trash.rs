//! `.trash/` (and each uid's `.Trash-U/files/`, the same entries filtered by
//! owner): read-only except restore, rename and purge. This module decides
//! what every operation means on an entry and inside a trashed directory,
//! lists the trash from the catalog, serves the `user.trash.*` attributes
//! and runs the expiry sweep.

use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use super::core::{Core, TTL};
use super::events::{self, Change};
use super::gallery;
use super::types::{DirItem, Entry, Invalidation};
use crate::backing::{self, Stat};
use crate::clock::{now_secs, time_left};
use crate::contract::{
    ENTRY_XATTRS, XATTR_DAYS_LEFT, XATTR_DELETED_AT, XATTR_DELETED_BY, XATTR_EXPIRES_AT,
    XATTR_LITTER, XATTR_ORIGINAL_PATH, XATTR_REASON, YES, days_left, format_days, format_deleter,
    rfc3339,
};
use crate::error::{FsError, FsResult};
use crate::node::{NodeId, ROOT, TRASH, View, files_dir_owner, is_trash_dir};
use crate::space::{self, Space};
use crate::store::catalog::{DeletedBy, EntryRow};
use crate::store::{self, Origin};

/// How long an emptied folder waits, hidden, for its parent's removal to
/// fold it: longer than any one `rm -r` takes.
const PENDING_SECS: i64 = 3600;

/// Rows of `.trash` read per catalog query when listing it.
const TRASH_PAGE: usize = 1024;

/// Looks up entry `name` of trash directory `parent`.
pub(super) fn lookup_entry(core: &Core, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
    core.live_in_trash(parent, name)?;
    let st = backing::fstatat(core.nodes.trash_fd().as_fd(), name)?;
    entry_at(core, parent, name, &st)
}

/// Gives the kernel entry `parent/name` (last stat `st`). A directory
/// entry named in a `.Trash-U/files` view gets a node number of its own
/// there (`NodeTable::remember_in_view`): the kernel keeps one name per
/// directory inode, and with one number for both views it would move that
/// name between `.trash/` and `files/` whenever the other is used, which
/// it answers with ESTALE when it cannot take both directories' locks (a
/// rename's source always: the renaming task holds the rename lock).
fn entry_at(core: &Core, parent: NodeId, name: &OsStr, st: &Stat) -> FsResult<Entry> {
    if !(backing::is_dir(st) && files_dir_owner(parent).is_some()) {
        return core.entry_for(core.nodes.trash_fd().as_fd(), parent, name, st);
    }
    let node = core.nodes.remember_in_view(parent, name, st);
    let ttl = core
        .nodes
        .place(node)
        .and_then(|place| core.ttl_for(place, node));
    let ttl = match ttl {
        Ok(ttl) => ttl,
        Err(e) => {
            core.nodes.forget(node, 1);
            return Err(e);
        }
    };
    Ok(Entry {
        node,
        attr: core.attr_of(node, st),
        ttl,
        generation: core.nodes.generation(node),
    })
}

/// Entry `name` of trash directory `parent` (owned by `uid`) was moved to
/// `new_parent/new_name` (a rename or a restore): the table may know it
/// through the other view (a lookup there, the echo helper's too, took
/// the name over), and that name must follow, or the node would be left
/// with a name that reaches nothing (ENOENT for the moved file). (A
/// directory restored through `files/` keeps the view's number until the
/// kernel forgets it: given the directory's own while the kernel may still
/// hold that for the entry's `.trash` name, it would have to move a name
/// again.)
pub(super) fn moved_entry(
    core: &Core,
    (parent, name): (NodeId, &OsStr),
    (new_parent, new_name): (NodeId, &OsStr),
    uid: u32,
) {
    let known = known_through(core, parent, name, uid);
    core.nodes.moved(known, name, new_parent, new_name);
    // The other view's name of the entry is gone with it.
    for dir in [TRASH, View::Files(uid).id()] {
        if dir != known && (dir, name) != (new_parent, new_name) {
            core.nodes.unlinked(dir, name);
        }
    }
}

/// The trash directory through which the table knows entry `name`:
/// `parent` (the one a request came through) or the other view.
fn known_through(core: &Core, parent: NodeId, name: &OsStr, uid: u32) -> NodeId {
    [parent, TRASH, View::Files(uid).id()]
        .into_iter()
        .find(|&dir| core.nodes.find(dir, name).is_some())
        .unwrap_or(parent)
}

/// Looks up `name` in directory `parent`, which is inside a trashed directory.
pub(super) fn lookup_inside(core: &Core, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
    if core.owning_entry(parent)?.is_none() {
        return Err(FsError::ENOENT);
    }
    core.lookup_backed(parent, name)
}

/// Unlink or rmdir (`dir`) of an entry: deletes it for good.
pub(super) fn remove_entry(core: &Core, parent: NodeId, name: &OsStr, dir: bool) -> FsResult<()> {
    let st = backing::fstatat(core.nodes.trash_fd().as_fd(), name)?;
    match (backing::is_dir(&st), dir) {
        (true, false) => Err(FsError::EISDIR),
        (false, true) => Err(FsError::ENOTDIR),
        _ => purge_entry(core, parent, name, false),
    }
}

/// Unlink or rmdir (`dir`) inside a trashed directory: deletes that piece
/// for good, and the entry's size shrinks by it.
pub(super) fn remove_inside(core: &Core, parent: NodeId, name: &OsStr, dir: bool) -> FsResult<()> {
    core.live_in_trash(parent, name)?;
    let fd = core.nodes.dir_fd(parent)?;
    let owner = core.owning_entry(parent)?.ok_or(FsError::ENOENT)?;
    let rel = core.nodes.relative_path(parent)?;
    let st = backing::fstatat(fd.as_fd(), name);
    let pin = core.pin(parent, name);
    core.store.change_inside(owner.row.id, false, || {
        core.store.within(&rel, fd.as_fd(), || {
            backing::unlinkat(fd.as_fd(), name, dir)
        })?;
        Ok(st.as_ref().map_or(0, gallery::bytes_freed))
    })?;
    match &st {
        Ok(st) => core.forget_name(parent, name, st, pin),
        Err(_) => drop(core.nodes.destroyed_pinned(parent, name, pin)),
    }
    Ok(())
}

/// Deletes entry `name` of trash directory `parent` permanently: a file,
/// an empty directory, or with `tree` a whole directory.
pub(super) fn purge_entry(core: &Core, parent: NodeId, name: &OsStr, tree: bool) -> FsResult<()> {
    core.live_in_trash(parent, name)?;
    let st = backing::fstatat(core.nodes.trash_fd().as_fd(), name)?;
    // Pinned by whichever view's name the kernel learned it through: an
    // unpinned number is free for the next file made, which a kernel still
    // holding the entry would take for it (EIO).
    let known = known_through(core, parent, name, st.st_uid);
    let views = [TRASH, View::Files(st.st_uid).id()];
    // Known through both views: the kernel may hold the other name a while
    // yet (its invalidation waits for that directory's lock), and through
    // it would take a new file given the freed number for this one.
    let both = views
        .iter()
        .all(|&dir| core.nodes.find(dir, name).is_some());
    let pin = match both {
        true => core.nodes.pin(known, name),
        false => core.pin(known, name),
    };
    let row = core.store.purge(name.as_bytes(), tree)?;
    // The other view's name goes the same way: its node (the view's own
    // number of a directory, or a name the table still knows) is dead too,
    // so a new file that gets the inode number is not taken for it.
    for dir in views {
        if dir != known {
            core.forget_name(dir, name, &st, None);
        }
    }
    core.forget_name(known, name, &st, pin);
    match &row {
        Some(row) => events::announce(core, Change::Left { via: parent, row }),
        None => events::announce(
            core,
            Change::Changed {
                uid: Some(st.st_uid),
            },
        ),
    }
    Ok(())
}

/// A gallery file or tree moved into the trash by rename, as entry `new_name`.
pub(super) fn receive(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    new_parent: NodeId,
    new_name: &OsStr,
    by: Option<DeletedBy>,
) -> FsResult<()> {
    let src = core.nodes.dir_fd(parent)?;
    let st = backing::fstatat(src.as_fd(), name)?;
    let original = core.original_path(parent, name)?;
    let origin = Origin {
        original_path: &original,
        st: &st,
        by,
    };
    core.space.retry(core, 0, || {
        core.store
            .put_as(src.as_fd(), name, new_name.as_bytes(), origin)
    })?;
    if backing::is_dir(&st) {
        // A folder: whoever opened it in the gallery must not delete for
        // good through it (see `NodeTable::depart`). With every name
        // expired before the answer, the next walk through the trash's
        // name is a lookup after the kernel let go of the old dentry, so
        // the folder keeps its number unless someone still holds it. A
        // listing (READDIRPLUS) meets the name without a walk: the moved
        // name is dropped too, ahead of any request after the answer (it
        // waits for the trash directory's lock, which the rename holds).
        core.nodes.depart(parent, name, new_parent, new_name);
        core.expire_all_names();
        core.invalidate_ahead(Invalidation::Entry(new_parent, new_name.to_os_string()));
    } else {
        // A file's dentry moves with its gallery timeout, which `ttl_for`
        // caps at the retention, so it lapses by the entry's expiry (no
        // invalidation, which would wait for the directory's lock).
        core.nodes.moved(parent, name, new_parent, new_name);
    }
    events::announce(
        core,
        Change::MovedIn {
            via: new_parent,
            name: new_name,
            uid: st.st_uid,
            kind: backing::file_type(&st),
        },
    );
    Ok(())
}

/// Renames an entry within the trash.
pub(super) fn rename_entry(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    new_parent: NodeId,
    new_name: &OsStr,
) -> FsResult<()> {
    core.live_in_trash(parent, name)?;
    if name == new_name {
        return Ok(());
    }
    core.store.rename(name.as_bytes(), new_name.as_bytes())?;
    let st = backing::fstatat(core.nodes.trash_fd().as_fd(), new_name);
    let uid = st.as_ref().map_or(0, |st| st.st_uid);
    moved_entry(core, (parent, name), (new_parent, new_name), uid);
    match st {
        Ok(st) => events::announce(
            core,
            Change::Renamed {
                from: (parent, name),
                to: (new_parent, new_name),
                uid: st.st_uid,
                kind: backing::file_type(&st),
            },
        ),
        Err(_) => events::announce(core, Change::Changed { uid: None }),
    }
    Ok(())
}

/// Live entries of a trash directory after `offset`: offsets are row ids + 2
/// (after `.` and `..`); `uid` filters a `.Trash-UID/files` view.
pub(super) fn read_trash(
    core: &Core,
    dir: NodeId,
    uid: Option<u32>,
    offset: u64,
) -> FsResult<Vec<DirItem>> {
    let mut items = Vec::new();
    if offset < 1 {
        items.push(DirItem::new(".", 1, dir, libc::S_IFDIR));
    }
    if offset < 2 {
        items.push(DirItem::new("..", 2, ROOT, libc::S_IFDIR));
    }
    let mut after = offset.saturating_sub(2) as i64;
    loop {
        let (entries, last) = match uid {
            None => core.store.page(after, TRASH_PAGE)?,
            Some(uid) => core.store.page_for_uid(uid, after, TRASH_PAGE)?,
        };
        for e in entries {
            let name = OsString::from_vec(e.row.name);
            let ino = match e.row.ino {
                0 => match backing::fstatat(core.nodes.trash_fd().as_fd(), &name) {
                    Ok(st) => core.nodes.id_of(&st),
                    Err(_) => continue,
                },
                ino => core.nodes.id_of_ino(ino),
            };
            let mut item = DirItem::new(name, e.row.id as u64 + 2, ino, e.row.kind);
            item.expires_at = Some(e.expires_at);
            items.push(item);
        }
        match last {
            // A page of only expired rows: read on rather than end the listing.
            Some(last) if items.is_empty() => after = last,
            _ => return Ok(items),
        }
    }
}

/// The entry for a name of a trash listing, which already knows the entry
/// is live and when it expires: no catalog query.
pub(super) fn listed_entry(
    core: &Core,
    parent: NodeId,
    name: &OsStr,
    expires_at: i64,
) -> FsResult<Entry> {
    if expires_at <= now_secs() {
        return Err(FsError::ENOENT);
    }
    let trash = core.nodes.trash_fd();
    let st: Stat = backing::fstatat(trash.as_fd(), name)?;
    let (node, st) = match backing::is_dir(&st) && files_dir_owner(parent).is_some() {
        true => (core.nodes.remember_in_view(parent, name, &st), st),
        false => core
            .nodes
            .remember_looked_up(trash.as_fd(), parent, name, st)?,
    };
    Ok(Entry {
        node,
        attr: core.attr_of(node, &st),
        ttl: TTL.min(time_left(expires_at)),
        generation: core.nodes.generation(node),
    })
}

/// Whether gallery node `node` (so placed by a name in the gallery) is an
/// entry now: its only name is in the trash. A name in the gallery the
/// table still knows may be stale (a move into the trash through a name
/// the kernel holds in the other view), and a name the kernel used may be
/// the entry's: a change through it must be refused (EROFS), so ask the
/// backing inode, not the names.
pub(super) fn is_entry_now(core: &Core, node: NodeId) -> bool {
    let (Ok(links), Ok(key)) = (core.nodes.links(node), core.nodes.key(node)) else {
        return false;
    };
    let trash = core.nodes.trash_fd();
    links.iter().any(|(dir, name)| {
        is_trash_dir(*dir)
            && backing::fstatat(trash.as_fd(), name)
                .is_ok_and(|st| crate::node::BackingKey::of(&st) == key && st.st_nlink <= 1)
    })
}

/// The live entry node `node` is, if it still is one.
fn entry_of_node(core: &Core, node: NodeId) -> FsResult<store::Entry> {
    let (_, entry_name) = core.nodes.link(node)?;
    let entry = core
        .store
        .lookup(entry_name.as_bytes())?
        .ok_or(FsError::ENOENT)?;
    // The name the node was last known by may belong to another entry by
    // now: never describe an entry that is not this very inode.
    if entry.row.ino != 0 && entry.row.ino != core.nodes.key(node)?.ino {
        return Err(FsError::ENOENT);
    }
    Ok(entry)
}

/// The value of trash attribute `name` of entry node `node`.
pub(super) fn entry_xattr(core: &Core, node: NodeId, name: &str) -> FsResult<Vec<u8>> {
    attr_of(&entry_of_node(core, node)?, name)
}

/// The value of trash attribute `name` of `entry`, as its node and its
/// `.Trash-U/info` file (see `desktop`) serve it.
pub(super) fn attr_of(entry: &store::Entry, name: &str) -> FsResult<Vec<u8>> {
    Ok(match name {
        XATTR_ORIGINAL_PATH => entry.row.original_path.clone(),
        XATTR_DELETED_AT => rfc3339(entry.row.deleted_at).into_bytes(),
        XATTR_EXPIRES_AT => rfc3339(entry.expires_at).into_bytes(),
        XATTR_DAYS_LEFT => format_days(days_left(entry.expires_at, now_secs())).into_bytes(),
        XATTR_REASON => entry.row.reason.as_str().as_bytes().to_vec(),
        XATTR_DELETED_BY => match entry.row.by {
            Some(by) => format_deleter(by.pid, by.start).into_bytes(),
            None => return Err(FsError::ENODATA),
        },
        XATTR_LITTER if entry.litter => YES.as_bytes().to_vec(),
        _ => return Err(FsError::ENODATA),
    })
}

/// Adds the trash attributes `entry` (None: no longer known) has to
/// listxattr names: those of every entry, and those known for this one.
pub(super) fn add_attr_names(entry: Option<&store::Entry>, names: &mut Vec<u8>) {
    let mut add = |name: &str| {
        names.extend_from_slice(name.as_bytes());
        names.push(0);
    };
    ENTRY_XATTRS.into_iter().for_each(&mut add);
    for extra in [XATTR_DELETED_BY, XATTR_LITTER] {
        if entry.is_some_and(|e| attr_of(e, extra).is_ok()) {
            add(extra);
        }
    }
}

/// Adds the trash attributes to entry node `node`'s listxattr names. Linux
/// lets nobody read `user.*` attributes of symlinks, fifos and devices (the
/// kernel answers ENODATA without asking us): listing them there would name
/// attributes no one can get (their info file serves them: see `desktop`).
pub(super) fn list_entry_xattrs(core: &Core, node: NodeId, st: &Stat, names: &mut Vec<u8>) {
    let kind = backing::file_type(st);
    if kind != libc::S_IFREG && kind != libc::S_IFDIR {
        return;
    }
    add_attr_names(entry_of_node(core, node).ok().as_ref(), names);
}

/// Deletes expired entries, a batch at a time, telling the kernel.
/// Returns how many went.
pub(super) fn expire(core: &Core) -> FsResult<usize> {
    // Emptied folders whose parent's removal never came (see `fold`).
    let dropped = core.store.drop_pending(now_secs() - PENDING_SECS)?;
    if dropped > 0 {
        log::debug!("dropped {dropped} emptied folders no removal folded");
    }
    let mut total = 0;
    loop {
        let purged = core
            .store
            .expire_batch_with(|row| core.pin(TRASH, OsStr::from_bytes(&row.name)))?;
        if purged.is_empty() {
            return Ok(total);
        }
        total += purged.len();
        for (row, pin) in purged {
            log::info!(
                "expired: {:?} (from gallery/{})",
                String::from_utf8_lossy(&row.name),
                String::from_utf8_lossy(&row.original_path)
            );
            events::announce(core, Change::Vanished { row: &row, pin });
        }
        core.space.after_change(core);
    }
}

/// The space policy's view of the mount: it purges trash entries through
/// the store and tells the kernel through `events`.
impl space::Host for Core {
    fn space(&self) -> &Space {
        &self.space
    }

    fn backing(&self) -> FsResult<space::Figures> {
        Ok(space::Figures::of(&self.statvfs()?))
    }

    fn oldest(&self, cutoff: i64, limit: usize) -> FsResult<Vec<EntryRow>> {
        self.store.oldest(cutoff, limit)
    }

    fn newest(&self) -> FsResult<Option<i64>> {
        self.store.newest_id()
    }

    fn purge(&self, row: &EntryRow) -> FsResult<()> {
        // Only that very row: a newer entry may have taken its name. No pin
        // here (see `NodeTable::pin`): a pinned inode keeps its blocks, and
        // this purge exists to free them now.
        self.store.purge_row(row)?;
        events::announce(self, Change::Vanished { row, pin: None });
        Ok(())
    }
}

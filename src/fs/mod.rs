//! The filesystem core: `GalleryFs` decides once per operation which part of
//! the mount a node is in (`node::Place`) and hands the operation to that
//! part's module, the single place that decides what it means there:
//!
//! - `root`: the mount root;
//! - `gallery`: `gallery/`;
//! - `trash`: `.trash/`, `.Trash-U/files/` and trashed directories;
//! - `desktop`: the rest of `.Trash-U/`.
//!
//! Operations that span two parts (restore = gallery ← trash, `files/NAME →
//! expunged/`) are composed here and nowhere else; the parts never call
//! back into this dispatcher. What they share is in `core`; `events` is the
//! one place that tells the kernel about changes it did not make. Requests
//! of the echo helper (`echo`) are answered here, before any part sees
//! them: they change nothing. Nothing here knows FUSE (see `fuse`).

mod bulk;
mod core;
mod deleter;
mod desktop;
mod echo;
mod events;
mod files;
mod fold;
mod gallery;
mod handles;
mod keep;
mod listing;
mod root;
mod trash;
mod types;
mod view;

use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use self::core::Core;
use self::events::Change;
use crate::backing;
use crate::error::{FsError, FsResult};
use crate::node::{NodeId, NodeTable, Place, ROOT, TRASH, View, is_trash_dir};
use crate::space;
use crate::store::TrashStore;
use crate::store::catalog::DeletedBy;

pub use self::core::TTL;
pub use self::echo::{Echoes, net as net_echoes};
pub use self::types::{
    Attr, Caller, DirItem, Echo, Entry, Invalidation, Invalidator, SetAttr, TimeSpec,
};

/// How many names a gallery listing hands out per readdir call.
const LISTING_CHUNK: usize = 256;

/// The filesystem of one mount.
pub struct GalleryFs {
    core: Arc<Core>,
    /// Answers of bulk requests, waiting for their clients (see `bulk`).
    answers: bulk::Answers,
}

impl GalleryFs {
    pub fn new(
        nodes: NodeTable,
        store: TrashStore,
        storage_fd: std::os::fd::OwnedFd,
        overwrite: crate::config::Overwrite,
    ) -> GalleryFs {
        GalleryFs {
            core: Arc::new(Core::new(nodes, store, storage_fd, overwrite)),
            answers: bulk::Answers::default(),
        }
    }

    pub fn set_invalidator(&self, invalidator: Box<dyn Invalidator>) {
        self.core.set_invalidator(invalidator);
    }

    /// The echo helper's state, for the adapter that runs the helper.
    pub fn echoes(&self) -> Arc<Echoes> {
        self.core.echoes.clone()
    }

    /// Whether `caller` is the echo helper: its requests change nothing.
    fn echoing(&self, caller: Caller) -> bool {
        self.core.echoes.is_helper(caller)
    }

    /// The helper's mknod, mkdir or symlink: the entry it announces.
    fn echo_made(&self, caller: Caller, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
        if !self.core.echoes.made(parent, name) {
            return Err(FsError::EPERM);
        }
        self.resolve(caller, parent, name)
    }

    /// The helper's unlink or rmdir: success, removing nothing.
    fn echo_removed(&self, parent: NodeId, name: &OsStr) -> FsResult<()> {
        match self.core.echoes.removed(parent, name) {
            true => Ok(()),
            false => Err(FsError::EPERM),
        }
    }

    /// What the space policy's watcher thread works on.
    pub(crate) fn space_host(&self) -> Arc<impl space::Host + Send + Sync + 'static> {
        self.core.clone()
    }

    fn place(&self, node: NodeId) -> FsResult<Place> {
        self.core.nodes.place(node)
    }

    // ---- names -----------------------------------------------------------

    pub fn lookup(&self, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
        self.lookup_as(
            Caller {
                uid: 0,
                gid: 0,
                pid: 0,
            },
            parent,
            name,
        )
    }

    /// Looks `name` up in `parent` for `caller` (`.Trash-UID` depends on who asks).
    pub fn lookup_as(&self, caller: Caller, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
        if self.echoing(caller) {
            if let Some(answer) = self.core.echoes.lookup(parent, name) {
                return answer;
            }
            return self.resolve(Echoes::as_owner(caller, parent, name), parent, name);
        }
        self.resolve(caller, parent, name)
    }

    fn resolve(&self, caller: Caller, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
        let core = &*self.core;
        match self.place(parent)? {
            Place::Root => match root::child(name) {
                Some(fixed) => core.fixed_entry(fixed),
                None => desktop::top_lookup(core, caller, name),
            },
            Place::GalleryRoot | Place::Gallery => core.lookup_backed(parent, name),
            Place::TrashDir(_) => trash::lookup_entry(core, parent, name),
            Place::TrashEntry | Place::InTrash => trash::lookup_inside(core, parent, name),
            Place::Desktop(view) => desktop::lookup(core, view, name),
        }
    }

    pub fn forget(&self, node: NodeId, n: u64) {
        self.core.nodes.forget(node, n);
    }

    pub fn getattr(&self, node: NodeId, fh: Option<u64>) -> FsResult<(Attr, Duration)> {
        let core = &*self.core;
        let short = Duration::from_secs(1);
        if let Some(attr) = echo::ghost(node) {
            return Ok((attr, Duration::ZERO));
        }
        match View::decode(node) {
            _ if node == ROOT => Ok((core.root_attr(), short)),
            // Their listings change at expiry, unseen (see `listing_ttl`).
            Some(view @ (View::Files(_) | View::Info(_))) => {
                Ok((desktop::getattr(core, view)?, core.listing_ttl()))
            }
            Some(view) => Ok((desktop::getattr(core, view)?, short)),
            None => core.getattr_backed(node, fh),
        }
    }

    pub fn setattr(&self, node: NodeId, set: SetAttr, fh: Option<u64>) -> FsResult<Attr> {
        // A file removed while open keeps working for whoever has it open
        // (it lives on in the trash): ftruncate through a handle, which the
        // kernel allows only on fds open for writing, which only the gallery
        // hands out, is not a change made through the trash.
        let through_handle = set.size.is_some()
            && fh.is_some()
            && set.mode.is_none()
            && set.uid.is_none()
            && set.gid.is_none();
        match self.place(node)? {
            Place::Desktop(view) => desktop::setattr(&self.core, view, set),
            _ if through_handle => gallery::setattr(&self.core, node, set, fh),
            Place::Gallery if trash::is_entry_now(&self.core, node) => Err(FsError::EROFS),
            Place::GalleryRoot | Place::Gallery => gallery::setattr(&self.core, node, set, fh),
            Place::Root | Place::TrashDir(_) => Err(FsError::EPERM),
            Place::TrashEntry | Place::InTrash => Err(FsError::EROFS),
        }
    }

    pub fn readlink(&self, node: NodeId) -> FsResult<Vec<u8>> {
        let (fd, _) = self.core.nodes.path_fd(node)?;
        backing::readlinkat(fd.as_fd(), OsStr::new(""))
    }

    /// Refuses new names anywhere but in the gallery (and the desktop view,
    /// which `make_in_view` handles).
    fn creatable(&self, parent: NodeId) -> FsResult<Option<View>> {
        match self.place(parent)? {
            Place::GalleryRoot | Place::Gallery => Ok(None),
            Place::Desktop(view) => Ok(Some(view)),
            Place::Root => Err(FsError::EPERM),
            Place::TrashDir(_) | Place::TrashEntry | Place::InTrash => Err(FsError::EROFS),
        }
    }

    pub fn mkdir(
        &self,
        parent: NodeId,
        name: &OsStr,
        mode: u32,
        caller: Caller,
    ) -> FsResult<Entry> {
        if self.echoing(caller) {
            return self.echo_made(caller, parent, name);
        }
        match self.creatable(parent)? {
            None => gallery::mkdir(&self.core, parent, name, mode, caller),
            Some(view) => desktop::mkdir(&self.core, view, name),
        }
    }

    pub fn mknod(
        &self,
        parent: NodeId,
        name: &OsStr,
        mode: u32,
        rdev: u32,
        caller: Caller,
    ) -> FsResult<Entry> {
        if self.echoing(caller) {
            return self.echo_made(caller, parent, name);
        }
        match self.creatable(parent)? {
            None => gallery::mknod(&self.core, parent, name, mode, rdev, caller),
            // The view keeps only the files clients write.
            Some(_) => Err(FsError::EROFS),
        }
    }

    pub fn symlink(
        &self,
        parent: NodeId,
        name: &OsStr,
        target: &OsStr,
        caller: Caller,
    ) -> FsResult<Entry> {
        if self.echoing(caller) {
            return self.echo_made(caller, parent, name);
        }
        match self.creatable(parent)? {
            None => gallery::symlink(&self.core, parent, name, target, caller),
            Some(_) => Err(FsError::EROFS),
        }
    }

    pub fn create(
        &self,
        parent: NodeId,
        name: &OsStr,
        mode: u32,
        flags: i32,
        caller: Caller,
    ) -> FsResult<(Entry, u64)> {
        match self.creatable(parent)? {
            None => gallery::create(&self.core, parent, name, mode, flags, caller),
            Some(view) => desktop::create(&self.core, caller, view, name, mode, flags),
        }
    }

    pub fn link(&self, node: NodeId, new_parent: NodeId, new_name: &OsStr) -> FsResult<Entry> {
        match self.place(node)? {
            Place::Gallery => {}
            // A new name would change the entry (its link count, its ctime),
            // and the trash is read-only except for restore, rename and purge.
            Place::TrashEntry | Place::InTrash => return Err(FsError::EROFS),
            _ => return Err(FsError::EPERM),
        }
        match self.creatable(new_parent)? {
            None => gallery::link(&self.core, node, new_parent, new_name),
            Some(_) => Err(FsError::EROFS),
        }
    }

    pub fn unlink(&self, caller: Caller, parent: NodeId, name: &OsStr) -> FsResult<()> {
        if self.echoing(caller) {
            return self.echo_removed(parent, name);
        }
        let core = &*self.core;
        match self.place(parent)? {
            Place::Root => Err(FsError::EPERM),
            Place::GalleryRoot | Place::Gallery => {
                gallery::unlink(core, parent, name, core.deleters.of(caller.pid))
            }
            Place::TrashDir(_) => trash::remove_entry(core, parent, name, false),
            Place::TrashEntry | Place::InTrash => trash::remove_inside(core, parent, name, false),
            Place::Desktop(view) => desktop::unlink(core, view, name),
        }
    }

    pub fn rmdir(&self, caller: Caller, parent: NodeId, name: &OsStr) -> FsResult<()> {
        if self.echoing(caller) {
            return self.echo_removed(parent, name);
        }
        let core = &*self.core;
        match self.place(parent)? {
            Place::Root => Err(FsError::EPERM),
            Place::GalleryRoot | Place::Gallery => {
                gallery::rmdir(core, parent, name, core.deleters.of(caller.pid))
            }
            Place::TrashDir(_) => trash::remove_entry(core, parent, name, true),
            Place::TrashEntry | Place::InTrash => trash::remove_inside(core, parent, name, true),
            Place::Desktop(view) => desktop::rmdir(core, view, name),
        }
    }

    pub fn rename(
        &self,
        caller: Caller,
        parent: NodeId,
        name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
        flags: u32,
    ) -> FsResult<()> {
        // The kernel moves its dentries of the two names once this returns
        // Ok: the table follows where it holds directories.
        let nodes = &self.core.nodes;
        let src = nodes.find(parent, name);
        let dst = (flags & libc::RENAME_EXCHANGE != 0)
            .then(|| nodes.find(new_parent, new_name))
            .flatten();
        self.rename_by_place(caller, parent, name, new_parent, new_name, flags)?;
        nodes.kernel_moved(src, new_parent);
        nodes.kernel_moved(dst, parent);
        Ok(())
    }

    fn rename_by_place(
        &self,
        caller: Caller,
        parent: NodeId,
        name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
        flags: u32,
    ) -> FsResult<()> {
        let core = &*self.core;
        let by = core.deleters.of(caller.pid);
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        let gallery = |p| matches!(p, Place::GalleryRoot | Place::Gallery);
        match (self.place(parent)?, self.place(new_parent)?) {
            (Place::Root, _) | (_, Place::Root) => Err(FsError::EPERM),
            // RENAME_WHITEOUT (overlayfs upper layers): as on ext4, by the
            // gallery's rules for what it replaces (see `gallery::rename`).
            (from, to) if gallery(from) && gallery(to) => {
                gallery::rename(core, parent, name, new_parent, new_name, flags, by)
            }
            // A whiteout left in the trash, or a trash entry's name turned
            // into one: the trash makes neither.
            _ if flags & libc::RENAME_WHITEOUT != 0 => Err(FsError::EINVAL),
            (Place::Desktop(_), _) | (_, Place::Desktop(_)) if exchange => Err(FsError::EINVAL),
            // gvfsd-trash's Delete and Empty Trash: a move into expunged/ purges.
            (Place::TrashDir(Some(uid)), Place::Desktop(View::Expunged(_))) => {
                desktop::expungeable(core, uid, name)?;
                trash::purge_entry(core, parent, name, true)
            }
            (Place::Desktop(from), Place::Desktop(to)) => {
                desktop::rename(core, from, name, to, new_name)
            }
            (Place::Desktop(_), _) | (_, Place::Desktop(_)) => Err(FsError::EPERM),
            (from, Place::TrashDir(_)) if gallery(from) => {
                no_exchange(exchange)?;
                trash::receive(core, parent, name, new_parent, new_name, by)
            }
            (Place::TrashDir(_), to) if gallery(to) => {
                no_exchange(exchange)?;
                self.restore(parent, name, new_parent, new_name, flags, by)
            }
            (Place::TrashDir(_), Place::TrashDir(_)) => {
                no_exchange(exchange)?;
                trash::rename_entry(core, parent, name, new_parent, new_name)
            }
            (Place::TrashEntry | Place::InTrash, to) if gallery(to) => {
                no_exchange(exchange)?;
                self.restore_part(parent, name, new_parent, new_name, flags, by)
            }
            _ => Err(FsError::EROFS),
        }
    }

    /// Restore: entry `name` of trash directory `parent` goes back to the
    /// gallery, by the gallery's rule for what it replaces.
    fn restore(
        &self,
        parent: NodeId,
        name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
        flags: u32,
        by: Option<DeletedBy>,
    ) -> FsResult<()> {
        let core = &*self.core;
        let entry = core.live_entry(parent, name)?;
        // A restored entry counts toward the quota again.
        let _quota = core.space.reserve(entry.row.size)?;
        gallery::rename_into(core, new_parent, new_name, flags, by, |dst| {
            core.space.retry(core, space::BLOCK, || {
                core.store
                    .take_out(name.as_bytes(), dst.as_fd(), new_name, flags)
            })
        })?;
        trash::moved_entry(core, (parent, name), (new_parent, new_name), entry.row.uid);
        events::announce(
            core,
            Change::Left {
                via: parent,
                row: &entry.row,
            },
        );
        Ok(())
    }

    /// A partial restore: one piece of a trashed directory goes back.
    fn restore_part(
        &self,
        parent: NodeId,
        name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
        flags: u32,
        by: Option<DeletedBy>,
    ) -> FsResult<()> {
        let core = &*self.core;
        core.live_in_trash(parent, name)?;
        let src = core.nodes.dir_fd(parent)?;
        let owner = core.owning_entry(parent)?.ok_or(FsError::ENOENT)?;
        let rel = core.nodes.relative_path(parent)?;
        let bytes = backing::tree_size(src.as_fd(), name)?;
        let _quota = core.space.reserve(bytes)?;
        core.store.change_inside(owner.row.id, true, || {
            gallery::rename_into(core, new_parent, new_name, flags, by, |dst| {
                core.space.retry(core, space::BLOCK, || {
                    core.store.within(&rel, src.as_fd(), || {
                        backing::renameat2(src.as_fd(), name, dst.as_fd(), new_name, flags)
                    })
                })
            })?;
            Ok(bytes)
        })?;
        core.nodes.moved(parent, name, new_parent, new_name);
        Ok(())
    }

    // ---- open files ------------------------------------------------------

    pub fn open(&self, node: NodeId, flags: i32) -> FsResult<u64> {
        let writes = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
        match self.place(node)? {
            Place::Desktop(view) => desktop::open(&self.core, view, flags),
            Place::TrashDir(Some(_)) => Err(FsError::EISDIR),
            place if writes && place.in_trash() => Err(FsError::EROFS),
            Place::Gallery if writes && trash::is_entry_now(&self.core, node) => {
                Err(FsError::EROFS)
            }
            // With FUSE_ATOMIC_O_TRUNC the truncation arrives here, not as a setattr.
            Place::Gallery if flags & libc::O_TRUNC != 0 => {
                gallery::open_truncating(&self.core, node, flags)
            }
            _ => self.core.open_backed(node, flags & !libc::O_TRUNC),
        }
    }

    /// The backing file of open handle `fh` (for kernel passthrough).
    pub fn open_file(&self, fh: u64) -> FsResult<Arc<std::fs::File>> {
        self.core.handles.file(fh)
    }

    /// Whether `fh` is a handle of the desktop view (no backing file).
    pub fn is_view_handle(&self, fh: u64) -> bool {
        self.core.handles.view(fh).is_some()
    }

    pub fn read(&self, fh: u64, offset: u64, size: u32) -> FsResult<Vec<u8>> {
        match desktop::read(&self.core, fh, offset, size) {
            Some(result) => result,
            None => files::read(&self.core, fh, offset, size),
        }
    }

    pub fn write(&self, fh: u64, offset: u64, data: &[u8]) -> FsResult<u32> {
        match desktop::write(&self.core, fh, offset, data) {
            Some(result) => result,
            None => files::write(&self.core, fh, offset, data),
        }
    }

    pub fn release(&self, fh: u64) {
        if self.core.handles.close_view(fh) {
            return;
        }
        self.core.space.released(fh);
        self.core.handles.close_file(fh);
    }

    pub fn fsync(&self, fh: u64, datasync: bool) -> FsResult<()> {
        if self.is_view_handle(fh) {
            return Ok(());
        }
        files::fsync(&self.core, fh, datasync)
    }

    pub fn fallocate(&self, fh: u64, offset: u64, length: u64, mode: i32) -> FsResult<()> {
        if self.is_view_handle(fh) {
            // GIO preallocates its info files; memory needs no reservation.
            return Ok(());
        }
        let destroys = libc::FALLOC_FL_PUNCH_HOLE
            | libc::FALLOC_FL_COLLAPSE_RANGE
            | libc::FALLOC_FL_ZERO_RANGE;
        if mode & destroys != 0
            && let Some(node) = self.core.handles.node_of(fh)
        {
            let st = backing::fstat(self.core.handles.file(fh)?.as_fd())?;
            keep::before(
                &self.core,
                node,
                st,
                keep::Overwrite::Range {
                    offset,
                    len: length,
                },
            )?;
        }
        files::fallocate(&self.core, fh, offset, length, mode)
    }

    pub fn lseek(&self, fh: u64, offset: i64, whence: i32) -> FsResult<i64> {
        files::lseek(&self.core, fh, offset, whence)
    }

    pub fn copy_file_range(
        &self,
        fh_in: u64,
        offset_in: u64,
        fh_out: u64,
        offset_out: u64,
        len: u64,
    ) -> FsResult<u32> {
        files::copy_file_range(&self.core, fh_in, offset_in, fh_out, offset_out, len)
    }

    // ---- directories -----------------------------------------------------

    /// Up to a batch of names after `offset`; empty at the end. Stateless
    /// (galleryfs answers no OPENDIR, so the kernel keeps listings in its
    /// cache; see `fuse`): gallery and trashed directories resume from
    /// the backing filesystem's cookies, `.trash` from catalog ids.
    /// Dispatched on the node's number, not its place: an open directory
    /// that was removed meanwhile has no place but still lists.
    pub fn readdir(&self, node: NodeId, offset: u64) -> FsResult<Vec<DirItem>> {
        let core = &*self.core;
        match View::decode(node) {
            _ if node == ROOT => return root::readdir(core, offset),
            _ if node == TRASH => return trash::read_trash(core, node, None, offset),
            Some(View::Files(uid)) => return trash::read_trash(core, node, Some(uid), offset),
            Some(view) => return desktop::readdir(core, view, offset),
            None => {}
        }
        core.list_dir_at(node, offset, LISTING_CHUNK)
    }

    /// The entry for one name of a readdirplus listing (a lookup reference,
    /// except for `.` and `..`, for which the kernel takes none).
    pub fn readdirplus_entry(&self, parent: NodeId, item: &DirItem) -> FsResult<Entry> {
        if item.name == "." || item.name == ".." {
            return Ok(Entry {
                node: parent,
                attr: self.core.root_attr(),
                ttl: Duration::ZERO,
                generation: 0,
            });
        }
        match item.expires_at {
            Some(expires_at) if is_trash_dir(parent) => {
                trash::listed_entry(&self.core, parent, &item.name, expires_at)
            }
            _ => self.lookup(parent, &item.name),
        }
    }

    // ---- extended attributes ---------------------------------------------

    /// The whole value of xattr `name`.
    /// A page of `.trash`'s listing for clients (`contract::listing`), if
    /// `name` asks `node` for one; None if it does not.
    pub fn listing_page(
        &self,
        caller: Caller,
        node: NodeId,
        name: &OsStr,
    ) -> Option<FsResult<Vec<u8>>> {
        let cursor = name
            .as_bytes()
            .strip_prefix(crate::contract::listing::XATTR_ENTRIES_PAGE.as_bytes())?;
        (node == TRASH).then(|| listing::page(&self.core, caller, cursor))
    }

    /// A bulk purge or restore (`contract::bulk`), if `name` is one's
    /// request; None if it is an ordinary attribute.
    pub fn bulk_request(
        &self,
        caller: Caller,
        node: NodeId,
        name: &OsStr,
        value: &[u8],
    ) -> Option<FsResult<()>> {
        bulk::request(&self.core, &self.answers, caller, node, name, value)
    }

    /// The answers to a bulk request, if `name` asks for them.
    pub fn bulk_answer(
        &self,
        caller: Caller,
        node: NodeId,
        name: &OsStr,
    ) -> Option<FsResult<Vec<u8>>> {
        bulk::answer(&self.answers, caller, node, name)
    }

    pub fn getxattr(&self, node: NodeId, name: &OsStr) -> FsResult<Vec<u8>> {
        // `ls -l` asks every file for its ACL and SELinux label, two round
        // trips per file. Both are unsupported here (ACLs: see
        // `gallery::xattr_settable`; labels: SELinux is off), and saying so
        // with EOPNOTSUPP, not ENODATA, makes ls stop asking for the rest of
        // the device, which is what keeps `ls -l` of a big directory fast.
        if name.as_bytes().starts_with(b"system.posix_acl_")
            || (name == "security.selinux" && !selinux_enabled())
        {
            return Err(FsError::ENOTSUP);
        }
        let trash_attr = name
            .to_str()
            .filter(|n| n.starts_with(crate::contract::XATTR_PREFIX));
        match (self.place(node)?, trash_attr) {
            (Place::Desktop(view), Some(attr)) => desktop::getxattr(&self.core, view, attr),
            (Place::Root | Place::Desktop(_) | Place::TrashDir(Some(_)), _) => {
                Err(FsError::ENODATA)
            }
            (Place::TrashEntry, Some(attr)) => trash::entry_xattr(&self.core, node, attr),
            (Place::TrashDir(None), Some(_)) => match self.core.space.xattr(name) {
                Some(value) => value,
                None => Err(FsError::ENODATA),
            },
            (_, Some(_)) => Err(FsError::ENODATA),
            (_, None) => {
                let (fd, _) = self.core.nodes.path_fd(node)?;
                loop {
                    let len = backing::getxattr(fd.as_fd(), name, 0)?.len();
                    match backing::getxattr(fd.as_fd(), name, len) {
                        Err(FsError::ERANGE) => continue,
                        r => return r,
                    }
                }
            }
        }
    }

    /// All xattr names, NUL-terminated, as listxattr returns them.
    pub fn listxattr(&self, node: NodeId) -> FsResult<Vec<u8>> {
        let place = self.place(node)?;
        match place {
            Place::Desktop(view) => return desktop::listxattr(&self.core, view),
            Place::Root | Place::TrashDir(Some(_)) => return Ok(Vec::new()),
            _ => {}
        }
        let (fd, st) = self.core.nodes.path_fd(node)?;
        let mut names = backing::listxattr_all(fd.as_fd())?;
        match place {
            Place::TrashEntry => trash::list_entry_xattrs(&self.core, node, &st, &mut names),
            Place::TrashDir(None) => self.core.space.list_xattrs(&mut names),
            _ => {}
        }
        Ok(names)
    }

    /// Refuses xattr changes anywhere but in the gallery.
    fn xattr_settable(&self, node: NodeId, name: &OsStr) -> FsResult<()> {
        match self.place(node)? {
            Place::Gallery if trash::is_entry_now(&self.core, node) => Err(FsError::EROFS),
            Place::GalleryRoot | Place::Gallery => gallery::xattr_settable(name),
            Place::TrashEntry | Place::InTrash => Err(FsError::EROFS),
            Place::Root | Place::TrashDir(_) | Place::Desktop(_) => Err(FsError::EPERM),
        }
    }

    pub fn setxattr(&self, node: NodeId, name: &OsStr, value: &[u8], flags: i32) -> FsResult<()> {
        self.xattr_settable(node, name)?;
        let (fd, _) = self.core.nodes.path_fd(node)?;
        backing::setxattr(fd.as_fd(), name, value, flags)
    }

    pub fn removexattr(&self, node: NodeId, name: &OsStr) -> FsResult<()> {
        self.xattr_settable(node, name)?;
        let (fd, _) = self.core.nodes.path_fd(node)?;
        backing::removexattr(fd.as_fd(), name)
    }

    // ---- the rest --------------------------------------------------------

    pub fn statfs(&self) -> FsResult<libc::statvfs> {
        Ok(self.core.space.statfs(self.core.statvfs()?))
    }

    /// Deletes expired entries, telling the kernel; returns how many went.
    pub fn expire(&self) -> FsResult<usize> {
        trash::expire(&self.core)
    }

    /// Flushes the catalog; called at unmount.
    pub fn shutdown(&self) {
        self.core.handles.clear();
        self.core.store.close();
    }

    /// Applies the `max_trash`, `min_retention` and `quota` options.
    pub fn set_space_policy(&self, policy: &crate::config::Policy) -> FsResult<()> {
        let figures = space::Figures::of(&self.core.statvfs()?);
        self.core
            .space
            .configure(policy, figures, self.core.nodes.gallery_fd().as_fd())
    }

    /// Whether open file `fh` (flags `flags`) may be served by kernel
    /// passthrough, whose writes never reach galleryfs (see `space`).
    pub fn may_pass_through(&self, fh: u64, flags: i32) -> bool {
        self.core.space.may_pass_through(&*self.core, fh, flags)
    }
}

/// Swapping two names (RENAME_EXCHANGE) is for the gallery only.
fn no_exchange(exchange: bool) -> FsResult<()> {
    if exchange {
        Err(FsError::EINVAL)
    } else {
        Ok(())
    }
}

/// Whether the host enforces SELinux (then labels are real and passed through).
fn selinux_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::path::Path::new("/sys/fs/selinux/enforce").exists())
}

#[cfg(test)]
mod tests;

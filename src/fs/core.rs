//! What every part of the mount shares: the node table, the store, the space
//! policy, open handles, the desktop view's state and the kernel's
//! invalidations, plus the few steps all parts take the same way (an entry
//! for a name, attributes, cache timeouts).

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use super::deleter::{Deleters, FolderTimes};
use super::echo::Echoes;
use super::handles::Handles;
use super::types::{Attr, DirItem, Echo, Entry, Invalidation, Invalidator};
use super::view::ViewState;
use crate::backing::{self, Stat};
use crate::clock::{at, now_secs, time_left};
use crate::config::Overwrite;
use crate::error::{FsError, FsResult};
use crate::node::{GALLERY, NodeId, NodeTable, Pin, Place, ROOT, TRASH, is_trash_dir};
use crate::space::Space;
use crate::store::{self as trash_store, TrashStore};

/// How long the kernel may cache names and attributes in the gallery. Only
/// galleryfs changes STORAGE, and it tells the kernel when it does so behind
/// the kernel's back, so this can be long.
pub const TTL: Duration = Duration::from_secs(24 * 3600);

/// `.trash`'s permission bits: sticky and world-writable like /tmp (owned
/// by root): everyone may trash and restore, but only their own entries.
pub(super) const TRASH_PERM: u16 = 0o1777;

/// The state of one mount that every part works on.
pub(crate) struct Core {
    pub(super) nodes: NodeTable,
    pub(super) store: TrashStore,
    storage_fd: OwnedFd,
    pub(super) handles: Handles,
    /// What the trash costs in storage: df, purging for space, caps, quota.
    pub(super) space: Space,
    pub(super) desktop: ViewState,
    /// Which process each request came from (see `deleter`).
    pub(super) deleters: Deleters,
    /// Folders' times from before their removal began (see `fold`).
    pub(super) folder_times: FolderTimes,
    invalidator: OnceLock<Box<dyn Invalidator>>,
    /// The echo helper's requests (see `echo`).
    pub(super) echoes: Arc<Echoes>,
    /// Whether galleryfs may give new files to their creator (it runs as root).
    pub(super) can_chown: bool,
    /// Keeping overwritten content (see `keep`).
    pub(super) overwrite: Overwrite,
    mounted_at: SystemTime,
    /// Whether the root was listed since its attributes were last
    /// invalidated: its listing (`.trash` shown or not) changes behind the
    /// kernel's back, which caches it (see `fuse::opendir`).
    pub(super) root_listed: std::sync::atomic::AtomicBool,
}

impl Core {
    pub(super) fn new(
        nodes: NodeTable,
        store: TrashStore,
        storage_fd: OwnedFd,
        overwrite: Overwrite,
    ) -> Core {
        Core {
            nodes,
            space: Space::new(store.usage().clone()),
            store,
            storage_fd,
            handles: Handles::new(),
            desktop: ViewState::default(),
            deleters: Deleters::default(),
            folder_times: FolderTimes::default(),
            invalidator: OnceLock::new(),
            echoes: Arc::default(),
            can_chown: backing::geteuid() == 0,
            overwrite,
            mounted_at: SystemTime::now(),
            root_listed: Default::default(),
        }
    }

    pub(super) fn set_invalidator(&self, invalidator: Box<dyn Invalidator>) {
        if self.invalidator.set(invalidator).is_err() {
            log::warn!("invalidator set twice");
        }
    }

    /// Queues one invalidation; only `events` decides which to send.
    pub(super) fn invalidate(&self, what: Invalidation) {
        if let Some(inv) = self.invalidator.get() {
            inv.invalidate(what);
        }
    }

    pub(super) fn invalidate_attrs_now(&self, node: NodeId) {
        if let Some(inv) = self.invalidator.get() {
            inv.invalidate_attrs_now(node);
        }
    }

    /// One invalidation done before the reply (see `Invalidator::invalidate_now`);
    /// only `events` and `trash` decide which.
    pub(super) fn invalidate_now(&self, what: Invalidation) {
        if let Some(inv) = self.invalidator.get() {
            inv.invalidate_now(what);
        }
    }

    /// See `Invalidator::invalidate_ahead`; only `trash` decides which.
    pub(super) fn invalidate_ahead(&self, what: Invalidation) {
        if let Some(inv) = self.invalidator.get() {
            inv.invalidate_ahead(what);
        }
    }

    /// See `Invalidator::expire_all_names`; only `trash` decides when.
    pub(super) fn expire_all_names(&self) {
        if let Some(inv) = self.invalidator.get() {
            inv.expire_all_names();
        }
    }

    /// Queues one echo for watchers; only `events` decides which to send.
    pub(super) fn echo(&self, echo: Echo) {
        if let Some(inv) = self.invalidator.get() {
            inv.echo(echo);
        }
    }

    pub(super) fn statvfs(&self) -> FsResult<libc::statvfs> {
        backing::fstatvfs(self.storage_fd.as_fd())
    }

    pub(super) fn root_attr(&self) -> Attr {
        // Its listing changes with the trash's (see `root_listed`).
        let mtime = self.mounted_at.max(self.desktop.changed_at());
        Attr {
            ino: ROOT,
            size: 4096,
            blocks: 8,
            atime: self.mounted_at,
            mtime,
            ctime: mtime,
            kind: libc::S_IFDIR,
            perm: 0o755,
            nlink: 4,
            uid: backing::geteuid(),
            gid: backing::getegid(),
            rdev: 0,
            blksize: 4096,
        }
    }

    pub(super) fn attr_of(&self, node: NodeId, st: &Stat) -> Attr {
        let mut attr = Attr::from_stat(st);
        // fuser sends the node number as st_ino; see `node`.
        attr.ino = node;
        if node == TRASH {
            attr.perm = TRASH_PERM;
            attr.uid = 0;
            attr.gid = 0;
            // Its listing can change without STORAGE/trash changing (an
            // entry settles or expires): the kernel's cache of it is
            // dropped when the mtime moves (see `fuse::opendir`).
            attr.mtime = attr.mtime.max(self.listing_mtime());
        }
        attr
    }

    /// The entry the node belongs to if it is in the trash, with its expiry.
    pub(super) fn owning_entry(&self, node: NodeId) -> FsResult<Option<trash_store::Entry>> {
        let path = self.nodes.relative_path(node)?;
        let top = path.split(|&b| b == b'/').next().unwrap_or_default();
        self.store.lookup(top)
    }

    /// How long the kernel may cache a node at `place`: never past its entry's expiry.
    pub(super) fn ttl_for(&self, place: Place, node: NodeId) -> FsResult<Duration> {
        match place {
            Place::TrashEntry | Place::InTrash => {
                let entry = self.owning_entry(node)?.ok_or(FsError::ENOENT)?;
                Ok(TTL.min(time_left(entry.expires_at)))
            }
            Place::Root => Ok(Duration::from_secs(1)),
            Place::TrashDir(_) => Ok(self.listing_ttl()),
            // A gallery name moved into .trash keeps this timeout: shorter
            // than the retention (less the second `deleted_at` rounds off),
            // so it lapses before the entry expires.
            _ => Ok(TTL.min(Duration::from_secs(
                self.store.retention_secs().saturating_sub(1) as u64,
            ))),
        }
    }

    /// The mtime of the trash's listings (`.trash`, a view's `files/` and
    /// `info/`): their last change, or the last expiry, whichever is later.
    /// The kernel keeps these listings and drops them when the mtime moves.
    pub(super) fn listing_mtime(&self) -> SystemTime {
        let changed = self.desktop.changed_at();
        match self.store.expiry_marks(now_secs()) {
            Ok((last, _)) => changed.max(at(last)),
            Err(_) => SystemTime::now(),
        }
    }

    /// How long the kernel may keep the attributes of the trash's
    /// listings: not past the next expiry, which changes them unseen.
    pub(super) fn listing_ttl(&self) -> Duration {
        let next = match self.store.expiry_marks(now_secs()) {
            Ok((_, next)) => next,
            Err(_) => return Duration::ZERO,
        };
        let cap = Duration::from_secs(1);
        next.map_or(cap, |next| time_left(next).min(cap))
    }

    /// Gives the kernel `parent/name` (in `dir`, last stat `st`): one lookup
    /// reference.
    pub(super) fn entry_for(
        &self,
        dir: BorrowedFd<'_>,
        parent: NodeId,
        name: &OsStr,
        st: &Stat,
    ) -> FsResult<Entry> {
        let (node, st) = self.nodes.remember_looked_up(dir, parent, name, *st)?;
        let st = &st;
        let place = self.nodes.place(node)?;
        let ttl = match self.ttl_for(place, node) {
            Ok(ttl) => ttl,
            Err(e) => {
                self.nodes.forget(node, 1);
                return Err(e);
            }
        };
        Ok(Entry {
            node,
            attr: self.attr_of(node, st),
            ttl,
            generation: self.nodes.generation(node),
        })
    }

    /// The entry of `gallery` or `.trash` in the root.
    pub(super) fn fixed_entry(&self, node: NodeId) -> FsResult<Entry> {
        let st = backing::fstat(self.nodes.dir_fd(node)?.as_fd())?;
        // `.trash`'s listing changes at expiry, unseen (see `listing_ttl`).
        let ttl = match node {
            TRASH => self.listing_ttl(),
            _ => Duration::from_secs(1),
        };
        Ok(Entry {
            node,
            attr: self.attr_of(node, &st),
            ttl,
            generation: 0,
        })
    }

    /// Looks `name` up in backed directory `parent`.
    pub(super) fn lookup_backed(&self, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
        let dir = self.nodes.dir_fd(parent)?;
        let st = backing::fstatat(dir.as_fd(), name)?;
        self.entry_for(dir.as_fd(), parent, name, &st)
    }

    /// Attributes of backed node `node`, through open file `fh` if given.
    pub(super) fn getattr_backed(
        &self,
        node: NodeId,
        fh: Option<u64>,
    ) -> FsResult<(Attr, Duration)> {
        let st = match self.handles.file_of(fh) {
            Some(file) => backing::fstat(file.as_fd())?,
            None => self.nodes.stat(node)?,
        };
        let place = self.nodes.place(node)?;
        let ttl = self.ttl_for(place, node).unwrap_or(Duration::ZERO);
        Ok((self.attr_of(node, &st), ttl))
    }

    /// Opens backed node `node` for I/O; returns the handle.
    pub(super) fn open_backed(&self, node: NodeId, flags: i32) -> FsResult<u64> {
        let (fd, _) = self.nodes.open_file(node, backing_open_flags(flags))?;
        Ok(self.handles.add_file(std::fs::File::from(fd), node, flags))
    }

    /// `gallery/`-relative path of `parent/name`: what an entry records.
    pub(super) fn original_path(&self, parent: NodeId, name: &OsStr) -> FsResult<Vec<u8>> {
        let dir = if parent == GALLERY {
            Vec::new()
        } else {
            self.nodes.relative_path(parent)?
        };
        Ok(join_path(&dir, name))
    }

    /// Checks that a name in `.trash/` or below is a live entry's.
    pub(super) fn live_in_trash(&self, parent: NodeId, name: &OsStr) -> FsResult<()> {
        match is_trash_dir(parent) {
            true => self.live_entry(parent, name).map(drop),
            false => match self.owning_entry(parent)? {
                Some(_) => Ok(()),
                None => Err(FsError::ENOENT),
            },
        }
    }

    /// The live entry `name` of trash directory `parent`. In a
    /// `.Trash-UID/files` view, only that uid's entries exist, and no litter.
    pub(super) fn live_entry(&self, parent: NodeId, name: &OsStr) -> FsResult<trash_store::Entry> {
        let owner = crate::node::files_dir_owner(parent);
        self.store
            .lookup(name.as_bytes())?
            .filter(|e| owner.is_none_or(|uid| uid == e.row.uid && !e.litter))
            .ok_or(FsError::ENOENT)
    }

    /// Before `parent/name` is removed for good: a pin on its inode (see
    /// `NodeTable::pin`) if someone may still use the old inode through the
    /// kernel: it is open, or a directory (someone's cwd). Otherwise none,
    /// so the space is free when the removal returns.
    pub(super) fn pin(&self, parent: NodeId, name: &OsStr) -> Option<Pin> {
        let node = self.nodes.find(parent, name)?;
        if self.nodes.is_dir(node) || self.handles.is_open(node) {
            self.nodes.pin(parent, name)
        } else {
            None
        }
    }

    /// `parent/name` (last stat `st`, `pin` from `pin` taken before) was
    /// removed for real.
    pub(super) fn forget_name(&self, parent: NodeId, name: &OsStr, st: &Stat, pin: Option<Pin>) {
        if st.st_nlink <= 1 || backing::is_dir(st) {
            self.nodes.destroyed_inode(parent, name, st, pin);
        } else {
            self.nodes.unlinked(parent, name);
        }
    }

    /// Truncates an open file under the space policy.
    pub(super) fn truncate(&self, fd: BorrowedFd<'_>, size: u64) -> FsResult<()> {
        self.space
            .write_op(self, fd, size, 0, false, || backing::ftruncate(fd, size))
    }

    /// Up to `max` names of gallery or trashed directory `node` after
    /// position `offset`, `.` and `..` included (see `backing::read_dir_at`).
    pub(super) fn list_dir_at(
        &self,
        node: NodeId,
        offset: u64,
        max: usize,
    ) -> FsResult<Vec<DirItem>> {
        let fd = self.nodes.dir_fd(node)?;
        let mut items = Vec::new();
        for (e, next) in backing::read_dir_at(fd.as_fd(), offset, max)? {
            let ino = match e.name.as_bytes() {
                b"." => node,
                // The kernel answers `..` itself.
                b".." => 0,
                _ => self.nodes.id_of_ino(e.ino),
            };
            let kind = match e.dtype {
                libc::DT_UNKNOWN => backing::fstatat(fd.as_fd(), &e.name)
                    .map_or(libc::S_IFREG, |st| backing::file_type(&st)),
                dtype => dtype_to_kind(dtype),
            };
            items.push(DirItem::new(e.name, next, ino, kind));
        }
        Ok(items)
    }
}

/// Flags for opening the backing file of a kernel open: the kernel already
/// created and checked the name and handles O_DIRECT itself.
pub(super) fn backing_open_flags(flags: i32) -> i32 {
    flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOCTTY | libc::O_DIRECT)
}

fn join_path(dir: &[u8], name: &OsStr) -> Vec<u8> {
    if dir.is_empty() {
        name.as_bytes().to_vec()
    } else {
        [dir, b"/", name.as_bytes()].concat()
    }
}

fn dtype_to_kind(dtype: u8) -> u32 {
    match dtype {
        libc::DT_DIR => libc::S_IFDIR,
        libc::DT_LNK => libc::S_IFLNK,
        libc::DT_FIFO => libc::S_IFIFO,
        libc::DT_SOCK => libc::S_IFSOCK,
        libc::DT_CHR => libc::S_IFCHR,
        libc::DT_BLK => libc::S_IFBLK,
        _ => libc::S_IFREG,
    }
}

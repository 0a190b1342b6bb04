//! What each operation means in the mount root, in `gallery/` and in `.trash/`.
//! This is the filesystem core: it knows nothing about FUSE (see `fuse` for
//! the adapter) and reaches STORAGE only through `backing`, `inodes` and `trash`.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::backing::{self, Stat};
use crate::desktop::{self, Desktop, View};
use crate::error::{FsError, FsResult};
use crate::inodes::{GALLERY, NodeId, NodeTable, Place, ROOT, TRASH, is_trash_dir};
use crate::space::{self, Space};
use crate::trash::{self, Trash};

/// How long the kernel may cache names and attributes in the gallery. Only
/// galleryfs changes STORAGE, and it tells the kernel when it does so behind
/// the kernel's back, so this can be long.
pub const TTL: Duration = Duration::from_secs(24 * 3600);

/// Extended attributes synthesized on trash entries.
pub const XATTR_PREFIX: &str = "user.trash.";
pub const XATTR_ORIGINAL_PATH: &str = "user.trash.original_path";
pub const XATTR_DELETED_AT: &str = "user.trash.deleted_at";
pub const XATTR_EXPIRES_AT: &str = "user.trash.expires_at";
pub const XATTR_DAYS_LEFT: &str = "user.trash.days_left";
const TRASH_XATTRS: [&str; 4] = [
    XATTR_ORIGINAL_PATH,
    XATTR_DELETED_AT,
    XATTR_EXPIRES_AT,
    XATTR_DAYS_LEFT,
];

/// Attributes of a file as the kernel sees them.
#[derive(Clone, Copy, Debug)]
pub struct Attr {
    pub ino: u64,
    pub size: u64,
    pub blocks: u64,
    pub atime: SystemTime,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
    /// `S_IFMT` bits.
    pub kind: u32,
    /// Permission bits, including setuid/setgid/sticky.
    pub perm: u16,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u32,
    pub blksize: u32,
}

fn system_time(secs: i64, nsecs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nsecs as u32)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nsecs as u64)
    }
}

impl Attr {
    pub fn from_stat(st: &Stat) -> Attr {
        Attr {
            ino: st.st_ino,
            size: st.st_size as u64,
            blocks: st.st_blocks as u64,
            atime: system_time(st.st_atime, st.st_atime_nsec),
            mtime: system_time(st.st_mtime, st.st_mtime_nsec),
            ctime: system_time(st.st_ctime, st.st_ctime_nsec),
            kind: st.st_mode & libc::S_IFMT,
            perm: (st.st_mode & 0o7777) as u16,
            nlink: st.st_nlink as u32,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: st.st_rdev as u32,
            blksize: st.st_blksize as u32,
        }
    }
}

/// A name the kernel may cache, with its node and attributes.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub node: NodeId,
    pub attr: Attr,
    pub ttl: Duration,
    /// The node's generation (see `inodes::Node::generation`).
    pub generation: u64,
}

/// Who is asking.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
}

/// One name of a directory listing; `offset` is the cookie of the next one.
#[derive(Clone, Debug)]
pub struct DirItem {
    pub name: OsString,
    pub offset: u64,
    pub ino: u64,
    pub kind: u32,
    /// For `.trash` entries: when they expire, so readdirplus needs no query.
    pub expires_at: Option<i64>,
}

impl DirItem {
    pub(crate) fn new(name: impl Into<OsString>, offset: u64, ino: u64, kind: u32) -> DirItem {
        DirItem {
            name: name.into(),
            offset,
            ino,
            kind,
            expires_at: None,
        }
    }
}

/// Changes to tell the kernel about, because it did not make them itself.
#[derive(Clone, Debug)]
pub enum Invalidation {
    /// Attributes or listing of a node changed.
    Inode(NodeId),
    /// A name appeared or disappeared in `parent`.
    Entry(NodeId, OsString),
    /// `parent/name`, node `child`, was deleted.
    Delete(NodeId, NodeId, OsString),
}

/// Sends invalidations to the kernel (implemented by the FUSE adapter).
pub trait Invalidator: Send + Sync {
    fn invalidate(&self, what: Invalidation);
}

/// Changes requested by setattr.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<TimeSpec>,
    pub mtime: Option<TimeSpec>,
}

#[derive(Clone, Copy, Debug)]
pub enum TimeSpec {
    Now,
    At(SystemTime),
}

impl TimeSpec {
    fn timespec(spec: Option<TimeSpec>) -> libc::timespec {
        match spec {
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            },
            Some(TimeSpec::Now) => libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_NOW,
            },
            Some(TimeSpec::At(t)) => match t.duration_since(UNIX_EPOCH) {
                Ok(d) => libc::timespec {
                    tv_sec: d.as_secs() as libc::time_t,
                    tv_nsec: d.subsec_nanos() as libc::c_long,
                },
                Err(e) => {
                    let d = e.duration();
                    let (mut secs, mut nanos) = (-(d.as_secs() as i64), -(d.subsec_nanos() as i64));
                    if nanos < 0 {
                        secs -= 1;
                        nanos += 1_000_000_000;
                    }
                    libc::timespec {
                        tv_sec: secs as libc::time_t,
                        tv_nsec: nanos as libc::c_long,
                    }
                }
            },
        }
    }
}

/// An open directory. Gallery and trashed directories are listed once, at
/// opendir, and served by offset; `.trash` may hold a million entries, so it
/// is read from the catalog a page at a time.
enum Listing {
    /// Listed at the first readdir, not at opendir: with the kernel's
    /// directory cache, most opens of a directory never read it.
    Snapshot(NodeId, Mutex<Option<Arc<Vec<DirItem>>>>),
    /// The page last read, and the offset it was read from; `Some(uid)`
    /// lists only that uid's entries (a `.Trash-UID/files` view).
    Trash(Option<u32>, Mutex<(u64, Vec<DirItem>)>),
}

/// Rows of `.trash` read per catalog query when listing it.
const TRASH_PAGE: usize = 1024;

/// Settings fixed at mount.
pub struct Options {
    pub read_only: bool,
}

pub struct GalleryFs {
    nodes: NodeTable,
    trash: Trash,
    storage_fd: OwnedFd,
    files: Mutex<HashMap<u64, Arc<File>>>,
    dirs: Mutex<HashMap<u64, Arc<Listing>>>,
    next_handle: AtomicU64,
    invalidator: OnceLock<Box<dyn Invalidator>>,
    /// Whether galleryfs may give new files to their creator (it runs as root).
    can_chown: bool,
    mounted_at: SystemTime,
    options: Options,
    pub(crate) desktop: Desktop,
    /// What the trash costs in storage: df, purging for space, caps, quota.
    space: Space,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn rfc3339(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Time until `expires_at` (seconds since the epoch), to the nanosecond: a
/// cache timeout counted in whole seconds from a truncated "now" would let
/// the kernel show an entry for up to a second past its expiry.
fn time_left(expires_at: i64) -> Duration {
    let expires = UNIX_EPOCH + Duration::from_secs(expires_at.max(0) as u64);
    expires
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

fn join_path(dir: &[u8], name: &OsStr) -> Vec<u8> {
    if dir.is_empty() {
        name.as_bytes().to_vec()
    } else {
        [dir, b"/", name.as_bytes()].concat()
    }
}

impl GalleryFs {
    pub fn new(nodes: NodeTable, trash: Trash, storage_fd: OwnedFd, options: Options) -> GalleryFs {
        GalleryFs {
            nodes,
            space: Space::new(trash.usage().clone()),
            trash,
            storage_fd,
            files: Mutex::new(HashMap::new()),
            dirs: Mutex::new(HashMap::new()),
            next_handle: AtomicU64::new(1),
            invalidator: OnceLock::new(),
            can_chown: backing::geteuid() == 0,
            mounted_at: SystemTime::now(),
            options,
            desktop: Desktop::default(),
        }
    }

    pub fn set_invalidator(&self, invalidator: Box<dyn Invalidator>) {
        if self.invalidator.set(invalidator).is_err() {
            log::warn!("invalidator set twice");
        }
    }

    pub(crate) fn new_handle(&self) -> u64 {
        self.next_handle.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn invalidate(&self, what: Invalidation) {
        if let Some(inv) = self.invalidator.get() {
            inv.invalidate(what);
        }
    }

    pub fn trash(&self) -> &Trash {
        &self.trash
    }

    pub fn nodes(&self) -> &NodeTable {
        &self.nodes
    }

    // ---- attributes ------------------------------------------------------

    fn root_attr(&self) -> Attr {
        Attr {
            ino: ROOT,
            size: 4096,
            blocks: 8,
            atime: self.mounted_at,
            mtime: self.mounted_at,
            ctime: self.mounted_at,
            kind: libc::S_IFDIR,
            perm: 0o755,
            nlink: 4,
            uid: backing::geteuid(),
            gid: backing::getegid(),
            rdev: 0,
            blksize: 4096,
        }
    }

    fn attr_of(&self, node: NodeId, st: &Stat) -> Attr {
        let mut attr = Attr::from_stat(st);
        // fuser sends the node number as st_ino; see `inodes`.
        attr.ino = node;
        if node == TRASH {
            // Sticky and world-writable like /tmp: everyone may trash and
            // restore, but only their own entries.
            attr.perm = 0o1777;
            attr.uid = 0;
            attr.gid = 0;
        }
        attr
    }

    /// The entry the node belongs to if it is in the trash, with its expiry.
    fn owning_entry(&self, node: NodeId) -> FsResult<Option<trash::Entry>> {
        let path = self.nodes.relative_path(node)?;
        let top = path.split(|&b| b == b'/').next().unwrap_or_default();
        self.trash.lookup(top)
    }

    /// How long the kernel may cache a node at `place`: never past its entry's expiry.
    fn ttl_for(&self, place: Place, node: NodeId) -> FsResult<Duration> {
        match place {
            Place::TrashEntry | Place::InTrash => {
                let entry = self.owning_entry(node)?.ok_or(FsError::ENOENT)?;
                Ok(TTL.min(time_left(entry.expires_at)))
            }
            Place::Root | Place::TrashRoot => Ok(Duration::from_secs(1)),
            // A gallery name moved into .trash keeps this timeout: shorter
            // than the retention (less the second `deleted_at` rounds off),
            // so it lapses before the entry expires.
            _ => Ok(TTL.min(Duration::from_secs(
                self.trash.retention_secs().saturating_sub(1) as u64,
            ))),
        }
    }

    fn entry_for(&self, parent: NodeId, name: &OsStr, st: &Stat) -> FsResult<Entry> {
        let node = self.nodes.remember(parent, name, st);
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

    fn fixed_entry(&self, node: NodeId) -> FsResult<Entry> {
        let st = backing::fstat(self.nodes.dir_fd(node)?.as_fd())?;
        Ok(Entry {
            node,
            attr: self.attr_of(node, &st),
            ttl: Duration::from_secs(1),
            generation: 0,
        })
    }

    pub fn lookup(&self, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
        self.lookup_as(Caller { uid: 0, gid: 0 }, parent, name)
    }

    /// Looks `name` up in `parent` for `caller` (`.Trash-UID` depends on who asks).
    pub fn lookup_as(&self, caller: Caller, parent: NodeId, name: &OsStr) -> FsResult<Entry> {
        if let Some(view) = View::decode(parent).filter(|v| !matches!(v, View::Files(_))) {
            return self.desktop_lookup(view, name);
        }
        let place = self.nodes.place(parent)?.of_children();
        match (parent, place) {
            (ROOT, _) => match name.as_bytes() {
                b"gallery" => self.fixed_entry(GALLERY),
                b".trash" => self.fixed_entry(TRASH),
                _ => self.desktop_top_lookup(caller, name),
            },
            (_, Place::TrashEntry) => {
                self.live_in_trash(parent, name)?;
                let st = backing::fstatat(self.nodes.trash_fd().as_fd(), name)?;
                self.entry_for(parent, name, &st)
            }
            (_, place) => {
                if place == Place::InTrash && self.owning_entry(parent)?.is_none() {
                    return Err(FsError::ENOENT);
                }
                let dir = self.nodes.dir_fd(parent)?;
                let st = backing::fstatat(dir.as_fd(), name)?;
                self.entry_for(parent, name, &st)
            }
        }
    }

    pub fn forget(&self, node: NodeId, n: u64) {
        self.nodes.forget(node, n);
    }

    fn file(&self, fh: u64) -> FsResult<Arc<File>> {
        lock(&self.files).get(&fh).cloned().ok_or(FsError::EBADF)
    }

    pub fn getattr(&self, node: NodeId, fh: Option<u64>) -> FsResult<(Attr, Duration)> {
        if node == ROOT {
            return Ok((self.root_attr(), Duration::from_secs(1)));
        }
        if let Some(view) = View::decode(node) {
            return Ok((self.desktop_getattr(view)?, Duration::from_secs(1)));
        }
        let st = match fh.and_then(|fh| lock(&self.files).get(&fh).cloned()) {
            Some(file) => backing::fstat(file.as_fd())?,
            None => self.nodes.stat(node)?,
        };
        let place = self.nodes.place(node)?;
        let ttl = self.ttl_for(place, node).unwrap_or(Duration::ZERO);
        Ok((self.attr_of(node, &st), ttl))
    }

    /// Refuses changes anywhere but in the gallery.
    fn writable(&self, node: NodeId) -> FsResult<Place> {
        match self.nodes.place(node)? {
            Place::Root | Place::TrashRoot | Place::Desktop => Err(FsError::EPERM),
            Place::TrashEntry | Place::InTrash => Err(FsError::EROFS),
            place => Ok(place),
        }
    }

    /// A directory in which names may be created: the gallery only.
    fn writable_dir(&self, parent: NodeId) -> FsResult<()> {
        match self.nodes.place(parent)?.of_children() {
            Place::Gallery => Ok(()),
            Place::Root => Err(FsError::EPERM),
            _ => Err(FsError::EROFS),
        }
    }

    pub fn setattr(&self, node: NodeId, set: SetAttr, fh: Option<u64>) -> FsResult<Attr> {
        if let Some(view) = View::decode(node).filter(|v| !matches!(v, View::Files(_))) {
            return self.desktop_setattr(view, set);
        }
        // A file removed while open keeps working for whoever has it open
        // (it lives on in the trash): ftruncate through a handle, which the
        // kernel allows only on fds open for writing, which only the gallery
        // hands out, is not a change made through the trash.
        let through_handle = set.size.is_some()
            && fh.is_some()
            && set.mode.is_none()
            && set.uid.is_none()
            && set.gid.is_none();
        if !through_handle {
            self.writable(node)?;
        }
        if let Some(size) = set.size {
            match fh.and_then(|fh| lock(&self.files).get(&fh).cloned()) {
                Some(file) => self.truncate(file.as_fd(), size)?,
                None => {
                    let (fd, _) = self
                        .nodes
                        .open_file(node, libc::O_WRONLY | libc::O_NONBLOCK)?;
                    self.truncate(fd.as_fd(), size)?;
                }
            }
        }
        let (fd, _) = self.nodes.path_fd(node)?;
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
        Ok(self.attr_of(node, &backing::fstat(fd.as_fd())?))
    }

    pub fn readlink(&self, node: NodeId) -> FsResult<Vec<u8>> {
        let (fd, _) = self.nodes.path_fd(node)?;
        backing::readlinkat(fd.as_fd(), OsStr::new(""))
    }

    // ---- creating names --------------------------------------------------

    /// Gives a name galleryfs just created to the caller, as the kernel would
    /// have: owner = caller, group = caller's unless the directory is setgid.
    fn give_to_caller(
        &self,
        dir: &OwnedFd,
        name: &OsStr,
        caller: Caller,
        mode: u32,
    ) -> FsResult<()> {
        if !self.can_chown {
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
        &self,
        parent: NodeId,
        name: &OsStr,
        caller: Caller,
        mode: u32,
        mut make: impl FnMut(&OwnedFd) -> FsResult<()>,
    ) -> FsResult<Entry> {
        self.writable_dir(parent)?;
        let dir = self.nodes.dir_fd(parent)?;
        let _quota = self.space.reserve_for_node(mode)?;
        self.space.retry(self, space::BLOCK, || make(&dir))?;
        let finish = || -> FsResult<Entry> {
            self.give_to_caller(&dir, name, caller, mode)?;
            let st = backing::fstatat(dir.as_fd(), name)?;
            self.entry_for(parent, name, &st)
        };
        finish()
            .inspect(|e| self.space.added(e.attr.blocks * 512))
            .inspect_err(|_| {
                let _ = backing::unlinkat(dir.as_fd(), name, mode & libc::S_IFMT == libc::S_IFDIR);
            })
    }

    pub fn mkdir(
        &self,
        parent: NodeId,
        name: &OsStr,
        mode: u32,
        caller: Caller,
    ) -> FsResult<Entry> {
        if let Some(view) = View::decode(parent).filter(|v| !matches!(v, View::Files(_))) {
            return self.desktop_mkdir(view, name);
        }
        self.create_node(parent, name, caller, mode | libc::S_IFDIR, |dir| {
            backing::mkdirat(dir.as_fd(), name, mode & 0o7777)
        })
    }

    pub fn mknod(
        &self,
        parent: NodeId,
        name: &OsStr,
        mode: u32,
        rdev: u32,
        caller: Caller,
    ) -> FsResult<Entry> {
        self.create_node(parent, name, caller, mode, |dir| {
            backing::mknodat(dir.as_fd(), name, mode, rdev as u64)
        })
    }

    pub fn symlink(
        &self,
        parent: NodeId,
        name: &OsStr,
        target: &OsStr,
        caller: Caller,
    ) -> FsResult<Entry> {
        self.create_node(parent, name, caller, libc::S_IFLNK, |dir| {
            backing::symlinkat(target, dir.as_fd(), name)
        })
    }

    pub fn create(
        &self,
        parent: NodeId,
        name: &OsStr,
        mode: u32,
        flags: i32,
        caller: Caller,
    ) -> FsResult<(Entry, u64)> {
        if let Some(view) = View::decode(parent).filter(|v| !matches!(v, View::Files(_))) {
            return self.desktop_create(caller, view, name, mode, flags);
        }
        let flags = Self::backing_open_flags(flags) | libc::O_CREAT | libc::O_EXCL;
        let mut opened = None;
        let entry = self.create_node(parent, name, caller, mode | libc::S_IFREG, |dir| {
            opened = Some(backing::openat(dir.as_fd(), name, flags, mode & 0o7777)?);
            Ok(())
        })?;
        let fd = opened.ok_or(FsError::EIO)?;
        Ok((entry, self.add_file(File::from(fd))))
    }

    pub fn link(&self, node: NodeId, new_parent: NodeId, new_name: &OsStr) -> FsResult<Entry> {
        match self.nodes.place(node)? {
            Place::Gallery => {}
            // A new name would change the entry (its link count, its ctime),
            // and the trash is read-only except for restore, rename and purge.
            Place::TrashEntry | Place::InTrash => return Err(FsError::EROFS),
            _ => return Err(FsError::EPERM),
        }
        self.writable_dir(new_parent)?;
        let (src_parent, src_name) = self.nodes.link(node)?;
        let src_dir = self.nodes.dir_fd(src_parent)?;
        let key = self.nodes.key(node)?;
        let st = backing::fstatat(src_dir.as_fd(), &src_name)?;
        if crate::inodes::BackingKey::of(&st) != key {
            return Err(FsError::ESTALE);
        }
        let dst_dir = self.nodes.dir_fd(new_parent)?;
        self.space.retry(self, space::BLOCK, || {
            backing::linkat(src_dir.as_fd(), &src_name, dst_dir.as_fd(), new_name)
        })?;
        let st = backing::fstatat(dst_dir.as_fd(), new_name)?;
        self.entry_for(new_parent, new_name, &st)
    }

    // ---- removing names --------------------------------------------------

    fn original_path(&self, parent: NodeId, name: &OsStr) -> FsResult<Vec<u8>> {
        let dir = if parent == GALLERY {
            Vec::new()
        } else {
            self.nodes.relative_path(parent)?
        };
        Ok(join_path(&dir, name))
    }

    /// Checks that a name in `.trash/` or below is a live entry's.
    fn live_in_trash(&self, parent: NodeId, name: &OsStr) -> FsResult<()> {
        let live = if is_trash_dir(parent) {
            // In a `.Trash-UID/files` view, only that uid's entries exist.
            let owner = desktop::files_dir_owner(parent);
            self.trash
                .lookup(name.as_bytes())?
                .is_some_and(|e| owner.is_none_or(|uid| uid == e.row.uid))
        } else {
            self.owning_entry(parent)?.is_some()
        };
        if live { Ok(()) } else { Err(FsError::ENOENT) }
    }

    pub fn unlink(&self, parent: NodeId, name: &OsStr) -> FsResult<()> {
        if let Some(view) = View::decode(parent).filter(|v| !matches!(v, View::Files(_))) {
            return self.desktop_unlink(view, name);
        }
        let place = self.nodes.place(parent)?.of_children();
        match place {
            Place::Root => Err(FsError::EPERM),
            Place::Gallery => {
                let dir = self.nodes.dir_fd(parent)?;
                let st = backing::fstatat(dir.as_fd(), name)?;
                if backing::is_dir(&st) {
                    return Err(FsError::EISDIR);
                }
                if st.st_nlink > 1 {
                    // Another name keeps the data: a plain unlink loses nothing.
                    backing::unlinkat(dir.as_fd(), name, false)?;
                    self.nodes.unlinked(parent, name);
                    return Ok(());
                }
                let original = self.original_path(parent, name)?;
                let entry = self.space.retry(self, 0, || {
                    self.trash.put(dir.as_fd(), name, &original, &st)
                })?;
                self.nodes
                    .moved(parent, name, TRASH, OsStr::from_bytes(&entry));
                self.trash_changed(Some(st.st_uid));
                Ok(())
            }
            Place::TrashEntry => {
                let st = backing::fstatat(self.nodes.trash_fd().as_fd(), name)?;
                if backing::is_dir(&st) {
                    return Err(FsError::EISDIR);
                }
                self.purge_entry(parent, name, false)
            }
            _ => {
                self.live_in_trash(parent, name)?;
                let dir = self.nodes.dir_fd(parent)?;
                let st = backing::fstatat(dir.as_fd(), name)?;
                let pin = self.nodes.pin(parent, name);
                backing::unlinkat(dir.as_fd(), name, false)?;
                self.forget_name(parent, name, &st, pin);
                self.space_removed(place, parent, &st);
                Ok(())
            }
        }
    }

    /// `parent/name` (last stat `st`, `pin` from `NodeTable::pin` taken
    /// before) was removed for real.
    fn forget_name(
        &self,
        parent: NodeId,
        name: &OsStr,
        st: &Stat,
        pin: Option<crate::inodes::Pin>,
    ) {
        if st.st_nlink <= 1 || backing::is_dir(st) {
            self.nodes.destroyed_pinned(parent, name, pin);
        } else {
            self.nodes.unlinked(parent, name);
        }
    }

    pub fn rmdir(&self, parent: NodeId, name: &OsStr) -> FsResult<()> {
        if let Some(view) = View::decode(parent).filter(|v| !matches!(v, View::Files(_))) {
            return self.desktop_rmdir(view, name);
        }
        let place = self.nodes.place(parent)?.of_children();
        let dir = match place {
            Place::Root => return Err(FsError::EPERM),
            Place::TrashEntry => {
                let st = backing::fstatat(self.nodes.trash_fd().as_fd(), name)?;
                if !backing::is_dir(&st) {
                    return Err(FsError::ENOTDIR);
                }
                return self.purge_entry(parent, name, false);
            }
            Place::InTrash => {
                self.live_in_trash(parent, name)?;
                self.nodes.dir_fd(parent)?
            }
            _ => self.nodes.dir_fd(parent)?,
        };
        let st = backing::fstatat(dir.as_fd(), name);
        let pin = self.nodes.pin(parent, name);
        backing::unlinkat(dir.as_fd(), name, true)?;
        self.nodes.destroyed_pinned(parent, name, pin);
        if let Ok(st) = &st {
            self.space_removed(place, parent, st);
        }
        Ok(())
    }

    /// Deletes entry `name` of trash directory `parent` permanently: a file,
    /// an empty directory, or with `tree` a whole directory.
    pub(crate) fn purge_entry(&self, parent: NodeId, name: &OsStr, tree: bool) -> FsResult<()> {
        self.live_in_trash(parent, name)?;
        let st = backing::fstatat(self.nodes.trash_fd().as_fd(), name)?;
        let pin = self.nodes.pin(parent, name);
        let row = self.trash.purge(name.as_bytes(), tree)?;
        self.forget_name(parent, name, &st, pin);
        if let Some(row) = &row {
            self.desktop_left(parent, row);
            self.desktop_vanished(parent, row);
        }
        self.trash_changed(Some(st.st_uid));
        Ok(())
    }

    /// Something entered or left `.trash/` without the kernel seeing it
    /// there (nor in the `.Trash-UID` view of `uid`).
    fn trash_changed(&self, uid: Option<u32>) {
        self.invalidate(Invalidation::Inode(TRASH));
        self.desktop_changed(uid);
        self.space.after_change(self);
    }

    // ---- rename ----------------------------------------------------------

    pub fn rename(
        &self,
        parent: NodeId,
        name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
        flags: u32,
    ) -> FsResult<()> {
        if flags & libc::RENAME_WHITEOUT != 0 {
            return Err(FsError::EINVAL);
        }
        let from = self.nodes.place(parent)?.of_children();
        let to = self.nodes.place(new_parent)?.of_children();
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        match (from, to) {
            (Place::Root, _) | (_, Place::Root) => Err(FsError::EPERM),
            (Place::Desktop, _) | (_, Place::Desktop) => {
                if exchange {
                    return Err(FsError::EINVAL);
                }
                self.desktop_rename(parent, name, new_parent, new_name)
            }
            (Place::Gallery, Place::Gallery) => {
                let src = self.nodes.dir_fd(parent)?;
                self.rename_into_gallery(new_parent, new_name, flags, |dst| {
                    self.space.retry(self, space::BLOCK, || {
                        backing::renameat2(src.as_fd(), name, dst.as_fd(), new_name, flags)
                    })
                })?;
                self.moved(parent, name, new_parent, new_name, exchange);
                Ok(())
            }
            (Place::Gallery, Place::TrashEntry) => {
                if exchange {
                    return Err(FsError::EINVAL);
                }
                let src = self.nodes.dir_fd(parent)?;
                let st = backing::fstatat(src.as_fd(), name)?;
                let original = self.original_path(parent, name)?;
                self.space.retry(self, 0, || {
                    self.trash
                        .put_as(src.as_fd(), name, new_name.as_bytes(), &original, &st)
                })?;
                // The kernel keeps the moved dentry with its gallery timeout,
                // which `ttl_for` caps at the retention, so it lapses by the
                // entry's expiry. (No entry invalidation: it waits for the
                // directory's lock, and if galleryfs is killed while a request
                // holds that lock, the blocked thread keeps the dead daemon
                // and its mount hung.)
                self.nodes.moved(parent, name, new_parent, new_name);
                self.desktop_arrived(new_name);
                self.trash_changed(Some(st.st_uid));
                Ok(())
            }
            (Place::TrashEntry, Place::Gallery) => {
                if exchange {
                    return Err(FsError::EINVAL);
                }
                self.live_in_trash(parent, name)?;
                let entry = self.trash.lookup(name.as_bytes())?.ok_or(FsError::ENOENT)?;
                // A restored entry counts toward the quota again.
                let _quota = self.space.reserve(entry.row.size)?;
                self.rename_into_gallery(new_parent, new_name, flags, |dst| {
                    self.space.retry(self, space::BLOCK, || {
                        self.trash
                            .take_out(name.as_bytes(), dst.as_fd(), new_name, flags)
                    })
                })?;
                self.nodes.moved(parent, name, new_parent, new_name);
                self.desktop_left(parent, &entry.row);
                self.trash_changed(Some(entry.row.uid));
                self.desktop_vanished(parent, &entry.row);
                Ok(())
            }
            (Place::TrashEntry, Place::TrashEntry) => {
                if exchange {
                    return Err(FsError::EINVAL);
                }
                self.live_in_trash(parent, name)?;
                if name == new_name {
                    return Ok(());
                }
                self.trash.rename(name.as_bytes(), new_name.as_bytes())?;
                self.nodes.moved(parent, name, new_parent, new_name);
                self.trash_changed(None);
                Ok(())
            }
            (Place::InTrash, Place::Gallery) => {
                // Taking one piece out of a trashed directory: a partial restore.
                if exchange {
                    return Err(FsError::EINVAL);
                }
                self.live_in_trash(parent, name)?;
                let src = self.nodes.dir_fd(parent)?;
                let owner = self.owning_entry(parent)?.ok_or(FsError::ENOENT)?;
                let bytes = backing::tree_size(src.as_fd(), name)?;
                let _quota = self.space.reserve(bytes)?;
                self.rename_into_gallery(new_parent, new_name, flags, |dst| {
                    self.space.retry(self, space::BLOCK, || {
                        backing::renameat2(src.as_fd(), name, dst.as_fd(), new_name, flags)
                    })
                })?;
                self.nodes.moved(parent, name, new_parent, new_name);
                self.trash.shrink(owner.row.id, bytes, true)?;
                Ok(())
            }
            _ => Err(FsError::EROFS),
        }
    }

    fn moved(
        &self,
        parent: NodeId,
        name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
        exchange: bool,
    ) {
        if exchange {
            self.nodes.exchanged(parent, name, new_parent, new_name);
        } else {
            self.nodes.moved(parent, name, new_parent, new_name);
        }
    }

    /// Runs `rename`, which puts something at `new_parent/new_name` in the
    /// gallery. A file it replaces, unless other hard links keep its data, is
    /// first linked into the trash, so the rename stays atomic for readers and
    /// the file becomes a trash entry exactly when the rename succeeds.
    fn rename_into_gallery(
        &self,
        new_parent: NodeId,
        new_name: &OsStr,
        flags: u32,
        rename: impl FnOnce(&OwnedFd) -> FsResult<()>,
    ) -> FsResult<()> {
        let dst = self.nodes.dir_fd(new_parent)?;
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
        let original = self.original_path(new_parent, new_name)?;
        let stash = match self.trash.stash(dst.as_fd(), new_name, &original, &victim) {
            Ok(stash) => stash,
            // No hard links on this filesystem (or too many): move it aside instead.
            Err(FsError::EPERM) | Err(FsError::EMLINK) => {
                return self
                    .rename_after_put(new_parent, new_name, &dst, &original, &victim, rename);
            }
            Err(e) => return Err(e),
        };
        match rename(&dst) {
            Ok(()) => {
                let entry = self.trash.settle(stash)?;
                self.nodes
                    .moved(new_parent, new_name, TRASH, OsStr::from_bytes(&entry));
                self.trash_changed(None);
                Ok(())
            }
            Err(e) => {
                self.trash.unstash(stash)?;
                Err(e)
            }
        }
    }

    /// Fallback of `rename_into_gallery` where hard links are impossible: the
    /// replaced file goes to the trash first and comes back if the rename fails.
    fn rename_after_put(
        &self,
        new_parent: NodeId,
        new_name: &OsStr,
        dst: &OwnedFd,
        original: &[u8],
        victim: &Stat,
        rename: impl FnOnce(&OwnedFd) -> FsResult<()>,
    ) -> FsResult<()> {
        let entry = self.trash.put(dst.as_fd(), new_name, original, victim)?;
        match rename(dst) {
            Ok(()) => {
                self.nodes
                    .moved(new_parent, new_name, TRASH, OsStr::from_bytes(&entry));
                self.trash_changed(None);
                Ok(())
            }
            Err(e) => {
                self.trash
                    .take_out(&entry, dst.as_fd(), new_name, libc::RENAME_NOREPLACE)?;
                Err(e)
            }
        }
    }

    // ---- open files ------------------------------------------------------

    fn backing_open_flags(flags: i32) -> i32 {
        // The kernel already created/checked the name and handles O_DIRECT itself.
        flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOCTTY | libc::O_DIRECT)
    }

    fn add_file(&self, file: File) -> u64 {
        let fh = self.next_handle.fetch_add(1, Ordering::Relaxed);
        lock(&self.files).insert(fh, Arc::new(file));
        fh
    }

    pub fn open(&self, node: NodeId, flags: i32) -> FsResult<u64> {
        if let Some(view) = View::decode(node) {
            return self.desktop_open(view, flags);
        }
        let writes = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
        if writes && self.nodes.place(node)?.in_trash() {
            return Err(FsError::EROFS);
        }
        let (fd, _) = self
            .nodes
            .open_file(node, Self::backing_open_flags(flags))?;
        Ok(self.add_file(File::from(fd)))
    }

    /// The backing file of open handle `fh` (for kernel passthrough).
    pub fn open_file(&self, fh: u64) -> FsResult<Arc<File>> {
        self.file(fh)
    }

    /// Whether `fh` is a handle of the desktop view (no backing file).
    pub fn is_view_handle(&self, fh: u64) -> bool {
        self.desktop.is_handle(fh)
    }

    pub fn read(&self, fh: u64, offset: u64, size: u32) -> FsResult<Vec<u8>> {
        if let Some(result) = self.desktop_read(fh, offset, size) {
            return result;
        }
        let file = self.file(fh)?;
        let mut buf = vec![0u8; size as usize];
        let n = backing::pread_full(&file, &mut buf, offset)?;
        buf.truncate(n);
        Ok(buf)
    }

    pub fn write(&self, fh: u64, offset: u64, data: &[u8]) -> FsResult<u32> {
        if let Some(result) = self.desktop_write(fh, offset, data) {
            return result;
        }
        let file = self.file(fh)?;
        let len = data.len() as u64;
        let written = self
            .space
            .write_op(self, file.as_fd(), offset, len, true, || {
                write_some(&file, data, offset)
            })?;
        Ok(written as u32)
    }

    pub fn release(&self, fh: u64) {
        if self.desktop_release(fh) {
            return;
        }
        self.space.released(fh);
        lock(&self.files).remove(&fh);
    }

    pub fn fsync(&self, fh: u64, datasync: bool) -> FsResult<()> {
        if self.is_view_handle(fh) {
            return Ok(());
        }
        backing::fsync(self.file(fh)?.as_fd(), datasync)
    }

    pub fn fallocate(&self, fh: u64, offset: u64, length: u64, mode: i32) -> FsResult<()> {
        if self.is_view_handle(fh) {
            // GIO preallocates its info files; memory needs no reservation.
            return Ok(());
        }
        let file = self.file(fh)?;
        let frees = mode & (libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_COLLAPSE_RANGE) != 0;
        self.space
            .write_op(self, file.as_fd(), offset, length, !frees, || {
                backing::fallocate(file.as_fd(), mode, offset, length)
            })
    }

    pub fn lseek(&self, fh: u64, offset: i64, whence: i32) -> FsResult<i64> {
        backing::lseek(self.file(fh)?.as_fd(), offset, whence)
    }

    pub fn copy_file_range(
        &self,
        fh_in: u64,
        offset_in: u64,
        fh_out: u64,
        offset_out: u64,
        len: u64,
    ) -> FsResult<u32> {
        let (fin, fout) = (self.file(fh_in)?, self.file(fh_out)?);
        let len = len.min(u32::MAX as u64 / 2);
        let n = self
            .space
            .write_op(self, fout.as_fd(), offset_out, len, true, || {
                backing::copy_file_range(fin.as_fd(), offset_in, fout.as_fd(), offset_out, len)
            })?;
        Ok(n as u32)
    }

    // ---- directories -----------------------------------------------------

    fn add_listing(&self, listing: Listing) -> u64 {
        let fh = self.next_handle.fetch_add(1, Ordering::Relaxed);
        lock(&self.dirs).insert(fh, Arc::new(listing));
        fh
    }

    pub fn opendir(&self, node: NodeId) -> FsResult<u64> {
        let page = || Mutex::new((0, Vec::new()));
        match (node, View::decode(node)) {
            (ROOT, _) => return Ok(0),
            (TRASH, _) => return Ok(self.add_listing(Listing::Trash(None, page()))),
            (_, Some(View::Files(uid))) => {
                return Ok(self.add_listing(Listing::Trash(Some(uid), page())));
            }
            (_, Some(View::Top(_) | View::Info(_) | View::Expunged(_))) => return Ok(0),
            (_, Some(_)) => return Err(FsError::ENOTDIR),
            _ => {}
        }
        // Checked now, so a removed directory fails at open as it should.
        self.nodes.dir_fd(node)?;
        Ok(self.add_listing(Listing::Snapshot(node, Mutex::new(None))))
    }

    /// The names of gallery or trashed directory `node`, with `.` and `..`.
    fn list_dir(&self, node: NodeId) -> FsResult<Vec<DirItem>> {
        let fd = self.nodes.dir_fd(node)?;
        let mut items = vec![
            DirItem::new(".", 1, node, libc::S_IFDIR),
            DirItem::new("..", 2, 0, libc::S_IFDIR),
        ];
        for (i, e) in backing::read_dir(fd.as_fd())?.into_iter().enumerate() {
            let kind = match e.dtype {
                libc::DT_UNKNOWN => backing::fstatat(fd.as_fd(), &e.name)
                    .map_or(libc::S_IFREG, |st| backing::file_type(&st)),
                dtype => dtype_to_kind(dtype),
            };
            let ino = self.nodes.id_of_ino(e.ino);
            items.push(DirItem::new(e.name, i as u64 + 3, ino, kind));
        }
        Ok(items)
    }

    /// Whether the kernel may cache `node`'s listing across opens: yes where
    /// every change goes through the kernel, not in the root or `.trash`,
    /// whose contents change behind its back.
    pub fn listing_cacheable(&self, node: NodeId) -> bool {
        node != ROOT && node != TRASH && View::decode(node).is_none()
    }

    pub fn releasedir(&self, fh: u64) {
        lock(&self.dirs).remove(&fh);
    }

    /// Up to a batch of names after `offset`; empty at the end.
    pub fn readdir(&self, node: NodeId, fh: u64, offset: u64) -> FsResult<Vec<DirItem>> {
        if node == ROOT {
            let mut items = vec![
                DirItem::new(".", 1, ROOT, libc::S_IFDIR),
                DirItem::new("..", 2, ROOT, libc::S_IFDIR),
                DirItem::new("gallery", 3, GALLERY, libc::S_IFDIR),
            ];
            if self.trash.has_live_entries()? {
                items.push(DirItem::new(".trash", 4, TRASH, libc::S_IFDIR));
            }
            return Ok(items.into_iter().skip(offset as usize).collect());
        }
        if let Some(view) = View::decode(node).filter(|v| !matches!(v, View::Files(_))) {
            return self.desktop_readdir(view, offset);
        }
        let listing = lock(&self.dirs).get(&fh).cloned().ok_or(FsError::EBADF)?;
        match &*listing {
            Listing::Snapshot(dir, listed) => {
                const CHUNK: usize = 256;
                let items = {
                    let mut listed = lock(listed);
                    match &*listed {
                        Some(items) => items.clone(),
                        None => listed.insert(Arc::new(self.list_dir(*dir)?)).clone(),
                    }
                };
                Ok(items
                    .iter()
                    .skip(offset as usize)
                    .take(CHUNK)
                    .cloned()
                    .collect())
            }
            Listing::Trash(uid, page) => {
                let mut page = lock(page);
                let (start, items) = &mut *page;
                let cached = *start <= offset && items.last().is_some_and(|i| i.offset > offset);
                if !cached {
                    *items = self.read_trash(node, *uid, offset)?;
                    *start = offset;
                }
                Ok(items
                    .iter()
                    .filter(|i| i.offset > offset)
                    .cloned()
                    .collect())
            }
        }
    }

    /// Live entries of `.trash` after `offset`: offsets are row ids + 2 (after . and ..).
    fn read_trash(&self, dir: NodeId, uid: Option<u32>, offset: u64) -> FsResult<Vec<DirItem>> {
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
                None => self.trash.page(after, TRASH_PAGE)?,
                Some(uid) => self.trash.page_for_uid(uid, after, TRASH_PAGE)?,
            };
            for e in entries {
                let name = OsString::from_vec(e.row.name);
                let ino = match e.row.ino {
                    0 => match backing::fstatat(self.nodes.trash_fd().as_fd(), &name) {
                        Ok(st) => self.nodes.id_of(&st),
                        Err(_) => continue,
                    },
                    ino => self.nodes.id_of_ino(ino),
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

    /// The entry for one name of a readdirplus listing (a lookup reference,
    /// except for `.` and `..`, for which the kernel takes none).
    pub fn readdirplus_entry(&self, parent: NodeId, item: &DirItem) -> FsResult<Entry> {
        if item.name == "." || item.name == ".." {
            return Ok(Entry {
                node: parent,
                attr: self.root_attr(),
                ttl: Duration::ZERO,
                generation: 0,
            });
        }
        if let Some(view) = View::decode(parent).filter(|v| !matches!(v, View::Files(_))) {
            return self.desktop_lookup(view, &item.name);
        }
        match (is_trash_dir(parent), item.expires_at) {
            (true, Some(expires_at)) => {
                // The listing already knows the entry is live: skip the catalog.
                if expires_at <= trash::now_secs() {
                    return Err(FsError::ENOENT);
                }
                let st = backing::fstatat(self.nodes.trash_fd().as_fd(), &item.name)?;
                let node = self.nodes.remember(parent, &item.name, &st);
                let ttl = TTL.min(time_left(expires_at));
                Ok(Entry {
                    node,
                    attr: self.attr_of(node, &st),
                    ttl,
                    generation: self.nodes.generation(node),
                })
            }
            _ => self.lookup(parent, &item.name),
        }
    }

    // ---- extended attributes ---------------------------------------------

    fn entry_xattr(&self, node: NodeId, name: &str) -> FsResult<Vec<u8>> {
        let (_, entry_name) = self.nodes.link(node)?;
        let entry = self
            .trash
            .lookup(entry_name.as_bytes())?
            .ok_or(FsError::ENOENT)?;
        // The name the node was last known by may belong to another entry by
        // now: never describe an entry that is not this very inode.
        if entry.row.ino != 0 && entry.row.ino != self.nodes.key(node)?.ino {
            return Err(FsError::ENOENT);
        }
        Ok(match name {
            XATTR_ORIGINAL_PATH => entry.row.original_path.clone(),
            XATTR_DELETED_AT => rfc3339(entry.row.deleted_at).into_bytes(),
            XATTR_EXPIRES_AT => rfc3339(entry.expires_at).into_bytes(),
            XATTR_DAYS_LEFT => format!("{}d", entry.days_left(trash::now_secs())).into_bytes(),
            _ => return Err(FsError::ENODATA),
        })
    }

    /// The whole value of xattr `name`.
    pub fn getxattr(&self, node: NodeId, name: &OsStr) -> FsResult<Vec<u8>> {
        // `ls -l` asks every file for its ACL and SELinux label, two round
        // trips per file. Both are unsupported here (ACLs: see
        // `xattr_writable`; labels: SELinux is off), and saying so with
        // EOPNOTSUPP, not ENODATA, makes ls stop asking for the rest of the
        // device, which is what keeps `ls -l` of a big directory fast.
        if name.as_bytes().starts_with(b"system.posix_acl_")
            || (name == "security.selinux" && !selinux_enabled())
        {
            return Err(FsError::ENOTSUP);
        }
        if node == ROOT || View::decode(node).is_some() {
            return Err(FsError::ENODATA);
        }
        if node == TRASH
            && let Some(value) = self.space.xattr(name)
        {
            return value;
        }
        let place = self.nodes.place(node)?;
        if let Some(name) = name.to_str().filter(|n| n.starts_with(XATTR_PREFIX)) {
            return if place == Place::TrashEntry {
                self.entry_xattr(node, name)
            } else {
                Err(FsError::ENODATA)
            };
        }
        let (fd, _) = self.nodes.path_fd(node)?;
        loop {
            let len = backing::getxattr(fd.as_fd(), name, 0)?.len();
            match backing::getxattr(fd.as_fd(), name, len) {
                Err(FsError::ERANGE) => continue,
                r => return r,
            }
        }
    }

    /// All xattr names, NUL-terminated, as listxattr returns them.
    pub fn listxattr(&self, node: NodeId) -> FsResult<Vec<u8>> {
        if node == ROOT || View::decode(node).is_some() {
            return Ok(Vec::new());
        }
        let (fd, st) = self.nodes.path_fd(node)?;
        let mut names = backing::listxattr_all(fd.as_fd())?;
        // Linux lets nobody read `user.*` attributes of symlinks, fifos and
        // devices (the kernel answers ENODATA without asking us): listing
        // them there would name attributes no one can get.
        let kind = backing::file_type(&st);
        let can_carry = kind == libc::S_IFREG || kind == libc::S_IFDIR;
        if can_carry && self.nodes.place(node)? == Place::TrashEntry {
            for name in TRASH_XATTRS {
                names.extend_from_slice(name.as_bytes());
                names.push(0);
            }
        }
        if node == TRASH {
            self.space.list_xattrs(&mut names);
        }
        Ok(names)
    }

    fn xattr_writable(&self, node: NodeId, name: &OsStr) -> FsResult<()> {
        if node == ROOT || View::decode(node).is_some() {
            return Err(FsError::EPERM);
        }
        self.writable(node)?;
        let name = name.as_bytes();
        if name.starts_with(XATTR_PREFIX.as_bytes()) {
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

    pub fn setxattr(&self, node: NodeId, name: &OsStr, value: &[u8], flags: i32) -> FsResult<()> {
        self.xattr_writable(node, name)?;
        let (fd, _) = self.nodes.path_fd(node)?;
        backing::setxattr(fd.as_fd(), name, value, flags)
    }

    pub fn removexattr(&self, node: NodeId, name: &OsStr) -> FsResult<()> {
        self.xattr_writable(node, name)?;
        let (fd, _) = self.nodes.path_fd(node)?;
        backing::removexattr(fd.as_fd(), name)
    }

    // ---- the rest --------------------------------------------------------

    pub fn statfs(&self) -> FsResult<libc::statvfs> {
        Ok(self
            .space
            .statfs(backing::fstatvfs(self.storage_fd.as_fd())?))
    }

    pub fn read_only(&self) -> bool {
        self.options.read_only
    }

    /// Deletes expired entries, a batch at a time, telling the kernel.
    /// Returns how many went.
    pub fn expire(&self) -> FsResult<usize> {
        let mut total = 0;
        loop {
            let purged = self
                .trash
                .expire_batch_with(|row| self.nodes.pin(TRASH, OsStr::from_bytes(&row.name)))?;
            if purged.is_empty() {
                return Ok(total);
            }
            total += purged.len();
            for (row, pin) in purged {
                let name = OsString::from_vec(row.name.clone());
                log::info!(
                    "expired: {:?} (from gallery/{})",
                    name,
                    String::from_utf8_lossy(&row.original_path)
                );
                let in_view = self.nodes.destroyed(View::Files(row.uid).id(), &name);
                let child = self.nodes.destroyed_pinned(TRASH, &name, pin).or(in_view);
                match child {
                    Some(child) => self.invalidate(Invalidation::Delete(TRASH, child, name)),
                    None => self.invalidate(Invalidation::Entry(TRASH, name)),
                }
                self.desktop_expired(&row, child);
                self.desktop_changed(Some(row.uid));
            }
            self.trash_changed(None);
        }
    }

    /// Flushes the catalog; called at unmount.
    pub fn shutdown(&self) {
        lock(&self.files).clear();
        self.trash.close();
    }
}

/// Storage: the hooks of the space policy (`space`).
impl GalleryFs {
    /// Applies the `max_trash`, `min_retention` and `quota` options.
    pub fn set_space_policy(&self, policy: &space::Policy) -> FsResult<()> {
        let figures = space::Figures::of(&backing::fstatvfs(self.storage_fd.as_fd())?);
        self.space
            .configure(policy, figures, self.nodes.gallery_fd().as_fd())
    }

    pub fn space(&self) -> &Space {
        &self.space
    }

    /// Whether open file `fh` (flags `flags`) may be served by kernel
    /// passthrough, whose writes never reach galleryfs (see `space`).
    pub fn may_pass_through(&self, fh: u64, flags: i32) -> bool {
        self.space.may_pass_through(self, fh, flags)
    }

    fn truncate(&self, fd: std::os::fd::BorrowedFd<'_>, size: u64) -> FsResult<()> {
        self.space
            .write_op(self, fd, size, 0, false, || backing::ftruncate(fd, size))
    }

    /// `st`, a name in `parent` (whose children are at `place`), was removed
    /// for good: its bytes leave the gallery, or the trash entry holding it.
    fn space_removed(&self, place: Place, parent: NodeId, st: &Stat) {
        let last = backing::is_dir(st) || st.st_nlink <= 1;
        let bytes = if last { st.st_blocks as u64 * 512 } else { 0 };
        match place {
            Place::Gallery => self.space.removed(bytes),
            Place::InTrash => {
                let shrunk = self.owning_entry(parent).and_then(|owner| match owner {
                    Some(owner) => self.trash.shrink(owner.row.id, bytes, false),
                    None => Ok(()),
                });
                if let Err(e) = shrunk {
                    log::warn!("could not record the trash's new size: {e}");
                }
            }
            _ => {}
        }
    }
}

impl space::Host for GalleryFs {
    fn space(&self) -> &Space {
        &self.space
    }

    fn backing(&self) -> FsResult<space::Figures> {
        Ok(space::Figures::of(&backing::fstatvfs(
            self.storage_fd.as_fd(),
        )?))
    }

    fn oldest(&self, cutoff: i64, limit: usize) -> FsResult<Vec<crate::catalog::EntryRow>> {
        self.trash.oldest(cutoff, limit)
    }

    fn newest(&self) -> FsResult<Option<i64>> {
        self.trash.newest_id()
    }

    /// As `expire` does for an expired entry, telling the kernel and the
    /// desktop view; not `trash_changed`, which could purge again.
    fn purge(&self, row: &crate::catalog::EntryRow) -> FsResult<()> {
        let name = OsString::from_vec(row.name.clone());
        // Only that very row: a newer entry may have taken its name. No pin
        // here (see `NodeTable::pin`): a pinned inode keeps its blocks, and
        // this purge exists to free them now.
        self.trash.purge_row(row)?;
        let in_view = self.nodes.destroyed(View::Files(row.uid).id(), &name);
        let child = self.nodes.destroyed(TRASH, &name).or(in_view);
        match child {
            Some(child) => self.invalidate(Invalidation::Delete(TRASH, child, name)),
            None => self.invalidate(Invalidation::Entry(TRASH, name)),
        }
        self.desktop_expired(row, child);
        self.desktop_changed(Some(row.uid));
        self.invalidate(Invalidation::Inode(TRASH));
        Ok(())
    }
}

/// Writes `data` at `offset`, as much as fits: like write(2), a write that
/// stops part way (a full disk) reports the bytes written, so the caller's
/// count matches the file; an error comes back only if nothing was written.
fn write_some(file: &File, data: &[u8], offset: u64) -> FsResult<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < data.len() {
        match file.write_at(&data[done..], offset + done as u64) {
            Ok(0) if done == 0 => return Err(FsError::EIO),
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) if done > 0 => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

/// Whether the host enforces SELinux (then labels are real and passed through).
fn selinux_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::path::Path::new("/sys/fs/selinux/enforce").exists())
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

#[cfg(test)]
mod tests {
    //! The core driven directly, without FUSE: names go in, errnos come out.
    use super::*;
    use crate::store::Store;
    use std::fs;

    struct Core {
        _dir: tempfile::TempDir,
        root: std::path::PathBuf,
        fs: GalleryFs,
    }

    const ME: Caller = Caller { uid: 0, gid: 0 };

    fn core() -> Core {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let store = Store::open(&root).unwrap();
        let nodes = NodeTable::new(store.gallery_fd, store.trash_fd).unwrap();
        let trash = Trash::new(
            store.catalog,
            nodes.gallery_fd().clone(),
            nodes.trash_fd().clone(),
            store.purging_fd,
            Duration::from_secs(30 * 86_400),
        );
        let fs = GalleryFs::new(nodes, trash, store.storage_fd, Options { read_only: false });
        Core {
            _dir: dir,
            root,
            fs,
        }
    }

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    fn write_file(c: &Core, parent: NodeId, name: &str, data: &[u8]) -> NodeId {
        let (entry, fh) =
            c.fs.create(parent, os(name), 0o644, libc::O_WRONLY, ME)
                .unwrap();
        c.fs.write(fh, 0, data).unwrap();
        c.fs.release(fh);
        entry.node
    }

    #[test]
    fn unlink_in_the_gallery_makes_an_entry_with_xattrs() {
        let c = core();
        let dir = c.fs.mkdir(GALLERY, os("albums"), 0o755, ME).unwrap().node;
        let node = write_file(&c, dir, "cat.jpg", b"meow");
        c.fs.unlink(dir, os("cat.jpg")).unwrap();
        assert_eq!(
            c.fs.lookup(dir, os("cat.jpg")).unwrap_err(),
            FsError::ENOENT
        );
        let entry = c.fs.lookup(TRASH, os("cat.jpg")).unwrap();
        assert_eq!(entry.node, node, "same inode, same node");
        assert_eq!(
            c.fs.getxattr(entry.node, os(XATTR_ORIGINAL_PATH)).unwrap(),
            b"albums/cat.jpg"
        );
        assert_eq!(
            c.fs.getxattr(entry.node, os(XATTR_DAYS_LEFT)).unwrap(),
            b"30d"
        );
        let names = c.fs.listxattr(entry.node).unwrap();
        assert!(
            names
                .split(|&b| b == 0)
                .any(|n| n == XATTR_DELETED_AT.as_bytes())
        );
        assert_eq!(fs::read(c.root.join("trash/cat.jpg")).unwrap(), b"meow");
    }

    #[test]
    fn the_trash_is_read_only_and_the_root_is_not_writable() {
        let c = core();
        write_file(&c, GALLERY, "f", b"x");
        c.fs.unlink(GALLERY, os("f")).unwrap();
        let entry = c.fs.lookup(TRASH, os("f")).unwrap().node;
        assert_eq!(
            c.fs.open(entry, libc::O_WRONLY).unwrap_err(),
            FsError::EROFS
        );
        let chmod = SetAttr {
            mode: Some(0o600),
            ..SetAttr::default()
        };
        assert_eq!(
            c.fs.setattr(entry, chmod, None).unwrap_err(),
            FsError::EROFS
        );
        assert_eq!(
            c.fs.mkdir(TRASH, os("d"), 0o755, ME).unwrap_err(),
            FsError::EROFS
        );
        assert_eq!(
            c.fs.mkdir(ROOT, os("d"), 0o755, ME).unwrap_err(),
            FsError::EPERM
        );
        assert_eq!(
            c.fs.rename(ROOT, os("gallery"), ROOT, os("g"), 0)
                .unwrap_err(),
            FsError::EPERM
        );
        assert!(c.fs.open(entry, libc::O_RDONLY).is_ok());
    }

    #[test]
    fn rename_over_a_file_trashes_it_and_a_failed_rename_keeps_it() {
        let c = core();
        write_file(&c, GALLERY, "old", b"old");
        write_file(&c, GALLERY, "new", b"new");
        c.fs.mkdir(GALLERY, os("dir"), 0o755, ME).unwrap();
        write_file(&c, GALLERY, "dir2", b"not a dir");
        // A directory cannot replace a file: the target stays, the trash stays empty.
        assert_eq!(
            c.fs.rename(GALLERY, os("dir"), GALLERY, os("dir2"), 0)
                .unwrap_err(),
            FsError::ENOTDIR
        );
        assert!(c.fs.lookup(TRASH, os("dir2")).is_err());
        c.fs.rename(GALLERY, os("new"), GALLERY, os("old"), 0)
            .unwrap();
        assert_eq!(fs::read(c.root.join("gallery/old")).unwrap(), b"new");
        assert_eq!(fs::read(c.root.join("trash/old")).unwrap(), b"old");
        let entry = c.fs.lookup(TRASH, os("old")).unwrap().node;
        assert_eq!(
            c.fs.getxattr(entry, os(XATTR_ORIGINAL_PATH)).unwrap(),
            b"old"
        );
    }

    #[test]
    fn restore_replaces_and_trashes_what_was_there() {
        let c = core();
        write_file(&c, GALLERY, "p", b"first");
        c.fs.unlink(GALLERY, os("p")).unwrap();
        write_file(&c, GALLERY, "p", b"second");
        c.fs.rename(TRASH, os("p"), GALLERY, os("p"), 0).unwrap();
        assert_eq!(fs::read(c.root.join("gallery/p")).unwrap(), b"first");
        // "p" was still the restored entry's name when the replaced file was trashed.
        assert_eq!(fs::read(c.root.join("trash/p (2)")).unwrap(), b"second");
        // Into .trash under a taken name: EEXIST, nothing replaced.
        write_file(&c, GALLERY, "q", b"q");
        let taken = c.fs.rename(GALLERY, os("q"), TRASH, os("p (2)"), 0);
        assert_eq!(taken.unwrap_err(), FsError::EEXIST);
        assert_eq!(fs::read(c.root.join("trash/p (2)")).unwrap(), b"second");
    }

    #[test]
    fn hard_linked_files_are_unlinked_for_real() {
        let c = core();
        let node = write_file(&c, GALLERY, "a", b"data");
        c.fs.link(node, GALLERY, os("b")).unwrap();
        c.fs.unlink(GALLERY, os("a")).unwrap();
        assert!(
            c.fs.lookup(TRASH, os("a")).is_err(),
            "no entry while another link exists"
        );
        assert_eq!(c.fs.getattr(node, None).unwrap().0.nlink, 1);
        c.fs.unlink(GALLERY, os("b")).unwrap();
        assert!(c.fs.lookup(TRASH, os("b")).is_ok());
    }
}

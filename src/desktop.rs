//! The freedesktop.org Trash view: for the calling uid U, the mount root
//! resolves `.Trash-U/` with `files/` (U's entries of `.trash/`, same names)
//! and `info/NAME.trashinfo` (synthesized from the catalog), so GIO file
//! managers and trash-cli list, restore and empty the galleryfs trash.
//!
//! Nothing here is stored: files clients write (`info/*.trashinfo`, GIO's
//! temporary files, KDE's `directorysizes`) live in memory until the entry
//! they announce arrives, and `expunged/` is always empty because a move into
//! it purges at once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use chrono::{Local, TimeZone};

use crate::error::{FsError, FsResult};
use crate::fs::{Attr, Caller, DirItem, Entry, GalleryFs, Invalidation, SetAttr};
use crate::inodes::{NodeId, ROOT};

/// Node numbers of the view: a tag in the top byte, a uid or an id below.
const TAG_SHIFT: u32 = 56;
const TAG_TOP: u64 = 0xF1;
const TAG_FILES: u64 = 0xF2;
const TAG_INFO: u64 = 0xF3;
const TAG_EXPUNGED: u64 = 0xF4;
const TAG_INFO_FILE: u64 = 0xF5;
const TAG_CLIENT_FILE: u64 = 0xF6;
const LOW_BITS: u64 = (1 << TAG_SHIFT) - 1;

/// The kernel may not cache these names long: `.Trash-U` must be asked for
/// per uid, and the listings change behind its back.
const VIEW_TTL: Duration = Duration::from_secs(1);

pub const TRASHINFO_SUFFIX: &str = ".trashinfo";

/// Offsets of client files in `info/` listings, after every entry.
const CLIENT_OFFSET: u64 = 1 << 62;

/// How many info files of entries restored or purged through the view stay
/// readable (and unlinkable) until the client deletes them.
const MAX_TOMBSTONES: usize = 4096;

/// A node of the view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `.Trash-U`
    Top(u32),
    /// `.Trash-U/files`: the trash itself, U's entries only
    Files(u32),
    /// `.Trash-U/info`
    Info(u32),
    /// `.Trash-U/expunged` (gvfsd-trash's staging area for deletion)
    Expunged(u32),
    /// `info/NAME.trashinfo` of the entry with this catalog id
    InfoFile(i64),
    /// A file a client wrote
    ClientFile(u64),
}

impl View {
    pub fn decode(id: NodeId) -> Option<View> {
        let low = id & LOW_BITS;
        Some(match id >> TAG_SHIFT {
            TAG_TOP => View::Top(low as u32),
            TAG_FILES => View::Files(low as u32),
            TAG_INFO => View::Info(low as u32),
            TAG_EXPUNGED => View::Expunged(low as u32),
            TAG_INFO_FILE => View::InfoFile(low as i64),
            TAG_CLIENT_FILE => View::ClientFile(low),
            _ => return None,
        })
    }

    pub fn id(self) -> NodeId {
        let (tag, low) = match self {
            View::Top(uid) => (TAG_TOP, uid as u64),
            View::Files(uid) => (TAG_FILES, uid as u64),
            View::Info(uid) => (TAG_INFO, uid as u64),
            View::Expunged(uid) => (TAG_EXPUNGED, uid as u64),
            View::InfoFile(id) => (TAG_INFO_FILE, id as u64),
            View::ClientFile(id) => (TAG_CLIENT_FILE, id),
        };
        tag << TAG_SHIFT | (low & LOW_BITS)
    }
}

/// The uid whose `files/` view `id` is, if it is one.
pub fn files_dir_owner(id: NodeId) -> Option<u32> {
    match View::decode(id) {
        Some(View::Files(uid)) => Some(uid),
        _ => None,
    }
}

/// The uid in a `.Trash-UID` name.
pub fn top_dir_uid(name: &[u8]) -> Option<u32> {
    let digits = name.strip_prefix(b".Trash-")?;
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Percent-encodes a path as GIO and trash-cli do: everything but
/// unreserved characters and `/`.
pub fn percent_encode(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `.trashinfo` of an entry: `Path=` relative to the mount root, the
/// deletion date in local time, exactly as trash-cli and GIO parse it.
pub fn trashinfo(original_path: &[u8], deleted_at: i64) -> Vec<u8> {
    let date = Local
        .timestamp_opt(deleted_at, 0)
        .single()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default();
    let path = percent_encode(&[b"gallery/", original_path].concat());
    format!("[Trash Info]\nPath={path}\nDeletionDate={date}\n").into_bytes()
}

/// A file a client wrote into `.Trash-U/` or `info/`.
struct ClientFile {
    uid: u32,
    /// `Top(uid)` or `Info(uid)`.
    dir: View,
    name: OsString,
    data: Vec<u8>,
    mode: u32,
    mtime: SystemTime,
}

/// An info file that stays readable after its entry left through the view,
/// because every client unlinks it right after the move.
struct Tombstone {
    uid: u32,
    name: OsString,
    content: Vec<u8>,
}

/// What an open handle of the view reads.
enum Handle {
    Snapshot(Arc<Vec<u8>>),
    Client(u64),
}

/// The view's state: client files, tombstones, and when the trash changed.
pub struct Desktop {
    clients: Mutex<HashMap<u64, ClientFile>>,
    tombstones: Mutex<VecDeque<Tombstone>>,
    expunged: Mutex<HashSet<u32>>,
    /// Client info files that gave way to the synthesized one when their
    /// entry arrived (client file id, catalog id): the kernel may still
    /// reach them by node for up to `VIEW_TTL`, and must then read the entry's.
    arrived: Mutex<VecDeque<(u64, i64)>>,
    handles: Mutex<HashMap<u64, Handle>>,
    next_client: AtomicU64,
    changed_at: Mutex<SystemTime>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for Desktop {
    fn default() -> Desktop {
        Desktop {
            clients: Mutex::new(HashMap::new()),
            tombstones: Mutex::new(VecDeque::new()),
            expunged: Mutex::new(HashSet::new()),
            arrived: Mutex::new(VecDeque::new()),
            handles: Mutex::new(HashMap::new()),
            next_client: AtomicU64::new(1),
            changed_at: Mutex::new(SystemTime::now()),
        }
    }
}

impl Desktop {
    /// The trash changed: `files/` and `info/` get a new mtime, which is
    /// what gvfsd-trash watches.
    pub fn touch(&self) {
        *lock(&self.changed_at) = SystemTime::now();
    }

    fn changed_at(&self) -> SystemTime {
        *lock(&self.changed_at)
    }

    fn client(&self, dir: View, name: &OsStr) -> Option<u64> {
        lock(&self.clients)
            .iter()
            .find(|(_, f)| f.dir == dir && f.name == name)
            .map(|(&id, _)| id)
    }

    fn tombstone(&self, uid: u32, name: &OsStr) -> Option<Vec<u8>> {
        lock(&self.tombstones)
            .iter()
            .find(|t| t.uid == uid && t.name == name)
            .map(|t| t.content.clone())
    }

    fn bury(&self, uid: u32, entry: &[u8], content: Vec<u8>) {
        let mut tombstones = lock(&self.tombstones);
        let name = info_name(entry);
        tombstones.retain(|t| !(t.uid == uid && t.name == name));
        tombstones.push_back(Tombstone { uid, name, content });
        while tombstones.len() > MAX_TOMBSTONES {
            tombstones.pop_front();
        }
    }

    /// What a node of the view stands for now: a client info file that gave
    /// way to its entry's synthesized one stands for the latter.
    fn resolve(&self, view: View) -> View {
        if let View::ClientFile(id) = view
            && !lock(&self.clients).contains_key(&id)
            && let Some(&(_, entry)) = lock(&self.arrived).iter().find(|(c, _)| *c == id)
        {
            return View::InfoFile(entry);
        }
        view
    }

    pub fn is_handle(&self, fh: u64) -> bool {
        lock(&self.handles).contains_key(&fh)
    }
}

fn info_name(entry: &[u8]) -> OsString {
    OsString::from_vec([entry, TRASHINFO_SUFFIX.as_bytes()].concat())
}

/// The entry an info file name is about (`cat.jpg.trashinfo` → `cat.jpg`).
fn entry_of_info(name: &OsStr) -> Option<&[u8]> {
    name.as_bytes()
        .strip_suffix(TRASHINFO_SUFFIX.as_bytes())
        .filter(|e| !e.is_empty())
}

fn dir_attr(node: NodeId, uid: u32, gid: u32, mtime: SystemTime) -> Attr {
    Attr {
        ino: node,
        size: 4096,
        blocks: 8,
        atime: mtime,
        mtime,
        ctime: mtime,
        kind: libc::S_IFDIR,
        perm: 0o700,
        nlink: 2,
        uid,
        gid,
        rdev: 0,
        blksize: 4096,
    }
}

fn file_attr(node: NodeId, uid: u32, gid: u32, size: usize, perm: u16, mtime: SystemTime) -> Attr {
    Attr {
        ino: node,
        size: size as u64,
        blocks: (size as u64).div_ceil(512),
        atime: mtime,
        mtime,
        ctime: mtime,
        kind: libc::S_IFREG,
        perm,
        nlink: 1,
        uid,
        gid,
        rdev: 0,
        blksize: 4096,
    }
}

fn at(secs: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64)
}

impl GalleryFs {
    /// `.Trash-U` in the mount root, for U itself (and root).
    pub(crate) fn desktop_top_lookup(&self, caller: Caller, name: &OsStr) -> FsResult<Entry> {
        let uid = top_dir_uid(name.as_bytes()).ok_or(FsError::ENOENT)?;
        if caller.uid != uid && caller.uid != 0 {
            return Err(FsError::EACCES);
        }
        self.desktop_entry(View::Top(uid))
    }

    fn desktop_entry(&self, view: View) -> FsResult<Entry> {
        let attr = self.desktop_getattr(view)?;
        Ok(Entry {
            node: view.id(),
            attr,
            ttl: VIEW_TTL,
            generation: 0,
        })
    }

    pub(crate) fn desktop_getattr(&self, view: View) -> FsResult<Attr> {
        let changed = self.desktop.changed_at();
        let resolved = self.desktop.resolve(view);
        if resolved != view {
            let mut attr = self.desktop_getattr(resolved)?;
            attr.ino = view.id();
            return Ok(attr);
        }
        Ok(match view {
            View::Top(uid) | View::Files(uid) | View::Info(uid) | View::Expunged(uid) => {
                dir_attr(view.id(), uid, uid, changed)
            }
            View::InfoFile(id) => {
                let entry = self.trash().lookup_id(id)?.ok_or(FsError::ENOENT)?;
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
                let clients = lock(&self.desktop.clients);
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

    pub(crate) fn desktop_lookup(&self, parent: View, name: &OsStr) -> FsResult<Entry> {
        match parent {
            View::Top(uid) => match name.as_bytes() {
                b"files" => self.desktop_entry(View::Files(uid)),
                b"info" => self.desktop_entry(View::Info(uid)),
                b"expunged" if lock(&self.desktop.expunged).contains(&uid) => {
                    self.desktop_entry(View::Expunged(uid))
                }
                _ => {
                    let id = self.desktop.client(parent, name).ok_or(FsError::ENOENT)?;
                    self.desktop_entry(View::ClientFile(id))
                }
            },
            View::Info(uid) => {
                if let Some(id) = self.desktop.client(parent, name) {
                    return self.desktop_entry(View::ClientFile(id));
                }
                let entry = entry_of_info(name).ok_or(FsError::ENOENT)?;
                match self.trash().lookup(entry)? {
                    Some(e) if e.row.uid == uid => self.desktop_entry(View::InfoFile(e.row.id)),
                    _ => {
                        // Restored or purged through the view, not yet unlinked.
                        let content = self.desktop.tombstone(uid, name).ok_or(FsError::ENOENT)?;
                        let id = self.add_client(uid, parent, name, content, 0o600);
                        self.desktop
                            .tombstones
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .retain(|t| !(t.uid == uid && t.name == name));
                        self.desktop_entry(View::ClientFile(id))
                    }
                }
            }
            View::Expunged(_) => Err(FsError::ENOENT),
            View::Files(_) | View::InfoFile(_) | View::ClientFile(_) => Err(FsError::ENOTDIR),
        }
    }

    fn add_client(&self, uid: u32, dir: View, name: &OsStr, data: Vec<u8>, mode: u32) -> u64 {
        let id = self.desktop.next_client.fetch_add(1, Ordering::Relaxed);
        let file = ClientFile {
            uid,
            dir,
            name: name.to_os_string(),
            data,
            mode,
            mtime: SystemTime::now(),
        };
        lock(&self.desktop.clients).insert(id, file);
        id
    }

    /// The names of a view directory after `offset` (`files/` is listed by
    /// the trash listing; see `opendir`).
    pub(crate) fn desktop_readdir(&self, dir: View, offset: u64) -> FsResult<Vec<DirItem>> {
        let mut items = vec![
            DirItem::new(".", 1, dir.id(), libc::S_IFDIR),
            DirItem::new("..", 2, ROOT, libc::S_IFDIR),
        ];
        let clients = |items: &mut Vec<DirItem>| {
            for (&id, f) in lock(&self.desktop.clients).iter() {
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
                    "files",
                    3,
                    View::Files(uid).id(),
                    libc::S_IFDIR,
                ));
                items.push(DirItem::new("info", 4, View::Info(uid).id(), libc::S_IFDIR));
                if lock(&self.desktop.expunged).contains(&uid) {
                    items.push(DirItem::new(
                        "expunged",
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
                        let (entries, last) = self.trash().page_for_uid(uid, after, 1024)?;
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

    pub(crate) fn desktop_open(&self, view: View, flags: i32) -> FsResult<u64> {
        let handle = match self.desktop.resolve(view) {
            View::InfoFile(id) => {
                if flags & libc::O_ACCMODE != libc::O_RDONLY {
                    return Err(FsError::EACCES);
                }
                let entry = self.trash().lookup_id(id)?.ok_or(FsError::ENOENT)?;
                Handle::Snapshot(Arc::new(trashinfo(
                    &entry.row.original_path,
                    entry.row.deleted_at,
                )))
            }
            View::ClientFile(id) => {
                let mut clients = lock(&self.desktop.clients);
                let f = clients.get_mut(&id).ok_or(FsError::ENOENT)?;
                if flags & libc::O_TRUNC != 0 {
                    f.data.clear();
                }
                Handle::Client(id)
            }
            _ => return Err(FsError::EISDIR),
        };
        let fh = self.new_handle();
        lock(&self.desktop.handles).insert(fh, handle);
        Ok(fh)
    }

    /// Reads from a view handle; None if `fh` is not one.
    pub(crate) fn desktop_read(
        &self,
        fh: u64,
        offset: u64,
        size: u32,
    ) -> Option<FsResult<Vec<u8>>> {
        let handles = lock(&self.desktop.handles);
        let slice = |data: &[u8]| {
            let start = (offset as usize).min(data.len());
            let end = start.saturating_add(size as usize).min(data.len());
            data[start..end].to_vec()
        };
        Some(match handles.get(&fh)? {
            Handle::Snapshot(data) => Ok(slice(data)),
            Handle::Client(id) => match lock(&self.desktop.clients).get(id) {
                Some(f) => Ok(slice(&f.data)),
                None => Err(FsError::ENOENT),
            },
        })
    }

    /// Writes to a view handle; None if `fh` is not one.
    pub(crate) fn desktop_write(&self, fh: u64, offset: u64, data: &[u8]) -> Option<FsResult<u32>> {
        let handles = lock(&self.desktop.handles);
        Some(match handles.get(&fh)? {
            Handle::Snapshot(_) => Err(FsError::EBADF),
            Handle::Client(id) => match lock(&self.desktop.clients).get_mut(id) {
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

    /// Releases a view handle; false if `fh` is not one.
    pub(crate) fn desktop_release(&self, fh: u64) -> bool {
        lock(&self.desktop.handles).remove(&fh).is_some()
    }

    pub(crate) fn desktop_setattr(&self, view: View, set: SetAttr) -> FsResult<Attr> {
        match self.desktop.resolve(view) {
            View::ClientFile(id) => {
                let mut clients = lock(&self.desktop.clients);
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
        self.desktop_getattr(view)
    }

    /// Creating `info/NAME.trashinfo` claims NAME for the entry the client
    /// is about to move in (EEXIST if NAME is taken); other files (GIO's
    /// temporary files, KDE's directorysizes) are simply kept in memory.
    pub(crate) fn desktop_create(
        &self,
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
        if self.desktop.client(parent, name).is_some() {
            return Err(FsError::EEXIST);
        }
        if let (View::Info(_), Some(entry)) = (parent, entry_of_info(name))
            && !self.trash().reserve(entry)?
        {
            return Err(FsError::EEXIST);
        }
        let owner = if caller.uid == 0 { uid } else { caller.uid };
        let id = self.add_client(owner, parent, name, Vec::new(), mode & 0o7777);
        let entry = self.desktop_entry(View::ClientFile(id))?;
        let fh = self.desktop_open(View::ClientFile(id), flags & !libc::O_TRUNC)?;
        Ok((entry, fh))
    }

    pub(crate) fn desktop_mkdir(&self, parent: View, name: &OsStr) -> FsResult<Entry> {
        match (parent, name.as_bytes()) {
            (View::Top(uid), b"expunged") => {
                lock(&self.desktop.expunged).insert(uid);
                self.desktop_entry(View::Expunged(uid))
            }
            (View::Top(_), b"files" | b"info") => Err(FsError::EEXIST),
            _ => Err(FsError::EPERM),
        }
    }

    /// Unlinking an info file: a client's own is dropped (and its claim on
    /// the name released); an entry's is a no-op, since galleryfs keeps the
    /// metadata itself.
    pub(crate) fn desktop_unlink(&self, parent: View, name: &OsStr) -> FsResult<()> {
        if let Some(id) = self.desktop.client(parent, name) {
            lock(&self.desktop.clients).remove(&id);
            if let (View::Info(_), Some(entry)) = (parent, entry_of_info(name))
                && self.trash().lookup(entry)?.is_none()
            {
                self.trash().unreserve(entry);
            }
            return Ok(());
        }
        match parent {
            // Clients unlink the info file after restoring or purging through
            // files/, and galleryfs keeps the metadata itself: always a no-op.
            View::Info(uid) if entry_of_info(name).is_some() => {
                lock(&self.desktop.tombstones).retain(|t| !(t.uid == uid && t.name == name));
                Ok(())
            }
            View::Info(_) => Err(FsError::ENOENT),
            View::Top(_) | View::Expunged(_) => Err(FsError::ENOENT),
            _ => Err(FsError::ENOTDIR),
        }
    }

    pub(crate) fn desktop_rmdir(&self, parent: View, name: &OsStr) -> FsResult<()> {
        match (parent, name.as_bytes()) {
            (View::Top(uid), b"expunged") => {
                lock(&self.desktop.expunged).remove(&uid);
                Ok(())
            }
            (View::Top(_), b"files" | b"info") => Err(FsError::EPERM),
            _ => Err(FsError::ENOENT),
        }
    }

    /// Renames that involve the view outside `files/` (which is the trash
    /// itself and handled as such): client files within a directory, and
    /// `files/NAME → expunged/K`, which purges the entry at once.
    pub(crate) fn desktop_rename(
        &self,
        parent: NodeId,
        name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
    ) -> FsResult<()> {
        let from = View::decode(parent);
        let to = View::decode(new_parent);
        match (from, to) {
            (Some(View::Files(uid)), Some(View::Expunged(_))) => {
                let entry = self
                    .trash()
                    .lookup(name.as_bytes())?
                    .ok_or(FsError::ENOENT)?;
                if entry.row.uid != uid {
                    return Err(FsError::ENOENT);
                }
                self.purge_entry(parent, name, true)?;
                Ok(())
            }
            (Some(from @ (View::Top(_) | View::Info(_))), Some(to)) if from == to => {
                let id = self.desktop.client(from, name).ok_or(FsError::ENOENT)?;
                let mut clients = lock(&self.desktop.clients);
                // Replacing a client file (GIO renames its temporary file over
                // the info file it created) drops the old one; its claim stays.
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
            _ => Err(FsError::EPERM),
        }
    }

    /// Entry `name` arrived: an info file a client wrote to announce it gives
    /// way to the one galleryfs synthesizes from the catalog.
    ///
    /// The kernel may still hold the client file's node (a cached dentry of
    /// `info/NAME.trashinfo`, valid for `VIEW_TTL`): it keeps answering with
    /// the entry's info file until the kernel has dropped the name, so a
    /// client listing the trash right after `gio trash` or `trash-put` never
    /// sees the info file vanish.
    pub(crate) fn desktop_arrived(&self, name: &OsStr) {
        let info = info_name(name.as_bytes());
        let mut gone = Vec::new();
        lock(&self.desktop.clients).retain(|&id, f| match f.dir {
            View::Info(uid) if f.name == info => {
                gone.push((id, uid));
                false
            }
            _ => true,
        });
        if gone.is_empty() {
            return;
        }
        if let Ok(Some(entry)) = self.trash().lookup(name.as_bytes()) {
            let mut arrived = lock(&self.desktop.arrived);
            for &(id, _) in &gone {
                arrived.push_back((id, entry.row.id));
            }
            while arrived.len() > MAX_TOMBSTONES {
                arrived.pop_front();
            }
        }
        for (_, uid) in gone {
            self.invalidate(Invalidation::Entry(View::Info(uid).id(), info.clone()));
        }
    }

    /// An entry left the trash through `files/` (restore or purge by a
    /// desktop client): its info file stays until the client unlinks it.
    pub(crate) fn desktop_left(&self, parent: NodeId, row: &crate::catalog::EntryRow) {
        if let Some(uid) = files_dir_owner(parent) {
            self.desktop.bury(
                uid,
                &row.name,
                trashinfo(&row.original_path, row.deleted_at),
            );
        }
    }

    /// An entry left the trash (restored or purged) through `parent`: the
    /// kernel may still hold its name in the other directory that shows it
    /// (`.trash/` or its owner's `files/`), which must not outlive it.
    pub(crate) fn desktop_vanished(&self, parent: NodeId, row: &crate::catalog::EntryRow) {
        let name = OsString::from_vec(row.name.clone());
        for dir in [crate::inodes::TRASH, View::Files(row.uid).id()] {
            if dir != parent {
                self.invalidate(Invalidation::Entry(dir, name.clone()));
            }
        }
    }

    /// Tells the kernel that U's view changed behind its back.
    pub(crate) fn desktop_changed(&self, uid: Option<u32>) {
        self.desktop.touch();
        if let Some(uid) = uid {
            self.invalidate(Invalidation::Inode(View::Files(uid).id()));
            self.invalidate(Invalidation::Inode(View::Info(uid).id()));
        }
    }

    /// An entry expired: it vanishes from U's `files/` and `info/` too.
    pub(crate) fn desktop_expired(&self, row: &crate::catalog::EntryRow, node: Option<NodeId>) {
        let files = View::Files(row.uid).id();
        let name = OsString::from_vec(row.name.clone());
        match node {
            Some(child) => self.invalidate(Invalidation::Delete(files, child, name.clone())),
            None => self.invalidate(Invalidation::Entry(files, name.clone())),
        }
        let info = View::Info(row.uid).id();
        let child = View::InfoFile(row.id).id();
        self.invalidate(Invalidation::Delete(info, child, info_name(&row.name)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_numbers_round_trip() {
        for view in [
            View::Top(1000),
            View::Files(0),
            View::Info(u32::MAX),
            View::Expunged(7),
            View::InfoFile(123_456),
            View::ClientFile(9),
        ] {
            assert_eq!(View::decode(view.id()), Some(view));
        }
        assert_eq!(View::decode(42), None);
        assert_eq!(
            View::decode(1 << 63),
            None,
            "not a synthetic inode number of another device"
        );
    }

    #[test]
    fn trash_dir_names() {
        assert_eq!(top_dir_uid(b".Trash-1000"), Some(1000));
        assert_eq!(top_dir_uid(b".Trash-0"), Some(0));
        assert_eq!(top_dir_uid(b".Trash-"), None);
        assert_eq!(top_dir_uid(b".Trash-1x"), None);
        assert_eq!(top_dir_uid(b".Trash"), None);
        assert_eq!(top_dir_uid(b".Trash-99999999999"), None);
    }

    #[test]
    fn trashinfo_is_what_trash_cli_parses() {
        assert_eq!(
            percent_encode(b"albums/cat photo.jpg"),
            "albums/cat%20photo.jpg"
        );
        assert_eq!(percent_encode("é%&".as_bytes()), "%C3%A9%25%26");
        let text = String::from_utf8(trashinfo(b"a b/c.jpg", 1_764_190_000)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "[Trash Info]");
        assert_eq!(lines[1], "Path=gallery/a%20b/c.jpg");
        let date = lines[2].strip_prefix("DeletionDate=").unwrap();
        assert!(
            chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%S").is_ok(),
            "{date}"
        );
        assert_eq!(date.len(), 19);
    }

    #[test]
    fn info_names() {
        assert_eq!(
            entry_of_info(OsStr::new("cat.jpg.trashinfo")),
            Some(&b"cat.jpg"[..])
        );
        assert_eq!(entry_of_info(OsStr::new(".trashinfo")), None);
        assert_eq!(entry_of_info(OsStr::new("cat.jpg.trashinfo.ABC123")), None);
    }
}

//! The desktop view's own state (see `desktop`): files clients wrote (kept in memory only),
//! info files of entries that left through the view, and when the trash
//! last changed; and the attributes of the view's nodes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::contract;
pub(in crate::fs) use crate::contract::{top_dir_uid, trashinfo};
use crate::fs::types::Attr;
use crate::node::{NodeId, View};
use crate::sync::lock;

/// The kernel may not cache these names long: `.Trash-U` must be asked for
/// per uid, and the listings change behind its back.
pub(in crate::fs) const VIEW_TTL: Duration = Duration::from_secs(1);

/// Offsets of client files in `info/` listings, after every entry.
pub(in crate::fs) const CLIENT_OFFSET: u64 = 1 << 62;

/// How many info files of entries restored or purged through the view stay
/// readable (and unlinkable) until the client deletes them.
pub(in crate::fs) const MAX_TOMBSTONES: usize = 4096;

/// A file a client wrote into `.Trash-U/` or `info/`.
pub(in crate::fs) struct ClientFile {
    pub(in crate::fs) uid: u32,
    /// `Top(uid)` or `Info(uid)`.
    pub(in crate::fs) dir: View,
    pub(in crate::fs) name: OsString,
    pub(in crate::fs) data: Vec<u8>,
    pub(in crate::fs) mode: u32,
    pub(in crate::fs) mtime: SystemTime,
}

/// An info file that stays readable after its entry left through the view,
/// because every client unlinks it right after the move.
pub(in crate::fs) struct Tombstone {
    /// The catalog id its entry had: the kernel may still hold the info
    /// file by that node (`View::InfoFile`).
    entry_id: i64,
    uid: u32,
    name: OsString,
    content: Vec<u8>,
}

/// The view's state: client files, tombstones, and when the trash changed.
pub(in crate::fs) struct ViewState {
    pub(in crate::fs) clients: Mutex<HashMap<u64, ClientFile>>,
    pub(in crate::fs) tombstones: Mutex<VecDeque<Tombstone>>,
    pub(in crate::fs) expunged: Mutex<HashSet<u32>>,
    /// Client info files that gave way to the synthesized one when their
    /// entry arrived (client file id, catalog id): the kernel may still
    /// reach them by node for up to `VIEW_TTL`, and must then read the entry's.
    pub(in crate::fs) arrived: Mutex<VecDeque<(u64, i64)>>,
    pub(in crate::fs) next_client: AtomicU64,
    pub(in crate::fs) changed_at: Mutex<SystemTime>,
}

impl Default for ViewState {
    fn default() -> ViewState {
        ViewState {
            clients: Mutex::new(HashMap::new()),
            tombstones: Mutex::new(VecDeque::new()),
            expunged: Mutex::new(HashSet::new()),
            arrived: Mutex::new(VecDeque::new()),
            next_client: AtomicU64::new(1),
            changed_at: Mutex::new(SystemTime::now()),
        }
    }
}

impl ViewState {
    /// Keeps a file a client wrote; returns its id.
    pub(in crate::fs) fn add_client(
        &self,
        uid: u32,
        dir: View,
        name: &OsStr,
        data: Vec<u8>,
        mode: u32,
    ) -> u64 {
        let id = self.next_client.fetch_add(1, Ordering::Relaxed);
        let file = ClientFile {
            uid,
            dir,
            name: name.to_os_string(),
            data,
            mode,
            mtime: SystemTime::now(),
        };
        lock(&self.clients).insert(id, file);
        id
    }

    /// The trash changed: `files/` and `info/` get a new mtime, which is
    /// what gvfsd-trash watches.
    pub(in crate::fs) fn touch(&self) {
        *lock(&self.changed_at) = SystemTime::now();
    }

    pub(in crate::fs) fn changed_at(&self) -> SystemTime {
        *lock(&self.changed_at)
    }

    pub(in crate::fs) fn client(&self, dir: View, name: &OsStr) -> Option<u64> {
        lock(&self.clients)
            .iter()
            .find(|(_, f)| f.dir == dir && f.name == name)
            .map(|(&id, _)| id)
    }

    pub(in crate::fs) fn tombstone(&self, uid: u32, name: &OsStr) -> Option<Vec<u8>> {
        lock(&self.tombstones)
            .iter()
            .find(|t| t.uid == uid && t.name == name)
            .map(|t| t.content.clone())
    }

    /// The tombstone of the entry that had catalog id `entry_id`: (uid, content).
    pub(in crate::fs) fn tombstone_of(&self, entry_id: i64) -> Option<(u32, Vec<u8>)> {
        lock(&self.tombstones)
            .iter()
            .find(|t| t.entry_id == entry_id)
            .map(|t| (t.uid, t.content.clone()))
    }

    pub(in crate::fs) fn bury(&self, uid: u32, entry_id: i64, entry: &[u8], content: Vec<u8>) {
        let mut tombstones = lock(&self.tombstones);
        let name = info_name(entry);
        tombstones.retain(|t| !(t.uid == uid && t.name == name));
        tombstones.push_back(Tombstone {
            entry_id,
            uid,
            name,
            content,
        });
        while tombstones.len() > MAX_TOMBSTONES {
            tombstones.pop_front();
        }
    }

    /// Forgets the tombstone `info/NAME` of uid's view.
    pub(in crate::fs) fn unbury(&self, uid: u32, name: &OsStr) {
        lock(&self.tombstones).retain(|t| !(t.uid == uid && t.name == name));
    }

    /// Entry `name` arrived: the client info files that announced it give
    /// way to the synthesized one (see `events`); returns their (id, uid).
    pub(in crate::fs) fn take_announcements(&self, name: &[u8]) -> Vec<(u64, u32)> {
        let info = info_name(name);
        let mut gone = Vec::new();
        lock(&self.clients).retain(|&id, f| match f.dir {
            View::Info(uid) if f.name == info => {
                gone.push((id, uid));
                false
            }
            _ => true,
        });
        gone
    }

    /// The client files `ids` now stand for entry `entry`'s info file, for
    /// as long as the kernel may still reach them by node.
    pub(in crate::fs) fn stand_for(&self, ids: impl Iterator<Item = u64>, entry: i64) {
        let mut arrived = lock(&self.arrived);
        arrived.extend(ids.map(|id| (id, entry)));
        while arrived.len() > MAX_TOMBSTONES {
            arrived.pop_front();
        }
    }

    /// What a node of the view stands for now: a client info file that gave
    /// way to its entry's synthesized one stands for the latter.
    pub(in crate::fs) fn resolve(&self, view: View) -> View {
        if let View::ClientFile(id) = view
            && !lock(&self.clients).contains_key(&id)
            && let Some(&(_, entry)) = lock(&self.arrived).iter().find(|(c, _)| *c == id)
        {
            return View::InfoFile(entry);
        }
        view
    }
}

pub(in crate::fs) fn info_name(entry: &[u8]) -> OsString {
    OsString::from_vec(contract::info_name(entry))
}

/// The entry an info file name is about (`cat.jpg.trashinfo` → `cat.jpg`).
pub(in crate::fs) fn entry_of_info(name: &OsStr) -> Option<&[u8]> {
    contract::entry_of_info(name.as_bytes())
}

pub(in crate::fs) fn dir_attr(node: NodeId, uid: u32, gid: u32, mtime: SystemTime) -> Attr {
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

pub(in crate::fs) fn file_attr(
    node: NodeId,
    uid: u32,
    gid: u32,
    size: usize,
    perm: u16,
    mtime: SystemTime,
) -> Attr {
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

//! The desktop view's own state: files clients wrote (kept in memory only),
//! info files of entries that left through the view, and when the trash
//! last changed. Also the `.trashinfo` format and the view's attributes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{Local, TimeZone};

use crate::fs::types::Attr;
use crate::node::{NodeId, View};
use crate::sync::lock;

/// The kernel may not cache these names long: `.Trash-U` must be asked for
/// per uid, and the listings change behind its back.
pub(in crate::fs) const VIEW_TTL: Duration = Duration::from_secs(1);

pub const TRASHINFO_SUFFIX: &str = ".trashinfo";

/// Offsets of client files in `info/` listings, after every entry.
pub(in crate::fs) const CLIENT_OFFSET: u64 = 1 << 62;

/// How many info files of entries restored or purged through the view stay
/// readable (and unlinkable) until the client deletes them.
pub(in crate::fs) const MAX_TOMBSTONES: usize = 4096;

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
    uid: u32,
    name: OsString,
    content: Vec<u8>,
}

/// The view's state: client files, tombstones, and when the trash changed.
pub(in crate::fs) struct Desktop {
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

impl Default for Desktop {
    fn default() -> Desktop {
        Desktop {
            clients: Mutex::new(HashMap::new()),
            tombstones: Mutex::new(VecDeque::new()),
            expunged: Mutex::new(HashSet::new()),
            arrived: Mutex::new(VecDeque::new()),
            next_client: AtomicU64::new(1),
            changed_at: Mutex::new(SystemTime::now()),
        }
    }
}

impl Desktop {
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

    pub(in crate::fs) fn bury(&self, uid: u32, entry: &[u8], content: Vec<u8>) {
        let mut tombstones = lock(&self.tombstones);
        let name = info_name(entry);
        tombstones.retain(|t| !(t.uid == uid && t.name == name));
        tombstones.push_back(Tombstone { uid, name, content });
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
    OsString::from_vec([entry, TRASHINFO_SUFFIX.as_bytes()].concat())
}

/// The entry an info file name is about (`cat.jpg.trashinfo` → `cat.jpg`).
pub(in crate::fs) fn entry_of_info(name: &OsStr) -> Option<&[u8]> {
    name.as_bytes()
        .strip_suffix(TRASHINFO_SUFFIX.as_bytes())
        .filter(|e| !e.is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;

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

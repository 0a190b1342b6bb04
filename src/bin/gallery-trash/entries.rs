//! Trash entries as seen through the mount: readdir of `.trash`, lstat, and
//! the `user.trash.*` attributes galleryfs synthesizes (on the entry, or for
//! a symlink, FIFO, socket or device, which the kernel refuses `user.*`
//! attributes, on its `.Trash-UID/info/NAME.trashinfo`); plus a directory
//! entry's total size, walked with lstat. Never touches STORAGE.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::{self, FileType, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use galleryfs::contract::{self, Reason};

use crate::mounts::Galleryfs;
use crate::syscalls;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    Block,
    Char,
}

impl Kind {
    fn of(ft: FileType) -> Kind {
        if ft.is_dir() {
            Kind::Dir
        } else if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_fifo() {
            Kind::Fifo
        } else if ft.is_socket() {
            Kind::Socket
        } else if ft.is_block_device() {
            Kind::Block
        } else if ft.is_char_device() {
            Kind::Char
        } else {
            Kind::File
        }
    }

    /// The `kind` of the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Fifo => "fifo",
            Kind::Socket => "socket",
            Kind::Block => "block",
            Kind::Char => "char",
        }
    }
}

/// The parts of lstat gallery-trash uses (a plain struct, so tests can make one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stat {
    pub kind: Kind,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits, including set-id and sticky bits.
    pub mode: u32,
    pub len: u64,
    /// Status change time: when galleryfs moved the entry into the trash.
    pub ctime: (i64, i64),
}

impl From<&Metadata> for Stat {
    fn from(m: &Metadata) -> Stat {
        Stat {
            kind: Kind::of(m.file_type()),
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
            len: m.len(),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

pub(crate) fn lstat(path: &Path) -> io::Result<Stat> {
    fs::symlink_metadata(path).map(|m| Stat::from(&m))
}

/// Why an entry's original path is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unknown {
    /// Neither the entry nor its info file carries the attributes (a
    /// galleryfs that serves none on info files, for a symlink, FIFO,
    /// socket or device).
    NoAttributes,
    /// Another user's entry that we may not read.
    PermissionDenied,
    /// Any other error, described.
    Failed(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: OsString,
    /// The entry's absolute path through the mount.
    pub path: PathBuf,
    pub stat: Stat,
    /// Relative to `gallery/`, as bytes.
    pub original_path: Result<Vec<u8>, Unknown>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub days_left: Option<i64>,
    /// Why it is in the trash; None when unreadable (no attributes, another
    /// user's private entry, a daemon without the attribute, a value this
    /// version does not know).
    pub reason: Option<Reason>,
    /// The command (thread) that put it in the trash, `(pid, start time)`:
    /// entries with the same one came from one command. None when galleryfs
    /// does not know it (nor for entries without attributes or unreadable).
    pub deleted_by: Option<Deleter>,
    /// A program's temporary file (`user.trash.litter`): short-lived, and
    /// left out of listings unless asked for.
    pub litter: bool,
}

/// A deleting thread as `user.trash.deleted_by` names it: its id and its
/// start time in clock ticks since boot (`contract::parse_deleter`).
pub(crate) type Deleter = (u32, u64);

/// An entry with the total size of its tree.
#[derive(Debug, Clone)]
pub(crate) struct Measured {
    pub entry: Entry,
    pub size: u64,
}

/// Every entry of the trash, in readdir order (litter too). Entries that
/// vanish while being read (purged or expired meanwhile) are left out.
pub(crate) fn read_all(fs: &Galleryfs) -> io::Result<Vec<Entry>> {
    match read_pages(fs) {
        Some(entries) => entries,
        None => read_each(fs),
    }
}

/// The whole listing in pages of `.trash` (`contract::listing`); None if
/// the mount serves none (an older galleryfs), so each entry is asked.
/// A thread asks for each page while the one before is decoded here.
fn read_pages(fs: &Galleryfs) -> Option<io::Result<Vec<Entry>>> {
    let dir = fs.trash_dir();
    let (pages, arrived) = std::sync::mpsc::sync_channel(4);
    std::thread::scope(|scope| {
        scope.spawn(|| fetch_pages(&dir, pages));
        let mut entries = Vec::new();
        for (i, (name, page)) in arrived.into_iter().enumerate() {
            let value = match page {
                Ok(value) => value,
                Err(e) if i == 0 && unknown(&e) == Unknown::NoAttributes => return None,
                Err(e) => return Some(Err(e)),
            };
            let Some((_, records)) = contract::listing::decode(&value) else {
                return Some(Err(io::Error::other(format!(
                    "galleryfs sent a listing page gallery-trash cannot read ({name})"
                ))));
            };
            for record in records {
                let name = OsStr::from_bytes(&record.name).to_owned();
                match from_record(fs, record) {
                    Some(entry) => entries.push(entry),
                    // Another user's entry: the kernel decides what we may read.
                    None => match read_at(fs, &name) {
                        Ok(entry) => entries.push(entry),
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Some(Err(e)),
                    },
                }
            }
        }
        Some(Ok(entries))
    })
}

/// Reads the pages of `.trash` at `dir` in order into `pages` (each with
/// its attribute name), up to the last, the first that fails, or one that
/// is no page; stops early once nobody takes them.
fn fetch_pages(dir: &Path, pages: std::sync::mpsc::SyncSender<(String, io::Result<Vec<u8>>)>) {
    use contract::listing::{PAGE_BUFFER, XATTR_ENTRIES_PAGE, next_cursor};
    let mut cursor = String::from("0");
    loop {
        let name = format!("{XATTR_ENTRIES_PAGE}{cursor}");
        let page = syscalls::lgetxattr_once(dir, &name, PAGE_BUFFER);
        let next = page.as_deref().ok().and_then(next_cursor).flatten();
        if pages.send((name, page)).is_err() {
            return;
        }
        match next {
            Some(next) => cursor = next,
            None => return,
        }
    }
}

/// The entry a listing record describes; None if it carries no facts.
fn from_record(fs: &Galleryfs, record: contract::listing::Record) -> Option<Entry> {
    let facts = record.facts?;
    let name = OsStr::from_bytes(&record.name).to_owned();
    let time = |t: &str| contract::parse_time(t.as_bytes());
    let expires_at = time(&facts.expires_at);
    Some(Entry {
        path: fs.trash_dir().join(&name),
        stat: Stat {
            kind: kind_of_mode(record.kind),
            uid: record.uid,
            gid: record.gid,
            mode: record.mode,
            len: record.size,
            ctime: record.ctime,
        },
        original_path: Ok(facts.original_path),
        deleted_at: time(&facts.deleted_at),
        days_left: expires_at.map(|at| contract::days_left(at.timestamp(), Utc::now().timestamp())),
        expires_at,
        reason: Reason::parse(facts.reason.as_bytes()),
        deleted_by: contract::parse_deleter(facts.deleted_by.as_bytes()),
        litter: facts.litter,
        name,
    })
}

fn kind_of_mode(kind: u32) -> Kind {
    match kind {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Symlink,
        libc::S_IFIFO => Kind::Fifo,
        libc::S_IFSOCK => Kind::Socket,
        libc::S_IFBLK => Kind::Block,
        libc::S_IFCHR => Kind::Char,
        _ => Kind::File,
    }
}

/// Every entry asked one by one: readdir, then lstat and the attributes.
fn read_each(fs: &Galleryfs) -> io::Result<Vec<Entry>> {
    let dir = fs.trash_dir();
    let mut entries = Vec::new();
    for child in fs::read_dir(&dir)? {
        match read_at(fs, &child?.file_name()) {
            Ok(entry) => entries.push(entry),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(entries)
}

/// The entry called `name`; NotFound if there is none.
pub(crate) fn read_one(fs: &Galleryfs, name: &OsStr) -> io::Result<Entry> {
    read_at(fs, name)
}

/// Where entry `name` (of type `kind`, owned by `uid`) has its attributes:
/// itself if a file or directory, else its info file in the desktop view,
/// which galleryfs serves to the entry's owner (and root).
pub(crate) fn facts_path(fs: &Galleryfs, name: &OsStr, kind: Kind, uid: u32) -> PathBuf {
    match kind {
        Kind::File | Kind::Dir => fs.trash_dir().join(name),
        _ => fs
            .root
            .join(contract::top_dir_name(uid))
            .join(contract::INFO_DIR)
            .join(OsStr::from_bytes(&contract::info_name(name.as_bytes()))),
    }
}

fn read_at(fs: &Galleryfs, name: &OsStr) -> io::Result<Entry> {
    let path = fs.trash_dir().join(name);
    let stat = lstat(&path)?;
    let facts = facts_path(fs, name, stat.kind, stat.uid);
    let original_path = match syscalls::lgetxattr(&facts, contract::XATTR_ORIGINAL_PATH) {
        Ok(value) => Ok(value),
        // The entry itself is gone (its info file goes with it).
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
        Err(e) => Err(unknown(&e)),
    };
    let text = |attr: &str| syscalls::lgetxattr(&facts, attr).ok();
    let time = |attr: &str| text(attr).as_deref().and_then(contract::parse_time);
    let deleted_at = time(contract::XATTR_DELETED_AT);
    let expires_at = time(contract::XATTR_EXPIRES_AT);
    let reason = text(contract::XATTR_REASON)
        .as_deref()
        .and_then(Reason::parse);
    let deleted_by = text(contract::XATTR_DELETED_BY)
        .as_deref()
        .and_then(contract::parse_deleter);
    let litter = text(contract::XATTR_LITTER)
        .as_deref()
        .and_then(contract::parse_flag)
        .unwrap_or(false);
    // When the attribute itself cannot be read, galleryfs's rule on expires_at.
    let days_left = text(contract::XATTR_DAYS_LEFT)
        .as_deref()
        .and_then(contract::parse_days)
        .or_else(|| {
            expires_at.map(|at| contract::days_left(at.timestamp(), Utc::now().timestamp()))
        });
    Ok(Entry {
        name: name.to_owned(),
        path,
        stat,
        original_path,
        deleted_at,
        expires_at,
        days_left,
        reason,
        deleted_by,
        litter,
    })
}

fn unknown(e: &io::Error) -> Unknown {
    match e.raw_os_error() {
        Some(libc::ENODATA | libc::EOPNOTSUPP) => Unknown::NoAttributes,
        Some(libc::EACCES | libc::EPERM) => Unknown::PermissionDenied,
        _ => Unknown::Failed(crate::report::describe(e)),
    }
}

/// The bytes an entry holds: a file's size, or the total of the files in a
/// directory's tree (directories themselves count nothing; a file with
/// several links in the tree counts once). Unreadable parts count nothing.
pub(crate) fn tree_size(path: &Path, stat: &Stat) -> u64 {
    if stat.kind != Kind::Dir {
        return stat.len;
    }
    let mut total = 0;
    let mut linked = HashSet::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(children) = fs::read_dir(&dir) else {
            continue;
        };
        for child in children.flatten() {
            // DirEntry::metadata does not follow symlinks.
            let Ok(meta) = child.metadata() else { continue };
            if meta.is_dir() {
                dirs.push(child.path());
            } else if meta.nlink() <= 1 || linked.insert((meta.dev(), meta.ino())) {
                total += meta.len();
            }
        }
    }
    total
}

pub(crate) fn measure(entries: Vec<Entry>) -> Vec<Measured> {
    entries
        .into_iter()
        .map(|entry| {
            let size = tree_size(&entry.path, &entry.stat);
            Measured { entry, size }
        })
        .collect()
}

/// Whether user `euid` may rename or remove `entry` out of the trash
/// directory `trash` under the sticky-bit rule (root, the entry's owner or
/// the directory's owner). Other refusals are left to the kernel.
pub(crate) fn may_remove(trash: &Stat, entry: &Stat, euid: u32) -> bool {
    contract::bulk::sticky_allows(trash.mode, trash.uid, entry.uid, euid)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fake entry for tests of the pure logic.
    pub(crate) fn fake(name: &[u8], original: Option<&str>, deleted_at: Option<&str>) -> Entry {
        use std::os::unix::ffi::OsStrExt;
        let name = OsStr::from_bytes(name).to_owned();
        let deleted_at = deleted_at.and_then(|d| contract::parse_time(d.as_bytes()));
        Entry {
            path: Path::new("/mnt/g/.trash").join(&name),
            name,
            stat: Stat {
                kind: Kind::File,
                uid: 1000,
                gid: 1000,
                mode: 0o644,
                len: 10,
                ctime: (0, 0),
            },
            original_path: original
                .map(|o| o.as_bytes().to_vec())
                .ok_or(Unknown::NoAttributes),
            deleted_at,
            expires_at: deleted_at.map(|d| d + chrono::Days::new(30)),
            days_left: deleted_at.map(|_| 30),
            reason: original.map(|_| Reason::Deleted),
            deleted_by: None,
            litter: false,
        }
    }

    #[test]
    fn kinds_have_json_names() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(lstat(dir.path()).unwrap().kind.as_str(), "dir");
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("nowhere", &link).unwrap();
        let stat = lstat(&link).unwrap();
        assert_eq!(stat.kind.as_str(), "symlink");
        assert_eq!(stat.len, 7);
    }

    #[test]
    fn tree_size_totals_files_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("album");
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("one"), vec![0; 1000]).unwrap();
        fs::write(root.join("a/b/two"), vec![0; 2000]).unwrap();
        fs::hard_link(root.join("a/b/two"), root.join("a/two-again")).unwrap();
        std::os::unix::fs::symlink("one", root.join("a/link")).unwrap();
        let stat = lstat(&root).unwrap();
        assert_eq!(tree_size(&root, &stat), 1000 + 2000 + 3);
        let file = lstat(&root.join("one")).unwrap();
        assert_eq!(tree_size(&root.join("one"), &file), 1000);
    }

    #[test]
    fn sticky_trash_lets_only_owners_and_root_remove() {
        let trash = Stat {
            kind: Kind::Dir,
            uid: 0,
            gid: 0,
            mode: 0o1777,
            len: 0,
            ctime: (0, 0),
        };
        let entry = fake(b"x", None, None).stat;
        assert!(may_remove(&trash, &entry, 1000));
        assert!(may_remove(&trash, &entry, 0));
        assert!(!may_remove(&trash, &entry, 65534));
        let plain = Stat {
            mode: 0o777,
            ..trash.clone()
        };
        assert!(may_remove(&plain, &entry, 65534));
        let owned = Stat {
            uid: 65534,
            ..trash
        };
        assert!(may_remove(&owned, &entry, 65534));
    }
}

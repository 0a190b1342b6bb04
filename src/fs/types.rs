//! The seam types: what the FUSE adapter converts to and from, and what the
//! parts of the mount hand each other. No behaviour beyond conversions.

use std::ffi::OsString;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::backing::Stat;
use crate::clock::system_time;
use std::os::unix::ffi::OsStrExt;

use crate::contract::{FILES_DIR, TOP_DIR_PREFIX, TRASH as TRASH_NAME};
use crate::node::{NodeId, TRASH, files_dir_owner};

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
    /// The node's generation (see `node::NodeTable::generation`).
    pub generation: u64,
}

/// Who is asking.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
    /// The requesting thread (0: the kernel itself).
    pub pid: u32,
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
    /// A name appeared or disappeared in `parent`.
    Entry(NodeId, OsString),
    /// `parent/name`, node `child`, was deleted.
    Delete(NodeId, NodeId, OsString),
}

impl Invalidation {
    /// The directory whose name it drops.
    pub fn dir(&self) -> NodeId {
        match self {
            Invalidation::Entry(parent, _) | Invalidation::Delete(parent, _, _) => *parent,
        }
    }
}

/// One name to announce, by an echo (see `fs::echo`), in one directory
/// that shows the trash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Echo {
    /// `.trash` or a `.Trash-U/files` view.
    pub dir: NodeId,
    pub name: OsString,
    /// Appeared (true) or vanished.
    pub appeared: bool,
    /// `S_IFMT` bits of the entry: the syscall must make the same type.
    pub kind: u32,
}

impl Echo {
    /// Where the echo happens, relative to the mount point.
    pub fn path(&self) -> Option<Vec<u8>> {
        let dir = match files_dir_owner(self.dir) {
            Some(uid) => format!("{TOP_DIR_PREFIX}{uid}/{FILES_DIR}"),
            None if self.dir == TRASH => TRASH_NAME.to_string(),
            None => return None,
        };
        Some([dir.as_bytes(), b"/", self.name.as_bytes()].concat())
    }
}

/// Sends invalidations to the kernel, and echoes to watchers (see
/// `fs::echo`); implemented by the FUSE adapter.
pub trait Invalidator: Send + Sync {
    fn invalidate(&self, what: Invalidation);
    /// Invalidates the attributes of `node` before returning: attributes
    /// only, which takes no lock a request in flight may hold, so a request
    /// handler may call it (see `fuse::notify`).
    fn invalidate_attrs_now(&self, _node: NodeId) {}
    /// `invalidate`, done before it returns (or, if the kernel cannot do
    /// it within a bounded wait, as `invalidate`): for a name the kernel
    /// must not use once the request that made it stale is answered.
    fn invalidate_now(&self, what: Invalidation) {
        self.invalidate(what);
    }
    /// `invalidate` of a name in a directory whose lock the request being
    /// handled holds until it is answered, ordered before whatever comes
    /// after the answer: started now, it takes the lock as soon as the
    /// request lets go of it, ahead of any later request (bounded wait).
    fn invalidate_ahead(&self, what: Invalidation) {
        self.invalidate(what);
    }
    /// Makes the kernel look every name up again before it uses it, done
    /// before it returns (it takes no lock; see `fuse::notify`); nothing
    /// where the kernel cannot (before Linux 6.16).
    fn expire_all_names(&self) {}
    fn echo(&self, _echo: Echo) {}
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
    pub(super) fn timespec(spec: Option<TimeSpec>) -> libc::timespec {
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

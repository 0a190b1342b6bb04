//! Conversions between fuser's types and the core's, and the replies that
//! carry an errno: the one place where an error becomes a log line and a reply.

use std::time::SystemTime;

use fuser::{
    Errno, FileAttr, FileType, Generation, INodeNo, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyLseek, ReplyOpen, ReplyStatfs,
    ReplyWrite, ReplyXattr, Request, TimeOrNow,
};

use crate::error::FsError;
use crate::fs::{Attr, Caller, Entry, TimeSpec};

/// The replies that can carry an errno.
pub(super) trait ErrorReply {
    fn error(self, err: Errno);
}

macro_rules! error_reply {
    ($($t:ty),*) => {$(
        impl ErrorReply for $t {
            fn error(self, err: Errno) {
                <$t>::error(self, err)
            }
        }
    )*};
}

error_reply!(
    ReplyAttr,
    ReplyCreate,
    ReplyData,
    ReplyDirectory,
    ReplyDirectoryPlus,
    ReplyEmpty,
    ReplyEntry,
    ReplyLseek,
    ReplyOpen,
    ReplyStatfs,
    ReplyWrite,
    ReplyXattr
);

/// Answers a failed `op` with its errno. Errors that are part of normal
/// operation (a lookup of a missing name) are logged at debug only.
pub(super) fn fail(reply: impl ErrorReply, op: &str, e: FsError) {
    if e.is_routine() {
        log::debug!("{op}: {e}");
    } else {
        log::warn!("{op}: {e}");
    }
    reply.error(errno(e));
}

pub(super) fn errno(e: FsError) -> Errno {
    Errno::from_i32(e.errno())
}

pub(super) fn file_type(kind: u32) -> FileType {
    match kind {
        libc::S_IFDIR => FileType::Directory,
        libc::S_IFLNK => FileType::Symlink,
        libc::S_IFIFO => FileType::NamedPipe,
        libc::S_IFSOCK => FileType::Socket,
        libc::S_IFCHR => FileType::CharDevice,
        libc::S_IFBLK => FileType::BlockDevice,
        _ => FileType::RegularFile,
    }
}

impl From<Attr> for FileAttr {
    fn from(a: Attr) -> FileAttr {
        FileAttr {
            ino: INodeNo(a.ino),
            size: a.size,
            blocks: a.blocks,
            atime: a.atime,
            mtime: a.mtime,
            ctime: a.ctime,
            crtime: a.ctime,
            kind: file_type(a.kind),
            perm: a.perm,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            rdev: a.rdev,
            blksize: a.blksize,
            flags: 0,
        }
    }
}

pub(super) fn caller(req: &Request) -> Caller {
    Caller {
        uid: req.uid(),
        gid: req.gid(),
        pid: req.pid(),
    }
}

pub(super) fn reply_entry(op: &str, reply: ReplyEntry, result: Result<Entry, FsError>) {
    match result {
        Ok(e) => reply.entry(&e.ttl, &e.attr.into(), Generation(e.generation)),
        Err(e) => fail(reply, op, e),
    }
}

pub(super) fn reply_empty(op: &str, reply: ReplyEmpty, result: Result<(), FsError>) {
    match result {
        Ok(()) => reply.ok(),
        Err(e) => fail(reply, op, e),
    }
}

pub(super) fn time_spec(t: Option<TimeOrNow>) -> Option<TimeSpec> {
    t.map(|t| match t {
        TimeOrNow::Now => TimeSpec::Now,
        TimeOrNow::SpecificTime(t) => TimeSpec::At(kernel_time(t)),
    })
}

/// fuser 0.18 decodes a kernel time before 1970 with nanoseconds, `(secs <
/// 0, nsecs > 0)`, as `EPOCH - (|secs| s + nsecs ns)` instead of `EPOCH -
/// |secs| s + nsecs ns` (its `system_time_from_time`, "TODO: 1_000_000_000 -
/// nsec"): `touch -d '1969-12-31 23:59:59.5'` would store 23:59:58.5. Undo it.
pub(super) fn kernel_time(t: SystemTime) -> SystemTime {
    match std::time::UNIX_EPOCH.duration_since(t) {
        Ok(d) if d.subsec_nanos() != 0 => {
            std::time::UNIX_EPOCH - std::time::Duration::from_secs(d.as_secs())
                + std::time::Duration::from_nanos(d.subsec_nanos() as u64)
        }
        _ => t,
    }
}

/// Answers an xattr request of `size` bytes with `value` (size 0 asks the length).
pub(super) fn reply_xattr(op: &str, reply: ReplyXattr, size: u32, value: Result<Vec<u8>, FsError>) {
    match value {
        Ok(v) if size == 0 => reply.size(v.len() as u32),
        Ok(v) if v.len() > size as usize => reply.error(Errno::ERANGE),
        Ok(v) => reply.data(&v),
        Err(e) => fail(reply, op, e),
    }
}

//! The FUSE adapter: decodes each kernel request, calls the filesystem core,
//! and sends the reply. No filesystem logic lives here: `reply` converts
//! types and errors, `passthrough` registers backing files with the kernel,
//! `notify` delivers invalidations, `echo` runs the echo helper.

mod echo;
mod notify;
mod passthrough;
mod reply;
mod urgent;
mod watchers;

pub use echo::{Echoer, HELPER_ARG, helper_main};
pub use notify::{Held, QueuedInvalidator};
pub use passthrough::Passthrough;

use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use fuser::{
    AccessFlags, BackingId, BsdFileFlags, CopyFileRangeFlags, Errno, FileHandle, Filesystem,
    FopenFlags, Generation, INodeNo, InitFlags, KernelConfig, LockOwner, OpenFlags, RenameFlags,
    ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry,
    ReplyLseek, ReplyOpen, ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};

use self::reply::{caller, fail, file_type, reply_empty, reply_entry, reply_xattr, time_spec};
use crate::backing::as_fd;
use crate::config::Passthrough as PassthroughMode;
use crate::error::FsError;
use crate::fs::{GalleryFs, SetAttr};

/// Largest write the kernel may send in one request.
const MAX_WRITE: u32 = 1024 * 1024;

pub struct FuseAdapter {
    fs: Arc<GalleryFs>,
    passthrough: Arc<Passthrough>,
    /// Told of every node id handed to the kernel (see `Held`).
    held: Arc<Held>,
}

impl FuseAdapter {
    pub fn new(fs: Arc<GalleryFs>, passthrough: Arc<Passthrough>, held: Arc<Held>) -> FuseAdapter {
        FuseAdapter {
            fs,
            passthrough,
            held,
        }
    }

    /// Replies with an entry, which gives the kernel a reference to its node.
    fn entry(&self, op: &str, reply: ReplyEntry, result: Result<crate::fs::Entry, FsError>) {
        if let Ok(e) = &result {
            self.held.given(e.node);
        }
        reply_entry(op, reply, result);
    }
}

/// Open flags of files served without passthrough: galleryfs is the only
/// writer of STORAGE, so cached pages stay valid from one open to the next.
const CACHED_FILE: FopenFlags = FopenFlags::FOPEN_KEEP_CACHE;

/// How an opened file is served.
enum OpenMode {
    /// By galleryfs's read and write, with these open flags.
    Served(FopenFlags),
    /// By the kernel, straight from the backing file.
    Passthrough(Arc<BackingId>),
}

impl FuseAdapter {
    /// Decides how open handle `fh` of `node` is served; `open_backing`
    /// registers a backing file with the kernel (the reply's own call).
    fn open_mode(
        &self,
        node: u64,
        fh: u64,
        flags: i32,
        open_backing: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> std::io::Result<BackingId>,
    ) -> OpenMode {
        // Synthesized files are read from galleryfs every time; writes that
        // must reach galleryfs (space pressure, quota) are direct, so as not
        // to clash with passthrough opens of the same file.
        if self.fs.is_view_handle(fh) || self.passthrough.declines(&self.fs, fh, flags) {
            return OpenMode::Served(FopenFlags::FOPEN_DIRECT_IO);
        }
        let backing = self.passthrough.attach(node, fh, || {
            let file = self
                .fs
                .open_file(fh)
                .map_err(|e| std::io::Error::from_raw_os_error(e.errno()))?;
            open_backing(as_fd(&file))
        });
        match backing {
            Some(id) => OpenMode::Passthrough(id),
            None => OpenMode::Served(CACHED_FILE),
        }
    }

    /// Feeds the names of a listing after `offset` to `add` until it says
    /// the reply is full or the listing ends.
    fn each_item(
        &self,
        ino: u64,
        mut offset: u64,
        mut add: impl FnMut(crate::fs::DirItem) -> bool,
    ) -> Result<(), FsError> {
        loop {
            let items = self.fs.readdir(ino, offset)?;
            if items.is_empty() {
                return Ok(());
            }
            for item in items {
                offset = item.offset;
                if add(item) {
                    return Ok(());
                }
            }
        }
    }
}

impl Filesystem for FuseAdapter {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // ATOMIC_O_TRUNC: an open's truncation arrives with the OPEN, before a
        // passthrough backing file is bound to it, so the gallery can keep the
        // content it destroys (see `fs::keep`).
        let wanted = InitFlags::FUSE_ATOMIC_O_TRUNC
            | InitFlags::FUSE_DO_READDIRPLUS
            | InitFlags::FUSE_READDIRPLUS_AUTO
            | InitFlags::FUSE_AUTO_INVAL_DATA
            | InitFlags::FUSE_PARALLEL_DIROPS
            // Shared mmap of files opened with FOPEN_DIRECT_IO (writers under space pressure).
            | InitFlags::FUSE_DIRECT_IO_ALLOW_MMAP;
        for flag in wanted.iter() {
            if config.add_capabilities(flag).is_err() {
                log::debug!("kernel lacks {flag:?}");
            }
        }
        if self.passthrough.mode != PassthroughMode::Off
            && config.add_capabilities(InitFlags::FUSE_PASSTHROUGH).is_ok()
        {
            // The backing filesystem is not stacked: the mount is one level above it.
            if config.set_max_stack_depth(1).is_ok() {
                self.passthrough.negotiated.store(true, Ordering::Relaxed);
            }
        }
        let _ = config.set_max_write(MAX_WRITE);
        Ok(())
    }

    fn destroy(&mut self) {
        self.fs.shutdown();
    }

    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        self.entry(
            "lookup",
            reply,
            self.fs.lookup_as(caller(req), parent.0, name),
        );
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.held.forgot(ino.0, nlookup);
        self.fs.forget(ino.0, nlookup);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.fs.getattr(ino.0, fh.map(|f| f.0)) {
            Ok((attr, ttl)) => reply.attr(&ttl, &attr.into()),
            Err(e) => fail(reply, "getattr", e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let set = SetAttr {
            mode,
            uid,
            gid,
            size,
            atime: time_spec(atime),
            mtime: time_spec(mtime),
        };
        match self.fs.setattr(ino.0, set, fh.map(|f| f.0)) {
            Ok(attr) => reply.attr(&crate::fs::TTL, &attr.into()),
            Err(e) => fail(reply, "setattr", e),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.fs.readlink(ino.0) {
            Ok(target) => reply.data(&target),
            Err(e) => fail(reply, "readlink", e),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        self.entry(
            "mknod",
            reply,
            self.fs.mknod(parent.0, name, mode, rdev, caller(req)),
        );
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        self.entry(
            "mkdir",
            reply,
            self.fs.mkdir(parent.0, name, mode, caller(req)),
        );
    }

    fn unlink(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty("unlink", reply, self.fs.unlink(caller(req), parent.0, name));
    }

    fn rmdir(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty("rmdir", reply, self.fs.rmdir(caller(req), parent.0, name));
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let result = self
            .fs
            .symlink(parent.0, link_name, target.as_os_str(), caller(req));
        self.entry("symlink", reply, result);
    }

    fn rename(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let result = self.fs.rename(
            caller(req),
            parent.0,
            name,
            newparent.0,
            newname,
            flags.bits(),
        );
        reply_empty("rename", reply, result);
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        self.entry("link", reply, self.fs.link(ino.0, newparent.0, newname));
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        match self.fs.open(ino.0, flags.0) {
            Ok(fh) => match self.open_mode(ino.0, fh, flags.0, |fd| reply.open_backing(fd)) {
                OpenMode::Served(fopen) => reply.opened(FileHandle(fh), fopen),
                OpenMode::Passthrough(id) => {
                    reply.opened_passthrough(FileHandle(fh), FopenFlags::empty(), &id)
                }
            },
            Err(e) => fail(reply, "open", e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.fs.read(fh.0, offset, size) {
            Ok(data) => reply.data(&data),
            Err(e) => fail(reply, "read", e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.fs.write(fh.0, offset, data) {
            Ok(n) => reply.written(n),
            Err(e) => fail(reply, "write", e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // Nothing to do at close: writes are synchronous (no writeback
        // cache) and locks are the kernel's own (no POSIX lock support is
        // negotiated). ENOSYS stops the kernel sending FLUSH at all.
        reply.error(Errno::ENOSYS);
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.passthrough.release(fh.0);
        self.fs.release(fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply_empty("fsync", reply, self.fs.fsync(fh.0, datasync));
    }

    fn opendir(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        // No handles for directories: ENOSYS once stops OPENDIR and
        // RELEASEDIR for the connection (two requests per directory a
        // `find` walks), and the kernel then keeps every listing in its
        // cache (FOPEN_CACHE_DIR). Where listings change behind its back
        // (the root, `.trash`, the desktop view), their mtimes change with
        // them and their attributes are invalidated before the change is
        // answered (see `fs::events`), so the next listing from the start
        // refreshes the attributes and drops the cache.
        reply.error(Errno::ENOSYS);
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let listed = self.each_item(ino.0, offset, |item| {
            reply.add(
                INodeNo(item.ino),
                item.offset,
                file_type(item.kind),
                &item.name,
            )
        });
        match listed {
            Ok(()) => reply.ok(),
            Err(e) => fail(reply, "readdir", e),
        }
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let listed = self.each_item(ino.0, offset, |item| {
            let entry = match self.fs.readdirplus_entry(ino.0, &item) {
                Ok(entry) => entry,
                // Gone since the listing was taken (or expired): skip it.
                Err(_) => return false,
            };
            let full = reply.add(
                INodeNo(entry.node),
                item.offset,
                &item.name,
                &entry.ttl,
                &entry.attr.into(),
                Generation(entry.generation),
            );
            if !full && item.name != "." && item.name != ".." {
                self.held.given(entry.node);
            }
            // An entry that did not fit was not given to the kernel: take
            // back its lookup reference (`.` and `..` carry none).
            if full && item.name != "." && item.name != ".." {
                self.fs.forget(entry.node, 1);
            }
            full
        });
        match listed {
            Ok(()) => reply.ok(),
            Err(e) => fail(reply, "readdirplus", e),
        }
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        match self.fs.statfs() {
            Ok(st) => reply.statfs(
                st.f_blocks,
                st.f_bfree,
                st.f_bavail,
                st.f_files,
                st.f_ffree,
                st.f_bsize as u32,
                st.f_namemax as u32,
                st.f_frsize as u32,
            ),
            Err(e) => fail(reply, "statfs", e),
        }
    }

    fn setxattr(
        &self,
        req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let result = match self.fs.bulk_request(caller(req), ino.0, name, value) {
            Some(done) => done,
            None => self.fs.setxattr(ino.0, name, value, flags),
        };
        reply_empty("setxattr", reply, result);
    }

    fn getxattr(&self, req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        let value = match self.fs.listing_page(caller(req), ino.0, name) {
            Some(page) => page,
            None => match self.fs.bulk_answer(caller(req), ino.0, name) {
                Some(answer) => answer,
                None => self.fs.getxattr(ino.0, name),
            },
        };
        reply_xattr("getxattr", reply, size, value);
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        reply_xattr("listxattr", reply, size, self.fs.listxattr(ino.0));
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty("removexattr", reply, self.fs.removexattr(ino.0, name));
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        // default_permissions is always on: the kernel has already checked.
        reply.ok();
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        match self.fs.create(parent.0, name, mode, flags, caller(req)) {
            Ok((e, fh)) => {
                self.held.given(e.node);
                let (attr, generation) = (e.attr.into(), Generation(e.generation));
                match self.open_mode(e.node, fh, flags, |fd| reply.open_backing(fd)) {
                    OpenMode::Served(fopen) => {
                        reply.created(&e.ttl, &attr, generation, FileHandle(fh), fopen)
                    }
                    OpenMode::Passthrough(id) => reply.created_passthrough(
                        &e.ttl,
                        &attr,
                        generation,
                        FileHandle(fh),
                        FopenFlags::empty(),
                        &id,
                    ),
                }
            }
            Err(e) => fail(reply, "create", e),
        }
    }

    fn ioctl(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: fuser::IoctlFlags,
        _cmd: u32,
        _in_data: &[u8],
        _out_size: u32,
        reply: fuser::ReplyIoctl,
    ) {
        // No ioctls (programs probe, e.g. isatty's TCGETS): the usual answer.
        reply.error(Errno::ENOTTY);
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        reply_empty(
            "fallocate",
            reply,
            self.fs.fallocate(fh.0, offset, length, mode),
        );
    }

    fn lseek(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: i64,
        whence: i32,
        reply: ReplyLseek,
    ) {
        match self.fs.lseek(fh.0, offset, whence) {
            Ok(off) => reply.offset(off),
            Err(e) => fail(reply, "lseek", e),
        }
    }

    fn copy_file_range(
        &self,
        _req: &Request,
        _ino_in: INodeNo,
        fh_in: FileHandle,
        offset_in: u64,
        _ino_out: INodeNo,
        fh_out: FileHandle,
        offset_out: u64,
        len: u64,
        _flags: CopyFileRangeFlags,
        reply: ReplyWrite,
    ) {
        match self
            .fs
            .copy_file_range(fh_in.0, offset_in, fh_out.0, offset_out, len)
        {
            Ok(n) => reply.written(n),
            Err(e) => fail(reply, "copy_file_range", e),
        }
    }
}

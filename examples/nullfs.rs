//! The kernel's bound for scripts/bench.sh: a FUSE filesystem that keeps
//! its tree in memory and throws the data away, mounted with galleryfs's
//! connection settings (request threads, cloned fds, the same init flags,
//! no FLUSH, no OPENDIR, the same entry and attribute TTLs). What it costs on
//! a workload is the cost of the requests alone; galleryfs cannot do better.
//!
//! `cargo run --release --example nullfs -- MOUNTPOINT` (foreground; umount to stop).

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use fuser::{
    Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    InitFlags, KernelConfig, LockOwner, MountOption, OpenFlags, RenameFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen,
    ReplyStatfs, ReplyWrite, ReplyXattr, Request, Session, TimeOrNow, WriteFlags,
};

/// galleryfs's TTL for gallery entries and attributes (src/fs/core.rs).
const TTL: Duration = Duration::from_secs(24 * 3600);
/// galleryfs's request threads (src/mount.rs).
const THREADS: usize = 4;

struct Node {
    attr: FileAttr,
    /// Directories: children by readdir cookie, and the cookie of each name.
    children: BTreeMap<u64, (OsString, u64)>,
    cookie: HashMap<OsString, u64>,
    next_cookie: u64,
    target: OsString,
}

struct Tree {
    nodes: HashMap<u64, Node>,
    next_ino: u64,
}

struct NullFs(Mutex<Tree>);

fn attr(ino: u64, kind: FileType, perm: u16, (uid, gid): (u32, u32)) -> FileAttr {
    let now = SystemTime::now();
    FileAttr {
        ino: INodeNo(ino),
        size: 0,
        blocks: 0,
        atime: now,
        mtime: now,
        ctime: now,
        crtime: now,
        kind,
        perm,
        nlink: if kind == FileType::Directory { 2 } else { 1 },
        uid,
        gid,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

impl Tree {
    fn child(&self, parent: u64, name: &OsStr) -> Result<u64, Errno> {
        let p = self.nodes.get(&parent).ok_or(Errno::ENOENT)?;
        let c = p.cookie.get(name).ok_or(Errno::ENOENT)?;
        Ok(p.children[c].1)
    }

    fn link(&mut self, parent: u64, name: &OsStr, ino: u64) -> Result<(), Errno> {
        let p = self.nodes.get_mut(&parent).ok_or(Errno::ENOENT)?;
        if p.cookie.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        p.next_cookie += 1;
        let c = p.next_cookie;
        p.cookie.insert(name.to_owned(), c);
        p.children.insert(c, (name.to_owned(), ino));
        Ok(())
    }

    fn unlink(&mut self, parent: u64, name: &OsStr) -> Result<u64, Errno> {
        let p = self.nodes.get_mut(&parent).ok_or(Errno::ENOENT)?;
        let c = p.cookie.remove(name).ok_or(Errno::ENOENT)?;
        Ok(p.children.remove(&c).map(|(_, ino)| ino).unwrap_or(0))
    }

    fn make(
        &mut self,
        parent: u64,
        name: &OsStr,
        a: FileAttr,
        target: OsString,
    ) -> Result<FileAttr, Errno> {
        let ino = self.next_ino;
        let a = FileAttr {
            ino: INodeNo(ino),
            ..a
        };
        self.link(parent, name, ino)?;
        self.next_ino += 1;
        let node = Node {
            attr: a,
            children: BTreeMap::new(),
            cookie: HashMap::new(),
            next_cookie: 2,
            target,
        };
        self.nodes.insert(ino, node);
        Ok(a)
    }
}

impl NullFs {
    fn tree(&self) -> std::sync::MutexGuard<'_, Tree> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn made(&self, reply: ReplyEntry, r: Result<FileAttr, Errno>) {
        match r {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn listing(&self, ino: u64, offset: u64) -> Result<Vec<(u64, u64, OsString, FileAttr)>, Errno> {
        let tree = self.tree();
        let node = tree.nodes.get(&ino).ok_or(Errno::ENOENT)?;
        let mut items = Vec::new();
        if offset < 1 {
            items.push((ino, 1, ".".into(), node.attr));
        }
        if offset < 2 {
            items.push((ino, 2, "..".into(), node.attr));
        }
        for (c, (name, child)) in node.children.range(offset.max(2) + 1..).take(512) {
            items.push((*child, *c, name.clone(), tree.nodes[child].attr));
        }
        Ok(items)
    }
}

impl Filesystem for NullFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        let wanted = InitFlags::FUSE_ATOMIC_O_TRUNC
            | InitFlags::FUSE_DO_READDIRPLUS
            | InitFlags::FUSE_READDIRPLUS_AUTO
            | InitFlags::FUSE_AUTO_INVAL_DATA
            | InitFlags::FUSE_PARALLEL_DIROPS;
        for flag in wanted.iter() {
            let _ = config.add_capabilities(flag);
        }
        let _ = config.set_max_write(1 << 20);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let tree = self.tree();
        let r = tree.child(parent.0, name).map(|ino| tree.nodes[&ino].attr);
        drop(tree);
        self.made(reply, r);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.tree().nodes.get(&ino.0) {
            Some(n) => reply.attr(&TTL, &n.attr),
            None => reply.error(Errno::ENOENT),
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
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut tree = self.tree();
        let Some(n) = tree.nodes.get_mut(&ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let when = |t: TimeOrNow| match t {
            TimeOrNow::SpecificTime(t) => t,
            TimeOrNow::Now => SystemTime::now(),
        };
        let a = &mut n.attr;
        if let Some(m) = mode {
            a.perm = (m & 0o7777) as u16;
        }
        a.uid = uid.unwrap_or(a.uid);
        a.gid = gid.unwrap_or(a.gid);
        a.size = size.unwrap_or(a.size);
        a.atime = atime.map_or(a.atime, when);
        a.mtime = mtime.map_or(a.mtime, when);
        reply.attr(&TTL, a);
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.tree().nodes.get(&ino.0) {
            Some(n) => reply.data(n.target.as_encoded_bytes()),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let a = attr(
            0,
            FileType::Directory,
            (mode & !umask & 0o7777) as u16,
            (req.uid(), req.gid()),
        );
        let r = self.tree().make(parent.0, name, a, OsString::new());
        self.made(reply, r);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut tree = self.tree();
        match tree.unlink(parent.0, name) {
            Ok(ino) => {
                tree.nodes.remove(&ino);
                reply.ok()
            }
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut tree = self.tree();
        match tree.child(parent.0, name) {
            Ok(ino) if !tree.nodes[&ino].children.is_empty() => reply.error(Errno::ENOTEMPTY),
            Ok(ino) => {
                let _ = tree.unlink(parent.0, name);
                tree.nodes.remove(&ino);
                reply.ok()
            }
            Err(e) => reply.error(e),
        }
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let a = attr(0, FileType::Symlink, 0o777, (req.uid(), req.gid()));
        let r = self
            .tree()
            .make(parent.0, link_name, a, target.as_os_str().to_owned());
        self.made(reply, r);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let mut tree = self.tree();
        let ino = match tree.child(parent.0, name) {
            Ok(ino) => ino,
            Err(e) => return reply.error(e),
        };
        if let Ok(old) = tree.child(newparent.0, newname) {
            if flags.contains(RenameFlags::RENAME_NOREPLACE) {
                return reply.error(Errno::EEXIST);
            }
            let _ = tree.unlink(newparent.0, newname);
            tree.nodes.remove(&old);
        }
        let _ = tree.unlink(parent.0, name);
        match tree.link(newparent.0, newname, ino) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        reply.opened(FileHandle(0), FopenFlags::FOPEN_KEEP_CACHE);
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let len = self.tree().nodes.get(&ino.0).map_or(0, |n| n.attr.size);
        let n = len.saturating_sub(offset).min(size as u64) as usize;
        reply.data(&vec![0; n]);
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        if let Some(n) = self.tree().nodes.get_mut(&ino.0) {
            n.attr.size = n.attr.size.max(offset + data.len() as u64);
        }
        reply.written(data.len() as u32);
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::ENOSYS);
    }

    fn opendir(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
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
        match self.listing(ino.0, offset) {
            Ok(items) => {
                for (child, c, name, a) in items {
                    if reply.add(INodeNo(child), c, a.kind, &name) {
                        break;
                    }
                }
                reply.ok()
            }
            Err(e) => reply.error(e),
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
        match self.listing(ino.0, offset) {
            Ok(items) => {
                for (child, c, name, a) in items {
                    if reply.add(INodeNo(child), c, &name, &TTL, &a, Generation(0)) {
                        break;
                    }
                }
                reply.ok()
            }
            Err(e) => reply.error(e),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(1 << 30, 1 << 30, 1 << 30, 1 << 20, 1 << 20, 4096, 255, 4096);
    }

    fn getxattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _name: &OsStr,
        _size: u32,
        reply: ReplyXattr,
    ) {
        reply.error(Errno::ENODATA);
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let a = attr(
            0,
            FileType::RegularFile,
            (mode & !umask & 0o7777) as u16,
            (req.uid(), req.gid()),
        );
        match self.tree().make(parent.0, name, a, OsString::new()) {
            Ok(a) => reply.created(
                &TTL,
                &a,
                Generation(0),
                FileHandle(0),
                FopenFlags::FOPEN_KEEP_CACHE,
            ),
            Err(e) => reply.error(e),
        }
    }
}

fn main() {
    let Some(mountpoint) = std::env::args_os().nth(1) else {
        eprintln!("usage: nullfs MOUNTPOINT");
        std::process::exit(2);
    };
    // SAFETY: no preconditions.
    let owner = unsafe { (libc::geteuid(), libc::getegid()) };
    let req_root = attr(1, FileType::Directory, 0o755, owner);
    let mut nodes = HashMap::new();
    nodes.insert(
        1,
        Node {
            attr: req_root,
            children: BTreeMap::new(),
            cookie: HashMap::new(),
            next_cookie: 2,
            target: OsString::new(),
        },
    );
    let fs = NullFs(Mutex::new(Tree { nodes, next_ino: 2 }));
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName("nullfs".into()),
        MountOption::DefaultPermissions,
        MountOption::RW,
    ];
    config.n_threads = Some(THREADS);
    config.clone_fd = true;
    let session = Session::new(fs, Path::new(&mountpoint), &config).unwrap_or_else(|e| {
        eprintln!(
            "nullfs: cannot mount {}: {e}",
            Path::new(&mountpoint).display()
        );
        std::process::exit(1);
    });
    if let Err(e) = session.run() {
        eprintln!("nullfs: {e}");
        std::process::exit(1);
    }
}

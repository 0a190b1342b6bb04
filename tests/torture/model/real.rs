//! The same operations on a real mount, by syscalls, and what the mount shows.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use galleryfs_testkit::errno::{errno, last_errno};
use galleryfs_testkit::xattr::{self, TRASH_XATTRS};

use super::ops::{Op, data_bytes};

fn cpath(mnt: &Path, rel: &str) -> CString {
    CString::new(mnt.join(rel).as_os_str().as_bytes()).expect("no NUL in test paths")
}

fn check(ret: libc::c_int) -> Result<(), i32> {
    if ret < 0 { Err(last_errno()) } else { Ok(()) }
}

fn check_len(ret: isize) -> Result<usize, i32> {
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret as usize)
    }
}

struct Fd(libc::c_int);

impl Fd {
    fn open(mnt: &Path, rel: &str, flags: i32, mode: u32) -> Result<Fd, i32> {
        let p = cpath(mnt, rel);
        // SAFETY: valid NUL-terminated path.
        let fd = unsafe { libc::open(p.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint) };
        if fd < 0 {
            Err(last_errno())
        } else {
            Ok(Fd(fd))
        }
    }

    fn pwrite_all(&self, mut data: &[u8], mut offset: u64) -> Result<(), i32> {
        while !data.is_empty() {
            // SAFETY: the buffer is valid for its length.
            let n = check_len(unsafe {
                libc::pwrite(
                    self.0,
                    data.as_ptr().cast(),
                    data.len(),
                    offset as libc::off_t,
                )
            })?;
            if n == 0 {
                return Err(libc::EIO);
            }
            data = &data[n..];
            offset += n as u64;
        }
        Ok(())
    }

    fn close(mut self) -> Result<(), i32> {
        let fd = std::mem::replace(&mut self.0, -1);
        // SAFETY: we own fd.
        check(unsafe { libc::close(fd) })
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: we own fd.
            unsafe { libc::close(self.0) };
        }
    }
}

/// Runs `op` (not Remount/TimePasses, which the runner handles) on the mount at `mnt`.
pub fn apply(mnt: &Path, op: &Op) -> Result<(), i32> {
    match op {
        Op::Create {
            path,
            mode,
            excl,
            data,
        } => {
            let mut flags = libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC | libc::O_NOFOLLOW;
            if *excl {
                flags |= libc::O_EXCL;
            }
            let fd = Fd::open(mnt, path, flags, *mode)?;
            fd.pwrite_all(&data_bytes(data), 0)?;
            fd.close()
        }
        Op::OpenTrunc { path, access, data } => {
            let fd = Fd::open(mnt, path, access | libc::O_TRUNC | libc::O_NOFOLLOW, 0)?;
            if *access != libc::O_RDONLY {
                fd.pwrite_all(&data_bytes(data), 0)?;
            }
            fd.close()
        }
        Op::Write { path, offset, data } => {
            let fd = Fd::open(mnt, path, libc::O_WRONLY | libc::O_NOFOLLOW, 0)?;
            fd.pwrite_all(&data_bytes(data), *offset)?;
            fd.close()
        }
        Op::Punch { path, offset, len } => {
            let fd = Fd::open(mnt, path, libc::O_WRONLY | libc::O_NOFOLLOW, 0)?;
            let mode = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
            // SAFETY: valid fd.
            check(unsafe {
                libc::fallocate(fd.0, mode, *offset as libc::off_t, *len as libc::off_t)
            })?;
            fd.close()
        }
        Op::Truncate { path, len, via_fd } => {
            if *via_fd {
                let fd = Fd::open(mnt, path, libc::O_WRONLY | libc::O_NOFOLLOW, 0)?;
                // SAFETY: valid fd.
                check(unsafe { libc::ftruncate(fd.0, *len as libc::off_t) })?;
                fd.close()
            } else {
                let p = cpath(mnt, path);
                // SAFETY: valid path.
                check(unsafe { libc::truncate(p.as_ptr(), *len as libc::off_t) })
            }
        }
        Op::Mkdir { path, mode } => {
            let p = cpath(mnt, path);
            // SAFETY: valid path.
            check(unsafe { libc::mkdir(p.as_ptr(), *mode) })
        }
        Op::Rmdir { path } => {
            let p = cpath(mnt, path);
            // From a thread of its own, so that what this thread removed below
            // is not folded into one entry: the model predicts loose entries.
            std::thread::scope(|s| {
                s.spawn(|| {
                    // SAFETY: valid path.
                    check(unsafe { libc::rmdir(p.as_ptr()) })
                })
                .join()
            })
            .expect("the rmdir thread panicked")
        }
        Op::Symlink { target, path } => {
            let t = CString::new(target.as_bytes()).expect("no NUL");
            let p = cpath(mnt, path);
            // SAFETY: valid paths.
            check(unsafe { libc::symlink(t.as_ptr(), p.as_ptr()) })
        }
        Op::Link { from, to } => {
            let (f, t) = (cpath(mnt, from), cpath(mnt, to));
            // SAFETY: valid paths; flags 0 links a symlink itself.
            check(unsafe {
                libc::linkat(libc::AT_FDCWD, f.as_ptr(), libc::AT_FDCWD, t.as_ptr(), 0)
            })
        }
        Op::Unlink { path } => {
            let p = cpath(mnt, path);
            // SAFETY: valid path.
            check(unsafe { libc::unlink(p.as_ptr()) })
        }
        Op::RemoveTree { path } => remove_tree(mnt, path),
        Op::Rename { from, to, flags } => {
            let (f, t) = (cpath(mnt, from), cpath(mnt, to));
            // SAFETY: valid paths.
            check(unsafe {
                libc::syscall(
                    libc::SYS_renameat2,
                    libc::AT_FDCWD,
                    f.as_ptr(),
                    libc::AT_FDCWD,
                    t.as_ptr(),
                    *flags,
                ) as libc::c_int
            })
        }
        Op::Chmod { path, mode } => {
            let p = cpath(mnt, path);
            // SAFETY: valid path.
            check(unsafe { libc::chmod(p.as_ptr(), *mode) })
        }
        Op::SetXattr {
            path,
            name,
            value,
            flags,
        } => {
            let p = cpath(mnt, path);
            let n = CString::new(name.as_bytes()).expect("no NUL");
            // SAFETY: valid path, name and value buffer.
            check(unsafe {
                libc::lsetxattr(
                    p.as_ptr(),
                    n.as_ptr(),
                    value.as_ptr().cast(),
                    value.len(),
                    *flags,
                )
            })
        }
        Op::RemoveXattr { path, name } => {
            let p = cpath(mnt, path);
            let n = CString::new(name.as_bytes()).expect("no NUL");
            // SAFETY: valid path and name.
            check(unsafe { libc::lremovexattr(p.as_ptr(), n.as_ptr()) })
        }
        Op::Remount | Op::TimePasses => unreachable!("handled by the runner"),
    }
}

fn sorted_names(dir: &Path) -> Result<Vec<String>, i32> {
    let mut names = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))? {
        let e = e.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// `rm -r` the way the model does it: depth first, names sorted, first error stops.
fn remove_tree(mnt: &Path, rel: &str) -> Result<(), i32> {
    let meta =
        fs::symlink_metadata(mnt.join(rel)).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    if meta.is_dir() {
        for name in sorted_names(&mnt.join(rel))? {
            remove_tree(mnt, &format!("{rel}/{name}"))?;
        }
        apply(mnt, &Op::Rmdir { path: rel.into() })
    } else {
        apply(mnt, &Op::Unlink { path: rel.into() })
    }
}

// ---- observing ----------------------------------------------------------

/// One object as seen through the mount (or as the model says it should be).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obs {
    pub kind: char,
    pub mode: u32,
    pub nlink: u64,
    /// Files and symlinks only (a directory's size is the backing filesystem's business).
    pub size: Option<u64>,
    pub data: Option<Vec<u8>>,
    pub target: Option<String>,
    /// Every `user.*` attribute, except the trash's own on entries.
    pub xattrs: BTreeMap<String, Vec<u8>>,
}

/// The trash attributes of an entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryObs {
    /// Which of the four `user.trash.*` names listxattr returned.
    pub listed: BTreeSet<String>,
    pub original: Option<Vec<u8>>,
    pub deleted_at: Option<String>,
    pub expires_at: Option<String>,
    pub days_left: Option<String>,
    pub reason: Option<String>,
    /// `user.trash.litter`, where listed.
    pub litter: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Names listed in the mount root.
    pub root: Vec<String>,
    /// Every object by path ("gallery", "gallery/a", ".trash/x", ".trash/x/y"),
    /// with its inode number (real st_ino, or the model's inode id).
    pub objs: BTreeMap<String, (Obs, u64)>,
    pub entries: BTreeMap<String, EntryObs>,
    /// Names in STORAGE/trash (None for the model).
    pub storage_trash: Option<BTreeSet<String>>,
}

fn io_errno(e: std::io::Error) -> String {
    format!("{e}")
}

/// Reads the whole observable state of the mount at `mnt` (STORAGE at `storage`).
pub fn observe(mnt: &Path, storage: &Path) -> Result<Snapshot, String> {
    let mut snap = Snapshot {
        root: sorted_names(mnt).map_err(|e| format!("readdir of the mount root: errno {e}"))?,
        ..Snapshot::default()
    };
    walk(mnt, "gallery", false, &mut snap)?;
    let entries =
        sorted_names(&mnt.join(".trash")).map_err(|e| format!("readdir .trash: errno {e}"))?;
    for name in entries {
        walk(mnt, &format!(".trash/{name}"), true, &mut snap)?;
    }
    let storage_trash = sorted_names(&storage.join("trash"))
        .map_err(|e| format!("readdir STORAGE/trash: errno {e}"))?;
    snap.storage_trash = Some(storage_trash.into_iter().collect());
    Ok(snap)
}

fn walk(mnt: &Path, rel: &str, is_entry: bool, snap: &mut Snapshot) -> Result<(), String> {
    let full = mnt.join(rel);
    let meta =
        fs::symlink_metadata(&full).map_err(|e| format!("lstat {rel:?}: {}", io_errno(e)))?;
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else if ft.is_file() {
        'f'
    } else {
        '?'
    };
    let p = mnt.join(rel);
    let names = xattr::list(&p).map_err(|e| format!("listxattr {rel:?}: errno {}", errno(&e)))?;
    let mut xattrs = BTreeMap::new();
    let mut entry = EntryObs::default();
    for name in names.iter().filter(|n| n.starts_with("user.")) {
        if is_entry && TRASH_XATTRS.contains(&name.as_str()) {
            entry.listed.insert(name.clone());
            continue;
        }
        // Which thread deleted it: the model runs on several; folds and
        // `gallery-trash undo` have tests of their own.
        if is_entry && name == "user.trash.deleted_by" {
            continue;
        }
        if is_entry && name == "user.trash.litter" {
            entry.litter = xattr::get(&p, name)
                .ok()
                .map(|v| String::from_utf8_lossy(&v).into_owned());
            continue;
        }
        let value =
            xattr::get(&p, name).unwrap_or_else(|e| format!("<errno {}>", errno(&e)).into_bytes());
        xattrs.insert(name.clone(), value);
    }
    if is_entry {
        let get = |n: &str| xattr::get(&p, n).ok();
        entry.original = get(TRASH_XATTRS[0]);
        let text = |v: Option<Vec<u8>>| v.map(|v| String::from_utf8_lossy(&v).into_owned());
        entry.deleted_at = text(get(TRASH_XATTRS[1]));
        entry.expires_at = text(get(TRASH_XATTRS[2]));
        entry.days_left = text(get(TRASH_XATTRS[3]));
        entry.reason = text(get(TRASH_XATTRS[4]));
        snap.entries
            .insert(rel.trim_start_matches(".trash/").to_string(), entry);
    }
    let (size, data, target) = match kind {
        'f' => (
            Some(meta.len()),
            Some(fs::read(&full).map_err(|e| format!("read {rel:?}: {}", io_errno(e)))?),
            None,
        ),
        'l' => (
            Some(meta.len()),
            None,
            Some(
                fs::read_link(&full)
                    .map_err(|e| format!("readlink {rel:?}: {}", io_errno(e)))?
                    .to_string_lossy()
                    .into_owned(),
            ),
        ),
        _ => (None, None, None),
    };
    let obs = Obs {
        kind,
        mode: meta.mode() & 0o7777,
        nlink: meta.nlink(),
        size,
        data,
        target,
        xattrs,
    };
    snap.objs.insert(rel.to_string(), (obs, meta.ino()));
    if kind == 'd' {
        let names = sorted_names(&full).map_err(|e| format!("readdir {rel:?}: errno {e}"))?;
        for name in names {
            walk(mnt, &format!("{rel}/{name}"), false, snap)?;
        }
    }
    Ok(())
}

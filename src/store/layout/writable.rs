//! Why STORAGE cannot be written, named for the user before the catalog is
//! opened: otherwise SQLite reports a read-only filesystem, an immutable
//! file or a permission as "I/O error" or "unable to open database file",
//! and the message would point at the catalog, which is healthy.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::backing;

/// `chattr` flags (linux/fs.h) that forbid writing even to root.
const FS_IMMUTABLE_FL: libc::c_long = 0x10;
const FS_APPEND_FL: libc::c_long = 0x20;

/// The first reason galleryfs cannot write STORAGE at `path` (canonical),
/// whose files are `files`, as a one-line message saying what to do; None
/// if none is found.
pub(super) fn why_unwritable(path: &Path, files: &[PathBuf]) -> Option<String> {
    let shown = path.display();
    let dir = File::open(path).ok()?;
    if backing::fstatvfs(dir.as_fd()).is_ok_and(|st| st.f_flag & libc::ST_RDONLY != 0) {
        return Some(format!(
            "cannot write to STORAGE {shown}: Read-only file system; remount its filesystem \
             read-write (galleryfs writes its trash catalog there, even for `-o ro`)"
        ));
    }
    let existing: Vec<&Path> = std::iter::once(path)
        .chain(files.iter().map(PathBuf::as_path))
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    for file in &existing {
        let f = file.display();
        match attr_flags(file) {
            Some(flags) if flags & FS_IMMUTABLE_FL != 0 => {
                return Some(format!(
                    "cannot write to {f}: it is immutable (`lsattr -d {f}` shows `i`); \
                     clear it with `chattr -i {f}` and mount again"
                ));
            }
            Some(flags) if flags & FS_APPEND_FL != 0 => {
                return Some(format!(
                    "cannot write to {f}: it is append-only (`lsattr -d {f}` shows `a`); \
                     clear it with `chattr -a {f}` and mount again"
                ));
            }
            _ => {}
        }
    }
    for file in &existing {
        let is_dir = file.is_dir();
        let mode = if is_dir {
            libc::W_OK | libc::X_OK
        } else {
            libc::W_OK
        };
        if !may_access(file, mode) {
            let meta = file.symlink_metadata().ok()?;
            let what = if is_dir { "STORAGE " } else { "" };
            return Some(format!(
                "cannot write to {what}{f}: Permission denied for uid {uid} (owner uid {owner}, \
                 mode {mode:o}); make it writable by the user who mounts (chown or chmod u+w), \
                 or mount as its owner",
                f = file.display(),
                uid = backing::geteuid(),
                owner = meta.uid(),
                mode = meta.mode() & 0o7777,
            ));
        }
    }
    None
}

/// The inode flags `lsattr` shows; None where the filesystem has none.
fn attr_flags(path: &Path) -> Option<libc::c_long> {
    let file = File::open(path).ok()?;
    let mut flags: libc::c_long = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one long through the valid pointer.
    let r = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            libc::FS_IOC_GETFLAGS,
            &mut flags,
        )
    };
    (r == 0).then_some(flags)
}

/// access(2) with the effective ids, as the daemon will act.
fn may_access(path: &Path, mode: libc::c_int) -> bool {
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return true;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::faccessat(libc::AT_FDCWD, c_path.as_ptr(), mode, libc::AT_EACCESS) == 0 }
}

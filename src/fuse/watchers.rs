//! Which directories of the mount someone watches, from the inotify and
//! fanotify marks `/proc/PID/fdinfo` lists: a burst of echoes (see `echo`)
//! for a directory nobody watches would cost two requests per name and
//! tell no one (a bulk purge of 100,000 entries: 200,000 echoes, seconds
//! of the daemon's time).
//!
//! Told in time either way: a watcher that starts after the scan lists the
//! directory after the change (it was made before the scan), and one that
//! started before is found. What cannot be read (another user's processes,
//! for a daemon not running as root; a fanotify mark on a whole mount or
//! filesystem) counts as watching everything.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

/// The inode numbers (galleryfs node numbers) of the directories of the
/// filesystem with device `dev` (the kernel's encoding, as fdinfo prints
/// it) that an inotify or fanotify mark watches; None if that cannot be
/// told.
pub(super) fn watched(dev: u64) -> Option<HashSet<u64>> {
    let mut found = HashSet::new();
    for process in fs::read_dir("/proc").ok()? {
        let process = process.ok()?;
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let fds = match fs::read_dir(format!("/proc/{pid}/fd")) {
            Ok(fds) => fds,
            // Exited meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.as_os_str().as_encoded_bytes();
            if target != b"anon_inode:inotify" && target != b"anon_inode:[fanotify]" {
                continue;
            }
            let info = Path::new("/proc")
                .join(pid.to_string())
                .join("fdinfo")
                .join(fd.file_name());
            let Ok(text) = fs::read_to_string(info) else {
                continue;
            };
            marks(&text, dev, &mut found)?;
        }
    }
    Some(found)
}

/// Adds the inodes of device `dev` that the marks of one fdinfo watch;
/// None for a mark that watches more than an inode.
fn marks(fdinfo: &str, dev: u64, found: &mut HashSet<u64>) -> Option<()> {
    for line in fdinfo.lines() {
        let Some(fields) = line
            .strip_prefix("inotify ")
            .or_else(|| line.strip_prefix("fanotify "))
        else {
            continue;
        };
        let field = |key: &str| {
            fields
                .split(' ')
                .find_map(|f| f.strip_prefix(key))
                .and_then(|v| u64::from_str_radix(v, 16).ok())
        };
        let mount_mark = fields.split(' ').any(|f| f.starts_with("mnt_id:"));
        match (field("ino:"), field("sdev:")) {
            (Some(ino), Some(sdev)) if sdev == dev => {
                found.insert(ino);
            }
            (Some(_), Some(_)) => {}
            // A mount or filesystem mark (fanotify): perhaps this one.
            (None, Some(_)) => return None,
            _ if mount_mark => return None,
            // fanotify's line about the group itself.
            _ => {}
        }
    }
    Some(())
}

/// The kernel's encoding of the device a mountinfo `major:minor` names
/// (`MKDEV`: what fdinfo's `sdev:` prints).
pub(super) fn kernel_dev(major_minor: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(major_minor).ok()?;
    let (major, minor) = text.split_once(':')?;
    Some((major.parse::<u64>().ok()? << 20) | minor.parse::<u64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INOTIFY: &str = "pos:\t0\nflags:\t00\nmnt_id:\t17\nino:\t1038\n\
        inotify wd:1 ino:3 sdev:2c mask:fff ignored_mask:0 fhandle-bytes:c fhandle-type:81 f_handle:0300\n\
        inotify wd:2 ino:10 sdev:2d mask:fff ignored_mask:0\n";

    #[test]
    fn inotify_marks_of_the_device_are_found() {
        let mut found = HashSet::new();
        assert_eq!(marks(INOTIFY, 0x2c, &mut found), Some(()));
        assert_eq!(found, HashSet::from([3]));
    }

    #[test]
    fn a_mount_mark_could_watch_anything() {
        let mut found = HashSet::new();
        let header = "fanotify flags:0 event-flags:0\n";
        assert_eq!(marks(header, 0x2c, &mut found), Some(()));
        let mount = "fanotify mnt_id:21 mflags:0 mask:3b ignored_mask:0\n";
        assert_eq!(marks(mount, 0x2c, &mut found), None);
        let filesystem = "fanotify sdev:2c mflags:0 mask:3b ignored_mask:0\n";
        assert_eq!(marks(filesystem, 0x2c, &mut found), None);
        let inode = "fanotify ino:3 sdev:2c mflags:0 mask:3b ignored_mask:0\n";
        assert_eq!(marks(inode, 0x2c, &mut found), Some(()));
        assert!(found.contains(&3));
    }

    #[test]
    fn devices_are_encoded_as_the_kernel_does() {
        assert_eq!(kernel_dev(b"0:44"), Some(44));
        assert_eq!(kernel_dev(b"8:1"), Some((8 << 20) | 1));
        assert_eq!(kernel_dev(b"x"), None);
    }

    #[test]
    fn this_process_is_readable() {
        // Nothing watches a device that does not exist (None: a process
        // this user may not look at).
        if let Some(watched) = watched(u64::MAX) {
            assert!(watched.is_empty(), "{watched:?}");
        }
    }
}

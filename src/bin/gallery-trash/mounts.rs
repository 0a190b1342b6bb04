//! Which galleryfs a path belongs to, from the mounts `/proc/self/mountinfo`
//! lists (parsed by `galleryfs::contract`). Locating is pure (records in,
//! a mount out) so it is tested without mounts.

use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use galleryfs::contract::{self, MountInfo};

/// A galleryfs filesystem, reached through a mount of its root directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Galleryfs {
    /// Where the filesystem's root (holding `gallery/` and `.trash/`) is mounted.
    pub root: PathBuf,
    pub dev: Vec<u8>,
}

impl Galleryfs {
    pub fn trash_dir(&self) -> PathBuf {
        self.root.join(contract::TRASH)
    }
}

/// A path located in a galleryfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    pub fs: Galleryfs,
    /// The path relative to the filesystem's root (empty for the root itself).
    pub inner: PathBuf,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LocateError {
    /// The path is on some other filesystem.
    NotGalleryfs,
    /// The path is in a bind mount of part of a galleryfs whose root is mounted nowhere.
    NoRootMount { mount_point: PathBuf },
}

impl fmt::Display for LocateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocateError::NotGalleryfs => write!(f, "not inside a galleryfs mount"),
            LocateError::NoRootMount { mount_point } => write!(
                f,
                "{} mounts only part of a galleryfs, whose root (with .trash) is not mounted",
                crate::escape::escape(mount_point.as_os_str().as_bytes())
            ),
        }
    }
}

/// Finds the galleryfs that holds `canonical` (an absolute path without
/// symlinks or `..`): the mount with the longest mount point containing it,
/// the last one listed when mounts are stacked.
pub(crate) fn locate(mounts: &[MountInfo], canonical: &Path) -> Result<Located, LocateError> {
    let mut best: Option<&MountInfo> = None;
    for m in mounts {
        if canonical.starts_with(&m.mount_point)
            && best.is_none_or(|b| depth(&m.mount_point) >= depth(&b.mount_point))
        {
            best = Some(m);
        }
    }
    let mount = best
        .filter(|m| m.is_galleryfs())
        .ok_or(LocateError::NotGalleryfs)?;
    let below = canonical
        .strip_prefix(&mount.mount_point)
        .unwrap_or(Path::new(""));
    let inner = relative(&mount.root).join(below);
    if relative(&mount.root).as_os_str().is_empty() {
        return Ok(Located {
            fs: Galleryfs {
                root: mount.mount_point.clone(),
                dev: mount.dev.clone(),
            },
            inner,
        });
    }
    // A bind mount of a subtree: reach the trash through a mount of the root.
    let root_mount = mounts
        .iter()
        .rev()
        .find(|m| {
            m.dev == mount.dev && m.is_galleryfs() && relative(&m.root).as_os_str().is_empty()
        })
        .ok_or_else(|| LocateError::NoRootMount {
            mount_point: mount.mount_point.clone(),
        })?;
    Ok(Located {
        fs: Galleryfs {
            root: root_mount.mount_point.clone(),
            dev: root_mount.dev.clone(),
        },
        inner,
    })
}

fn depth(path: &Path) -> usize {
    path.components().count()
}

/// `path` without its root, so `/a/b` becomes `a/b` and `/` becomes empty.
fn relative(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"\
22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 25 0:40 / /home/ann/Gallery rw,nosuid,nodev,relatime shared:30 - fuse.galleryfs /srv/store rw,user_id=0,group_id=0
41 40 0:41 / /home/ann/Gallery/gallery/usb rw,relatime - vfat /dev/sdb1 rw
42 25 0:42 / /mnt/with\\040space\\011tab\\134back rw - fuse.galleryfs store2 rw
43 25 0:40 /gallery/albums /home/ann/Albums rw - fuse.galleryfs /srv/store rw
44 25 0:44 /gallery /home/bob/Pics rw - fuse.galleryfs /srv/other rw
";

    fn mounts() -> Vec<MountInfo> {
        contract::parse_mountinfo(SAMPLE)
    }

    #[test]
    fn locates_the_mount_root_itself_and_paths_below() {
        let m = mounts();
        let at_root = locate(&m, Path::new("/home/ann/Gallery")).unwrap();
        assert_eq!(at_root.fs.root, Path::new("/home/ann/Gallery"));
        assert_eq!(at_root.inner, Path::new(""));
        let below = locate(&m, Path::new("/home/ann/Gallery/gallery/albums/cat.jpg")).unwrap();
        assert_eq!(below.inner, Path::new("gallery/albums/cat.jpg"));
    }

    #[test]
    fn prefix_means_whole_components() {
        assert_eq!(
            locate(&mounts(), Path::new("/home/ann/Gallery2/x")),
            Err(LocateError::NotGalleryfs)
        );
    }

    #[test]
    fn a_deeper_mount_of_another_type_wins() {
        let path = Path::new("/home/ann/Gallery/gallery/usb/photo.jpg");
        assert_eq!(locate(&mounts(), path), Err(LocateError::NotGalleryfs));
    }

    #[test]
    fn outside_any_galleryfs() {
        assert_eq!(
            locate(&mounts(), Path::new("/tmp")),
            Err(LocateError::NotGalleryfs)
        );
        assert_eq!(
            locate(&mounts(), Path::new("/")),
            Err(LocateError::NotGalleryfs)
        );
    }

    #[test]
    fn unescaped_mount_points_match() {
        let loc = locate(&mounts(), Path::new("/mnt/with space\ttab\\back/.trash/x")).unwrap();
        assert_eq!(loc.inner, Path::new(".trash/x"));
    }

    #[test]
    fn bind_mount_of_a_subtree_maps_to_the_root_mount() {
        let loc = locate(&mounts(), Path::new("/home/ann/Albums/cat.jpg")).unwrap();
        assert_eq!(loc.fs.root, Path::new("/home/ann/Gallery"));
        assert_eq!(loc.inner, Path::new("gallery/albums/cat.jpg"));
    }

    #[test]
    fn bind_mount_without_a_root_mount_is_an_error() {
        let err = locate(&mounts(), Path::new("/home/bob/Pics/x")).unwrap_err();
        assert_eq!(
            err,
            LocateError::NoRootMount {
                mount_point: PathBuf::from("/home/bob/Pics")
            }
        );
    }

    #[test]
    fn stacked_mounts_use_the_top_one() {
        let text = b"25 1 8:1 / / rw - ext4 /dev/sda1 rw
60 25 0:60 / /g rw - ext4 /dev/sdc rw
61 60 0:61 / /g rw - fuse.galleryfs s rw
";
        let loc = locate(&contract::parse_mountinfo(text), Path::new("/g/gallery")).unwrap();
        assert_eq!(loc.fs.dev, b"0:61");
    }
}

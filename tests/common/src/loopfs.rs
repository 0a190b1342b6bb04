//! A filesystem of another kind (btrfs, xfs) on a loop image in a temp dir,
//! to use as STORAGE where a test needs what ext4 lacks (reflinks).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cmd::ok;
use crate::wait::poll_for;

/// A loop-mounted filesystem, unmounted (and its image deleted) when dropped.
pub struct LoopFs {
    dir: PathBuf,
    _base: tempfile::TempDir,
}

impl LoopFs {
    /// Makes a `kind` filesystem (`mkfs.KIND`) of `size_mib` MiB and mounts it.
    /// Fails the test with a clear message if the tools are missing.
    pub fn new(kind: &str, size_mib: u64) -> LoopFs {
        let mkfs = format!("mkfs.{kind}");
        assert!(
            Command::new("which")
                .arg(&mkfs)
                .status()
                .is_ok_and(|s| s.success()),
            "{mkfs} is missing: install {} (.ci/run does)",
            match kind {
                "btrfs" => "btrfs-progs",
                "xfs" => "xfsprogs",
                other => other,
            }
        );
        let base = tempfile::Builder::new()
            .prefix("galleryfs-loop-")
            .tempdir()
            .expect("create temp dir");
        let image = base.path().join("image");
        let file = fs::File::create(&image).expect("create the image");
        file.set_len(size_mib << 20).expect("size the image");
        drop(file);
        ok(Command::new(&mkfs).arg("-q").arg(&image));
        let dir = base.path().join("store");
        fs::create_dir(&dir).expect("create the mount point");
        ok(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&dir));
        LoopFs { dir, _base: base }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for LoopFs {
    fn drop(&mut self) {
        // A galleryfs that just exited may still hold it for a moment.
        let unmounted = poll_for(Duration::from_secs(5), || {
            Command::new("umount")
                .arg(&self.dir)
                .status()
                .is_ok_and(|s| s.success())
                .then_some(())
        });
        if unmounted.is_none() {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

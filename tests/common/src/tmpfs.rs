//! A small tmpfs to use as STORAGE, unmounted when dropped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cmd::ok;
use crate::wait::poll_for;

/// A tmpfs of a given size mounted on `BASE/store` in a temporary directory.
/// Drop any [`Mount`](crate::Mount) on it first: fields drop in declaration order.
pub struct Tmpfs {
    dir: PathBuf,
    _base: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=`: `64m`, `16m`, …).
    pub fn new(size: &str) -> Tmpfs {
        let base = tempfile::Builder::new()
            .prefix("galleryfs-tmpfs-")
            .tempdir()
            .expect("create temp dir");
        let dir = base.path().join("store");
        fs::create_dir(&dir).expect("create the tmpfs mount point");
        ok(Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size}"))
            .arg("tmpfs")
            .arg(&dir));
        Tmpfs { dir, _base: base }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // A galleryfs that just exited may still hold it for a moment: retry,
        // then detach it lazily.
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

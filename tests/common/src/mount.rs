//! A real galleryfs mounted on a temporary directory, unmounted when dropped.
//!
//! Every integration test goes through this fixture, so a machine without FUSE
//! fails loudly here instead of skipping.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::bins::galleryfs_bin;
use crate::wait::wait_until;

/// How long a mount or unmount may take before the test fails.
pub const MOUNT_TIMEOUT: Duration = Duration::from_secs(20);

/// Fails the test run with a clear message when FUSE cannot work here.
pub fn require_fuse() {
    assert!(
        Path::new("/dev/fuse").exists(),
        "FUSE is unavailable: /dev/fuse is missing. galleryfs tests need FUSE (load the fuse module, or run on a machine with /dev/fuse)"
    );
}

/// Whether `path` is currently a mount point of type fuse.galleryfs.
pub fn is_mounted(path: &Path) -> bool {
    let Ok(info) = fs::read("/proc/self/mountinfo") else {
        return false;
    };
    let want = mountinfo_escape(path.as_os_str());
    info.split(|&b| b == b'\n').any(|line| {
        let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == b"-") else {
            return false;
        };
        fields.len() > sep + 1
            && fields[4] == want.as_slice()
            && fields[sep + 1] == b"fuse.galleryfs"
    })
}

fn mountinfo_escape(path: &OsStr) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in path.as_bytes() {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            _ => out.push(b),
        }
    }
    out
}

/// A galleryfs process in the foreground (`-f`) serving `mountpoint` from `storage`.
pub struct Mount {
    /// Holds `storage`, `mnt` and the daemon's log; removed on drop.
    pub base: tempfile::TempDir,
    pub storage: PathBuf,
    pub mountpoint: PathBuf,
    pub options: Vec<String>,
    /// Extra environment for the daemon (e.g. `GALLERYFS_CRASH_AT`), applied
    /// at each `mount()`; clear it before remounting without it.
    pub env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Mount {
    /// Mounts a fresh store with default options.
    #[allow(clippy::new_without_default)] // mounting is no default value
    pub fn new() -> Mount {
        Mount::with_options(&[])
    }

    /// Mounts a fresh store, passing each of `options` as `-o OPTION`.
    pub fn with_options(options: &[&str]) -> Mount {
        require_fuse();
        let base = tempfile::Builder::new()
            .prefix("galleryfs-test-")
            .tempdir()
            .expect("create temp dir");
        let storage = base.path().join("store");
        let mountpoint = base.path().join("mnt");
        fs::create_dir(&mountpoint).expect("create mountpoint");
        let mut m = Mount {
            base,
            storage,
            mountpoint,
            options: options.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            child: None,
        };
        m.mount();
        m
    }

    /// Like `with_options`, with extra environment variables for the daemon.
    pub fn with_env(options: &[&str], env: &[(&str, &str)]) -> Mount {
        let mut m = Mount::with_options(options);
        if !env.is_empty() {
            m.env = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            m.remount();
        }
        m
    }

    /// Mounts the store in `storage`, an existing directory the caller owns
    /// (a small tmpfs, say, unmounted only after this mount is dropped).
    pub fn on_storage(storage: &Path, options: &[&str]) -> Mount {
        require_fuse();
        let base = tempfile::Builder::new()
            .prefix("galleryfs-test-")
            .tempdir()
            .expect("create temp dir");
        let mountpoint = base.path().join("mnt");
        fs::create_dir(&mountpoint).expect("create mountpoint");
        let mut m = Mount {
            base,
            storage: storage.to_path_buf(),
            mountpoint,
            options: options.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            child: None,
        };
        m.mount();
        m
    }

    pub fn gallery(&self) -> PathBuf {
        self.mountpoint.join("gallery")
    }

    pub fn trash(&self) -> PathBuf {
        self.mountpoint.join(".trash")
    }

    /// `STORAGE/gallery`, where the gallery's files live.
    pub fn storage_gallery(&self) -> PathBuf {
        self.storage.join("gallery")
    }

    /// `STORAGE/trash`, where the entries' data lives.
    pub fn storage_trash(&self) -> PathBuf {
        self.storage.join("trash")
    }

    /// The names `.trash/` lists, sorted (panics on a name that is not UTF-8).
    pub fn trash_names(&self) -> Vec<String> {
        crate::fsutil::sorted_names(&self.trash())
    }

    /// The names `.trash/` lists, sorted, as bytes.
    pub fn trash_os_names(&self) -> Vec<std::ffi::OsString> {
        crate::fsutil::sorted_os_names(&self.trash())
    }

    pub fn log_path(&self) -> PathBuf {
        self.base.path().join("galleryfs.log")
    }

    /// The daemon's stderr so far (useful in assertion messages).
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("mounted").id()
    }

    /// Starts galleryfs again on the same store and mountpoint.
    pub fn mount(&mut self) {
        assert!(self.child.is_none(), "already mounted");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open log");
        let mut cmd = Command::new(galleryfs_bin());
        cmd.arg(&self.storage).arg(&self.mountpoint).arg("-f");
        for o in &self.options {
            cmd.arg("-o").arg(o);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup log"))
        .stderr(log);
        let mut child = cmd.spawn().expect("spawn galleryfs");
        let start = Instant::now();
        while !is_mounted(&self.mountpoint) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "galleryfs exited with {status} before mounting:\n{}",
                    self.log()
                );
            }
            if start.elapsed() > MOUNT_TIMEOUT {
                let _ = child.kill();
                panic!(
                    "galleryfs did not mount within {MOUNT_TIMEOUT:?}:\n{}",
                    self.log()
                );
            }
            sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
    }

    /// Unmounts cleanly and waits for the daemon, which must exit 0.
    pub fn unmount(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let out = Command::new("umount")
            .arg(&self.mountpoint)
            .output()
            .expect("run umount");
        if !out.status.success() {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(&self.mountpoint)
                .status();
        }
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait galleryfs") {
                assert!(
                    status.success(),
                    "galleryfs exited with {status} after unmount:\n{}",
                    self.log()
                );
                break;
            }
            if start.elapsed() > MOUNT_TIMEOUT {
                let _ = child.kill();
                panic!("galleryfs did not exit after unmount:\n{}", self.log());
            }
            sleep(Duration::from_millis(10));
        }
    }

    /// Kills the daemon with SIGKILL and lazily unmounts the dead mount.
    ///
    /// Returns whether the kernel connection had to be aborted (`umount -f`)
    /// because the killed daemon could not finish dying: one of its threads
    /// was blocked in the kernel (an entry invalidation waiting for a
    /// directory lock held by a request the dead daemon will never answer),
    /// which keeps /dev/fuse open and every request on the mount hanging.
    pub fn kill9(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = child.kill();
        let start = Instant::now();
        let mut aborted = false;
        while let Ok(None) = child.try_wait() {
            if !aborted && start.elapsed() > Duration::from_secs(2) {
                // MNT_FORCE makes FUSE abort the connection, even when busy.
                // umount2 directly: umount(8) would stat the mount first,
                // a request nobody answers.
                let path = std::ffi::CString::new(self.mountpoint.as_os_str().as_bytes())
                    .expect("mountpoint without NUL");
                // SAFETY: a valid NUL-terminated path.
                unsafe { libc::umount2(path.as_ptr(), libc::MNT_FORCE) };
                aborted = true;
            }
            assert!(
                start.elapsed() < MOUNT_TIMEOUT,
                "galleryfs did not die after SIGKILL"
            );
            sleep(Duration::from_millis(5));
        }
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.mountpoint)
            .status();
        wait_until("the dead mount to go", || !is_mounted(&self.mountpoint));
        aborted
    }

    pub fn remount(&mut self) {
        self.unmount();
        self.mount();
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("umount").arg(&self.mountpoint).status();
            if is_mounted(&self.mountpoint) {
                let _ = Command::new("umount")
                    .arg("-l")
                    .arg(&self.mountpoint)
                    .status();
            }
            let start = Instant::now();
            while start.elapsed() < MOUNT_TIMEOUT {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

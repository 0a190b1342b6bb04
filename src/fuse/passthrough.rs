//! Kernel FUSE passthrough: backing ids registered with the kernel, one per
//! inode, shared by that inode's open handles until the last release.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use fuser::BackingId;

use crate::config::Passthrough as PassthroughMode;
use crate::fs::GalleryFs;
use crate::sync::lock;

/// Kernel FUSE passthrough: the kernel reads and writes the backing file
/// itself. It needs kernel support (negotiated at init) and CAP_SYS_ADMIN
/// (probed after mounting); without either, files are served by read/write
/// with the page cache kept across opens.
pub struct Passthrough {
    pub(super) mode: PassthroughMode,
    pub(super) negotiated: AtomicBool,
    enabled: AtomicBool,
    /// The kernel wants one backing id per inode: shared until the last release.
    by_node: Mutex<HashMap<u64, (Arc<BackingId>, usize)>>,
    node_of_handle: Mutex<HashMap<u64, u64>>,
}

/// `FUSE_DEV_IOC_BACKING_CLOSE`: `_IOW(229, 2, uint32_t)`.
const FUSE_DEV_IOC_BACKING_CLOSE: libc::c_ulong = 0x4004_e502;

impl Passthrough {
    pub fn new(mode: PassthroughMode) -> Arc<Passthrough> {
        Arc::new(Passthrough {
            mode,
            negotiated: AtomicBool::new(false),
            enabled: AtomicBool::new(false),
            by_node: Mutex::new(HashMap::new()),
            node_of_handle: Mutex::new(HashMap::new()),
        })
    }

    /// After mounting: checks that a backing file can be registered on
    /// `session_fd`, using `probe_file` (any regular file). Errors only when
    /// `passthrough=on` cannot be honoured.
    pub fn probe(&self, session_fd: impl AsFd, probe_file: impl AsFd) -> Result<(), String> {
        if self.mode == PassthroughMode::Off {
            return Ok(());
        }
        if !self.negotiated.load(Ordering::Relaxed) {
            return match self.mode {
                PassthroughMode::On => {
                    Err("passthrough=on: this kernel does not offer FUSE passthrough".into())
                }
                _ => Ok(()),
            };
        }
        match BackingId::create_raw(session_fd.as_fd(), probe_file) {
            Ok(id) => {
                // SAFETY: closing the id just opened on this session's fd.
                unsafe {
                    libc::ioctl(
                        session_fd.as_fd().as_raw_fd(),
                        FUSE_DEV_IOC_BACKING_CLOSE,
                        &id,
                    )
                };
                self.enabled.store(true, Ordering::Relaxed);
                log::info!("kernel passthrough enabled for file I/O");
                Ok(())
            }
            Err(e) if self.mode == PassthroughMode::On => Err(format!(
                "passthrough=on: the kernel refused a backing file ({e}); it needs root (CAP_SYS_ADMIN)"
            )),
            Err(e) => {
                log::info!("kernel passthrough unavailable ({e}): serving reads and writes");
                Ok(())
            }
        }
    }

    /// Whether open file `fh` (flags `flags`) must not use passthrough
    /// although it is enabled: its writes must reach galleryfs (see `space`).
    pub(super) fn declines(&self, fs: &GalleryFs, fh: u64, flags: i32) -> bool {
        self.enabled.load(Ordering::Relaxed) && !fs.may_pass_through(fh, flags)
    }

    /// The backing id for `node`, registering `file` if it has none yet;
    /// None when passthrough is off or the kernel refuses.
    pub(super) fn attach(
        &self,
        node: u64,
        fh: u64,
        register: impl FnOnce() -> std::io::Result<BackingId>,
    ) -> Option<Arc<BackingId>> {
        if !self.enabled.load(Ordering::Relaxed) {
            return None;
        }
        let mut by_node = lock(&self.by_node);
        let id = match by_node.get_mut(&node) {
            Some((id, users)) => {
                *users += 1;
                id.clone()
            }
            None => match register() {
                Ok(id) => {
                    let id = Arc::new(id);
                    by_node.insert(node, (id.clone(), 1));
                    id
                }
                Err(e) => {
                    log::warn!(
                        "passthrough of node {node} failed ({e}); falling back to read/write"
                    );
                    return None;
                }
            },
        };
        lock(&self.node_of_handle).insert(fh, node);
        Some(id)
    }

    pub(super) fn release(&self, fh: u64) {
        let Some(node) = lock(&self.node_of_handle).remove(&fh) else {
            return;
        };
        let mut by_node = lock(&self.by_node);
        if let Some((_, users)) = by_node.get_mut(&node) {
            *users -= 1;
            if *users == 0 {
                by_node.remove(&node);
            }
        }
    }
}

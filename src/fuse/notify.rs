//! Invalidations of the kernel's caches: of names from a thread of their
//! own, of attributes at once; and echoes for watchers, handed to the echo
//! thread.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use fuser::{INodeNo, Notifier};

use super::echo::Echoer;
use crate::fs::{Echo, Invalidation, Invalidator};
use crate::node::{TRASH, View};

/// Delivers entry invalidations from a thread of its own: one takes the
/// directory's lock, which the request a handler is answering may hold, so
/// handlers only queue them.
pub struct QueuedInvalidator {
    tx: std::sync::Mutex<mpsc::Sender<Invalidation>>,
    echoer: Option<Arc<Echoer>>,
    /// For the attribute invalidations sent at once (see `invalidate_attrs_now`).
    notifier: Notifier,
    held: Arc<Held>,
    /// For `invalidate_now` (see `urgent`).
    urgent: Notifier,
    /// For `expire_all_names`, which fuser cannot send (see `Epoch`).
    epoch: Epoch,
}

/// FUSE_NOTIFY_INC_EPOCH (Linux 6.16, protocol 7.44), written to a copy of
/// the session's `/dev/fuse` fd: every dentry the kernel made before it is
/// invalid at its next use. It takes no lock, so a request handler may
/// send it before it answers, which an entry invalidation (the directory's
/// lock) cannot.
struct Epoch {
    fd: Option<OwnedFd>,
    /// The kernel refused it once (an older kernel): not tried again.
    refused: AtomicBool,
}

impl Epoch {
    /// The notification's header: `fuse_out_header` with no request
    /// (`unique` 0) and the notify code in `error`.
    const NOTIFY_INC_EPOCH: i32 = 8;

    fn bump(&self) {
        let Some(fd) = &self.fd else {
            return;
        };
        if self.refused.load(Ordering::Relaxed) {
            return;
        }
        let mut header = [0u8; 16];
        header[0..4].copy_from_slice(&16u32.to_ne_bytes());
        header[4..8].copy_from_slice(&Self::NOTIFY_INC_EPOCH.to_ne_bytes());
        match rustix::io::write(fd, &header) {
            Ok(16) => {}
            Ok(n) => log::warn!("the kernel took {n} bytes of a 16-byte epoch notification"),
            Err(e) => {
                if !self.refused.swap(true, Ordering::Relaxed) {
                    log::info!(
                        "this kernel does not take FUSE_NOTIFY_INC_EPOCH ({e}): the names it \
                         has cached stay valid after a folder moves into the trash (only the \
                         moved name is dropped)"
                    );
                }
            }
        }
    }
}

/// Whether the kernel holds `.trash` and the desktop view's directories,
/// mirrored from the lookups it was given and its FORGETs. Nearly every
/// change invalidates them, and no one may be looking at them: the kernel
/// refuses an invalidation of a node it does not hold (ENOENT, which fuser
/// hides), so without this every `rm` cost three wasted writes. Other
/// nodes are always invalidated.
#[derive(Default)]
pub struct Held(Mutex<HashMap<u64, u64>>);

impl Held {
    fn tracked(id: u64) -> bool {
        id == TRASH
            || matches!(
                View::decode(id),
                Some(View::Top(_) | View::Files(_) | View::Info(_) | View::Expunged(_))
            )
    }

    /// The kernel is given one more reference to `id`. Counted before the
    /// reply goes out: an invalidation racing with the reply is then sent
    /// (and may be refused) rather than skipped.
    pub fn given(&self, id: u64) {
        if Self::tracked(id) {
            *crate::sync::lock(&self.0).entry(id).or_default() += 1;
        }
    }

    /// The kernel dropped `n` references to `id`.
    pub fn forgot(&self, id: u64, n: u64) {
        if Self::tracked(id) {
            let mut held = crate::sync::lock(&self.0);
            if let Some(count) = held.get_mut(&id) {
                *count = count.saturating_sub(n);
                if *count == 0 {
                    held.remove(&id);
                }
            }
        }
    }

    fn holds(&self, id: u64) -> bool {
        !Self::tracked(id) || crate::sync::lock(&self.0).contains_key(&id)
    }

    fn deliver(&self, notifier: &Notifier, what: &Invalidation) {
        if !self.holds(what.dir()) {
            return;
        }
        match super::urgent::send(notifier, what) {
            Ok(()) => log::trace!("invalidation {what:?} delivered"),
            Err(e) => log::debug!("invalidation {what:?}: {e}"),
        }
    }
}

impl QueuedInvalidator {
    /// `device` is a copy of the session's `/dev/fuse` fd (see `Epoch`).
    pub fn start(
        notifier: Notifier,
        device: Option<OwnedFd>,
        echoer: Option<Arc<Echoer>>,
        held: Arc<Held>,
    ) -> QueuedInvalidator {
        let (tx, rx) = mpsc::channel::<Invalidation>();
        let (direct, held_direct) = (notifier.clone(), held.clone());
        let urgent = notifier.clone();
        let spawned = std::thread::Builder::new()
            .name("invalidator".into())
            .spawn(move || {
                for what in rx {
                    held.deliver(&notifier, &what);
                }
            });
        if let Err(e) = spawned {
            log::error!("cannot start the invalidation thread: {e}");
        }
        QueuedInvalidator {
            tx: std::sync::Mutex::new(tx),
            echoer,
            notifier: direct,
            held: held_direct,
            urgent,
            epoch: Epoch {
                fd: device,
                refused: AtomicBool::new(false),
            },
        }
    }
}

impl Invalidator for QueuedInvalidator {
    fn invalidate(&self, what: Invalidation) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(what);
    }

    fn invalidate_ahead(&self, what: Invalidation) {
        super::urgent::deliver_ahead(&self.urgent, what);
    }

    /// Attributes only (offset -1: no page of the inode is touched), which
    /// needs no lock a request in flight can hold: safe from a handler,
    /// unlike an entry invalidation, which takes the directory's lock.
    fn invalidate_attrs_now(&self, node: u64) {
        if !self.held.holds(node) {
            return;
        }
        match self.notifier.inval_inode(INodeNo(node), -1, 0) {
            Ok(()) => log::trace!("attributes of {node} invalidated"),
            Err(e) => log::debug!("invalidating the attributes of {node}: {e}"),
        }
    }

    fn invalidate_now(&self, what: Invalidation) {
        // A directory the kernel does not hold has no name to drop: no
        // thread to start and wait for (a restore through `.trash` asks
        // for its `files/` name, which no one may have looked at).
        if self.held.holds(what.dir()) {
            super::urgent::deliver(&self.urgent, what);
        }
    }

    fn expire_all_names(&self) {
        self.epoch.bump();
    }

    fn echo(&self, echo: Echo) {
        if let Some(echoer) = &self.echoer {
            echoer.send(echo);
        }
    }
}

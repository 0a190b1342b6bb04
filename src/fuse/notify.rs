//! Invalidations of the kernel's caches, delivered from a thread of their
//! own, and echoes for watchers, handed to the echo thread.

use std::sync::{Arc, mpsc};

use fuser::{INodeNo, Notifier};

use super::echo::Echoer;
use crate::fs::{Echo, Invalidation, Invalidator};

/// Delivers invalidations from a thread of its own: a notification written
/// while a request handler holds a lock the kernel's invalidation needs
/// could deadlock, so handlers only queue them.
pub struct QueuedInvalidator {
    tx: std::sync::Mutex<mpsc::Sender<Invalidation>>,
    echoer: Option<Arc<Echoer>>,
    /// For `invalidate_now` (see `urgent`).
    urgent: Notifier,
}

impl QueuedInvalidator {
    pub fn start(notifier: Notifier, echoer: Option<Arc<Echoer>>) -> QueuedInvalidator {
        let (tx, rx) = mpsc::channel::<Invalidation>();
        let urgent = notifier.clone();
        let spawned = std::thread::Builder::new()
            .name("invalidator".into())
            .spawn(move || {
                for what in rx {
                    let result = match &what {
                        Invalidation::Inode(node) => notifier.inval_inode(INodeNo(*node), 0, 0),
                        Invalidation::Entry(parent, name) => {
                            notifier.inval_entry(INodeNo(*parent), name)
                        }
                        Invalidation::Delete(parent, child, name) => {
                            notifier.delete(INodeNo(*parent), INodeNo(*child), name)
                        }
                    };
                    match result {
                        Ok(()) => log::trace!("invalidation {what:?} delivered"),
                        Err(e) => log::debug!("invalidation {what:?}: {e}"),
                    }
                }
            });
        if let Err(e) = spawned {
            log::error!("cannot start the invalidation thread: {e}");
        }
        QueuedInvalidator {
            tx: std::sync::Mutex::new(tx),
            echoer,
            urgent,
        }
    }
}

impl Invalidator for QueuedInvalidator {
    fn invalidate(&self, what: Invalidation) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(what);
    }

    fn invalidate_now(&self, what: Invalidation) {
        super::urgent::deliver(&self.urgent, what);
    }

    fn echo(&self, echo: Echo) {
        if let Some(echoer) = &self.echoer {
            echoer.send(echo);
        }
    }
}

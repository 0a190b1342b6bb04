//! Invalidations of the kernel's caches: of names from a thread of their
//! own, of attributes at once; and echoes for watchers, handed to the echo
//! thread.

use std::collections::HashMap;
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
        let target = match what {
            Invalidation::Entry(parent, _) | Invalidation::Delete(parent, _, _) => *parent,
        };
        if !self.holds(target) {
            return;
        }
        let result = match what {
            Invalidation::Entry(parent, name) => notifier.inval_entry(INodeNo(*parent), name),
            Invalidation::Delete(parent, child, name) => {
                notifier.delete(INodeNo(*parent), INodeNo(*child), name)
            }
        };
        match result {
            Ok(()) => log::trace!("invalidation {what:?} delivered"),
            Err(e) => log::debug!("invalidation {what:?}: {e}"),
        }
    }
}

impl QueuedInvalidator {
    pub fn start(
        notifier: Notifier,
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
        }
    }
}

impl Invalidator for QueuedInvalidator {
    fn invalidate(&self, what: Invalidation) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(what);
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
        super::urgent::deliver(&self.urgent, what);
    }

    fn echo(&self, echo: Echo) {
        if let Some(echoer) = &self.echoer {
            echoer.send(echo);
        }
    }
}

//! Invalidations a request handler waits for: the kernel must have dropped
//! a name before the request that made it stale is answered (the other view
//! of a trash entry, see `fs::events`). Each is written from a thread of its
//! own, and the handler waits a bounded time: the kernel takes the
//! directory's lock for it, which a request waiting for another handler may
//! hold, and waiting forever could deadlock the two. Past the bound it
//! completes later, as a queued one would.

use std::sync::mpsc;
use std::time::Duration;

use fuser::{INodeNo, Notifier};

use crate::fs::Invalidation;

/// How long a handler waits for the kernel to take a directory's lock.
const WAIT: Duration = Duration::from_millis(200);

/// Delivers `what` through `notifier`, waiting for it at most `WAIT`.
pub(super) fn deliver(notifier: &Notifier, what: Invalidation) {
    let notifier = notifier.clone();
    let (done, finished) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("invalidate-now".into())
        .spawn(move || {
            let result = match &what {
                Invalidation::Entry(parent, name) => notifier.inval_entry(INodeNo(*parent), name),
                Invalidation::Delete(parent, child, name) => {
                    notifier.delete(INodeNo(*parent), INodeNo(*child), name)
                }
            };
            if let Err(e) = result {
                log::debug!("invalidation {what:?}: {e}");
            }
            let _ = done.send(());
        });
    match spawned {
        Ok(_) => {
            if finished.recv_timeout(WAIT).is_err() {
                log::debug!("an invalidation waits for a directory's lock: answering first");
            }
        }
        Err(e) => log::warn!("cannot start an invalidation thread: {e}"),
    }
}

//! Invalidations a request handler waits for: the kernel must have dropped
//! a name before the request that made it stale is answered (the other view
//! of a trash entry, see `fs::events`). Each is written from a thread of its
//! own, and the handler waits a bounded time: the kernel takes the
//! directory's lock for it, which a request waiting for another handler may
//! hold, and waiting forever could deadlock the two. Past the bound it
//! completes later, as a queued one would. And invalidations of a name in
//! a directory the request itself holds locked (`deliver_ahead`), ordered
//! ahead of whatever the kernel serves after the answer.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fuser::{INodeNo, Notifier};

use crate::fs::Invalidation;

/// Writes invalidation `what` to the kernel: for these and for the queued
/// ones (`notify`).
pub(super) fn send(notifier: &Notifier, what: &Invalidation) -> std::io::Result<()> {
    match what {
        Invalidation::Entry(parent, name) => notifier.inval_entry(INodeNo(*parent), name),
        Invalidation::Delete(parent, child, name) => {
            notifier.delete(INodeNo(*parent), INodeNo(*child), name)
        }
    }
}

/// How long a handler waits for the kernel to take a directory's lock.
const WAIT: Duration = Duration::from_millis(200);

/// Delivers `what` through `notifier`, waiting for it at most `WAIT`.
pub(super) fn deliver(notifier: &Notifier, what: Invalidation) {
    let notifier = notifier.clone();
    let (done, finished) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("invalidate-now".into())
        .spawn(move || {
            if let Err(e) = send(&notifier, &what) {
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

/// How long `deliver_ahead` waits for its thread to block in the kernel.
const AHEAD_WAIT: Duration = Duration::from_millis(20);

/// Starts `what` on a thread of its own and returns once that thread waits
/// in the kernel, for the directory's lock the request being answered
/// holds: the kernel hands the lock to the first waiter when the request
/// lets go of it, so the name is dropped before any request that comes
/// after the answer can use it. Past `AHEAD_WAIT` it returns anyway (the
/// invalidation then completes later, as a queued one would).
pub(super) fn deliver_ahead(notifier: &Notifier, what: Invalidation) {
    let notifier = notifier.clone();
    let (started, tid) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("invalidate-ahead".into())
        .spawn(move || {
            let _ = started.send(own_tid());
            if let Err(e) = send(&notifier, &what) {
                log::debug!("invalidation {what:?}: {e}");
            }
        });
    if let Err(e) = spawned {
        log::warn!("cannot start an invalidation thread: {e}");
        return;
    }
    let deadline = Instant::now() + AHEAD_WAIT;
    let Ok(Some(tid)) = tid.recv_timeout(AHEAD_WAIT) else {
        return;
    };
    let stat = format!("/proc/self/task/{tid}/stat");
    while Instant::now() < deadline {
        match std::fs::read_to_string(&stat)
            .ok()
            .as_deref()
            .and_then(state)
        {
            // Blocked in the kernel (the lock), or done already.
            Some('D') | Some('Z') | Some('X') | None => return,
            _ => std::thread::sleep(Duration::from_micros(20)),
        }
    }
    log::debug!("an invalidation thread is not waiting for its lock yet: answering");
}

/// This thread's id, from `/proc/thread-self` (a link to `PID/task/TID`).
fn own_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// The state letter of a `/proc/.../stat` line (after the `(comm)`).
fn state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

//! The space thread: while writers use kernel passthrough (whose writes never
//! reach galleryfs), keeps free room on the backing filesystem by purging.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use super::Host;
use crate::sync::lock;

/// The thread that keeps room free while passthrough writers are open: their
/// writes never reach galleryfs, so it purges before they hit a full disk.
pub struct Watcher {
    stop: Box<dyn Fn() + Send>,
    thread: JoinHandle<()>,
}

impl Watcher {
    pub fn start<H: Host + Send + Sync + 'static>(host: Arc<H>) -> std::io::Result<Watcher> {
        let watched = host.clone();
        let thread = std::thread::Builder::new()
            .name("space".into())
            .spawn(move || {
                while watched.space().wait_for_writers() {
                    watched.space().watch(&*watched);
                }
            })?;
        let stop = Box::new(move || {
            let space = host.space();
            let _writers = lock(&space.writers);
            space.stopping.store(true, Ordering::SeqCst);
            space.writers_changed.notify_all();
        });
        Ok(Watcher { stop, thread })
    }

    pub fn stop(self) {
        (self.stop)();
        let _ = self.thread.join();
    }
}

//! The background sweep: deletes expired trash entries right after mount
//! (so entries that expired while unmounted go at once) and every `sweep`.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::fs::GalleryFs;

pub struct Expirer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Expirer {
    pub fn start(fs: Arc<GalleryFs>, every: Duration) -> std::io::Result<Expirer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("expirer".into())
            .spawn(move || {
                loop {
                    match fs.expire() {
                        Ok(0) => {}
                        Ok(n) => log::info!("expiry sweep deleted {n} entries"),
                        Err(e) => log::warn!("expiry sweep failed: {e}"),
                    }
                    match stopped.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        _ => return,
                    }
                }
            })?;
        Ok(Expirer { stop, thread })
    }

    /// Stops the sweep, waiting for a batch in progress to finish.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

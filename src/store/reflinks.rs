//! Whether STORAGE makes reflinks, learned at the first need and kept for
//! the mount.

use std::sync::atomic::{AtomicU8, Ordering};

/// Whether STORAGE makes reflinks: not tried yet, yes, no.
#[derive(Default)]
pub(super) struct Reflinks(AtomicU8);

const UNKNOWN: u8 = 0;
const YES: u8 = 1;
const NO: u8 = 2;

impl Reflinks {
    pub(super) fn available(&self) -> bool {
        self.0.load(Ordering::Relaxed) != NO
    }

    pub(super) fn learned(&self, yes: bool) {
        let value = if yes { YES } else { NO };
        if self.0.swap(value, Ordering::Relaxed) == UNKNOWN {
            log::info!(
                "STORAGE {} reflinks: overwritten files are kept {}",
                if yes { "makes" } else { "does not make" },
                if yes {
                    "at any size, sharing their blocks"
                } else {
                    "by copying, up to overwrite_copy_max"
                }
            );
        }
    }
}

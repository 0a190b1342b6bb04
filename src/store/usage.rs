//! The trash's and the gallery's byte counters: kept by the store on every
//! move and purge, read by the space policy (`space`) for df, caps and quota.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Subtracts without wrapping below zero.
pub(crate) fn sub(counter: &AtomicU64, n: u64) {
    let _ = counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
        Some(v.saturating_sub(n))
    });
}

/// Byte counters shared by the trash, which moves entries in and out, and the
/// core, which writes the gallery. The trash's count is the sum of the catalog
/// rows' `size` (allocated bytes, whole tree for a directory); the gallery's
/// is kept only with a quota (allocated bytes, hard links counted once).
#[derive(Debug, Default)]
pub struct Usage {
    trash: AtomicU64,
    pub(crate) gallery: AtomicU64,
    /// Quota held by operations in flight.
    pub(crate) reserved: AtomicU64,
    /// An entry arrived since the cap was last checked.
    pub(crate) arrived: AtomicBool,
}

impl Usage {
    pub fn new(trash_bytes: u64) -> Usage {
        Usage {
            trash: AtomicU64::new(trash_bytes),
            ..Usage::default()
        }
    }

    pub fn trash_bytes(&self) -> u64 {
        self.trash.load(Ordering::SeqCst)
    }

    pub fn gallery_bytes(&self) -> u64 {
        self.gallery.load(Ordering::SeqCst)
    }

    /// An entry of `bytes` moved from the gallery into the trash.
    pub fn trashed(&self, bytes: u64) {
        self.trash.fetch_add(bytes, Ordering::SeqCst);
        sub(&self.gallery, bytes);
        self.arrived.store(true, Ordering::SeqCst);
    }

    /// A copy of `bytes` of a gallery file entered the trash; the gallery
    /// keeps its own (a truncation that follows counts for itself).
    pub fn copied(&self, bytes: u64) {
        self.trash.fetch_add(bytes, Ordering::SeqCst);
        self.arrived.store(true, Ordering::SeqCst);
    }

    /// `bytes` of the trash moved back into the gallery.
    pub fn restored(&self, bytes: u64) {
        sub(&self.trash, bytes);
        self.gallery.fetch_add(bytes, Ordering::SeqCst);
    }

    /// `bytes` of the trash were deleted for good.
    pub fn purged(&self, bytes: u64) {
        sub(&self.trash, bytes);
    }

    /// The catalog's total, after reconciliation changed rows wholesale.
    pub fn set_trash(&self, bytes: u64) {
        self.trash.store(bytes, Ordering::SeqCst);
    }

    pub(crate) fn gallery_changed(&self, delta: i64) {
        if delta >= 0 {
            self.gallery.fetch_add(delta as u64, Ordering::SeqCst);
        } else {
            sub(&self.gallery, delta.unsigned_abs());
        }
    }
}

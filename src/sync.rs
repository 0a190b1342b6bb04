//! The one way the mount takes a lock.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poison: a panic on one request thread must not take
/// the whole mount down with it through every lock it held.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

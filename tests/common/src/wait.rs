//! Waiting for a condition: poll it until a deadline, then fail the test
//! saying what was awaited. Tests never sleep a fixed time instead.

use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long [`wait_until`] waits before failing the test.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// How often a condition is polled.
pub const INTERVAL: Duration = Duration::from_millis(20);

/// Polls `cond` until it holds; panics ("timed out waiting for {what}") after [`TIMEOUT`].
pub fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    wait_within(what, TIMEOUT, cond);
}

/// Polls `cond` until it holds; panics after `timeout`.
pub fn wait_within(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        sleep(INTERVAL);
    }
}

/// Polls `f` until it returns `Some`, and returns that; panics after `timeout`.
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        sleep(INTERVAL);
    }
}

/// Polls `f` until it returns `Some` or `timeout` passes; `None` then.
pub fn poll_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() >= timeout {
            return None;
        }
        sleep(INTERVAL);
    }
}

/// Returns once the wall clock is past `t`: a deadline the test needs to
/// have passed (a second boundary, an expiry), not a synchronisation.
pub fn until_clock_passes(t: std::time::SystemTime) {
    while std::time::SystemTime::now() <= t {
        sleep(INTERVAL);
    }
}

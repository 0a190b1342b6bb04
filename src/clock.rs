//! Time as the catalog keeps it: whole seconds since the epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in catalog seconds.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A `stat` time (`secs` may be before the epoch) as a `SystemTime`.
pub fn system_time(secs: i64, nsecs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nsecs as u32)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nsecs as u64)
    }
}

/// Catalog seconds as a `SystemTime` (before the epoch clamps to it).
pub fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64)
}

/// Time until `expires_at` (catalog seconds), to the nanosecond: a cache
/// timeout counted in whole seconds from a truncated "now" would let the
/// kernel show an entry for up to a second past its expiry.
pub fn time_left(expires_at: i64) -> Duration {
    at(expires_at)
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

/// This boot of the machine, as a number (the head of the kernel's boot
/// id), or None where the kernel does not say. Writes a process made
/// survive its death in the page cache; only a new boot can have lost any.
pub fn boot() -> Option<i64> {
    static BOOT: std::sync::OnceLock<Option<i64>> = std::sync::OnceLock::new();
    *BOOT.get_or_init(|| {
        let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let hex: String = id
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(15)
            .collect();
        (hex.len() == 15).then(|| i64::from_str_radix(&hex, 16).ok())?
    })
}

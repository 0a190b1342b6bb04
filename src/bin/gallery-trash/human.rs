//! Numbers and times as people read them: `1.5 MiB`, `2026-11-26 21:03`, `1 item`.

use chrono::{DateTime, Local, TimeZone, Utc};

const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// A size in bytes in powers of 1024: `512 B`, `1.5 KiB`, `10.0 MiB`.
pub(crate) fn size(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    // Move up a unit when the value would print as 1024.0 or more.
    while value >= 1023.95 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A time in the local time zone, to the minute: `2026-11-26 21:03`.
pub(crate) fn local_minute(at: DateTime<Utc>) -> String {
    minute_in(at, &Local)
}

fn minute_in<Tz: TimeZone>(at: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string()
}

/// The trash's own format for times: RFC 3339 UTC, whole seconds.
pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `1 item`, `0 items`, `3 items`.
pub(crate) fn items(count: usize) -> String {
    if count == 1 {
        "1 item".to_string()
    } else {
        format!("{count} items")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn bytes_below_a_kibibyte_are_exact() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1023), "1023 B");
    }

    #[test]
    fn larger_sizes_have_one_decimal() {
        assert_eq!(size(1024), "1.0 KiB");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(3 * 1024 * 1024 + 200 * 1024), "3.2 MiB");
        assert_eq!(size(1536 * 1024), "1.5 MiB");
        assert_eq!(size(10 * 1024 * 1024 * 1024), "10.0 GiB");
        assert_eq!(size(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn rounding_never_shows_1024_of_a_unit() {
        assert_eq!(size(1024 * 1024 - 1), "1.0 MiB");
        assert_eq!(size(1024 * 1024 - 60), "1023.9 KiB");
        assert_eq!(size(1024 * 1024 - 50), "1.0 MiB");
        assert_eq!(size(1023 * 1024), "1023.0 KiB");
    }

    #[test]
    fn minutes_in_a_time_zone() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T21:03:46Z")
            .unwrap()
            .to_utc();
        assert_eq!(minute_in(at, &Utc), "2026-11-26 21:03");
        let paris = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(minute_in(at, &paris), "2026-11-26 22:03");
    }

    #[test]
    fn rfc3339_whole_seconds() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T22:03:46.7+01:00")
            .unwrap()
            .to_utc();
        assert_eq!(rfc3339(at), "2026-11-26T21:03:46Z");
    }

    #[test]
    fn item_counts() {
        assert_eq!(items(0), "0 items");
        assert_eq!(items(1), "1 item");
        assert_eq!(items(2), "2 items");
    }
}

//! Times and counts as people read them: `2026-11-26 21:03`, `1 item`.
//! Sizes (`1.5 MiB`) and the trash's own time format are the mount's, in
//! `galleryfs::contract`.

use chrono::{DateTime, Local, TimeZone, Utc};

/// A time in the local time zone, to the minute: `2026-11-26 21:03`.
pub(crate) fn local_minute(at: DateTime<Utc>) -> String {
    minute_in(at, &Local)
}

/// A time in the local time zone, to the second: `2026-11-26 21:03:46`.
/// `restore --at` reads it back (`crate::at`).
pub(crate) fn local_second(at: DateTime<Utc>) -> String {
    second_in(at, &Local)
}

fn minute_in<Tz: TimeZone>(at: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string()
}

fn second_in<Tz: TimeZone>(at: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.with_timezone(tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `1 item`, `0 items`, `3 items`.
pub(crate) fn items(count: usize) -> String {
    if count == 1 {
        "1 item".to_string()
    } else {
        format!("{count} items")
    }
}

/// `1 short-lived temporary file`, `3 short-lived temporary files`: litter.
pub(crate) fn temporaries(count: usize) -> String {
    if count == 1 {
        "1 short-lived temporary file".to_string()
    } else {
        format!("{count} short-lived temporary files")
    }
}

/// `1 entry`, `0 entries`, `3 entries`.
pub(crate) fn entries(count: usize) -> String {
    if count == 1 {
        "1 entry".to_string()
    } else {
        format!("{count} entries")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn minutes_in_a_time_zone() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T21:03:46Z")
            .unwrap()
            .to_utc();
        assert_eq!(minute_in(at, &Utc), "2026-11-26 21:03");
        let paris = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(minute_in(at, &paris), "2026-11-26 22:03");
        assert_eq!(second_in(at, &Utc), "2026-11-26 21:03:46");
        assert_eq!(second_in(at, &paris), "2026-11-26 22:03:46");
    }

    #[test]
    fn item_counts() {
        assert_eq!(items(0), "0 items");
        assert_eq!(items(1), "1 item");
        assert_eq!(items(2), "2 items");
        assert_eq!(entries(0), "0 entries");
        assert_eq!(entries(1), "1 entry");
        assert_eq!(entries(200), "200 entries");
    }
}

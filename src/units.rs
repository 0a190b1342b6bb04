//! Durations and sizes as people type them, for the mount options
//! (`retention=30 days`, `max_trash=10GB`) and `gallery-trash` (`empty
//! --older-than 1w`): one parser for both, so a form accepted in one place
//! is accepted in the other.
//!
//! Durations are humantime's (`90s`, `12h`, `12 hours`, `30d`, `30days`,
//! `1w`, `1h 30m`, `1.5h`; `M` is a month of 30.44 days, `m` a minute).
//! Sizes are parse-size's with every unit a power of 1024 (`500G`, `10GB`,
//! `10 GiB`, `1.5G`, `4096`): galleryfs always read `G` as GiB and prints
//! sizes in KiB/MiB/GiB, and a `GB` that meant 7% less than `G` would
//! surprise more than it helps.

use std::time::Duration;

const MINUTE_SECS: u64 = 60;
const HOUR_SECS: u64 = 60 * MINUTE_SECS;
const DAY_SECS: u64 = 24 * HOUR_SECS;

/// Upper bound on any duration (10,000 years of 365 days). Larger values are
/// rejected as overflow: callers add durations to "now" as i64 seconds (SystemTime,
/// SQLite), and a near-u64::MAX retention would overflow there and panic.
const MAX_DURATION_SECS: u64 = 10_000 * 365 * DAY_SECS;

/// What a duration looks like, for the end of an error message.
pub const DURATION_EXPECTED: &str =
    "expected a positive duration such as 90s, 12h, 12 hours, 30d, 30days, 1w or 1h30m";
/// Same, where zero is allowed.
pub const DURATION_OR_ZERO_EXPECTED: &str =
    "expected 0 or a positive duration such as 90s, 12h, 12 hours, 1d, 1w or 1h30m";
/// What a size looks like, for the end of an error message.
pub const SIZE_EXPECTED: &str = "expected a positive size: bytes, or a number followed by K, M, G or T (powers of 1024, also written KB, KiB, ...), e.g. 500G, 10GB, 1.5G, 10 GiB";
/// Same, for `max_trash`, which also takes a percentage.
pub const TRASH_CAP_EXPECTED: &str = "expected a size such as 20G, 10GB, 1.5G or 10 GiB (bytes, or a number followed by K, M, G or T, powers of 1024) or a percentage from 1% to 100%";

/// Parses a positive duration: `30d`, `12 hours`, `1w`, `1h30m`, `1.5h`.
/// Zero, a missing unit and values beyond 10,000 years are errors; the
/// error is a short reason, without the value.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = parse_any_duration(s)?;
    if d.is_zero() {
        return Err("must be greater than zero".to_owned());
    }
    Ok(d)
}

/// Like [`parse_duration`], but zero is allowed, with or without a unit (`0`, `0s`, `0d`).
pub fn parse_duration_or_zero(s: &str) -> Result<Duration, String> {
    if !s.is_empty() && s.bytes().all(|b| b == b'0') {
        return Ok(Duration::ZERO);
    }
    parse_any_duration(s)
}

fn parse_any_duration(s: &str) -> Result<Duration, String> {
    if s.trim().is_empty() {
        return Err("empty".to_owned());
    }
    // humantime reads a bare number as seconds only when it is 0, and a
    // bare `30` is more likely days meant than seconds: ask for the unit.
    if s.trim().bytes().all(|b| b.is_ascii_digit()) {
        return Err("missing unit".to_owned());
    }
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d.as_secs() > MAX_DURATION_SECS {
        return Err("too large".to_owned());
    }
    Ok(d)
}

/// Formats a duration in the largest unit that represents it exactly:
/// `30d`, `1h`, `90s`, `0s`. Sub-second durations fall back to a decimal
/// number of seconds.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() != 0 {
        return format!("{d:?}");
    }
    let secs = d.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    for (unit_secs, unit) in [(DAY_SECS, 'd'), (HOUR_SECS, 'h'), (MINUTE_SECS, 'm')] {
        if secs.is_multiple_of(unit_secs) {
            return format!("{}{unit}", secs / unit_secs);
        }
    }
    format!("{secs}s")
}

/// Parses a positive size: bytes (`1048576`), or a number (a fraction too)
/// and a unit: `500G`, `10GB`, `10 GiB`, `1.5g`, `3M`; K, M, G, T, P, E
/// are powers of 1024 however written. The error is a short reason.
pub fn parse_size(s: &str) -> Result<u64, String> {
    match parse_size_or_zero(s)? {
        0 => Err("must be greater than zero".to_owned()),
        n => Ok(n),
    }
}

/// Like [`parse_size()`], but zero (`0`, `0B`, `0G`) is allowed.
pub fn parse_size_or_zero(s: &str) -> Result<u64, String> {
    if s.trim().is_empty() {
        return Err("empty".to_owned());
    }
    // parse-size takes a sign-less number, optional blanks, then the unit.
    parse_size::Config::new()
        .with_binary()
        .parse_size(s.trim())
        .map_err(|e| match e {
            parse_size::Error::PosOverflow => "too large".to_owned(),
            parse_size::Error::Empty => "empty".to_owned(),
            _ => "not a size".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn secs(s: &str) -> Result<u64, String> {
        parse_duration(s).map(|d| d.as_secs())
    }

    #[test]
    fn durations_as_people_type_them() {
        assert_eq!(secs("30d"), Ok(30 * DAY));
        assert_eq!(secs("007h"), Ok(7 * 3600));
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("15m"), Ok(900));
        assert_eq!(secs("1w"), Ok(7 * DAY));
        assert_eq!(secs("30days"), Ok(30 * DAY));
        assert_eq!(secs("12 hours"), Ok(12 * 3600));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("1h 30m"), Ok(5400));
        assert_eq!(secs("2 weeks"), Ok(14 * DAY));
        assert_eq!(secs("1.5h"), Ok(5400));
        assert_eq!(secs("3650000d"), Ok(3_650_000 * DAY));
    }

    #[test]
    fn bad_durations_say_why() {
        assert_eq!(parse_duration(""), Err("empty".to_owned()));
        assert_eq!(parse_duration("  "), Err("empty".to_owned()));
        assert_eq!(parse_duration("30"), Err("missing unit".to_owned()));
        assert_eq!(parse_duration("0"), Err("missing unit".to_owned()));
        assert_eq!(
            parse_duration("0h"),
            Err("must be greater than zero".to_owned())
        );
        assert_eq!(parse_duration("3650001d"), Err("too large".to_owned()));
        for bad in [
            "30x",
            "h",
            "-5d",
            "+5d",
            "5dd",
            "5D",
            "1.h",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn zero_where_allowed() {
        for zero in ["0", "00", "0s", "0m", "0h", "0d", "0 days"] {
            assert_eq!(parse_duration_or_zero(zero), Ok(Duration::ZERO), "{zero}");
        }
        for bad in ["", "-1d", "1", "0x", "x"] {
            assert!(parse_duration_or_zero(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn format_duration_uses_the_largest_exact_unit() {
        assert_eq!(format_duration(Duration::from_secs(2_592_000)), "30d");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(36 * 3600)), "36h");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        for text in ["30d", "1h", "90s", "2m", "36h", "3650000d"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn sizes_as_people_type_them() {
        assert_eq!(parse_size("1"), Ok(1));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("3M"), Ok(3 << 20));
        assert_eq!(parse_size("3m"), Ok(3 << 20));
        assert_eq!(parse_size("500G"), Ok(500 << 30));
        assert_eq!(parse_size("2t"), Ok(2 << 40));
        assert_eq!(parse_size("10GB"), Ok(10 << 30));
        assert_eq!(parse_size("10 GiB"), Ok(10 << 30));
        assert_eq!(parse_size("10gib"), Ok(10 << 30));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("1KB"), Ok(1024));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size("16777215T"), Ok(16_777_215 << 40));
        assert_eq!(parse_size("16777216T"), Err("too large".to_owned()));
        assert_eq!(
            parse_size("18446744073709551616"),
            Err("too large".to_owned())
        );
    }

    #[test]
    fn bad_sizes_say_why() {
        assert_eq!(parse_size("0"), Err("must be greater than zero".to_owned()));
        assert_eq!(
            parse_size("0G"),
            Err("must be greater than zero".to_owned())
        );
        assert_eq!(parse_size(""), Err("empty".to_owned()));
        for bad in ["-1G", "G", "10X", "1..5G", "ten", "1 G B"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_size_or_zero("0"), Ok(0));
        assert_eq!(parse_size_or_zero("0B"), Ok(0));
    }
}

//! The TIME of `restore --at`: which version of an original path to restore.
//!
//! TIME is one of
//! - an RFC 3339 time, as `versions --json`, `list --json` and `info` print
//!   it (`2026-11-26T21:03:46Z`, any offset, fractions allowed): that instant;
//! - a local time to the second, as `versions` prints it
//!   (`2026-11-26 21:03:46`, or with a `T`): that second;
//! - a local time to the minute, as `list` prints it (`2026-11-26 21:03`):
//!   that whole minute;
//! - a local date (`2026-11-26`): that whole day.
//!
//! The version chosen is the newest one deleted at or before the end of what
//! TIME names, so a time copied from `versions` restores exactly that row,
//! and `21:03` takes in a deletion at 21:03:46.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use galleryfs::contract;

/// A parsed TIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At {
    /// As typed (trimmed), for messages.
    pub text: String,
    /// The last instant TIME names: a deletion at or before it qualifies.
    pub latest: DateTime<Utc>,
}

impl At {
    /// Whether an entry deleted at `deleted_at` was deleted at or before TIME.
    pub fn covers(&self, deleted_at: DateTime<Utc>) -> bool {
        deleted_at <= self.latest
    }
}

/// What the error says TIME may be (clap prefixes `invalid value 'TEXT' for '--at <TIME>'`).
const EXPECTED: &str = "expected an RFC 3339 time (2026-11-26T21:03:46Z), \
     a local time YYYY-MM-DD HH:MM[:SS] (2026-11-26 21:03:46) or a local date YYYY-MM-DD";

/// Local forms with the length of time each names.
const LOCAL_FORMS: [(&str, Unit); 4] = [
    ("%Y-%m-%d %H:%M:%S", Unit::Second),
    ("%Y-%m-%dT%H:%M:%S", Unit::Second),
    ("%Y-%m-%d %H:%M", Unit::Minute),
    ("%Y-%m-%dT%H:%M", Unit::Minute),
];

#[derive(Debug, Clone, Copy)]
enum Unit {
    Second,
    Minute,
    Day,
}

impl Unit {
    fn length(self) -> Duration {
        match self {
            Unit::Second => Duration::seconds(1),
            Unit::Minute => Duration::minutes(1),
            Unit::Day => Duration::days(1),
        }
    }
}

/// Parses TIME in the local time zone (clap's value parser for `--at`).
pub(crate) fn parse(text: &str) -> Result<At, String> {
    parse_in(text, &chrono::Local)
}

fn parse_in<Tz: TimeZone>(text: &str, tz: &Tz) -> Result<At, String> {
    let text = text.trim();
    let at = |latest| {
        Ok(At {
            text: text.to_string(),
            latest,
        })
    };
    if let Some(instant) = contract::parse_time(text.as_bytes()) {
        return at(instant);
    }
    let local = LOCAL_FORMS
        .iter()
        .find_map(|(format, unit)| {
            NaiveDateTime::parse_from_str(text, format)
                .ok()
                .map(|t| (t, *unit))
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(|d| (d.and_time(NaiveTime::MIN), Unit::Day))
        });
    let Some((start, unit)) = local else {
        return Err(EXPECTED.to_string());
    };
    // The last nanosecond of the second, minute or day, in local time.
    let end = start
        .checked_add_signed(unit.length() - Duration::nanoseconds(1))
        .ok_or_else(|| EXPECTED.to_string())?;
    match latest_of(tz.from_local_datetime(&end)) {
        Some(latest) => at(latest.to_utc()),
        None => Err("no such local time: the clocks skipped it (daylight saving time)".into()),
    }
}

/// A local time that occurs twice (the clocks went back) names both
/// occurrences, so it ends at the later one; one that never occurred is None.
fn latest_of<Tz: TimeZone>(result: LocalResult<DateTime<Tz>>) -> Option<DateTime<Tz>> {
    match result {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(_, later) => Some(later),
        LocalResult::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn latest(text: &str) -> DateTime<Utc> {
        parse_in(text, &Utc).unwrap().latest
    }

    #[test]
    fn rfc3339_is_that_instant() {
        assert_eq!(latest("2026-11-26T21:03:46Z"), utc("2026-11-26T21:03:46Z"));
        assert_eq!(
            latest("2026-11-26T22:03:46+01:00"),
            utc("2026-11-26T21:03:46Z")
        );
        assert_eq!(
            latest("2026-11-26T21:03:46.5Z"),
            utc("2026-11-26T21:03:46.5Z")
        );
        // The local time zone does not matter when the offset is given.
        let paris = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            parse_in("2026-11-26T21:03:46Z", &paris).unwrap().latest,
            utc("2026-11-26T21:03:46Z")
        );
    }

    #[test]
    fn local_times_name_their_whole_second_minute_or_day() {
        let end = |s: &str| utc(s) - Duration::nanoseconds(1);
        assert_eq!(latest("2026-11-26 21:03:46"), end("2026-11-26T21:03:47Z"));
        assert_eq!(latest("2026-11-26T21:03:46"), end("2026-11-26T21:03:47Z"));
        assert_eq!(latest("2026-11-26 21:03"), end("2026-11-26T21:04:00Z"));
        assert_eq!(latest("2026-11-26T21:03"), end("2026-11-26T21:04:00Z"));
        assert_eq!(latest("2026-11-26"), end("2026-11-27T00:00:00Z"));
        assert_eq!(latest("  2026-11-26 21:03 "), end("2026-11-26T21:04:00Z"));
    }

    #[test]
    fn local_times_are_in_the_local_zone() {
        let paris = FixedOffset::east_opt(3600).unwrap();
        let at = parse_in("2026-11-26 22:03:46", &paris).unwrap();
        assert_eq!(
            at.latest,
            utc("2026-11-26T21:03:47Z") - Duration::nanoseconds(1)
        );
        assert_eq!(at.text, "2026-11-26 22:03:46");
    }

    #[test]
    fn a_time_covers_deletions_up_to_its_end() {
        let minute = parse_in("2026-11-26 21:03", &Utc).unwrap();
        assert!(minute.covers(utc("2026-11-26T21:03:59Z")));
        assert!(minute.covers(utc("2026-11-26T20:00:00Z")));
        assert!(!minute.covers(utc("2026-11-26T21:04:00Z")));
        let second = parse_in("2026-11-26 21:03:46", &Utc).unwrap();
        assert!(second.covers(utc("2026-11-26T21:03:46Z")));
        assert!(!second.covers(utc("2026-11-26T21:03:47Z")));
        let instant = parse_in("2026-11-26T21:03:46Z", &Utc).unwrap();
        assert!(instant.covers(utc("2026-11-26T21:03:46Z")));
        assert!(!instant.covers(utc("2026-11-26T21:03:46.001Z")));
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_accepted() {
        for bad in [
            "",
            "yesterday",
            "21:03",
            "2026-11-26 21",
            "2026-13-01",
            "2026-11-26 25:00",
            "26/11/2026",
            "2026-11-26T21:03:46+",
            "1700000000",
        ] {
            let err = parse_in(bad, &Utc).unwrap_err();
            assert_eq!(err, EXPECTED, "{bad:?}");
        }
        assert!(EXPECTED.contains("RFC 3339") && EXPECTED.contains("YYYY-MM-DD HH:MM[:SS]"));
    }

    #[test]
    fn ambiguous_local_times_end_at_their_later_occurrence() {
        let plus2 = FixedOffset::east_opt(7200).unwrap();
        let plus1 = FixedOffset::east_opt(3600).unwrap();
        let naive = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        let first = plus2.from_local_datetime(&naive).unwrap();
        let second = plus1.from_local_datetime(&naive).unwrap();
        assert_eq!(
            latest_of(LocalResult::Ambiguous(first, second)),
            Some(second)
        );
        assert_eq!(latest_of(LocalResult::Single(first)), Some(first));
        assert_eq!(latest_of::<FixedOffset>(LocalResult::None), None);
    }
}

//! TIME on the command line: `restore --at TIME`, and the `--since TIME` /
//! `--until TIME` of `list` and `restore --under`. One grammar for all three.
//!
//! TIME is one of
//! - an RFC 3339 time, as `versions --json`, `list --json` and `info` print
//!   it (`2026-11-26T21:03:46Z`, any offset, fractions allowed): that instant;
//! - a local date and time to the second, as `versions` prints it
//!   (`2026-11-26 21:03:46`, or with a `T`): that second;
//! - a local date and time to the minute, as `list` prints it
//!   (`2026-11-26 21:03`, or with a `T`): that whole minute;
//! - a local date (`2026-11-26`): that whole day;
//! - a local time of today (`14:00`, `14:00:30`): that minute or second;
//! - `today` or `yesterday`: that whole local day; `now`: this instant;
//! - a time ago: a number and a unit, `s`, `m`, `h`, `d` or `w` (seconds,
//!   minutes, hours, days, weeks), several of them run together (`1h30m`),
//!   optionally followed by `ago` (`2h ago`): that instant.
//!
//! A TIME names a span, from its first to its last instant (an instant is a
//! span of one). `--at` and `--until` take what was deleted at or before its
//! end, so a time copied from `versions` takes in exactly that row and
//! `21:03` takes in a deletion at 21:03:46; `--since` takes what was deleted
//! at or after its start, so `--since yesterday` begins at midnight.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use galleryfs::contract;

/// A parsed TIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Time {
    /// As typed (trimmed), for messages.
    pub text: String,
    /// The first instant TIME names: a deletion at or after it is `--since` TIME.
    pub earliest: DateTime<Utc>,
    /// The last instant TIME names: a deletion at or before it is `--at` or `--until` TIME.
    pub latest: DateTime<Utc>,
}

impl Time {
    /// Whether a deletion at `deleted_at` was at or before TIME (`--at`, `--until`).
    pub fn covers(&self, deleted_at: DateTime<Utc>) -> bool {
        deleted_at <= self.latest
    }

    /// Whether a deletion at `deleted_at` was at or after TIME (`--since`).
    pub fn precedes(&self, deleted_at: DateTime<Utc>) -> bool {
        deleted_at >= self.earliest
    }
}

/// What the error says TIME may be (clap prefixes `invalid value 'TEXT' for '--at <TIME>'`).
pub(crate) const EXPECTED: &str = "expected a local time (14:00, 2026-11-26, \
     2026-11-26 14:00[:SS], also with a T), an RFC 3339 time (2026-11-26T14:00:00Z), \
     today, yesterday, now, or a time ago (30m, 2h, 3d, 1w, 1h30m, 2h ago)";

/// Local forms with a date, and the length of time each names.
const LOCAL_FORMS: [(&str, Unit); 4] = [
    ("%Y-%m-%d %H:%M:%S", Unit::Second),
    ("%Y-%m-%dT%H:%M:%S", Unit::Second),
    ("%Y-%m-%d %H:%M", Unit::Minute),
    ("%Y-%m-%dT%H:%M", Unit::Minute),
];

/// Times of day (today), and the length of time each names.
const TIME_OF_DAY_FORMS: [(&str, Unit); 2] = [("%H:%M:%S", Unit::Second), ("%H:%M", Unit::Minute)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Parses TIME in the local time zone, now (clap's value parser for
/// `--at`, `--since` and `--until`).
pub(crate) fn parse(text: &str) -> Result<Time, String> {
    parse_in(text, &chrono::Local, Utc::now())
}

fn parse_in<Tz: TimeZone>(text: &str, tz: &Tz, now: DateTime<Utc>) -> Result<Time, String> {
    let text = text.trim();
    let span = |earliest, latest| {
        Ok(Time {
            text: text.to_string(),
            earliest,
            latest,
        })
    };
    if let Some(instant) = contract::parse_time(text.as_bytes()) {
        return span(instant, instant);
    }
    let today = now.with_timezone(tz).date_naive();
    let word = text.to_ascii_lowercase();
    let local = match word.as_str() {
        "now" => return span(now, now),
        "today" => Some((today.and_time(NaiveTime::MIN), Unit::Day)),
        "yesterday" => today
            .pred_opt()
            .map(|d| (d.and_time(NaiveTime::MIN), Unit::Day)),
        _ => None,
    };
    if local.is_none()
        && let Some(ago) = parse_ago(&word)
    {
        let instant = now
            .checked_sub_signed(ago)
            .ok_or_else(|| EXPECTED.to_string())?;
        return span(instant, instant);
    }
    let local = local
        .or_else(|| {
            LOCAL_FORMS.iter().find_map(|(format, unit)| {
                NaiveDateTime::parse_from_str(text, format)
                    .ok()
                    .map(|t| (t, *unit))
            })
        })
        .or_else(|| {
            TIME_OF_DAY_FORMS.iter().find_map(|(format, unit)| {
                NaiveTime::parse_from_str(text, format)
                    .ok()
                    .map(|t| (today.and_time(t), *unit))
            })
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
    match (
        in_zone(tz, start, unit, Edge::Start),
        in_zone(tz, end, unit, Edge::End),
    ) {
        (Some(earliest), Some(latest)) => span(earliest, latest),
        _ => Err("no such local time: the clocks skipped it (daylight saving time)".into()),
    }
}

/// `30m`, `2h`, `3d`, `1w`, `90s`, `1h30m`, each optionally followed by
/// `ago` (lower case already): how long ago. None if `word` is not one.
fn parse_ago(word: &str) -> Option<Duration> {
    let word = word.strip_suffix("ago").unwrap_or(word).trim_end();
    if word.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = word;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let count: i64 = rest[..digits].parse().ok()?;
        let mut chars = rest[digits..].chars();
        let secs = match chars.next()? {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => contract::SECS_PER_DAY,
            'w' => 7 * contract::SECS_PER_DAY,
            _ => return None,
        };
        total = total.checked_add(count.checked_mul(secs)?)?;
        rest = chars.as_str().trim_start();
    }
    Duration::try_seconds(total)
}

/// Which end of its span a local time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Start,
    End,
}

/// A local time as an instant. A time that occurs twice (the clocks went
/// back) names both occurrences: a span starts at the earlier and ends at
/// the later. One that never occurred (the clocks skipped it) is None,
/// except at an edge of a day, which then starts or ends at the gap: some
/// zones skip midnight.
fn in_zone<Tz: TimeZone>(
    tz: &Tz,
    local: NaiveDateTime,
    unit: Unit,
    edge: Edge,
) -> Option<DateTime<Utc>> {
    let pick = |result| match edge {
        Edge::Start => earliest_of(result),
        Edge::End => latest_of(result),
    };
    if let Some(t) = pick(tz.from_local_datetime(&local)) {
        return Some(t.to_utc());
    }
    if unit != Unit::Day {
        return None;
    }
    // Daylight saving gaps last at most an hour (30 minutes on Lord Howe):
    // step inside the day a minute at a time to the first time that exists.
    let step = match edge {
        Edge::Start => Duration::minutes(1),
        Edge::End => -Duration::minutes(1),
    };
    (1..=120).find_map(|n| {
        let moved = local.checked_add_signed(step * n)?;
        pick(tz.from_local_datetime(&moved)).map(|t| t.to_utc())
    })
}

fn earliest_of<Tz: TimeZone>(result: LocalResult<DateTime<Tz>>) -> Option<DateTime<Tz>> {
    match result {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(earlier, _) => Some(earlier),
        LocalResult::None => None,
    }
}

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

    /// The clock of these tests: a Thursday afternoon.
    fn now() -> DateTime<Utc> {
        utc("2026-11-26T15:30:20Z")
    }

    fn parsed(text: &str) -> Time {
        parse_in(text, &Utc, now()).unwrap()
    }

    fn latest(text: &str) -> DateTime<Utc> {
        parsed(text).latest
    }

    /// The span TIME names, as (earliest, latest).
    fn span(text: &str) -> (DateTime<Utc>, DateTime<Utc>) {
        let t = parsed(text);
        (t.earliest, t.latest)
    }

    /// The span from `start` up to just before `end`.
    fn from_to(start: &str, end: &str) -> (DateTime<Utc>, DateTime<Utc>) {
        (utc(start), utc(end) - Duration::nanoseconds(1))
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
        let t = parsed("2026-11-26T21:03:46Z");
        assert_eq!(t.earliest, t.latest);
        // The local time zone does not matter when the offset is given.
        let paris = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            parse_in("2026-11-26T21:03:46Z", &paris, now())
                .unwrap()
                .latest,
            utc("2026-11-26T21:03:46Z")
        );
    }

    #[test]
    fn local_times_name_their_whole_second_minute_or_day() {
        assert_eq!(
            span("2026-11-26 21:03:46"),
            from_to("2026-11-26T21:03:46Z", "2026-11-26T21:03:47Z")
        );
        assert_eq!(
            span("2026-11-26T21:03:46"),
            from_to("2026-11-26T21:03:46Z", "2026-11-26T21:03:47Z")
        );
        assert_eq!(
            span("2026-11-26 21:03"),
            from_to("2026-11-26T21:03:00Z", "2026-11-26T21:04:00Z")
        );
        assert_eq!(
            span("2026-11-26T21:03"),
            from_to("2026-11-26T21:03:00Z", "2026-11-26T21:04:00Z")
        );
        assert_eq!(
            span("2026-11-26"),
            from_to("2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z")
        );
        assert_eq!(
            span("  2026-11-26 21:03 "),
            from_to("2026-11-26T21:03:00Z", "2026-11-26T21:04:00Z")
        );
    }

    #[test]
    fn a_time_of_day_is_today() {
        assert_eq!(
            span("14:00"),
            from_to("2026-11-26T14:00:00Z", "2026-11-26T14:01:00Z")
        );
        assert_eq!(
            span("14:00:30"),
            from_to("2026-11-26T14:00:30Z", "2026-11-26T14:00:31Z")
        );
        // Later today is still today (and matches nothing deleted yet).
        assert_eq!(
            span("23:59"),
            from_to("2026-11-26T23:59:00Z", "2026-11-27T00:00:00Z")
        );
        assert_eq!(parsed("9:05").earliest, utc("2026-11-26T09:05:00Z"));
    }

    #[test]
    fn today_is_the_local_date_of_now() {
        // 15:30 UTC is already the 27th at UTC+10.
        let sydney = FixedOffset::east_opt(10 * 3600).unwrap();
        let t = parse_in("14:00", &sydney, now()).unwrap();
        assert_eq!(t.earliest, utc("2026-11-27T04:00:00Z"));
        let t = parse_in("today", &sydney, now()).unwrap();
        assert_eq!(t.earliest, utc("2026-11-26T14:00:00Z"));
    }

    #[test]
    fn today_and_yesterday_are_whole_days() {
        assert_eq!(
            span("today"),
            from_to("2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z")
        );
        assert_eq!(
            span("yesterday"),
            from_to("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z")
        );
        assert_eq!(span("Yesterday"), span("yesterday"));
        assert_eq!(span(" TODAY "), span("today"));
        assert_eq!(parsed("yesterday").text, "yesterday");
    }

    #[test]
    fn now_is_this_instant() {
        assert_eq!(span("now"), (now(), now()));
    }

    #[test]
    fn a_time_ago_is_that_instant() {
        let ago = |text: &str| {
            let t = parsed(text);
            assert_eq!(t.earliest, t.latest, "{text}");
            now() - t.latest
        };
        assert_eq!(ago("2h"), Duration::hours(2));
        assert_eq!(ago("30m"), Duration::minutes(30));
        assert_eq!(ago("3d"), Duration::days(3));
        assert_eq!(ago("1w"), Duration::weeks(1));
        assert_eq!(ago("45s"), Duration::seconds(45));
        assert_eq!(ago("1h30m"), Duration::minutes(90));
        assert_eq!(ago("1h 30m"), Duration::minutes(90));
        assert_eq!(ago("2h ago"), Duration::hours(2));
        assert_eq!(ago("2hago"), Duration::hours(2));
        assert_eq!(ago("2H"), Duration::hours(2));
        assert_eq!(ago("0m"), Duration::zero());
    }

    #[test]
    fn local_times_are_in_the_local_zone() {
        let paris = FixedOffset::east_opt(3600).unwrap();
        let t = parse_in("2026-11-26 22:03:46", &paris, now()).unwrap();
        assert_eq!(
            t.latest,
            utc("2026-11-26T21:03:47Z") - Duration::nanoseconds(1)
        );
        assert_eq!(t.earliest, utc("2026-11-26T21:03:46Z"));
        assert_eq!(t.text, "2026-11-26 22:03:46");
        let day = parse_in("2026-11-26", &paris, now()).unwrap();
        assert_eq!(day.earliest, utc("2026-11-25T23:00:00Z"));
    }

    #[test]
    fn a_time_covers_deletions_up_to_its_end_and_precedes_those_from_its_start() {
        let minute = parsed("2026-11-26 21:03");
        assert!(minute.covers(utc("2026-11-26T21:03:59Z")));
        assert!(minute.covers(utc("2026-11-26T20:00:00Z")));
        assert!(!minute.covers(utc("2026-11-26T21:04:00Z")));
        assert!(minute.precedes(utc("2026-11-26T21:03:00Z")));
        assert!(minute.precedes(utc("2026-11-26T22:00:00Z")));
        assert!(!minute.precedes(utc("2026-11-26T21:02:59Z")));
        let second = parsed("2026-11-26 21:03:46");
        assert!(second.covers(utc("2026-11-26T21:03:46Z")));
        assert!(!second.covers(utc("2026-11-26T21:03:47Z")));
        let instant = parsed("2026-11-26T21:03:46Z");
        assert!(instant.covers(utc("2026-11-26T21:03:46Z")));
        assert!(!instant.covers(utc("2026-11-26T21:03:46.001Z")));
        assert!(instant.precedes(utc("2026-11-26T21:03:46Z")));
        assert!(!instant.precedes(utc("2026-11-26T21:03:45.999Z")));
        let ago = parsed("2h");
        assert!(ago.precedes(utc("2026-11-26T13:30:20Z")));
        assert!(!ago.precedes(utc("2026-11-26T13:30:19Z")));
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_accepted() {
        for bad in [
            "",
            "last tuesday",
            "tomorrow",
            "2026-11-26 21",
            "2026-13-01",
            "2026-11-26 25:00",
            "25:00",
            "14",
            "26/11/2026",
            "2026-11-26T21:03:46+",
            "1700000000",
            "2",
            "h",
            "2y",
            "2h30",
            "-2h",
            "ago",
            "2h ago ago",
            "99999999999999w",
        ] {
            let err = parse_in(bad, &Utc, now()).unwrap_err();
            assert_eq!(err, EXPECTED, "{bad:?}");
        }
        for named in ["RFC 3339", "14:00", "2026-11-26", "yesterday", "2h"] {
            assert!(EXPECTED.contains(named), "{named}");
        }
    }

    #[test]
    fn ambiguous_local_times_start_at_their_earlier_and_end_at_their_later_occurrence() {
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
        assert_eq!(
            earliest_of(LocalResult::Ambiguous(first, second)),
            Some(first)
        );
        assert_eq!(latest_of(LocalResult::Single(first)), Some(first));
        assert_eq!(earliest_of(LocalResult::Single(first)), Some(first));
        assert_eq!(latest_of::<FixedOffset>(LocalResult::None), None);
        assert_eq!(earliest_of::<FixedOffset>(LocalResult::None), None);
    }
}

//! The orders `list --sort` offers. Each key has the direction a user wants
//! first (newest deletion, A to Z, soonest expiry, largest); unknown values
//! go last; ties fall back to the name so output is stable.

use std::cmp::Ordering;
use std::os::unix::ffi::OsStrExt;

use clap::ValueEnum;

use crate::entries::Measured;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SortKey {
    /// Newest deletion first
    Deleted,
    /// By name, A to Z (byte order)
    Name,
    /// Fewest days left first
    DaysLeft,
    /// Largest first
    Size,
}

pub(crate) fn sort(rows: &mut [Measured], key: SortKey, reverse: bool) {
    rows.sort_by(|a, b| {
        let by_key = match key {
            SortKey::Deleted => {
                known_first(a.entry.deleted_at, b.entry.deleted_at, |x, y| y.cmp(x))
            }
            SortKey::Name => Ordering::Equal,
            SortKey::DaysLeft => known_first(a.entry.days_left, b.entry.days_left, |x, y| x.cmp(y)),
            SortKey::Size => b.size.cmp(&a.size),
        };
        by_key.then_with(|| a.entry.name.as_bytes().cmp(b.entry.name.as_bytes()))
    });
    if reverse {
        rows.reverse();
    }
}

/// Orders known values with `cmp`, after which come the unknown ones.
fn known_first<T>(a: Option<T>, b: Option<T>, cmp: impl Fn(&T, &T) -> Ordering) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => cmp(&x, &y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

    fn rows() -> Vec<Measured> {
        let mut link = fake(b"link", None, None);
        link.days_left = None;
        let mut b = fake(b"b.jpg", Some("b.jpg"), Some("2026-11-20T10:00:00Z"));
        b.days_left = Some(24);
        let mut a = fake(b"a.jpg", Some("a.jpg"), Some("2026-11-26T10:00:00Z"));
        a.days_left = Some(30);
        let mut c = fake(b"c.jpg", Some("c.jpg"), Some("2026-11-26T10:00:00Z"));
        c.days_left = Some(30);
        vec![
            Measured {
                entry: link,
                size: 5,
            },
            Measured {
                entry: b,
                size: 300,
            },
            Measured {
                entry: a,
                size: 100,
            },
            Measured {
                entry: c,
                size: 200,
            },
        ]
    }

    fn names(rows: &[Measured]) -> Vec<String> {
        rows.iter()
            .map(|r| r.entry.name.to_string_lossy().into_owned())
            .collect()
    }

    fn sorted(key: SortKey, reverse: bool) -> Vec<String> {
        let mut r = rows();
        sort(&mut r, key, reverse);
        names(&r)
    }

    #[test]
    fn deleted_is_newest_first_with_unknown_last() {
        assert_eq!(
            sorted(SortKey::Deleted, false),
            ["a.jpg", "c.jpg", "b.jpg", "link"]
        );
    }

    #[test]
    fn name_is_byte_order() {
        assert_eq!(
            sorted(SortKey::Name, false),
            ["a.jpg", "b.jpg", "c.jpg", "link"]
        );
    }

    #[test]
    fn days_left_is_fewest_first() {
        assert_eq!(
            sorted(SortKey::DaysLeft, false),
            ["b.jpg", "a.jpg", "c.jpg", "link"]
        );
    }

    #[test]
    fn size_is_largest_first() {
        assert_eq!(
            sorted(SortKey::Size, false),
            ["b.jpg", "c.jpg", "a.jpg", "link"]
        );
    }

    #[test]
    fn reverse_flips_the_whole_order() {
        assert_eq!(
            sorted(SortKey::Deleted, true),
            ["link", "b.jpg", "c.jpg", "a.jpg"]
        );
        assert_eq!(
            sorted(SortKey::Size, true),
            ["link", "a.jpg", "c.jpg", "b.jpg"]
        );
    }
}

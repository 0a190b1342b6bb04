//! The table `list` and `purge` print, and the footer under it.

use std::os::unix::ffi::OsStrExt;

use chrono::{DateTime, Utc};
use galleryfs::contract::{self, human_size};

use crate::entries::{Entry, Kind, Measured};
use crate::escape::escape;
use crate::human;
use crate::space::{self, TrashSpace};

const HEADERS: [&str; 5] = ["NAME", "ORIGINAL PATH", "DELETED", "DAYS LEFT", "SIZE"];
/// Columns aligned to the right (numbers).
const RIGHT_ALIGNED: [bool; 5] = [false, false, false, true, true];
const GAP: &str = "  ";
/// Shown for a value that cannot be read.
pub(crate) const UNKNOWN: &str = "?";

/// What the footer reports about the trash: the rows listed, and what
/// galleryfs says of the whole trash (its size on disk, cap and purging).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub count: usize,
    pub total_size: u64,
    pub space: Option<TrashSpace>,
}

impl Summary {
    pub fn of(rows: &[Measured]) -> Summary {
        Summary {
            count: rows.len(),
            total_size: rows.iter().map(|r| r.size).sum(),
            space: None,
        }
    }

    pub fn with_space(self, space: Option<TrashSpace>) -> Summary {
        Summary { space, ..self }
    }
}

/// `3 items, 3.2 MiB`, then the cap and purging when there are any:
/// `; 3.3 MiB on disk of a 20.0 GiB cap; purging the oldest entries for space`.
pub(crate) fn footer(summary: &Summary) -> String {
    format!(
        "{}, {}{}",
        human::items(summary.count),
        human_size(summary.total_size),
        summary
            .space
            .as_ref()
            .map(space::footer_clause)
            .unwrap_or_default()
    )
}

/// The header and one line per row, each ending in a newline.
pub(crate) fn render(rows: &[Measured]) -> String {
    render_with(rows, human::local_minute)
}

fn render_with(rows: &[Measured], time: impl Fn(DateTime<Utc>) -> String) -> String {
    let cells: Vec<[String; 5]> = rows.iter().map(|r| row(r, &time)).collect();
    let mut widths = HEADERS.map(width);
    for line in &cells {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    for line in std::iter::once(HEADERS.map(String::from)).chain(cells) {
        let padded: Vec<String> = line
            .iter()
            .zip(widths)
            .zip(RIGHT_ALIGNED)
            .map(|((cell, w), right)| {
                let pad = " ".repeat(w - width(cell));
                if right {
                    format!("{pad}{cell}")
                } else {
                    format!("{cell}{pad}")
                }
            })
            .collect();
        out.push_str(padded.join(GAP).trim_end());
        out.push('\n');
    }
    out
}

fn row(r: &Measured, time: &impl Fn(DateTime<Utc>) -> String) -> [String; 5] {
    let e = &r.entry;
    [
        display_name(e),
        original_display(e),
        e.deleted_at.map(time).unwrap_or_else(|| UNKNOWN.into()),
        e.days_left
            .map(contract::format_days)
            .unwrap_or_else(|| UNKNOWN.into()),
        human_size(r.size),
    ]
}

/// The entry's name, escaped, with `/` after a directory's.
pub(crate) fn display_name(e: &Entry) -> String {
    let mut name = escape(e.name.as_bytes());
    if e.stat.kind == Kind::Dir {
        name.push('/');
    }
    name
}

/// `gallery/albums/cat.jpg`, escaped, or `?`.
pub(crate) fn original_display(e: &Entry) -> String {
    match &e.original_path {
        Ok(p) => format!("{}/{}", contract::GALLERY, escape(p)),
        Err(_) => UNKNOWN.into(),
    }
}

/// Columns are measured in characters: escaping leaves no control
/// characters, and wide (CJK) characters are rare enough in names to accept
/// a misaligned row.
fn width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

    fn sample() -> Vec<Measured> {
        let mut dir = fake(b"albums", Some("albums"), Some("2026-11-25T10:00:00Z"));
        dir.stat.kind = Kind::Dir;
        dir.days_left = Some(29);
        vec![
            Measured {
                entry: fake(
                    b"cat (2).jpg",
                    Some("albums/cat.jpg"),
                    Some("2026-11-26T21:03:46Z"),
                ),
                size: 1536 * 1024,
            },
            Measured {
                entry: dir,
                size: 3 * 1024 * 1024,
            },
            Measured {
                entry: fake(b"bad\n\xff", Some("x/bad\n"), Some("2026-11-24T08:00:00Z")),
                size: 512,
            },
            Measured {
                entry: fake(b"link", None, None),
                size: 7,
            },
        ]
    }

    fn utc(at: DateTime<Utc>) -> String {
        at.format("%Y-%m-%d %H:%M").to_string()
    }

    #[test]
    fn renders_aligned_columns() {
        let rows = sample();
        let expected = "\
NAME         ORIGINAL PATH           DELETED           DAYS LEFT     SIZE
cat (2).jpg  gallery/albums/cat.jpg  2026-11-26 21:03        30d  1.5 MiB
albums/      gallery/albums          2026-11-25 10:00        29d  3.0 MiB
bad\\n\\xff    gallery/x/bad\\n         2026-11-24 08:00        30d    512 B
link         ?                       ?                         ?      7 B
";
        assert_eq!(render_with(&rows, utc), expected);
    }

    #[test]
    fn never_prints_raw_control_characters() {
        let out = render_with(&sample(), utc);
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'));
        assert_eq!(out.lines().count(), 5);
    }

    #[test]
    fn footer_counts_and_totals() {
        assert_eq!(footer(&Summary::of(&sample())), "4 items, 4.5 MiB");
        assert_eq!(
            footer(&Summary {
                count: 1,
                total_size: 512,
                space: None,
            }),
            "1 item, 512 B"
        );
        let capped = Summary::of(&sample()).with_space(Some(TrashSpace {
            total: 5 << 20,
            cap: Some(10 << 20),
            purging: false,
        }));
        assert_eq!(
            footer(&capped),
            "4 items, 4.5 MiB; 5.0 MiB on disk of a 10.0 MiB cap"
        );
    }
}

//! The tables `list`, `purge`, `versions`, `undo` and `undo --list` print,
//! and the footers under them.

use std::os::unix::ffi::OsStrExt;

use chrono::{DateTime, Utc};
use galleryfs::contract::{self, human_size};

use crate::entries::{Entry, Kind, Measured};
use crate::escape::escape;
use crate::human;
use crate::space::{self, TrashSpace};

/// A column of a table: its header, and whether it holds numbers (aligned right).
struct Column {
    header: &'static str,
    right: bool,
}

const fn left(header: &'static str) -> Column {
    Column {
        header,
        right: false,
    }
}

const fn right(header: &'static str) -> Column {
    Column {
        header,
        right: true,
    }
}

/// The columns of `list` and `purge`.
const LIST: [Column; 6] = [
    left("NAME"),
    left("ORIGINAL PATH"),
    left("REASON"),
    left("DELETED"),
    right("DAYS LEFT"),
    right("SIZE"),
];
/// The columns of `versions`: the original path is the same for every row.
const VERSIONS: [Column; 4] = [left("NAME"), left("REASON"), left("DELETED"), right("SIZE")];
/// The columns of `undo --list`: one row per deleting command.
const DELETIONS: [Column; 5] = [
    left("DELETED"),
    right("PID"),
    right("ENTRIES"),
    left("WHERE"),
    right("SIZE"),
];
/// The columns of the `restore` chooser: what a person tells versions
/// apart by, the number to answer with first.
const CHOICES: [Column; 5] = [
    right("#"),
    left("DELETED"),
    left("REASON"),
    right("SIZE"),
    left("ORIGINAL PATH"),
];
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

/// What the kinds of litter are, for people: the line under a listing that
/// leaves litter out says it.
const LITTER_KINDS: &str = "editor swap files, git internals";

/// `and 37 short-lived temporary files (editor swap files, git internals):
/// --all shows them`: the last line of a listing that left litter out.
pub(crate) fn litter_line(hidden: usize) -> String {
    format!(
        "and {} ({LITTER_KINDS}): --all shows {}",
        human::temporaries(hidden),
        if hidden == 1 { "it" } else { "them" }
    )
}

/// `Trash is empty but for 3 short-lived temporary files (…): --all shows
/// them`: a listing of nothing but litter.
pub(crate) fn only_litter(hidden: usize) -> String {
    format!(
        "Trash is empty but for {} ({LITTER_KINDS}): --all shows {}",
        human::temporaries(hidden),
        if hidden == 1 { "it" } else { "them" }
    )
}

/// The header and one line per row, each ending in a newline.
pub(crate) fn render(rows: &[Measured]) -> String {
    render_with(rows, human::local_minute)
}

fn render_with(rows: &[Measured], time: impl Fn(DateTime<Utc>) -> String) -> String {
    grid(&LIST, rows.iter().map(|r| list_row(r, &time)).collect())
}

/// The table of `versions`: deletion times to the second, since versions of
/// one file are often minutes apart, and `restore --at` takes them as printed.
pub(crate) fn render_versions(rows: &[Measured]) -> String {
    versions_with(rows, human::local_second)
}

fn versions_with(rows: &[Measured], time: impl Fn(DateTime<Utc>) -> String) -> String {
    let cells = rows
        .iter()
        .map(|r| {
            let e = &r.entry;
            vec![
                display_name(e),
                reason_display(e),
                e.deleted_at.map(&time).unwrap_or_else(|| UNKNOWN.into()),
                human_size(r.size),
            ]
        })
        .collect();
    grid(&VERSIONS, cells)
}

/// The numbered table of the `restore` chooser, numbers from 0; deletion
/// times to the second, since versions of one file are often minutes apart.
pub(crate) fn render_choices(rows: &[Measured]) -> String {
    choices_with(rows, human::local_second)
}

fn choices_with(rows: &[Measured], time: impl Fn(DateTime<Utc>) -> String) -> String {
    let cells = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let e = &r.entry;
            vec![
                i.to_string(),
                e.deleted_at.map(&time).unwrap_or_else(|| UNKNOWN.into()),
                reason_display(e),
                human_size(r.size),
                original_display(e),
            ]
        })
        .collect();
    grid(&CHOICES, cells)
}

/// `3 versions of gallery/albums/cat.jpg, 4.3 MiB`.
pub(crate) fn versions_footer(rows: &[Measured], original: &[u8]) -> String {
    let count = match rows.len() {
        1 => "1 version".to_string(),
        n => format!("{n} versions"),
    };
    format!(
        "{count} of {}/{}, {}",
        contract::GALLERY,
        escape(original),
        human_size(rows.iter().map(|r| r.size).sum())
    )
}

/// One deleting command of `undo --list`, as its row shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeletionRow {
    /// Its last deletion.
    pub newest: Option<DateTime<Utc>>,
    pub pid: u32,
    pub count: usize,
    /// The common parent of the original paths, relative to `gallery/`.
    pub place: Vec<u8>,
    pub size: u64,
}

/// The table of `undo --list`: deletion times to the second, since two
/// commands are often within a minute.
pub(crate) fn render_deletions(rows: &[DeletionRow]) -> String {
    deletions_with(rows, human::local_second)
}

fn deletions_with(rows: &[DeletionRow], time: impl Fn(DateTime<Utc>) -> String) -> String {
    let cells = rows
        .iter()
        .map(|r| {
            vec![
                r.newest.map(&time).unwrap_or_else(|| UNKNOWN.into()),
                r.pid.to_string(),
                r.count.to_string(),
                crate::filter::gallery_display(&r.place),
                human_size(r.size),
            ]
        })
        .collect();
    grid(&DELETIONS, cells)
}

/// `2 deletions, 6 entries, 1.5 MiB`.
pub(crate) fn deletions_footer(rows: &[DeletionRow]) -> String {
    let deletions = match rows.len() {
        1 => "1 deletion".to_string(),
        n => format!("{n} deletions"),
    };
    format!(
        "{deletions}, {}, {}",
        human::entries(rows.iter().map(|r| r.count).sum()),
        human_size(rows.iter().map(|r| r.size).sum())
    )
}

/// Aligns `cells` under the headers of `columns`, two spaces apart.
fn grid(columns: &[Column], cells: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|c| width(c.header)).collect();
    for line in &cells {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(width(cell));
        }
    }
    let headers = columns.iter().map(|c| c.header.to_string()).collect();
    let mut out = String::new();
    for line in std::iter::once(headers).chain(cells) {
        let padded: Vec<String> = line
            .iter()
            .zip(&widths)
            .zip(columns)
            .map(|((cell, &w), column)| {
                let pad = " ".repeat(w - width(cell));
                if column.right {
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

fn list_row(r: &Measured, time: &impl Fn(DateTime<Utc>) -> String) -> Vec<String> {
    let e = &r.entry;
    vec![
        display_name(e),
        original_display(e),
        reason_display(e),
        e.deleted_at.map(time).unwrap_or_else(|| UNKNOWN.into()),
        e.days_left
            .map(contract::format_days)
            .unwrap_or_else(|| UNKNOWN.into()),
        human_size(r.size),
    ]
}

/// `deleted`, `replaced`, `overwritten`, or `?`.
pub(crate) fn reason_display(e: &Entry) -> String {
    e.reason
        .map_or_else(|| UNKNOWN.to_string(), |r| r.as_str().to_string())
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

/// Columns are measured in terminal cells: a CJK character or an emoji
/// takes two, a combining accent none (escaping leaves no control
/// characters, whose width would be undefined).
fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;
    use galleryfs::contract::Reason;

    fn sample() -> Vec<Measured> {
        let mut dir = fake(b"albums", Some("albums"), Some("2026-11-25T10:00:00Z"));
        dir.stat.kind = Kind::Dir;
        dir.days_left = Some(29);
        let mut cat = fake(
            b"cat (2).jpg",
            Some("albums/cat.jpg"),
            Some("2026-11-26T21:03:46Z"),
        );
        cat.reason = Some(Reason::Overwritten);
        vec![
            Measured {
                entry: cat,
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
    fn litter_left_out_is_counted_in_a_last_line() {
        assert_eq!(
            litter_line(37),
            "and 37 short-lived temporary files (editor swap files, git internals): --all shows them"
        );
        assert_eq!(
            litter_line(1),
            "and 1 short-lived temporary file (editor swap files, git internals): --all shows it"
        );
        assert_eq!(
            only_litter(2),
            "Trash is empty but for 2 short-lived temporary files (editor swap files, git internals): --all shows them"
        );
    }

    #[test]
    fn renders_aligned_columns() {
        let rows = sample();
        let expected = "\
NAME         ORIGINAL PATH           REASON       DELETED           DAYS LEFT     SIZE
cat (2).jpg  gallery/albums/cat.jpg  overwritten  2026-11-26 21:03        30d  1.5 MiB
albums/      gallery/albums          deleted      2026-11-25 10:00        29d  3.0 MiB
bad\\n\\xff    gallery/x/bad\\n         deleted      2026-11-24 08:00        30d    512 B
link         ?                       ?            ?                         ?      7 B
";
        assert_eq!(render_with(&rows, utc), expected);
    }

    #[test]
    fn wide_characters_take_two_cells() {
        let rows = vec![
            Measured {
                entry: fake(
                    "猫の写真.jpg".as_bytes(),
                    Some("写真/猫の写真.jpg"),
                    Some("2026-11-26T21:03:46Z"),
                ),
                size: 10,
            },
            Measured {
                entry: fake(b"cat.jpg", Some("cat.jpg"), Some("2026-11-26T21:03:46Z")),
                size: 10,
            },
            Measured {
                entry: fake(
                    "cafe\u{301}.jpg".as_bytes(),
                    Some("cafe\u{301}.jpg"),
                    Some("2026-11-26T21:03:46Z"),
                ),
                size: 10,
            },
        ];
        let expected = "\
NAME          ORIGINAL PATH              REASON   DELETED           DAYS LEFT  SIZE
猫の写真.jpg  gallery/写真/猫の写真.jpg  deleted  2026-11-26 21:03        30d  10 B
cat.jpg       gallery/cat.jpg            deleted  2026-11-26 21:03        30d  10 B
cafe\u{301}.jpg      gallery/cafe\u{301}.jpg           deleted  2026-11-26 21:03        30d  10 B
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
    fn versions_have_their_own_columns_and_footer() {
        let mut rows = sample();
        rows.truncate(1);
        let mut older = fake(
            b"cat.jpg",
            Some("albums/cat.jpg"),
            Some("2026-11-26T21:01:05Z"),
        );
        older.reason = Some(Reason::Replaced);
        rows.push(Measured {
            entry: older,
            size: 100,
        });
        let seconds = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S").to_string();
        assert_eq!(
            versions_with(&rows, seconds),
            "\
NAME         REASON       DELETED                 SIZE
cat (2).jpg  overwritten  2026-11-26 21:03:46  1.5 MiB
cat.jpg      replaced     2026-11-26 21:01:05    100 B
"
        );
        assert_eq!(
            versions_footer(&rows, b"albums/cat.jpg"),
            "2 versions of gallery/albums/cat.jpg, 1.5 MiB"
        );
        assert_eq!(
            versions_footer(&rows[..1], b"a\nb"),
            "1 version of gallery/a\\nb, 1.5 MiB"
        );
    }

    #[test]
    fn deletions_have_their_own_columns_and_footer() {
        let at = |t: &str| contract::parse_time(t.as_bytes());
        let rows = [
            DeletionRow {
                newest: at("2026-11-26T14:03:12Z"),
                pid: 4242,
                count: 200,
                place: b"albums/2026".to_vec(),
                size: 3 << 20,
            },
            DeletionRow {
                newest: at("2026-11-26T14:01:40Z"),
                pid: 17,
                count: 1,
                place: Vec::new(),
                size: 512,
            },
        ];
        let seconds = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S").to_string();
        assert_eq!(
            deletions_with(&rows, seconds),
            "\
DELETED               PID  ENTRIES  WHERE                   SIZE
2026-11-26 14:03:12  4242      200  gallery/albums/2026  3.0 MiB
2026-11-26 14:01:40    17        1  gallery                512 B
"
        );
        assert_eq!(deletions_footer(&rows), "2 deletions, 201 entries, 3.0 MiB");
        assert_eq!(deletions_footer(&rows[1..]), "1 deletion, 1 entry, 512 B");
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

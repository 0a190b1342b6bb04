//! The public contract of a galleryfs mount: every name and value format that
//! other programs (gallery-trash, file managers, trash-cli, scripts) read or
//! write, defined once for the daemon and its clients.
//!
//! - the mount's layout: `gallery/`, `.trash/`, and the freedesktop.org view
//!   `.Trash-UID/{files,info,expunged}` with `info/NAME.trashinfo`;
//! - the `user.trash.*` extended attributes of trash entries and of `.trash`,
//!   with their value formats (RFC 3339 UTC times, `30d` day counts, decimal
//!   byte counts, `yes`/`no`);
//! - the `.trashinfo` format (percent-encoded `Path=` relative to the mount
//!   root, `DeletionDate=` in local time);
//! - how the mount shows in `/proc/self/mountinfo` (fstype `fuse.galleryfs`,
//!   subtype `galleryfs`) and the escaping of that file's fields;
//! - the human-readable sizes both programs print.
//!
//! Changing anything here breaks programs that are not part of this crate.
//! Everything is a pure codec (bytes in, bytes out) except `read_mountinfo`.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use chrono::{DateTime, Local, NaiveDateTime, SecondsFormat, TimeZone, Utc};

// ---------------------------------------------------------------------------
// Names in the mount and in mountinfo

/// The gallery, in the mount root: files deleted here go to the trash.
pub const GALLERY: &str = "gallery";
/// The trash, in the mount root: one entry per deleted file or directory.
pub const TRASH: &str = ".trash";
/// The filesystem type mountinfo shows for a galleryfs mount.
pub const FSTYPE: &str = "fuse.galleryfs";
/// The FUSE subtype galleryfs mounts with (`subtype=` option); the kernel
/// shows it as the fstype `fuse.SUBTYPE`.
pub const SUBTYPE: &str = "galleryfs";
/// Where a process finds its mounts.
pub const MOUNTINFO: &str = "/proc/self/mountinfo";

// ---------------------------------------------------------------------------
// Extended attributes

/// Every galleryfs attribute starts with this; the daemon owns the namespace.
pub const XATTR_PREFIX: &str = "user.trash.";
/// On an entry: its path relative to `gallery/`, as raw bytes (not UTF-8 necessarily).
pub const XATTR_ORIGINAL_PATH: &str = "user.trash.original_path";
/// On an entry: when it was deleted, `format_time`.
pub const XATTR_DELETED_AT: &str = "user.trash.deleted_at";
/// On an entry: when it will be purged, `format_time`.
pub const XATTR_EXPIRES_AT: &str = "user.trash.expires_at";
/// On an entry: whole days until expiry, `format_days(days_left(..))`.
pub const XATTR_DAYS_LEFT: &str = "user.trash.days_left";
/// The attributes of every trash entry, in the order listxattr gives them.
pub const ENTRY_XATTRS: [&str; 4] = [
    XATTR_ORIGINAL_PATH,
    XATTR_DELETED_AT,
    XATTR_EXPIRES_AT,
    XATTR_DAYS_LEFT,
];

/// On `.trash`: bytes the entries occupy on disk, `format_bytes`.
pub const XATTR_TOTAL_SIZE: &str = "user.trash.total_size";
/// On `.trash`, only when the trash has a cap: the cap in bytes, `format_bytes`.
pub const XATTR_MAX_SIZE: &str = "user.trash.max_size";
/// On `.trash`: whether entries are being purged early for space, `format_flag`.
pub const XATTR_PURGING_FOR_SPACE: &str = "user.trash.purging_for_space";
/// The attributes of `.trash` itself, in the order listxattr gives them.
pub const TRASH_DIR_XATTRS: [&str; 3] = [XATTR_TOTAL_SIZE, XATTR_MAX_SIZE, XATTR_PURGING_FOR_SPACE];

/// The text of a value, without the blanks a hand-written value may carry.
fn text(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(value).ok().map(str::trim)
}

// ---------------------------------------------------------------------------
// Times: RFC 3339 UTC, whole seconds (`2026-11-26T21:03:46Z`)

/// `secs` since the epoch as the attributes give it; a time chrono cannot
/// represent shows as the epoch.
pub fn rfc3339(secs: i64) -> String {
    format_time(DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default())
}

/// A time as the attributes give it, without its fraction of a second.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses a time attribute: any RFC 3339 time (other offsets, fractions) is
/// accepted, surrounding blanks ignored.
pub fn parse_time(value: &[u8]) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text(value)?)
        .ok()
        .map(|t| t.to_utc())
}

// ---------------------------------------------------------------------------
// Days left: `30d`

pub const SECS_PER_DAY: i64 = 86_400;

/// Whole days from `now` until `expires_at` (seconds since the epoch),
/// rounded up and never below 1: 30 on the day of deletion with the default
/// retention, 1 in the last day, and still 1 while an expired entry waits for
/// the sweep. Clients reading `expires_at` get the daemon's number from this.
pub fn days_left(expires_at: i64, now: i64) -> i64 {
    let left = expires_at.saturating_sub(now);
    // Division truncates toward zero: a past expiry gives 0 or less, hence 1.
    (left.saturating_add(SECS_PER_DAY - 1) / SECS_PER_DAY).max(1)
}

/// `30d`.
pub fn format_days(days: i64) -> String {
    format!("{days}d")
}

/// Parses `30d` (surrounding blanks ignored).
pub fn parse_days(value: &[u8]) -> Option<i64> {
    text(value)?.strip_suffix('d')?.parse().ok()
}

// ---------------------------------------------------------------------------
// Sizes and flags of `.trash`

/// A byte count as `total_size` and `max_size` give it: decimal digits.
pub fn format_bytes(bytes: u64) -> String {
    bytes.to_string()
}

/// Parses `total_size` or `max_size` (surrounding blanks ignored).
pub fn parse_bytes(value: &[u8]) -> Option<u64> {
    text(value)?.parse().ok()
}

pub const YES: &str = "yes";
pub const NO: &str = "no";

/// `purging_for_space`: `yes` or `no`.
pub fn format_flag(on: bool) -> &'static str {
    if on { YES } else { NO }
}

/// Parses `yes` or `no` exactly; anything else is None.
pub fn parse_flag(value: &[u8]) -> Option<bool> {
    match value {
        v if v == YES.as_bytes() => Some(true),
        v if v == NO.as_bytes() => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Human-readable sizes: `512 B`, `1.5 KiB`, `10.0 MiB`

const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// A size in powers of 1024, one decimal above 1023 bytes, as gallery-trash
/// prints it: `512 B`, `1.5 KiB`, `16.0 EiB` for `u64::MAX`.
pub fn human_size(bytes: u64) -> String {
    human_in(bytes, &UNITS)
}

/// The daemon's log lines (space, quota and purge messages) stop at PiB, so
/// from 1023.95 PiB up they print `1024.0 PiB`, `16384.0 PiB` where
/// `human_size` prints `1.0 EiB`, `16.0 EiB`. Below that the two agree. Kept
/// separate so that neither program's output changes; sizes that large do
/// not occur in practice, and the daemon may switch to `human_size`.
pub fn human_size_pib(bytes: u64) -> String {
    human_in(bytes, &UNITS[..5])
}

fn human_in(bytes: u64, units: &[&str]) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    // Move up a unit when the value would print as 1024.0 or more.
    while value >= 1023.95 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

// ---------------------------------------------------------------------------
// /proc/self/mountinfo

/// Writes `bytes` as mountinfo does (proc(5)): space, tab, newline and
/// backslash become `\040`, `\011`, `\012`, `\134`; every other byte,
/// including bytes that are not UTF-8, is kept.
pub fn mountinfo_escape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => out.extend_from_slice(&[
                b'\\',
                b'0' + (b >> 6),
                b'0' + ((b >> 3) & 7),
                b'0' + (b & 7),
            ]),
            _ => out.push(b),
        }
    }
    out
}

/// Undoes mountinfo's escaping. Any `\ooo` of three octal digits up to 377
/// is decoded (the kernel escapes more characters in some fields); a
/// backslash not followed by one is kept as it is.
pub fn mountinfo_unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\'
            && let Some(value) = field.get(i + 1..i + 4).and_then(octal_byte)
        {
            out.push(value);
            i += 4;
            continue;
        }
        out.push(field[i]);
        i += 1;
    }
    out
}

fn octal_byte(digits: &[u8]) -> Option<u8> {
    if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
        return None;
    }
    let value = digits
        .iter()
        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
    u8::try_from(value).ok()
}

/// One line of mountinfo, unescaped, with the fields galleryfs and its
/// clients use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// `major:minor`: equal for every mount of the same filesystem.
    pub dev: Vec<u8>,
    /// The directory of the filesystem that is mounted (`/` unless a bind
    /// mount of a subtree).
    pub root: PathBuf,
    pub mount_point: PathBuf,
    pub fstype: Vec<u8>,
    /// The mount source (for galleryfs, its `fsname`: STORAGE by default);
    /// empty if the line has none.
    pub source: Vec<u8>,
}

impl MountInfo {
    pub fn is_galleryfs(&self) -> bool {
        self.fstype == FSTYPE.as_bytes()
    }
}

/// Parses one line of mountinfo:
/// `id parent major:minor root mount_point options [optional...] - fstype source super_options`.
/// None for a malformed line.
pub fn parse_mountinfo_line(line: &[u8]) -> Option<MountInfo> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    // The optional fields end at the first lone `-` after the six fixed ones.
    let sep = fields.iter().skip(6).position(|f| *f == b"-")? + 6;
    let fstype = fields.get(sep + 1)?;
    let path = |field: &[u8]| PathBuf::from(OsString::from_vec(mountinfo_unescape(field)));
    Some(MountInfo {
        dev: fields[2].to_vec(),
        root: path(fields[3]),
        mount_point: path(fields[4]),
        fstype: mountinfo_unescape(fstype),
        source: fields
            .get(sep + 2)
            .map(|s| mountinfo_unescape(s))
            .unwrap_or_default(),
    })
}

/// Parses a whole mountinfo file; malformed lines are skipped.
pub fn parse_mountinfo(text: &[u8]) -> Vec<MountInfo> {
    text.split(|&b| b == b'\n')
        .filter_map(parse_mountinfo_line)
        .collect()
}

/// The mounts of this process.
pub fn read_mountinfo() -> io::Result<Vec<MountInfo>> {
    Ok(parse_mountinfo(&std::fs::read(MOUNTINFO)?))
}

// ---------------------------------------------------------------------------
// The freedesktop.org trash view: `.Trash-UID/{files,info,expunged}`

/// `.Trash-UID` in the mount root, one per user.
pub const TOP_DIR_PREFIX: &str = ".Trash-";
/// `.Trash-UID/files`: UID's entries of `.trash`, under the same names.
pub const FILES_DIR: &str = "files";
/// `.Trash-UID/info`: one `NAME.trashinfo` per entry of `files`.
pub const INFO_DIR: &str = "info";
/// `.Trash-UID/expunged`: gvfsd-trash's staging area for deletion.
pub const EXPUNGED_DIR: &str = "expunged";
pub const TRASHINFO_SUFFIX: &str = ".trashinfo";

/// `.Trash-1000`.
pub fn top_dir_name(uid: u32) -> String {
    format!("{TOP_DIR_PREFIX}{uid}")
}

/// The uid in a `.Trash-UID` name: 1 to 10 ASCII digits that fit a u32.
pub fn top_dir_uid(name: &[u8]) -> Option<u32> {
    let digits = name.strip_prefix(TOP_DIR_PREFIX.as_bytes())?;
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// `info/` name of an entry: `cat.jpg` → `cat.jpg.trashinfo`.
pub fn info_name(entry: &[u8]) -> Vec<u8> {
    [entry, TRASHINFO_SUFFIX.as_bytes()].concat()
}

/// The entry an `info/` name is about (`cat.jpg.trashinfo` → `cat.jpg`).
pub fn entry_of_info(name: &[u8]) -> Option<&[u8]> {
    name.strip_suffix(TRASHINFO_SUFFIX.as_bytes())
        .filter(|e| !e.is_empty())
}

// ---------------------------------------------------------------------------
// `.trashinfo`

pub const TRASHINFO_GROUP: &str = "[Trash Info]";
/// `DeletionDate=`, in local time without a zone, as the spec and trash-cli want.
pub const DELETION_DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// Percent-encodes a path as GIO and trash-cli do: everything but
/// unreserved characters and `/`.
pub fn percent_encode(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undoes percent-encoding (hex digits in either case); None if a `%` is not
/// followed by two hex digits.
pub fn percent_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            let hex = std::str::from_utf8(text.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|d| d.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    Some(out)
}

/// `secs` since the epoch as `DeletionDate=` gives it, in local time; empty
/// for a time chrono cannot represent.
pub fn deletion_date(secs: i64) -> String {
    Local
        .timestamp_opt(secs, 0)
        .single()
        .map(|t| t.format(DELETION_DATE_FORMAT).to_string())
        .unwrap_or_default()
}

/// Parses a `DeletionDate=` value (a local time, so it has no offset).
pub fn parse_deletion_date(value: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(value, DELETION_DATE_FORMAT).ok()
}

/// The `.trashinfo` of an entry whose original path (relative to `gallery/`)
/// is `original_path`: `Path=` relative to the mount root, the deletion date
/// in local time, exactly as trash-cli and GIO parse it.
pub fn trashinfo(original_path: &[u8], deleted_at: i64) -> Vec<u8> {
    let path = percent_encode(&[GALLERY.as_bytes(), b"/", original_path].concat());
    let date = deletion_date(deleted_at);
    format!("{TRASHINFO_GROUP}\nPath={path}\nDeletionDate={date}\n").into_bytes()
}

/// What a `.trashinfo` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashInfo {
    /// `Path=`, decoded: relative to the mount root for the files galleryfs
    /// serves (`gallery/albums/cat.jpg`); clients may write absolute paths.
    pub path: Vec<u8>,
    /// `DeletionDate=`, local time; None when missing or malformed (GIO
    /// tolerates that, so clients may write it).
    pub deletion_date: Option<NaiveDateTime>,
}

impl TrashInfo {
    /// The original path relative to `gallery/`, if `path` lies in it.
    pub fn original_path(&self) -> Option<&[u8]> {
        self.path
            .strip_prefix(GALLERY.as_bytes())?
            .strip_prefix(b"/")
            .filter(|p| !p.is_empty())
    }
}

/// Parses a `.trashinfo`: the keys of its `[Trash Info]` group (blank lines,
/// `#` comments, other keys and other groups ignored; the first of a
/// repeated key counts). None without the group or a well-formed `Path=`.
pub fn parse_trashinfo(data: &[u8]) -> Option<TrashInfo> {
    let mut in_group = false;
    let mut path = None;
    let mut date = None;
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'[') {
            in_group = line == TRASHINFO_GROUP.as_bytes();
            continue;
        }
        if !in_group {
            continue;
        }
        if let Some(value) = line.strip_prefix(b"Path=") {
            path = path.or(Some(value));
        } else if let Some(value) = line.strip_prefix(b"DeletionDate=") {
            date = date.or(Some(value));
        }
    }
    Some(TrashInfo {
        path: percent_decode(path?).filter(|p| !p.is_empty())?,
        deletion_date: date
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(parse_deletion_date),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text.as_bytes()).unwrap()
    }

    #[test]
    fn names_agree_with_each_other() {
        assert_eq!(FSTYPE, format!("fuse.{SUBTYPE}"));
        for name in ENTRY_XATTRS.iter().chain(&TRASH_DIR_XATTRS) {
            assert!(name.starts_with(XATTR_PREFIX), "{name}");
        }
        assert_eq!(
            ENTRY_XATTRS,
            [
                "user.trash.original_path",
                "user.trash.deleted_at",
                "user.trash.expires_at",
                "user.trash.days_left"
            ]
        );
        assert_eq!(
            TRASH_DIR_XATTRS,
            [
                "user.trash.total_size",
                "user.trash.max_size",
                "user.trash.purging_for_space"
            ]
        );
        assert_eq!((GALLERY, TRASH), ("gallery", ".trash"));
    }

    #[test]
    fn times_are_rfc3339_utc_whole_seconds() {
        assert_eq!(rfc3339(1_764_190_000), "2025-11-26T20:46:40Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // Out of chrono's range: the epoch rather than a panic.
        assert_eq!(rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
        let fraction = at("2026-11-26T22:03:46.7+01:00");
        assert_eq!(format_time(fraction), "2026-11-26T21:03:46Z");
    }

    #[test]
    fn times_round_trip() {
        for secs in [0, 1, 1_764_190_000, -86_400, 253_402_300_799] {
            let text = rfc3339(secs);
            assert_eq!(parse_time(text.as_bytes()).unwrap().timestamp(), secs);
        }
    }

    #[test]
    fn times_parse_leniently_but_not_garbage() {
        assert_eq!(
            parse_time(b"2026-11-26T22:03:46+01:00"),
            Some(at("2026-11-26T21:03:46Z"))
        );
        assert_eq!(
            parse_time(b" 2026-11-26T21:03:46Z\n"),
            Some(at("2026-11-26T21:03:46Z"))
        );
        assert_eq!(parse_time(b"yesterday"), None);
        assert_eq!(parse_time(b"\xff"), None);
        assert_eq!(parse_time(b""), None);
    }

    #[test]
    fn days_left_rounds_up_and_never_shows_zero() {
        let now = 1_000_000_000;
        let day = SECS_PER_DAY;
        assert_eq!(days_left(now + 30 * day, now), 30);
        assert_eq!(days_left(now + 30 * day - 1, now), 30);
        assert_eq!(days_left(now + 30 * day + 1, now), 31);
        assert_eq!(days_left(now + 4, now), 1);
        assert_eq!(days_left(now, now), 1);
        assert_eq!(days_left(now - 5 * day, now), 1);
        // Extremes saturate instead of overflowing.
        assert_eq!(days_left(i64::MAX, i64::MIN), i64::MAX / day);
        assert_eq!(days_left(i64::MIN, i64::MAX), 1);
    }

    #[test]
    fn days_round_trip() {
        for days in [1, 7, 30, 365, i64::MAX] {
            assert_eq!(parse_days(format_days(days).as_bytes()), Some(days));
        }
        assert_eq!(format_days(30), "30d");
        assert_eq!(parse_days(b"27d\n"), Some(27));
        assert_eq!(parse_days(b"27"), None);
        assert_eq!(parse_days(b"d"), None);
        assert_eq!(parse_days(b"1.5d"), None);
        assert_eq!(parse_days(b"\xffd"), None);
    }

    #[test]
    fn trash_values_round_trip() {
        for bytes in [0, 1536, u64::MAX] {
            assert_eq!(parse_bytes(format_bytes(bytes).as_bytes()), Some(bytes));
        }
        assert_eq!(parse_bytes(b" 42\n"), Some(42));
        assert_eq!(parse_bytes(b"-1"), None);
        assert_eq!(parse_bytes(b"1 KiB"), None);
        for on in [true, false] {
            assert_eq!(parse_flag(format_flag(on).as_bytes()), Some(on));
        }
        assert_eq!(parse_flag(b"Yes"), None);
        assert_eq!(parse_flag(b""), None);
    }

    #[test]
    fn human_sizes_below_a_kibibyte_are_exact() {
        for f in [human_size, human_size_pib] {
            assert_eq!(f(0), "0 B");
            assert_eq!(f(512), "512 B");
            assert_eq!(f(1023), "1023 B");
        }
    }

    #[test]
    fn human_sizes_have_one_decimal() {
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024 + 200 * 1024), "3.2 MiB");
        assert_eq!(human_size(1536 * 1024), "1.5 MiB");
        assert_eq!(human_size(8 << 20), "8.0 MiB");
        assert_eq!(human_size(10 * 1024 * 1024 * 1024), "10.0 GiB");
        assert_eq!(human_size(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn human_sizes_never_show_1024_of_a_unit() {
        assert_eq!(human_size(1024 * 1024 - 1), "1.0 MiB");
        assert_eq!(human_size(1024 * 1024 - 60), "1023.9 KiB");
        assert_eq!(human_size(1024 * 1024 - 50), "1.0 MiB");
        assert_eq!(human_size(1023 * 1024), "1023.0 KiB");
    }

    #[test]
    fn the_daemon_sizes_differ_only_from_an_exbibyte_up() {
        for bytes in [0, 1023, 1024, 1536, 5 << 20, 16 << 30, 3 << 40, 1023 << 50] {
            assert_eq!(human_size_pib(bytes), human_size(bytes), "{bytes}");
        }
        assert_eq!(human_size_pib(1 << 60), "1024.0 PiB");
        assert_eq!(human_size(1 << 60), "1.0 EiB");
        assert_eq!(human_size_pib(u64::MAX), "16384.0 PiB");
    }

    #[test]
    fn mountinfo_escapes_what_proc5_says() {
        assert_eq!(mountinfo_escape(b" \t\n\\"), b"\\040\\011\\012\\134");
        assert_eq!(
            mountinfo_escape(b"/mnt/odd name\ttab\nnl\\x"),
            b"/mnt/odd\\040name\\011tab\\012nl\\134x"
        );
        // Other bytes, odd or not UTF-8, are the kernel's to pass through.
        assert_eq!(mountinfo_escape(b"/mnt/\xff\x01#,="), b"/mnt/\xff\x01#,=");
        assert_eq!(mountinfo_unescape(b"/mnt/a\\040b"), b"/mnt/a b");
        assert_eq!(mountinfo_unescape(b"\\011\\012\\134"), b"\t\n\\");
        // Escapes of other characters (`#` in some fields) decode too.
        assert_eq!(mountinfo_unescape(b"a\\043b"), b"a#b");
    }

    #[test]
    fn mountinfo_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(mountinfo_unescape(&mountinfo_escape(&all)), all);
        let escaped = mountinfo_escape(&all);
        assert!(!escaped.iter().any(|b| b" \t\n".contains(b)));
        for odd in [&b""[..], b"\\", b"\\\\040", b"\\040", b"a\\"] {
            assert_eq!(mountinfo_unescape(&mountinfo_escape(odd)), odd);
        }
    }

    #[test]
    fn mountinfo_leaves_malformed_escapes_alone() {
        assert_eq!(mountinfo_unescape(b"a\\09"), b"a\\09");
        assert_eq!(mountinfo_unescape(b"end\\"), b"end\\");
        assert_eq!(mountinfo_unescape(b"\\777"), b"\\777");
        assert_eq!(mountinfo_unescape(b"\\12"), b"\\12");
        assert_eq!(mountinfo_unescape(b"\\400"), b"\\400");
        assert_eq!(mountinfo_unescape(b"\\377"), b"\xff");
    }

    const SAMPLE: &[u8] = b"\
22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 25 0:40 / /home/ann/Gallery rw,nosuid,nodev,relatime shared:30 master:2 - fuse.galleryfs /srv/my\\040store rw,user_id=0,group_id=0
42 25 0:42 / /mnt/with\\040space\\011tab\\012nl\\134back rw - fuse.galleryfs store2 rw
43 25 0:40 /gallery/albums /home/ann/Albums rw - fuse.galleryfs /srv/store rw
";

    #[test]
    fn mountinfo_lines_parse_with_or_without_optional_fields() {
        let m = parse_mountinfo(SAMPLE);
        assert_eq!(m.len(), 5);
        assert_eq!(m[0].fstype, b"proc");
        assert!(!m[1].is_galleryfs());
        assert_eq!(m[2].dev, b"0:40");
        assert_eq!(m[2].root, Path::new("/"));
        assert_eq!(m[2].mount_point, Path::new("/home/ann/Gallery"));
        assert_eq!(m[2].source, b"/srv/my store");
        assert!(m[2].is_galleryfs());
        assert_eq!(
            m[3].mount_point,
            Path::new("/mnt/with space\ttab\nnl\\back")
        );
        assert_eq!(m[4].root, Path::new("/gallery/albums"));
    }

    #[test]
    fn mountinfo_lines_round_trip_odd_mount_points() {
        use std::os::unix::ffi::OsStrExt;
        for point in [
            &b"/mnt/plain"[..],
            b"/mnt/a b",
            b"/mnt/\t\n\\ -",
            b"/mnt/\xff\xfe",
        ] {
            let line = [
                &b"50 25 0:50 / "[..],
                &mountinfo_escape(point),
                b" rw - fuse.galleryfs s rw",
            ]
            .concat();
            let m = parse_mountinfo_line(&line).unwrap();
            assert_eq!(m.mount_point.as_os_str().as_bytes(), point);
            assert!(m.is_galleryfs());
        }
    }

    #[test]
    fn malformed_mountinfo_lines_are_skipped() {
        assert!(parse_mountinfo(b"garbage\n\n1 2 3\n").is_empty());
        // No separator, or nothing after it.
        assert_eq!(parse_mountinfo_line(b"1 2 0:1 / /x rw shared:1"), None);
        assert_eq!(parse_mountinfo_line(b"1 2 0:1 / /x rw -"), None);
        // A `-` among the fixed fields is not the separator.
        assert_eq!(parse_mountinfo_line(b"1 2 0:1 / - rw"), None);
        let no_source = parse_mountinfo_line(b"1 2 0:1 / /x rw - ext4").unwrap();
        assert_eq!(no_source.source, b"");
    }

    #[test]
    fn this_process_has_mounts() {
        let mounts = read_mountinfo().unwrap();
        assert!(mounts.iter().any(|m| m.mount_point == Path::new("/")));
    }

    #[test]
    fn top_dir_names_round_trip() {
        for uid in [0, 1000, 65534, u32::MAX] {
            assert_eq!(top_dir_uid(top_dir_name(uid).as_bytes()), Some(uid));
        }
        assert_eq!(top_dir_name(1000), ".Trash-1000");
        assert_eq!(top_dir_uid(b".Trash-"), None);
        assert_eq!(top_dir_uid(b".Trash-1x"), None);
        assert_eq!(top_dir_uid(b".Trash"), None);
        assert_eq!(top_dir_uid(b".Trash--1"), None);
        assert_eq!(top_dir_uid(b".Trash-+1"), None);
        assert_eq!(top_dir_uid(b".Trash-4294967296"), None);
        assert_eq!(top_dir_uid(b".Trash-99999999999"), None);
        assert_eq!(top_dir_uid(b".Trash-\xff"), None);
    }

    #[test]
    fn info_names_round_trip() {
        assert_eq!(info_name(b"cat.jpg"), b"cat.jpg.trashinfo");
        for entry in [&b"cat.jpg"[..], b"a.trashinfo", b"\xff\n"] {
            assert_eq!(entry_of_info(&info_name(entry)), Some(entry));
        }
        assert_eq!(entry_of_info(b".trashinfo"), None);
        assert_eq!(entry_of_info(b"cat.jpg.trashinfo.ABC123"), None);
        assert_eq!(entry_of_info(b"cat.jpg"), None);
    }

    #[test]
    fn percent_encoding_is_what_trash_cli_parses() {
        assert_eq!(
            percent_encode(b"albums/cat photo.jpg"),
            "albums/cat%20photo.jpg"
        );
        assert_eq!(percent_encode("é%&".as_bytes()), "%C3%A9%25%26");
        assert_eq!(percent_encode(b"a-b._~/\n\xff"), "a-b._~/%0A%FF");
    }

    #[test]
    fn percent_encoding_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let encoded = percent_encode(&all);
        assert!(encoded.is_ascii());
        assert_eq!(percent_decode(encoded.as_bytes()), Some(all));
        assert_eq!(percent_decode(b"caf%c3%a9"), Some("café".into()));
        assert_eq!(percent_decode(b"plain/path"), Some(b"plain/path".to_vec()));
    }

    #[test]
    fn malformed_percent_escapes_are_refused() {
        for bad in [&b"%"[..], b"a%2", b"%zz", b"%+1", b"%\xff\xff"] {
            assert_eq!(percent_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn trashinfo_is_what_trash_cli_parses() {
        let text = String::from_utf8(trashinfo(b"a b/c.jpg", 1_764_190_000)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "[Trash Info]");
        assert_eq!(lines[1], "Path=gallery/a%20b/c.jpg");
        let date = lines[2].strip_prefix("DeletionDate=").unwrap();
        assert_eq!(date, deletion_date(1_764_190_000));
        assert!(parse_deletion_date(date).is_some(), "{date}");
        assert_eq!(date.len(), 19);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn deletion_dates_are_local_time() {
        let secs = 1_764_190_000;
        let local = Local.timestamp_opt(secs, 0).single().unwrap();
        assert_eq!(
            parse_deletion_date(&deletion_date(secs)),
            Some(local.naive_local())
        );
        assert_eq!(deletion_date(i64::MAX), "");
        assert_eq!(parse_deletion_date("2026-11-26T21:03:46Z"), None);
        assert_eq!(parse_deletion_date("2026-11-26 21:03:46"), None);
    }

    #[test]
    fn trashinfo_round_trips_odd_paths() {
        for original in [
            &b"cat.jpg"[..],
            b"a b/c%d.jpg",
            b"caf\xe9/\n\t\\",
            b"x/[Trash Info]",
        ] {
            let info = parse_trashinfo(&trashinfo(original, 1_764_190_000)).unwrap();
            assert_eq!(info.original_path(), Some(original));
            assert_eq!(info.path, [b"gallery/", original].concat());
            assert_eq!(
                info.deletion_date,
                parse_deletion_date(&deletion_date(1_764_190_000))
            );
        }
    }

    #[test]
    fn trashinfo_written_by_clients_parses() {
        let gio = b"[Trash Info]\nPath=gallery/free.jpg\nDeletionDate=2000-01-01T00:00:00\n";
        let info = parse_trashinfo(gio).unwrap();
        assert_eq!(info.original_path(), Some(&b"free.jpg"[..]));
        assert_eq!(
            info.deletion_date,
            parse_deletion_date("2000-01-01T00:00:00")
        );
        let odd = b"# comment\r\n[Trash Info]\r\nDeletionDate=bad\r\nX=1\r\nPath=/home/ann/x%20y\r\nPath=second\r\n[Other]\r\nPath=other\r\n";
        let info = parse_trashinfo(odd).unwrap();
        assert_eq!(info.path, b"/home/ann/x y");
        assert_eq!(info.original_path(), None);
        assert_eq!(info.deletion_date, None);
    }

    #[test]
    fn trashinfo_without_group_or_path_is_refused() {
        assert_eq!(
            parse_trashinfo(b"Path=a\nDeletionDate=2000-01-01T00:00:00\n"),
            None
        );
        assert_eq!(
            parse_trashinfo(b"[Trash Info]\nDeletionDate=2000-01-01T00:00:00\n"),
            None
        );
        assert_eq!(parse_trashinfo(b"[Trash Info]\nPath=\n"), None);
        assert_eq!(parse_trashinfo(b"[Trash Info]\nPath=%zz\n"), None);
        assert_eq!(parse_trashinfo(b"[Other]\nPath=a\n"), None);
        assert_eq!(parse_trashinfo(b""), None);
    }

    #[test]
    fn gallery_paths_need_something_after_the_directory() {
        let info = |path: &[u8]| TrashInfo {
            path: path.to_vec(),
            deletion_date: None,
        };
        assert_eq!(info(b"gallery/").original_path(), None);
        assert_eq!(info(b"gallery").original_path(), None);
        assert_eq!(info(b"galleryx/a").original_path(), None);
        assert_eq!(info(b"gallery/a/b").original_path(), Some(&b"a/b"[..]));
    }
}

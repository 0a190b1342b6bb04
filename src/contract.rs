//! The public contract of a galleryfs mount: every name and value format that
//! other programs (gallery-trash, file managers, trash-cli, scripts) read or
//! write, defined once for the daemon and its clients.
//!
//! - the mount's layout: `gallery/`, `.trash/`, and the freedesktop.org view
//!   `.Trash-UID/{files,info,expunged}` with `info/NAME.trashinfo`;
//! - the `user.trash.*` extended attributes of trash entries and of `.trash`,
//!   with their value formats (RFC 3339 UTC times, `30d` day counts, decimal
//!   byte counts, `yes`/`no`), also served on each entry's
//!   `.Trash-UID/info/NAME.trashinfo` (a regular file, so they can be read
//!   there for a symlink, FIFO or socket entry, which the kernel refuses
//!   `user.*` attributes);
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
/// On an entry: why it is in the trash, a `Reason` spelled by `Reason::as_str`.
pub const XATTR_REASON: &str = "user.trash.reason";
/// The attributes of every trash entry, in the order listxattr gives them.
pub const ENTRY_XATTRS: [&str; 5] = [
    XATTR_ORIGINAL_PATH,
    XATTR_DELETED_AT,
    XATTR_EXPIRES_AT,
    XATTR_DAYS_LEFT,
    XATTR_REASON,
];

/// On an entry, when known: the process (thread) that deleted, replaced or
/// overwrote it, `format_deleter`: entries with the same value came from one
/// command (`rm *.jpg`, `rm -r dir`), which `gallery-trash undo` restores.
/// Not listed when unknown.
pub const XATTR_DELETED_BY: &str = "user.trash.deleted_by";

/// On an entry that is litter (a program's temporary file: an editor's swap
/// or backup file, a lock file, a partial download, what git replaced
/// inside `.git`, an empty file), `YES`: it expires after the shorter
/// `litter_retention`, and listings leave it out unless asked. Not listed
/// on other entries.
pub const XATTR_LITTER: &str = "user.trash.litter";

/// `PID:START`: a thread id and its start time (clock ticks since boot),
/// which tells it apart from a later thread with the same id.
pub fn format_deleter(pid: u32, start: u64) -> String {
    format!("{pid}:{start}")
}

/// Parses `format_deleter`'s value.
pub fn parse_deleter(value: &[u8]) -> Option<(u32, u64)> {
    let (pid, start) = text(value)?.split_once(':')?;
    Some((pid.parse().ok()?, start.parse().ok()?))
}

/// Why an entry is in the trash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Removed (unlink, rmdir of a tree, a rename into `.trash`).
    Deleted,
    /// A rename (or a restore) put another file at its name.
    Replaced,
    /// Its content was about to be destroyed in place: an open with
    /// `O_TRUNC`, a truncation, a hole punched into it. The entry holds the
    /// content as it was just before.
    Overwritten,
}

impl Reason {
    pub const ALL: [Reason; 3] = [Reason::Deleted, Reason::Replaced, Reason::Overwritten];

    /// `deleted`, `replaced` or `overwritten`: the attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Deleted => "deleted",
            Reason::Replaced => "replaced",
            Reason::Overwritten => "overwritten",
        }
    }

    /// Parses an attribute value (surrounding blanks ignored).
    pub fn parse(value: &[u8]) -> Option<Reason> {
        let value = text(value)?;
        Reason::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

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

/// What `Path=` escapes, as GIO and trash-cli do: everything but
/// unreserved characters (RFC 3986) and `/`.
const PATH_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes a path for `Path=` (upper-case hex digits).
pub fn percent_encode(path: &[u8]) -> String {
    percent_encoding::percent_encode(path, PATH_ESCAPED).to_string()
}

/// Undoes percent-encoding (hex digits in either case); None if a `%` is not
/// followed by two hex digits (the crate would keep such a `%` as it is).
pub fn percent_decode(text: &[u8]) -> Option<Vec<u8>> {
    let well_formed = text.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || text
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    well_formed.then(|| percent_encoding::percent_decode(text).collect())
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

pub mod bulk;
pub mod listing;

#[cfg(test)]
mod tests;

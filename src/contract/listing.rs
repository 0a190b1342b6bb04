//! The trash's listing in pages: one `getxattr` of `.trash` gives up to a
//! page of entries with everything `gallery-trash list` shows of each, in
//! place of a lookup, an lstat and seven `getxattr` per entry.
//!
//! `user.trash.entries.CURSOR` on `.trash` (CURSOR: `0` for the first page,
//! then the one the previous page names) is a header line, the cursor of the
//! next page or nothing after the last, `\n`, then one record per entry of
//! `FIELDS` NUL-terminated fields: name, type letter (`f d l p s b c`), uid,
//! gid, mode (octal: permission, set-id and sticky bits), size, ctime seconds
//! and nanoseconds as lstat gives them, then `1` and the entry's facts
//! (original path, deleted_at, expires_at, reason, deleted_by or empty,
//! litter `yes`/`no`) or `0` and six empty fields: the facts of another
//! user's entry are left to the kernel's permission check on the entry
//! itself. Ask with a buffer of `PAGE_BUFFER` bytes: a page never fills more.

/// The attribute name before the cursor.
pub const XATTR_ENTRIES_PAGE: &str = "user.trash.entries.";
/// Bytes of records a page holds at most (below the kernel's 64 KiB).
pub const PAGE_BYTES: usize = 60_000;
/// The buffer to ask a page with: the largest value Linux passes.
pub const PAGE_BUFFER: usize = 65_536;
const FIELDS: usize = 15;

/// One entry of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: Vec<u8>,
    /// `S_IFREG`, `S_IFDIR`, ... as in `st_mode`.
    pub kind: u32,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub size: u64,
    pub ctime: (i64, i64),
    /// None: ask the entry (another user's).
    pub facts: Option<Facts>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub original_path: Vec<u8>,
    /// RFC 3339, as `user.trash.deleted_at`.
    pub deleted_at: String,
    pub expires_at: String,
    pub reason: String,
    /// As `user.trash.deleted_by`; empty when unknown.
    pub deleted_by: String,
    pub litter: bool,
}

fn letter(kind: u32) -> &'static [u8] {
    match kind {
        libc::S_IFDIR => b"d",
        libc::S_IFLNK => b"l",
        libc::S_IFIFO => b"p",
        libc::S_IFSOCK => b"s",
        libc::S_IFBLK => b"b",
        libc::S_IFCHR => b"c",
        _ => b"f",
    }
}

fn kind_of(letter: &[u8]) -> Option<u32> {
    Some(match letter {
        b"f" => libc::S_IFREG,
        b"d" => libc::S_IFDIR,
        b"l" => libc::S_IFLNK,
        b"p" => libc::S_IFIFO,
        b"s" => libc::S_IFSOCK,
        b"b" => libc::S_IFBLK,
        b"c" => libc::S_IFCHR,
        _ => return None,
    })
}

/// Appends `record` to a page's records.
pub fn encode(record: &Record, out: &mut Vec<u8>) {
    let mut field = |value: &[u8]| {
        out.extend_from_slice(value);
        out.push(0);
    };
    field(&record.name);
    field(letter(record.kind));
    field(record.uid.to_string().as_bytes());
    field(record.gid.to_string().as_bytes());
    field(format!("{:o}", record.mode).as_bytes());
    field(record.size.to_string().as_bytes());
    field(record.ctime.0.to_string().as_bytes());
    field(record.ctime.1.to_string().as_bytes());
    match &record.facts {
        Some(f) => {
            field(b"1");
            field(&f.original_path);
            field(f.deleted_at.as_bytes());
            field(f.expires_at.as_bytes());
            field(f.reason.as_bytes());
            field(f.deleted_by.as_bytes());
            field(super::format_flag(f.litter).as_bytes());
        }
        None => {
            field(b"0");
            (0..6).for_each(|_| field(b""));
        }
    }
}

/// A whole page: the header, then the records.
pub fn page(next: Option<i64>, records: &[u8]) -> Vec<u8> {
    let mut out = next.map(|n| n.to_string()).unwrap_or_default().into_bytes();
    out.push(b'\n');
    out.extend_from_slice(records);
    out
}

/// The next page's cursor alone (None after the last page), from the
/// header; None if the value is not a page. Read before the records, so
/// that a client can ask for the next page while it decodes this one.
pub fn next_cursor(value: &[u8]) -> Option<Option<String>> {
    let newline = value.iter().position(|&b| b == b'\n')?;
    let next = std::str::from_utf8(&value[..newline]).ok()?;
    Some((!next.is_empty()).then(|| next.to_owned()))
}

/// The next page's cursor (None after the last page) and the records of a
/// page; None if the value is not a page.
pub fn decode(value: &[u8]) -> Option<(Option<String>, Vec<Record>)> {
    let next = next_cursor(value)?;
    let newline = value.iter().position(|&b| b == b'\n')?;
    let body = &value[newline + 1..];
    let mut fields = body.split(|&b| b == 0);
    let mut records = Vec::new();
    while let Some(name) = fields.next() {
        // The last record's terminator leaves one empty piece.
        if name.is_empty() {
            break;
        }
        let rest: Vec<&[u8]> = fields.by_ref().take(FIELDS - 1).collect();
        if rest.len() != FIELDS - 1 {
            return None;
        }
        let num = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<i64>().ok();
        let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_owned);
        let facts = match rest[7] {
            b"1" => Some(Facts {
                original_path: rest[8].to_vec(),
                deleted_at: text(rest[9])?,
                expires_at: text(rest[10])?,
                reason: text(rest[11])?,
                deleted_by: text(rest[12])?,
                litter: super::parse_flag(rest[13])?,
            }),
            b"0" => None,
            _ => return None,
        };
        records.push(Record {
            name: name.to_vec(),
            kind: kind_of(rest[0])?,
            uid: u32::try_from(num(rest[1])?).ok()?,
            gid: u32::try_from(num(rest[2])?).ok()?,
            mode: u32::from_str_radix(std::str::from_utf8(rest[3]).ok()?, 8).ok()?,
            size: u64::try_from(num(rest[4])?).ok()?,
            ctime: (num(rest[5])?, num(rest[6])?),
            facts,
        });
    }
    Some((next, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &[u8], facts: bool) -> Record {
        Record {
            name: name.to_vec(),
            kind: libc::S_IFDIR,
            uid: 1000,
            gid: 100,
            mode: 0o1755,
            size: 4096,
            ctime: (1_790_000_000, 123),
            facts: facts.then(|| Facts {
                original_path: b"albums/2026/\xffodd name".to_vec(),
                deleted_at: "2026-12-02T20:00:00Z".into(),
                expires_at: "2027-01-01T20:00:00Z".into(),
                reason: "deleted".into(),
                deleted_by: String::new(),
                litter: true,
            }),
        }
    }

    #[test]
    fn a_page_round_trips() {
        let (a, b) = (record(b"2026", true), record(b"x\ny", false));
        let mut records = Vec::new();
        encode(&a, &mut records);
        encode(&b, &mut records);
        assert_eq!(
            decode(&page(Some(42), &records)),
            Some((Some("42".into()), vec![a, b]))
        );
        assert_eq!(decode(&page(None, &[])), Some((None, vec![])));
        assert_eq!(
            next_cursor(&page(Some(42), &records)),
            Some(Some("42".into()))
        );
        assert_eq!(next_cursor(b"no header"), None);
    }

    #[test]
    fn a_truncated_page_is_refused() {
        let mut records = Vec::new();
        encode(&record(b"a", true), &mut records);
        let whole = page(None, &records);
        assert!(decode(&whole[..whole.len() - 5]).is_none());
        assert!(decode(b"no header").is_none());
    }
}

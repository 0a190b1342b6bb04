//! The JSON shape of `list --json`, `versions --json` and `info --json`: one
//! object per entry; and of `undo --list --json`: one per deleting command.
//! Unreadable values are `null`; names that are not UTF-8 are given lossily
//! in `name` and exactly in `name_bytes`.

use std::borrow::Cow;
use std::os::unix::ffi::OsStrExt;

use galleryfs::contract;
use serde::Serialize;

use crate::entries::{Deleter, Measured};
use crate::table::DeletionRow;

/// One entry of `list --json` and `versions --json`; fields in the order
/// `list --help` documents them.
#[derive(Debug, Serialize)]
pub(crate) struct EntryJson<'a> {
    name: Cow<'a, str>,
    /// Only for a name that is not UTF-8: its bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    name_bytes: Option<&'a [u8]>,
    path: Cow<'a, str>,
    original_path: Option<Cow<'a, str>>,
    deleted_at: Option<String>,
    expires_at: Option<String>,
    days_left: Option<i64>,
    reason: Option<&'static str>,
    size: u64,
    kind: &'static str,
    litter: bool,
}

/// One entry of `info --json`: the fields of `list` plus ownership and mode.
#[derive(Debug, Serialize)]
pub(crate) struct InfoJson<'a> {
    #[serde(flatten)]
    entry: EntryJson<'a>,
    owner: Option<&'a str>,
    uid: u32,
    group: Option<&'a str>,
    gid: u32,
    /// Octal, four digits: `"0644"`.
    mode: String,
}

/// One deleting command of `undo --list --json`, with its entries.
#[derive(Debug, Serialize)]
pub(crate) struct DeletionJson<'a> {
    deleted_at: Option<String>,
    deleted_by: String,
    pid: u32,
    count: usize,
    #[serde(rename = "where")]
    place: Cow<'a, str>,
    size: u64,
    entries: Vec<EntryJson<'a>>,
}

/// The fields of `list --json` and `versions --json`.
pub(crate) fn entry(m: &Measured) -> EntryJson<'_> {
    let e = &m.entry;
    let name = e.name.as_bytes();
    EntryJson {
        name: String::from_utf8_lossy(name),
        name_bytes: std::str::from_utf8(name).is_err().then_some(name),
        path: e.path.to_string_lossy(),
        original_path: e
            .original_path
            .as_ref()
            .ok()
            .map(|p| String::from_utf8_lossy(p)),
        deleted_at: e.deleted_at.map(contract::format_time),
        expires_at: e.expires_at.map(contract::format_time),
        days_left: e.days_left,
        reason: e.reason.map(|r| r.as_str()),
        size: m.size,
        kind: e.stat.kind.as_str(),
        litter: e.litter,
    }
}

/// The fields of `info --json`: those of `list` plus ownership and mode.
pub(crate) fn info<'a>(
    m: &'a Measured,
    owner: Option<&'a str>,
    group: Option<&'a str>,
) -> InfoJson<'a> {
    let s = &m.entry.stat;
    InfoJson {
        entry: entry(m),
        owner,
        uid: s.uid,
        group,
        gid: s.gid,
        mode: format!("{:04o}", s.mode),
    }
}

/// The fields of `undo --list --json`: one deleting command and its entries.
pub(crate) fn deletion<'a>(
    row: &'a DeletionRow,
    deleter: Deleter,
    entries: &'a [Measured],
) -> DeletionJson<'a> {
    DeletionJson {
        deleted_at: row.newest.map(contract::format_time),
        deleted_by: contract::format_deleter(deleter.0, deleter.1),
        pid: row.pid,
        count: row.count,
        place: String::from_utf8_lossy(&row.place),
        size: row.size,
        entries: entries.iter().map(entry).collect(),
    }
}

/// A JSON array, pretty-printed, as every `--json` prints it.
pub(crate) fn array<T: Serialize>(items: &[T]) -> String {
    // Serializing these plain structs cannot fail (string keys, no maps).
    serde_json::to_string_pretty(items).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;
    use serde_json::{Value, json};

    fn value(v: impl Serialize) -> Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn list_object_has_exactly_the_documented_fields() {
        let m = Measured {
            entry: fake(
                b"cat (2).jpg",
                Some("albums/cat.jpg"),
                Some("2026-11-26T21:03:46Z"),
            ),
            size: 1234,
        };
        assert_eq!(
            value(entry(&m)),
            json!({
                "name": "cat (2).jpg",
                "path": "/mnt/g/.trash/cat (2).jpg",
                "original_path": "albums/cat.jpg",
                "deleted_at": "2026-11-26T21:03:46Z",
                "expires_at": "2026-12-26T21:03:46Z",
                "days_left": 30,
                "reason": "deleted",
                "size": 1234,
                "kind": "file",
                "litter": false,
            })
        );
    }

    #[test]
    fn litter_says_so() {
        let mut e = fake(b".x.swp", Some(".x.swp"), Some("2026-11-26T21:03:46Z"));
        e.litter = true;
        assert_eq!(
            value(entry(&Measured { entry: e, size: 0 }))["litter"],
            true
        );
    }

    #[test]
    fn non_utf8_names_come_with_their_bytes() {
        let m = Measured {
            entry: fake(b"caf\xe9", Some("caf\u{e9}"), Some("2026-11-26T21:03:46Z")),
            size: 0,
        };
        let v = value(entry(&m));
        assert_eq!(v["name"], "caf\u{fffd}");
        assert_eq!(v["name_bytes"], json!([99, 97, 102, 0xe9]));
        assert_eq!(v["path"], "/mnt/g/.trash/caf\u{fffd}");
    }

    #[test]
    fn unreadable_values_are_null() {
        let m = Measured {
            entry: fake(b"link", None, None),
            size: 7,
        };
        let v = value(entry(&m));
        assert_eq!(v["original_path"], Value::Null);
        assert_eq!(v["deleted_at"], Value::Null);
        assert_eq!(v["expires_at"], Value::Null);
        assert_eq!(v["days_left"], Value::Null);
        assert_eq!(v["reason"], Value::Null);
        assert!(v.get("name_bytes").is_none());
    }

    #[test]
    fn deletion_object_has_the_documented_fields() {
        let m = Measured {
            entry: fake(b"2026", Some("albums/2026"), Some("2026-11-26T21:03:46Z")),
            size: 1234,
        };
        let row = DeletionRow {
            newest: m.entry.deleted_at,
            pid: 4242,
            count: 1,
            place: b"albums".to_vec(),
            size: 1234,
        };
        assert_eq!(
            value(deletion(&row, (4242, 987_654), std::slice::from_ref(&m))),
            json!({
                "deleted_at": "2026-11-26T21:03:46Z",
                "deleted_by": "4242:987654",
                "pid": 4242,
                "count": 1,
                "where": "albums",
                "size": 1234,
                "entries": [value(entry(&m))],
            })
        );
    }

    #[test]
    fn info_adds_owner_and_mode() {
        let m = Measured {
            entry: fake(b"a", Some("a"), None),
            size: 0,
        };
        let v = value(info(&m, Some("ann"), None));
        assert_eq!(v["owner"], "ann");
        assert_eq!(v["uid"], 1000);
        assert_eq!(v["group"], Value::Null);
        assert_eq!(v["mode"], "0644");
        assert_eq!(v["name"], "a");
    }
}

//! The JSON shape of `list --json`, `versions --json` and `info --json`: one
//! object per entry; and of `undo --list --json`: one per deleting command.
//! Unreadable values are `null`; names that are not UTF-8 are given lossily
//! in `name` and exactly in `name_bytes`.

use std::os::unix::ffi::OsStrExt;

use galleryfs::contract;
use serde_json::{Map, Value, json};

use crate::entries::{Deleter, Measured};
use crate::table::DeletionRow;

/// The fields of `list --json` and `versions --json`.
pub(crate) fn entry(m: &Measured) -> Value {
    let e = &m.entry;
    let name = e.name.as_bytes();
    let mut obj = Map::new();
    obj.insert("name".into(), json!(String::from_utf8_lossy(name)));
    if std::str::from_utf8(name).is_err() {
        obj.insert("name_bytes".into(), json!(name));
    }
    obj.insert("path".into(), json!(e.path.to_string_lossy()));
    obj.insert(
        "original_path".into(),
        json!(
            e.original_path
                .as_ref()
                .ok()
                .map(|p| String::from_utf8_lossy(p))
        ),
    );
    obj.insert(
        "deleted_at".into(),
        json!(e.deleted_at.map(contract::format_time)),
    );
    obj.insert(
        "expires_at".into(),
        json!(e.expires_at.map(contract::format_time)),
    );
    obj.insert("days_left".into(), json!(e.days_left));
    obj.insert("reason".into(), json!(e.reason.map(|r| r.as_str())));
    obj.insert("size".into(), json!(m.size));
    obj.insert("kind".into(), json!(e.stat.kind.as_str()));
    obj.insert("litter".into(), json!(e.litter));
    Value::Object(obj)
}

/// The fields of `info --json`: those of `list` plus ownership and mode.
pub(crate) fn info(m: &Measured, owner: Option<&str>, group: Option<&str>) -> Value {
    let mut value = entry(m);
    let s = &m.entry.stat;
    if let Value::Object(obj) = &mut value {
        obj.insert("owner".into(), json!(owner));
        obj.insert("uid".into(), json!(s.uid));
        obj.insert("group".into(), json!(group));
        obj.insert("gid".into(), json!(s.gid));
        obj.insert("mode".into(), json!(format!("{:04o}", s.mode)));
    }
    value
}

/// The fields of `undo --list --json`: one deleting command and its entries.
pub(crate) fn deletion(row: &DeletionRow, deleter: Deleter, entries: &[Measured]) -> Value {
    json!({
        "deleted_at": row.newest.map(contract::format_time),
        "deleted_by": contract::format_deleter(deleter.0, deleter.1),
        "pid": row.pid,
        "count": row.count,
        "where": String::from_utf8_lossy(&row.place),
        "size": row.size,
        "entries": entries.iter().map(entry).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

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
            entry(&m),
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
        assert_eq!(entry(&Measured { entry: e, size: 0 })["litter"], true);
    }

    #[test]
    fn non_utf8_names_come_with_their_bytes() {
        let m = Measured {
            entry: fake(b"caf\xe9", Some("caf\u{e9}"), Some("2026-11-26T21:03:46Z")),
            size: 0,
        };
        let v = entry(&m);
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
        let v = entry(&m);
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
            deletion(&row, (4242, 987_654), std::slice::from_ref(&m)),
            json!({
                "deleted_at": "2026-11-26T21:03:46Z",
                "deleted_by": "4242:987654",
                "pid": 4242,
                "count": 1,
                "where": "albums",
                "size": 1234,
                "entries": [entry(&m)],
            })
        );
    }

    #[test]
    fn info_adds_owner_and_mode() {
        let m = Measured {
            entry: fake(b"a", Some("a"), None),
            size: 0,
        };
        let v = info(&m, Some("ann"), None);
        assert_eq!(v["owner"], "ann");
        assert_eq!(v["uid"], 1000);
        assert_eq!(v["group"], Value::Null);
        assert_eq!(v["mode"], "0644");
        assert_eq!(v["name"], "a");
    }
}

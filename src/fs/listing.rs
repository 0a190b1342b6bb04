//! `.trash`'s listing in pages for clients (see `contract::listing`): a
//! page of catalog rows and one fstatat each, in place of a lookup, an
//! lstat and seven getxattr per entry through the kernel.

use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use super::core::Core;
use super::types::Caller;
use crate::backing;
use crate::contract::listing::{self, Facts, PAGE_BYTES, Record};
use crate::contract::{format_deleter, rfc3339};
use crate::error::{FsError, FsResult};

/// Catalog rows read per query while a page fills.
const ROWS: usize = 512;

/// The page after `cursor` (a catalog id), as `caller` may see it: the
/// facts of its own entries (all of them for root); another user's only
/// with `0`, so that the client asks the entry and the kernel decides.
pub(super) fn page(core: &Core, caller: Caller, cursor: &[u8]) -> FsResult<Vec<u8>> {
    let mut after: i64 = std::str::from_utf8(cursor)
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c| c >= 0)
        .ok_or(FsError::ENODATA)?;
    let trash = core.nodes.trash_fd().as_fd();
    let mut records = Vec::new();
    let mut one = Vec::new();
    loop {
        let (entries, last) = core.store.page(after, ROWS)?;
        for e in entries {
            let Ok(st) = backing::fstatat(trash, OsStr::from_bytes(&e.row.name)) else {
                // Gone since the row was read.
                continue;
            };
            let own = caller.uid == 0 || caller.uid == e.row.uid;
            let record = Record {
                kind: backing::file_type(&st),
                uid: st.st_uid,
                gid: st.st_gid,
                mode: st.st_mode & 0o7777,
                size: st.st_size.max(0) as u64,
                ctime: (st.st_ctime, st.st_ctime_nsec),
                facts: own.then(|| Facts {
                    original_path: e.row.original_path.clone(),
                    deleted_at: rfc3339(e.row.deleted_at),
                    expires_at: rfc3339(e.expires_at),
                    reason: e.row.reason.as_str().to_owned(),
                    deleted_by: e
                        .row
                        .by
                        .map(|by| format_deleter(by.pid, by.start))
                        .unwrap_or_default(),
                    litter: e.litter,
                }),
                name: e.row.name,
            };
            one.clear();
            listing::encode(&record, &mut one);
            if records.len() + one.len() > PAGE_BYTES {
                return Ok(listing::page(Some(after), &records));
            }
            records.extend_from_slice(&one);
            after = e.row.id;
        }
        match last {
            Some(last) => after = after.max(last),
            None => return Ok(listing::page(None, &records)),
        }
    }
}

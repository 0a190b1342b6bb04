//! The trash catalog: one SQLite row per trash entry. SQLite only; no file I/O.
//!
//! Names and paths are BLOBs (Linux names are bytes); times are whole seconds
//! since the epoch. Rows carry a `state` so that a move interrupted by a crash
//! can be finished or rolled back at the next mount (see `trash`).

use std::fmt;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use crate::contract::Reason;

/// Schema migrations, indexed by `PRAGMA user_version`. Never edit or remove one.
const MIGRATIONS: &[&str] = &[
    // 1: the entries table.
    "CREATE TABLE entries (
        id            INTEGER PRIMARY KEY,
        name          BLOB NOT NULL UNIQUE,
        original_path BLOB NOT NULL,
        deleted_at    INTEGER NOT NULL,
        kind          INTEGER NOT NULL,
        uid           INTEGER NOT NULL,
        size          INTEGER NOT NULL,
        state         INTEGER NOT NULL DEFAULT 0,
        prev_name     BLOB
    );
    CREATE INDEX entries_by_deleted_at ON entries(deleted_at);
    CREATE INDEX entries_by_original_path ON entries(original_path, deleted_at);
    CREATE INDEX entries_by_uid ON entries(uid, id);
    CREATE INDEX entries_by_state ON entries(state) WHERE state != 0;",
    // 2: the entry's backing inode number (listings need no stat), and a flag
    // telling the next mount whether the last one ended cleanly.
    "ALTER TABLE entries ADD COLUMN ino INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    // 3: name checks look at names mid-rename without a scan.
    "CREATE INDEX entries_by_prev_name ON entries(prev_name) WHERE prev_name IS NOT NULL;",
    // 4: changes in flight inside a trashed directory (a partial restore or a
    // delete inside it), so the next mount recomputes sizes a crash left stale.
    "ALTER TABLE entries ADD COLUMN resizing INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX entries_resizing ON entries(id) WHERE resizing != 0;",
    // 5: why an entry is in the trash (`Reason`, see `reason_code`).
    "ALTER TABLE entries ADD COLUMN reason INTEGER NOT NULL DEFAULT 0;",
    // 6: the process that deleted an entry (pid and start time, 0 if
    // unknown), so one removal of a folder folds into one entry.
    "ALTER TABLE entries ADD COLUMN by_pid INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE entries ADD COLUMN by_start INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX entries_by_deleter ON entries(by_pid, by_start, original_path)
        WHERE by_pid != 0;
    ALTER TABLE entries ADD COLUMN folded_into INTEGER;
    CREATE INDEX entries_folded ON entries(folded_into) WHERE folded_into IS NOT NULL;",
    // 7: litter, a program's temporary file (see `litter`): 1 if so, decided
    // at insert. Its own index finds litter past its shorter retention.
    "ALTER TABLE entries ADD COLUMN litter INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX entries_litter ON entries(deleted_at) WHERE litter != 0;",
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a statement waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a row stands in the crash-safe protocol of `trash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// The row describes the backing file `trash/NAME`.
    Settled = 0,
    /// `trash/NAME` is a hard link to a gallery file that a rename is about to replace.
    Linking = 1,
    /// The entry is being renamed from `prev_name` to `name`.
    Renaming = 2,
    /// `trash/NAME` was moved out of the gallery (no hard links there) for a
    /// rename that is about to take its place.
    Replacing = 3,
    /// `trash/NAME` is a copy being made of a gallery file whose content is
    /// about to be overwritten; the gallery file is untouched until it settles.
    Copying = 4,
    /// `trash/NAME` is an emptied directory a process removed, kept out of
    /// sight until its parent's removal folds it into one entry (or it
    /// turns out to be the end of that removal, and goes).
    Pending = 5,
    /// `trash/NAME` is a removed folder into which its process's entries
    /// below it (rows whose `folded_into` is this row) are being moved.
    Folding = 6,
}

impl EntryState {
    fn from_i64(v: i64) -> EntryState {
        match v {
            1 => EntryState::Linking,
            2 => EntryState::Renaming,
            3 => EntryState::Replacing,
            4 => EntryState::Copying,
            5 => EntryState::Pending,
            6 => EntryState::Folding,
            _ => EntryState::Settled,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    pub id: i64,
    pub name: Vec<u8>,
    /// Relative to `gallery/`.
    pub original_path: Vec<u8>,
    /// Seconds since the epoch.
    pub deleted_at: i64,
    /// `S_IFMT` bits of the entry.
    pub kind: u32,
    pub uid: u32,
    /// Bytes allocated, whole tree for a directory.
    pub size: u64,
    pub state: EntryState,
    pub prev_name: Option<Vec<u8>>,
    /// Backing inode number (0 if unknown).
    pub ino: u64,
    pub reason: Reason,
    pub by: Option<DeletedBy>,
    /// Classified as litter when inserted (see `litter`; `TrashStore::is_litter`
    /// says whether it counts as such on this mount).
    pub litter: bool,
}

/// What a new row records.
pub struct NewEntry<'a> {
    pub name: &'a [u8],
    pub original_path: &'a [u8],
    pub deleted_at: i64,
    pub kind: u32,
    pub uid: u32,
    pub size: u64,
    pub state: EntryState,
    pub ino: u64,
    pub reason: Reason,
    pub by: Option<DeletedBy>,
    pub litter: bool,
}

#[derive(Debug)]
pub enum CatalogError {
    /// The file is not an SQLite database, or fails `PRAGMA quick_check`.
    Corrupt(String),
    /// Written by a newer galleryfs.
    TooNew(i64),
    /// Another process holds the database locked.
    Locked,
    /// SQLite could open it only read-only (a permission or attribute of
    /// the file); galleryfs must write to it.
    ReadOnly,
    Sqlite(rusqlite::Error),
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogError::Corrupt(why) => write!(f, "is not a valid galleryfs database ({why})"),
            CatalogError::TooNew(v) => write!(
                f,
                "was written by a newer galleryfs (schema version {v}, this galleryfs knows up to {SCHEMA_VERSION})"
            ),
            CatalogError::Locked => write!(f, "is locked by another process"),
            CatalogError::ReadOnly => write!(f, "can only be opened read-only"),
            CatalogError::Sqlite(e) => write!(f, "cannot be used: {e}"),
        }
    }
}

impl std::error::Error for CatalogError {}

impl From<rusqlite::Error> for CatalogError {
    fn from(e: rusqlite::Error) -> CatalogError {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase)
            | Some(rusqlite::ErrorCode::DatabaseCorrupt) => CatalogError::Corrupt(e.to_string()),
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
                CatalogError::Locked
            }
            _ => CatalogError::Sqlite(e),
        }
    }
}

pub struct Catalog {
    pub(crate) conn: Connection,
}

const COLUMNS: &str = "id, name, original_path, deleted_at, kind, uid, size, state, prev_name, \
     ino, reason, by_pid, by_start, litter";

fn row_to_entry(row: &Row<'_>) -> rusqlite::Result<EntryRow> {
    Ok(EntryRow {
        id: row.get(0)?,
        name: row.get(1)?,
        original_path: row.get(2)?,
        deleted_at: row.get(3)?,
        kind: row.get::<_, i64>(4)? as u32,
        uid: row.get::<_, i64>(5)? as u32,
        size: row.get::<_, i64>(6)? as u64,
        state: EntryState::from_i64(row.get(7)?),
        prev_name: row.get(8)?,
        ino: row.get::<_, i64>(9)? as u64,
        reason: reason_of(row.get(10)?),
        by: DeletedBy::of(row.get::<_, i64>(11)? as u32, row.get::<_, i64>(12)? as u64),
        litter: row.get::<_, i64>(13)? != 0,
    })
}

/// The process that deleted an entry: its pid, and its start time (clock
/// ticks since boot) so that a later process with the same pid is another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeletedBy {
    pub pid: u32,
    pub start: u64,
}

impl DeletedBy {
    /// None for the stored "unknown" (pid 0).
    fn of(pid: u32, start: u64) -> Option<DeletedBy> {
        (pid != 0).then_some(DeletedBy { pid, start })
    }
}

/// The range of original paths below directory `path`: `path/` up to,
/// not including, `path0` (`0` is the byte after `/`).
fn below(path: &[u8]) -> (Vec<u8>, Vec<u8>) {
    ([path, b"/"].concat(), [path, b"0"].concat())
}

/// How a `Reason` is stored: never renumber.
fn reason_code(reason: Reason) -> i64 {
    match reason {
        Reason::Deleted => 0,
        Reason::Replaced => 1,
        Reason::Overwritten => 2,
    }
}

fn reason_of(code: i64) -> Reason {
    match code {
        1 => Reason::Replaced,
        2 => Reason::Overwritten,
        _ => Reason::Deleted,
    }
}

impl Catalog {
    /// Opens (creating if missing) the catalog at `path`, checks it and brings
    /// its schema up to date. Never recreates or overwrites an existing database.
    pub fn open(path: &Path) -> Result<Catalog, CatalogError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // SQLite falls back to read-only where it may not write; every
        // later write would then fail as an I/O error.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(CatalogError::ReadOnly);
        }
        // quick_check reads every page (2 to 3.5 s cold for a million
        // rows): only where the file may not be as SQLite wrote it.
        if !trusted(&conn) {
            let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
            if check != "ok" {
                return Err(CatalogError::Corrupt(format!("quick_check: {check}")));
            }
        }
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(CatalogError::Corrupt(format!(
                "journal_mode is {mode}, not wal"
            )));
        }
        // NORMAL in WAL mode: a crash of galleryfs loses nothing; only a power
        // failure can lose the last transactions, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut catalog = Catalog { conn };
        catalog.migrate()?;
        Ok(catalog)
    }

    fn migrate(&mut self) -> Result<(), CatalogError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(CatalogError::TooNew(version));
        }
        if version == 0 {
            let tables: i64 = tx.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )?;
            if tables != 0 {
                return Err(CatalogError::Corrupt(
                    "it holds tables but no galleryfs schema version".into(),
                ));
            }
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a new entry; `None` if the name is taken.
    pub fn insert(&self, e: &NewEntry<'_>) -> rusqlite::Result<Option<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO entries
                 (name, original_path, deleted_at, kind, uid, size, state, ino, reason,
                  by_pid, by_start, litter)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let n = stmt.execute(params![
            e.name,
            e.original_path,
            e.deleted_at,
            e.kind as i64,
            e.uid as i64,
            e.size as i64,
            e.state as i64,
            e.ino as i64,
            reason_code(e.reason),
            e.by.map_or(0, |b| b.pid as i64),
            e.by.map_or(0, |b| b.start as i64),
            e.litter as i64
        ])?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    pub fn by_name(&self, name: &[u8]) -> rusqlite::Result<Option<EntryRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM entries WHERE name = ?1"))?;
        stmt.query_row([name], row_to_entry).optional()
    }

    /// The rows of those of `names` that have one, in no order: a bulk
    /// request's (`store::bulk`), a few queries for thousands of names.
    pub fn by_names(&self, names: &[&[u8]]) -> rusqlite::Result<Vec<EntryRow>> {
        const CHUNK: usize = 500;
        let mut rows = Vec::with_capacity(names.len());
        for chunk in names.chunks(CHUNK) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!("SELECT {COLUMNS} FROM entries WHERE name IN ({marks})");
            // Full chunks share a cached statement; a last, shorter one is
            // prepared once (its length would crowd the cache).
            let (mut cached, mut once);
            let stmt: &mut rusqlite::Statement<'_> = if chunk.len() == CHUNK {
                cached = self.conn.prepare_cached(&sql)?;
                &mut cached
            } else {
                once = self.conn.prepare(&sql)?;
                &mut once
            };
            let found = stmt.query_map(rusqlite::params_from_iter(chunk), row_to_entry)?;
            for row in found {
                rows.push(row?);
            }
        }
        Ok(rows)
    }

    pub fn name_taken(&self, name: &[u8]) -> rusqlite::Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 1 FROM entries WHERE name = ?1
             UNION ALL SELECT 1 FROM entries WHERE prev_name = ?1 AND prev_name IS NOT NULL",
        )?;
        stmt.exists([name])
    }

    /// Names of entries that start with `prefix` (a range scan of the name
    /// index: names are BLOBs, compared bytewise).
    pub fn names_with_prefix(&self, prefix: &[u8]) -> rusqlite::Result<Vec<Vec<u8>>> {
        let mut upper = prefix.to_vec();
        // The smallest byte string above every string that starts with `prefix`.
        while let Some(last) = upper.pop() {
            if last < 0xff {
                upper.push(last + 1);
                break;
            }
        }
        // Two plain range forms, so SQLite bounds the index scan on both
        // ends (an `OR` in the bound made it scan to the end of the index).
        if upper.is_empty() {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT name FROM entries WHERE name >= ?1")?;
            return stmt.query_map([prefix], |r| r.get(0))?.collect();
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM entries WHERE name >= ?1 AND name < ?2")?;
        stmt.query_map(params![prefix, upper], |r| r.get(0))?
            .collect()
    }

    pub fn delete(&self, id: i64) -> rusqlite::Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM entries WHERE id = ?1")?;
        stmt.execute([id])?;
        Ok(())
    }

    pub fn settle(&self, id: i64) -> rusqlite::Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE entries SET state = 0, prev_name = NULL WHERE id = ?1")?;
        stmt.execute([id])?;
        Ok(())
    }

    /// Row `id` settles under the name `name`.
    pub fn rename_settle(&self, id: i64, name: &[u8]) -> rusqlite::Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE entries SET name = ?2, state = 0 WHERE id = ?1")?;
        stmt.execute(params![id, name])?;
        Ok(())
    }

    /// A copy was made: the row settles, with the copy's inode number.
    pub fn settle_copy(&self, id: i64, ino: u64) -> rusqlite::Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE entries SET state = 0, ino = ?2 WHERE id = ?1")?;
        stmt.execute(params![id, ino as i64])?;
        Ok(())
    }

    /// Marks entry `id` as being renamed to `new_name`; false if that name is taken.
    pub fn begin_rename(&self, id: i64, new_name: &[u8]) -> rusqlite::Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE OR IGNORE entries SET prev_name = name, name = ?2, state = 2 WHERE id = ?1",
        )?;
        Ok(stmt.execute(params![id, new_name])? == 1)
    }

    /// Undoes `begin_rename`.
    pub fn revert_rename(&self, id: i64) -> rusqlite::Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE entries SET name = prev_name, prev_name = NULL, state = 0
             WHERE id = ?1 AND prev_name IS NOT NULL",
        )?;
        stmt.execute([id])?;
        Ok(())
    }

    /// Up to `limit` settled rows with `id > after_id`, in id order.
    pub fn page(&self, after_id: i64, limit: usize) -> rusqlite::Result<Vec<EntryRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM entries WHERE id > ?1 AND state = 0 ORDER BY id LIMIT ?2"
        ))?;
        stmt.query_map(params![after_id, limit as i64], row_to_entry)?
            .collect()
    }

    /// Like `page`, but only the rows of entries owned by `uid`.
    pub fn page_for_uid(
        &self,
        uid: u32,
        after_id: i64,
        limit: usize,
    ) -> rusqlite::Result<Vec<EntryRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM entries WHERE uid = ?1 AND id > ?2 AND state = 0 ORDER BY id LIMIT ?3"
        ))?;
        stmt.query_map(params![uid as i64, after_id, limit as i64], row_to_entry)?
            .collect()
    }

    pub fn by_id(&self, id: i64) -> rusqlite::Result<Option<EntryRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM entries WHERE id = ?1"))?;
        stmt.query_row([id], row_to_entry).optional()
    }

    /// Up to `limit` rows deleted at or before `cutoff`, oldest first.
    pub fn expired(&self, cutoff: i64, limit: usize) -> rusqlite::Result<Vec<EntryRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM entries WHERE deleted_at <= ?1 AND state = 0
             ORDER BY deleted_at, id LIMIT ?2"
        ))?;
        stmt.query_map(params![cutoff, limit as i64], row_to_entry)?
            .collect()
    }

    /// The latest deletion at or before `cutoff` and the earliest after it
    /// (of litter rows only if `litter`): two descents of an index.
    pub fn deletion_marks(
        &self,
        cutoff: i64,
        litter: bool,
    ) -> rusqlite::Result<(Option<i64>, Option<i64>)> {
        let sql = match litter {
            false => {
                "SELECT (SELECT max(deleted_at) FROM entries WHERE deleted_at <= ?1),
                        (SELECT min(deleted_at) FROM entries WHERE deleted_at > ?1)"
            }
            true => {
                "SELECT (SELECT max(deleted_at) FROM entries WHERE litter != 0 AND deleted_at <= ?1),
                        (SELECT min(deleted_at) FROM entries WHERE litter != 0 AND deleted_at > ?1)"
            }
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        stmt.query_row([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))
    }

    /// Up to `limit` settled litter rows deleted at or before `cutoff`,
    /// oldest first (litter expires sooner than the rest: see `litter`).
    pub fn expired_litter(&self, cutoff: i64, limit: usize) -> rusqlite::Result<Vec<EntryRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM entries WHERE litter != 0 AND deleted_at <= ?1 AND state = 0
             ORDER BY deleted_at, id LIMIT ?2"
        ))?;
        stmt.query_map(params![cutoff, limit as i64], row_to_entry)?
            .collect()
    }

    /// Rows left mid-protocol by a crash.
    pub fn unsettled(&self) -> rusqlite::Result<Vec<EntryRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM entries WHERE state != 0"))?;
        stmt.query_map([], row_to_entry)?.collect()
    }

    /// Number of settled entries deleted after `cutoff` (litter: after
    /// `litter_cutoff`, which is no earlier), capped at `cap`.
    pub fn count_live(&self, cutoff: i64, litter_cutoff: i64, cap: u64) -> rusqlite::Result<u64> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM entries WHERE state = 0 AND deleted_at > ?1
             AND (litter = 0 OR deleted_at > ?2) LIMIT ?3)",
        )?;
        stmt.query_row(params![cutoff, litter_cutoff, cap as i64], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as u64)
    }

    pub fn total_size(&self) -> rusqlite::Result<u64> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT coalesce(sum(size), 0) FROM entries")?;
        stmt.query_row([], |r| r.get::<_, i64>(0)).map(|n| n as u64)
    }

    /// The id of the most recently deleted settled entry.
    pub fn newest_id(&self) -> rusqlite::Result<Option<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM entries WHERE state = 0 ORDER BY deleted_at DESC, id DESC LIMIT 1",
        )?;
        stmt.query_row([], |r| r.get(0)).optional()
    }

    /// Part of entry `id`'s tree left the trash: `bytes` less in its size.
    pub fn shrink(&self, id: i64, bytes: u64) -> rusqlite::Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE entries SET size = max(size - ?2, 0), resizing = max(resizing - 1, 0)
             WHERE id = ?1",
        )?;
        stmt.execute(params![id, bytes as i64])?;
        Ok(())
    }

    /// A change inside entry `id`'s tree is about to alter its size; `shrink`
    /// records it. A crash between them leaves the mark for reconcile.
    pub fn begin_resize(&self, id: i64) -> rusqlite::Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE entries SET resizing = resizing + 1 WHERE id = ?1")?;
        stmt.execute([id])?;
        Ok(())
    }

    /// Whether a settled `overwritten` entry of `original_path` was made at
    /// or after `since` (the index on original path and time answers it).
    pub fn overwritten_since(&self, original_path: &[u8], since: i64) -> rusqlite::Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 1 FROM entries WHERE original_path = ?1 AND deleted_at >= ?2
             AND reason = ?3 AND state = 0",
        )?;
        stmt.exists(params![
            original_path,
            since,
            reason_code(Reason::Overwritten)
        ])
    }

    /// Whether `by` deleted anything below directory `path` (a range scan of
    /// the deleter index) that is not yet folded.
    pub fn deleted_below(&self, by: DeletedBy, path: &[u8]) -> rusqlite::Result<bool> {
        self.deleted_below_but(by, path, 0)
    }

    /// `deleted_below`, not counting row `but`.
    pub fn deleted_below_but(
        &self,
        by: DeletedBy,
        path: &[u8],
        but: i64,
    ) -> rusqlite::Result<bool> {
        let (low, high) = below(path);
        let mut stmt = self.conn.prepare_cached(
            "SELECT 1 FROM entries WHERE by_pid = ?1 AND by_start = ?2
             AND original_path >= ?3 AND original_path < ?4
             AND state IN (0, 5) AND folded_into IS NULL AND id != ?5 LIMIT 1",
        )?;
        stmt.exists(params![by.pid as i64, by.start as i64, low, high, but])
    }

    /// Marks what `by` deleted below `path` as being folded into row `into`.
    pub fn mark_folded(&self, into: i64, by: DeletedBy, path: &[u8]) -> rusqlite::Result<usize> {
        let (low, high) = below(path);
        let mut stmt = self.conn.prepare_cached(
            "UPDATE entries SET folded_into = ?1 WHERE by_pid = ?2 AND by_start = ?3
             AND original_path >= ?4 AND original_path < ?5
             AND state IN (0, 5) AND folded_into IS NULL AND id != ?1",
        )?;
        stmt.execute(params![into, by.pid as i64, by.start as i64, low, high])
    }

    /// The rows being folded into row `into`, shallowest original path first.
    pub fn folded(&self, into: i64) -> rusqlite::Result<Vec<EntryRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM entries WHERE folded_into = ?1
             ORDER BY length(original_path) - length(replace(original_path, '/', '')), id"
        ))?;
        stmt.query_map([into], row_to_entry)?.collect()
    }

    /// Row `id` is no longer folded into anything (it stays its own entry).
    pub fn unfold(&self, id: i64) -> rusqlite::Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE entries SET folded_into = NULL WHERE id = ?1")?;
        stmt.execute([id])?;
        Ok(())
    }

    /// The fold into row `into` is complete: its rows go, it settles with `size`.
    pub fn finish_fold(&self, into: i64, size: u64) -> rusqlite::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM entries WHERE folded_into = ?1", [into])?;
        tx.execute(
            "UPDATE entries SET state = 0, size = ?2 WHERE id = ?1",
            params![into, size as i64],
        )?;
        tx.commit()
    }

    /// Undoes a fold that never moved its folder: its rows are their own again.
    pub fn abandon_fold(&self, into: i64) -> rusqlite::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE entries SET folded_into = NULL WHERE folded_into = ?1",
            [into],
        )?;
        tx.execute("DELETE FROM entries WHERE id = ?1", [into])?;
        tx.commit()
    }

    /// Pending directories (see `EntryState::Pending`) deleted before `cutoff`.
    pub fn pending_before(&self, cutoff: i64, limit: usize) -> rusqlite::Result<Vec<EntryRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM entries WHERE state = 5 AND folded_into IS NULL
             AND deleted_at < ?1 ORDER BY id LIMIT ?2"
        ))?;
        stmt.query_map(params![cutoff, limit as i64], row_to_entry)?
            .collect()
    }

    /// Rows whose size a crash may have left stale: `(id, name)`.
    pub fn resizing(&self) -> rusqlite::Result<Vec<(i64, Vec<u8>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name FROM entries WHERE resizing != 0")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    }

    /// Sets entry `id`'s size as measured, clearing its resize marks.
    pub fn set_size(&self, id: i64, bytes: u64) -> rusqlite::Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE entries SET size = ?2, resizing = 0 WHERE id = ?1")?;
        stmt.execute(params![id, bytes as i64])?;
        Ok(())
    }

    /// Every row's id and name, visited without holding them in memory: a
    /// scan of the name index alone, a fraction of the table's pages.
    pub fn for_each_name(&self, mut f: impl FnMut(i64, &[u8])) -> rusqlite::Result<()> {
        let mut stmt = self.conn.prepare("SELECT id, name FROM entries")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(
                row.get(0)?,
                row.get_ref(1)?.as_bytes_or_null()?.unwrap_or_default(),
            );
        }
        Ok(())
    }

    /// Records whether galleryfs is mounted on this catalog (false once it
    /// unmounted cleanly): a mount that finds it true reconciles in full.
    pub fn set_in_use(&self, in_use: bool) -> rusqlite::Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
        stmt.execute(params!["in_use", in_use as i64])?;
        // The boot it is in use on: a mount after a crash on the same boot
        // need not check the file (see `trusted`).
        match crate::clock::boot() {
            Some(boot) if in_use => stmt.execute(params!["boot", boot])?,
            _ => self
                .conn
                .execute("DELETE FROM meta WHERE key = 'boot'", [])?,
        };
        Ok(())
    }

    /// Whether the last mount did not end cleanly. A new catalog counts as in
    /// use, so that files already in STORAGE/trash are adopted.
    pub fn was_in_use(&self) -> rusqlite::Result<bool> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'in_use'")?;
        Ok(stmt
            .query_row([], |r| r.get::<_, i64>(0))
            .optional()?
            .is_none_or(|v| v != 0))
    }

    /// Runs `f` inside one transaction (for reconciliation's many small changes).
    pub fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&Catalog) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Moves the WAL into the main file; called at unmount.
    pub fn checkpoint(&self) -> rusqlite::Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    }

    #[cfg(test)]
    pub fn integrity_check(&self) -> rusqlite::Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
    }
}

/// Whether the file is as SQLite last wrote it, so that `quick_check` can
/// be skipped: the last mount stopped cleanly (it checkpointed), or it died
/// on this boot of the machine (every write it made is in the page cache,
/// and SQLite's log recovers from a process killed at any instant). False
/// after a crash of the machine, and for a new or unreadable catalog.
fn trusted(conn: &Connection) -> bool {
    let meta = |key: &str| {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
            r.get::<_, i64>(0)
        })
        .ok()
    };
    match meta("in_use") {
        Some(0) => true,
        Some(_) => crate::clock::boot().is_some_and(|boot| meta("boot") == Some(boot)),
        None => false,
    }
}

#[cfg(test)]
mod tests;

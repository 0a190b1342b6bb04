//! The crash suite's model of file contents and its checks of what the
//! mount, STORAGE and the catalog hold after a crash; the soak suite runs
//! the same checks.
//!
//! Every file a suite writes has unique content derived from (seed, id)
//! ([`content`]), so a copy is recognised wherever it turns up
//! ([`identify`]). [`scan`] reads everything the mount shows;
//! [`storage_problems`] compares it with STORAGE and the catalog.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use crate::harness::Rng;
use crate::mount::Mount;
use crate::xattr;

/// The unique content of file `id`: a header naming it, then bytes derived
/// from (seed, id), so any copy is recognised and checked byte for byte.
pub fn content(seed: u64, id: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed);
    let len = rng.below(3000) as usize;
    let mut data = format!("galleryfs-torture id={id}\n").into_bytes();
    data.extend(rng.bytes(len));
    data
}

/// The id named by a header at the start of `data`, if any.
pub fn header_id(data: &[u8]) -> Option<u64> {
    let rest = data.strip_prefix(b"galleryfs-torture id=")?;
    let end = rest.iter().position(|&b| b == b'\n')?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// The id whose content `data` is exactly.
pub fn identify(seed: u64, data: &[u8]) -> Option<u64> {
    header_id(data).filter(|&id| content(seed, id) == data)
}

/// Whether `data` is a proper prefix of file `id`'s content (a write cut short).
pub fn is_partial(seed: u64, id: u64, data: &[u8]) -> bool {
    let full = content(seed, id);
    data.len() < full.len() && full.starts_with(data)
}

/// Where a file is, as seen through the mount.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Loc {
    /// Path relative to `gallery/`.
    Gallery(String),
    /// In trash entry `entry` (at `sub` below it if the entry is a
    /// directory, else `sub` is empty); `orig` is the entry's original path.
    Trash {
        entry: String,
        sub: String,
        orig: String,
    },
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Gallery(p) => write!(f, "gallery/{p}"),
            Loc::Trash { entry, sub, orig } if sub.is_empty() => {
                write!(f, ".trash/{entry} (from {orig})")
            }
            Loc::Trash { entry, sub, orig } => write!(f, ".trash/{entry}/{sub} (from {orig})"),
        }
    }
}

/// A trash entry as the mount shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryMeta {
    pub orig: String,
    pub is_dir: bool,
}

/// Everything the mount shows.
#[derive(Default)]
pub struct Scan {
    pub files: Vec<(Loc, Vec<u8>)>,
    /// Directories below `gallery/`.
    pub gallery_dirs: BTreeSet<String>,
    pub entries: BTreeMap<String, EntryMeta>,
    /// Anything that is neither a regular file nor a directory.
    pub odd: Vec<String>,
    /// `gallery/…` and `trash/…` paths with kind and size, to compare with STORAGE.
    pub listing: BTreeSet<String>,
}

/// Every name below `dir`, depth first, sorted, relative to `dir` with `prefix`.
pub fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, fs::Metadata)>) -> io::Result<()> {
    let mut names = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()?;
    names.sort();
    for name in names {
        let shown = name.to_string_lossy();
        let rel = if prefix.is_empty() {
            shown.into_owned()
        } else {
            format!("{prefix}/{shown}")
        };
        let path = dir.join(&name);
        let md = fs::symlink_metadata(&path)?;
        let is_dir = md.is_dir();
        out.push((rel.clone(), md));
        if is_dir {
            walk(&path, &rel, out)?;
        }
    }
    Ok(())
}

fn listing_line(area: &str, rel: &str, md: &fs::Metadata) -> String {
    if md.is_dir() {
        format!("{area}/{rel} dir")
    } else if md.is_file() {
        format!("{area}/{rel} file {}", md.len())
    } else {
        format!("{area}/{rel} other {:o}", md.mode())
    }
}

/// Reads everything the mount shows: gallery, trash entries with their
/// `original_path`, file contents.
pub fn scan(m: &Mount) -> Result<Scan, String> {
    let mut s = Scan::default();
    let ctx = |what: &str, e: io::Error| format!("scan: {what}: {e}");
    let mut items = Vec::new();
    walk(&m.gallery(), "", &mut items).map_err(|e| ctx("walk gallery/", e))?;
    for (rel, md) in items {
        s.listing.insert(listing_line("gallery", &rel, &md));
        if md.is_dir() {
            s.gallery_dirs.insert(rel);
        } else if md.is_file() {
            let data = fs::read(m.gallery().join(&rel)).map_err(|e| ctx(&rel, e))?;
            s.files.push((Loc::Gallery(rel), data));
        } else {
            s.odd.push(format!("gallery/{rel}"));
        }
    }
    let mut top = fs::read_dir(m.trash())
        .map_err(|e| ctx("list .trash", e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()
        .map_err(|e| ctx("list .trash", e))?;
    top.sort();
    for name in top {
        let entry = name.to_string_lossy().into_owned();
        let path = m.trash().join(&name);
        let md = fs::symlink_metadata(&path).map_err(|e| ctx(&entry, e))?;
        s.listing.insert(listing_line("trash", &entry, &md));
        let orig = xattr::get(&path, "user.trash.original_path")
            .map_err(|e| ctx(&format!(".trash/{entry} original_path"), e))?;
        let orig = String::from_utf8_lossy(&orig).into_owned();
        s.entries.insert(
            entry.clone(),
            EntryMeta {
                orig: orig.clone(),
                is_dir: md.is_dir(),
            },
        );
        if md.is_file() {
            let data = fs::read(&path).map_err(|e| ctx(&entry, e))?;
            let sub = String::new();
            s.files.push((Loc::Trash { entry, sub, orig }, data));
        } else if md.is_dir() {
            let mut items = Vec::new();
            walk(&path, "", &mut items).map_err(|e| ctx(&entry, e))?;
            for (sub, md) in items {
                s.listing
                    .insert(listing_line("trash", &format!("{entry}/{sub}"), &md));
                if md.is_file() {
                    let data = fs::read(path.join(&sub)).map_err(|e| ctx(&sub, e))?;
                    let (entry, orig) = (entry.clone(), orig.clone());
                    s.files.push((Loc::Trash { entry, sub, orig }, data));
                } else if !md.is_dir() {
                    s.odd.push(format!(".trash/{entry}/{sub}"));
                }
            }
        } else {
            s.odd.push(format!(".trash/{entry}"));
        }
    }
    Ok(s)
}

/// What STORAGE holds and the catalog records must be exactly what the mount
/// shows: same names (kinds, sizes) in gallery/ and trash/, one settled row
/// per trash entry with the entry's original path, nothing left in purging/.
/// Call while mounted, after `scan`.
pub fn storage_problems(m: &Mount, s: &Scan) -> Vec<String> {
    let mut problems = Vec::new();
    let mut on_disk = BTreeSet::new();
    for area in ["gallery", "trash"] {
        let mut items = Vec::new();
        if let Err(e) = walk(&m.storage.join(area), "", &mut items) {
            problems.push(format!("cannot walk STORAGE/{area}: {e}"));
        }
        for (rel, md) in items {
            on_disk.insert(listing_line(area, &rel, &md));
        }
    }
    for extra in on_disk.difference(&s.listing).take(20) {
        problems.push(format!(
            "STORAGE has {extra}, which the mount does not show"
        ));
    }
    for missing in s.listing.difference(&on_disk).take(20) {
        problems.push(format!(
            "the mount shows {missing}, which STORAGE does not hold"
        ));
    }
    match fs::read_dir(m.storage.join("purging")) {
        Ok(d) => {
            let left: Vec<_> = d.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
            if !left.is_empty() {
                problems.push(format!("STORAGE/purging is not empty: {left:?}"));
            }
        }
        Err(e) => problems.push(format!("cannot list STORAGE/purging: {e}")),
    }
    let trash_names: BTreeSet<String> = fs::read_dir(m.storage.join("trash"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let pending_names: BTreeSet<String> = fs::read_dir(m.storage.join("pending"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    match catalog_rows(&m.storage.join("galleryfs.db")) {
        Ok(rows) => {
            let mut named = BTreeSet::new();
            for (name, orig, state) in rows {
                // An emptied folder waiting in STORAGE/pending for its
                // parent's removal to fold it (galleryfs's fold): hidden.
                if state == PENDING {
                    if !pending_names.contains(name.trim_start_matches('/')) {
                        problems.push(format!(
                            "pending row {name:?} has no folder in STORAGE/pending"
                        ));
                    }
                    continue;
                }
                if state != 0 {
                    problems.push(format!("catalog row {name:?} is unsettled (state {state})"));
                }
                if !trash_names.contains(&name) {
                    problems.push(format!("catalog row {name:?} has no file in STORAGE/trash"));
                }
                match s.entries.get(&name) {
                    Some(e) if e.orig == orig => {}
                    Some(e) => problems.push(format!(
                        "catalog row {name:?} says original path {orig:?}, the mount {:?}",
                        e.orig
                    )),
                    None => problems.push(format!("catalog row {name:?} is not shown in .trash")),
                }
                named.insert(name);
            }
            for name in trash_names.difference(&named) {
                problems.push(format!("STORAGE/trash/{name} has no catalog row"));
            }
        }
        Err(e) => problems.push(format!("cannot read the catalog: {e}")),
    }
    problems
}

/// The catalog state of an emptied folder awaiting its parent's removal.
const PENDING: i64 = 5;

/// (name, original_path, state) of every catalog row, read-only (the daemon
/// may have the database open: WAL readers do not disturb it).
pub fn catalog_rows(db: &Path) -> rusqlite::Result<Vec<(String, String, i64)>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mut stmt = conn.prepare("SELECT name, original_path, state FROM entries")?;
    let rows = stmt.query_map([], |r| {
        let name: Vec<u8> = r.get(0)?;
        let orig: Vec<u8> = r.get(1)?;
        Ok((
            String::from_utf8_lossy(&name).into_owned(),
            String::from_utf8_lossy(&orig).into_owned(),
            r.get(2)?,
        ))
    })?;
    rows.collect()
}

/// Keeps the daemon's whole log past the test's temporary directory; returns its path.
pub fn save_log(m: &Mount, suite: &str, seed: u64) -> String {
    let path = std::env::temp_dir().join(format!("galleryfs-{suite}-{seed:#x}.log"));
    match fs::write(&path, m.log()) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("(could not save it to {}: {e})", path.display()),
    }
}

/// `PRAGMA integrity_check` of the catalog; call while nothing is mounted.
pub fn integrity_problem(m: &Mount) -> Option<String> {
    let db = m.storage.join("galleryfs.db");
    let result = rusqlite::Connection::open(&db).and_then(|conn| {
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
    });
    match result {
        Ok(ok) if ok == "ok" => None,
        Ok(bad) => Some(format!("PRAGMA integrity_check: {bad}")),
        Err(e) => Some(format!("cannot run PRAGMA integrity_check: {e}")),
    }
}

/// The `n`th trash entry name galleryfs tries for a file called `name`
/// (`src/naming.rs`, for the short ASCII names used here).
pub fn candidate(name: &str, n: u64) -> String {
    if n <= 1 {
        return name.to_string();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= 16 => name.split_at(dot),
        _ => (name, ""),
    };
    format!("{stem} ({n}){ext}")
}

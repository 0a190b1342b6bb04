//! STORAGE on disk: recognising, initialising and locking it, and opening
//! the directories and database the filesystem works on.
//!
//! ```text
//! STORAGE/
//!   gallery/         the gallery's files, plain
//!   trash/           one file or directory per trash entry, under its entry name
//!   purging/         directories being deleted permanently (emptied at mount)
//!   galleryfs.db     the trash catalog (SQLite, WAL)
//!   galleryfs.lock   flock'ed while mounted
//! ```

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::catalog::{Catalog, CatalogError};
use crate::backing;

mod writable;

pub const GALLERY_DIR: &str = "gallery";
pub const TRASH_DIR: &str = "trash";
pub const PURGING_DIR: &str = "purging";
pub const PENDING_DIR: &str = "pending";
pub const DATABASE: &str = "galleryfs.db";
pub const LOCK_FILE: &str = "galleryfs.lock";

/// Names that may exist in a galleryfs STORAGE.
const KNOWN_NAMES: &[&str] = &[
    GALLERY_DIR,
    TRASH_DIR,
    PURGING_DIR,
    PENDING_DIR,
    DATABASE,
    "galleryfs.db-wal",
    "galleryfs.db-shm",
    "galleryfs.db-journal",
    LOCK_FILE,
];

/// Room set aside for the database's write-ahead log. Each move to or from
/// the trash is a small catalog write, which must still succeed when STORAGE
/// is full, so that `rm`, restore and purge keep working (a purge frees space).
const LOG_RESERVE: i64 = 4 << 20;

/// Allocates `LOG_RESERVE` bytes beyond the end of the write-ahead log of
/// `db` (`FALLOC_FL_KEEP_SIZE`: SQLite sees no change), so appending to the
/// log needs no new space. Beyond its current end, not from its start: a
/// log that outlived a mount (see `reserve_db_space`) can outgrow a reserve
/// counted from offset 0. The checkpoint at unmount truncates the log and
/// frees the reserve. Best effort: without it, a full disk fails trash
/// moves with ENOSPC.
fn reserve_log_space(db: &Path) {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    reserve_room(Path::new(&wal));
}

/// The same room beyond the end of the database itself, before SQLite
/// opens it (closing a second descriptor of an open database would drop
/// SQLite's locks): the checkpoint copies the log into the database, which
/// grows; on a full STORAGE without this room the checkpoint fails, the log
/// is never truncated and grows from mount to mount.
fn reserve_db_space(db: &Path) {
    // A new store's database starts as an empty file (SQLite takes a 0-byte
    // file for a new database), so that it has the room from the start.
    if let Err(e) = OpenOptions::new().write(true).create_new(true).open(db)
        && e.kind() != std::io::ErrorKind::AlreadyExists
    {
        log::warn!("cannot create {}: {e}", db.display());
        return;
    }
    reserve_room(db);
}

fn reserve_room(path: &Path) {
    // Less than the whole reserve still keeps some moves working.
    let mut len = LOG_RESERVE;
    loop {
        match reserve_beyond_end(path, len) {
            Ok(()) if len == LOG_RESERVE => return,
            Ok(()) => break,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && len > 64 << 10 => len /= 2,
            Err(e) => {
                log::warn!(
                    "cannot reserve space for {}: {e}; trash moves may fail when STORAGE is full",
                    path.display()
                );
                return;
            }
        }
    }
    log::warn!(
        "only {} KiB of room for {} on a full STORAGE: trash moves may fail until space is freed",
        len >> 10,
        path.display()
    );
}

/// `len` bytes allocated past the end of `path`, its size unchanged.
fn reserve_beyond_end(path: &Path, len: i64) -> std::io::Result<()> {
    // The log has no locks of its own (they are on the -shm file), so this
    // second descriptor can be closed without touching SQLite's. (Not so
    // the database: closing any descriptor of it drops SQLite's locks.)
    let file = OpenOptions::new().write(true).open(path)?;
    let end = file.metadata()?.len() as i64;
    // SAFETY: fallocate on a descriptor we own.
    let r = unsafe {
        libc::fallocate(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            libc::FALLOC_FL_KEEP_SIZE,
            end,
            len,
        )
    };
    match r {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Below this much free space, STORAGE counts as full when the database
/// cannot be opened.
const FULL_BELOW: u64 = 1 << 20;

/// Whether the filesystem of `path` has (almost) no room left for us.
fn is_full(path: &Path) -> bool {
    let Ok(dir) = File::open(path) else {
        return false;
    };
    let Ok(st) = backing::fstatvfs(dir.as_fd()) else {
        return false;
    };
    // Root may use the blocks a filesystem reserves for it.
    let blocks = if backing::geteuid() == 0 {
        st.f_bfree
    } else {
        st.f_bavail
    };
    blocks.saturating_mul(st.f_frsize) < FULL_BELOW
}

/// Refuses a missing or empty catalog beside a non-empty `trash/`: a new
/// catalog would adopt the files with made-up original paths and deletion
/// times, passing them off as history (see doc/SEMANTICS.md).
fn refuse_lost_catalog(path: &Path, db: &Path) -> Result<(), StoreError> {
    let size = |p: &Path| fs::metadata(p).map(|m| m.len());
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let state = match size(db) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "missing",
        // An empty file with a log to replay is SQLite's to judge.
        Ok(0) if size(Path::new(&wal)).unwrap_or(0) == 0 => "empty",
        _ => return Ok(()),
    };
    let trash = path.join(TRASH_DIR);
    let entries = fs::read_dir(&trash)
        .map_err(|e| err(format!("cannot read {}: {e}", trash.display())))?
        .count();
    if entries == 0 {
        return Ok(());
    }
    let trash = trash.display();
    let entries = match entries {
        1 => "1 entry".to_string(),
        n => format!("{n} entries"),
    };
    Err(err(format!(
        "the trash database {} is {state}, but {trash} holds {entries}: galleryfs will \
         not make up their original paths and deletion times; put back the galleryfs.db that \
         belongs to this STORAGE (from a backup) and mount again, or, to keep those files as \
         ordinary files, move them from {trash} into {}/gallery (say, a folder \
         recovered-trash) and mount again",
        db.display(),
        path.display()
    )))
}

/// An opened, locked STORAGE.
pub struct Store {
    pub path: PathBuf,
    pub storage_fd: OwnedFd,
    pub gallery_fd: OwnedFd,
    pub trash_fd: OwnedFd,
    pub purging_fd: OwnedFd,
    pub pending_fd: OwnedFd,
    pub catalog: Catalog,
    /// Held (flock'ed) for as long as the store is open.
    _lock: File,
}

/// Why STORAGE cannot be used; the message is shown to the user as it is.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

fn err(msg: String) -> StoreError {
    StoreError(msg)
}

impl Store {
    /// Opens STORAGE at `path`, initialising it if it is missing or empty.
    /// Refuses (without touching it) a non-empty directory that is not a
    /// galleryfs store, one already in use, and an unusable database.
    #[cfg(test)]
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_for(path, Path::new("MOUNTPOINT"))
    }

    /// `open`, for a mount on `mountpoint` (named in messages).
    pub fn open_for(path: &Path, mountpoint: &Path) -> Result<Store, StoreError> {
        let shown = path.display();
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                // A symlink to a directory is fine; anything else is not.
                if !fs::metadata(path).is_ok_and(|m| m.is_dir()) {
                    return Err(err(format!("STORAGE {shown} is not a directory")));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Only the last component: a typo in a parent must not make a new tree.
                fs::DirBuilder::new()
                    .mode(0o755)
                    .create(path)
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => err(format!(
                            "cannot create STORAGE {shown}: its parent directory does not exist \
                             (galleryfs creates only STORAGE itself; create the parent first)"
                        )),
                        _ => err(format!("cannot create STORAGE {shown}: {e}")),
                    })?;
            }
            Err(e) => return Err(err(format!("cannot use STORAGE {shown}: {e}"))),
        }
        let path = path
            .canonicalize()
            .map_err(|e| err(format!("cannot use STORAGE {shown}: {e}")))?;
        let shown = path.display();
        let listing =
            fs::read_dir(&path).map_err(|e| err(format!("cannot read STORAGE {shown}: {e}")))?;
        for item in listing {
            let item = item.map_err(|e| err(format!("cannot read STORAGE {shown}: {e}")))?;
            let name = item.file_name();
            if !KNOWN_NAMES.iter().any(|k| OsStr::new(k) == name) {
                // Never "move them into STORAGE/gallery" once mounted: that
                // writes behind the mount's back.
                return Err(err(format!(
                    "STORAGE {shown} is not empty and is not a galleryfs store (it holds \
                     {name:?}); to adopt its files, mount an empty STORAGE on {mnt} and move \
                     them into {mnt}/gallery, or, before mounting, move them into {shown}/gallery",
                    mnt = mountpoint.display()
                )));
            }
        }
        let db = path.join(DATABASE);
        let files =
            [DATABASE, "galleryfs.db-wal", "galleryfs.db-shm", LOCK_FILE].map(|n| path.join(n));
        if let Some(why) = writable::why_unwritable(&path, &files) {
            return Err(err(why));
        }
        let lock = Self::lock(&path)?;
        for dir in [GALLERY_DIR, TRASH_DIR, PURGING_DIR, PENDING_DIR] {
            let sub = path.join(dir);
            if let Err(e) = fs::DirBuilder::new().mode(0o755).create(&sub)
                && e.kind() != std::io::ErrorKind::AlreadyExists
            {
                return Err(err(format!("cannot create {}: {e}", sub.display())));
            }
        }
        // Before reserve_db_space creates an empty database for a new store.
        refuse_lost_catalog(&path, &db)?;
        reserve_db_space(&db);
        let catalog = Catalog::open(&db).map_err(|e| match e {
            // Nothing is wrong with the file: moving it away would lose the catalog.
            CatalogError::Locked => err(format!(
                "the trash database {} {e}; close the program that has it open \
                 and mount again",
                db.display()
            )),
            CatalogError::TooNew(_) => err(format!(
                "the trash database {} {e}; mount it with that galleryfs",
                db.display()
            )),
            // SQLite needs room for its log and shared-memory files to open it.
            e if is_full(&path) => err(format!(
                "the trash database {} cannot be opened because STORAGE {} is full ({e}); \
                 free some space on its filesystem and mount again",
                db.display(),
                path.display()
            )),
            // The file itself is bad: only then is moving it away the way on.
            CatalogError::Corrupt(_) => err(format!(
                "the trash database {} {e}; galleryfs will not overwrite it (put back a \
                 good copy from a backup, or move it away: the next mount then says what \
                 to do with the entries in trash/)",
                db.display()
            )),
            e => err(format!(
                "the trash database {} {e}; check that STORAGE {} is writable by uid {} \
                 and its filesystem healthy",
                db.display(),
                path.display(),
                backing::geteuid()
            )),
        })?;
        reserve_log_space(&db);
        let open_dir = |p: &Path| -> Result<OwnedFd, StoreError> {
            let f = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
                .open(p)
                .map_err(|e| err(format!("cannot open {}: {e}", p.display())))?;
            Ok(OwnedFd::from(f))
        };
        let storage_fd = open_dir(&path)?;
        let gallery_fd = open_dir(&path.join(GALLERY_DIR))?;
        let trash_fd = open_dir(&path.join(TRASH_DIR))?;
        let purging_fd = open_dir(&path.join(PURGING_DIR))?;
        let pending_fd = open_dir(&path.join(PENDING_DIR))?;
        let st = backing::fstat(storage_fd.as_fd()).map_err(|e| err(format!("{shown}: {e}")))?;
        for (fd, name) in [(&gallery_fd, GALLERY_DIR), (&trash_fd, TRASH_DIR)] {
            let sub = backing::fstat(fd.as_fd()).map_err(|e| err(format!("{name}: {e}")))?;
            if sub.st_dev != st.st_dev {
                return Err(err(format!(
                    "STORAGE/{name} is on another filesystem than STORAGE {shown}; \
                     moving files to the trash needs them on one filesystem"
                )));
            }
        }
        Ok(Store {
            path,
            storage_fd,
            gallery_fd,
            trash_fd,
            purging_fd,
            pending_fd,
            catalog,
            _lock: lock,
        })
    }

    /// Takes the store's lock, naming the process that holds it if any.
    fn lock(path: &Path) -> Result<File, StoreError> {
        let lock_path = path.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_CLOEXEC)
            .open(&lock_path)
            .map_err(|e| err(format!("cannot write to STORAGE {}: {e}", path.display())))?;
        // std's lock is flock(2) on Linux: released when the daemon dies.
        let locked = match file.try_lock() {
            Ok(()) => true,
            Err(std::fs::TryLockError::WouldBlock) => false,
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(err(format!("cannot lock {}: {e}", lock_path.display())));
            }
        };
        if !locked {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let by = if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            };
            return Err(err(format!(
                "STORAGE {} is already mounted by another galleryfs{by}",
                path.display()
            )));
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "{}", std::process::id());
        Ok(file)
    }
}

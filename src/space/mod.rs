//! What the trash costs in storage: nothing, until the space is needed.
//!
//! The trash's bytes are counted (`Usage`, kept up to date by `trash` on every
//! move and purge) and reported as available by `statfs`. When the backing
//! filesystem fills, the oldest entries are purged to make room and the
//! operation is retried once (`Space::retry`). The `max_trash`,
//! `min_retention` and `quota` options are enforced here. Kernel passthrough
//! writes never reach galleryfs, so under space pressure new writers are served
//! without it and a watcher keeps room free for those already open
//! (`Space::may_pass_through`, `Watcher`). The policy reaches the filesystem
//! only through `Host`, so it is unit-tested with a fake one.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use crate::backing::{self, Stat};
use crate::clock::now_secs;
use crate::config::{Policy, TrashCap};
use crate::contract::{
    TRASH_DIR_XATTRS, XATTR_MAX_SIZE, XATTR_PURGING_FOR_SPACE, XATTR_TOTAL_SIZE, format_bytes,
    format_flag, human_size_pib as human,
};
use crate::error::{FsError, FsResult};
use crate::store::catalog::EntryRow;
use crate::store::usage::{Usage, sub};
use crate::sync::lock;

/// Room a purge for space leaves on top of what the failed operation needed,
/// so the retry does not fail again on the next block.
pub const MARGIN: u64 = 1 << 20;
/// What creating a directory or a symlink may allocate.
pub const BLOCK: u64 = 4096;
/// Under space pressure (backing free space below a tenth of the filesystem,
/// within these bounds, while the trash holds something) writers are served
/// without kernel passthrough, so that a full disk reaches galleryfs.
const PRESSURE_MIN: u64 = 1 << 30;
const PRESSURE_MAX: u64 = 16 << 30;
/// How often the watcher checks free space while passthrough writers are open.
const WATCH_EVERY: Duration = Duration::from_millis(100);
/// `purging_for_space` stays `yes` this long after the last purge for space.
const RECENT_PURGE_SECS: i64 = 600;
/// Candidates read per catalog query when purging for space.
const CANDIDATES: usize = 64;
/// Locks serialising quota measurements of concurrent writes to one file.
const STRIPES: usize = 16;
/// The cap warning fires when the trash passes this fraction of it, in percent.
const WARN_PERCENT: u64 = 90;

fn allocated(st: &Stat) -> u64 {
    st.st_blocks as u64 * 512
}

/// The policy resolved against the backing filesystem at mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Limits {
    cap: Option<u64>,
    min_retention: i64,
    quota: Option<u64>,
    /// Backing free space under which writers are kept off passthrough.
    pressure: u64,
    /// While passthrough writers are open, the watcher purges when backing
    /// free space falls under `low_water`, back up to `high_water`.
    low_water: u64,
    high_water: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            cap: None,
            min_retention: 0,
            quota: None,
            pressure: PRESSURE_MIN,
            low_water: PRESSURE_MIN / 2,
            high_water: PRESSURE_MIN,
        }
    }
}

impl Limits {
    fn resolve(policy: &Policy, backing: Figures) -> Limits {
        let total = backing.total();
        Limits {
            cap: policy.max_trash.map(|cap| match cap {
                TrashCap::Bytes(b) => b,
                TrashCap::Percent(p) => (total as u128 * p as u128 / 100) as u64,
            }),
            min_retention: policy.min_retention.as_secs().min(i64::MAX as u64 / 4) as i64,
            quota: policy.quota,
            pressure: (total / 10).clamp(PRESSURE_MIN, PRESSURE_MAX),
            // A small filesystem is always under pressure: keep a few percent.
            low_water: (total / 20).min(PRESSURE_MAX / 2),
            high_water: (total / 10).min(PRESSURE_MAX),
        }
    }
}

/// Block figures of a filesystem, as statvfs gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Figures {
    pub frsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
}

impl Figures {
    pub fn of(st: &libc::statvfs) -> Figures {
        let frsize = if st.f_frsize > 0 {
            st.f_frsize
        } else {
            st.f_bsize
        };
        Figures {
            frsize: frsize.max(1),
            blocks: st.f_blocks,
            bfree: st.f_bfree,
            bavail: st.f_bavail,
        }
    }

    pub fn total(&self) -> u64 {
        self.blocks.saturating_mul(self.frsize)
    }

    /// Bytes an unprivileged writer may still allocate.
    pub fn available(&self) -> u64 {
        self.bavail.saturating_mul(self.frsize)
    }
}

/// What `df` shows on the mount: the trash's bytes are available, not used;
/// with a quota, the quota is the total and the gallery's bytes the use.
fn report(backing: Figures, trash: u64, gallery: u64, quota: Option<u64>) -> Figures {
    let frsize = backing.frsize;
    let trash = trash / frsize;
    match quota {
        None => Figures {
            bfree: backing.bfree.saturating_add(trash).min(backing.blocks),
            bavail: backing.bavail.saturating_add(trash).min(backing.blocks),
            ..backing
        },
        Some(quota) => {
            let blocks = quota / frsize;
            let left = blocks.saturating_sub(gallery.div_ceil(frsize));
            // Never promise more than the disk could hold.
            Figures {
                frsize,
                blocks,
                bfree: left.min(backing.bfree.saturating_add(trash)),
                bavail: left.min(backing.bavail.saturating_add(trash)),
            }
        }
    }
}

/// What the space policy needs of the filesystem (`fs::GalleryFs` in the mount).
pub trait Host {
    fn space(&self) -> &Space;
    /// The backing filesystem's figures now.
    fn backing(&self) -> FsResult<Figures>;
    /// Up to `limit` settled entries deleted at or before `cutoff`, oldest first.
    fn oldest(&self, cutoff: i64, limit: usize) -> FsResult<Vec<EntryRow>>;
    /// The id of the most recently deleted entry.
    fn newest(&self) -> FsResult<Option<i64>>;
    /// Deletes an entry for good, telling the kernel.
    fn purge(&self, row: &EntryRow) -> FsResult<()>;
}

/// What a purge for space is after.
#[derive(Clone, Copy, Debug)]
enum Goal {
    /// The backing filesystem has this many bytes available (ENOSPC).
    Available(u64),
    /// This many bytes were purged (EDQUOT of the backing filesystem, whose
    /// quota statvfs does not show).
    Freed(u64),
    /// The trash holds no more than this many bytes (the cap).
    TrashAtMost(u64),
}

/// Why an entry was purged, for the log.
#[derive(Clone, Copy, Debug)]
enum Why {
    Full,
    Cap,
    Watch,
}

/// Quota held by an operation in flight, given back when dropped.
#[must_use]
pub struct Reservation<'a> {
    usage: &'a Usage,
    bytes: u64,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        sub(&self.usage.reserved, self.bytes);
    }
}

/// The space policy of one mount.
///
/// Lock order: `purge`, then the trash's own locks (taken by `Host::purge`);
/// a stripe lock, then `purge`. `writers` is taken alone.
pub struct Space {
    usage: Arc<Usage>,
    limits: OnceLock<Limits>,
    /// Serialises purging for space: a writer that waited re-checks before
    /// purging more, so concurrent writers never purge more than needed.
    purge: Mutex<()>,
    stripes: [Mutex<()>; STRIPES],
    warned: AtomicBool,
    /// When the last purge for space happened (seconds; 0: never).
    last_purge: AtomicI64,
    /// Open file handles writing through kernel passthrough.
    writers: Mutex<HashSet<u64>>,
    writers_changed: Condvar,
    stopping: AtomicBool,
}

impl Space {
    pub fn new(usage: Arc<Usage>) -> Space {
        Space {
            usage,
            limits: OnceLock::new(),
            purge: Mutex::new(()),
            stripes: std::array::from_fn(|_| Mutex::new(())),
            warned: AtomicBool::new(false),
            last_purge: AtomicI64::new(0),
            writers: Mutex::new(HashSet::new()),
            writers_changed: Condvar::new(),
            stopping: AtomicBool::new(false),
        }
    }

    fn limits(&self) -> Limits {
        self.limits.get().copied().unwrap_or_default()
    }

    pub fn quota(&self) -> Option<u64> {
        self.limits().quota
    }

    /// Applies `policy` against the backing filesystem's `backing` figures;
    /// with a quota, measures the gallery (`gallery` is STORAGE/gallery).
    pub fn configure(
        &self,
        policy: &Policy,
        backing: Figures,
        gallery: BorrowedFd<'_>,
    ) -> FsResult<()> {
        let limits = Limits::resolve(policy, backing);
        if let Some(quota) = limits.quota {
            let used = tree_bytes(gallery)?;
            self.usage.gallery.store(used, Ordering::SeqCst);
            log::info!(
                "quota {}: the gallery uses {}; kernel passthrough is off so that every write is counted",
                human(quota),
                human(used)
            );
        }
        if let Some(cap) = limits.cap {
            log::info!(
                "trash cap {}; the trash holds {}",
                human(cap),
                human(self.usage.trash_bytes())
            );
        }
        if self.limits.set(limits).is_err() {
            log::warn!("space policy set twice");
        }
        Ok(())
    }

    // ---- df ------------------------------------------------------------

    /// The mount's statvfs, from the backing filesystem's.
    pub fn statfs(&self, mut st: libc::statvfs) -> libc::statvfs {
        let shown = report(
            Figures::of(&st),
            self.usage.trash_bytes(),
            self.usage.gallery_bytes(),
            self.limits().quota,
        );
        st.f_blocks = shown.blocks as _;
        st.f_bfree = shown.bfree as _;
        st.f_bavail = shown.bavail as _;
        st
    }

    // ---- purging for space ---------------------------------------------

    /// Runs `op`, a backing operation that may allocate up to `need` bytes.
    /// If the backing filesystem is full (ENOSPC, or EDQUOT of its own quota),
    /// purges the oldest entries that may go until there is room, and runs
    /// `op` once more; only then does the error reach the caller.
    pub fn retry<T>(
        &self,
        host: &dyn Host,
        need: u64,
        mut op: impl FnMut() -> FsResult<T>,
    ) -> FsResult<T> {
        let err = match op() {
            Err(e) if e == FsError::ENOSPC || e == FsError::EDQUOT => e,
            done => return done,
        };
        if self.usage.trash_bytes() == 0 {
            return Err(err);
        }
        let want = need.saturating_add(MARGIN);
        let goal = if err == FsError::ENOSPC {
            Goal::Available(want)
        } else {
            Goal::Freed(want)
        };
        match self.free_up(host, goal, Why::Full) {
            Ok((met, freed)) if met || freed > 0 => op(),
            Ok(_) => Err(err),
            Err(e) => {
                log::warn!("could not purge the trash for space: {e}");
                Err(err)
            }
        }
    }

    /// Purges the oldest entries older than `min_retention`, one at a time,
    /// until `goal` is met; returns whether it is and how many bytes went.
    fn free_up(&self, host: &dyn Host, goal: Goal, why: Why) -> FsResult<(bool, u64)> {
        let _purging = lock(&self.purge);
        let min_retention = self.limits().min_retention;
        let mut freed = 0u64;
        let mut keep = None;
        if let Goal::TrashAtMost(_) = goal {
            // The entry that just arrived is never deleted on the spot.
            keep = host.newest()?;
        }
        let met = |freed: u64| -> FsResult<bool> {
            Ok(match goal {
                Goal::Available(n) => host.backing()?.available() >= n,
                Goal::Freed(n) => freed >= n,
                Goal::TrashAtMost(n) => self.usage.trash_bytes() <= n,
            })
        };
        loop {
            if met(freed)? {
                return Ok((true, freed));
            }
            let rows = host.oldest(now_secs() - min_retention, CANDIDATES)?;
            let mut progress = false;
            for row in rows.iter().filter(|r| Some(r.id) != keep) {
                if met(freed)? {
                    return Ok((true, freed));
                }
                match host.purge(row) {
                    Ok(()) => {
                        progress = true;
                        freed += row.size;
                        self.last_purge.store(now_secs().max(1), Ordering::SeqCst);
                        log::info!(
                            "{}: purged {:?} (from gallery/{}, {})",
                            match why {
                                Why::Full => "disk full",
                                Why::Cap => "trash over max_trash",
                                Why::Watch => "disk nearly full",
                            },
                            String::from_utf8_lossy(&row.name),
                            String::from_utf8_lossy(&row.original_path),
                            human(row.size)
                        );
                    }
                    // Restored or purged meanwhile.
                    Err(FsError::ENOENT) => {}
                    Err(e) => log::warn!(
                        "could not purge {:?} for space: {e}",
                        String::from_utf8_lossy(&row.name)
                    ),
                }
            }
            if !progress {
                return Ok((met(freed)?, freed));
            }
        }
    }

    /// Called whenever the trash changed: when an entry arrived, enforces
    /// `max_trash` (oldest entries first, never the newest) and warns once
    /// when the trash passes 90% of it.
    pub fn after_change(&self, host: &dyn Host) {
        if !self.usage.arrived.swap(false, Ordering::SeqCst) {
            return;
        }
        let Some(cap) = self.limits().cap else {
            return;
        };
        if self.usage.trash_bytes() > cap
            && let Err(e) = self.free_up(host, Goal::TrashAtMost(cap), Why::Cap)
        {
            log::warn!("could not purge the trash down to max_trash: {e}");
        }
        let held = self.usage.trash_bytes();
        if held as u128 * 100 > cap as u128 * WARN_PERCENT as u128
            && !self.warned.swap(true, Ordering::SeqCst)
        {
            log::warn!(
                "the trash holds {} of its {} max_trash (over {WARN_PERCENT}%): the oldest entries are purged as new ones arrive",
                human(held),
                human(cap)
            );
        }
    }

    /// Whether entries were purged for space or for the cap lately.
    pub fn purging(&self) -> bool {
        let last = self.last_purge.load(Ordering::SeqCst);
        last != 0 && now_secs() - last < RECENT_PURGE_SECS
    }

    // ---- kernel passthrough --------------------------------------------

    /// Whether file handle `fh`, opened with `flags`, may be served by kernel
    /// passthrough. Writers may not while the disk is under pressure (or with
    /// a quota): their writes must reach galleryfs to purge-and-retry (or be
    /// counted). Passthrough writers are watched until `released`.
    pub fn may_pass_through(&self, host: &dyn Host, fh: u64, flags: i32) -> bool {
        if flags & libc::O_ACCMODE == libc::O_RDONLY {
            return true;
        }
        let limits = self.limits();
        if limits.quota.is_some() {
            return false;
        }
        if self.usage.trash_bytes() > 0 {
            match host.backing() {
                Ok(figures) if figures.available() >= limits.pressure => {}
                _ => return false,
            }
        }
        lock(&self.writers).insert(fh);
        self.writers_changed.notify_all();
        true
    }

    /// File handle `fh` was closed.
    pub fn released(&self, fh: u64) {
        lock(&self.writers).remove(&fh);
    }

    /// Blocks until passthrough writers are open, then for one watch interval;
    /// false once the watcher is to stop.
    fn wait_for_writers(&self) -> bool {
        let mut writers = lock(&self.writers);
        while writers.is_empty() && !self.stopping.load(Ordering::SeqCst) {
            writers = self
                .writers_changed
                .wait(writers)
                .unwrap_or_else(|e| e.into_inner());
        }
        if self.stopping.load(Ordering::SeqCst) {
            return false;
        }
        let (_writers, _) = self
            .writers_changed
            .wait_timeout(writers, WATCH_EVERY)
            .unwrap_or_else(|e| e.into_inner());
        !self.stopping.load(Ordering::SeqCst)
    }

    /// One look by the watcher: below the low-water mark, purge back up to
    /// the high-water mark.
    fn watch(&self, host: &dyn Host) {
        if self.usage.trash_bytes() == 0 || lock(&self.writers).is_empty() {
            return;
        }
        let limits = self.limits();
        let Ok(figures) = host.backing() else {
            return;
        };
        if figures.available() < limits.low_water
            && let Err(e) = self.free_up(host, Goal::Available(limits.high_water), Why::Watch)
        {
            log::warn!("could not purge the trash for space: {e}");
        }
    }

    // ---- quota ---------------------------------------------------------

    /// Holds `bytes` of the quota for an operation about to add them to the
    /// gallery; EDQUOT if they do not fit.
    pub fn reserve(&self, bytes: u64) -> FsResult<Reservation<'_>> {
        let Some(quota) = self.quota() else {
            return Ok(Reservation {
                usage: &self.usage,
                bytes: 0,
            });
        };
        let gallery = self.usage.gallery_bytes();
        self.usage
            .reserved
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| {
                let total = gallery.checked_add(held)?.checked_add(bytes)?;
                (total <= quota).then_some(held + bytes)
            })
            .map_err(|_| FsError::EDQUOT)?;
        Ok(Reservation {
            usage: &self.usage,
            bytes,
        })
    }

    /// Quota for a new node of `mode` (directories and symlinks take a block).
    pub fn reserve_for_node(&self, mode: u32) -> FsResult<Reservation<'_>> {
        let kind = mode & libc::S_IFMT;
        self.reserve(if kind == libc::S_IFDIR || kind == libc::S_IFLNK {
            BLOCK
        } else {
            0
        })
    }

    /// Runs `op`, a write-like operation on the gallery file `fd` covering
    /// `len` bytes at `offset` (`allocates`: it may need new blocks), with
    /// purge-and-retry on a full disk and, with a quota, charging the blocks
    /// it allocates (EDQUOT before it runs if they would not fit).
    pub fn write_op<T>(
        &self,
        host: &dyn Host,
        fd: BorrowedFd<'_>,
        offset: u64,
        len: u64,
        allocates: bool,
        op: impl FnMut() -> FsResult<T>,
    ) -> FsResult<T> {
        if self.quota().is_none() {
            return self.retry(host, len, op);
        }
        let ino = backing::fstat(fd)?.st_ino;
        // Before/after measurements of one file must not interleave.
        let _file = lock(&self.stripes[(ino % STRIPES as u64) as usize]);
        let before = backing::fstat(fd)?;
        let growth = if allocates {
            growth(&before, offset, len)
        } else {
            0
        };
        let _held = self.reserve(growth)?;
        let result = self.retry(host, len, op);
        if let Ok(after) = backing::fstat(fd) {
            self.usage
                .gallery_changed(allocated(&after) as i64 - allocated(&before) as i64);
        }
        result
    }

    /// A name was created in the gallery, allocating `bytes`.
    pub fn added(&self, bytes: u64) {
        if self.quota().is_some() {
            self.usage.gallery_changed(bytes as i64);
        }
    }

    /// A name was removed from the gallery for good, freeing `bytes`.
    pub fn removed(&self, bytes: u64) {
        if self.quota().is_some() {
            self.usage.gallery_changed(-(bytes as i64));
        }
    }

    // ---- reporting -----------------------------------------------------

    /// The value of one of `.trash`'s own attributes; None if `name` is not one.
    pub fn xattr(&self, name: &OsStr) -> Option<FsResult<Vec<u8>>> {
        let value = match name.to_str()? {
            XATTR_TOTAL_SIZE => Ok(format_bytes(self.usage.trash_bytes())),
            XATTR_MAX_SIZE => self.limits().cap.map(format_bytes).ok_or(FsError::ENODATA),
            XATTR_PURGING_FOR_SPACE => Ok(format_flag(self.purging()).to_string()),
            _ => return None,
        };
        Some(value.map(String::into_bytes))
    }

    /// Appends the names of `.trash`'s own attributes, as listxattr lists them.
    pub fn list_xattrs(&self, names: &mut Vec<u8>) {
        let has_cap = self.limits().cap.is_some();
        for name in TRASH_DIR_XATTRS {
            if name != XATTR_MAX_SIZE || has_cap {
                names.extend_from_slice(name.as_bytes());
                names.push(0);
            }
        }
    }
}

/// Bytes a write of `len` at `offset` may allocate in a file whose stat is
/// `st`: none to overwrite a fully allocated range, else at most `len`.
fn growth(st: &Stat, offset: u64, len: u64) -> u64 {
    let size = st.st_size.max(0) as u64;
    let dense = allocated(st) >= size;
    let bytes = if dense {
        len.min(offset.saturating_add(len).saturating_sub(size))
    } else {
        len
    };
    bytes.next_multiple_of(BLOCK)
}

/// Bytes allocated to the tree under directory `dir`, the directory included,
/// each file with several links counted once.
pub fn tree_bytes(dir: BorrowedFd<'_>) -> FsResult<u64> {
    fn walk(dir: BorrowedFd<'_>, seen: &mut HashSet<(u64, u64)>) -> FsResult<u64> {
        let mut total = 0;
        for entry in backing::read_dir(dir)? {
            let st = match backing::fstatat(dir, &entry.name) {
                Ok(st) => st,
                // Removed while we looked.
                Err(FsError::ENOENT) => continue,
                Err(e) => return Err(e),
            };
            if backing::is_dir(&st) {
                total += allocated(&st);
                let sub = backing::open_dir_path(dir, &entry.name)?;
                total += walk(sub.as_fd(), seen)?;
            } else if st.st_nlink <= 1 || seen.insert((st.st_dev, st.st_ino)) {
                total += allocated(&st);
            }
        }
        Ok(total)
    }
    let own = allocated(&backing::fstat(dir)?);
    Ok(own + walk(dir, &mut HashSet::new())?)
}

mod watcher;
pub use watcher::Watcher;

#[cfg(test)]
mod tests;

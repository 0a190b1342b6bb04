//! Who deletes: the thread a request came from (the pid FUSE reports),
//! told apart from a later one that reuses its number by its start time;
//! and the times of the folders each one removed from. One removal of a
//! folder folds into one entry by these (see `fold`).

use std::collections::HashMap;

use crate::backing::Stat;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::catalog::DeletedBy;
use crate::sync::lock;

/// How long a thread's process is trusted without reading /proc again: a
/// pid is not reused within it in practice, and `rm -rf` asks thousands of
/// times a second.
const FRESH: Duration = Duration::from_secs(1);

/// Threads seen at most, before the stale ones are dropped.
const CACHED: usize = 4096;

#[derive(Default)]
pub(super) struct Deleters {
    cache: Mutex<HashMap<u32, (Option<DeletedBy>, Instant)>>,
}

impl Deleters {
    /// The process of thread `tid` (0: a request of the kernel itself).
    pub(super) fn of(&self, tid: u32) -> Option<DeletedBy> {
        if tid == 0 {
            return None;
        }
        let mut cache = lock(&self.cache);
        if let Some(&(by, at)) = cache.get(&tid)
            && at.elapsed() < FRESH
        {
            return by;
        }
        let by = read(tid);
        if cache.len() >= CACHED {
            cache.retain(|_, (_, at)| at.elapsed() < FRESH);
        }
        cache.insert(tid, (by, Instant::now()));
        by
    }
}

/// Reads thread `tid`'s start time from /proc; None if it has exited. The
/// thread, not its process: FUSE reports the thread, and a removal of a
/// folder is one thread's work (`rm -r`, `find -delete`, `shutil.rmtree`).
fn read(tid: u32) -> Option<DeletedBy> {
    let stat = std::fs::read_to_string(format!("/proc/{tid}/stat")).ok()?;
    // Field 22, starttime; fields are counted after the command name, which
    // may itself hold spaces and parentheses.
    let after = stat.get(stat.rfind(')')? + 2..)?;
    let start = after.split(' ').nth(19)?.parse().ok()?;
    Some(DeletedBy { pid: tid, start })
}

/// Folders whose times are remembered at most; past that the oldest
/// removals lose theirs (only times: the folders themselves are kept).
pub(super) const REMEMBERED: usize = 65_536;

/// A folder's atime and mtime, as futimens takes them.
pub(super) type Times = [libc::timespec; 2];

/// The times (atime, mtime) of gallery folders as they were when a process
/// first removed something from them, by process and gallery path.
#[derive(Default)]
pub(super) struct FolderTimes {
    pub(super) times: Mutex<HashMap<(DeletedBy, Vec<u8>), Times>>,
}

pub(super) fn times_of(st: &Stat) -> Times {
    [
        libc::timespec {
            tv_sec: st.st_atime,
            tv_nsec: st.st_atime_nsec,
        },
        libc::timespec {
            tv_sec: st.st_mtime,
            tv_nsec: st.st_mtime_nsec,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_is_found_with_a_start_time_and_stays_the_same() {
        let d = Deleters::default();
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() } as u32;
        let me = d.of(tid).unwrap();
        assert_eq!(me.pid, tid);
        assert!(me.start > 0);
        assert_eq!(d.of(tid), Some(me));
        assert_eq!(d.of(0), None);
        assert_eq!(d.of(u32::MAX - 1), None, "no such thread");
    }
}

//! Suite 1: crash consistency.
//!
//! Three worker threads, each owning its own files (ids ≡ worker mod 3), its
//! own directories (`gallery/wN/…`) and its own trash entries (names starting
//! `wN`), run a seeded mix of create+write, rm, rm -r, rename, rename over an
//! existing file, mv into `.trash/NAME`, restore, partial restore, entry
//! rename and purge through the mount, while the main thread `kill -9`s the
//! daemon at a random instant. After a remount every worker's model of what
//! was acknowledged (a syscall that returned success) is compared with what
//! the mount and STORAGE hold:
//! - every file whose creation was acknowledged and that was not purged is
//!   found exactly once, with its content (each file's content is unique and
//!   derived from its id, so it is recognised wherever it is), at the place
//!   the model says; trash entries carry the expected `original_path`;
//! - the one step in flight at the crash is found entirely before or entirely
//!   after (never half of a rename-over, never a lost or duplicated file);
//! - STORAGE/gallery and STORAGE/trash hold exactly what the mount shows, the
//!   catalog has one settled row per trash entry, `purging/` is empty, and
//!   `PRAGMA integrity_check` is `ok` after the crash and after unmount.
//!
//! A kill can also leave the daemon unable to die: a thread blocked in the
//! kernel on an entry invalidation that waits for a directory lock held by
//! a request the dead daemon will never answer keeps /dev/fuse open, so the
//! mount hangs until its connection is aborted (`umount -f`, which
//! `Mount::kill9` does after 2 s). The summary counts those kills.
//!
//! Then each `fault::point` of the trash code: mount with
//! `GALLERYFS_CRASH_AT=POINT`, run the operation that reaches it, remount
//! without, and assert the outcome the ordering promises (see `src/trash.rs`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use galleryfs_testkit::Mount;
use galleryfs_testkit::consistency::{
    EntryMeta, Loc, Scan, candidate, content, header_id, identify, integrity_problem, is_partial,
    save_log, scan, storage_problems, walk,
};
use galleryfs_testkit::errno::{errno, errno_name};
use galleryfs_testkit::harness::{self, Rng};
use galleryfs_testkit::xattr;

mod bulk;
mod check;
mod faults;
mod fold;
mod model;
mod worker;

use check::*;
use faults::fault_points;
use worker::*;

// ---- the model -------------------------------------------------------------

const WORKERS: usize = 3;
/// Steps of each worker's history printed on failure.
const HISTORY: usize = 40;
/// Files a worker keeps in the gallery before it stops creating.
const MAX_GALLERY_FILES: usize = 24;

#[test]
fn crash_consistency() {
    let seed = harness::seed("crash");
    let crashes = harness::size(5, 200);
    let (points, scenarios) = fault_points();
    let mut rng = Rng::new(seed);
    let mut m = Mount::new();
    let mnt = m.mountpoint.clone();
    for w in 0..WORKERS {
        fs::create_dir(m.gallery().join(format!("w{w}"))).unwrap();
    }
    let mut workers: Vec<Worker> = (0..WORKERS).map(|w| Worker::new(w, seed)).collect();
    let mut files_checked = 0;
    // Kills after which the daemon could not die until `umount -f` aborted
    // its connection (see `Mount::kill9`): reported, not a data failure.
    let mut wedged = 0;
    let started = Instant::now();
    for crash in 1..=crashes {
        let killed = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = workers
            .drain(..)
            .map(|mut w| {
                let (mnt, killed) = (mnt.clone(), killed.clone());
                thread::spawn(move || {
                    let r = w.run(&mnt, &killed);
                    (w, r)
                })
            })
            .collect();
        let delay = if rng.chance(20) {
            rng.below(30)
        } else {
            30 + rng.below(400)
        };
        thread::sleep(Duration::from_millis(delay));
        killed.store(true, Ordering::SeqCst);
        if m.kill9() {
            wedged += 1;
        }
        let mut problems = Vec::new();
        for h in handles {
            let (w, r) = h.join().expect("worker thread panicked");
            if let Err(e) = r {
                problems.push(format!("worker {} while the daemon was alive: {e}", w.w));
            }
            workers.push(w);
        }
        let when = format!("at crash {crash} of {crashes} (after {delay} ms)");
        if !problems.is_empty() {
            fail(seed, &when, &problems, &workers, &m);
        }
        if let Some(p) = integrity_problem(&m) {
            fail(seed, &format!("{when}, before remount"), &[p], &workers, &m);
        }
        m.mount();
        let s = match scan(&m) {
            Ok(s) => s,
            Err(e) => fail(seed, &when, &[e], &workers, &m),
        };
        let observed = split_scan(seed, &s, &workers, &mut problems);
        for (w, o) in workers.iter().zip(&observed) {
            files_checked += check_worker(w, o, &mut problems);
        }
        problems.extend(storage_problems(&m, &s));
        if !problems.is_empty() {
            fail(seed, &when, &problems, &workers, &m);
        }
        if crash % 25 == 0 {
            eprintln!("crash: {crash}/{crashes} crashes survived");
        }
        for (w, o) in workers.iter_mut().zip(observed) {
            if let Err(e) = adopt(w, o, &mnt) {
                fail(seed, &when, &[e], std::slice::from_ref(&*w), &m);
            }
        }
    }
    m.unmount();
    if let Some(p) = integrity_problem(&m) {
        fail(seed, "after the final unmount", &[p], &workers, &m);
    }
    let secs = started.elapsed().as_secs_f64();
    let operations: u64 = workers.iter().map(|w| w.acked).sum();
    harness::summary(
        "crash",
        seed,
        &format!(
            "{crashes} crashes survived, {points} fault points ({scenarios} scenarios), {operations} operations, {files_checked} files checked, 0 failures; {wedged} kills left the mount hung until umount -f ({secs:.1} s)"
        ),
    );
}

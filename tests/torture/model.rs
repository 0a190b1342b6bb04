//! Suite 2, model-based random operations: random sequences of operations
//! run on a real mount and on a reference model (`model/spec.rs`) of the
//! semantics table of issue 2, comparing the result of every operation and
//! then the whole observable state (names, types, sizes, contents, modes,
//! nlink, user xattrs, inode identity, the `user.trash.*` attributes of every
//! entry, the entry names, and STORAGE/trash) after every step. A mismatch is
//! shrunk (delta debugging, each attempt on a fresh mount) and printed with
//! the seed.
//!
//! Overwrites: the mounts keep them (`overwrite=keep`, see `fs::keep`): an
//! `O_TRUNC` open, a truncation or a punched hole that destroys data first
//! makes an `overwritten` entry of the whole content. Most sequences mount
//! with `overwrite_interval=0`, so every such overwrite is kept; one in
//! `BURST_EVERY` keeps the default interval (5 minutes, longer than a
//! sequence), so only a path's first while its entry is in the trash.
//! Whether a change destroys data depends on which blocks hold data and
//! which are holes: the model follows each file's blocks (see
//! `model/spec/keep.rs`). Which name of a hard-linked file galleryfs records
//! as the original path is up to it: the model takes the one the mount
//! shows (counted as "followed").
//!
//! Leniency, where galleryfs does more than `fs::keep` describes and it
//! looks like a bug: the suite accepts it and counts it in its summary;
//! `GALLERYFS_MODEL_STRICT=ino`, `=keep` or `=all` makes it a mismatch.
//! - `ino`: inode numbers after an overwrite kept by inode change in more
//!   cases than "the entry's number is synthetic until the next remount"
//!   (see `check::InoMap`), e.g. the gallery file's when it is unlinked.
//! - `keep`: an overwrite through the gallery name of a file that also has
//!   a trash name (a hard link moved into the trash) may keep nothing.
//!
//! Time: most sequences keep the default 30-day retention, so nothing expires
//! and the model needs no clock. One sequence in `EXPIRY_EVERY` mounts with
//! `retention=3s,sweep=1s` and contains one "time passes" step, the only place
//! that sleeps: it waits until every entry has expired (checking that expired
//! entries are no longer listed, even before the sweep), then for the sweep,
//! and the model empties its trash. An entry is visible for at least two
//! seconds after its deletion (deleted_at is whole seconds), so the steps
//! around it are deterministic as long as no entry is older than that when
//! the state is compared; a guard checks this and counts a sequence that runs
//! too slowly as inconclusive instead of guessing.
//!
//! Speed: sequences are independent; a few run at once (mounts per worker
//! thread, `GALLERYFS_MODEL_JOBS`), and a worker reuses its mount of a family
//! for the family's next sequence after emptying it through the mount and
//! checking that it looks fresh (`GALLERYFS_MODEL_FRESH=1` mounts afresh each
//! time). Shrinking always replays on fresh mounts.
//!
//! Replay: `GALLERYFS_SEED=S` replays a run; `GALLERYFS_MODEL_SEQUENCE=N`
//! runs only its sequence N; `GALLERYFS_MODEL_SEQUENCES=N` sets how many.

mod check;
mod ops;
mod real;
mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use check::InoMap;
use galleryfs_testkit::Mount;
use galleryfs_testkit::errno::errno_name;
use galleryfs_testkit::harness::{self, Rng};
use ops::{Gen, Op};
use spec::{Clock, Fail, Model, Policy};

/// Operations per sequence.
const OPS: usize = 30;
/// One sequence in this many is an expiry sequence.
const EXPIRY_EVERY: usize = 200;
/// One sequence in this many keeps the default `overwrite_interval`.
const BURST_EVERY: usize = 4;
/// Expiry sequences: retention and sweep, and the guard on entry age.
const SHORT_RETENTION: i64 = 3;
const MAX_ENTRY_AGE: Duration = Duration::from_millis(1800);
const DEFAULT_RETENTION: i64 = 30 * 86_400;
/// Shrinking stops after this long (it keeps the shortest sequence so far).
const SHRINK_BUDGET: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    /// Every overwrite is kept.
    Normal,
    /// The default `overwrite_interval`: a path's first overwrite is kept.
    Burst,
    Expiry,
}

impl Family {
    fn of(sequence: usize) -> Family {
        if sequence % EXPIRY_EVERY == 7 {
            Family::Expiry
        } else if sequence % BURST_EVERY == 3 {
            Family::Burst
        } else {
            Family::Normal
        }
    }

    fn options(self) -> &'static [&'static str] {
        match self {
            Family::Normal => &["overwrite=keep", "overwrite_interval=0"],
            Family::Burst => &["overwrite=keep"],
            Family::Expiry => &[
                "retention=3s",
                "sweep=1s",
                "overwrite=keep",
                "overwrite_interval=0",
            ],
        }
    }

    fn policy(self) -> Policy {
        match self {
            Family::Burst => Policy::FirstPerPath,
            Family::Normal | Family::Expiry => Policy::Every,
        }
    }

    fn retention(self) -> i64 {
        match self {
            Family::Normal | Family::Burst => DEFAULT_RETENTION,
            Family::Expiry => SHORT_RETENTION,
        }
    }
}

#[derive(Debug)]
enum Failure {
    /// The mount and the model disagree at `step`.
    Mismatch { step: usize, msg: String },
    /// Too slow to tell (an entry aged past the guard): not a verdict.
    Inconclusive(String),
}

#[derive(Default)]
struct Counts {
    ops: usize,
    /// Operations through a trash name of an inode with a gallery name that
    /// succeeded (either outcome is right; see `Model::touches_shared`).
    lenient: usize,
    skipped: usize,
    remounts: usize,
    /// Overwrites kept as entries, and those that destroyed holes only.
    kept: usize,
    holes_only: usize,
    /// Inode numbers that changed after an overwrite kept by inode, before
    /// a remount (see `check::InoMap`).
    renumbered: usize,
    /// Overwrites of a hard-linked file whose outcome the model took from
    /// the mount (see `spec::keep`), and of those, how many kept nothing.
    followed: usize,
    unkept: usize,
}

impl Counts {
    fn add(&mut self, c: &Counts) {
        self.ops += c.ops;
        self.lenient += c.lenient;
        self.skipped += c.skipped;
        self.remounts += c.remounts;
        self.kept += c.kept;
        self.holes_only += c.holes_only;
        self.renumbered += c.renumbered;
        self.followed += c.followed;
        self.unkept += c.unkept;
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        .expect("Umask in /proc/self/status")
}

/// `GALLERYFS_MODEL_STRICT`: no leniency for what galleryfs does after an
/// overwrite beyond what `fs::keep` describes (see the module doc): `ino`
/// for inode numbers, `keep` for overwrites that keep nothing, `1` or `all`
/// for both.
fn strict(what: &str) -> bool {
    std::env::var("GALLERYFS_MODEL_STRICT")
        .is_ok_and(|v| v.split(',').any(|w| w == what || w == "1" || w == "all"))
}

/// The block size of the filesystem holding `dir`.
fn block_size(dir: &std::path::Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(dir.as_os_str().as_bytes()).expect("no NUL");
    // SAFETY: statvfs is plain data; all zeroes is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid path and an out-parameter of the right type.
    let r = unsafe { libc::statvfs(p.as_ptr(), &mut st) };
    assert_eq!(r, 0, "statvfs {dir:?}");
    st.f_bsize as u64
}

fn errno_of(r: Result<(), Fail>) -> Result<(), i32> {
    r.map_err(|e| match e {
        Fail::Errno(e) => e,
        Fail::Skip => unreachable!("checked by skips()"),
    })
}

fn show(r: Result<(), i32>) -> String {
    match r {
        Ok(()) => "Ok".into(),
        Err(e) => errno_name(e),
    }
}

/// Results by operation, printed with `GALLERYFS_MODEL_STATS=1`.
static STATS: OnceLock<Mutex<BTreeMap<(&'static str, String), usize>>> = OnceLock::new();

/// A mount and its model, stepped together.
struct Runner {
    mount: Mount,
    model: Model,
    inos: InoMap,
    family: Family,
    counts: Counts,
    /// Every entry name the sequence has seen: each is looked up by path
    /// after every step, so a stale name (one the kernel still caches after
    /// galleryfs removed it) shows even though listings are right.
    seen_entries: BTreeSet<String>,
    /// The paths of the step's operation, looked up the same way.
    probe: Vec<String>,
}

impl Runner {
    fn new(family: Family) -> Runner {
        Runner::on(Mount::with_options(family.options()), family)
    }

    /// A runner on `mount`, which must show an empty gallery and trash.
    fn on(mount: Mount, family: Family) -> Runner {
        let block = block_size(&mount.storage);
        Runner {
            mount,
            model: Model::new(umask(), block, family.policy()),
            inos: InoMap::default(),
            family,
            counts: Counts::default(),
            seen_entries: BTreeSet::new(),
            probe: Vec::new(),
        }
    }

    /// Empties a mount a sequence used, through the mount itself (`rm -r`
    /// of everything in the gallery, then of every entry), so the next
    /// sequence can reuse it; checks that it then looks like a fresh one.
    fn reuse(mount: Mount, family: Family) -> Result<Runner, Failure> {
        let mnt = mount.mountpoint.clone();
        let fail = |msg: String| Failure::Mismatch { step: 0, msg };
        let names = |dir: &str| -> Result<Vec<String>, Failure> {
            let mut v: Vec<String> = std::fs::read_dir(mnt.join(dir))
                .map_err(|e| fail(format!("  cleaning the reused mount: readdir {dir}: {e}")))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            Ok(v)
        };
        for dir in ["gallery", ".trash"] {
            for name in names(dir)? {
                let path = format!("{dir}/{name}");
                real::apply(&mnt, &Op::RemoveTree { path: path.clone() }).map_err(|e| {
                    fail(format!(
                        "  cleaning the reused mount: rm -r {path}: {}",
                        errno_name(e)
                    ))
                })?;
            }
        }
        let gallery = Op::Chmod {
            path: "gallery".into(),
            mode: 0o755,
        };
        real::apply(&mnt, &gallery)
            .map_err(|e| fail(format!("  cleaning the reused mount: chmod gallery: {e}")))?;
        for name in ["user.a", "user.b"] {
            let _ = real::apply(
                &mnt,
                &Op::RemoveXattr {
                    path: "gallery".into(),
                    name: name.into(),
                },
            );
        }
        let mut runner = Runner::on(mount, family);
        runner.compare(0).map_err(|f| match f {
            Failure::Mismatch { msg, .. } => fail(format!(
                "  the reused mount does not look fresh after cleaning:\n{msg}"
            )),
            other => other,
        })?;
        Ok(runner)
    }

    fn mismatch(step: usize, msg: String) -> Failure {
        Failure::Mismatch { step, msg }
    }

    /// Runs one operation on both sides and compares result and state.
    fn step(&mut self, step: usize, op: &Op) -> Result<(), Failure> {
        if self.model.skips(op) {
            self.counts.skipped += 1;
            return Ok(());
        }
        self.probe = op.paths().iter().map(|p| p.to_string()).collect();
        self.counts.ops += 1;
        match op {
            Op::Remount => {
                self.mount.remount();
                self.counts.remounts += 1;
                // Overwrites kept by inode: their numbers change now.
                for ino in std::mem::take(&mut self.model.renumbered).into_keys() {
                    self.inos.forget(ino as u64);
                }
                self.inos.remounted();
            }
            Op::TimePasses => self.time_passes(step)?,
            _ => {
                let lo = now_secs();
                let got = real::apply(&self.mount.mountpoint, op);
                let clock = Clock {
                    lo,
                    hi: now_secs(),
                    born: Instant::now(),
                };
                let base = self.model.clone();
                let mut shared_writable = false;
                let mut want = errno_of(self.model.apply(op, clock));
                if want != got
                    && matches!(want, Err(libc::EROFS | libc::EPERM))
                    && self.model.touches_shared(op)
                {
                    // Either answer is right (see `Model::touches_shared`):
                    // follow the mount if it treated the name as a gallery name.
                    self.model.shared_writable = true;
                    let shared = errno_of(self.model.apply(op, clock));
                    self.model.shared_writable = false;
                    if shared == got {
                        want = shared;
                        shared_writable = true;
                        self.counts.lenient += 1;
                    }
                }
                if self.model.outcomes.len() > 1 {
                    self.follow(&base, op, clock, shared_writable, step)?;
                }
                if STATS.get().is_some() {
                    let mut stats = STATS
                        .get()
                        .expect("set")
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    *stats.entry((op.kind(), show(got))).or_insert(0) += 1;
                }
                if got != want {
                    return Err(Self::mismatch(
                        step,
                        format!(
                            "  the mount returned {}, the model expects {}",
                            show(got),
                            show(want)
                        ),
                    ));
                }
            }
        }
        for dead in self.model.collect_garbage() {
            self.inos.forget(dead as u64);
        }
        if self.family == Family::Expiry
            && let Some((name, e)) = self
                .model
                .trash
                .iter()
                .find(|(_, e)| e.born.elapsed() > MAX_ENTRY_AGE)
        {
            return Err(Failure::Inconclusive(format!(
                "step {step}: entry {name:?} is {:?} old, it may have expired",
                e.born.elapsed()
            )));
        }
        self.compare(step)
    }

    /// The overwrite `op` made had several right outcomes (a hard-linked
    /// file: which name galleryfs records, or none; see `spec::keep`): takes
    /// the first the mount shows, applied to `base`, the model before `op`.
    /// If none matches, the model keeps the first and `compare` says why.
    fn follow(
        &mut self,
        base: &Model,
        op: &Op,
        clock: Clock,
        shared_writable: bool,
        step: usize,
    ) -> Result<(), Failure> {
        let snap = real::observe(&self.mount.mountpoint, &self.mount.storage)
            .map_err(|e| Self::mismatch(step, format!("  observing the mount failed: {e}")))?;
        for choice in 0..self.model.outcomes.len() {
            let mut m = base.clone();
            m.shared_writable = shared_writable;
            m.keep_choice = Some(choice);
            let _ = m.apply(op, clock);
            m.shared_writable = false;
            m.keep_choice = None;
            let mut inos = self.inos.clone();
            if check::compare(&m, &snap, self.family.retention(), &mut inos).is_ok() {
                self.counts.followed += 1;
                if m.outcomes[choice].is_none() {
                    self.counts.unkept += 1;
                }
                self.model = m;
                return Ok(());
            }
        }
        Ok(())
    }

    fn compare(&mut self, step: usize) -> Result<(), Failure> {
        let snap = real::observe(&self.mount.mountpoint, &self.mount.storage)
            .map_err(|e| Self::mismatch(step, format!("  observing the mount failed: {e}")))?;
        check::compare(&self.model, &snap, self.family.retention(), &mut self.inos)
            .map_err(|msg| Self::mismatch(step, msg))?;
        self.seen_entries.extend(self.model.trash.keys().cloned());
        let mut paths: BTreeSet<String> = self
            .seen_entries
            .iter()
            .map(|n| format!(".trash/{n}"))
            .collect();
        paths.extend(self.probe.drain(..));
        self.lookups(step, &paths)
    }

    /// Looks each path up (lstat) and checks it exists exactly when the
    /// model says so, with the model's type.
    fn lookups(&self, step: usize, paths: &BTreeSet<String>) -> Result<(), Failure> {
        let mut out = String::new();
        for path in paths {
            let want = match self.model.resolve(path) {
                Err(Fail::Skip) => continue,
                Err(Fail::Errno(e)) => Err(e),
                Ok(r) => match r.child {
                    None => Err(libc::ENOENT),
                    Some(obj) => Ok(self.model.is_dir(obj)),
                },
            };
            let got = std::fs::symlink_metadata(self.mount.mountpoint.join(path))
                .map(|m| m.is_dir())
                .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO));
            if got != want {
                let show = |r: Result<bool, i32>| match r {
                    Ok(true) => "a directory".to_string(),
                    Ok(false) => "a non-directory".to_string(),
                    Err(e) => errno_name(e),
                };
                let _ = writeln!(
                    out,
                    "  lstat {path:?}: the mount says {}, the model {}",
                    show(got),
                    show(want)
                );
            }
        }
        if out.is_empty() {
            Ok(())
        } else {
            Err(Self::mismatch(step, out))
        }
    }

    /// Waits until every entry has expired (they must vanish from the
    /// listing at once), then for the sweep to delete them.
    fn time_passes(&mut self, step: usize) -> Result<(), Failure> {
        assert_eq!(
            self.family,
            Family::Expiry,
            "time passes only with a short retention"
        );
        let Some(last) = self.model.trash.values().map(|e| e.deleted_hi).max() else {
            return Ok(());
        };
        // Expired once now_secs() >= deleted_at + retention.
        galleryfs_testkit::wait::until_clock_passes(
            UNIX_EPOCH + Duration::from_secs((last + SHORT_RETENTION) as u64),
        );
        std::thread::sleep(Duration::from_millis(50));
        // Expired entries can no longer be looked up, even before the sweep.
        let expired: BTreeSet<String> = self
            .model
            .trash
            .keys()
            .map(|n| format!(".trash/{n}"))
            .collect();
        let mut gone = self.model.clone();
        gone.trash.clear();
        let before = std::mem::replace(&mut self.model, gone);
        let looked_up = self.lookups(step, &expired);
        self.model = before;
        looked_up?;
        let trash = self.mount.trash();
        let listed: Vec<_> = std::fs::read_dir(&trash)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        if !listed.is_empty() {
            return Err(Self::mismatch(
                step,
                format!("  expired entries are still listed in .trash: {listed:?}"),
            ));
        }
        // The sweep runs every second; give it one full interval and some.
        std::thread::sleep(Duration::from_millis(1600));
        self.model
            .apply(
                &Op::TimePasses,
                Clock {
                    lo: 0,
                    hi: 0,
                    born: Instant::now(),
                },
            )
            .expect("time passes");
        Ok(())
    }
}

/// Runs `body`, turning a panic (a fixture assertion, say) into a mismatch at `step`.
fn guarded<T>(
    step: &mut usize,
    body: impl FnOnce(&mut usize) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let mut at = *step;
    let r = catch_unwind(AssertUnwindSafe(|| body(&mut at)));
    *step = at;
    match r {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Err(Failure::Mismatch {
                step: at,
                msg: format!("  panicked: {msg}"),
            })
        }
    }
}

/// Runs a fixed sequence on a fresh mount.
fn run_ops(ops: &[Op], family: Family) -> Result<Counts, Failure> {
    let mut step = 0;
    guarded(&mut step, |step| {
        let mut runner = Runner::new(family);
        for (i, op) in ops.iter().enumerate() {
            *step = i;
            runner.step(i, op)?;
        }
        runner.counts.kept = runner.model.kept;
        runner.counts.holes_only = runner.model.holes_only;
        runner.counts.renumbered = runner.inos.renumbered;
        Ok(runner.counts)
    })
}

/// Generates and runs one random sequence, on `reused` (a mount of the same
/// family a passing sequence left) or a fresh mount. Returns the operations
/// run so far, the result, and the mount if it may be reused.
fn generate_and_run(
    seed: u64,
    family: Family,
    reused: Option<Mount>,
) -> (Vec<Op>, Result<Counts, Failure>, Option<Mount>) {
    let mut rng = Rng::new(seed);
    let time_at = 10 + rng.below(15) as usize;
    let mut ops = Vec::new();
    let mut step = 0;
    let mut keep = None;
    let result = guarded(&mut step, |step| {
        let mut runner = match reused {
            Some(mount) => Runner::reuse(mount, family)?,
            None => Runner::new(family),
        };
        for i in 0..OPS {
            *step = i;
            let op = if family == Family::Expiry && i == time_at {
                Op::TimePasses
            } else {
                Gen::new(&mut rng, &runner.model).op()
            };
            ops.push(op.clone());
            runner.step(i, &op)?;
        }
        let Runner {
            mount,
            mut counts,
            model,
            inos,
            ..
        } = runner;
        counts.kept = model.kept;
        counts.holes_only = model.holes_only;
        counts.renumbered = inos.renumbered;
        keep = Some(mount);
        Ok(counts)
    });
    (ops, result, keep)
}

fn fails(ops: &[Op], family: Family) -> Option<String> {
    match run_ops(ops, family) {
        Err(Failure::Mismatch { step, msg }) => {
            Some(format!("at step {step} ({}):\n{msg}", ops[step]))
        }
        _ => None,
    }
}

/// Delta debugging: drops chunks of operations while the sequence still fails
/// on a fresh mount. Returns the shortest failing sequence and its failure.
fn shrink(ops: Vec<Op>, family: Family) -> (Vec<Op>, Option<String>) {
    let Some(mut failure) = fails(&ops, family) else {
        return (ops, None);
    };
    let start = Instant::now();
    let mut ops = ops;
    let mut chunks = 2;
    while ops.len() > 1 && start.elapsed() < SHRINK_BUDGET {
        let size = ops.len().div_ceil(chunks);
        let reduced = (0..chunks).find_map(|i| {
            let (from, to) = (i * size, ((i + 1) * size).min(ops.len()));
            if from >= to {
                return None;
            }
            let candidate: Vec<Op> = ops[..from].iter().chain(&ops[to..]).cloned().collect();
            fails(&candidate, family).map(|f| (candidate, f))
        });
        if let Some((candidate, f)) = reduced {
            ops = candidate;
            failure = f;
            chunks = (chunks - 1).max(2);
        } else {
            if chunks >= ops.len() {
                break;
            }
            chunks = (chunks * 2).min(ops.len());
        }
    }
    (ops, Some(failure))
}

fn sequence_seed(seed: u64, i: usize) -> u64 {
    Rng::new(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).next_u64()
}

fn report(seed: u64, i: usize, family: Family, ops: &[Op], step: usize, msg: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "model mismatch: seed {seed:#x}, sequence {i} ({family:?}); replay with GALLERYFS_SEED={seed:#x} GALLERYFS_MODEL_SEQUENCE={i}"
    );
    let _ = writeln!(out, "failed at step {step} ({}):\n{msg}", ops[step]);
    let _ = writeln!(out, "shrinking {} operations on fresh mounts…", step + 1);
    let (short, failure) = shrink(ops[..=step].to_vec(), family);
    match failure {
        Some(f) => {
            let _ = writeln!(
                out,
                "shortest failing sequence ({} operations):",
                short.len()
            );
            for (n, op) in short.iter().enumerate() {
                let _ = writeln!(out, "  {n:3}  {op}");
            }
            let _ = writeln!(out, "which fails {f}");
        }
        None => {
            let _ = writeln!(
                out,
                "it does not fail again on a fresh mount (timing?); the whole sequence:"
            );
            for (n, op) in ops[..=step].iter().enumerate() {
                let _ = writeln!(out, "  {n:3}  {op}");
            }
        }
    }
    out
}

/// What one worker thread ran.
#[derive(Default)]
struct Tally {
    run: usize,
    expiry: usize,
    burst: usize,
    inconclusive: usize,
    counts: Counts,
    failure: Option<String>,
}

/// Runs the sequences `i` with `i % jobs == job` (or only `only`), reusing
/// one mount for the normal sequences.
fn worker(
    seed: u64,
    sequences: usize,
    job: usize,
    jobs: usize,
    only: Option<usize>,
    stop: &AtomicBool,
) -> Tally {
    let mut tally = Tally::default();
    // A mount to reuse per family (expiry sequences mount afresh).
    let mut mounts: BTreeMap<Family, Mount> = BTreeMap::new();
    let reuse = std::env::var("GALLERYFS_MODEL_FRESH").is_err();
    let start = Instant::now();
    for i in (job..sequences).step_by(jobs) {
        if only.is_some_and(|n| n != i) {
            continue;
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let family = Family::of(i);
        let reused = if family != Family::Expiry && reuse {
            mounts.remove(&family)
        } else {
            None
        };
        let (ops, result, left) = generate_and_run(sequence_seed(seed, i), family, reused);
        if family != Family::Expiry
            && let Some(m) = left
        {
            mounts.insert(family, m);
        }
        tally.run += 1;
        match result {
            Ok(c) => {
                tally.counts.add(&c);
                match family {
                    Family::Expiry => tally.expiry += 1,
                    Family::Burst => tally.burst += 1,
                    Family::Normal => {}
                }
            }
            Err(Failure::Inconclusive(why)) => {
                eprintln!("model: sequence {i} inconclusive: {why}");
                tally.inconclusive += 1;
            }
            Err(Failure::Mismatch { step, msg }) => {
                stop.store(true, Ordering::Relaxed);
                tally.failure = Some(report(seed, i, family, &ops, step, &msg));
                break;
            }
        }
        if tally.run % 500 == 0 {
            eprintln!(
                "model: worker {job}: {} sequences, {} operations, {:.0?}",
                tally.run,
                tally.counts.ops,
                start.elapsed()
            );
        }
    }
    tally
}

#[test]
fn model_based_random_operations() {
    let seed = harness::seed("model");
    let sequences = std::env::var("GALLERYFS_MODEL_SEQUENCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| harness::size(20, 10_000));
    let only: Option<usize> = std::env::var("GALLERYFS_MODEL_SEQUENCE")
        .ok()
        .and_then(|s| s.parse().ok());
    // Sequences are independent: run them on a few mounts at once.
    let jobs = std::env::var("GALLERYFS_MODEL_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 4)
        });
    if std::env::var("GALLERYFS_MODEL_STATS").is_ok() {
        let _ = STATS.set(Mutex::new(BTreeMap::new()));
    }
    let start = Instant::now();
    let stop = AtomicBool::new(false);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|job| {
                let stop = &stop;
                scope.spawn(move || worker(seed, sequences, job, jobs, only, stop))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let mut total = Tally::default();
    for t in tallies {
        if let Some(f) = t.failure {
            eprintln!("{f}");
            panic!("{f}");
        }
        total.run += t.run;
        total.expiry += t.expiry;
        total.burst += t.burst;
        total.inconclusive += t.inconclusive;
        total.counts.add(&t.counts);
    }
    if let Some(stats) = STATS.get() {
        for ((kind, result), n) in stats.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            eprintln!("model: {kind:>20} {result:<10} {n}");
        }
    }
    let (run, inconclusive) = (total.run, total.inconclusive);
    assert!(
        inconclusive * 10 <= run.max(10),
        "{inconclusive} of {run} sequences were too slow to judge"
    );
    let elapsed = start.elapsed();
    harness::summary(
        "model",
        seed,
        &format!(
            "{run} sequences, {} operations, 0 mismatches ({} expiry sequences, {} with the default overwrite_interval, {} overwrites kept, {} of holes only not kept, {} inode numbers changed after an overwrite, {} remounts, {} operations skipped, {} trash-name changes of gallery files, {} overwrites of hard links followed ({} kept nothing), {inconclusive} inconclusive; {jobs} jobs, {:.1?}, {:.0} operations/s)",
            total.counts.ops,
            total.expiry,
            total.burst,
            total.counts.kept,
            total.counts.holes_only,
            total.counts.renumbered,
            total.counts.remounts,
            total.counts.skipped,
            total.counts.lenient,
            total.counts.followed,
            total.counts.unkept,
            elapsed,
            total.counts.ops as f64 / elapsed.as_secs_f64()
        ),
    );
}

/// Shortest sequences the suite found, replayed on every run.
#[test]
fn model_regressions() {
    let create = |path: &str| Op::Create {
        path: path.into(),
        mode: 0o644,
        excl: false,
        data: ops::Data { len: 300, seed: 1 },
    };
    let rename = |from: &str, to: &str| Op::Rename {
        from: from.into(),
        to: to.into(),
        flags: 0,
    };
    let data = |len: u32, seed: u32| ops::Data { len, seed };
    let truncate = |path: &str, len: u64, via_fd: bool| Op::Truncate {
        path: path.into(),
        len,
        via_fd,
    };
    let punch = |path: &str, offset: u64, len: u64| Op::Punch {
        path: path.into(),
        offset,
        len,
    };
    let overwrite = |path: &str, len: u32| Op::Create {
        path: path.into(),
        mode: 0o644,
        excl: false,
        data: data(len, len),
    };
    // Each case, and how many overwrites it keeps.
    let cases: Vec<(&str, Family, Vec<Op>, usize)> = vec![
        (
            // The gallery name of a hard link moved into the trash turned
            // read-only (EROFS) and showed the entry's user.trash.* attributes.
            "hard link moved into the trash",
            Family::Normal,
            vec![
                create("gallery/b.jpg"),
                Op::Link {
                    from: "gallery/b.jpg".into(),
                    to: "gallery/.e".into(),
                },
                rename("gallery/b.jpg", ".trash/c (2)"),
                Op::SetXattr {
                    path: "gallery/.e".into(),
                    name: "user.b".into(),
                    value: "v".into(),
                    flags: 0,
                },
                Op::Write {
                    path: "gallery/.e".into(),
                    offset: 10,
                    data: ops::Data { len: 5, seed: 2 },
                },
                Op::Chmod {
                    path: "gallery/.e".into(),
                    mode: 0o600,
                },
            ],
            0,
        ),
        (
            // An expired entry could still be looked up by path for up to a
            // second (the kernel cached it for whole seconds of time left).
            "expired entry looked up before the sweep",
            Family::Expiry,
            vec![
                Op::Mkdir {
                    path: "gallery/.e".into(),
                    mode: 0o755,
                },
                create("gallery/.e/b.jpg"),
                rename("gallery/.e/b.jpg", ".trash/.e"),
                Op::TimePasses,
            ],
            0,
        ),
        (
            // An O_TRUNC|O_NOFOLLOW open of a file with one name failed with
            // ELOOP once the file had gone to the trash by inode (galleryfs
            // reopened the new file through /proc with O_NOFOLLOW): the file
            // was emptied and kept, and the open failed.
            "O_TRUNC|O_NOFOLLOW open of a file kept by inode",
            Family::Normal,
            vec![
                create("gallery/b.jpg"),
                overwrite("gallery/b.jpg", 5),
                Op::OpenTrunc {
                    path: "gallery/b.jpg".into(),
                    access: libc::O_RDWR,
                    data: data(7, 3),
                },
            ],
            2,
        ),
        (
            // Data and holes: what a growing truncation or a write past the
            // end leaves is a hole, and destroying holes keeps nothing.
            "truncations and punched holes over data and over holes",
            Family::Normal,
            vec![
                create("gallery/a"),
                // 300 bytes of data in block 0, then holes to 20000.
                truncate("gallery/a", 20_000, false),
                truncate("gallery/a", 5000, true), // holes only
                truncate("gallery/a", 100, false), // data: kept
                Op::Write {
                    path: "gallery/a".into(),
                    offset: 9000,
                    data: data(5, 4),
                },
                punch("gallery/a", 4096, 4096),    // a hole: nothing
                punch("gallery/a", 8192, 1 << 20), // data: kept
                truncate("gallery/a", 0, false),   // block 0: kept
                punch("gallery/a", 0, 1 << 20),    // empty: nothing
                truncate("gallery/a", 9000, true), // grows
                overwrite("gallery/a", 0),         // holes only
                overwrite("gallery/a", 10),        // empty
                truncate("gallery/a", 3, true),    // data: kept
            ],
            4,
        ),
        (
            // The default overwrite_interval: a path's first overwrite is
            // kept, the next ones not while its entry is in the trash.
            "overwrite_interval keeps a path's first overwrite",
            Family::Burst,
            vec![
                create("gallery/a"),
                overwrite("gallery/a", 10), // kept
                overwrite("gallery/a", 20),
                truncate("gallery/a", 0, false),
                overwrite("gallery/a", 30),
                rename(".trash/a", ".trash/x"),
                overwrite("gallery/a", 40),
                Op::Unlink {
                    path: ".trash/x".into(),
                },
                overwrite("gallery/a", 50), // kept
            ],
            2,
        ),
        (
            // Kept by inode, then unlinked: the entry does not show the
            // number the gallery file had (accepted unless
            // GALLERYFS_MODEL_STRICT=ino).
            "a file kept by inode, then unlinked",
            Family::Normal,
            vec![
                create("gallery/a"),
                overwrite("gallery/a", 42),
                Op::Unlink {
                    path: "gallery/a".into(),
                },
                Op::Remount,
            ],
            1,
        ),
    ];
    for (what, family, ops, kept) in cases {
        let steps: Vec<String> = ops.iter().map(|op| format!("  {op}")).collect();
        match run_ops(&ops, family) {
            Err(f) => panic!("regression: {what}:\n{}\n{f:?}", steps.join("\n")),
            Ok(c) => assert_eq!(
                c.kept,
                kept,
                "regression: {what}: overwrites kept:\n{}",
                steps.join("\n")
            ),
        }
    }
}

//! Suite 7: concurrency and soak.
//!
//! Eight threads, each making real syscalls through the mount, run seeded
//! mixes of create+write, read, rm, rm -r, rename (over files and
//! directories), mkdir/rmdir, mv into `.trash/NAME`, restore, entry rename,
//! purge, listing `.trash` with its attributes and writes into the trash, all
//! on the same few names, for a bounded time, while the expiry sweep runs
//! every second with a 2-second retention so entries expire under them.
//! Every syscall must succeed or fail with an errno its race explains
//! (ENOENT, EEXIST, ENOTEMPTY, …); never EIO, ESTALE, ENOTCONN.
//! Then unmount (the daemon must exit 0 and never have panicked), check the
//! database, remount with the default retention and check what still
//! applies of suite 1: every file holds exactly one file's content and no
//! content is found twice, entries named after a file carry a matching
//! `original_path`, STORAGE and the catalog hold exactly what the mount shows.

use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use galleryfs_testkit::Mount;
use galleryfs_testkit::consistency::{
    candidate, catalog_rows, content, identify, integrity_problem, is_partial, save_log, scan,
    storage_problems,
};
use galleryfs_testkit::errno::{errno, errno_name};
use galleryfs_testkit::harness::{self, Rng};
use galleryfs_testkit::xattr;

const THREADS: usize = 8;
const HISTORY: usize = 30;
/// Shared names: files `s0.dat` … in the gallery root and in `a/`, `b/`.
const FILE_NAMES: u64 = 10;
const DIRS: [&str; 3] = ["", "a", "b"];
/// Explicit entry names `t0` … for mv into `.trash/`.
const ENTRY_NAMES: u64 = 8;

#[derive(Clone, Copy, Debug)]
enum Op {
    Create,
    Read,
    Rm,
    RmR,
    Rename,
    Mkdir,
    Rmdir,
    TrashIt,
    Restore,
    RenameEntry,
    Purge,
    ListTrash,
    WriteTrash,
}

const TABLE: &[(Op, u64)] = &[
    (Op::Create, 22),
    (Op::Read, 10),
    (Op::Rm, 12),
    (Op::RmR, 1),
    (Op::Rename, 12),
    (Op::Mkdir, 4),
    (Op::Rmdir, 2),
    (Op::TrashIt, 8),
    (Op::Restore, 12),
    (Op::RenameEntry, 4),
    (Op::Purge, 6),
    (Op::ListTrash, 4),
    (Op::WriteTrash, 2),
];

/// The errnos a race among the threads can explain, per operation. EROFS:
/// a path resolved to a gallery directory that another thread then moved
/// into the trash, where nothing may be created (the operation lands in the
/// directory wherever it went, as on any POSIX filesystem).
fn explained(op: Op) -> &'static [i32] {
    use libc::*;
    match op {
        Op::Create => &[EEXIST, ENOENT, ENOTDIR, EROFS],
        Op::Read => &[ENOENT, EISDIR, ENOTDIR],
        Op::Rm => &[ENOENT, EISDIR, ENOTDIR],
        // (A child changed type between the listing and its removal: EISDIR.)
        Op::RmR => &[ENOENT, ENOTDIR, ENOTEMPTY, EISDIR],
        Op::Rename | Op::TrashIt | Op::Restore | Op::RenameEntry => {
            &[ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, EROFS]
        }
        Op::Mkdir => &[EEXIST, ENOENT, ENOTDIR, EROFS],
        Op::Rmdir => &[ENOENT, ENOTEMPTY, ENOTDIR],
        Op::Purge => &[ENOENT, ENOTDIR, EISDIR, ENOTEMPTY],
        Op::ListTrash => &[ENOENT, ENODATA],
        // The trash is read-only.
        Op::WriteTrash => &[EROFS, ENOENT, EISDIR],
    }
}

#[derive(Default)]
struct Tally {
    syscalls: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    created: u64,
    history: VecDeque<String>,
}

impl Tally {
    fn remember(&mut self, line: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(line);
    }
}

struct Soaker {
    t: usize,
    seed: u64,
    rng: Rng,
    gallery: PathBuf,
    trash: PathBuf,
    storage: PathBuf,
    next_id: u64,
    tally: Tally,
}

/// Whether `data` is what a reader may see of some file: its whole content,
/// or (while a writer is at work) a prefix of it.
fn plausible(seed: u64, data: &[u8]) -> bool {
    const HEADER: &[u8] = b"galleryfs-torture id=";
    if identify(seed, data).is_some() || HEADER.starts_with(data) {
        return true;
    }
    let id = data
        .strip_prefix(HEADER)
        .and_then(|rest| {
            let end = rest.iter().position(|&b| b == b'\n')?;
            std::str::from_utf8(&rest[..end]).ok()?.parse::<u64>().ok()
        })
        .or_else(|| {
            // Cut inside the header's number: any id it could be the start of.
            let digits = std::str::from_utf8(data.strip_prefix(HEADER)?).ok()?;
            digits.parse::<u64>().ok()
        });
    id.is_some_and(|id| is_partial(seed, id, data))
}

impl Soaker {
    fn file_path(&mut self) -> String {
        let dir = *self.rng.pick(&DIRS);
        let name = format!("s{}.dat", self.rng.below(FILE_NAMES));
        if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        }
    }

    /// A gallery path: mostly files, sometimes the directories themselves.
    fn any_path(&mut self) -> String {
        if self.rng.chance(15) {
            self.rng.pick(&["a", "b", "a/b"]).to_string()
        } else {
            self.file_path()
        }
    }

    fn entry_name(&mut self) -> String {
        format!("t{}", self.rng.below(ENTRY_NAMES))
    }

    /// An entry that exists now (or did a moment ago), else a likely name.
    fn some_entry(&mut self) -> String {
        let names: Vec<String> = fs::read_dir(&self.trash)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if names.is_empty() {
            self.entry_name()
        } else {
            self.rng.pick(&names).clone()
        }
    }

    /// What the mount, STORAGE and the catalog say about entry `name`.
    fn diagnose(&self, name: &str) -> String {
        use std::os::unix::fs::MetadataExt;
        let again = xattr::get(&self.t(name), "user.trash.original_path")
            .map(|v| String::from_utf8_lossy(&v).into_owned());
        let mount_ino = fs::symlink_metadata(self.t(name)).map(|m| m.ino());
        let disk_ino = fs::symlink_metadata(self.storage.join("trash").join(name)).map(|m| m.ino());
        let rows = catalog_rows(&self.storage.join("galleryfs.db")).map(|rows| {
            rows.into_iter()
                .filter(|(n, _, _)| n == name)
                .collect::<Vec<_>>()
        });
        format!(
            "read again: {again:?}; ino through the mount {mount_ino:?}, in STORAGE {disk_ino:?}; catalog row: {rows:?}"
        )
    }

    fn g(&self, p: &str) -> PathBuf {
        self.gallery.join(p)
    }

    fn t(&self, p: &str) -> PathBuf {
        self.trash.join(p)
    }

    /// Runs one operation; Err describes an unexplained outcome.
    fn step(&mut self, op: Op) -> Result<(), String> {
        let (what, result): (String, io::Result<()>) = match op {
            Op::Create => {
                let p = self.file_path();
                let id = self.next_id * THREADS as u64 + self.t as u64;
                self.next_id += 1;
                let data = content(self.seed, id);
                let r = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(self.g(&p))
                    .and_then(|mut f| f.write_all(&data));
                if r.is_ok() {
                    self.tally.created += 1;
                }
                (format!("create {p} (id {id})"), r)
            }
            Op::Read => {
                let p = self.file_path();
                let r = fs::read(self.g(&p));
                if let Ok(data) = &r
                    && !plausible(self.seed, data)
                {
                    return Err(format!(
                        "read gallery/{p}: {} bytes that are no file's content",
                        data.len()
                    ));
                }
                (format!("read {p}"), r.map(|_| ()))
            }
            Op::Rm => {
                let p = self.file_path();
                (format!("rm {p}"), fs::remove_file(self.g(&p)))
            }
            Op::RmR => {
                let p = self.rng.pick(&["a", "b"]).to_string();
                (format!("rm -r {p}"), fs::remove_dir_all(self.g(&p)))
            }
            Op::Rename => {
                let (a, b) = (self.any_path(), self.any_path());
                (format!("mv {a} {b}"), fs::rename(self.g(&a), self.g(&b)))
            }
            Op::Mkdir => {
                let p = self.rng.pick(&["a", "b", "a/b"]).to_string();
                (format!("mkdir {p}"), fs::create_dir(self.g(&p)))
            }
            Op::Rmdir => {
                let p = self.rng.pick(&["a", "b", "a/b"]).to_string();
                (format!("rmdir {p}"), fs::remove_dir(self.g(&p)))
            }
            Op::TrashIt => {
                let (a, e) = (self.any_path(), self.entry_name());
                (
                    format!("mv {a} .trash/{e}"),
                    fs::rename(self.g(&a), self.t(&e)),
                )
            }
            Op::Restore => {
                let (e, b) = (self.some_entry(), self.any_path());
                (
                    format!("mv .trash/{e} {b}"),
                    fs::rename(self.t(&e), self.g(&b)),
                )
            }
            Op::RenameEntry => {
                let (e, f) = (self.some_entry(), self.entry_name());
                (
                    format!("mv .trash/{e} .trash/{f}"),
                    fs::rename(self.t(&e), self.t(&f)),
                )
            }
            Op::Purge => {
                let e = self.some_entry();
                let path = self.t(&e);
                let r = match fs::symlink_metadata(&path) {
                    Ok(md) if md.is_dir() => fs::remove_dir_all(&path),
                    Ok(_) => fs::remove_file(&path),
                    Err(err) => Err(err),
                };
                (format!("purge .trash/{e}"), r)
            }
            Op::ListTrash => {
                let r = (|| -> io::Result<()> {
                    for e in fs::read_dir(&self.trash)? {
                        let e = e?;
                        let name = e.file_name().to_string_lossy().into_owned();
                        let Ok(orig) = xattr::get(&e.path(), "user.trash.original_path") else {
                            continue; // expired or moved since the listing
                        };
                        let orig = String::from_utf8_lossy(&orig).into_owned();
                        if let Some(why) = misnamed(&name, &orig) {
                            let more = self.diagnose(&name);
                            return Err(io::Error::other(format!("{why} ({more})")));
                        }
                    }
                    Ok(())
                })();
                if let Err(e) = &r
                    && e.raw_os_error().is_none()
                {
                    return Err(format!("list .trash: {e}"));
                }
                ("list .trash".to_string(), r)
            }
            Op::WriteTrash => {
                let e = self.some_entry();
                let r = fs::OpenOptions::new().append(true).open(self.t(&e));
                // A restore racing with the open may have taken the file out
                // of the trash first: then it may be written. Still an entry
                // (it has its trash attributes): a violation.
                if let Ok(f) = &r
                    && xattr::fget(f, "user.trash.original_path").is_ok()
                {
                    return Err(format!(".trash/{e} was opened for writing"));
                }
                (format!("open .trash/{e} for writing"), r.map(|_| ()))
            }
        };
        self.tally.syscalls += 1;
        match result {
            Ok(()) => {
                self.tally.ok += 1;
                self.tally.remember(format!("{what}: ok"));
                Ok(())
            }
            Err(e) => {
                let errno = errno(&e);
                self.tally
                    .remember(format!("{what}: {}", errno_name(errno)));
                if explained(op).contains(&errno) {
                    *self.tally.errors.entry(errno_name(errno)).or_default() += 1;
                    Ok(())
                } else {
                    Err(format!("{what} failed: {e}"))
                }
            }
        }
    }

    fn run(&mut self, deadline: Instant) -> Result<(), String> {
        let total: u64 = TABLE.iter().map(|(_, w)| w).sum();
        while Instant::now() < deadline {
            let mut roll = self.rng.below(total);
            let op = TABLE
                .iter()
                .find(|(_, w)| {
                    if roll < *w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .map(|(op, _)| *op)
                .unwrap();
            self.step(op)?;
        }
        Ok(())
    }
}

/// An entry named after a deleted file must be that file's name or one of
/// its `(n)` variants; explicit names (`t…`) may hold anything.
fn misnamed(name: &str, orig: &str) -> Option<String> {
    if name.starts_with('t') {
        return None;
    }
    let base = orig.rsplit('/').next().unwrap_or(orig);
    if (1..=10_000).any(|n| candidate(base, n) == name) {
        None
    } else {
        Some(format!(
            "trash entry {name:?} has original_path {orig:?}, whose name it does not carry"
        ))
    }
}

#[test]
fn concurrency_and_soak() {
    let seed = harness::seed("soak");
    let secs = harness::size(3, 180) as u64;
    let mut m = Mount::with_options(&["retention=2s", "sweep=1s"]);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let mut s = Soaker {
                t,
                seed,
                rng: Rng::new(seed ^ (t as u64 + 1).wrapping_mul(0xe703_7ed1_a0b4_28db)),
                gallery: m.gallery(),
                trash: m.trash(),
                storage: m.storage.clone(),
                next_id: 0,
                tally: Tally::default(),
            };
            thread::spawn(move || {
                let r = s.run(deadline);
                (s.t, s.tally, r)
            })
        })
        .collect();
    let mut problems = Vec::new();
    let mut histories = String::new();
    let (mut syscalls, mut ok, mut created) = (0, 0, 0);
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for h in handles {
        let (t, tally, r) = h.join().expect("soak thread panicked");
        if let Err(e) = r {
            problems.push(format!("thread {t}: {e}"));
        }
        syscalls += tally.syscalls;
        ok += tally.ok;
        created += tally.created;
        for (k, v) in tally.errors {
            *errors.entry(k).or_default() += v;
        }
        histories += &format!("thread {t} (last {} operations):\n", tally.history.len());
        for line in &tally.history {
            histories += &format!("    {line}\n");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let fail = |problems: &[String], m: &Mount| -> ! {
        let log = m.log();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "soak suite FAILED (seed {seed:#x}, replay with GALLERYFS_SEED={seed:#x}):\n  - {}\n{histories}daemon log (whole: {}), last lines:\n    {}",
            problems.join("\n  - "),
            save_log(m, "soak", seed),
            tail.join("\n    ")
        );
    };
    if !problems.is_empty() {
        fail(&problems, &m);
    }
    // The daemon must still be serving, then exit 0 (the fixture checks).
    if let Err(e) = fs::metadata(m.gallery()) {
        fail(&[format!("the mount no longer answers: {e}")], &m);
    }
    m.unmount();
    if m.log().contains("panicked") {
        fail(&["the daemon panicked".to_string()], &m);
    }
    if let Some(p) = integrity_problem(&m) {
        fail(&[p], &m);
    }
    // Remount with the default retention so that nothing expires under the check.
    m.options.clear();
    m.mount();
    let files_checked = check_final(seed, &m).unwrap_or_else(|p| fail(&p, &m));
    m.unmount();
    if let Some(p) = integrity_problem(&m) {
        fail(&[p], &m);
    }
    let errs: Vec<String> = errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
    harness::summary(
        "soak",
        seed,
        &format!(
            "{THREADS} threads for {elapsed:.1} s, {syscalls} operations ({:.0}/s), {ok} succeeded, {created} files created, {files_checked} files checked, explained errors: {}, 0 failures",
            syscalls as f64 / elapsed,
            if errs.is_empty() {
                "none".into()
            } else {
                errs.join(", ")
            }
        ),
    );
}

/// The suite 1 invariants that hold whatever the interleaving.
fn check_final(seed: u64, m: &Mount) -> Result<usize, Vec<String>> {
    let s = scan(m).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    for (loc, data) in &s.files {
        match identify(seed, data) {
            Some(id) => {
                if let Some(other) = seen.insert(id, loc.to_string()) {
                    problems.push(format!("file {id} is found twice: {other} and {loc}"));
                }
            }
            None => problems.push(format!(
                "{loc}: {} bytes that are no file's content",
                data.len()
            )),
        }
    }
    for odd in &s.odd {
        problems.push(format!("unexpected non-regular file {odd}"));
    }
    for (name, meta) in &s.entries {
        if let Some(why) = misnamed(name, &meta.orig) {
            problems.push(why);
        }
    }
    problems.extend(storage_problems(m, &s));
    if problems.is_empty() {
        Ok(s.files.len())
    } else {
        Err(problems)
    }
}

#[test]
fn plausible_contents() {
    let data = content(7, 42);
    assert!(plausible(7, &data));
    assert!(plausible(7, &data[..data.len() / 2]));
    assert!(plausible(7, &data[..3]));
    assert!(plausible(7, &data[..23]));
    assert!(plausible(7, b""));
    assert!(!plausible(7, b"garbage"));
    let mut bad = data.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert!(!plausible(7, &bad));
}

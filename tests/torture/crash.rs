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

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

// ---- the model -------------------------------------------------------------

const WORKERS: usize = 3;
/// Steps of each worker's history printed on failure.
const HISTORY: usize = 40;
/// Files a worker keeps in the gallery before it stops creating.
const MAX_GALLERY_FILES: usize = 24;

/// A path through the mount.
#[derive(Clone, Debug)]
enum P {
    G(String),
    T(String),
}

impl std::fmt::Display for P {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            P::G(p) => write!(f, "gallery/{p}"),
            P::T(p) => write!(f, ".trash/{p}"),
        }
    }
}

#[derive(Clone, Debug)]
enum Sys {
    /// `open(O_CREAT|O_EXCL)` and one write of file `id`'s content.
    Create(P, u64),
    Unlink(P),
    Mkdir(P),
    Rmdir(P),
    Rename(P, P),
}

impl std::fmt::Display for Sys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sys::Create(p, id) => write!(f, "create {p} (id {id})"),
            Sys::Unlink(p) => write!(f, "unlink {p}"),
            Sys::Mkdir(p) => write!(f, "mkdir {p}"),
            Sys::Rmdir(p) => write!(f, "rmdir {p}"),
            Sys::Rename(a, b) => write!(f, "rename {a} -> {b}"),
        }
    }
}

/// One syscall and everything it changes, before and after.
#[derive(Clone, Debug)]
struct Step {
    sys: Sys,
    files: Vec<(u64, Option<Loc>, Option<Loc>)>,
    dirs: Vec<(String, bool, bool)>,
    entries: Vec<(String, Option<EntryMeta>, Option<EntryMeta>)>,
    /// A new trash entry that must hold file `id` once the syscall returns.
    probe: Option<(String, u64)>,
    /// The syscall must fail with this errno and change nothing.
    expect_err: Option<i32>,
}

impl Step {
    fn new(sys: Sys) -> Step {
        Step {
            sys,
            files: Vec::new(),
            dirs: Vec::new(),
            entries: Vec::new(),
            probe: None,
            expect_err: None,
        }
    }

    fn describe(&self) -> String {
        let mut s = self.sys.to_string();
        if let Some(e) = self.expect_err {
            s += &format!(" (must fail with {})", errno_name(e));
        }
        for (id, _, after) in &self.files {
            match after {
                Some(loc) => s += &format!("; id {id} -> {loc}"),
                None => s += &format!("; id {id} purged"),
            }
        }
        s
    }
}

/// What one worker owns, as acknowledged so far.
#[derive(Clone, Default, Debug)]
struct Model {
    /// Live (not purged) files.
    files: BTreeMap<u64, Loc>,
    /// Gallery directories below the worker's root `wN`.
    dirs: BTreeSet<String>,
    entries: BTreeMap<String, EntryMeta>,
}

impl Model {
    fn apply(&mut self, step: &Step) {
        for (id, _, after) in &step.files {
            match after {
                Some(loc) => self.files.insert(*id, loc.clone()),
                None => self.files.remove(id),
            };
        }
        for (dir, _, after) in &step.dirs {
            if *after {
                self.dirs.insert(dir.clone());
            } else {
                self.dirs.remove(dir);
            }
        }
        for (name, _, after) in &step.entries {
            match after {
                Some(meta) => self.entries.insert(name.clone(), meta.clone()),
                None => self.entries.remove(name),
            };
        }
    }

    fn gallery_files(&self) -> Vec<(u64, String)> {
        self.files
            .iter()
            .filter_map(|(id, loc)| match loc {
                Loc::Gallery(p) => Some((*id, p.clone())),
                _ => None,
            })
            .collect()
    }

    fn file_at(&self, path: &str) -> Option<u64> {
        self.files
            .iter()
            .find(|(_, loc)| matches!(loc, Loc::Gallery(p) if p == path))
            .map(|(id, _)| *id)
    }

    fn taken(&self, path: &str) -> bool {
        self.dirs.contains(path) || self.file_at(path).is_some()
    }

    fn files_in_dir(&self, dir: &str) -> Vec<(u64, String)> {
        self.gallery_files()
            .into_iter()
            .filter(|(_, p)| parent_of(p) == dir)
            .collect()
    }

    fn entry_files(&self, entry: &str) -> Vec<(u64, String, String)> {
        self.files
            .iter()
            .filter_map(|(id, loc)| match loc {
                Loc::Trash {
                    entry: e,
                    sub,
                    orig,
                } if e == entry => Some((*id, sub.clone(), orig.clone())),
                _ => None,
            })
            .collect()
    }

    /// The entry name galleryfs will choose for a file called `base`.
    fn predict(&self, base: &str) -> String {
        (1..)
            .map(|n| candidate(base, n))
            .find(|c| !self.entries.contains_key(c))
            .expect("a free name")
    }
}

fn trash_loc(entry: &str, sub: &str, orig: &str) -> Loc {
    Loc::Trash {
        entry: entry.to_string(),
        sub: sub.to_string(),
        orig: orig.to_string(),
    }
}

fn file_meta(orig: &str) -> EntryMeta {
    EntryMeta {
        orig: orig.to_string(),
        is_dir: false,
    }
}

/// One worker thread's state, kept across crashes.
struct Worker {
    w: usize,
    seed: u64,
    rng: Rng,
    model: Model,
    next_id: u64,
    next_name: u64,
    history: VecDeque<String>,
    /// The step whose syscall had not returned (or was not verified) at the crash.
    pending: Option<Step>,
    acked: u64,
}

enum Op {
    Create,
    Rm,
    RmR,
    Rename,
    RenameOver,
    TrashFile,
    TrashDir,
    TrashTaken,
    Restore,
    RestoreMissingParent,
    RestoreOne,
    RenameEntry,
    Purge,
    Mkdir,
}

impl Worker {
    fn new(w: usize, seed: u64) -> Worker {
        Worker {
            w,
            seed,
            rng: Rng::new(seed ^ (w as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f)),
            model: Model::default(),
            next_id: 0,
            next_name: 0,
            history: VecDeque::new(),
            pending: None,
            acked: 0,
        }
    }

    fn root(&self) -> String {
        format!("w{}", self.w)
    }

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id * WORKERS as u64 + self.w as u64;
        self.next_id += 1;
        id
    }

    fn fresh(&mut self, what: &str) -> String {
        self.next_name += 1;
        format!("w{}{what}{}", self.w, self.next_name)
    }

    fn gallery_dirs(&self, sim: &Model) -> Vec<String> {
        let mut dirs = vec![self.root()];
        dirs.extend(sim.dirs.iter().cloned());
        dirs
    }

    /// A free file path in `dir`: often one of a few shared names, so that
    /// trash names collide and get `(2)`, `(3)` suffixes.
    fn free_file_path(&mut self, sim: &Model, dir: &str) -> String {
        let k = self.rng.below(5);
        let path = format!("{dir}/w{}n{k}.dat", self.w);
        if !sim.taken(&path) {
            return path;
        }
        let name = self.fresh("r");
        format!("{dir}/{name}.dat")
    }

    fn rm_step(sim: &Model, id: u64, path: &str) -> Step {
        let entry = sim.predict(base_name(path));
        let mut step = Step::new(Sys::Unlink(P::G(path.to_string())));
        step.files.push((
            id,
            Some(Loc::Gallery(path.to_string())),
            Some(trash_loc(&entry, "", path)),
        ));
        step.entries
            .push((entry.clone(), None, Some(file_meta(path))));
        step.probe = Some((entry, id));
        step
    }

    /// Picks the next operation and expands it into steps (several for rm -r).
    fn plan(&mut self) -> Vec<Step> {
        let mut sim = self.model.clone();
        let mut steps: Vec<Step> = Vec::new();
        macro_rules! push {
            ($sim:expr, $step:expr) => {{
                let step = $step;
                $sim.apply(&step);
                steps.push(step);
            }};
        }
        while steps.is_empty() {
            let gallery = sim.gallery_files();
            let entries: Vec<(String, EntryMeta)> = sim
                .entries
                .iter()
                .map(|(n, m)| (n.clone(), m.clone()))
                .collect();
            let table: &[(Op, u64)] = &[
                (Op::Create, 25),
                (Op::Rm, 12),
                (Op::RmR, 3),
                (Op::Rename, 8),
                (Op::RenameOver, 8),
                (Op::TrashFile, 6),
                (Op::TrashDir, 3),
                (Op::TrashTaken, 1),
                (Op::Restore, 12),
                (Op::RestoreMissingParent, 1),
                (Op::RestoreOne, 2),
                (Op::RenameEntry, 3),
                (Op::Purge, 10),
                (Op::Mkdir, 4),
            ];
            let total: u64 = table.iter().map(|(_, w)| w).sum();
            let mut roll = self.rng.below(total);
            let op = if entries.len() >= 30 {
                &Op::Purge
            } else {
                table
                    .iter()
                    .find(|(_, w)| {
                        if roll < *w {
                            true
                        } else {
                            roll -= w;
                            false
                        }
                    })
                    .map(|(op, _)| op)
                    .unwrap()
            };
            match op {
                Op::Create if gallery.len() < MAX_GALLERY_FILES => {
                    let dirs = self.gallery_dirs(&sim);
                    let dir = self.rng.pick(&dirs).clone();
                    let id = self.fresh_id();
                    let path = format!("{dir}/w{}f{id}.dat", self.w);
                    let mut step = Step::new(Sys::Create(P::G(path.clone()), id));
                    step.files.push((id, None, Some(Loc::Gallery(path))));
                    push!(sim, step);
                }
                Op::Rm if !gallery.is_empty() => {
                    let (id, path) = self.rng.pick(&gallery).clone();
                    let step = Self::rm_step(&sim, id, &path);
                    push!(sim, step);
                }
                Op::RmR if !sim.dirs.is_empty() => {
                    let dirs: Vec<String> = sim.dirs.iter().cloned().collect();
                    let dir = self.rng.pick(&dirs).clone();
                    for (id, path) in sim.files_in_dir(&dir) {
                        let step = Self::rm_step(&sim, id, &path);
                        push!(sim, step);
                    }
                    let mut step = Step::new(Sys::Rmdir(P::G(dir.clone())));
                    step.dirs.push((dir, true, false));
                    push!(sim, step);
                }
                Op::Rename if !gallery.is_empty() => {
                    let (id, from) = self.rng.pick(&gallery).clone();
                    let dirs = self.gallery_dirs(&sim);
                    let dir = self.rng.pick(&dirs).clone();
                    let to = self.free_file_path(&sim, &dir);
                    let mut step = Step::new(Sys::Rename(P::G(from.clone()), P::G(to.clone())));
                    step.files
                        .push((id, Some(Loc::Gallery(from)), Some(Loc::Gallery(to))));
                    push!(sim, step);
                }
                Op::RenameOver if gallery.len() >= 2 => {
                    let (id, from) = self.rng.pick(&gallery).clone();
                    let (victim, to) = loop {
                        let pick = self.rng.pick(&gallery).clone();
                        if pick.0 != id {
                            break pick;
                        }
                    };
                    let entry = sim.predict(base_name(&to));
                    let mut step = Step::new(Sys::Rename(P::G(from.clone()), P::G(to.clone())));
                    step.files
                        .push((id, Some(Loc::Gallery(from)), Some(Loc::Gallery(to.clone()))));
                    step.files.push((
                        victim,
                        Some(Loc::Gallery(to.clone())),
                        Some(trash_loc(&entry, "", &to)),
                    ));
                    step.entries
                        .push((entry.clone(), None, Some(file_meta(&to))));
                    step.probe = Some((entry, victim));
                    push!(sim, step);
                }
                Op::TrashFile if !gallery.is_empty() => {
                    let (id, path) = self.rng.pick(&gallery).clone();
                    let entry = self.fresh("e");
                    let mut step = Step::new(Sys::Rename(P::G(path.clone()), P::T(entry.clone())));
                    step.files.push((
                        id,
                        Some(Loc::Gallery(path.clone())),
                        Some(trash_loc(&entry, "", &path)),
                    ));
                    step.entries.push((entry, None, Some(file_meta(&path))));
                    push!(sim, step);
                }
                Op::TrashDir if !sim.dirs.is_empty() => {
                    let dirs: Vec<String> = sim.dirs.iter().cloned().collect();
                    let dir = self.rng.pick(&dirs).clone();
                    let entry = self.fresh("e");
                    let mut step = Step::new(Sys::Rename(P::G(dir.clone()), P::T(entry.clone())));
                    for (id, path) in sim.files_in_dir(&dir) {
                        step.files.push((
                            id,
                            Some(Loc::Gallery(path.clone())),
                            Some(trash_loc(&entry, base_name(&path), &dir)),
                        ));
                    }
                    step.dirs.push((dir.clone(), true, false));
                    let meta = EntryMeta {
                        orig: dir,
                        is_dir: true,
                    };
                    step.entries.push((entry, None, Some(meta)));
                    push!(sim, step);
                }
                Op::TrashTaken if !gallery.is_empty() && entries.iter().any(|(_, m)| !m.is_dir) => {
                    // (Onto a directory entry the kernel itself says EISDIR.)
                    let (_, path) = self.rng.pick(&gallery).clone();
                    let files: Vec<&(String, EntryMeta)> =
                        entries.iter().filter(|(_, m)| !m.is_dir).collect();
                    let (entry, _) = (*self.rng.pick(&files)).clone();
                    let mut step = Step::new(Sys::Rename(P::G(path), P::T(entry)));
                    step.expect_err = Some(libc::EEXIST);
                    push!(sim, step);
                }
                Op::Restore if !entries.is_empty() => {
                    let (entry, meta) = self.rng.pick(&entries).clone();
                    let inside = sim.entry_files(&entry);
                    if meta.is_dir {
                        let target =
                            if sim.taken(&meta.orig) || parent_of(&meta.orig) != self.root() {
                                let name = self.fresh("d");
                                format!("{}/{name}", self.root())
                            } else {
                                meta.orig.clone()
                            };
                        let mut step =
                            Step::new(Sys::Rename(P::T(entry.clone()), P::G(target.clone())));
                        for (id, sub, orig) in inside {
                            let before = trash_loc(&entry, &sub, &orig);
                            let after = Loc::Gallery(format!("{target}/{sub}"));
                            step.files.push((id, Some(before), Some(after)));
                        }
                        step.dirs.push((target, false, true));
                        step.entries.push((entry, Some(meta), None));
                        push!(sim, step);
                    } else {
                        let Some((id, _, _)) = inside.first().cloned() else {
                            continue;
                        };
                        let parent_ok = self
                            .gallery_dirs(&sim)
                            .contains(&parent_of(&meta.orig).to_string());
                        let target = if parent_ok && !sim.dirs.contains(&meta.orig) {
                            meta.orig.clone()
                        } else {
                            let root = self.root();
                            self.free_file_path(&sim, &root)
                        };
                        let mut step =
                            Step::new(Sys::Rename(P::T(entry.clone()), P::G(target.clone())));
                        step.files.push((
                            id,
                            Some(trash_loc(&entry, "", &meta.orig)),
                            Some(Loc::Gallery(target.clone())),
                        ));
                        step.entries.push((entry, Some(meta), None));
                        if let Some(victim) = sim.file_at(&target) {
                            // The replaced file goes to the trash; the restored
                            // entry still holds its name when that name is chosen.
                            let stash = sim.predict(base_name(&target));
                            step.files.push((
                                victim,
                                Some(Loc::Gallery(target.clone())),
                                Some(trash_loc(&stash, "", &target)),
                            ));
                            step.entries
                                .push((stash.clone(), None, Some(file_meta(&target))));
                            step.probe = Some((stash, victim));
                        }
                        push!(sim, step);
                    }
                }
                Op::RestoreMissingParent if !entries.is_empty() => {
                    let (entry, _) = self.rng.pick(&entries).clone();
                    let missing = self.fresh("gone");
                    let target = format!("{}/{missing}/x.dat", self.root());
                    let mut step = Step::new(Sys::Rename(P::T(entry), P::G(target)));
                    step.expect_err = Some(libc::ENOENT);
                    push!(sim, step);
                }
                Op::RestoreOne => {
                    // One file out of a trashed directory, to a free name.
                    let Some((entry, _)) = entries
                        .iter()
                        .find(|(n, m)| m.is_dir && !sim.entry_files(n).is_empty())
                    else {
                        continue;
                    };
                    let inside = sim.entry_files(entry);
                    let (id, sub, orig) = self.rng.pick(&inside).clone();
                    let root = self.root();
                    let target = self.free_file_path(&sim, &root);
                    let mut step = Step::new(Sys::Rename(
                        P::T(format!("{entry}/{sub}")),
                        P::G(target.clone()),
                    ));
                    step.files.push((
                        id,
                        Some(trash_loc(entry, &sub, &orig)),
                        Some(Loc::Gallery(target)),
                    ));
                    push!(sim, step);
                }
                Op::RenameEntry if !entries.is_empty() => {
                    let (entry, meta) = self.rng.pick(&entries).clone();
                    let to = self.fresh("e");
                    let mut step = Step::new(Sys::Rename(P::T(entry.clone()), P::T(to.clone())));
                    for (id, sub, orig) in sim.entry_files(&entry) {
                        step.files.push((
                            id,
                            Some(trash_loc(&entry, &sub, &orig)),
                            Some(trash_loc(&to, &sub, &orig)),
                        ));
                    }
                    step.entries.push((entry, Some(meta.clone()), None));
                    step.entries.push((to, None, Some(meta)));
                    push!(sim, step);
                }
                Op::Purge if !entries.is_empty() => {
                    let (entry, meta) = self.rng.pick(&entries).clone();
                    if meta.is_dir {
                        // rm -r .trash/ENTRY: each file, then the directory.
                        for (id, sub, orig) in sim.entry_files(&entry) {
                            let mut step = Step::new(Sys::Unlink(P::T(format!("{entry}/{sub}"))));
                            step.files
                                .push((id, Some(trash_loc(&entry, &sub, &orig)), None));
                            push!(sim, step);
                        }
                        let mut step = Step::new(Sys::Rmdir(P::T(entry.clone())));
                        step.entries.push((entry, Some(meta), None));
                        push!(sim, step);
                    } else {
                        let mut step = Step::new(Sys::Unlink(P::T(entry.clone())));
                        for (id, sub, orig) in sim.entry_files(&entry) {
                            step.files
                                .push((id, Some(trash_loc(&entry, &sub, &orig)), None));
                        }
                        step.entries.push((entry, Some(meta), None));
                        push!(sim, step);
                    }
                }
                Op::Mkdir if sim.dirs.len() < 3 => {
                    let name = self.fresh("d");
                    let dir = format!("{}/{name}", self.root());
                    let mut step = Step::new(Sys::Mkdir(P::G(dir.clone())));
                    step.dirs.push((dir, false, true));
                    push!(sim, step);
                }
                _ => {}
            }
        }
        steps
    }

    fn abs(&self, mnt: &Path, p: &P) -> PathBuf {
        match p {
            P::G(p) => mnt.join("gallery").join(p),
            P::T(p) => mnt.join(".trash").join(p),
        }
    }

    fn syscall(&self, mnt: &Path, sys: &Sys) -> io::Result<()> {
        match sys {
            Sys::Create(p, id) => {
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(self.abs(mnt, p))?;
                f.write_all(&content(self.seed, *id))
            }
            Sys::Unlink(p) => fs::remove_file(self.abs(mnt, p)),
            Sys::Mkdir(p) => fs::create_dir(self.abs(mnt, p)),
            Sys::Rmdir(p) => fs::remove_dir(self.abs(mnt, p)),
            Sys::Rename(a, b) => fs::rename(self.abs(mnt, a), self.abs(mnt, b)),
        }
    }

    fn remember(&mut self, line: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(line);
    }

    /// Runs steps until the daemon dies under it (Ok) or something goes
    /// wrong while it lives (Err).
    fn run(&mut self, mnt: &Path, killed: &AtomicBool) -> Result<(), String> {
        loop {
            for step in self.plan() {
                self.pending = Some(step.clone());
                let result = self.syscall(mnt, &step.sys);
                match (result, step.expect_err) {
                    (Ok(()), None) => {}
                    (Err(e), Some(want)) if errno(&e) == want => {}
                    (Err(_), _) if killed.load(Ordering::SeqCst) => return Ok(()),
                    (Ok(()), Some(want)) => {
                        return Err(format!(
                            "{} succeeded; expected {}",
                            step.describe(),
                            errno_name(want)
                        ));
                    }
                    (Err(e), _) => return Err(format!("{} failed: {e}", step.describe())),
                }
                if let Some((entry, id)) = &step.probe {
                    match fs::read(mnt.join(".trash").join(entry)) {
                        Ok(data) if identify(self.seed, &data) == Some(*id) => {}
                        Ok(data) => {
                            return Err(format!(
                                "after {}: .trash/{entry} holds {} bytes that are not file {id} (header id {:?})",
                                step.describe(),
                                data.len(),
                                header_id(&data)
                            ));
                        }
                        // Acknowledged, but not verified: stays "in flight".
                        Err(_) if killed.load(Ordering::SeqCst) => return Ok(()),
                        Err(e) => {
                            return Err(format!(
                                "after {}: cannot read the new entry .trash/{entry}: {e}",
                                step.describe()
                            ));
                        }
                    }
                }
                self.model.apply(&step);
                self.pending = None;
                self.acked += 1;
                self.remember(step.describe());
            }
        }
    }

    fn report(&self) -> String {
        let mut s = format!(
            "worker {} (last {} acknowledged steps):\n",
            self.w,
            self.history.len()
        );
        for line in &self.history {
            s += &format!("    {line}\n");
        }
        match &self.pending {
            Some(step) => s += &format!("    IN FLIGHT: {}\n", step.describe()),
            None => s += "    (nothing in flight)\n",
        }
        s
    }
}

/// What one worker owns, as the mount shows it.
#[derive(Default)]
struct Observed {
    /// Every place each id was found.
    files: BTreeMap<u64, Vec<Loc>>,
    dirs: BTreeSet<String>,
    entries: BTreeMap<String, EntryMeta>,
    /// Files cut short by the crash: (id, path in gallery).
    partial: Vec<(u64, String)>,
}

fn owner_of_name(name: &str) -> Option<usize> {
    let rest = name.strip_prefix('w')?;
    let digit = rest.chars().next()?.to_digit(10)? as usize;
    (digit < WORKERS).then_some(digit)
}

/// Splits the scan by worker; anything nobody owns is a problem.
fn split_scan(
    seed: u64,
    s: &Scan,
    workers: &[Worker],
    problems: &mut Vec<String>,
) -> Vec<Observed> {
    let mut obs: Vec<Observed> = (0..WORKERS).map(|_| Observed::default()).collect();
    for (loc, data) in &s.files {
        if let Some(id) = identify(seed, data) {
            obs[id as usize % WORKERS]
                .files
                .entry(id)
                .or_default()
                .push(loc.clone());
            continue;
        }
        // Only the file being created at the crash may be cut short.
        let partial = workers.iter().find_map(|w| match (&w.pending, loc) {
            (
                Some(Step {
                    sys: Sys::Create(P::G(p), id),
                    ..
                }),
                Loc::Gallery(at),
            ) if p == at && is_partial(seed, *id, data) => Some((w.w, *id, p.clone())),
            _ => None,
        });
        match partial {
            Some((w, id, path)) => {
                obs[w].files.entry(id).or_default().push(loc.clone());
                obs[w].partial.push((id, path));
            }
            None => problems.push(format!(
                "{loc}: {} bytes that are no file's content (header id {:?})",
                data.len(),
                header_id(data)
            )),
        }
    }
    for dir in &s.gallery_dirs {
        match owner_of_name(dir) {
            Some(w) if dir.as_str() == format!("w{w}") => {}
            Some(w) if dir.starts_with(&format!("w{w}/")) => {
                obs[w].dirs.insert(dir.clone());
            }
            _ => problems.push(format!("unexpected directory gallery/{dir}")),
        }
    }
    for w in 0..WORKERS {
        if !s.gallery_dirs.contains(&format!("w{w}")) {
            problems.push(format!("gallery/w{w} is missing"));
        }
    }
    for (name, meta) in &s.entries {
        match owner_of_name(name) {
            Some(w) => {
                obs[w].entries.insert(name.clone(), meta.clone());
            }
            None => problems.push(format!("unexpected trash entry .trash/{name}")),
        }
    }
    for odd in &s.odd {
        problems.push(format!("unexpected non-regular file {odd}"));
    }
    obs
}

/// Compares what worker `w` acknowledged with what the mount shows; the
/// step in flight must be found entirely before or entirely after.
fn check_worker(w: &Worker, o: &Observed, problems: &mut Vec<String>) -> usize {
    let none = Step::new(Sys::Mkdir(P::G(String::new())));
    let pending = w.pending.as_ref().unwrap_or(&none);
    let (mut before_ok, mut after_ok) = (true, true);
    let mut mine = Vec::new();
    let ids: BTreeSet<u64> = w
        .model
        .files
        .keys()
        .chain(o.files.keys())
        .copied()
        .collect();
    for id in &ids {
        let found = o.files.get(id).cloned().unwrap_or_default();
        if found.len() > 1 {
            let places: Vec<String> = found.iter().map(|l| l.to_string()).collect();
            mine.push(format!("file {id} is duplicated: {}", places.join(", ")));
        }
        let found = found.into_iter().next();
        match pending.files.iter().find(|(i, _, _)| i == id) {
            Some((_, before, after)) => {
                before_ok &= found == *before;
                after_ok &= found == *after;
            }
            None => {
                let want = w.model.files.get(id);
                if found.as_ref() != want {
                    let show = |l: Option<&Loc>| {
                        l.map_or("nowhere (lost or purged)".into(), |l| l.to_string())
                    };
                    mine.push(format!(
                        "file {id}: acknowledged at {}, found {}",
                        show(want),
                        show(found.as_ref())
                    ));
                }
            }
        }
    }
    let dirs: BTreeSet<&String> = w.model.dirs.iter().chain(o.dirs.iter()).collect();
    for dir in dirs {
        let found = o.dirs.contains(dir);
        match pending.dirs.iter().find(|(d, _, _)| d == dir) {
            Some((_, before, after)) => {
                before_ok &= found == *before;
                after_ok &= found == *after;
            }
            None if found != w.model.dirs.contains(dir) => mine.push(format!(
                "directory gallery/{dir}: acknowledged {}, found {}",
                if found { "absent" } else { "present" },
                if found { "present" } else { "absent" }
            )),
            None => {}
        }
    }
    let names: BTreeSet<&String> = w.model.entries.keys().chain(o.entries.keys()).collect();
    for name in names {
        let found = o.entries.get(name);
        match pending.entries.iter().find(|(n, _, _)| n == name) {
            Some((_, before, after)) => {
                before_ok &= found == before.as_ref();
                after_ok &= found == after.as_ref();
            }
            None if found != w.model.entries.get(name) => mine.push(format!(
                "trash entry {name}: acknowledged {:?}, found {found:?}",
                w.model.entries.get(name)
            )),
            None => {}
        }
    }
    if !before_ok && !after_ok {
        mine.push(format!(
            "the step in flight is neither undone nor done: {}",
            pending.describe()
        ));
    }
    for p in &mine {
        problems.push(format!("worker {}: {p}", w.w));
    }
    ids.len()
}

/// Takes what the mount shows as the worker's new model, finishing files
/// whose write the crash cut short.
fn adopt(w: &mut Worker, o: Observed, mnt: &Path) -> Result<(), String> {
    for (id, path) in &o.partial {
        fs::write(mnt.join("gallery").join(path), content(w.seed, *id))
            .map_err(|e| format!("cannot finish partial file gallery/{path}: {e}"))?;
    }
    w.model.files = o
        .files
        .into_iter()
        .filter_map(|(id, mut locs)| locs.pop().map(|l| (id, l)))
        .collect();
    w.model.dirs = o.dirs;
    w.model.entries = o.entries;
    w.pending = None;
    Ok(())
}

fn fail(seed: u64, when: &str, problems: &[String], workers: &[Worker], m: &Mount) -> ! {
    let mut msg = format!(
        "crash suite FAILED (seed {seed:#x}, replay with GALLERYFS_SEED={seed:#x}) {when}:\n"
    );
    for p in problems.iter().take(60) {
        msg += &format!("  - {p}\n");
    }
    for w in workers {
        msg += &w.report();
    }
    let log = m.log();
    let tail: Vec<&str> = log.lines().rev().take(30).collect();
    msg += &format!(
        "daemon log (whole: {}), last lines:\n",
        save_log(m, "crash", seed)
    );
    for line in tail.into_iter().rev() {
        msg += &format!("    {line}\n");
    }
    panic!("{msg}");
}

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

// ---- fault points ------------------------------------------------------------

/// `fault::point("…")` names in the product source: every `.rs` file below
/// `src/`, at any depth (`src/store/trash.rs` as well as `src/trash.rs`).
fn points_in_source() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let points = fault_points_below(&root).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !points.is_empty(),
        "no fault::point(\"…\") calls found below {}: has the fault module been renamed?",
        root.display()
    );
    points
}

/// The names of the `fault::point("NAME")` calls in the `.rs` files below
/// `root`, recursively. The call may be qualified (`crate::fault::point`)
/// and wrapped by rustfmt (whitespace before the literal); a call whose
/// argument is not a string literal is an error, since it cannot be
/// matched with a scenario. The module that defines `point` holds no call,
/// wherever it lives, so it needs no exception.
fn fault_points_below(root: &Path) -> Result<BTreeSet<String>, String> {
    const CALL: &str = "fault::point(";
    let mut files = Vec::new();
    walk(root, "", &mut files).map_err(|e| format!("list {}: {e}", root.display()))?;
    let mut points = BTreeSet::new();
    for (rel, md) in files {
        if !md.is_file() || !rel.ends_with(".rs") {
            continue;
        }
        let path = root.join(&rel);
        let text =
            fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
        for piece in text.split(CALL).skip(1) {
            let name = piece
                .trim_start()
                .strip_prefix('"')
                .and_then(|rest| rest.split_once('"'))
                .map(|(name, _)| name)
                .ok_or_else(|| {
                    format!("{rel}: a {CALL}…) whose argument is not a string literal")
                })?;
            points.insert(name.to_string());
        }
    }
    Ok(points)
}

#[test]
fn fault_points_are_found_in_subdirectories_of_src() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    fs::create_dir_all(src.join("store/deep")).unwrap();
    fs::create_dir_all(src.join("fault")).unwrap();
    fs::write(
        src.join("fault/mod.rs"),
        "pub fn point(name: &str) { let _ = name; }\n",
    )
    .unwrap();
    fs::write(src.join("lib.rs"), "fn f() { fault::point(\"top:a\"); }\n").unwrap();
    fs::write(
        src.join("store/trash.rs"),
        "fn g() {\n    crate::fault::point(\"store:b\");\n    fault::point(\n        \"store:c\",\n    );\n}\n",
    )
    .unwrap();
    fs::write(
        src.join("store/deep/x.rs"),
        "fn h() { fault::point(\"deep:d\") }\n",
    )
    .unwrap();
    fs::write(src.join("store/notes.txt"), "fault::point(\"not:rust\")\n").unwrap();
    let found = fault_points_below(src).unwrap();
    let want: BTreeSet<String> = ["top:a", "store:b", "store:c", "deep:d"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, want);

    fs::write(
        src.join("store/bad.rs"),
        "fn i(n: &str) { fault::point(n) }\n",
    )
    .unwrap();
    let err = fault_points_below(src).unwrap_err();
    assert!(err.contains("store/bad.rs"), "{err}");
}

/// Setup run on a normal mount, then the operation run with
/// `GALLERYFS_CRASH_AT` set, then the outcome checked after a clean remount.
struct Scenario {
    point: &'static str,
    what: &'static str,
    /// Mount options while crashing (the expiry scenario shortens retention).
    options: &'static [&'static str],
    setup: fn(&Mount),
    op: fn(&Mount),
    check: fn(&Mount),
}

fn put(m: &Mount, path: &str, data: &str) {
    let p = m.gallery().join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

fn read(path: PathBuf) -> Option<String> {
    match fs::read(&path) {
        Ok(d) => Some(String::from_utf8(d).unwrap()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => panic!("read {}: {e}", path.display()),
    }
}

fn orig(m: &Mount, entry: &str) -> String {
    String::from_utf8(xattr::get(&m.trash().join(entry), "user.trash.original_path").unwrap())
        .unwrap()
}

fn storage_nlink(m: &Mount, path: &str) -> u64 {
    fs::symlink_metadata(m.storage.join("gallery").join(path))
        .unwrap()
        .nlink()
}

/// The operation that reaches the crash point fails once the daemon aborts.
fn attempt(what: &str, r: io::Result<()>) {
    if let Ok(()) = r {
        panic!("{what} succeeded although the daemon was to crash during it");
    }
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            point: "put:after-insert",
            what: "rm album/cat.jpg",
            options: &[],
            setup: |m| put(m, "album/cat.jpg", "cat"),
            op: |m| attempt("rm", fs::remove_file(m.gallery().join("album/cat.jpg"))),
            check: |m| {
                assert_eq!(
                    read(m.gallery().join("album/cat.jpg")).as_deref(),
                    Some("cat")
                );
                assert_eq!(m.trash_names(), Vec::<String>::new(), "no entry");
            },
        },
        Scenario {
            point: "put:after-rename",
            what: "rm album/cat.jpg",
            options: &[],
            setup: |m| put(m, "album/cat.jpg", "cat"),
            op: |m| attempt("rm", fs::remove_file(m.gallery().join("album/cat.jpg"))),
            check: |m| {
                assert_eq!(read(m.gallery().join("album/cat.jpg")), None);
                assert_eq!(m.trash_names(), ["cat.jpg"]);
                assert_eq!(read(m.trash().join("cat.jpg")).as_deref(), Some("cat"));
                assert_eq!(orig(m, "cat.jpg"), "album/cat.jpg");
            },
        },
        Scenario {
            point: "put:after-rename",
            what: "mv album .trash/pics (a directory)",
            options: &[],
            setup: |m| put(m, "album/cat.jpg", "cat"),
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("album"), m.trash().join("pics")),
                )
            },
            check: |m| {
                assert_eq!(read(m.gallery().join("album/cat.jpg")), None);
                assert_eq!(m.trash_names(), ["pics"]);
                assert_eq!(read(m.trash().join("pics/cat.jpg")).as_deref(), Some("cat"));
                assert_eq!(orig(m, "pics"), "album");
            },
        },
        Scenario {
            point: "stash:after-insert",
            what: "mv new old (replacing old)",
            options: &[],
            setup: |m| {
                put(m, "old", "old");
                put(m, "new", "new");
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("new"), m.gallery().join("old")),
                )
            },
            check: |m| {
                assert_eq!(read(m.gallery().join("old")).as_deref(), Some("old"));
                assert_eq!(read(m.gallery().join("new")).as_deref(), Some("new"));
                assert_eq!(m.trash_names(), Vec::<String>::new());
                assert_eq!(storage_nlink(m, "old"), 1);
            },
        },
        Scenario {
            point: "stash:after-link",
            what: "mv new old (replacing old)",
            options: &[],
            setup: |m| {
                put(m, "old", "old");
                put(m, "new", "new");
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("new"), m.gallery().join("old")),
                )
            },
            check: |m| {
                // The rename never happened: old stays, only in the gallery.
                assert_eq!(read(m.gallery().join("old")).as_deref(), Some("old"));
                assert_eq!(read(m.gallery().join("new")).as_deref(), Some("new"));
                assert_eq!(
                    m.trash_names(),
                    Vec::<String>::new(),
                    "not duplicated in the trash"
                );
                assert_eq!(storage_nlink(m, "old"), 1, "the stash link is gone");
            },
        },
        Scenario {
            point: "stash:before-settle",
            what: "mv new old (replacing old)",
            options: &[],
            setup: |m| {
                put(m, "old", "old");
                put(m, "new", "new");
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.gallery().join("new"), m.gallery().join("old")),
                )
            },
            check: |m| {
                // The rename happened: old's data is a trash entry.
                assert_eq!(read(m.gallery().join("old")).as_deref(), Some("new"));
                assert_eq!(read(m.gallery().join("new")), None);
                assert_eq!(m.trash_names(), ["old"]);
                assert_eq!(read(m.trash().join("old")).as_deref(), Some("old"));
                assert_eq!(orig(m, "old"), "old");
                assert_eq!(storage_nlink(m, "old"), 1);
            },
        },
        Scenario {
            point: "take-out:after-rename",
            what: "restore .trash/r.txt to album/r.txt",
            options: &[],
            setup: |m| {
                put(m, "album/r.txt", "first");
                fs::remove_file(m.gallery().join("album/r.txt")).unwrap();
            },
            op: |m| {
                let r = fs::rename(m.trash().join("r.txt"), m.gallery().join("album/r.txt"));
                attempt("restore", r)
            },
            check: |m| {
                assert_eq!(
                    read(m.gallery().join("album/r.txt")).as_deref(),
                    Some("first")
                );
                assert_eq!(m.trash_names(), Vec::<String>::new(), "the entry is gone");
            },
        },
        Scenario {
            point: "take-out:after-rename",
            what: "restore .trash/r.txt over an existing album/r.txt",
            options: &[],
            setup: |m| {
                put(m, "album/r.txt", "first");
                fs::remove_file(m.gallery().join("album/r.txt")).unwrap();
                put(m, "album/r.txt", "second");
            },
            op: |m| {
                let r = fs::rename(m.trash().join("r.txt"), m.gallery().join("album/r.txt"));
                attempt("restore", r)
            },
            check: |m| {
                assert_eq!(
                    read(m.gallery().join("album/r.txt")).as_deref(),
                    Some("first")
                );
                assert_eq!(m.trash_names(), ["r (2).txt"], "only the replaced file");
                assert_eq!(read(m.trash().join("r (2).txt")).as_deref(), Some("second"));
                assert_eq!(orig(m, "r (2).txt"), "album/r.txt");
                assert_eq!(storage_nlink(m, "album/r.txt"), 1);
            },
        },
        Scenario {
            point: "purge:after-unlink",
            what: "rm .trash/x.txt",
            options: &[],
            setup: |m| {
                put(m, "x.txt", "x");
                put(m, "keep.txt", "keep");
                fs::remove_file(m.gallery().join("x.txt")).unwrap();
            },
            op: |m| attempt("purge", fs::remove_file(m.trash().join("x.txt"))),
            check: |m| {
                assert_eq!(m.trash_names(), Vec::<String>::new());
                assert_eq!(read(m.gallery().join("x.txt")), None);
                assert_eq!(read(m.gallery().join("keep.txt")).as_deref(), Some("keep"));
            },
        },
        Scenario {
            point: "purge:after-park",
            what: "expiry of the trashed directory album/",
            options: &["retention=1s", "sweep=1s"],
            setup: |m| {
                put(m, "album/a.jpg", "a");
                put(m, "album/sub/b.jpg", "b");
                fs::rename(m.gallery().join("album"), m.trash().join("album")).unwrap();
            },
            // The sweep reaches the point by itself.
            op: |_| {},
            check: |m| {
                // Remounted with the default 30-day retention: had the entry
                // survived, it would show.
                assert_eq!(m.trash_names(), Vec::<String>::new());
                assert_eq!(read(m.gallery().join("album/a.jpg")), None);
            },
        },
        Scenario {
            point: "rename:after-begin",
            what: "mv .trash/x.txt .trash/y.txt",
            options: &[],
            setup: |m| {
                put(m, "d/x.txt", "x");
                fs::remove_file(m.gallery().join("d/x.txt")).unwrap();
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.trash().join("x.txt"), m.trash().join("y.txt")),
                )
            },
            check: |m| {
                assert_eq!(m.trash_names(), ["x.txt"]);
                assert_eq!(read(m.trash().join("x.txt")).as_deref(), Some("x"));
                assert_eq!(orig(m, "x.txt"), "d/x.txt");
            },
        },
        Scenario {
            point: "rename:after-rename",
            what: "mv .trash/x.txt .trash/y.txt",
            options: &[],
            setup: |m| {
                put(m, "d/x.txt", "x");
                fs::remove_file(m.gallery().join("d/x.txt")).unwrap();
            },
            op: |m| {
                attempt(
                    "mv",
                    fs::rename(m.trash().join("x.txt"), m.trash().join("y.txt")),
                )
            },
            check: |m| {
                // The file moved: the entry settles under its new name.
                assert_eq!(m.trash_names(), ["y.txt"]);
                assert_eq!(read(m.trash().join("y.txt")).as_deref(), Some("x"));
                assert_eq!(orig(m, "y.txt"), "d/x.txt");
            },
        },
    ]
}

/// Runs every fault-point scenario; returns how many distinct points and
/// scenarios were covered.
fn fault_points() -> (usize, usize) {
    let in_source = points_in_source();
    let all = scenarios();
    let covered: BTreeSet<String> = all.iter().map(|s| s.point.to_string()).collect();
    let missing: Vec<&String> = in_source.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "fault points without a crash scenario in tests/torture/crash.rs: {missing:?}"
    );
    let stale: Vec<&String> = covered.difference(&in_source).collect();
    assert!(
        stale.is_empty(),
        "scenarios for fault points that no longer exist: {stale:?}"
    );
    // Each on a mount of its own, all at once.
    let outcomes: Vec<_> = thread::scope(|scope| {
        let running: Vec<_> = all
            .iter()
            .map(|s| scope.spawn(move || run_scenario(s)))
            .collect();
        running.into_iter().map(|h| h.join()).collect()
    });
    for outcome in outcomes {
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
    (covered.len(), all.len())
}

fn run_scenario(s: &Scenario) {
    let mut m = Mount::new();
    (s.setup)(&m);
    m.unmount();
    let marker = format!("fault injection: crashing at {}", s.point);
    let before = m.log().matches(&marker).count();
    m.options = s.options.iter().map(|o| o.to_string()).collect();
    m.env = vec![("GALLERYFS_CRASH_AT".into(), s.point.into())];
    m.mount();
    (s.op)(&m);
    let start = Instant::now();
    while m.log().matches(&marker).count() == before {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} ({}): the daemon never reached the fault point:\n{}",
            s.point,
            s.what,
            m.log()
        );
        thread::sleep(Duration::from_millis(20));
    }
    let _ = m.kill9();
    if let Some(p) = integrity_problem(&m) {
        panic!("{} ({}): after the crash: {p}", s.point, s.what);
    }
    m.env.clear();
    m.options.clear();
    m.mount();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (s.check)(&m)));
    if let Err(e) = outcome {
        let why = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!(
            "fault point {} ({}): wrong outcome after remount: {why}\ndaemon log:\n{}",
            s.point,
            s.what,
            m.log()
        );
    }
    let problems = match scan(&m) {
        Ok(scan) => storage_problems(&m, &scan),
        Err(e) => vec![e],
    };
    assert!(
        problems.is_empty(),
        "fault point {} ({}): {problems:#?}\ndaemon log:\n{}",
        s.point,
        s.what,
        m.log()
    );
    m.unmount();
    if let Some(p) = integrity_problem(&m) {
        panic!("{} ({}): after unmount: {p}", s.point, s.what);
    }
}

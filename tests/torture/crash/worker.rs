//! A worker thread: plans seeded steps over its own files, directories and
//! entries, runs them through the mount and records what was acknowledged.

use super::model::*;
use super::*;

/// One worker thread's state, kept across crashes.
pub(super) struct Worker {
    pub(super) w: usize,
    pub(super) seed: u64,
    pub(super) rng: Rng,
    pub(super) model: Model,
    pub(super) next_id: u64,
    pub(super) next_name: u64,
    pub(super) history: VecDeque<String>,
    /// The step whose syscall had not returned (or was not verified) at the crash.
    pub(super) pending: Option<Step>,
    pub(super) acked: u64,
}

pub(super) enum Op {
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
    pub(super) fn new(w: usize, seed: u64) -> Worker {
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

    pub(super) fn root(&self) -> String {
        format!("w{}", self.w)
    }

    pub(super) fn fresh_id(&mut self) -> u64 {
        let id = self.next_id * WORKERS as u64 + self.w as u64;
        self.next_id += 1;
        id
    }

    pub(super) fn fresh(&mut self, what: &str) -> String {
        self.next_name += 1;
        format!("w{}{what}{}", self.w, self.next_name)
    }

    pub(super) fn gallery_dirs(&self, sim: &Model) -> Vec<String> {
        let mut dirs = vec![self.root()];
        dirs.extend(sim.dirs.iter().cloned());
        dirs
    }

    /// A free file path in `dir`: often one of a few shared names, so that
    /// trash names collide and get `(2)`, `(3)` suffixes.
    pub(super) fn free_file_path(&mut self, sim: &Model, dir: &str) -> String {
        let k = self.rng.below(5);
        let path = format!("{dir}/w{}n{k}.dat", self.w);
        if !sim.taken(&path) {
            return path;
        }
        let name = self.fresh("r");
        format!("{dir}/{name}.dat")
    }

    pub(super) fn rm_step(sim: &Model, id: u64, path: &str) -> Step {
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
    pub(super) fn plan(&mut self) -> Vec<Step> {
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

    pub(super) fn abs(&self, mnt: &Path, p: &P) -> PathBuf {
        match p {
            P::G(p) => mnt.join("gallery").join(p),
            P::T(p) => mnt.join(".trash").join(p),
        }
    }

    pub(super) fn syscall(&self, mnt: &Path, sys: &Sys) -> io::Result<()> {
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
            // From a thread of its own: what this worker removed below stays
            // loose entries, which this suite's model expects (galleryfs folds
            // one thread's removal of a folder; crash/fold.rs tests that).
            Sys::Rmdir(p) => {
                let path = self.abs(mnt, p);
                thread::scope(|s| s.spawn(|| fs::remove_dir(&path)).join())
                    .expect("the rmdir thread panicked")
            }
            Sys::Rename(a, b) => fs::rename(self.abs(mnt, a), self.abs(mnt, b)),
        }
    }

    pub(super) fn remember(&mut self, line: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(line);
    }

    /// Runs steps until the daemon dies under it (Ok) or something goes
    /// wrong while it lives (Err).
    pub(super) fn run(&mut self, mnt: &Path, killed: &AtomicBool) -> Result<(), String> {
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

    pub(super) fn report(&self) -> String {
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

//! What the model says the mount must show, and the comparison with what it shows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use galleryfs_testkit::xattr::TRASH_XATTRS;

use super::real::{EntryObs, Obs, Snapshot};
use super::spec::{Ino, Kind, Model};

/// The snapshot the model predicts (inode numbers are the model's ids; the
/// entries' times are checked against the model's clock windows separately).
pub fn expected(model: &Model) -> Snapshot {
    let mut snap = Snapshot::default();
    if !model.trash.is_empty() {
        snap.root.push(".trash".into());
    }
    snap.root.push("gallery".into());
    let refs = model.refcounts();
    add(model, &refs, "gallery", model.gallery, &mut snap.objs);
    for (name, e) in &model.trash {
        add(
            model,
            &refs,
            &format!(".trash/{name}"),
            e.ino,
            &mut snap.objs,
        );
        snap.entries.insert(
            name.clone(),
            EntryObs {
                listed: TRASH_XATTRS.iter().map(|s| s.to_string()).collect(),
                original: Some(e.original.clone().into_bytes()),
                reason: Some(e.reason.as_str().into()),
                ..EntryObs::default()
            },
        );
    }
    snap
}

fn add(
    model: &Model,
    refs: &HashMap<Ino, u32>,
    path: &str,
    ino: Ino,
    objs: &mut BTreeMap<String, (Obs, u64)>,
) {
    let inode = model.inode(ino);
    let (kind, size, data, target) = match &inode.kind {
        Kind::File(d) => ('f', Some(d.len() as u64), Some(d.clone()), None),
        Kind::Dir(_) => ('d', None, None, None),
        Kind::Symlink(t) => ('l', Some(t.len() as u64), None, Some(t.clone())),
    };
    let obs = Obs {
        kind,
        mode: inode.mode,
        nlink: model.nlink(ino, refs) as u64,
        size,
        data,
        target,
        xattrs: inode
            .xattrs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    objs.insert(path.to_string(), (obs, ino as u64));
    if let Kind::Dir(c) = &inode.kind {
        for (name, &child) in c {
            add(model, refs, &format!("{path}/{name}"), child, objs);
        }
    }
}

/// Model inode ↔ real st_ino, kept for a whole sequence: identity must hold
/// across renames, trash, restore and remounts.
///
/// Except after an overwrite kept by inode (`fs::keep`): its entry shows a
/// synthetic number (≥ 2^63) and its gallery file the number of the inode
/// that became the entry, until the next remount, where both change (the
/// runner forgets them, see `Model::renumbered`). Unless strict
/// (`GALLERYFS_MODEL_STRICT=ino`), this also accepts what galleryfs does
/// beyond that, which looks like a bug (see the suite's doc):
/// - a synthetic number changes whenever the kernel forgets the node (say,
///   when its file is unlinked into the trash), and at a remount;
/// - the gallery file shows its own backing number once the kernel forgets
///   its node (when it is unlinked or replaced): once per overwrite kept by
///   inode since the last remount;
/// - a new file whose backing inode reuses the number of an inode moved
///   away gets a synthetic number too.
#[derive(Clone)]
pub struct InoMap {
    m2r: HashMap<u64, u64>,
    r2m: HashMap<u64, u64>,
    /// How many times the number of a model inode of `Model::renumbered`
    /// changed from a real one since the last remount.
    changed: HashMap<u64, u32>,
    /// How many numbers changed that only the lenient rules allow.
    pub renumbered: usize,
    pub strict: bool,
}

/// galleryfs' first synthetic inode number.
pub const SYNTHETIC: u64 = 1 << 63;

impl Default for InoMap {
    fn default() -> InoMap {
        InoMap {
            m2r: HashMap::new(),
            r2m: HashMap::new(),
            changed: HashMap::new(),
            renumbered: 0,
            strict: super::strict("ino"),
        }
    }
}

impl InoMap {
    /// Checks the real number of every object (path, model inode, real
    /// number); `allowed` says how many changes from a real number a model
    /// inode may make (see the type's doc). Two objects may trade numbers in
    /// one step, so the changes are made before the numbers are checked.
    fn check_all(
        &mut self,
        objs: &[(&str, u64, u64)],
        allowed: impl Fn(u64) -> u32,
        out: &mut String,
    ) {
        if !self.strict {
            for &(_, model, real) in objs {
                let Some(&old) = self.m2r.get(&model) else {
                    continue;
                };
                let used = self.changed.get(&model).copied().unwrap_or(0);
                if old == real || (old < SYNTHETIC && used >= allowed(model)) {
                    continue;
                }
                if old < SYNTHETIC {
                    self.changed.insert(model, used + 1);
                }
                self.m2r.remove(&model);
                self.r2m.remove(&old);
                self.renumbered += 1;
            }
        }
        for &(path, model, real) in objs {
            self.check(path, model, real, out);
        }
    }

    fn check(&mut self, path: &str, model: u64, real: u64, out: &mut String) {
        match (self.m2r.get(&model), self.r2m.get(&real)) {
            (Some(&r), _) if r != real => {
                let _ = writeln!(
                    out,
                    "  {path}: inode number {real}, but this object had inode {r} before"
                );
            }
            (_, Some(&m)) if m != model => {
                let _ = writeln!(
                    out,
                    "  {path}: inode number {real} is shared with another object (model inode {m} vs {model})"
                );
            }
            _ => {
                self.m2r.insert(model, real);
                self.r2m.insert(real, model);
            }
        }
    }

    /// The model inode is gone (or renumbered by a remount): its real
    /// number may be reused.
    pub fn forget(&mut self, model: u64) {
        self.changed.remove(&model);
        if let Some(r) = self.m2r.remove(&model) {
            self.r2m.remove(&r);
        }
    }

    /// A remount: synthetic numbers may change (unless strict).
    pub fn remounted(&mut self) {
        if self.strict {
            return;
        }
        let synthetic: Vec<u64> = self
            .m2r
            .iter()
            .filter(|&(_, &r)| r >= SYNTHETIC)
            .map(|(&m, _)| m)
            .collect();
        for m in synthetic {
            self.forget(m);
        }
    }
}

fn show_data(d: &Option<Vec<u8>>) -> String {
    match d {
        None => "-".into(),
        Some(d) => format!("{} bytes", d.len()),
    }
}

fn describe(a: &Obs, b: &Obs) -> String {
    let mut s = String::new();
    if a.kind != b.kind {
        let _ = write!(s, " type {} vs {}", a.kind, b.kind);
    }
    if a.mode != b.mode {
        let _ = write!(s, " mode {:o} vs {:o}", a.mode, b.mode);
    }
    if a.nlink != b.nlink {
        let _ = write!(s, " nlink {} vs {}", a.nlink, b.nlink);
    }
    if a.size != b.size {
        let _ = write!(s, " size {:?} vs {:?}", a.size, b.size);
    }
    if a.data != b.data {
        let first = match (&a.data, &b.data) {
            (Some(x), Some(y)) => x
                .iter()
                .zip(y.iter())
                .position(|(p, q)| p != q)
                .unwrap_or(x.len().min(y.len())),
            _ => 0,
        };
        let _ = write!(
            s,
            " content {} vs {} (first difference at byte {first})",
            show_data(&a.data),
            show_data(&b.data)
        );
    }
    if a.target != b.target {
        let _ = write!(s, " symlink target {:?} vs {:?}", a.target, b.target);
    }
    if a.xattrs != b.xattrs {
        let show = |x: &BTreeMap<String, Vec<u8>>| {
            x.iter()
                .map(|(k, v)| format!("{k}={:?}", String::from_utf8_lossy(v)))
                .collect::<Vec<_>>()
                .join(",")
        };
        let _ = write!(
            s,
            " xattrs {{{}}} vs {{{}}}",
            show(&a.xattrs),
            show(&b.xattrs)
        );
    }
    s
}

fn rfc3339_secs(text: &Option<String>) -> Option<i64> {
    let text = text.as_ref()?;
    let t = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    // Exactly the format issue 2 asks for: UTC, whole seconds, `Z`.
    (t.to_rfc3339_opts(SecondsFormat::Secs, true) == *text).then_some(t.timestamp())
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Compares the model with the mount; returns a description of every difference.
pub fn compare(
    model: &Model,
    real: &Snapshot,
    retention: i64,
    inos: &mut InoMap,
) -> Result<(), String> {
    let want = expected(model);
    let mut out = String::new();
    if want.root != real.root {
        let _ = writeln!(
            out,
            "  mount root lists {:?}, model says {:?}",
            real.root, want.root
        );
    }
    // Inodes that are trash entries: another name of one (inside a trashed
    // directory) may answer with the entry's attributes, since galleryfs
    // answers xattr requests per inode and cannot tell which name was used.
    let tops: BTreeSet<u64> = model.trash.values().map(|e| e.ino as u64).collect();
    let paths: BTreeSet<&String> = want.objs.keys().chain(real.objs.keys()).collect();
    let mut numbers: Vec<(&str, u64, u64)> = Vec::new();
    for path in paths {
        match (want.objs.get(path), real.objs.get(path)) {
            (Some((w, _)), None) => {
                let _ = writeln!(out, "  {path}: missing in the mount (model: {})", w.kind);
            }
            (None, Some((r, _))) => {
                let _ = writeln!(
                    out,
                    "  {path}: in the mount ({}, {}) but not in the model",
                    r.kind,
                    show_data(&r.data)
                );
            }
            (Some((w, wi)), Some((r, ri))) => {
                let mut r = r.clone();
                if path.starts_with(".trash/") && path[7..].contains('/') && tops.contains(wi) {
                    r.xattrs.retain(|k, _| !k.starts_with("user.trash."));
                }
                let r = &r;
                if w != r {
                    let _ = writeln!(out, "  {path}: model vs mount:{}", describe(w, r));
                }
                numbers.push((path, *wi, *ri));
            }
            (None, None) => unreachable!(),
        }
    }
    let allowed = |m: u64| model.renumbered.get(&(m as usize)).copied().unwrap_or(0);
    inos.check_all(&numbers, allowed, &mut out);
    let now = now_secs();
    let refs = model.refcounts();
    for (name, e) in &model.trash {
        let Some(r) = real.entries.get(name) else {
            continue; // reported above as a missing object
        };
        if refs.get(&e.ino).copied().unwrap_or(0) > 1 {
            // A hard-linked file with another name: galleryfs answers xattr
            // requests per inode, and which name the kernel used is unknown;
            // a gallery name wins (and its gallery names are checked to show
            // no trash attributes), another entry's name may answer.
            continue;
        }
        let symlink = matches!(model.inode(e.ino).kind, Kind::Symlink(_));
        // The VFS refuses user.* reads on symlinks (ENODATA), so galleryfs
        // does not list attributes there that nobody could get.
        let all: BTreeSet<String> = if symlink {
            BTreeSet::new()
        } else {
            TRASH_XATTRS.iter().map(|s| s.to_string()).collect()
        };
        if r.listed != all {
            let _ = writeln!(
                out,
                "  .trash/{name}: listxattr shows {:?} of the trash attributes",
                r.listed
            );
        }
        if symlink {
            continue;
        }
        if r.original.as_deref() != Some(e.original.as_bytes()) {
            let _ = writeln!(
                out,
                "  .trash/{name}: user.trash.original_path {:?}, model says {:?}",
                r.original.as_ref().map(|v| String::from_utf8_lossy(v)),
                e.original
            );
        }
        if r.litter.as_deref() != e.litter.then_some("yes") {
            let _ = writeln!(
                out,
                "  .trash/{name}: user.trash.litter {:?}, model says {}",
                r.litter,
                if e.litter { "yes" } else { "none" }
            );
        }
        // Litter stays an hour (the default litter_retention) at most.
        let retention = if e.litter {
            retention.min(3600)
        } else {
            retention
        };
        if r.reason.as_deref() != Some(e.reason.as_str()) {
            let _ = writeln!(
                out,
                "  .trash/{name}: user.trash.reason {:?}, model says {:?}",
                r.reason,
                e.reason.as_str()
            );
        }
        let deleted = rfc3339_secs(&r.deleted_at);
        match deleted {
            Some(d) if (e.deleted_lo..=e.deleted_hi).contains(&d) => {}
            _ => {
                let _ = writeln!(
                    out,
                    "  .trash/{name}: user.trash.deleted_at {:?}, expected a time in {}..={}",
                    r.deleted_at, e.deleted_lo, e.deleted_hi
                );
            }
        }
        let expires = rfc3339_secs(&r.expires_at);
        if let Some(d) = deleted
            && expires != Some(d + retention)
        {
            let _ = writeln!(
                out,
                "  .trash/{name}: user.trash.expires_at {:?} is not deleted_at + {retention}s",
                r.expires_at
            );
        }
        if let Some(x) = expires {
            let days = ((x - now + 86_399) / 86_400).max(1);
            let alt = ((x - now - 1 + 86_399) / 86_400).max(1);
            let ok = [format!("{days}d"), format!("{alt}d")];
            if !r.days_left.as_ref().is_some_and(|d| ok.contains(d)) {
                let _ = writeln!(
                    out,
                    "  .trash/{name}: user.trash.days_left {:?}, expected {days}d",
                    r.days_left
                );
            }
        }
    }
    if let Some(storage) = &real.storage_trash {
        let want: BTreeSet<String> = model.trash.keys().cloned().collect();
        if *storage != want {
            let _ = writeln!(
                out,
                "  STORAGE/trash holds {storage:?}, the model's entries are {want:?}"
            );
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

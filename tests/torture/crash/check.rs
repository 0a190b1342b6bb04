//! After a crash: split what the mount shows by worker, compare it with each
//! worker's model (the step in flight entirely before or after), adopt it.

use super::model::*;
use super::worker::*;
use super::*;

/// What one worker owns, as the mount shows it.
#[derive(Default)]
pub(super) struct Observed {
    /// Every place each id was found.
    pub(super) files: BTreeMap<u64, Vec<Loc>>,
    pub(super) dirs: BTreeSet<String>,
    pub(super) entries: BTreeMap<String, EntryMeta>,
    /// Files cut short by the crash: (id, path in gallery).
    pub(super) partial: Vec<(u64, String)>,
}

pub(super) fn owner_of_name(name: &str) -> Option<usize> {
    let rest = name.strip_prefix('w')?;
    let digit = rest.chars().next()?.to_digit(10)? as usize;
    (digit < WORKERS).then_some(digit)
}

/// Splits the scan by worker; anything nobody owns is a problem.
pub(super) fn split_scan(
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
pub(super) fn check_worker(w: &Worker, o: &Observed, problems: &mut Vec<String>) -> usize {
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
pub(super) fn adopt(w: &mut Worker, o: Observed, mnt: &Path) -> Result<(), String> {
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

pub(super) fn fail(seed: u64, when: &str, problems: &[String], workers: &[Worker], m: &Mount) -> ! {
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

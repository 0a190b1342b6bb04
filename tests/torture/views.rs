//! Suite: the two views of the trash (issue 16). Every entry has two names,
//! `.trash/NAME` and `.Trash-UID/files/NAME`; seeded workers use both at
//! once while the expiry sweep runs (2-second retention): gallery workers
//! make and delete files and folders, `.trash` workers stat, read, try to
//! write, restore and purge entries, `files/` workers do what gvfsd-trash
//! and trash-cli do (stat, try to write, restore by rename, and Empty
//! Trash's rename into `expunged/`). Every call must succeed or fail with
//! an errno its race explains: never ESTALE or EIO, and no entry may be
//! opened for writing. Then nothing is lost or duplicated: each file ever
//! made (a name and a content of its own, so an entry's name says which
//! file it is) is in the gallery or the trash exactly once, unless a
//! worker purged it or the daemon's log says it expired.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use galleryfs_testkit::Mount;
use galleryfs_testkit::consistency::{Loc, content, identify, integrity_problem, save_log, scan};
use galleryfs_testkit::errno::{errno, errno_name};
use galleryfs_testkit::harness::{self, Rng};
use galleryfs_testkit::xattr;

/// Workers of each kind: gallery, `.trash`, `files/`.
const PER_KIND: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Gallery,
    Trash,
    Files,
}

/// What the workers share: ids handed out, and what they purged.
#[derive(Default)]
struct Book {
    next_id: u64,
    made: BTreeSet<u64>,
    purged: BTreeSet<u64>,
}

struct Worker {
    kind: Kind,
    rng: Rng,
    seed: u64,
    gallery: PathBuf,
    trash: PathBuf,
    top: PathBuf,
    book: Arc<Mutex<Book>>,
    calls: u64,
    errors: BTreeMap<String, u64>,
    history: Vec<String>,
    /// Every call, for the story of a file the check finds lost.
    all: Vec<String>,
}

/// The id a name says: `f7.dat` and `d7` say 7.
fn id_of(name: &str) -> Option<u64> {
    let digits: String = name
        .chars()
        .skip(1)
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn names(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

impl Worker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn files(&self) -> PathBuf {
        self.top.join("files")
    }

    /// A name in `dir`, or none if it is empty.
    /// Only entries named after a file (`f7.dat`, `d7`): a loose `x` of a
    /// folder another worker moved mid-removal is left to expire.
    fn pick_in(&mut self, dir: &Path) -> Option<String> {
        let listed: Vec<String> = names(dir)
            .into_iter()
            .filter(|n| id_of(n).is_some() && (n.starts_with('f') || n.starts_with('d')))
            .collect();
        (!listed.is_empty()).then(|| self.rng.pick(&listed).clone())
    }

    fn purged(&self, name: &str) {
        if let Some(id) = id_of(name) {
            self.lock().purged.insert(id);
        }
    }

    /// One call: Err describes an unexplained outcome.
    fn step(&mut self) -> Result<(), String> {
        let (what, allowed, result): (String, &[i32], io::Result<()>) = match self.kind {
            Kind::Gallery => self.gallery_step(),
            Kind::Trash => match self.pick_in(&self.trash.clone()) {
                Some(name) => self.view_step(self.trash.clone(), ".trash", name)?,
                None => return Ok(()),
            },
            Kind::Files => match self.pick_in(&self.files()) {
                Some(name) => self.view_step(self.files(), "files", name)?,
                None => return Ok(()),
            },
        };
        self.calls += 1;
        let outcome = match &result {
            Ok(()) => "ok".to_string(),
            Err(e) => errno_name(errno(e)),
        };
        if self.history.len() == 20 {
            self.history.remove(0);
        }
        self.history.push(format!("{what}: {outcome}"));
        self.all.push(format!("{what}: {outcome}"));
        match result {
            Ok(()) => Ok(()),
            Err(e) if allowed.contains(&errno(&e)) => {
                *self.errors.entry(outcome).or_default() += 1;
                Ok(())
            }
            Err(e) => Err(format!("{what} failed: {e}")),
        }
    }

    fn gallery_step(&mut self) -> (String, &'static [i32], io::Result<()>) {
        use libc::*;
        let listed: Vec<String> = names(&self.gallery)
            .into_iter()
            .filter(|n| !n.ends_with(".tmp"))
            .collect();
        if listed.len() < 6 || self.rng.chance(30) {
            let id = {
                let mut book = self.lock();
                book.next_id += 1;
                let id = book.next_id;
                book.made.insert(id);
                id
            };
            let data = content(self.seed, id);
            // Made whole under a name no worker picks, then renamed into
            // place: a removal never catches a file half written.
            let tmp = self.gallery.join(format!("n{id}.tmp"));
            let (what, r) = if self.rng.chance(30) {
                let r = fs::create_dir(&tmp)
                    .and_then(|()| fs::write(tmp.join("x"), &data))
                    .and_then(|()| fs::rename(&tmp, self.gallery.join(format!("d{id}"))));
                (format!("mkdir d{id} with x"), r)
            } else {
                let r = fs::write(&tmp, &data)
                    .and_then(|()| fs::rename(&tmp, self.gallery.join(format!("f{id}.dat"))));
                (format!("create f{id}.dat"), r)
            };
            if r.is_err() {
                // Never made: nothing to account for.
                self.lock().made.remove(&id);
            }
            // (The folder moved to the trash before its file was made.)
            return (what, &[ENOENT, EROFS], r);
        }
        let name = self.rng.pick(&listed).clone();
        let path = self.gallery.join(&name);
        if name.starts_with('d') {
            match self.rng.below(3) {
                0 => (
                    format!("mv gallery/{name} .trash/{name}"),
                    &[ENOENT, EEXIST],
                    fs::rename(&path, self.trash.join(&name)),
                ),
                1 => (
                    format!("rm -r gallery/{name}"),
                    &[ENOENT],
                    fs::remove_dir_all(&path),
                ),
                _ => (
                    format!("read gallery/{name}/x"),
                    &[ENOENT],
                    fs::read(path.join("x")).map(drop),
                ),
            }
        } else if self.rng.chance(70) {
            (
                format!("rm gallery/{name}"),
                &[ENOENT],
                fs::remove_file(&path),
            )
        } else {
            (
                format!("read gallery/{name}"),
                &[ENOENT],
                fs::read(&path).map(drop),
            )
        }
    }

    /// One call on entry `name` of `dir` (`.trash` or `files/`, `label`).
    fn view_step(
        &mut self,
        dir: PathBuf,
        label: &str,
        name: String,
    ) -> Result<(String, &'static [i32], io::Result<()>), String> {
        use libc::*;
        let path = dir.join(&name);
        let is_dir = name.starts_with('d');
        Ok(match self.rng.below(6) {
            0 => (
                format!("stat {label}/{name}"),
                &[ENOENT],
                fs::symlink_metadata(&path).map(drop),
            ),
            1 => {
                let target = if is_dir { path.join("x") } else { path.clone() };
                let r = fs::OpenOptions::new().append(true).open(&target);
                // A restore racing with the open may have taken the file
                // out of the trash first: then it may be written. Still an
                // entry (it carries the trash's attributes): a violation.
                if let Ok(f) = &r
                    && xattr::fget(f, "user.trash.original_path").is_ok()
                {
                    return Err(format!("{} was opened for writing", target.display()));
                }
                (
                    format!("open {label}/{name} for writing"),
                    &[EROFS, ENOENT, EISDIR],
                    r.map(drop),
                )
            }
            2 => {
                let target = if is_dir { path.join("x") } else { path.clone() };
                let file = fs::File::open(&target);
                let seen = file.as_ref().ok().and_then(|f| f.metadata().ok());
                let r = file.and_then(|mut f| {
                    let mut data = Vec::new();
                    io::Read::read_to_end(&mut f, &mut data).map(|_| data)
                });
                if let Ok(data) = &r
                    && identify(self.seed, data).is_none()
                {
                    let head = String::from_utf8_lossy(&data[..data.len().min(30)]).into_owned();
                    // What the kernel said it opened, and what is at the
                    // path now, for the story of the wrong inode.
                    let now = fs::symlink_metadata(&target);
                    return Err(format!(
                        "{label}/{name}: no file's content ({} bytes: {head:?}); opened st_ino {:?} \
                         size {:?}; at the path now: {:?}",
                        data.len(),
                        seen.as_ref().map(|m| m.ino()),
                        seen.as_ref().map(|m| m.len()),
                        now.map(|m| (m.ino(), m.len())),
                    ));
                }
                let r = r.map(drop);
                (format!("read {label}/{name}"), &[ENOENT], r)
            }
            3 | 4 => (
                format!("mv {label}/{name} gallery/{name}"),
                &[ENOENT, EEXIST, ENOTEMPTY, EISDIR, ENOTDIR],
                fs::rename(&path, self.gallery.join(&name)),
            ),
            _ if label == "files" => {
                // gvfsd-trash's Delete and Empty Trash.
                let expunged = self.top.join("expunged");
                let made = match fs::create_dir(&expunged) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
                    _ => Ok(()),
                };
                let to = expunged.join(format!("{:08x}", self.rng.next_u64() as u32));
                let r = made.and_then(|()| fs::rename(&path, &to));
                if r.is_ok() {
                    self.purged(&name);
                }
                (format!("mv files/{name} expunged/"), &[ENOENT, EEXIST], r)
            }
            _ => {
                let r = if is_dir {
                    // The file first, as rm -r does: once it is gone it is purged.
                    let inner = fs::remove_file(path.join("x"));
                    if inner.is_ok() {
                        self.purged(&name);
                    }
                    inner.and_then(|()| fs::remove_dir(&path))
                } else {
                    let r = fs::remove_file(&path);
                    if r.is_ok() {
                        self.purged(&name);
                    }
                    r
                };
                (
                    format!("rm -r .trash/{name}"),
                    &[ENOENT, EISDIR, ENOTDIR, ENOTEMPTY],
                    r,
                )
            }
        })
    }
}

/// Where under `dir` (STORAGE) file `id`'s content is, for the story of a
/// file the mount no longer shows.
fn in_storage(dir: &Path, seed: u64, id: u64) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(listing) = fs::read_dir(dir) else {
        return found;
    };
    for e in listing.flatten() {
        let path = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => found.extend(in_storage(&path, seed, id)),
            Ok(t)
                if t.is_file() && fs::read(&path).is_ok_and(|d| identify(seed, &d) == Some(id)) =>
            {
                found.push(path.display().to_string());
            }
            _ => {}
        }
    }
    found
}

/// Files the daemon's log says expired, by the original path's first
/// component (`expired: "x" (from gallery/d7/x)`: a loose file of d7).
fn expired_ids(log: &str) -> BTreeSet<u64> {
    log.lines()
        .filter(|l| l.contains("expired: \""))
        .filter_map(|l| l.rsplit_once("(from gallery/")?.1.split('/').next())
        .filter_map(id_of)
        .collect()
}

#[test]
fn two_views_race_without_estale() {
    let seed = harness::seed("views");
    let secs = harness::size(4, 60) as u64;
    let mut m = Mount::with_options(&["retention=2s", "sweep=1s"]);
    let uid = fs::metadata("/proc/self").expect("stat /proc/self").uid();
    let top = m.mountpoint.join(format!(".Trash-{uid}"));
    let book = Arc::new(Mutex::new(Book::default()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let kinds = [Kind::Gallery, Kind::Trash, Kind::Files];
    let handles: Vec<_> = (0..kinds.len() * PER_KIND)
        .map(|t| {
            let mut w = Worker {
                kind: kinds[t % kinds.len()],
                rng: Rng::new(seed ^ (t as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                seed,
                gallery: m.gallery(),
                trash: m.trash(),
                top: top.clone(),
                book: book.clone(),
                calls: 0,
                errors: BTreeMap::new(),
                history: Vec::new(),
                all: Vec::new(),
            };
            thread::spawn(move || {
                let mut r = Ok(());
                while r.is_ok() && Instant::now() < deadline {
                    r = w.step();
                }
                (t, w, r)
            })
        })
        .collect();
    let mut problems = Vec::new();
    let mut histories = String::new();
    let mut calls = 0;
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut story: Vec<(usize, String)> = Vec::new();
    for h in handles {
        let (t, w, r) = h.join().expect("worker panicked");
        if let Err(e) = r {
            problems.push(format!("worker {t} ({:?}): {e}", w.kind));
        }
        calls += w.calls;
        for (k, v) in w.errors {
            *errors.entry(k).or_default() += v;
        }
        story.extend(w.all.iter().map(|l| (t, l.clone())));
        histories += &format!("worker {t} ({:?}), last calls:\n", w.kind);
        for line in &w.history {
            histories += &format!("    {line}\n");
        }
    }
    let fail = |problems: &[String], m: &Mount| -> ! {
        panic!(
            "views suite FAILED (seed {seed:#x}, replay with GALLERYFS_SEED={seed:#x}):\n  - {}\n{histories}daemon log: {}",
            problems.join("\n  - "),
            save_log(m, "views", seed),
        );
    };
    if !problems.is_empty() {
        fail(&problems, &m);
    }
    m.unmount();
    if m.log().contains("panicked") {
        fail(&["the daemon panicked".to_string()], &m);
    }
    let expired = expired_ids(&m.log());
    m.options.clear();
    m.mount();
    let s = scan(&m).unwrap_or_else(|e| fail(&[e], &m));
    let mut found: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (loc, data) in &s.files {
        let place = match loc {
            Loc::Gallery(p) => format!("gallery/{p}"),
            Loc::Trash { entry, sub, .. } => format!(".trash/{entry}/{sub}"),
        };
        match identify(seed, data) {
            Some(id) => found.entry(id).or_default().push(place),
            None => problems.push(format!("{place}: no file's content")),
        }
    }
    let book = book.lock().unwrap_or_else(|e| e.into_inner());
    for &id in &book.made {
        let places = found.remove(&id).unwrap_or_default();
        let gone = book.purged.contains(&id) || expired.contains(&id);
        if places.len() > 1 || (places.is_empty() && !gone) {
            let names = [format!("f{id}.dat"), format!("d{id}"), format!("n{id}.tmp")];
            let calls: Vec<String> = story
                .iter()
                .filter(|(_, l)| {
                    l.split([' ', '/', ':'])
                        .any(|w| names.contains(&w.to_string()))
                })
                .map(|(t, l)| format!("worker {t}: {l}"))
                .collect();
            problems.push(format!(
                "file {id}: found at {places:?} (in STORAGE: {:?}), purged by a worker: {}, expired: {}; its calls:\n      {}",
                in_storage(&m.storage, seed, id),
                book.purged.contains(&id),
                expired.contains(&id),
                calls.join("\n      ")
            ));
        }
    }
    for (id, places) in found {
        problems.push(format!("file {id}, never made, found at {places:?}"));
    }
    m.unmount();
    if let Some(p) = integrity_problem(&m) {
        problems.push(p);
    }
    if !problems.is_empty() {
        fail(&problems, &m);
    }
    let errs: Vec<String> = errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
    harness::summary(
        "views",
        seed,
        &format!(
            "{} workers for {secs} s, {calls} calls, {} files made, {} purged, {} expired, explained errors: {}, 0 failures",
            kinds.len() * PER_KIND,
            book.made.len(),
            book.purged.len(),
            expired.len(),
            if errs.is_empty() {
                "none".into()
            } else {
                errs.join(", ")
            }
        ),
    );
}

//! The model: what one worker has been told by the mount (every syscall
//! that returned success), step by step, and where each of its files must
//! be found.

use super::*;

pub(super) fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(super) fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// A path through the mount.
#[derive(Clone, Debug)]
pub(super) enum P {
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
pub(super) enum Sys {
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
pub(super) struct Step {
    pub(super) sys: Sys,
    pub(super) files: Vec<(u64, Option<Loc>, Option<Loc>)>,
    pub(super) dirs: Vec<(String, bool, bool)>,
    pub(super) entries: Vec<(String, Option<EntryMeta>, Option<EntryMeta>)>,
    /// A new trash entry that must hold file `id` once the syscall returns.
    pub(super) probe: Option<(String, u64)>,
    /// The syscall must fail with this errno and change nothing.
    pub(super) expect_err: Option<i32>,
}

impl Step {
    pub(super) fn new(sys: Sys) -> Step {
        Step {
            sys,
            files: Vec::new(),
            dirs: Vec::new(),
            entries: Vec::new(),
            probe: None,
            expect_err: None,
        }
    }

    pub(super) fn describe(&self) -> String {
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
pub(super) struct Model {
    /// Live (not purged) files.
    pub(super) files: BTreeMap<u64, Loc>,
    /// Gallery directories below the worker's root `wN`.
    pub(super) dirs: BTreeSet<String>,
    pub(super) entries: BTreeMap<String, EntryMeta>,
}

impl Model {
    pub(super) fn apply(&mut self, step: &Step) {
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

    pub(super) fn gallery_files(&self) -> Vec<(u64, String)> {
        self.files
            .iter()
            .filter_map(|(id, loc)| match loc {
                Loc::Gallery(p) => Some((*id, p.clone())),
                _ => None,
            })
            .collect()
    }

    pub(super) fn file_at(&self, path: &str) -> Option<u64> {
        self.files
            .iter()
            .find(|(_, loc)| matches!(loc, Loc::Gallery(p) if p == path))
            .map(|(id, _)| *id)
    }

    pub(super) fn taken(&self, path: &str) -> bool {
        self.dirs.contains(path) || self.file_at(path).is_some()
    }

    pub(super) fn files_in_dir(&self, dir: &str) -> Vec<(u64, String)> {
        self.gallery_files()
            .into_iter()
            .filter(|(_, p)| parent_of(p) == dir)
            .collect()
    }

    pub(super) fn entry_files(&self, entry: &str) -> Vec<(u64, String, String)> {
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
    pub(super) fn predict(&self, base: &str) -> String {
        (1..)
            .map(|n| candidate(base, n))
            .find(|c| !self.entries.contains_key(c))
            .expect("a free name")
    }
}

pub(super) fn trash_loc(entry: &str, sub: &str, orig: &str) -> Loc {
    Loc::Trash {
        entry: entry.to_string(),
        sub: sub.to_string(),
        orig: orig.to_string(),
    }
}

pub(super) fn file_meta(orig: &str) -> EntryMeta {
    EntryMeta {
        orig: orig.to_string(),
        is_dir: false,
    }
}

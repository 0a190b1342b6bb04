//! The reference model of a mount: the gallery tree and the trash entries,
//! with the semantics table of issue 2 and the kernel's own checks (the VFS
//! decides some errnos before galleryfs is asked), in the order Linux makes
//! them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use super::ops::{Op, data_bytes};

mod apply;
mod keep;

pub use keep::{Alloc, Policy};

pub type Ino = usize;

#[derive(Clone, Debug)]
pub enum Kind {
    File(Vec<u8>),
    Dir(BTreeMap<String, Ino>),
    Symlink(String),
}

#[derive(Clone, Debug)]
pub struct Inode {
    pub kind: Kind,
    pub mode: u32,
    pub xattrs: BTreeMap<String, Vec<u8>>,
    /// Files: the allocated blocks of the backing file, by index (`Model::
    /// block` bytes each); a block not listed is a hole (see `keep`).
    pub blocks: BTreeMap<u64, Alloc>,
}

/// `user.trash.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// unlink, rm -r, a rename into `.trash`.
    Deleted,
    /// A rename (or restore) over it.
    Replaced,
    /// Content an O_TRUNC open, a truncation or a punched hole destroyed.
    Overwritten,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Deleted => "deleted",
            Reason::Replaced => "replaced",
            Reason::Overwritten => "overwritten",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub ino: Ino,
    /// `user.trash.original_path`.
    pub original: String,
    /// `deleted_at` lies in `deleted_lo..=deleted_hi` (the clock around the call).
    pub deleted_lo: i64,
    pub deleted_hi: i64,
    /// When the call that made it returned (for the timing guard of expiry runs).
    pub born: Instant,
    pub reason: Reason,
    /// `user.trash.litter`: an empty file removed or replaced (the model's
    /// names match no litter pattern and hold no `.git`), which expires
    /// after the mount's litter retention.
    pub litter: bool,
}

/// Why the model gives no answer for an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    Errno(i32),
    /// The outcome depends on something the model does not follow (a path
    /// through a symlink): the operation is skipped on both sides.
    Skip,
}

pub type R<T> = Result<T, Fail>;

fn err<T>(e: i32) -> R<T> {
    Err(Fail::Errno(e))
}

/// What an operation on the children of a directory means (cf. `inodes::Place`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Root,
    Gallery,
    TrashEntry,
    InTrash,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    Root,
    Trash,
    Dir(Ino),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Obj {
    Trash,
    Ino(Ino),
}

/// A resolved path: its parent directory, the meaning of names there, and
/// what the last component names (if anything).
#[derive(Clone, Debug)]
pub struct Res {
    pub parent: Parent,
    pub place: Place,
    pub name: String,
    pub child: Option<Obj>,
    pub path: String,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub inodes: HashMap<Ino, Inode>,
    next: Ino,
    pub gallery: Ino,
    pub trash: BTreeMap<String, Entry>,
    pub umask: u32,
    /// Lets an operation through a trash name change an inode that also has a
    /// gallery name (see `touches_shared`).
    pub shared_writable: bool,
    /// The backing filesystem's block size: data and holes come in blocks.
    pub block: u64,
    /// Which overwrites the mount keeps (`overwrite_interval`).
    pub policy: Policy,
    /// Which of the outcomes of an ambiguous overwrite to take (see
    /// `keep::Model::overwrite`); the runner sets it to follow the mount.
    pub keep_choice: Option<usize>,
    /// The outcomes the last operation's overwrite could have (the original
    /// path of the entry, or none kept); empty if it made none.
    pub outcomes: Vec<Option<String>>,
    /// Overwrites kept so far, and overwrites that destroyed holes only
    /// (nothing kept).
    pub kept: usize,
    pub holes_only: usize,
    /// Inodes whose numbers change at the next remount, with the number of
    /// overwrites kept by inode they took part in since the last: such an
    /// overwrite gives the entry a synthetic number until then, and the
    /// gallery name a new backing inode (see `check::InoMap`).
    pub renumbered: BTreeMap<Ino, u32>,
    /// Does not accept an overwrite that keeps nothing (see `keep`,
    /// `GALLERYFS_MODEL_STRICT=keep`).
    pub strict: bool,
}

/// Splits an entry name into stem and extension the way issue 2 describes:
/// the last dot (not a leading one, at most 16 bytes with the dot) and `.tar.X`.
pub fn split_extension(name: &str) -> (&str, &str) {
    let Some(dot) = name.rfind('.') else {
        return (name, "");
    };
    if dot == 0 || name.len() - dot > 16 {
        return (name, "");
    }
    let stem = &name[..dot];
    if stem.len() > 4 && stem.ends_with(".tar") {
        let cut = stem.len() - 4;
        return (&name[..cut], &name[cut..]);
    }
    (stem, &name[dot..])
}

/// `name`, `name (2).ext`, `name (3).ext`, …
pub fn candidate(name: &str, n: u64) -> String {
    if n <= 1 {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    format!("{stem} ({n}){ext}")
}

pub fn parent_path(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Whether `a` is `b` or one of its ancestors.
fn is_prefix(a: &str, b: &str) -> bool {
    b == a || (b.starts_with(a) && b.as_bytes().get(a.len()) == Some(&b'/'))
}

impl Model {
    pub fn new(umask: u32, block: u64, policy: Policy) -> Model {
        let mut m = Model {
            inodes: HashMap::new(),
            next: 1,
            gallery: 0,
            trash: BTreeMap::new(),
            umask,
            shared_writable: false,
            block,
            policy,
            keep_choice: None,
            outcomes: Vec::new(),
            kept: 0,
            holes_only: 0,
            renumbered: BTreeMap::new(),
            strict: super::strict("keep"),
        };
        m.gallery = m.alloc(Kind::Dir(BTreeMap::new()), 0o755);
        m
    }

    fn alloc(&mut self, kind: Kind, mode: u32) -> Ino {
        let ino = self.next;
        self.next += 1;
        self.inodes.insert(
            ino,
            Inode {
                kind,
                mode,
                xattrs: BTreeMap::new(),
                blocks: BTreeMap::new(),
            },
        );
        ino
    }

    pub fn inode(&self, ino: Ino) -> &Inode {
        &self.inodes[&ino]
    }

    fn inode_mut(&mut self, ino: Ino) -> &mut Inode {
        self.inodes.get_mut(&ino).expect("live inode")
    }

    pub fn is_dir(&self, obj: Obj) -> bool {
        match obj {
            Obj::Trash => true,
            Obj::Ino(i) => matches!(self.inode(i).kind, Kind::Dir(_)),
        }
    }

    fn is_symlink(&self, obj: Obj) -> bool {
        matches!(obj, Obj::Ino(i) if matches!(self.inode(i).kind, Kind::Symlink(_)))
    }

    pub fn children(&self, obj: Obj) -> Vec<String> {
        match obj {
            Obj::Trash => self.trash.keys().cloned().collect(),
            Obj::Ino(i) => match &self.inode(i).kind {
                Kind::Dir(c) => c.keys().cloned().collect(),
                _ => Vec::new(),
            },
        }
    }

    fn child(&self, parent: Parent, name: &str) -> Option<Obj> {
        match parent {
            Parent::Root => match name {
                "gallery" => Some(Obj::Ino(self.gallery)),
                ".trash" => Some(Obj::Trash),
                _ => None,
            },
            Parent::Trash => self.trash.get(name).map(|e| Obj::Ino(e.ino)),
            Parent::Dir(d) => match &self.inode(d).kind {
                Kind::Dir(c) => c.get(name).map(|&i| Obj::Ino(i)),
                _ => None,
            },
        }
    }

    /// Resolves `path` (relative to the mount, no `.`/`..`, no trailing slash).
    pub fn resolve(&self, path: &str) -> R<Res> {
        let comps: Vec<&str> = path.split('/').collect();
        let (last, dirs) = comps.split_last().expect("split yields one part");
        let mut parent = Parent::Root;
        let mut place = Place::Root;
        for c in dirs {
            match self.child(parent, c) {
                None => return err(libc::ENOENT),
                Some(Obj::Trash) => {
                    parent = Parent::Trash;
                    place = Place::TrashEntry;
                }
                Some(Obj::Ino(i)) => match self.inode(i).kind {
                    Kind::Dir(_) => {
                        place = match place {
                            Place::Root | Place::Gallery => Place::Gallery,
                            Place::TrashEntry | Place::InTrash => Place::InTrash,
                        };
                        parent = Parent::Dir(i);
                    }
                    Kind::Symlink(_) => return Err(Fail::Skip),
                    Kind::File(_) => return err(libc::ENOTDIR),
                },
            }
        }
        Ok(Res {
            parent,
            place,
            name: last.to_string(),
            child: self.child(parent, last),
            path: path.to_string(),
        })
    }

    /// Reference counts of every inode reachable from the gallery or the trash.
    pub fn refcounts(&self) -> HashMap<Ino, u32> {
        let mut counts = HashMap::new();
        let mut stack = vec![self.gallery];
        counts.insert(self.gallery, 1);
        for e in self.trash.values() {
            *counts.entry(e.ino).or_insert(0) += 1;
            if counts[&e.ino] == 1 {
                stack.push(e.ino);
            }
        }
        while let Some(i) = stack.pop() {
            if let Kind::Dir(c) = &self.inode(i).kind {
                for &child in c.values() {
                    let n = counts.entry(child).or_insert(0);
                    *n += 1;
                    if *n == 1 {
                        stack.push(child);
                    }
                }
            }
        }
        counts
    }

    /// st_nlink as the backing filesystem (ext4-like) reports it.
    pub fn nlink(&self, ino: Ino, refs: &HashMap<Ino, u32>) -> u32 {
        match &self.inode(ino).kind {
            Kind::Dir(c) => {
                2 + c
                    .values()
                    .filter(|&&i| matches!(self.inode(i).kind, Kind::Dir(_)))
                    .count() as u32
            }
            _ => refs.get(&ino).copied().unwrap_or(0),
        }
    }

    /// Drops inodes nothing refers to any more; returns them.
    pub fn collect_garbage(&mut self) -> Vec<Ino> {
        let refs = self.refcounts();
        let dead: Vec<Ino> = self
            .inodes
            .keys()
            .filter(|i| !refs.contains_key(i))
            .copied()
            .collect();
        for i in &dead {
            self.inodes.remove(i);
        }
        dead
    }

    fn remove_name(&mut self, parent: Parent, name: &str) -> Ino {
        match parent {
            Parent::Root => panic!("model: removing a root name"),
            Parent::Trash => self.trash.remove(name).expect("entry").ino,
            Parent::Dir(d) => match &mut self.inode_mut(d).kind {
                Kind::Dir(c) => c.remove(name).expect("child"),
                _ => panic!("model: parent is not a directory"),
            },
        }
    }

    fn insert_name(&mut self, parent: Parent, name: &str, ino: Ino) {
        match parent {
            Parent::Dir(d) => match &mut self.inode_mut(d).kind {
                Kind::Dir(c) => {
                    c.insert(name.to_string(), ino);
                }
                _ => panic!("model: parent is not a directory"),
            },
            _ => panic!("model: inserting outside the gallery"),
        }
    }

    /// The first free entry name for a deleted `name`.
    pub fn first_free(&self, name: &str) -> String {
        (1..)
            .map(|n| candidate(name, n))
            .find(|c| !self.trash.contains_key(c))
            .expect("some name is free")
    }

    fn add_entry(&mut self, name: String, ino: Ino, original: &str, clock: Clock, reason: Reason) {
        self.add_entry_as(name, ino, original, clock, reason, false);
    }

    /// `add_entry` of what a removal or replacement made: litter if empty.
    fn add_removed(
        &mut self,
        name: String,
        ino: Ino,
        original: &str,
        clock: Clock,
        reason: Reason,
    ) {
        let litter = matches!(&self.inode(ino).kind, Kind::File(d) if d.is_empty());
        self.add_entry_as(name, ino, original, clock, reason, litter);
    }

    fn add_entry_as(
        &mut self,
        name: String,
        ino: Ino,
        original: &str,
        clock: Clock,
        reason: Reason,
        litter: bool,
    ) {
        self.trash.insert(
            name,
            Entry {
                ino,
                original: original.to_string(),
                deleted_lo: clock.lo,
                deleted_hi: clock.hi,
                born: clock.born,
                reason,
                litter,
            },
        );
    }

    fn gallery_relative(path: &str) -> &str {
        path.strip_prefix("gallery/").expect("a gallery path")
    }

    fn nlink_of(&self, ino: Ino) -> u32 {
        self.nlink(ino, &self.refcounts())
    }

    /// Whether `op` goes through something the model does not follow, or
    /// has an outcome it cannot tell (see `keep`): a dry run says so.
    pub fn skips(&self, op: &Op) -> bool {
        let follows_last = matches!(op, Op::Chmod { .. } | Op::Truncate { via_fd: false, .. });
        let through = op.paths().iter().any(|p| match self.resolve(p) {
            Err(Fail::Skip) => true,
            Ok(r) => follows_last && r.child.is_some_and(|c| self.is_symlink(c)),
            Err(_) => false,
        });
        if through || matches!(op, Op::Remount | Op::TimePasses) {
            return through;
        }
        let clock = Clock {
            lo: 0,
            hi: 0,
            born: Instant::now(),
        };
        let dry = |shared: bool| {
            let mut m = self.clone();
            m.shared_writable = shared;
            m.apply(op, clock) == Err(Fail::Skip)
        };
        dry(false) || (self.touches_shared(op) && dry(true))
    }

    /// All paths below the mount (not the root names themselves), for the generator.
    pub fn all_paths(&self) -> Vec<(String, char)> {
        let mut out = Vec::new();
        self.walk("gallery", self.gallery, &mut out);
        for (name, e) in &self.trash {
            self.walk(&format!(".trash/{name}"), e.ino, &mut out);
        }
        out.retain(|(p, _)| p != "gallery");
        out
    }

    fn walk(&self, path: &str, ino: Ino, out: &mut Vec<(String, char)>) {
        let inode = self.inode(ino);
        let kind = match &inode.kind {
            Kind::File(_) => 'f',
            Kind::Dir(_) => 'd',
            Kind::Symlink(_) => 'l',
        };
        out.push((path.to_string(), kind));
        if let Kind::Dir(c) = &inode.kind {
            for (name, &child) in c {
                self.walk(&format!("{path}/{name}"), child, out);
            }
        }
    }

    /// The user xattrs of the object at `path`, if it is one (for the generator).
    pub fn xattr_names(&self, path: &str) -> Vec<String> {
        match self.resolve(path) {
            Ok(Res {
                child: Some(Obj::Ino(i)),
                ..
            }) => self.inode(i).xattrs.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Inodes reachable from the gallery.
    fn gallery_inos(&self) -> BTreeSet<Ino> {
        let mut inos = Vec::new();
        self.walk_inos(self.gallery, &mut inos);
        inos.into_iter().collect()
    }

    /// Whether changes through the name `r` are allowed: names in the
    /// gallery, and (when `shared_writable`) trash names of an inode that
    /// also has a gallery name.
    fn writable(&self, r: &Res) -> bool {
        match (r.place, r.child) {
            (Place::Gallery, _) => true,
            (Place::TrashEntry | Place::InTrash, Some(Obj::Ino(i))) => {
                self.shared_writable && self.gallery_inos().contains(&i)
            }
            _ => false,
        }
    }

    /// Whether `op` changes, through a trash name, an inode that also has a
    /// gallery name (a hard link moved into the trash). galleryfs sees inodes,
    /// not names: such an inode is a gallery file (its gallery name must work
    /// as POSIX says), so a change through its trash name may succeed too,
    /// depending on which names the kernel has looked up. The model accepts
    /// both outcomes and follows the mount.
    pub fn touches_shared(&self, op: &Op) -> bool {
        let Some(path) = op.paths().first().copied() else {
            return false;
        };
        match self.resolve(path) {
            Ok(Res {
                place: Place::TrashEntry | Place::InTrash,
                child: Some(Obj::Ino(i)),
                ..
            }) => self.gallery_inos().contains(&i),
            _ => false,
        }
    }

    fn walk_inos(&self, ino: Ino, out: &mut Vec<Ino>) {
        out.push(ino);
        if let Kind::Dir(c) = &self.inode(ino).kind {
            for &child in c.values() {
                self.walk_inos(child, out);
            }
        }
    }
}

/// When an operation ran: the wall clock (whole seconds) before and after it.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub lo: i64,
    pub hi: i64,
    pub born: Instant,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_follow_issue_2() {
        assert_eq!(candidate("cat.jpg", 2), "cat (2).jpg");
        assert_eq!(candidate("c.tar.gz", 3), "c (3).tar.gz");
        assert_eq!(candidate(".e", 2), ".e (2)");
        assert_eq!(candidate("d", 2), "d (2)");
        assert_eq!(candidate("f.", 2), "f (2).");
    }
}

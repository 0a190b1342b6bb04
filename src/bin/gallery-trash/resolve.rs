//! From command-line paths to galleryfs mounts and trash entries.
//!
//! A MOUNT argument is any existing path inside a mount. An ENTRY is a path
//! to `.trash/NAME`, or the original path of a deleted file under `gallery/`:
//! that file no longer exists, so only its parent is resolved (symlinks,
//! `..`) and the last component is kept as typed. An original path has
//! versions (every entry with that path, newest first): `restore` takes the
//! first, or with `--at` the newest deleted by then.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use galleryfs::contract::{self, GALLERY, MountInfo, TRASH};

use crate::at::Time;
use crate::entries::{self, Entry, Unknown};
use crate::escape::escape;
use crate::human;
use crate::mounts::{self, Galleryfs, LocateError, Located};
use crate::report::describe;

/// What a path inside a galleryfs refers to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reference {
    /// `.trash/NAME`
    Entry(OsString),
    /// `gallery/REST`: REST, as the bytes `user.trash.original_path` holds.
    Original(Vec<u8>),
}

/// Classifies a path relative to a galleryfs root; None when it is neither
/// an entry nor below `gallery/` (the root, `.trash` itself, a path inside a
/// trashed directory).
pub(crate) fn classify(inner: &Path) -> Option<Reference> {
    let parts: Vec<&std::ffi::OsStr> = inner
        .components()
        .map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [trash, name] if *trash == TRASH => Some(Reference::Entry((*name).to_owned())),
        [gallery, _, ..] if *gallery == GALLERY => {
            let rest = inner.strip_prefix(GALLERY).ok()?;
            Some(Reference::Original(rest.as_os_str().as_bytes().to_vec()))
        }
        _ => None,
    }
}

/// Every entry whose original path is `original`, newest first: by
/// `deleted_at` (whole seconds; unknown last), ties going to the later status
/// change (when the entry entered the trash), then to the longer name
/// (`cat (3).jpg` before `cat (2).jpg` before `cat.jpg`), then to byte order.
pub(crate) fn versions<'a>(entries: &'a [Entry], original: &[u8]) -> Vec<&'a Entry> {
    let mut found: Vec<&Entry> = entries
        .iter()
        .filter(|e| {
            e.original_path
                .as_deref()
                .is_ok_and(|p| trim_slashes(p) == trim_slashes(original))
        })
        .collect();
    found.sort_by(|a, b| newest_first(a, b));
    found
}

/// The order of `versions`, for any entries: the later `deleted_at` first
/// (unknown last), then the later status change, the longer name, the
/// greater name in byte order.
pub(crate) fn newest_first(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    let key = |e: &Entry| {
        (
            e.deleted_at,
            e.stat.ctime,
            e.name.len(),
            e.name.as_bytes().to_vec(),
        )
    };
    key(b).cmp(&key(a))
}

/// The most recently deleted entry whose original path is `original`: the
/// first of `versions`.
pub(crate) fn pick_latest<'a>(entries: &'a [Entry], original: &[u8]) -> Option<&'a Entry> {
    versions(entries, original).into_iter().next()
}

/// The newest entry of `original` deleted at or before `at` (`restore --at`).
pub(crate) fn pick_at<'a>(entries: &'a [Entry], original: &[u8], at: &Time) -> Option<&'a Entry> {
    versions(entries, original)
        .into_iter()
        .find(|e| e.deleted_at.is_some_and(|d| at.covers(d)))
}

fn trim_slashes(path: &[u8]) -> &[u8] {
    let end = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    &path[..end]
}

/// Makes `path` absolute and canonical except for its last component, which
/// need not exist and is never followed. Missing directories above it are
/// kept lexically (a restore may recreate them).
pub(crate) fn canonicalize_keeping_last(path: &Path) -> io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    match (absolute.components().next_back(), absolute.parent()) {
        (Some(Component::Normal(last)), Some(parent)) => {
            Ok(canonicalize_existing(parent)?.join(last))
        }
        _ => canonicalize_existing(&absolute),
    }
}

/// Canonicalizes the longest existing prefix of `path` and appends the rest.
fn canonicalize_existing(path: &Path) -> io::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(canonical) => Ok(canonical),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = path
                .parent()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
            match path.components().next_back() {
                Some(Component::Normal(name)) => Ok(canonicalize_existing(parent)?.join(name)),
                Some(Component::ParentDir) => {
                    let mut up = canonicalize_existing(parent)?;
                    up.pop();
                    Ok(up)
                }
                _ => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Why an ENTRY argument names no entry.
#[derive(Debug)]
pub(crate) enum Reason {
    Outside(LocateError),
    NotAnEntry,
    NoSuchEntry,
    /// `--at` found versions of the original path, none deleted by then.
    NoVersionAt {
        original: Vec<u8>,
        at: String,
        oldest: Option<DateTime<Utc>>,
    },
    /// `--at` with `.trash/NAME`, which is one version already.
    AtWithEntry,
    /// `versions .trash/NAME` of an entry whose original path is unknown.
    OriginalUnknown,
    Io(io::Error),
}

/// An ENTRY that could not be resolved: `no such entry (gallery/cat.jpg)`.
#[derive(Debug)]
pub(crate) struct ResolveError {
    pub reason: Reason,
    /// The argument as typed, escaped.
    pub arg: String,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Outside(e) => write!(f, "{e} ({})", self.arg),
            Reason::NotAnEntry => write!(
                f,
                "not an entry, nor an original path in gallery/ ({})",
                self.arg
            ),
            Reason::NoSuchEntry => write!(f, "no such entry ({})", self.arg),
            Reason::NoVersionAt {
                original,
                at,
                oldest,
            } => {
                write!(
                    f,
                    "no version of {GALLERY}/{} deleted at or before {at}",
                    escape(original)
                )?;
                match oldest {
                    Some(oldest) => write!(
                        f,
                        " (the oldest was deleted {})",
                        human::local_second(*oldest)
                    ),
                    None => Ok(()),
                }
            }
            Reason::AtWithEntry => write!(
                f,
                "--at chooses among the versions of an original path in gallery/; an entry of .trash is one version already ({})",
                self.arg
            ),
            Reason::OriginalUnknown => write!(
                f,
                "original path unknown (a symlink or special file has no trash attributes) ({})",
                self.arg
            ),
            Reason::Io(e) => write!(f, "{} ({})", describe(e), self.arg),
        }
    }
}

/// Resolves arguments against the mounts of this process, reading each
/// trash at most once.
pub(crate) struct Resolver {
    mounts: Vec<MountInfo>,
    trashes: HashMap<PathBuf, Trash>,
    /// `.trash/NAME` arguments are looked up in the trash's listing, read
    /// once, rather than asked entry by entry (see `use_listing`).
    listing: bool,
}

/// One mount's trash as listed, less the entries forgotten since.
struct Trash {
    entries: Vec<Entry>,
    by_name: HashMap<OsString, usize>,
    /// Forgotten, not yet taken out of `entries` (see `Resolver::forget`).
    forgotten: std::collections::HashSet<OsString>,
}

impl Trash {
    fn new(entries: Vec<Entry>) -> Trash {
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Trash {
            entries,
            by_name,
            forgotten: Default::default(),
        }
    }

    /// The entries, without the forgotten ones.
    fn entries(&mut self) -> &[Entry] {
        if !self.forgotten.is_empty() {
            let forgotten = std::mem::take(&mut self.forgotten);
            let kept = std::mem::take(&mut self.entries)
                .into_iter()
                .filter(|e| !forgotten.contains(&e.name))
                .collect();
            *self = Trash::new(kept);
        }
        &self.entries
    }

    fn entry(&self, name: &std::ffi::OsStr) -> Option<&Entry> {
        if self.forgotten.contains(name) {
            return None;
        }
        self.by_name.get(name).map(|&i| &self.entries[i])
    }
}

impl Resolver {
    pub fn new() -> io::Result<Resolver> {
        Ok(Resolver {
            mounts: contract::read_mountinfo()?,
            trashes: HashMap::new(),
            listing: false,
        })
    }

    /// Looks `.trash/NAME` arguments up in the trash's listing (read once
    /// per mount) instead of entry by entry: for many arguments. A name
    /// the listing lacks is still asked (it may have arrived since).
    pub fn use_listing(&mut self) {
        self.listing = true;
    }

    /// The galleryfs for a MOUNT argument, or the one holding the current
    /// directory. The error is the whole message.
    pub fn mount(&self, arg: Option<&Path>) -> Result<Galleryfs, String> {
        let (path, what) = match arg {
            Some(p) => (p.to_path_buf(), escape(p.as_os_str().as_bytes())),
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|e| format!("cannot read the current directory: {}", describe(&e)))?;
                (cwd, "the current directory".to_string())
            }
        };
        let canonical = std::fs::canonicalize(&path)
            .map_err(|e| format!("cannot access {what}: {}", describe(&e)))?;
        match mounts::locate(&self.mounts, &canonical) {
            Ok(located) => Ok(located.fs),
            Err(LocateError::NotGalleryfs) if arg.is_none() => Err(
                "the current directory is not inside a galleryfs mount; pass MOUNT, the mount point of a galleryfs"
                    .to_string(),
            ),
            Err(LocateError::NotGalleryfs) => Err(format!("{what} is not inside a galleryfs mount")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Where `path` (which need not exist) lies in a galleryfs.
    pub fn locate(&self, path: &Path) -> Result<Located, ResolveError> {
        let arg = escape(path.as_os_str().as_bytes());
        let canonical = canonicalize_keeping_last(path).map_err(|e| ResolveError {
            reason: Reason::Io(e),
            arg: arg.clone(),
        })?;
        mounts::locate(&self.mounts, &canonical).map_err(|e| ResolveError {
            reason: Reason::Outside(e),
            arg,
        })
    }

    /// The entry an ENTRY argument names.
    pub fn resolve(&mut self, path: &Path) -> Result<(Galleryfs, Entry), ResolveError> {
        self.resolve_at(path, None)
    }

    /// The entry an ENTRY argument names; with `at`, an original path means
    /// its newest version deleted at or before then instead of its latest.
    pub fn resolve_at(
        &mut self,
        path: &Path,
        at: Option<&Time>,
    ) -> Result<(Galleryfs, Entry), ResolveError> {
        let located = self.locate(path)?;
        let fail = |reason| ResolveError {
            reason,
            arg: escape(path.as_os_str().as_bytes()),
        };
        let entry = match classify(&located.inner).ok_or_else(|| fail(Reason::NotAnEntry))? {
            Reference::Entry(_) if at.is_some() => return Err(fail(Reason::AtWithEntry)),
            Reference::Entry(name) => match self.listed(&located.fs, &name) {
                Some(entry) => entry,
                None => read_entry(&located.fs, &name).map_err(fail)?,
            },
            Reference::Original(original) => {
                let trash = self.trash(&located.fs).map_err(|e| fail(Reason::Io(e)))?;
                let picked = match at {
                    None => pick_latest(trash, &original),
                    Some(at) => pick_at(trash, &original, at),
                };
                match (picked, at) {
                    (Some(entry), _) => entry.clone(),
                    (None, Some(at)) if pick_latest(trash, &original).is_some() => {
                        let oldest = versions(trash, &original)
                            .into_iter()
                            .filter_map(|e| e.deleted_at)
                            .min();
                        return Err(fail(Reason::NoVersionAt {
                            original,
                            at: at.text.clone(),
                            oldest,
                        }));
                    }
                    (None, _) => return Err(fail(Reason::NoSuchEntry)),
                }
            }
        };
        Ok((located.fs, entry))
    }

    /// The versions of the file a PATH argument names, newest first, with
    /// its original path: PATH is an original path in gallery/ (which need
    /// not exist now), or an entry of .trash meaning its original path.
    pub fn versions(
        &mut self,
        path: &Path,
    ) -> Result<(Galleryfs, Vec<u8>, Vec<Entry>), ResolveError> {
        let located = self.locate(path)?;
        let fail = |reason| ResolveError {
            reason,
            arg: escape(path.as_os_str().as_bytes()),
        };
        let original = match classify(&located.inner).ok_or_else(|| fail(Reason::NotAnEntry))? {
            Reference::Original(original) => original,
            Reference::Entry(name) => read_entry(&located.fs, &name)
                .map_err(fail)?
                .original_path
                .map_err(|unknown| match unknown {
                    Unknown::NoAttributes => fail(Reason::OriginalUnknown),
                    Unknown::PermissionDenied => {
                        fail(Reason::Io(io::Error::from_raw_os_error(libc::EACCES)))
                    }
                    Unknown::Failed(why) => fail(Reason::Io(io::Error::other(why))),
                })?,
        };
        let trash = self.trash(&located.fs).map_err(|e| fail(Reason::Io(e)))?;
        let found = versions(trash, &original).into_iter().cloned().collect();
        Ok((located.fs, original, found))
    }

    /// Forgets an entry that has left the trash, so later arguments do not find it.
    pub fn forget(&mut self, fs: &Galleryfs, entry: &Entry) {
        if let Some(trash) = self.trashes.get_mut(&fs.root) {
            trash.forgotten.insert(entry.name.clone());
        }
    }

    fn trash(&mut self, fs: &Galleryfs) -> io::Result<&[Entry]> {
        if !self.trashes.contains_key(&fs.root) {
            self.trashes
                .insert(fs.root.clone(), Trash::new(entries::read_all(fs)?));
        }
        Ok(self
            .trashes
            .get_mut(&fs.root)
            .expect("inserted above")
            .entries())
    }

    /// Entry `name` from the listing, with `use_listing`.
    fn listed(&mut self, fs: &Galleryfs, name: &std::ffi::OsStr) -> Option<Entry> {
        if !self.listing {
            return None;
        }
        if !self.trashes.contains_key(&fs.root) {
            let all = entries::read_all(fs).ok()?;
            self.trashes.insert(fs.root.clone(), Trash::new(all));
        }
        self.trashes[&fs.root].entry(name).cloned()
    }
}

/// The entry `.trash/NAME`, or why not.
fn read_entry(fs: &Galleryfs, name: &std::ffi::OsStr) -> Result<Entry, Reason> {
    entries::read_one(fs, name).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Reason::NoSuchEntry,
        _ => Reason::Io(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

    #[test]
    fn classifies_entries_and_original_paths() {
        assert_eq!(
            classify(Path::new(".trash/cat (2).jpg")),
            Some(Reference::Entry("cat (2).jpg".into()))
        );
        assert_eq!(
            classify(Path::new("gallery/albums/cat.jpg")),
            Some(Reference::Original(b"albums/cat.jpg".to_vec()))
        );
        assert_eq!(
            classify(Path::new("gallery/x")),
            Some(Reference::Original(b"x".to_vec()))
        );
    }

    #[test]
    fn other_paths_are_not_entries() {
        for p in [
            "",
            ".trash",
            "gallery",
            ".trash/dir/inside",
            "elsewhere/x",
            "galleryx/y",
        ] {
            assert_eq!(classify(Path::new(p)), None, "{p}");
        }
    }

    #[test]
    fn non_utf8_original_paths_stay_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let inner = Path::new(std::ffi::OsStr::from_bytes(b"gallery/caf\xe9/x"));
        assert_eq!(
            classify(inner),
            Some(Reference::Original(b"caf\xe9/x".to_vec()))
        );
    }

    #[test]
    fn picks_the_most_recent_deletion_of_a_path() {
        let trash = vec![
            fake(
                b"cat.jpg",
                Some("albums/cat.jpg"),
                Some("2026-11-20T10:00:00Z"),
            ),
            fake(
                b"cat (2).jpg",
                Some("albums/cat.jpg"),
                Some("2026-11-26T10:00:00Z"),
            ),
            fake(
                b"cat (3).jpg",
                Some("albums/cat.jpg"),
                Some("2026-11-22T10:00:00Z"),
            ),
            fake(
                b"cat (4).jpg",
                Some("other/cat.jpg"),
                Some("2026-11-27T10:00:00Z"),
            ),
            fake(b"link", None, None),
        ];
        assert_eq!(
            pick_latest(&trash, b"albums/cat.jpg").unwrap().name,
            "cat (2).jpg"
        );
        assert_eq!(
            pick_latest(&trash, b"other/cat.jpg").unwrap().name,
            "cat (4).jpg"
        );
        assert!(pick_latest(&trash, b"cat.jpg").is_none());
        assert!(pick_latest(&trash, b"link").is_none());
    }

    #[test]
    fn ties_in_the_same_second_are_broken_deterministically() {
        let same = Some("2026-11-26T10:00:00Z");
        let mut trash = vec![
            fake(b"cat.jpg", Some("cat.jpg"), same),
            fake(b"cat (3).jpg", Some("cat.jpg"), same),
            fake(b"cat (2).jpg", Some("cat.jpg"), same),
        ];
        assert_eq!(pick_latest(&trash, b"cat.jpg").unwrap().name, "cat (3).jpg");
        // A later status change wins over the name.
        trash[0].stat.ctime = (5, 0);
        assert_eq!(pick_latest(&trash, b"cat.jpg").unwrap().name, "cat.jpg");
    }

    fn cat_versions() -> Vec<Entry> {
        vec![
            fake(b"cat.jpg", Some("cat.jpg"), Some("2026-11-26T10:00:00Z")),
            fake(
                b"cat (3).jpg",
                Some("cat.jpg"),
                Some("2026-11-26T10:30:00Z"),
            ),
            fake(
                b"cat (2).jpg",
                Some("cat.jpg"),
                Some("2026-11-26T10:10:00Z"),
            ),
            fake(
                b"cat (4).jpg",
                Some("cat.jpg"),
                Some("2026-11-26T10:30:00Z"),
            ),
            fake(b"dog.jpg", Some("dog.jpg"), Some("2026-11-26T11:00:00Z")),
            fake(b"link", None, None),
        ]
    }

    fn names(entries: &[&Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| e.name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn versions_are_newest_first_and_start_with_what_restore_picks() {
        let trash = cat_versions();
        let found = versions(&trash, b"cat.jpg");
        assert_eq!(
            names(&found),
            ["cat (4).jpg", "cat (3).jpg", "cat (2).jpg", "cat.jpg"]
        );
        assert_eq!(found[0].name, pick_latest(&trash, b"cat.jpg").unwrap().name);
        assert_eq!(names(&versions(&trash, b"dog.jpg/")), ["dog.jpg"]);
        assert!(versions(&trash, b"bird.jpg").is_empty());
        assert!(versions(&trash, b"link").is_empty());
    }

    #[test]
    fn at_picks_the_newest_version_deleted_by_then() {
        let trash = cat_versions();
        let at = |text: &str| crate::at::parse(text).unwrap();
        let picked = |text: &str| {
            pick_at(&trash, b"cat.jpg", &at(text)).map(|e| e.name.to_string_lossy().into_owned())
        };
        assert_eq!(
            picked("2026-11-26T10:10:00Z").as_deref(),
            Some("cat (2).jpg")
        );
        assert_eq!(
            picked("2026-11-26T10:29:59Z").as_deref(),
            Some("cat (2).jpg")
        );
        assert_eq!(
            picked("2026-11-26T10:30:00Z").as_deref(),
            Some("cat (4).jpg")
        );
        assert_eq!(
            picked("2027-01-01T00:00:00Z").as_deref(),
            Some("cat (4).jpg")
        );
        assert_eq!(picked("2026-11-26T09:59:59Z"), None);
    }

    #[test]
    fn trailing_slashes_do_not_matter() {
        let trash = vec![fake(
            b"albums",
            Some("albums/"),
            Some("2026-11-26T10:00:00Z"),
        )];
        assert!(pick_latest(&trash, b"albums").is_some());
    }

    #[test]
    fn canonicalizes_all_but_the_last_component() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(base.join("real")).unwrap();
        std::os::unix::fs::symlink("real", base.join("alias")).unwrap();
        std::os::unix::fs::symlink("real", base.join("real/last")).unwrap();
        assert_eq!(
            canonicalize_keeping_last(&base.join("alias/gone.jpg")).unwrap(),
            base.join("real/gone.jpg")
        );
        // The last component is not followed even when it is a symlink.
        assert_eq!(
            canonicalize_keeping_last(&base.join("alias/last")).unwrap(),
            base.join("real/last")
        );
        // Missing directories are kept, `..` through them applied lexically.
        assert_eq!(
            canonicalize_keeping_last(&base.join("alias/new/sub/f")).unwrap(),
            base.join("real/new/sub/f")
        );
        assert_eq!(
            canonicalize_keeping_last(&base.join("alias/new/../f")).unwrap(),
            base.join("real/f")
        );
        assert_eq!(
            canonicalize_keeping_last(&base.join("alias/..")).unwrap(),
            base
        );
        assert_eq!(
            canonicalize_keeping_last(&base.join("real/.")).unwrap(),
            base.join("real")
        );
    }
}

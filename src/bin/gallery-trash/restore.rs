//! `gallery-trash restore`: each entry goes back to its original path (or
//! `--to`) by a plain rename through the mount, which galleryfs turns into a
//! restore. Nothing is ever replaced: the target is checked with lstat and
//! the rename itself is RENAME_NOREPLACE where the kernel supports it.
//! `--at TIME` picks an older version of an original path (`crate::at`);
//! `--under PATH` restores everything below a folder (`crate::under`).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use galleryfs::contract;

use crate::at::Time;
use crate::cli::RestoreArgs;
use crate::entries::{self, Entry, Kind, Unknown};
use crate::escape::escape;
use crate::mounts::{Galleryfs, Located};
use crate::report::{Report, describe};
use crate::resolve::Resolver;
use crate::syscalls;

/// `--rename` gives up after this many taken names.
const MAX_RENAME_ATTEMPTS: u32 = 10_000;
/// The longest file name Linux accepts, in bytes.
const NAME_MAX: usize = 255;

/// Where `--to` sends entries.
pub(crate) enum Destination {
    /// PATH itself (one entry).
    Exactly(Located),
    /// Into the existing directory PATH, under the entry's original name.
    Into(Located),
}

impl Destination {
    pub fn located(&self) -> &Located {
        match self {
            Destination::Exactly(l) | Destination::Into(l) => l,
        }
    }
}

pub(crate) fn run(args: &RestoreArgs) -> ExitCode {
    if args.interactive || (args.entries.is_empty() && args.under.is_none()) {
        return crate::choose::run(args);
    }
    if let Some(under) = &args.under {
        return crate::under::run(args, under);
    }
    let mut report = Report::new("restore");
    let mut resolver = match Resolver::new() {
        Ok(r) => r,
        Err(e) => {
            report.error(format!(
                "Restore failed: cannot read {}: {}",
                contract::MOUNTINFO,
                describe(&e)
            ));
            return report.exit_code();
        }
    };
    let destination = match &args.to {
        None => None,
        Some(to) if !to.is_dir() && args.entries.len() > 1 => {
            return report
                .usage("--to PATH must be an existing directory when restoring several entries");
        }
        Some(to) => match destination(&resolver, to) {
            Ok(d) => Some(d),
            Err(message) => {
                report.error(format!("Restore failed: {message}"));
                return report.exit_code();
            }
        },
    };
    let euid = syscalls::euid();
    let how = How {
        at: args.at.as_ref(),
        destination: destination.as_ref(),
        rename: args.rename,
        dry_run: args.dry_run,
    };
    if args.dry_run || args.entries.len() < crate::bulk::BULK_MIN {
        for arg in &args.entries {
            match restore_one(&mut resolver, arg, &how, euid) {
                Ok(line) => println!("{line}"),
                Err(message) => report.error(format!("Restore failed: {message}")),
            }
        }
        return report.exit_code();
    }
    // Many: resolved first (one listing of the trash serves them all), each
    // taken from later arguments as if restored, then restored together.
    resolver.use_listing();
    let resolved: Vec<Result<(Galleryfs, Entry), String>> = args
        .entries
        .iter()
        .map(|arg| {
            let (fs, entry) = resolver
                .resolve_at(arg, how.at)
                .map_err(|e| e.to_string())?;
            resolver.forget(&fs, &entry);
            Ok((fs, entry))
        })
        .collect();
    let mut outcomes: Vec<Option<Result<String, String>>> = vec![None; resolved.len()];
    let mut i = 0;
    while i < resolved.len() {
        let Ok((fs, _)) = &resolved[i] else {
            i += 1;
            continue;
        };
        // Consecutive arguments of one mount.
        let run: Vec<usize> = (i..resolved.len())
            .take_while(|&j| resolved[j].as_ref().is_ok_and(|(f, _)| f.root == fs.root))
            .collect();
        let group: Vec<Entry> = run
            .iter()
            .filter_map(|&j| resolved[j].as_ref().ok().map(|(_, e)| e.clone()))
            .collect();
        let mut k = run.iter();
        restore_all(fs, &group, &how, euid, |entry, placed| {
            let j = *k.next().expect("one outcome per entry");
            outcomes[j] = Some(placed.map(|p| restored_line(entry, &p)));
        });
        i += run.len();
    }
    for (resolved, outcome) in resolved.into_iter().zip(outcomes) {
        match (resolved, outcome) {
            (Err(message), _) | (_, Some(Err(message))) => {
                report.error(format!("Restore failed: {message}"))
            }
            (_, Some(Ok(line))) => println!("{line}"),
            (Ok(_), None) => {}
        }
    }
    report.exit_code()
}

/// Where `--to PATH` sends entries: into PATH if it is a directory, else to
/// PATH itself. The error is the whole message.
pub(crate) fn destination(resolver: &Resolver, to: &Path) -> Result<Destination, String> {
    let shown = escape(to.as_os_str().as_bytes());
    let destination = if to.is_dir() {
        // A directory given through a symlink means the directory.
        let canonical = fs::canonicalize(to).map_err(|e| format!("{} ({shown})", describe(&e)))?;
        Destination::Into(resolver.locate(&canonical).map_err(|e| e.to_string())?)
    } else {
        Destination::Exactly(resolver.locate(to).map_err(|e| e.to_string())?)
    };
    let inner = &destination.located().inner;
    let in_gallery = match &destination {
        Destination::Exactly(_) => {
            inner.starts_with(contract::GALLERY) && inner != Path::new(contract::GALLERY)
        }
        Destination::Into(_) => inner.starts_with(contract::GALLERY),
    };
    if in_gallery {
        Ok(destination)
    } else {
        Err(format!(
            "--to must be inside gallery/ of a galleryfs mount ({shown})"
        ))
    }
}

/// The options of one restore.
pub(crate) struct How<'a> {
    pub at: Option<&'a Time>,
    pub destination: Option<&'a Destination>,
    pub rename: bool,
    /// Find where each entry would go, move nothing.
    pub dry_run: bool,
}

fn restore_one(
    resolver: &mut Resolver,
    arg: &Path,
    how: &How,
    euid: u32,
) -> Result<String, String> {
    let (fs, entry) = resolver
        .resolve_at(arg, how.at)
        .map_err(|e| e.to_string())?;
    let placed = restore_entry(&fs, &entry, how, euid)?;
    if how.dry_run {
        return Ok(would_restore_line(&entry, &placed));
    }
    resolver.forget(&fs, &entry);
    Ok(restored_line(&entry, &placed))
}

/// `restored NAME -> gallery/PATH`.
pub(crate) fn restored_line(entry: &Entry, placed: &Path) -> String {
    format!("restored {}", moved(entry, placed))
}

/// `would restore NAME -> gallery/PATH`: what `--dry-run` prints instead.
pub(crate) fn would_restore_line(entry: &Entry, placed: &Path) -> String {
    format!("would restore {}", moved(entry, placed))
}

fn moved(entry: &Entry, placed: &Path) -> String {
    format!(
        "{} -> {}",
        escape(entry.name.as_bytes()),
        escape(placed.as_os_str().as_bytes())
    )
}

/// `.trash/NAME`, escaped: how messages name an entry.
pub(crate) fn shown(entry: &Entry) -> String {
    format!("{}/{}", contract::TRASH, escape(entry.name.as_bytes()))
}

/// Where an entry goes, relative to the filesystem root, and whether its
/// missing parents are to be recreated (at its original path, not with --to).
pub(crate) fn target(
    fs: &Galleryfs,
    entry: &Entry,
    destination: Option<&Destination>,
) -> Result<(PathBuf, bool), String> {
    let shown = shown(entry);
    match destination {
        None => Ok((
            original_target(entry).map_err(|reason| format!("{reason} ({shown})"))?,
            true,
        )),
        Some(d) if d.located().fs.dev != fs.dev => Err(format!(
            "--to is not on the same galleryfs as the entry ({shown})"
        )),
        Some(Destination::Exactly(l)) => Ok((l.inner.clone(), false)),
        Some(Destination::Into(l)) => Ok((l.inner.join(original_name(entry)), false)),
    }
}

/// Restores one entry of `fs` as `how` says; returns where it went,
/// relative to the filesystem root (with `dry_run`: where it would go, of
/// what is free now). The error is the message after `Restore failed: `.
pub(crate) fn restore_entry(
    fs: &Galleryfs,
    entry: &Entry,
    how: &How,
    euid: u32,
) -> Result<PathBuf, String> {
    let shown = shown(entry);
    let trash = entries::lstat(&fs.trash_dir()).map_err(|e| {
        format!(
            "{} ({})",
            describe(&e),
            escape(fs.trash_dir().as_os_str().as_bytes())
        )
    })?;
    if !entries::may_remove(&trash, &entry.stat, euid) {
        return Err(format!("permission denied ({shown})"));
    }
    let (target, recreate_parents) = target(fs, entry, how.destination)?;
    if recreate_parents
        && !how.dry_run
        && let Some(parent) = target.parent()
    {
        // As the user, through the mount: owned by them, mode from their umask.
        fs::create_dir_all(fs.root.join(parent)).map_err(|e| {
            format!(
                "cannot create {}: {} ({shown})",
                escape(parent.as_os_str().as_bytes()),
                describe(&e)
            )
        })?;
    }
    place(fs, entry, &target, how.rename, how.dry_run).map_err(|e| match e {
        PlaceError::Exists { inner, is_dir } => {
            already_exists(&inner, is_dir, entry, how.destination.is_some())
        }
        PlaceError::NoFreeName => format!(
            "no free name for {} ({shown})",
            escape(target.as_os_str().as_bytes())
        ),
        PlaceError::Io(e) if e.kind() == io::ErrorKind::NotFound => {
            if fs::symlink_metadata(&entry.path).is_err() {
                format!("no such entry ({shown})")
            } else {
                let parent = target.parent().unwrap_or(Path::new(""));
                format!(
                    "{} does not exist ({shown})",
                    escape(parent.as_os_str().as_bytes())
                )
            }
        }
        PlaceError::Io(e) => format!("{} ({shown})", describe(&e)),
    })
}

/// Restores `entries` of `fs` (in this order) as `how` says, telling `done`
/// where each went or why not, in order. Entries bound for one directory
/// one after the other go back in bulk requests where the mount takes
/// them; any the request refused, and all where it takes none, go one by
/// one (`restore_entry`), where the kernel decides and says why.
pub(crate) fn restore_all(
    fs: &Galleryfs,
    entries: &[Entry],
    how: &How,
    euid: u32,
    mut done: impl FnMut(&Entry, Result<PathBuf, String>),
) {
    if how.dry_run || entries.len() < crate::bulk::BULK_MIN {
        for entry in entries {
            done(entry, restore_entry(fs, entry, how, euid));
        }
        return;
    }
    let trash = match entries::lstat(&fs.trash_dir()) {
        Ok(trash) => trash,
        Err(e) => {
            let shown = escape(fs.trash_dir().as_os_str().as_bytes());
            for entry in entries {
                done(entry, Err(format!("{} ({shown})", describe(&e))));
            }
            return;
        }
    };
    // Where each goes (None: one by one, which says why not).
    let targets: Vec<Option<(PathBuf, bool)>> = entries
        .iter()
        .map(|e| {
            entries::may_remove(&trash, &e.stat, euid)
                .then(|| target(fs, e, how.destination).ok())
                .flatten()
        })
        .collect();
    let parent = |i: usize| {
        targets[i]
            .as_ref()
            .and_then(|(t, recreate)| Some((t.parent()?.to_path_buf(), *recreate)))
    };
    let mut i = 0;
    while i < entries.len() {
        let Some((dir, recreate)) = parent(i) else {
            done(&entries[i], restore_entry(fs, &entries[i], how, euid));
            i += 1;
            continue;
        };
        let run = (i..entries.len())
            .take_while(|&j| parent(j).is_some_and(|(d, _)| d == dir))
            .count();
        let group = &entries[i..i + run];
        // As the user, through the mount: owned by them, mode from their umask.
        let answers = match recreate && fs::create_dir_all(fs.root.join(&dir)).is_err() {
            true => None,
            false => {
                let names: Vec<OsString> = (i..i + run)
                    .map(|j| {
                        let (t, _) = targets[j].as_ref().expect("a run has targets");
                        t.file_name()
                            .map_or_else(|| entries[j].name.clone(), OsStr::to_owned)
                    })
                    .collect();
                let pairs: Vec<(&OsStr, &OsStr)> = group
                    .iter()
                    .zip(&names)
                    .map(|(e, n)| (e.name.as_os_str(), n.as_os_str()))
                    .collect();
                match run >= crate::bulk::BULK_MIN {
                    true => crate::bulk::restore(fs, &fs.root.join(&dir), &pairs),
                    false => None,
                }
            }
        };
        for (k, entry) in group.iter().enumerate() {
            match answers.as_ref().map(|a| a[k]) {
                Some(0) => {
                    let (t, _) = targets[i + k].as_ref().expect("a run has targets");
                    done(entry, Ok(t.clone()));
                }
                _ => done(entry, restore_entry(fs, entry, how, euid)),
            }
        }
        i += run;
    }
}

/// The order in which to restore several entries: folders before what goes
/// into them (by the depth of the original path), then by original path;
/// of one original path, the oldest first (what was there first). Entries
/// without an original path go last.
pub(crate) fn parents_first(entries: &mut [Entry]) {
    let key = |e: &Entry| {
        let original = e.original_path.as_deref().ok();
        (
            original.is_none(),
            original.map_or(0, |p| Path::new(OsStr::from_bytes(p)).components().count()),
            original.map(<[u8]>::to_vec),
            e.deleted_at,
            e.stat.ctime,
            e.name.as_bytes().to_vec(),
        )
    };
    entries.sort_by_cached_key(key);
}

/// `gallery/ORIGINAL`, relative to the filesystem root.
fn original_target(entry: &Entry) -> Result<PathBuf, String> {
    let original = entry.original_path.as_ref().map_err(|unknown| match unknown {
        Unknown::PermissionDenied => "permission denied".to_string(),
        Unknown::NoAttributes => "original path unknown (a symlink or special file has no trash attributes), use --to PATH".to_string(),
        Unknown::Failed(reason) => format!("cannot read the original path: {reason}"),
    })?;
    safe_original(original).ok_or_else(|| format!("unusable original path {}", escape(original)))
}

/// `gallery/ORIGINAL` if ORIGINAL is a plain relative path (no `..`, not absolute, not empty).
fn safe_original(original: &[u8]) -> Option<PathBuf> {
    let path = Path::new(OsStr::from_bytes(original));
    let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && path.components().next().is_some()).then(|| Path::new(contract::GALLERY).join(path))
}

/// The name an entry takes in a `--to` directory: its original file name, or the entry's.
fn original_name(entry: &Entry) -> OsString {
    entry
        .original_path
        .as_ref()
        .ok()
        .and_then(|p| Path::new(OsStr::from_bytes(p)).file_name())
        .map_or_else(|| entry.name.clone(), OsStr::to_owned)
}

/// `gallery/cat.jpg already exists (…)`: what to do instead. The refusal
/// stands; the hint names the options, and for a file in the way of a file
/// (typically an overwritten version whose path holds the newer content),
/// that `mv` would replace it, sending the current file to the trash.
fn already_exists(inner: &Path, is_dir: bool, entry: &Entry, to_given: bool) -> String {
    let target = escape(inner.as_os_str().as_bytes());
    let options = if to_given {
        "--rename restores it under a free name"
    } else {
        "--rename restores it under a free name, --to PATH elsewhere"
    };
    let mv = if is_dir || entry.stat.kind == Kind::Dir {
        String::new()
    } else {
        format!(
            "; `mv` of {}/{} over it would replace it, putting the current file in the trash as {}",
            contract::TRASH,
            escape(entry.name.as_bytes()),
            contract::Reason::Replaced.as_str()
        )
    };
    format!("{target} already exists ({options}{mv})")
}

enum PlaceError {
    /// Something is at `inner` already; `is_dir` if a directory.
    Exists {
        inner: PathBuf,
        is_dir: bool,
    },
    NoFreeName,
    Io(io::Error),
}

/// Renames the entry to `target` (relative to the root), or with `rename`
/// to the first free `(restored N)` name; returns where it went. `dry`
/// renames nothing and returns the first free place.
fn place(
    fs: &Galleryfs,
    entry: &Entry,
    target: &Path,
    rename: bool,
    dry: bool,
) -> Result<PathBuf, PlaceError> {
    let name = target
        .file_name()
        .map(OsStr::to_owned)
        .unwrap_or_else(|| entry.name.clone());
    for attempt in 0..MAX_RENAME_ATTEMPTS {
        let inner = if attempt == 0 {
            target.to_path_buf()
        } else {
            target.with_file_name(restored_name(&name, attempt, entry.stat.kind == Kind::Dir))
        };
        let path = fs.root.join(&inner);
        match fs::symlink_metadata(&path) {
            Ok(_) if rename => continue,
            Ok(meta) => {
                return Err(PlaceError::Exists {
                    inner,
                    is_dir: meta.is_dir(),
                });
            }
            // A missing parent (dry run, or removed since) is free too.
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ENOTDIR) => {}
            Err(e) => return Err(PlaceError::Io(e)),
        }
        if dry {
            return Ok(inner);
        }
        match syscalls::rename_noreplace(&entry.path, &path) {
            Ok(()) => return Ok(inner),
            // Created by someone else since the lstat.
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) && rename => continue,
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
                return Err(PlaceError::Exists { inner, is_dir });
            }
            // No RENAME_NOREPLACE here: the lstat above is the check, and a
            // file that appears in between still goes to the trash, not away.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                return fs::rename(&entry.path, &path)
                    .map(|()| inner)
                    .map_err(PlaceError::Io);
            }
            Err(e) => return Err(PlaceError::Io(e)),
        }
    }
    Err(PlaceError::NoFreeName)
}

/// `cat.jpg` → `cat (restored).jpg` (n = 1), `cat (restored 2).jpg`, …
/// Directories keep dots in their names. The result never exceeds 255 bytes:
/// the stem is shortened, the suffix kept.
pub(crate) fn restored_name(name: &OsStr, n: u32, is_dir: bool) -> OsString {
    let bytes = name.as_bytes();
    let marker = if n <= 1 {
        " (restored)".to_string()
    } else {
        format!(" (restored {n})")
    };
    let split = if is_dir {
        None
    } else {
        bytes
            .iter()
            .rposition(|&b| b == b'.')
            .filter(|&i| i > 0 && i + 1 < bytes.len())
    };
    let (mut stem, mut ext) = match split {
        Some(i) => (&bytes[..i], &bytes[i..]),
        None => (bytes, &bytes[bytes.len()..]),
    };
    if marker.len() + ext.len() >= NAME_MAX {
        (stem, ext) = (bytes, &bytes[bytes.len()..]);
    }
    let room = NAME_MAX.saturating_sub(marker.len() + ext.len());
    let stem = shorten(stem, room);
    OsString::from_vec([stem, marker.as_bytes(), ext].concat())
}

/// The first `max` bytes of `stem`, not cutting a UTF-8 character in two.
fn shorten(stem: &[u8], max: usize) -> &[u8] {
    if stem.len() <= max {
        return stem;
    }
    let mut end = max;
    while end > 0 && (stem[end] & 0b1100_0000) == 0b1000_0000 {
        end -= 1;
    }
    &stem[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

    fn restored(name: &str, n: u32) -> String {
        restored_name(OsStr::new(name), n, false)
            .into_string()
            .unwrap()
    }

    #[test]
    fn restored_names_keep_the_extension() {
        assert_eq!(restored("cat.jpg", 1), "cat (restored).jpg");
        assert_eq!(restored("cat.jpg", 2), "cat (restored 2).jpg");
        assert_eq!(restored("archive.tar.gz", 3), "archive.tar (restored 3).gz");
    }

    #[test]
    fn names_without_an_extension() {
        assert_eq!(restored("README", 1), "README (restored)");
        assert_eq!(restored(".bashrc", 1), ".bashrc (restored)");
        assert_eq!(restored("trailing.", 1), "trailing. (restored)");
    }

    #[test]
    fn directories_keep_their_dots() {
        let name = restored_name(OsStr::new("photos.2024"), 2, true);
        assert_eq!(name, "photos.2024 (restored 2)");
    }

    #[test]
    fn non_utf8_names_stay_bytes() {
        let name = restored_name(OsStr::from_bytes(b"caf\xe9.jpg"), 1, false);
        assert_eq!(name.as_bytes(), b"caf\xe9 (restored).jpg");
    }

    #[test]
    fn long_names_are_shortened_to_255_bytes() {
        let long = format!("{}.jpg", "a".repeat(251));
        let name = restored(&long, 12);
        assert_eq!(name.len(), 255);
        assert!(name.ends_with("a (restored 12).jpg"), "{name}");
        // Multi-byte characters are not cut in two.
        let wide = format!("{}.jpg", "é".repeat(125));
        let name = restored(&wide, 1);
        assert!(name.len() <= 255);
        assert!(name.ends_with("é (restored).jpg"), "{name}");
    }

    #[test]
    fn an_overlong_extension_is_part_of_the_stem() {
        let odd = format!("a.{}", "x".repeat(250));
        let name = restored(&odd, 1);
        assert_eq!(name.len(), 255);
        assert!(name.ends_with(" (restored)"));
    }

    #[test]
    fn original_paths_must_stay_inside_the_gallery() {
        assert_eq!(
            safe_original(b"albums/cat.jpg"),
            Some(PathBuf::from("gallery/albums/cat.jpg"))
        );
        assert_eq!(safe_original(b"../etc/passwd"), None);
        assert_eq!(safe_original(b"/etc/passwd"), None);
        assert_eq!(safe_original(b"a/../../b"), None);
        assert_eq!(safe_original(b""), None);
    }

    #[test]
    fn unknown_original_paths_explain_themselves() {
        let link = fake(b"link", None, None);
        assert!(original_target(&link).unwrap_err().contains("use --to"));
        let mut private = fake(b"secret", None, None);
        private.original_path = Err(Unknown::PermissionDenied);
        assert_eq!(original_target(&private).unwrap_err(), "permission denied");
    }

    #[test]
    fn a_taken_target_names_the_ways_out() {
        let file = fake(b"cat (2).jpg", Some("cat.jpg"), None);
        let target = Path::new("gallery/cat.jpg");
        assert_eq!(
            already_exists(target, false, &file, false),
            "gallery/cat.jpg already exists (--rename restores it under a free name, \
             --to PATH elsewhere; `mv` of .trash/cat (2).jpg over it would replace it, \
             putting the current file in the trash as replaced)"
        );
        assert_eq!(
            already_exists(Path::new("gallery/keep.jpg"), false, &file, true),
            "gallery/keep.jpg already exists (--rename restores it under a free name; \
             `mv` of .trash/cat (2).jpg over it would replace it, putting the current \
             file in the trash as replaced)"
        );
        // No mv hint where a rename could not replace: a directory either side.
        assert_eq!(
            already_exists(target, true, &file, false),
            "gallery/cat.jpg already exists (--rename restores it under a free name, \
             --to PATH elsewhere)"
        );
        let mut dir = fake(b"albums", Some("albums"), None);
        dir.stat.kind = Kind::Dir;
        assert!(!already_exists(Path::new("gallery/albums"), false, &dir, false).contains("mv"));
    }

    #[test]
    fn into_a_directory_uses_the_original_file_name() {
        assert_eq!(
            original_name(&fake(b"cat (2).jpg", Some("albums/cat.jpg"), None)),
            "cat.jpg"
        );
        assert_eq!(original_name(&fake(b"link", None, None)), "link");
    }
}

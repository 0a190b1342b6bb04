//! `gallery-trash undo`: restore everything the most recent deleting
//! command removed. Every entry galleryfs knows the deleter of carries
//! `user.trash.deleted_by` (the deleting thread and its start time), so the
//! entries sharing the deleter of the newest deletion are one command's
//! work: the 200 files of `rm *.jpg`, or the one folder entry of `rm -r
//! dir`. `undo --list` shows those commands, newest first.
//!
//! Only entries the caller may restore count (the sticky-bit rule of
//! `.trash`: their own, or any for root), and never litter (programs'
//! temporary files), which `list` leaves out too. The undo restores nothing when an
//! original place is taken, unless `--rename` or `--to`.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use galleryfs::contract;

use crate::cli::UndoArgs;
use crate::entries::{self, Deleter, Entry, Measured, Stat};
use crate::escape::escape;
use crate::human;
use crate::json;
use crate::mounts::Galleryfs;
use crate::prompt;
use crate::report::{Report, describe};
use crate::resolve::{Resolver, newest_first};
use crate::restore::{self, Destination, How};
use crate::syscalls;
use crate::table::{self, DeletionRow, Summary};

pub(crate) const NOTHING_TO_UNDO: &str = "nothing to undo: no entry of the trash that you may \
     restore records the command that deleted it";

/// The entries one command put in the trash, newest first.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub deleter: Deleter,
    pub entries: Vec<Entry>,
}

impl Group {
    fn newest(&self) -> Option<DateTime<Utc>> {
        self.entries.first().and_then(|e| e.deleted_at)
    }
}

/// Whether `undo` counts `e`: `euid` may restore it (the sticky-bit rule)
/// and it records its original path and the command that deleted it.
fn undoable(e: &Entry, trash: &Stat, euid: u32) -> bool {
    e.deleted_by.is_some() && e.original_path.is_ok() && entries::may_remove(trash, &e.stat, euid)
}

/// The entries by deleter, each group newest first, the group with the
/// newest deletion first (the order of `versions`, which breaks ties within
/// a second by the status change). Entries without a deleter are left out.
pub(crate) fn groups(entries: impl IntoIterator<Item = Entry>) -> Vec<Group> {
    let mut by: HashMap<Deleter, Vec<Entry>> = HashMap::new();
    for e in entries {
        if let Some(deleter) = e.deleted_by {
            by.entry(deleter).or_default().push(e);
        }
    }
    let mut groups: Vec<Group> = by
        .into_iter()
        .map(|(deleter, mut entries)| {
            entries.sort_by(newest_first);
            Group { deleter, entries }
        })
        .collect();
    groups.sort_by(|a, b| {
        newest_first(&a.entries[0], &b.entries[0]).then_with(|| a.deleter.cmp(&b.deleter))
    });
    groups
}

/// The folder that holds every one of `originals` (paths relative to
/// `gallery/`): their common parent, relative to `gallery/` (empty for
/// `gallery/` itself). `albums/a.jpg` and `albums/b.jpg` are in `albums`,
/// the folder `albums/2026` is in `albums`.
pub(crate) fn common_parent<'a>(originals: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut common: Option<Vec<&'a OsStr>> = None;
    for original in originals {
        let parent: Vec<&OsStr> = Path::new(OsStr::from_bytes(original))
            .parent()
            .map(|p| {
                p.components()
                    .filter_map(|c| match c {
                        Component::Normal(n) => Some(n),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        common = Some(match common {
            None => parent,
            Some(so_far) => so_far
                .into_iter()
                .zip(parent)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let parts: Vec<&[u8]> = common
        .unwrap_or_default()
        .into_iter()
        .map(OsStr::as_bytes)
        .collect();
    parts.join(&b'/')
}

pub(crate) fn run(args: &UndoArgs) -> ExitCode {
    let mut report = Report::new("undo");
    let resolver = match Resolver::new() {
        Ok(r) => r,
        Err(e) => {
            report.error(format!(
                "cannot read {}: {}",
                contract::MOUNTINFO,
                describe(&e)
            ));
            return report.exit_code();
        }
    };
    let fs = match resolver.mount(args.mount.as_deref()) {
        Ok(fs) => fs,
        Err(message) => return report.usage(message),
    };
    let (all, trash) =
        match entries::read_all(&fs).and_then(|all| Ok((all, entries::lstat(&fs.trash_dir())?))) {
            Ok(found) => found,
            Err(e) => {
                report.error(format!(
                    "cannot read {}: {}",
                    escape(fs.trash_dir().as_os_str().as_bytes()),
                    describe(&e)
                ));
                return report.exit_code();
            }
        };
    let euid = syscalls::euid();
    // Litter is no command's work to undo: an editor's swap file going back
    // would only be in the way.
    let (mine, others): (Vec<Entry>, Vec<Entry>) = all
        .into_iter()
        .filter(|e| !e.litter)
        .partition(|e| undoable(e, &trash, euid));
    let unrecorded = others
        .iter()
        .filter(|e| e.deleted_by.is_none() && entries::may_remove(&trash, &e.stat, euid))
        .count();
    let groups = groups(mine);
    if args.list {
        list(args, &groups, unrecorded);
        return report.exit_code();
    }
    let Some(group) = groups.into_iter().next() else {
        report.error(NOTHING_TO_UNDO);
        return report.exit_code();
    };
    let mut chosen = group.entries;
    restore::parents_first(&mut chosen);
    let destination = match &args.to {
        None => None,
        Some(to) if !to.is_dir() && chosen.len() > 1 => {
            return report.usage(format!(
                "--to PATH must be an existing directory: the last deletion has {}",
                human::entries(chosen.len())
            ));
        }
        Some(to) => match restore::destination(&resolver, to) {
            Ok(d) => Some(d),
            Err(message) => {
                report.error(message);
                return report.exit_code();
            }
        },
    };
    let count = human::entries(chosen.len());
    if !args.yes || args.dry_run {
        let rows = entries::measure(chosen.clone());
        print!("{}", table::render(&rows));
        println!("{}", table::footer(&Summary::of(&rows)));
    }
    if !args.rename {
        let taken = taken_places(&fs, &chosen, destination.as_ref());
        if !taken.is_empty() {
            let n = taken.len();
            for place in taken {
                report.error(place);
            }
            report.error(refusal(n, destination.is_some()));
            return report.exit_code();
        }
    }
    if args.dry_run {
        println!("Dry run: would restore {count}; nothing changed.");
        return report.exit_code();
    }
    if !args.yes {
        match prompt::confirm_on_stderr(&format!("Restore {count}?")) {
            Ok(true) => {}
            Ok(false) => {
                println!("Nothing restored.");
                return report.exit_code();
            }
            Err(e) => {
                report.error(format!("cannot read the answer: {}", describe(&e)));
                return report.exit_code();
            }
        }
    }
    let how = How {
        at: None,
        destination: destination.as_ref(),
        rename: args.rename,
        dry_run: false,
    };
    restore::restore_all(&fs, &chosen, &how, euid, |entry, placed| match placed {
        Ok(placed) => println!("{}", restore::restored_line(entry, &placed)),
        Err(message) => report.error(format!("Restore failed: {message}")),
    });
    report.exit_code()
}

/// `nothing restored: 2 places are taken (…)`: the last error line of a refused undo.
fn refusal(taken: usize, to_given: bool) -> String {
    let places = if taken == 1 {
        "1 place is taken".to_string()
    } else {
        format!("{taken} places are taken")
    };
    let options = if to_given {
        "--rename restores under free names"
    } else {
        "--rename restores under free names, --to DIR elsewhere"
    };
    format!("nothing restored: {places} ({options})")
}

/// Where the undo would restore over something, one message each (empty:
/// none): a place that exists now, one that another entry of this
/// deletion goes to first, or a place inside a folder entry that goes back
/// first and holds it already. `chosen` is in restore order.
fn taken_places(
    fs: &Galleryfs,
    chosen: &[Entry],
    destination: Option<&Destination>,
) -> Vec<String> {
    let mut claimed: Vec<(PathBuf, &Entry)> = Vec::new();
    let mut taken = Vec::new();
    for entry in chosen {
        // An unusable target fails at its restore, with its reason.
        let Ok((target, _)) = restore::target(fs, entry, destination) else {
            continue;
        };
        let place = escape(target.as_os_str().as_bytes());
        let goes = restore::shown(entry);
        if let Some((_, first)) = claimed.iter().find(|(t, _)| *t == target) {
            taken.push(format!(
                "{place}: {} goes there too ({goes} goes there)",
                restore::shown(first)
            ));
        } else if let Some((folder, first)) = claimed
            .iter()
            .find(|(t, _)| *t != target && target.starts_with(t))
            && let Ok(inside) = target.strip_prefix(folder)
            && exists(&first.path.join(inside))
        {
            taken.push(format!(
                "{place} already exists in {}, which goes back first ({goes} goes there)",
                restore::shown(first)
            ));
        } else if exists(&fs.root.join(&target)) {
            taken.push(format!("{place} already exists ({goes} goes there)"));
        }
        claimed.push((target, entry));
    }
    taken
}

/// Whether something is at `path` (a dangling symlink is something). What
/// cannot be looked at counts as free: its restore will say why it fails.
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// `undo --list`: the groups as a table (or JSON), newest first.
fn list(args: &UndoArgs, groups: &[Group], unrecorded: usize) {
    let measured: Vec<(DeletionRow, Vec<Measured>)> = groups
        .iter()
        .map(|g| {
            let rows = entries::measure(g.entries.clone());
            let row = DeletionRow {
                newest: g.newest(),
                pid: g.deleter.0,
                count: rows.len(),
                place: common_parent(
                    g.entries
                        .iter()
                        .filter_map(|e| e.original_path.as_deref().ok()),
                ),
                size: rows.iter().map(|r| r.size).sum(),
            };
            (row, rows)
        })
        .collect();
    if args.json {
        let array: Vec<_> = groups
            .iter()
            .zip(&measured)
            .map(|(g, (row, rows))| json::deletion(row, g.deleter, rows))
            .collect();
        println!("{}", json::array(&array));
        return;
    }
    if measured.is_empty() {
        println!("Nothing to undo");
    } else {
        let rows: Vec<DeletionRow> = measured.into_iter().map(|(row, _)| row).collect();
        print!("{}", table::render_deletions(&rows));
        println!("{}", table::deletions_footer(&rows));
    }
    if unrecorded > 0 {
        println!(
            "Not listed: {} that {} no deleter (see gallery-trash list)",
            human::entries(unrecorded),
            if unrecorded == 1 { "records" } else { "record" }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

    fn by(deleter: Option<Deleter>, name: &str, original: &str, at: &str) -> Entry {
        let mut e = fake(name.as_bytes(), Some(original), Some(at));
        e.deleted_by = deleter;
        e
    }

    fn names(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| e.name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn groups_are_by_deleter_newest_first() {
        let rm_jpg = Some((100, 5));
        let rm_r = Some((200, 7));
        let same_pid_later_thread = Some((100, 9));
        let trash = vec![
            by(rm_jpg, "a1.jpg", "a1.jpg", "2026-11-26T10:00:00Z"),
            by(rm_r, "dir", "albums/dir", "2026-11-26T11:00:00Z"),
            by(rm_jpg, "a2.jpg", "a2.jpg", "2026-11-26T10:00:01Z"),
            by(None, "old.jpg", "old.jpg", "2026-11-26T12:00:00Z"),
            by(
                same_pid_later_thread,
                "b.jpg",
                "b.jpg",
                "2026-11-26T09:00:00Z",
            ),
        ];
        let groups = groups(trash);
        let summary: Vec<(Deleter, Vec<String>)> = groups
            .iter()
            .map(|g| (g.deleter, names(&g.entries)))
            .collect();
        assert_eq!(
            summary,
            [
                ((200, 7), vec!["dir".to_string()]),
                ((100, 5), vec!["a2.jpg".to_string(), "a1.jpg".to_string()]),
                ((100, 9), vec!["b.jpg".to_string()]),
            ]
        );
        assert_eq!(
            groups[1].newest(),
            contract::parse_time(b"2026-11-26T10:00:01Z")
        );
        assert!(super::groups(Vec::new()).is_empty());
    }

    #[test]
    fn ties_in_a_second_go_to_the_later_status_change() {
        let same = "2026-11-26T10:00:00Z";
        let mut first = by(Some((1, 1)), "x.jpg", "x.jpg", same);
        let mut second = by(Some((2, 2)), "y.jpg", "y.jpg", same);
        first.stat.ctime = (100, 0);
        second.stat.ctime = (100, 5);
        let groups = groups(vec![first, second]);
        assert_eq!(groups[0].deleter, (2, 2));
    }

    #[test]
    fn only_entries_you_may_restore_with_a_deleter_count() {
        let trash_dir = Stat {
            kind: entries::Kind::Dir,
            uid: 0,
            gid: 0,
            mode: 0o1777,
            len: 0,
            ctime: (0, 0),
        };
        let mine = by(Some((1, 1)), "a", "a", "2026-11-26T10:00:00Z");
        assert!(undoable(&mine, &trash_dir, 1000));
        assert!(undoable(&mine, &trash_dir, 0));
        assert!(!undoable(&mine, &trash_dir, 65534));
        let unrecorded = by(None, "b", "b", "2026-11-26T10:00:00Z");
        assert!(!undoable(&unrecorded, &trash_dir, 1000));
        let mut link = fake(b"link", None, None);
        link.deleted_by = Some((1, 1));
        assert!(!undoable(&link, &trash_dir, 1000));
    }

    #[test]
    fn where_is_the_common_parent() {
        let of = |paths: &[&str]| {
            String::from_utf8(common_parent(paths.iter().map(|p| p.as_bytes()))).unwrap()
        };
        assert_eq!(of(&["albums/a.jpg", "albums/b.jpg"]), "albums");
        assert_eq!(of(&["albums/2026"]), "albums");
        assert_eq!(of(&["albums/2026/"]), "albums");
        assert_eq!(of(&["a.jpg"]), "");
        assert_eq!(
            of(&["albums/2026/x/a.jpg", "albums/2026/y/b.jpg"]),
            "albums/2026"
        );
        assert_eq!(of(&["albums/2026/a.jpg", "albums/2025/b.jpg"]), "albums");
        assert_eq!(of(&["albums/a.jpg", "other/b.jpg"]), "");
        assert_eq!(of(&["albums/a.jpg", "albums2/b.jpg"]), "");
        assert_eq!(of(&[]), "");
        assert_eq!(
            common_parent([&b"caf\xe9/a"[..], b"caf\xe9/b"]),
            b"caf\xe9".to_vec()
        );
    }

    #[test]
    fn restore_order_puts_folders_before_their_contents() {
        let mut chosen = vec![
            by(
                Some((1, 1)),
                "x.jpg",
                "albums/2026/x.jpg",
                "2026-11-26T10:00:05Z",
            ),
            by(Some((1, 1)), "2026", "albums/2026", "2026-11-26T10:00:06Z"),
            by(Some((1, 1)), "b.jpg", "b.jpg", "2026-11-26T10:00:01Z"),
            by(Some((1, 1)), "a (2).jpg", "a.jpg", "2026-11-26T10:00:03Z"),
            by(Some((1, 1)), "a.jpg", "a.jpg", "2026-11-26T10:00:02Z"),
        ];
        restore::parents_first(&mut chosen);
        assert_eq!(
            names(&chosen),
            ["a.jpg", "a (2).jpg", "b.jpg", "2026", "x.jpg"]
        );
    }

    #[test]
    fn a_refusal_names_the_ways_out() {
        assert_eq!(
            refusal(1, false),
            "nothing restored: 1 place is taken (--rename restores under free names, --to DIR elsewhere)"
        );
        assert_eq!(
            refusal(3, true),
            "nothing restored: 3 places are taken (--rename restores under free names)"
        );
    }

    #[test]
    fn taken_places_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let gfs = Galleryfs {
            root: root.clone(),
            dev: b"0:1".to_vec(),
        };
        fs::create_dir_all(root.join("gallery/albums")).unwrap();
        fs::create_dir_all(root.join(".trash/2026/sub")).unwrap();
        fs::write(root.join("gallery/albums/taken.jpg"), b"").unwrap();
        fs::write(root.join(".trash/2026/sub/in.jpg"), b"").unwrap();
        let entry = |name: &str, original: &str| {
            let mut e = by(Some((1, 1)), name, original, "2026-11-26T10:00:00Z");
            e.path = root.join(".trash").join(name);
            e
        };
        let mut folder = entry("2026", "albums/2026");
        folder.stat.kind = entries::Kind::Dir;
        let chosen = vec![
            entry("free.jpg", "albums/free.jpg"),
            entry("taken.jpg", "albums/taken.jpg"),
            entry("taken (2).jpg", "albums/taken.jpg"),
            folder,
            entry("in.jpg", "albums/2026/sub/in.jpg"),
            entry("out.jpg", "albums/2026/sub/out.jpg"),
        ];
        assert_eq!(
            taken_places(&gfs, &chosen, None),
            [
                "gallery/albums/taken.jpg already exists (.trash/taken.jpg goes there)",
                "gallery/albums/taken.jpg: .trash/taken.jpg goes there too (.trash/taken (2).jpg goes there)",
                "gallery/albums/2026/sub/in.jpg already exists in .trash/2026, which goes back first (.trash/in.jpg goes there)",
            ]
        );
    }
}

//! `gallery-trash restore --under PATH [--since TIME] [--until TIME]`:
//! every entry whose original path is PATH or below it, deleted in the
//! window, back to its original path. Of each original path, its most
//! recent deletion in the window (what `restore PATH` would take); folders
//! before what goes into them. Like `restore`, it never replaces anything
//! and reports each failure, going on with the rest. Litter (programs'
//! temporary files) stays in the trash.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;

use galleryfs::contract;

use crate::cli::RestoreArgs;
use crate::entries::{self, Entry};
use crate::escape::escape;
use crate::filter::{self, Filter};
use crate::human;
use crate::report::{Report, describe};
use crate::resolve::{Resolver, newest_first};
use crate::restore::{self, How};
use crate::syscalls;
use crate::table::{self, Summary};

pub(crate) fn run(args: &RestoreArgs, under: &Path) -> ExitCode {
    let mut report = Report::new("restore");
    if let Err(message) = filter::check_window(args.since.as_ref(), args.until.as_ref()) {
        return report.usage(message);
    }
    let resolver = match Resolver::new() {
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
    let located = match resolver.locate(under) {
        Ok(located) => located,
        Err(e) => return report.usage(format!("--under: {e}")),
    };
    let prefix = match filter::under_of(&located, under) {
        Ok(prefix) => prefix,
        Err(message) => return report.usage(message),
    };
    let fs = located.fs;
    let destination = match &args.to {
        None => None,
        Some(to) if !to.is_dir() => {
            return report.usage("--to PATH must be an existing directory with --under");
        }
        Some(to) => match restore::destination(&resolver, to) {
            Ok(d) => Some(d),
            Err(message) => {
                report.error(format!("Restore failed: {message}"));
                return report.exit_code();
            }
        },
    };
    let (all, trash) =
        match entries::read_all(&fs).and_then(|all| Ok((all, entries::lstat(&fs.trash_dir())?))) {
            Ok(found) => found,
            Err(e) => {
                report.error(format!(
                    "Restore failed: cannot read {}: {}",
                    escape(fs.trash_dir().as_os_str().as_bytes()),
                    describe(&e)
                ));
                return report.exit_code();
            }
        };
    let filter = Filter {
        under: Some(prefix.clone()),
        since: args.since.clone(),
        until: args.until.clone(),
        reasons: Vec::new(),
    };
    let euid = syscalls::euid();
    // Litter stays: an editor's swap file put back would only be in the way.
    let (mine, others): (Vec<Entry>, Vec<Entry>) = all
        .iter()
        .filter(|e| !e.litter && filter.matches(e))
        .cloned()
        .partition(|e| entries::may_remove(&trash, &e.stat, euid));
    let mut chosen = latest_of_each(mine);
    if chosen.is_empty() {
        let mut message = format!("Restore failed: nothing in the trash {}", filter.describe());
        if !others.is_empty() {
            message.push_str(&format!(
                " that you may restore ({} of other users)",
                human::entries(others.len())
            ));
        } else if let Some(folder) = removed_whole(&all, &prefix) {
            message.push_str(&format!(
                "; {} was removed with its folder {}: restore that",
                filter::gallery_display(&prefix),
                restore::shown(folder),
            ));
        }
        report.error(message);
        return report.exit_code();
    }
    restore::parents_first(&mut chosen);
    if args.dry_run {
        let rows = entries::measure(chosen);
        print!("{}", table::render(&rows));
        println!("{}", table::footer(&Summary::of(&rows)));
        println!(
            "Dry run: would restore {}; nothing changed.",
            human::entries(rows.len())
        );
    } else {
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
    }
    if !others.is_empty() {
        println!(
            "Left {} of other users (permission denied).",
            human::entries(others.len())
        );
    }
    report.exit_code()
}

/// Of each original path, its most recent deletion (`restore PATH`'s choice).
fn latest_of_each(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by(newest_first);
    let mut seen = std::collections::HashSet::new();
    entries
        .into_iter()
        .filter(|e| {
            let original = e.original_path.as_deref().unwrap_or_default();
            let trimmed = Path::new(std::ffi::OsStr::from_bytes(original));
            seen.insert(trimmed.components().collect::<std::path::PathBuf>())
        })
        .collect()
}

/// The folder entry that holds `prefix` (its original path is a folder
/// above `prefix`): what was removed whole with `rm -r`, and is to be
/// restored as a whole. The most recent one.
fn removed_whole<'a>(all: &'a [Entry], prefix: &[u8]) -> Option<&'a Entry> {
    let mut found: Vec<&Entry> = all
        .iter()
        .filter(|e| e.stat.kind == entries::Kind::Dir)
        .filter(|e| {
            e.original_path
                .as_deref()
                .is_ok_and(|p| filter::is_under(prefix, p) && !filter::is_under(p, prefix))
        })
        .collect();
    found.sort_by(|a, b| newest_first(a, b));
    found.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

    fn names(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| e.name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn each_original_path_once_its_latest() {
        let trash = vec![
            fake(b"cat.jpg", Some("a/cat.jpg"), Some("2026-11-26T10:00:00Z")),
            fake(
                b"cat (2).jpg",
                Some("a/cat.jpg"),
                Some("2026-11-26T11:00:00Z"),
            ),
            fake(b"dog.jpg", Some("a/dog.jpg"), Some("2026-11-26T09:00:00Z")),
            fake(b"b", Some("a/b/"), Some("2026-11-26T09:00:00Z")),
            fake(b"b (2)", Some("a/b"), Some("2026-11-26T08:00:00Z")),
        ];
        let mut chosen = latest_of_each(trash);
        chosen.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(names(&chosen), ["b", "cat (2).jpg", "dog.jpg"]);
    }

    #[test]
    fn a_path_inside_a_folder_removed_whole_names_the_folder() {
        let mut folder = fake(b"2026", Some("albums/2026"), Some("2026-11-26T10:00:00Z"));
        folder.stat.kind = entries::Kind::Dir;
        let file = fake(b"x.jpg", Some("albums/x.jpg"), Some("2026-11-26T10:00:00Z"));
        let trash = vec![folder, file];
        let found = |prefix: &[u8]| removed_whole(&trash, prefix).map(|e| e.name.clone());
        assert_eq!(found(b"albums/2026/sub"), Some("2026".into()));
        assert_eq!(found(b"albums/2026"), None);
        assert_eq!(found(b"albums"), None);
        assert_eq!(found(b"albums/x.jpg/y"), None);
    }
}

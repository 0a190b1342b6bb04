//! `gallery-trash purge` and `empty`: permanent deletion through the mount
//! (unlink, or rmdir bottom-up for a directory entry), after a `[y/N]`
//! confirmation on stderr unless `--yes`; `--dry-run` shows and stops.
//! `purge PATTERN` takes entries by glob (`crate::pattern`), `empty
//! --older-than` only the old ones.

use std::collections::HashMap;
use std::fs;
use std::io::{self, IsTerminal};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use galleryfs::contract;
use indicatif::{ProgressBar, ProgressStyle};

use crate::bulk;
use crate::cli::{EmptyArgs, PurgeArgs};
use crate::entries::{self, Entry, Kind, Stat};
use crate::escape::escape;
use crate::human;
use crate::mounts::Galleryfs;
use crate::order::{self, SortKey};
use crate::pattern;
use crate::prompt;
use crate::report::{Report, describe};
use crate::resolve::Resolver;
use crate::syscalls;
use crate::table::{self, Summary};

/// A progress bar is shown (on a terminal) above this many entries.
const PROGRESS_THRESHOLD: usize = 300;
const PROGRESS_TEMPLATE: &str = "{msg} [{bar:40}] {pos}/{len}";
const WARNING: &str = "This cannot be undone.";

pub(crate) fn purge(args: &PurgeArgs) -> ExitCode {
    let mut report = Report::new("purge");
    let mut resolver = match Resolver::new() {
        Ok(r) => r,
        Err(e) => {
            report.error(format!(
                "Purge failed: cannot read {}: {}",
                contract::MOUNTINFO,
                describe(&e)
            ));
            return report.exit_code();
        }
    };
    let euid = syscalls::euid();
    let mut trash_stats: HashMap<PathBuf, Stat> = HashMap::new();
    let mut chosen: Vec<(Galleryfs, Entry)> = Vec::new();
    let mut patterns = Vec::new();
    for arg in &args.entries {
        let (fs, entry) = match resolver.resolve(arg) {
            Ok(found) => found,
            // What names an entry is one, even with a `*` in its name.
            Err(_) if pattern::is_pattern(arg.as_os_str().as_bytes()) => {
                patterns.push(arg.as_os_str().as_bytes());
                continue;
            }
            Err(e) => {
                report.error(format!("Purge failed: {e}"));
                continue;
            }
        };
        if chosen
            .iter()
            .any(|(f, e)| f.root == fs.root && e.name == entry.name)
        {
            continue;
        }
        let trash = match trash_stats.get(&fs.root) {
            Some(stat) => stat.clone(),
            None => match entries::lstat(&fs.trash_dir()) {
                Ok(stat) => trash_stats.entry(fs.root.clone()).or_insert(stat).clone(),
                Err(e) => {
                    report.error(format!(
                        "Purge failed: {} ({})",
                        describe(&e),
                        shown(&entry)
                    ));
                    continue;
                }
            },
        };
        if !entries::may_remove(&trash, &entry.stat, euid) {
            report.error(format!(
                "Purge failed: permission denied ({})",
                shown(&entry)
            ));
            continue;
        }
        chosen.push((fs, entry));
    }
    let mut kept = 0;
    if !patterns.is_empty() {
        match by_pattern(&resolver, &patterns, euid, &mut report) {
            Ok((fs, found, others)) => {
                kept = others;
                for entry in found {
                    if !chosen
                        .iter()
                        .any(|(f, e)| f.root == fs.root && e.name == entry.name)
                    {
                        chosen.push((fs.clone(), entry));
                    }
                }
            }
            Err(message) => return report.usage(message),
        }
    }
    let kept_line = || {
        if kept > 0 {
            println!(
                "Kept {} of other users that match (permission denied).",
                human::items(kept)
            );
        }
    };
    if chosen.is_empty() {
        kept_line();
        return report.exit_code();
    }
    if !args.yes || args.dry_run {
        let rows = entries::measure(chosen.iter().map(|(_, e)| e.clone()).collect());
        print!("{}", table::render(&rows));
        println!("{}", table::footer(&Summary::of(&rows)));
        kept_line();
        if args.dry_run {
            println!(
                "Dry run: would delete {}; nothing changed.",
                human::items(rows.len())
            );
            return report.exit_code();
        }
        eprintln!("{WARNING}");
        let question = format!("Permanently delete {}?", human::items(rows.len()));
        if !confirmed(&question, &mut report) {
            return report.exit_code();
        }
    } else {
        kept_line();
    }
    let bar = progress(chosen.len(), "Deleting");
    // Each mount's entries together, in the order chosen.
    let mut rest = &chosen[..];
    while let Some((fs, _)) = rest.first() {
        let run = rest.iter().take_while(|(f, _)| f.root == fs.root).count();
        let entries: Vec<&Entry> = rest[..run].iter().map(|(_, e)| e).collect();
        rest = &rest[run..];
        let trash = trash_stats.get(&fs.root).cloned();
        let trash = match trash.map_or_else(|| entries::lstat(&fs.trash_dir()), Ok) {
            Ok(trash) => trash,
            Err(e) => {
                for entry in entries {
                    report.error(format!("Purge failed: {} ({})", describe(&e), shown(entry)));
                }
                continue;
            }
        };
        remove_all(fs, &trash, euid, &entries, &bar, |entry, done| match done {
            Ok(()) => bar.suspend(|| println!("purged {}", escape(entry.name.as_bytes()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => bar.suspend(|| {
                report.error(format!("Purge failed: no such entry ({})", shown(entry)))
            }),
            Err(e) => bar.suspend(|| {
                report.error(format!("Purge failed: {} ({})", describe(&e), shown(entry)))
            }),
        });
    }
    bar.finish_and_clear();
    report.exit_code()
}

/// The entries of the current directory's mount that `patterns` take and
/// that the caller may delete, and how many others they take. A pattern
/// that takes nothing is a failure reported here; the error (no mount, an
/// unreadable trash) is a whole message.
fn by_pattern(
    resolver: &Resolver,
    patterns: &[&[u8]],
    euid: u32,
    report: &mut Report,
) -> Result<(Galleryfs, Vec<Entry>, usize), String> {
    let shown_all = || {
        let shown: Vec<String> = patterns.iter().map(|p| escape(p)).collect();
        shown.join(" ")
    };
    let fs = resolver.mount(None).map_err(|e| {
        format!(
            "PATTERN {} matches in the current directory's mount: {e}",
            shown_all()
        )
    })?;
    let (all, trash) = entries::read_all(&fs)
        .and_then(|all| Ok((all, entries::lstat(&fs.trash_dir())?)))
        .map_err(|e| {
            format!(
                "cannot read {}: {}",
                escape(fs.trash_dir().as_os_str().as_bytes()),
                describe(&e)
            )
        })?;
    for p in patterns {
        if !all.iter().any(|e| pattern::matches(p, e)) {
            report.error(format!(
                "Purge failed: nothing in the trash matches {} (by entry name, original name, or with a / original path)",
                escape(p)
            ));
        }
    }
    let (mine, others): (Vec<Entry>, Vec<Entry>) = all
        .into_iter()
        .filter(|e| patterns.iter().any(|p| pattern::matches(p, e)))
        .partition(|e| entries::may_remove(&trash, &e.stat, euid));
    Ok((fs, mine, others.len()))
}

/// How many rows of what `empty` deletes it shows before asking.
const EMPTY_SHOWN: usize = 10;

pub(crate) fn empty(args: &EmptyArgs) -> ExitCode {
    let mut report = Report::new("empty");
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
    if all.is_empty() {
        println!("Trash is empty");
        return report.exit_code();
    }
    let cutoff = args
        .older_than
        .as_ref()
        .and_then(|o| chrono::Duration::from_std(o.duration).ok())
        .map(|d| Utc::now() - d);
    // An entry whose deletion time is unknown is not known to be old.
    let aged: Vec<Entry> = all
        .into_iter()
        .filter(|e| cutoff.is_none_or(|c| e.deleted_at.is_some_and(|d| d <= c)))
        .collect();
    let ago = args
        .older_than
        .as_ref()
        .map(|o| format!(" deleted more than {} ago", o.text))
        .unwrap_or_default();
    if aged.is_empty() {
        println!("Nothing in the trash was{ago}.");
        return report.exit_code();
    }
    let euid = syscalls::euid();
    // Decided by the kernel's rule for a sticky directory (entries::may_remove),
    // so the count asked about is what the deletion will do.
    let (mine, others): (Vec<Entry>, Vec<Entry>) = aged
        .into_iter()
        .partition(|e| entries::may_remove(&trash, &e.stat, euid));
    // Litter goes too, but is only mentioned: it is not what people count.
    let others = others.iter().filter(|e| !e.litter).count();
    let kept_line = |verb: &str| {
        if others > 0 {
            println!(
                "{} of other users {verb} kept (permission denied).",
                human::items(others)
            );
        }
    };
    if mine.is_empty() {
        kept_line("are");
        println!("Nothing to delete.");
        return report.exit_code();
    }
    let litter = mine.iter().filter(|e| e.litter).count();
    let real: Vec<Entry> = mine.iter().filter(|e| !e.litter).cloned().collect();
    // Sizes only for a table: measuring walks every tree.
    let table_rows = || {
        let mut rows = entries::measure(real.clone());
        order::sort(&mut rows, SortKey::Deleted, false);
        rows
    };
    let what = match (real.len(), litter) {
        (real, 0) => human::items(real),
        (0, litter) => human::temporaries(litter),
        (real, litter) => format!(
            "{} (and {})",
            human::items(real),
            human::temporaries(litter)
        ),
    };
    if args.dry_run {
        let rows = table_rows();
        if !rows.is_empty() {
            print!("{}", table::render(&rows));
            println!("{}", table::footer(&Summary::of(&rows)));
        }
        kept_line("would be");
        println!("Dry run: would delete {what}{ago}; nothing changed.");
        return report.exit_code();
    }
    if !args.yes {
        let rows = table_rows();
        if !rows.is_empty() {
            print!("{}", table::render(&rows[..rows.len().min(EMPTY_SHOWN)]));
            if rows.len() > EMPTY_SHOWN {
                println!(
                    "... and {} more (--dry-run lists them all)",
                    rows.len() - EMPTY_SHOWN
                );
            }
            println!("{}", table::footer(&Summary::of(&rows)));
        }
        kept_line("will be");
        eprintln!("{WARNING}");
        let all = if args.older_than.is_some() {
            ""
        } else {
            "all "
        };
        if !confirmed(&format!("Delete {all}{what}{ago}?"), &mut report) {
            return report.exit_code();
        }
    }
    let bar = progress(mine.len(), "Emptying the trash");
    let (mut deleted, mut swept) = (0, 0);
    let mine: Vec<&Entry> = mine.iter().collect();
    remove_all(&fs, &trash, euid, &mine, &bar, |entry, done| match done {
        Ok(()) if entry.litter => swept += 1,
        Ok(()) => deleted += 1,
        // Expired or purged by someone else meanwhile: gone all the same.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => bar.suspend(|| {
            report.error(format!(
                "cannot delete {}: {}",
                escape(entry.name.as_bytes()),
                describe(&e)
            ))
        }),
    });
    bar.finish_and_clear();
    match swept {
        0 => println!("Deleted {}.", human::items(deleted)),
        _ => println!(
            "Deleted {} (and {}).",
            human::items(deleted),
            human::temporaries(swept)
        ),
    }
    if others > 0 {
        println!(
            "Kept {} of other users (permission denied).",
            human::items(others)
        );
    }
    report.exit_code()
}

/// Asks; a refusal or an unreadable answer prints `Nothing deleted.`.
fn confirmed(question: &str, report: &mut Report) -> bool {
    match prompt::confirm_on_stderr(question) {
        Ok(true) => true,
        Ok(false) => {
            println!("Nothing deleted.");
            false
        }
        Err(e) => {
            report.error(format!("cannot read the answer: {}", describe(&e)));
            false
        }
    }
}

/// Deletes `entries` of `fs` for good, telling `done` how each went, in
/// order: in bulk requests where the mount takes them, and one by one
/// (`remove`) where it does not, and for each name a request refused, so
/// that the kernel decides and says why.
fn remove_all(
    fs: &Galleryfs,
    trash: &Stat,
    euid: u32,
    entries: &[&Entry],
    bar: &ProgressBar,
    mut done: impl FnMut(&Entry, io::Result<()>),
) {
    let answers = match entries.len() >= bulk::BULK_MIN {
        true => {
            let names: Vec<&std::ffi::OsStr> = entries.iter().map(|e| e.name.as_os_str()).collect();
            bulk::purge(fs, trash, euid, &names, |n| bar.set_position(n as u64))
        }
        false => None,
    };
    for (i, entry) in entries.iter().enumerate() {
        let result = match answers.as_ref().map(|a| a[i]) {
            Some(0) => Ok(()),
            Some(libc::ENOENT) => Err(io::Error::from_raw_os_error(libc::ENOENT)),
            _ => remove(entry),
        };
        done(entry, result);
        if answers.is_none() {
            bar.inc(1);
        }
    }
}

/// Deletes an entry for good: unlink, or a bottom-up unlink/rmdir of a
/// directory's tree (std's remove_dir_all works relative to directory fds
/// and never follows symlinks).
fn remove(entry: &Entry) -> io::Result<()> {
    if entry.stat.kind == Kind::Dir {
        fs::remove_dir_all(&entry.path)
    } else {
        fs::remove_file(&entry.path)
    }
}

fn shown(entry: &Entry) -> String {
    format!("{}/{}", contract::TRASH, escape(entry.name.as_bytes()))
}

fn progress(total: usize, message: &'static str) -> ProgressBar {
    if total <= PROGRESS_THRESHOLD || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(PROGRESS_TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(total as u64)
        .with_style(style.progress_chars("=> "))
        .with_message(message)
}

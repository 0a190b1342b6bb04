//! `gallery-trash purge` and `empty`: permanent deletion through the mount
//! (unlink, or rmdir bottom-up for a directory entry), after a `[y/N]`
//! confirmation unless `--yes`.

use std::collections::HashMap;
use std::fs;
use std::io::{self, IsTerminal};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use galleryfs::contract;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{EmptyArgs, PurgeArgs};
use crate::entries::{self, Entry, Kind, Stat};
use crate::escape::escape;
use crate::human;
use crate::mounts::Galleryfs;
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
    for arg in &args.entries {
        let (fs, entry) = match resolver.resolve(arg) {
            Ok(found) => found,
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
    if chosen.is_empty() {
        return report.exit_code();
    }
    if !args.yes {
        let rows = entries::measure(chosen.iter().map(|(_, e)| e.clone()).collect());
        print!("{}", table::render(&rows));
        println!("{}", table::footer(&Summary::of(&rows)));
        println!("{WARNING}");
        let question = format!("Permanently delete {}?", human::items(rows.len()));
        if !confirmed(&question, &mut report) {
            return report.exit_code();
        }
    }
    let bar = progress(chosen.len(), "Deleting");
    for (_, entry) in &chosen {
        match remove(entry) {
            Ok(()) => bar.suspend(|| println!("purged {}", escape(entry.name.as_bytes()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => bar.suspend(|| {
                report.error(format!("Purge failed: no such entry ({})", shown(entry)))
            }),
            Err(e) => bar.suspend(|| {
                report.error(format!("Purge failed: {} ({})", describe(&e), shown(entry)))
            }),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    report.exit_code()
}

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
    let euid = syscalls::euid();
    let (mine, others): (Vec<Entry>, Vec<Entry>) = all
        .iter()
        .cloned()
        .partition(|e| entries::may_remove(&trash, &e.stat, euid));
    // Litter goes too, but is only mentioned: it is not what people count.
    let others = others.iter().filter(|e| !e.litter).count();
    if !args.yes {
        if others > 0 {
            let verb = if others == 1 { "belongs" } else { "belong" };
            println!(
                "{} {verb} to other users and will be kept.",
                human::items(others)
            );
        }
        println!("{WARNING}");
        let litter = all.iter().filter(|e| e.litter).count();
        let question = match (all.len() - litter, litter) {
            (_, 0) => format!("Delete all {}?", human::items(all.len())),
            (0, litter) => format!("Delete all {}?", human::temporaries(litter)),
            (real, litter) => format!(
                "Delete all {} (and {})?",
                human::items(real),
                human::temporaries(litter)
            ),
        };
        if !confirmed(&question, &mut report) {
            return report.exit_code();
        }
    }
    let bar = progress(mine.len(), "Emptying the trash");
    let (mut deleted, mut swept) = (0, 0);
    for entry in &mine {
        match remove(entry) {
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
        }
        bar.inc(1);
    }
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
    match prompt::confirm(question) {
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

//! `gallery-trash restore` without ENTRY (or with `-i`): the entries deleted
//! from the current folder (or `--under PATH`), numbered as trash-restore
//! numbers them, and a question which to restore: `0`, `1-2`, `0-3,7`.
//! An answer that is not one restores nothing: no guessing at what a typo
//! meant, and no second question a script could loop on.

use std::io::{self, BufRead, IsTerminal, Write};
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
use crate::resolve::Resolver;
use crate::restore::{self, How};
use crate::syscalls;
use crate::table;

/// How an answer may look, for the prompt and the error.
const FORMS: &str = "a number, a range or a list, e.g. 0, 1-2, 0-3,7";

pub(crate) fn run(args: &RestoreArgs) -> ExitCode {
    let mut report = Report::new("restore");
    let stdin = io::stdin();
    // Asked for with -i, a pipe may answer; implied, only a person may.
    if !args.interactive && !stdin.is_terminal() {
        return report.usage(
            "name the ENTRY to restore, or --under PATH (standard input is not a terminal \
             to ask which; -i asks all the same)",
        );
    }
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
    let (fs, prefix) = match folder(&resolver, args.under.as_deref()) {
        Ok(found) => found,
        Err(message) => return report.usage(message),
    };
    let destination = match &args.to {
        None => None,
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
        under: Some(prefix),
        since: args.since.clone(),
        until: args.until.clone(),
        reasons: Vec::new(),
    };
    let euid = syscalls::euid();
    let (mut mine, others): (Vec<Entry>, Vec<Entry>) = all
        .into_iter()
        .filter(|e| !e.litter && filter.matches(e))
        .partition(|e| entries::may_remove(&trash, &e.stat, euid));
    if mine.is_empty() {
        let mut message = format!("Restore failed: nothing in the trash {}", filter.describe());
        if !others.is_empty() {
            message.push_str(&format!(
                " that you may restore ({} of other users)",
                human::entries(others.len())
            ));
        }
        report.error(message);
        return report.exit_code();
    }
    // Oldest first, as trash-restore lists them: the latest is next to the question.
    mine.sort_by_cached_key(|e| (e.deleted_at.is_some(), e.deleted_at, e.name.clone()));
    let rows = entries::measure(mine);
    print!("{}", table::render_choices(&rows));
    let _ = io::stdout().flush();
    let question = format!(
        "What to restore [0..{}] ({FORMS}; nothing: Enter)?",
        rows.len() - 1
    );
    let answer = match ask(&question, &mut stdin.lock(), stdin.is_terminal()) {
        Ok(Some(answer)) => answer,
        Ok(None) => {
            report.error("nothing restored: end of input");
            return report.exit_code();
        }
        Err(e) => {
            report.error(format!("cannot read the answer: {}", describe(&e)));
            return report.exit_code();
        }
    };
    let picked = match parse_choice(&answer, rows.len()) {
        Ok(picked) => picked,
        Err(reason) => {
            report.error(format!(
                "invalid choice '{}': {reason}; nothing restored",
                escape(answer.trim().as_bytes())
            ));
            return report.exit_code();
        }
    };
    if picked.is_empty() {
        println!("Nothing restored.");
        return report.exit_code();
    }
    if let Some(to) = &args.to
        && picked.len() > 1
        && !to.is_dir()
    {
        return report
            .usage("--to PATH must be an existing directory when restoring several entries");
    }
    let mut chosen: Vec<Entry> = picked.iter().map(|&i| rows[i].entry.clone()).collect();
    restore::parents_first(&mut chosen);
    let how = How {
        at: None,
        destination: destination.as_ref(),
        rename: args.rename,
        dry_run: args.dry_run,
    };
    for entry in &chosen {
        match restore::restore_entry(&fs, entry, &how, euid) {
            Ok(placed) if args.dry_run => {
                println!("{}", restore::would_restore_line(entry, &placed))
            }
            Ok(placed) => println!("{}", restore::restored_line(entry, &placed)),
            Err(message) => report.error(format!("Restore failed: {message}")),
        }
    }
    report.exit_code()
}

/// The mount and the folder whose deletions to offer, relative to
/// `gallery/`: `--under PATH`, or the current directory; from outside
/// `gallery/` (the mount's root, `.trash/`), the whole gallery.
fn folder(
    resolver: &Resolver,
    under: Option<&Path>,
) -> Result<(crate::mounts::Galleryfs, Vec<u8>), String> {
    if let Some(under) = under {
        let located = resolver
            .locate(under)
            .map_err(|e| format!("--under: {e}"))?;
        let prefix = filter::under_of(&located, under)?;
        return Ok((located.fs, prefix));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| format!("cannot read the current directory: {}", describe(&e)))?;
    let located = resolver.locate(&cwd).map_err(|e| {
        format!("{e}: run it inside a galleryfs mount, or name the ENTRY to restore")
    })?;
    let prefix = filter::under_of(&located, &cwd).unwrap_or_default();
    Ok((located.fs, prefix))
}

/// Writes `question ` on stderr and reads one line; None at end of input.
fn ask(question: &str, input: &mut impl BufRead, echoed: bool) -> io::Result<Option<String>> {
    let mut err = io::stderr().lock();
    write!(err, "{question} ")?;
    err.flush()?;
    let mut line = Vec::new();
    let read = input.read_until(b'\n', &mut line)?;
    if read == 0 || !echoed {
        writeln!(err)?;
    }
    Ok((read > 0).then(|| String::from_utf8_lossy(&line).into_owned()))
}

/// The numbers an answer names, each once, in order; empty for a blank
/// answer. `count` entries are numbered from 0.
pub(crate) fn parse_choice(answer: &str, count: usize) -> Result<Vec<usize>, String> {
    let answer = answer.trim();
    if answer.is_empty() {
        return Ok(Vec::new());
    }
    let last = count - 1;
    let number = |text: &str| -> Result<usize, String> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("expected {FORMS}"));
        }
        match text.parse::<usize>() {
            Ok(n) if n <= last => Ok(n),
            _ => Err(format!("{text} is not in 0..{last}")),
        }
    };
    let mut picked = Vec::new();
    for part in answer.split(',') {
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(part)?;
                (n, n)
            }
        };
        if from > to {
            return Err(format!("the range {} goes backwards", part.trim()));
        }
        for n in from..=to {
            if !picked.contains(&n) {
                picked.push(n);
            }
        }
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_ranges_and_lists() {
        assert_eq!(parse_choice("0\n", 4), Ok(vec![0]));
        assert_eq!(parse_choice("1-2", 4), Ok(vec![1, 2]));
        assert_eq!(parse_choice(" 0-1, 3 ", 4), Ok(vec![0, 1, 3]));
        assert_eq!(parse_choice("0-3,7", 8), Ok(vec![0, 1, 2, 3, 7]));
        assert_eq!(parse_choice("2,1-2", 4), Ok(vec![2, 1]));
        assert_eq!(parse_choice("1 - 2", 4), Ok(vec![1, 2]));
        assert_eq!(parse_choice("\n", 4), Ok(vec![]));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        assert_eq!(parse_choice("4", 4), Err("4 is not in 0..3".into()));
        assert_eq!(
            parse_choice("2-1", 4),
            Err("the range 2-1 goes backwards".into())
        );
        for bad in [
            "x",
            "1,",
            "-1",
            "1-",
            "1.5",
            "all",
            "0 1",
            "1--2",
            "99999999999999999999999",
        ] {
            assert!(parse_choice(bad, 4).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_choice("cat", 4),
            Err("expected a number, a range or a list, e.g. 0, 1-2, 0-3,7".into())
        );
    }
}

//! `gallery-trash list`: the trash as a table (or JSON), with a footer;
//! `--under`, `--since`, `--until` and `--reason` choose which entries.
//! Litter (programs' temporary files) is left out and counted, unless `--all`.

use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use galleryfs::contract;

use crate::cli::ListArgs;
use crate::entries;
use crate::escape::escape;
use crate::filter::{self, Filter};
use crate::json;
use crate::mounts::Galleryfs;
use crate::order;
use crate::report::{Report, describe};
use crate::resolve::Resolver;
use crate::space;
use crate::table::{self, Summary};

pub(crate) const EMPTY_TRASH: &str = "Trash is empty";

pub(crate) fn run(args: &ListArgs) -> ExitCode {
    let mut report = Report::new("list");
    if let Err(message) = filter::check_window(args.since.as_ref(), args.until.as_ref()) {
        return report.usage(message);
    }
    let resolver = match Resolver::new() {
        Ok(resolver) => resolver,
        Err(e) => {
            report.error(format!(
                "cannot read {}: {}",
                contract::MOUNTINFO,
                describe(&e)
            ));
            return report.exit_code();
        }
    };
    let (fs, under) = match mount_and_under(&resolver, args) {
        Ok(found) => found,
        Err(message) => return report.usage(message),
    };
    let filter = Filter {
        under,
        since: args.since.clone(),
        until: args.until.clone(),
        reasons: args.reason.clone(),
    };
    let found = match entries::read_all(&fs) {
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
    let (found, litter): (Vec<_>, Vec<_>) = found.into_iter().partition(|e| args.all || !e.litter);
    let in_trash = found.len();
    let chosen = found.into_iter().filter(|e| filter.matches(e)).collect();
    let hidden = litter.iter().filter(|e| filter.matches(e)).count();
    let mut rows = entries::measure(chosen);
    order::sort(&mut rows, args.sort, args.reverse);
    if args.json {
        let array: Vec<_> = rows.iter().map(json::entry).collect();
        println!("{}", json::array(&array));
    } else if in_trash == 0 && litter.is_empty() {
        println!("{EMPTY_TRASH}");
    } else if in_trash == 0 {
        println!("{}", table::only_litter(litter.len()));
    } else if rows.is_empty() {
        println!("{}", nothing_matches(&filter, in_trash));
    } else {
        print!("{}", table::render(&rows));
        let summary = Summary::of(&rows).with_space(space::read(&fs.trash_dir()));
        println!("{}", table::footer(&summary));
    }
    if in_trash > 0 && hidden > 0 && !args.json {
        println!("{}", table::litter_line(hidden));
    }
    report.exit_code()
}

/// The mount to list and the `--under` prefix: MOUNT, or the mount of
/// `--under PATH`, or the one holding the current directory. The error is
/// the whole message (a usage error).
fn mount_and_under(
    resolver: &Resolver,
    args: &ListArgs,
) -> Result<(Galleryfs, Option<Vec<u8>>), String> {
    let Some(under) = &args.under else {
        return Ok((resolver.mount(args.mount.as_deref())?, None));
    };
    let located = resolver
        .locate(under)
        .map_err(|e| format!("--under: {e}"))?;
    let prefix = filter::under_of(&located, under)?;
    if let Some(mount) = &args.mount {
        let fs = resolver.mount(Some(mount))?;
        if fs.dev != located.fs.dev {
            return Err(format!(
                "--under {} is not in the galleryfs of MOUNT {}",
                escape(under.as_os_str().as_bytes()),
                escape(mount.as_os_str().as_bytes())
            ));
        }
    }
    Ok((located.fs, Some(prefix)))
}

/// `No entries match (of 12 in the trash): under gallery/albums, deleted since 2h`.
fn nothing_matches(filter: &Filter, in_trash: usize) -> String {
    format!(
        "No entries match (of {in_trash} in the trash): {}",
        filter.describe()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use galleryfs::contract::Reason;

    #[test]
    fn says_what_matched_nothing() {
        let filter = Filter {
            under: Some(b"albums".to_vec()),
            reasons: vec![Reason::Overwritten],
            ..Filter::default()
        };
        assert_eq!(
            nothing_matches(&filter, 12),
            "No entries match (of 12 in the trash): under gallery/albums, reason overwritten"
        );
    }
}

//! The command line of `gallery-trash`, declared with clap's derive API.
//!
//! Paths are `PathBuf`s so names that are not UTF-8 reach the commands intact.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use galleryfs::contract::Reason;

use crate::at::{self, Time};
use crate::order::SortKey;

const ABOUT: &str = "The Trash of a galleryfs mount: list deleted entries and kept versions, \
restore them, undo the last deletion, delete them for good";

const LONG_ABOUT: &str = "\
The Trash of a galleryfs mount: list deleted entries with their days left, \
list the versions of a file the trash keeps (deleted, replaced by a rename, \
overwritten), restore them to where they were (one by one, everything under \
a folder, or all that the last deleting command removed: `undo`), delete them \
permanently, empty the trash.

gallery-trash works only through the mount (readdir of .trash, its user.trash.* \
extended attributes, read for a symlink, FIFO or socket on its \
.Trash-UID/info/NAME.trashinfo, rename, unlink and rmdir), so it may do exactly \
what `mv` and `rm` may do for the user who runs it.

Litter, the short-lived temporary files programs leave in the trash (editor \
swap and backup files, lock files, partial downloads, what git replaces inside \
.git, empty files), is left out of `list` unless --all, and of `undo` and \
`restore --under`.

MOUNT defaults to the galleryfs mount that contains the current directory; \
any path inside a galleryfs mount names that mount.

ENTRY is either a path to an entry (`~/Gallery/.trash/cat (2).jpg`) or the \
original path of a deleted file (`~/Gallery/gallery/albums/cat.jpg`, or a path \
relative to the current directory inside the gallery): then it means the most \
recently deleted entry with that original path, so `rm cat.jpg && gallery-trash \
restore cat.jpg` undoes the rm. `restore PATH --at TIME` takes an older \
version of PATH instead; `versions PATH` lists them.

TIME (for --at, --since, --until) is what a person types: 14:00 (today), \
2026-11-26, 2026-11-26 14:00[:SS] (or with a T), an RFC 3339 time \
(2026-11-26T14:00:00Z, as --json prints it), today, yesterday, now, or a time \
ago: 30m, 2h, 3d, 1w, 1h30m. Local times are in the local time zone (TZ). A \
minute, a day names all of it: --since takes from its start, --at and \
--until up to its end.

Exit status: 0 on success, 1 when any entry failed (the others are still \
processed), 2 on usage errors.";

#[derive(Debug, Parser)]
#[command(name = "gallery-trash", version, about = ABOUT, long_about = LONG_ABOUT)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    List(ListArgs),
    Versions(VersionsArgs),
    Restore(RestoreArgs),
    Undo(UndoArgs),
    Purge(PurgeArgs),
    Empty(EmptyArgs),
    Info(InfoArgs),
    /// Print a shell completion script (bash: `source <(gallery-trash completions bash)`).
    Completions(crate::assets::CompletionsArgs),
    /// Write the man pages into DIR (packaging).
    #[command(hide = true)]
    ManPages(crate::assets::ManPagesArgs),
}

/// List the entries of the trash, newest deletion first.
///
/// Columns: NAME (directories end in `/`), ORIGINAL PATH, REASON (deleted;
/// replaced: a rename or restore put another file at its name; overwritten:
/// its content before an open with O_TRUNC, a truncation or a punched hole),
/// DELETED (local time), DAYS LEFT before the entry is purged automatically,
/// SIZE (a directory's whole tree). A footer gives the count and the total size.
/// Control characters and bytes that are not UTF-8 are shown escaped (`\n`,
/// `\x01`, `\xff`); `?` marks what cannot be read (another user's private
/// entries; a symlink, FIFO or socket of another user, whose attributes are
/// read from its owner's .Trash-UID/info/NAME.trashinfo).
///
/// --under, --since, --until and --reason list only some entries (all of
/// them given: entries that pass every one); an entry whose value is unknown
/// does not pass a filter on it.
///
/// Litter, the short-lived temporary files programs leave (editor swap and
/// backup files, lock files, partial downloads, what git replaces inside
/// .git, empty files: user.trash.litter), is left out and counted in a last
/// line, unless --all.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The galleryfs mount, or any path inside it [default: the mount containing the current directory]
    #[arg(value_name = "MOUNT")]
    pub mount: Option<PathBuf>,

    /// List litter too (short-lived temporary files, which expire after the
    /// mount's litter_retention, 1h by default)
    #[arg(long)]
    pub all: bool,

    /// Print a JSON array of objects with name, name_bytes (only when the name
    /// is not UTF-8), path, original_path (relative to gallery/), deleted_at and
    /// expires_at (RFC 3339 UTC), days_left (integer), reason (deleted,
    /// replaced, overwritten), size (bytes), kind (file, dir, symlink, fifo,
    /// socket, block, char), litter (true for a short-lived temporary file,
    /// listed only with --all); unreadable values are null
    #[arg(long)]
    pub json: bool,

    /// Sort order: deleted (newest first), name (A to Z), days-left (fewest first), size (largest first)
    #[arg(long, value_enum, default_value_t = SortKey::Deleted, value_name = "KEY")]
    pub sort: SortKey,

    /// Reverse the sort order
    #[arg(long)]
    pub reverse: bool,

    /// Only entries whose original path is PATH or below it: a path in
    /// gallery/ (it need not exist now), absolute or relative to the current
    /// directory. Without MOUNT, PATH names the mount
    #[arg(long, value_name = "PATH")]
    pub under: Option<PathBuf>,

    /// Only entries deleted at or after TIME, from the start of the minute
    /// or day it names. TIME: 14:00 (today), 2026-11-26, 2026-11-26 14:00, 2026-11-26 14:00:30
    /// (or with a T), RFC 3339 (2026-11-26T14:00:00Z), today, yesterday, now,
    /// or a time ago: 30m, 2h, 3d, 1w, 1h30m
    #[arg(long, value_name = "TIME", value_parser = at::parse)]
    pub since: Option<Time>,

    /// Only entries deleted at or before TIME, to the end of the minute or
    /// day it names (TIME as for --since)
    #[arg(long, value_name = "TIME", value_parser = at::parse)]
    pub until: Option<Time>,

    /// Only entries in the trash for this reason (repeat for several)
    #[arg(long, value_name = "REASON", value_parser = reason_parser(), action = clap::ArgAction::Append)]
    pub reason: Vec<Reason>,
}

/// `deleted`, `replaced` or `overwritten`, spelled as `galleryfs::contract` spells them.
fn reason_parser() -> impl TypedValueParser<Value = Reason> {
    PossibleValuesParser::new(Reason::ALL.map(Reason::as_str))
        .map(|name| Reason::parse(name.as_bytes()).expect("one of Reason::ALL"))
}

/// List the versions of a file that the trash holds, newest first.
///
/// Every entry whose original path is PATH: the file as it was deleted
/// (REASON deleted), as it was when a rename or a restore put another file at
/// its name (replaced), and its content before each kept overwrite
/// (overwritten: an open with O_TRUNC, a truncation, a punched hole).
/// Columns: NAME of the entry in .trash/, REASON, DELETED (when it left the
/// gallery, local time to the second), SIZE; a footer gives the count and
/// the total size. The first row is what `gallery-trash restore PATH`
/// restores.
///
/// Restore another with `gallery-trash restore PATH --at TIME`, TIME as
/// DELETED shows it, or by its name: `gallery-trash restore .trash/NAME`.
///
/// Exit status 1, with `no versions of gallery/PATH in the trash`, when
/// there are none.
#[derive(Debug, Args)]
pub(crate) struct VersionsArgs {
    /// The file: a path in gallery/ (it need not exist now), absolute or
    /// relative to the current directory; or an entry of .trash/, meaning
    /// the versions of its original path
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// Print a JSON array, newest first, of the objects `list --json` prints
    /// (`[]` when there are none)
    #[arg(long)]
    pub json: bool,
}

/// Put entries back at their original path, as if never deleted.
///
/// Missing parent directories of the original path are recreated, owned by
/// you with the mode your umask gives. If something already exists there,
/// the restore fails and changes nothing, unless --rename or --to is given
/// (`mv .trash/NAME gallery/PATH` does replace it, and puts the file it
/// replaces in the trash as `replaced`). Each restored entry prints
/// `restored NAME -> gallery/PATH`; each failure prints one line starting
/// with `Restore failed:`.
///
/// `restore --under PATH` restores, instead of ENTRY arguments, every entry
/// whose original path is PATH or below it (of each original path, its most
/// recent deletion), optionally only those deleted in the window --since
/// TIME / --until TIME gives; folders before what goes into them. A folder
/// removed whole (`rm -r`) is one entry, whose original path is the
/// folder's. Entries of other users that you may not restore are left, and
/// counted; litter (the short-lived temporary files `list` leaves out) is
/// left too. `--dry-run` shows what would be restored and changes nothing.
///
/// Without ENTRY or --under, on a terminal (or with -i): shows the entries
/// deleted from the current folder or below it (or from --under PATH),
/// oldest first, numbered from 0, and asks which to restore: a number, a
/// range, or a list of both (`0`, `1-2`, `0-3,7`); an empty answer restores
/// nothing, an answer that is none of these restores nothing and fails
/// (status 1), and so does end of input. From the root of the mount or
/// outside gallery/, every entry is shown.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// Entries to restore: paths in .trash/, or original paths in gallery/
    /// (their most recent deletion, or with --at the version deleted then)
    #[arg(value_name = "ENTRY")]
    pub entries: Vec<PathBuf>,

    /// Choose the entries from a numbered list (the default on a terminal
    /// without ENTRY or --under)
    #[arg(short = 'i', long, conflicts_with_all = ["entries", "at"])]
    pub interactive: bool,

    /// Restore every entry whose original path is PATH or below it (a path
    /// in gallery/, absolute or relative; it need not exist now), instead of
    /// ENTRY arguments
    #[arg(long, value_name = "PATH", conflicts_with_all = ["entries", "at"])]
    pub under: Option<PathBuf>,

    /// With --under: only entries deleted at or after TIME, from the start
    /// of the minute or day it names (TIME as for --at, or a time ago: 30m,
    /// 2h, 3d)
    // `requires` alone is not checked when ENTRY is given, which conflicts with --under.
    #[arg(long, value_name = "TIME", value_parser = at::parse, requires = "under", conflicts_with = "entries")]
    pub since: Option<Time>,

    /// With --under: only entries deleted at or before TIME, to the end of
    /// the minute or day it names
    // `requires` alone is not checked when ENTRY is given, which conflicts with --under.
    #[arg(long, value_name = "TIME", value_parser = at::parse, requires = "under", conflicts_with = "entries")]
    pub until: Option<Time>,

    /// Show what would be restored (`would restore NAME -> gallery/PATH`, or
    /// why not), change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// For each original path, restore the newest version deleted at or
    /// before TIME instead of the most recent one (see `versions`)
    ///
    /// TIME is an RFC 3339 time as `versions --json`, `list --json` and
    /// `info` print it (2026-11-26T21:03:46Z, any offset), or a local time
    /// as `versions` prints it (`2026-11-26 22:03:46`, also with a T instead
    /// of the space), to the minute as `list` prints it (`2026-11-26 22:03`),
    /// a local date (2026-11-26), a time of today (14:00), today, yesterday,
    /// now, or a time ago (30m, 2h, 3d). A time to the minute or a day stands
    /// for its whole minute or day: `22:03` takes in a deletion at 22:03:46.
    /// So a DELETED value copied from `versions` restores that row (of
    /// versions deleted within the same second, the first listed). Not with
    /// entries of .trash/, which are one version already
    #[arg(long, value_name = "TIME", value_parser = at::parse)]
    pub at: Option<Time>,

    /// Restore to PATH (inside the same mount's gallery/) instead of the
    /// original path; if PATH is an existing directory, restore into it. Its
    /// parent must exist
    #[arg(long, value_name = "PATH")]
    pub to: Option<PathBuf>,

    /// When the target exists, restore under a free name instead:
    /// `cat (restored).jpg`, `cat (restored 2).jpg`, ...
    #[arg(long)]
    pub rename: bool,
}

/// Restore everything the most recent deleting command removed.
///
/// Entries carry the command (thread) that deleted them (user.trash.deleted_by):
/// one `rm *.jpg` makes many entries with the same one, one `rm -r dir` one
/// entry for the whole folder. `undo` takes the entry deleted last, of those
/// you may restore, and restores every entry with its deleter to its
/// original path, folders first. It shows them (the columns of `list`) and
/// asks `Restore N entries? [y/N]` on standard error; only `y` or `yes`
/// proceeds, and end of input means no. When any original place is taken
/// now it restores nothing and names them, unless --rename or --to.
///
/// Litter (the short-lived temporary files `list` leaves out) is never
/// restored by `undo`, nor counted in its commands.
///
/// `undo --list` shows the recent deletions instead, newest first, one row
/// per command: DELETED (its last deletion, local time), PID (of the
/// deleting thread), ENTRIES, WHERE (the folder holding all of them: the
/// common parent of their original paths), SIZE. The first row is what
/// `undo` restores.
///
/// Exit status 1, with `nothing to undo`, when no entry you may restore
/// records its deleter (entries the kernel itself removed, or from before
/// galleryfs recorded them, do not).
#[derive(Debug, Args)]
pub(crate) struct UndoArgs {
    /// The galleryfs mount, or any path inside it [default: the mount containing the current directory]
    #[arg(value_name = "MOUNT")]
    pub mount: Option<PathBuf>,

    /// List the recent deletions, one row per command, instead of undoing one
    #[arg(long, conflicts_with_all = ["yes", "dry_run", "to", "rename"])]
    pub list: bool,

    /// With --list: print a JSON array, newest first, of objects with
    /// deleted_at (RFC 3339 UTC, the newest of the group), deleted_by
    /// (PID:START), pid, count, where (relative to gallery/, "" for gallery/
    /// itself), size (bytes) and entries (the objects of `list --json`)
    #[arg(long, requires = "list")]
    pub json: bool,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Show what would be restored, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Restore to PATH (inside the same mount's gallery/) instead of the
    /// original paths: into PATH if it is an existing directory (which it
    /// must be for several entries)
    #[arg(long, value_name = "PATH")]
    pub to: Option<PathBuf>,

    /// Where a place is taken, restore under a free name instead:
    /// `cat (restored).jpg`, `cat (restored 2).jpg`, ...
    #[arg(long)]
    pub rename: bool,
}

/// Delete entries permanently, after a confirmation.
///
/// Shows what will be deleted and asks `Permanently delete N items? [y/N]`
/// on standard error; only `y` or `yes` proceeds. When standard input is
/// not a terminal the answer is read from it, and end of input means no.
///
/// An argument that names no entry and holds a glob character (`*`, `?`,
/// `[`) is a PATTERN (quote it, so the shell leaves it alone): it takes
/// every entry of the current directory's mount whose name in .trash/, or
/// whose original file name, matches it; a PATTERN with a `/` is matched
/// against the original path (relative to gallery/, `*` matching `/` too:
/// `'albums/*'` takes everything deleted from below albums). fnmatch(3)
/// rules; litter matches too. Entries of other users that you may not
/// delete are left and counted.
#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// Entries to delete: paths in .trash/, original paths in gallery/, or
    /// PATTERNs
    #[arg(value_name = "ENTRY|PATTERN", required = true)]
    pub entries: Vec<PathBuf>,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Show what would be deleted, change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Delete every entry of the trash that you may delete, after a confirmation.
///
/// Shows the first entries that will go and their count, then asks `Delete
/// all N items? [y/N]` on standard error (same rules as purge). N counts
/// only what you may delete: entries of other users that you may not (the
/// sticky-bit rule of .trash/: their owner, the owner of .trash/ and root
/// may) are kept, counted apart and reported; that alone is not a
/// failure. Litter (the short-lived temporary files `list` leaves out)
/// goes too, counted apart: `Delete all 3 items (and 37 short-lived
/// temporary files)?`.
///
/// --older-than DURATION takes only the entries deleted longer ago than
/// DURATION (like `trash-empty N`); an entry whose deletion time cannot be
/// read is kept.
#[derive(Debug, Args)]
pub(crate) struct EmptyArgs {
    /// The galleryfs mount, or any path inside it [default: the mount containing the current directory]
    #[arg(value_name = "MOUNT")]
    pub mount: Option<PathBuf>,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Show everything that would be deleted, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Only entries deleted more than DURATION ago: 30d, 30days, 1w,
    /// 12h, '12 hours', 1h30m (the forms of the mount options)
    #[arg(long, value_name = "DURATION", value_parser = duration_parser)]
    pub older_than: Option<Older>,
}

/// `--older-than`: the duration and how it was typed, for messages.
#[derive(Debug, Clone)]
pub(crate) struct Older {
    pub text: String,
    pub duration: Duration,
}

fn duration_parser(text: &str) -> Result<Older, String> {
    galleryfs::units::parse_duration(text)
        .map(|duration| Older {
            text: text.to_owned(),
            duration,
        })
        .map_err(|reason| format!("{reason} ({})", galleryfs::units::DURATION_EXPECTED))
}

/// Show every attribute of entries: the list columns plus expiry, owner and mode.
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// Entries to show: paths in .trash/, or original paths in gallery/
    #[arg(value_name = "ENTRY", required = true)]
    pub entries: Vec<PathBuf>,

    /// Print a JSON array: the fields of `list --json` plus owner, uid, group, gid and mode
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn restore_chooses_without_an_entry() {
        // Whether there is a terminal to ask on is for `restore` to see.
        let cli = Cli::try_parse_from(["gallery-trash", "restore"]).unwrap();
        let Command::Restore(args) = cli.command else {
            panic!("not restore")
        };
        assert!(args.entries.is_empty() && !args.interactive);
        assert!(Cli::try_parse_from(["gallery-trash", "restore", "-i", "--dry-run"]).is_ok());
        for bad in [
            &["restore", "-i", "a.jpg"][..],
            &["restore", "-i", "--at", "2h"],
        ] {
            let err =
                Cli::try_parse_from(std::iter::once("gallery-trash").chain(bad.iter().copied()))
                    .unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn older_than_takes_durations_as_people_type_them() {
        for (text, secs) in [
            ("30d", 30 * 86_400),
            ("30days", 30 * 86_400),
            ("1w", 7 * 86_400),
            ("12 hours", 12 * 3600),
        ] {
            let cli =
                Cli::try_parse_from(["gallery-trash", "empty", "--older-than", text]).unwrap();
            let Command::Empty(args) = cli.command else {
                panic!("not empty")
            };
            assert_eq!(args.older_than.unwrap().duration.as_secs(), secs, "{text}");
        }
        let err =
            Cli::try_parse_from(["gallery-trash", "empty", "--older-than", "soon"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(
            text.contains("'soon'") && text.contains("--older-than") && text.contains("30days"),
            "{text}"
        );
    }

    #[test]
    fn sort_keys_are_spelled_as_documented() {
        let cli =
            Cli::try_parse_from(["gallery-trash", "list", "--sort", "days-left", "--reverse"])
                .unwrap();
        let Command::List(args) = cli.command else {
            panic!("not list")
        };
        assert_eq!(args.sort, SortKey::DaysLeft);
        assert!(args.reverse);
        assert!(Cli::try_parse_from(["gallery-trash", "list", "--sort", "colour"]).is_err());
    }

    #[test]
    fn versions_takes_one_path() {
        let cli = Cli::try_parse_from(["gallery-trash", "versions", "cat.jpg", "--json"]).unwrap();
        let Command::Versions(args) = cli.command else {
            panic!("not versions")
        };
        assert_eq!(args.path, PathBuf::from("cat.jpg"));
        assert!(args.json);
        for bad in [&["versions"][..], &["versions", "a", "b"]] {
            let err =
                Cli::try_parse_from(std::iter::once("gallery-trash").chain(bad.iter().copied()))
                    .unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn restore_at_parses_its_time() {
        let cli = Cli::try_parse_from([
            "gallery-trash",
            "restore",
            "cat.jpg",
            "--at",
            "2026-11-26T21:03:46Z",
        ])
        .unwrap();
        let Command::Restore(args) = cli.command else {
            panic!("not restore")
        };
        let at = args.at.unwrap();
        assert_eq!(at.text, "2026-11-26T21:03:46Z");
        assert_eq!(at.latest.to_rfc3339(), "2026-11-26T21:03:46+00:00");
    }

    #[test]
    fn a_bad_time_is_a_usage_error_naming_it() {
        for (args, option) in [
            (&["restore", "cat.jpg", "--at", "last tuesday"][..], "--at"),
            (&["list", "--since", "last tuesday"], "--since"),
            (&["list", "--until", "last tuesday"], "--until"),
            (
                &["restore", "--under", "a", "--since", "last tuesday"],
                "--since",
            ),
        ] {
            let err =
                Cli::try_parse_from(std::iter::once("gallery-trash").chain(args.iter().copied()))
                    .unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            let text = err.to_string();
            assert!(
                text.contains("'last tuesday'") && text.contains(option),
                "{text}"
            );
            assert!(text.contains("RFC 3339"), "{text}");
        }
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("gallery-trash").chain(args.iter().copied()))
    }

    #[test]
    fn list_takes_filters() {
        let cli = parse(&[
            "list",
            "--under",
            "albums",
            "--since",
            "2h",
            "--until",
            "today",
            "--reason",
            "overwritten",
            "--reason",
            "replaced",
        ])
        .unwrap();
        let Command::List(args) = cli.command else {
            panic!("not list")
        };
        assert_eq!(args.under, Some(PathBuf::from("albums")));
        assert_eq!(args.since.unwrap().text, "2h");
        assert_eq!(args.until.unwrap().text, "today");
        assert_eq!(args.reason, [Reason::Overwritten, Reason::Replaced]);
        let err = parse(&["list", "--reason", "lost"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(
            text.contains("'lost'") && text.contains("overwritten"),
            "{text}"
        );
    }

    #[test]
    fn restore_under_replaces_entries() {
        let cli = parse(&[
            "restore",
            "--under",
            "albums",
            "--since",
            "yesterday",
            "--dry-run",
        ])
        .unwrap();
        let Command::Restore(args) = cli.command else {
            panic!("not restore")
        };
        assert!(args.entries.is_empty() && args.dry_run);
        assert_eq!(args.under, Some(PathBuf::from("albums")));
        for bad in [
            &["restore", "cat.jpg", "--under", "albums"][..],
            &["restore", "--under", "albums", "--at", "2h"],
            &["restore", "cat.jpg", "--since", "2h"],
        ] {
            assert_eq!(parse(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn undo_takes_its_options() {
        let cli = parse(&["undo", "--yes", "--rename", "--to", "elsewhere"]).unwrap();
        let Command::Undo(args) = cli.command else {
            panic!("not undo")
        };
        assert!(args.yes && args.rename && !args.list && !args.dry_run);
        assert_eq!(args.to, Some(PathBuf::from("elsewhere")));
        let cli = parse(&["undo", "--list", "--json", "/mnt/g"]).unwrap();
        let Command::Undo(args) = cli.command else {
            panic!("not undo")
        };
        assert!(args.list && args.json);
        assert_eq!(args.mount, Some(PathBuf::from("/mnt/g")));
        assert!(parse(&["undo", "-y", "--dry-run"]).is_ok());
        for bad in [
            &["undo", "--json"][..],
            &["undo", "--list", "--yes"],
            &["undo", "--list", "--rename"],
            &["undo", "a", "b"],
        ] {
            assert_eq!(parse(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn yes_has_a_short_form() {
        let cli = Cli::try_parse_from(["gallery-trash", "empty", "-y"]).unwrap();
        let Command::Empty(args) = cli.command else {
            panic!("not empty")
        };
        assert!(args.yes);
        assert!(args.mount.is_none());
    }
}

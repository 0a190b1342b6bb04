//! The command line of `gallery-trash`, declared with clap's derive API.
//!
//! Paths are `PathBuf`s so names that are not UTF-8 reach the commands intact.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::at::{self, At};
use crate::order::SortKey;

const ABOUT: &str = "The Trash of a galleryfs mount: list deleted entries and kept versions, \
restore them, delete them for good";

const LONG_ABOUT: &str = "\
The Trash of a galleryfs mount: list deleted entries with their days left, \
list the versions of a file the trash keeps (deleted, replaced by a rename, \
overwritten), restore them to where they were, delete them permanently, \
empty the trash.

gallery-trash works only through the mount (readdir of .trash, its user.trash.* \
extended attributes, rename, unlink and rmdir), so it may do exactly what `mv` \
and `rm` may do for the user who runs it.

MOUNT defaults to the galleryfs mount that contains the current directory; \
any path inside a galleryfs mount names that mount.

ENTRY is either a path to an entry (`~/Gallery/.trash/cat (2).jpg`) or the \
original path of a deleted file (`~/Gallery/gallery/albums/cat.jpg`, or a path \
relative to the current directory inside the gallery): then it means the most \
recently deleted entry with that original path, so `rm cat.jpg && gallery-trash \
restore cat.jpg` undoes the rm. `restore PATH --at TIME` takes an older \
version of PATH instead; `versions PATH` lists them.

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
    Purge(PurgeArgs),
    Empty(EmptyArgs),
    Info(InfoArgs),
}

/// List the entries of the trash, newest deletion first.
///
/// Columns: NAME (directories end in `/`), ORIGINAL PATH, REASON (deleted;
/// replaced: a rename or restore put another file at its name; overwritten:
/// its content before an open with O_TRUNC, a truncation or a punched hole),
/// DELETED (local time), DAYS LEFT before the entry is purged automatically,
/// SIZE (a directory's whole tree). A footer gives the count and the total size.
/// Control characters and bytes that are not UTF-8 are shown escaped (`\n`,
/// `\x01`, `\xff`); `?` marks what cannot be read (symlinks and FIFOs carry
/// no user.* attributes; another user's private entries cannot be read).
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The galleryfs mount, or any path inside it [default: the mount containing the current directory]
    #[arg(value_name = "MOUNT")]
    pub mount: Option<PathBuf>,

    /// Print a JSON array of objects with name, name_bytes (only when the name
    /// is not UTF-8), path, original_path (relative to gallery/), deleted_at and
    /// expires_at (RFC 3339 UTC), days_left (integer), reason (deleted,
    /// replaced, overwritten), size (bytes), kind (file, dir, symlink, fifo,
    /// socket, block, char); unreadable values are null
    #[arg(long)]
    pub json: bool,

    /// Sort order: deleted (newest first), name (A to Z), days-left (fewest first), size (largest first)
    #[arg(long, value_enum, default_value_t = SortKey::Deleted, value_name = "KEY")]
    pub sort: SortKey,

    /// Reverse the sort order
    #[arg(long)]
    pub reverse: bool,
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
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// Entries to restore: paths in .trash/, or original paths in gallery/
    /// (their most recent deletion, or with --at the version deleted then)
    #[arg(value_name = "ENTRY", required = true)]
    pub entries: Vec<PathBuf>,

    /// For each original path, restore the newest version deleted at or
    /// before TIME instead of the most recent one (see `versions`)
    ///
    /// TIME is an RFC 3339 time as `versions --json`, `list --json` and
    /// `info` print it (2026-11-26T21:03:46Z, any offset), or a local time
    /// as `versions` prints it (`2026-11-26 22:03:46`, also with a T instead
    /// of the space), to the minute as `list` prints it (`2026-11-26 22:03`),
    /// or a local date (2026-11-26). A time to the minute or a date stands
    /// for its whole minute or day: `22:03` takes in a deletion at 22:03:46.
    /// So a DELETED value copied from `versions` restores that row (of
    /// versions deleted within the same second, the first listed). Not with
    /// entries of .trash/, which are one version already
    #[arg(long, value_name = "TIME", value_parser = at::parse)]
    pub at: Option<At>,

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

/// Delete entries permanently, after a confirmation.
///
/// Shows what will be deleted and asks `Permanently delete N items? [y/N]`;
/// only `y` or `yes` proceeds. When standard input is not a terminal the
/// answer is read from it, and end of input means no.
#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// Entries to delete: paths in .trash/, or original paths in gallery/
    #[arg(value_name = "ENTRY", required = true)]
    pub entries: Vec<PathBuf>,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Delete every entry of the trash that you may delete, after a confirmation.
///
/// Asks `Delete all N items? [y/N]` (same rules as purge). Entries of other
/// users that you may not delete are kept, counted and reported; that alone
/// is not a failure.
#[derive(Debug, Args)]
pub(crate) struct EmptyArgs {
    /// The galleryfs mount, or any path inside it [default: the mount containing the current directory]
    #[arg(value_name = "MOUNT")]
    pub mount: Option<PathBuf>,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
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
    fn restore_needs_an_entry() {
        let err = Cli::try_parse_from(["gallery-trash", "restore"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
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
        let err = Cli::try_parse_from(["gallery-trash", "restore", "cat.jpg", "--at", "yesterday"])
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(
            text.contains("'yesterday'") && text.contains("--at"),
            "{text}"
        );
        assert!(text.contains("RFC 3339"), "{text}");
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

//! The command line of `gallery-trash`, declared with clap's derive API.
//!
//! Paths are `PathBuf`s so names that are not UTF-8 reach the commands intact.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::order::SortKey;

const ABOUT: &str =
    "The Trash of a galleryfs mount: list deleted entries, restore them, delete them for good";

const LONG_ABOUT: &str = "\
The Trash of a galleryfs mount: list deleted entries with their days left, \
restore them to where they were, delete them permanently, empty the trash.

gallery-trash works only through the mount (readdir of .trash, its user.trash.* \
extended attributes, rename, unlink and rmdir), so it may do exactly what `mv` \
and `rm` may do for the user who runs it.

MOUNT defaults to the galleryfs mount that contains the current directory; \
any path inside a galleryfs mount names that mount.

ENTRY is either a path to an entry (`~/Gallery/.trash/cat (2).jpg`) or the \
original path of a deleted file (`~/Gallery/gallery/albums/cat.jpg`, or a path \
relative to the current directory inside the gallery): then it means the most \
recently deleted entry with that original path, so `rm cat.jpg && gallery-trash \
restore cat.jpg` undoes the rm.

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
    Restore(RestoreArgs),
    Purge(PurgeArgs),
    Empty(EmptyArgs),
    Info(InfoArgs),
}

/// List the entries of the trash, newest deletion first.
///
/// Columns: NAME (directories end in `/`), ORIGINAL PATH, DELETED (local
/// time), DAYS LEFT before the entry is purged automatically, SIZE (a
/// directory's whole tree). A footer gives the count and the total size.
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
    /// expires_at (RFC 3339 UTC), days_left (integer), size (bytes), kind
    /// (file, dir, symlink, fifo, socket, block, char); unreadable values are null
    #[arg(long)]
    pub json: bool,

    /// Sort order: deleted (newest first), name (A to Z), days-left (fewest first), size (largest first)
    #[arg(long, value_enum, default_value_t = SortKey::Deleted, value_name = "KEY")]
    pub sort: SortKey,

    /// Reverse the sort order
    #[arg(long)]
    pub reverse: bool,
}

/// Put entries back at their original path, as if never deleted.
///
/// Missing parent directories of the original path are recreated, owned by
/// you with the mode your umask gives. If something already exists there,
/// the restore fails and changes nothing, unless --rename or --to is given.
/// Each restored entry prints `restored NAME -> gallery/PATH`; each failure
/// prints one line starting with `Restore failed:`.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// Entries to restore: paths in .trash/, or original paths in gallery/
    #[arg(value_name = "ENTRY", required = true)]
    pub entries: Vec<PathBuf>,

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
    fn yes_has_a_short_form() {
        let cli = Cli::try_parse_from(["gallery-trash", "empty", "-y"]).unwrap();
        let Command::Empty(args) = cli.command else {
            panic!("not empty")
        };
        assert!(args.yes);
        assert!(args.mount.is_none());
    }
}

//! `gallery-trash`: the Trash of a galleryfs mount at the shell — list with
//! days left (filtered by place, time, reason), the versions of a file,
//! restore to the original place (or an older version, or everything under a
//! folder), undo the last deleting command, purge, empty, info.
//!
//! It works only through the mount (readdir, the `user.trash.*` xattrs of
//! an entry or of its `.Trash-UID/info` file, rename, unlink, rmdir) and
//! never opens STORAGE or the database, so the kernel's permission checks
//! apply exactly as to `mv` and `rm`.

// Every `unsafe` block of the product says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

mod assets;
mod at;
mod bulk;
mod choose;
mod cli;
mod entries;
mod escape;
mod filter;
mod human;
mod info;
mod json;
mod list;
mod mounts;
mod order;
mod pattern;
mod prompt;
mod purge;
mod report;
mod resolve;
mod restore;
mod space;
mod syscalls;
mod table;
mod under;
mod undo;
mod versions;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`gallery-trash list | head`) like other
    // Unix tools, instead of panicking in println!.
    // SAFETY: setting a signal disposition to SIG_DFL runs no handler code;
    // nothing else in the process has touched SIGPIPE yet.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    // clap prints usage errors itself and exits with status 2.
    let cli = Cli::parse();
    match &cli.command {
        Command::List(args) => list::run(args),
        Command::Versions(args) => versions::run(args),
        Command::Restore(args) => restore::run(args),
        Command::Undo(args) => undo::run(args),
        Command::Purge(args) => purge::purge(args),
        Command::Empty(args) => purge::empty(args),
        Command::Info(args) => info::run(args),
        Command::Completions(args) => assets::completions(args),
        Command::ManPages(args) => assets::man_pages(args),
    }
}

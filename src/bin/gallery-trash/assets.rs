//! `gallery-trash completions SHELL` and the hidden `man-pages DIR` that
//! packaging runs: both from the clap definition in `cli`, so they cannot
//! drift from `--help` (rendering is `galleryfs::manual`'s).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use galleryfs::manual::{self, Section};

use crate::cli::Cli;

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish (also elvish, powershell).
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManPagesArgs {
    /// Where to write gallery-trash.1 and one gallery-trash-COMMAND.1 per command.
    pub dir: PathBuf,
}

/// Prints the completion script on stdout.
pub(crate) fn completions(args: &CompletionsArgs) -> ExitCode {
    manual::completions(Cli::command(), args.shell, &mut std::io::stdout());
    ExitCode::SUCCESS
}

pub(crate) fn man_pages(args: &ManPagesArgs) -> ExitCode {
    let see_also = Section {
        title: "SEE ALSO".into(),
        roff: "galleryfs(1), and gallery\\-trash\\-COMMAND(1) for each command above\n".into(),
    };
    match manual::write_man_pages(Cli::command(), &[see_also], &args.dir) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "gallery-trash: cannot write the man pages into {}: {e}",
                args.dir.display()
            );
            ExitCode::FAILURE
        }
    }
}

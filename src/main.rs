//! `galleryfs STORAGE MOUNTPOINT [-o OPTIONS]`: parses the command line,
//! daemonizes unless `-f`/`-d`, and mounts.

// Every `unsafe` block of the product says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

use std::process::ExitCode;

use galleryfs::cli::{self, Command};
use galleryfs::{daemon, manual, mount, watchdog};

fn main() -> ExitCode {
    let mut argv = std::env::args_os().skip(1);
    if argv.next().is_some_and(|a| a == mount::ECHO_HELPER_ARG) {
        let Some(mountpoint) = argv.next() else {
            return ExitCode::FAILURE;
        };
        return match mount::echo_helper_main(&mountpoint) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    if let [arg, mountpoint] = std::env::args_os().skip(1).collect::<Vec<_>>().as_slice()
        && arg == watchdog::WATCHDOG_ARG
    {
        return watchdog::main(mountpoint.as_ref());
    }
    if let Some(code) = assets_main() {
        return code;
    }
    let args = match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", cli::usage());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("{}\n{}", cli::version(), galleryfs::version::features());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Mount(args)) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    daemon::block_stop_signals();
    if args.foreground || args.debug {
        daemon::init_stderr(if args.debug { "debug" } else { "info" });
        return match mount::run(&args, || {}) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                log::error!("{message}");
                eprintln!("galleryfs: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let pipe = match daemon::daemonize() {
        Ok(pipe) => pipe,
        Err(e) => {
            eprintln!("galleryfs: cannot start the daemon: {e}");
            return ExitCode::FAILURE;
        }
    };
    daemon::init_syslog();
    let pipe = std::cell::Cell::new(Some(pipe));
    match mount::run(&args, || {
        if let Some(p) = pipe.take() {
            p.ready();
        }
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!("{message}");
            if let Some(p) = pipe.take() {
                p.failed(&message);
            }
            ExitCode::FAILURE
        }
    }
}

/// The hidden `--completions SHELL` and `--man-pages DIR` (packaging, see
/// scripts/package-check.sh); None for any other command line.
fn assets_main() -> Option<ExitCode> {
    let argv: Vec<_> = std::env::args_os().skip(1).collect();
    let [flag, value] = argv.as_slice() else {
        return None;
    };
    if flag == manual::COMPLETIONS_ARG {
        let shell = value.to_str().and_then(|v| v.parse().ok());
        let Some(shell) = shell else {
            eprintln!(
                "galleryfs: unknown shell '{}' (bash, zsh, fish, elvish, powershell)",
                value.to_string_lossy()
            );
            return Some(ExitCode::FAILURE);
        };
        manual::completions(manual::galleryfs_command(), shell, &mut std::io::stdout());
        return Some(ExitCode::SUCCESS);
    }
    if flag == manual::MAN_PAGES_ARG {
        let dir = std::path::Path::new(value);
        return Some(
            match manual::write_man_pages(
                manual::galleryfs_command(),
                &manual::galleryfs_sections(),
                dir,
            ) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!(
                        "galleryfs: cannot write the man page into {}: {e}",
                        dir.display()
                    );
                    ExitCode::FAILURE
                }
            },
        );
    }
    None
}

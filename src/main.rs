//! `galleryfs STORAGE MOUNTPOINT [-o OPTIONS]`: parses the command line,
//! daemonizes unless `-f`/`-d`, and mounts.

// Every `unsafe` block of the product says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

use std::process::ExitCode;

use galleryfs::cli::{self, Command};
use galleryfs::{daemon, mount};

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
    let args = match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", cli::usage());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("{}", cli::version());
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

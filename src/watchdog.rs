//! `auto_unmount` for a user's own mount. fuser 0.18 implements the option
//! through fusermount3 and always hands it `allow_other` (its
//! `SessionACL::RootAndOwner`), which fusermount3 refuses to a user unless
//! /etc/fuse.conf has `user_allow_other` — though the user never asked for
//! allow_other. So for a user mount that admits only its owner, galleryfs
//! does what fusermount3's auto_unmount does itself: a small process
//! outlives the daemon, notices its end (the pipe from the daemon reaches
//! EOF, however the daemon died) and detaches the mount if it is still
//! there (`fusermount3 -u -z`).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};

use crate::config::MountArgs;
use crate::contract;

/// `galleryfs WATCHDOG_ARG MOUNTPOINT` is the watchdog.
pub const WATCHDOG_ARG: &str = "--internal-auto-unmount";

/// Whether `args` get the watchdog instead of fuser's auto_unmount: a user
/// (not root) mount that admits only its owner.
pub fn replaces_auto_unmount(args: &MountArgs) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    args.auto_unmount && !root && !args.allow_other && !args.allow_root
}

/// The running watchdog; the daemon holds it for as long as it serves.
pub struct Watchdog {
    // Closed when the daemon ends, however it ends: the watchdog's EOF.
    _pipe: ChildStdin,
    _child: Child,
}

/// Starts the watchdog of `mountpoint` (canonical), before mounting.
pub fn start(mountpoint: &Path) -> io::Result<Watchdog> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("/proc/self/exe")
        .arg(WATCHDOG_ARG)
        .arg(mountpoint)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Out of the terminal's process group: a Ctrl-C meant for
        // `galleryfs -f` (which unmounts by itself) is not for it.
        .process_group(0)
        .spawn()?;
    let pipe = child.stdin.take().ok_or(io::ErrorKind::BrokenPipe)?;
    Ok(Watchdog {
        _pipe: pipe,
        _child: child,
    })
}

/// The watchdog process: waits for the daemon's end, then detaches its
/// mount if the daemon did not unmount it.
pub fn main(mountpoint: &Path) -> ExitCode {
    // The daemon blocks its stop signals (see `daemon`) and exec keeps the
    // mask: unblock them, so that a plain `kill` ends the watchdog.
    // SAFETY: an empty, initialised set; no handler runs.
    unsafe {
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
    // Whatever arrives is ignored: only the end of the pipe counts.
    let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
    let mountpoint = PathBuf::from(mountpoint);
    let still_mounted = contract::read_mountinfo().is_ok_and(|m| {
        m.iter()
            .any(|m| m.mount_point == mountpoint && m.is_galleryfs())
    });
    if !still_mounted {
        return ExitCode::SUCCESS;
    }
    // fusermount3 unmounts only a mount of the user who runs it.
    match Command::new("fusermount3")
        .args(["-u", "-z", "--"])
        .arg(&mountpoint)
        .stdin(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

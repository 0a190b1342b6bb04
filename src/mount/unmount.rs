//! Stopping a mount on a signal. Each SIGINT/SIGTERM/SIGHUP asks for a clean
//! unmount; when the mount is busy (a process has a file or its working
//! directory in it) it is detached lazily instead, as `umount -l` does: it
//! leaves the mount table at once, galleryfs serves what is still open, and
//! the request loop ends (and galleryfs exits) once the last of it is
//! closed. A signal after that says so in the log; none is ignored.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use fuser::SessionUnmounter;

use crate::contract;
use crate::daemon::signal_name;

/// Where the mount stands, as far as the signals are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Mounted,
    /// Lazily unmounted: out of the mount table, still serving open files.
    Detached,
    /// Unmounted: the request loop is ending.
    Gone,
}

/// The signal thread's end of a mount.
pub(super) struct Stopper {
    mountpoint: PathBuf,
    /// mountinfo's `major:minor` of this mount, to tell it from a mount that
    /// another program stacked on the same directory.
    dev: Option<Vec<u8>>,
    state: State,
    /// fuser's own unmounter, used up once galleryfs has unmounted, so that
    /// fuser does not unmount the directory again when the loop ends (by
    /// then another filesystem may be mounted there).
    fuser: Option<SessionUnmounter>,
}

/// Why an unmount attempt failed.
enum Failure {
    NotMounted,
    Busy,
    Other(String),
}

impl Stopper {
    /// For the mount live at `mountpoint` (canonical).
    pub(super) fn new(mountpoint: PathBuf, fuser: SessionUnmounter) -> Stopper {
        let dev = top_mount(&mountpoint).map(|m| m.dev);
        Stopper {
            mountpoint,
            dev,
            state: State::Mounted,
            fuser: Some(fuser),
        }
    }

    /// mountinfo's `major:minor` of this mount, if it was found.
    pub(super) fn identity(&self) -> Option<Vec<u8>> {
        self.dev.clone()
    }

    /// Acts on stop signal `sig`.
    pub(super) fn stop(&mut self, sig: i32) {
        let shown = self.mountpoint.display().to_string();
        let name = signal_name(sig);
        if self.state == State::Mounted {
            match self.place() {
                Place::Top => {}
                Place::Absent => self.state = State::Gone,
                Place::Covered => {
                    return log::error!(
                        "{name}: another filesystem is mounted over {shown}; unmount it first, \
                         then send the signal again"
                    );
                }
            }
        }
        match self.state {
            State::Gone => log::info!("{name}: {shown} is already unmounted; finishing"),
            State::Detached => log::warn!(
                "{name}: {shown} is already detached; galleryfs exits once the files still open \
                 in it are closed (`kill -9 {pid}` ends it now: those files then fail with \
                 \"Transport endpoint is not connected\"; nothing in STORAGE is lost)",
                pid = std::process::id()
            ),
            State::Mounted => {
                log::info!("{name}: unmounting {shown}");
                self.unmount(&shown);
            }
        }
    }

    fn unmount(&mut self, shown: &str) {
        let busy = match unmount(&self.mountpoint, false) {
            Ok(()) | Err(Failure::NotMounted) => return self.done(State::Gone),
            Err(Failure::Busy) => "a process has a file or its working directory in it".into(),
            Err(Failure::Other(why)) => why,
        };
        match unmount(&self.mountpoint, true) {
            Ok(()) | Err(Failure::NotMounted) => {
                log::warn!(
                    "{shown} is busy ({busy}): detached it lazily; it is out of the mount \
                     table, and galleryfs serves what is still open and exits once the last of \
                     it is closed"
                );
                self.done(State::Detached);
            }
            Err(Failure::Busy) => self.cannot_detach(shown, &busy, "busy"),
            Err(Failure::Other(why)) => self.cannot_detach(shown, &busy, &why),
        }
    }

    fn cannot_detach(&self, shown: &str, busy: &str, why: &str) {
        log::error!(
            "cannot unmount {shown} ({busy}) nor detach it ({why}); galleryfs goes on serving \
             it: send the signal again, or run `umount -l {shown}`"
        );
    }

    fn done(&mut self, state: State) {
        self.state = state;
        if let Some(mut fuser) = self.fuser.take()
            && let Err(e) = fuser.unmount()
        {
            // The mount is no longer there: what fuser finds.
            log::debug!("fuser's unmount after ours: {e}");
        }
    }

    /// Where this mount stands at the mount point now.
    fn place(&self) -> Place {
        let Ok(mounts) = contract::read_mountinfo() else {
            return Place::Top;
        };
        let mut here = mounts.iter().filter(|m| m.mount_point == self.mountpoint);
        match (&self.dev, here.next_back()) {
            (_, None) => Place::Absent,
            (Some(dev), Some(top)) if &top.dev != dev => {
                if here.any(|m| &m.dev == dev) {
                    Place::Covered
                } else {
                    Place::Absent
                }
            }
            _ => Place::Top,
        }
    }
}

/// The request loop's outcome. The kernel ends the connection of a mount
/// that left the mount table (a lazy detach whose last file closed) with
/// ENODEV, and sometimes with ECONNABORTED: both are the end of a mount
/// that is gone. ECONNABORTED with the mount still there is an abort
/// (`/sys/fs/fuse/connections/N/abort`): an error that says what to do.
pub(super) fn ended(
    served: io::Result<()>,
    mountpoint: &Path,
    dev: Option<&[u8]>,
) -> io::Result<()> {
    let Err(e) = served else { return Ok(()) };
    if e.raw_os_error() != Some(libc::ECONNABORTED) {
        return Err(e);
    }
    let present = contract::read_mountinfo().map(|mounts| {
        mounts
            .iter()
            .any(|m| m.mount_point == mountpoint && dev.is_none_or(|d| m.dev == d))
    });
    match present {
        Ok(false) => {
            log::debug!("the kernel ended the connection with ECONNABORTED after the unmount");
            Ok(())
        }
        _ => Err(io::Error::other(format!(
            "the kernel aborted the connection ({e}); `umount -l {}` removes the dead mount, \
             and STORAGE lost nothing",
            mountpoint.display()
        ))),
    }
}

/// Where a mount stands at its mount point.
enum Place {
    Top,
    /// Another filesystem is mounted over it: an unmount would take that.
    Covered,
    Absent,
}

/// The last (topmost) mount at `path`.
fn top_mount(path: &Path) -> Option<contract::MountInfo> {
    contract::read_mountinfo()
        .ok()?
        .into_iter()
        .rev()
        .find(|m| m.mount_point == path)
}

/// Unmounts `path`, lazily (`MNT_DETACH`) if `lazy`: with umount2(2) when
/// privileged, else through fusermount3 (as an ordinary user's mount).
fn unmount(path: &Path, lazy: bool) -> Result<(), Failure> {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return Err(Failure::Other("the path holds a NUL byte".into()));
    };
    let flags = libc::UMOUNT_NOFOLLOW | if lazy { libc::MNT_DETACH } else { 0 };
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::umount2(c_path.as_ptr(), flags) } == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL) => Err(Failure::NotMounted),
        Some(libc::EBUSY) => Err(Failure::Busy),
        Some(libc::EPERM) => fusermount(path, lazy),
        _ => Err(Failure::Other(err.to_string())),
    }
}

/// `fusermount3 -u [-z] PATH` (or `fusermount`, FUSE 2's), its error text on failure.
fn fusermount(path: &Path, lazy: bool) -> Result<(), Failure> {
    let mut last = String::new();
    for bin in ["fusermount3", "fusermount"] {
        let mut cmd = Command::new(bin);
        cmd.arg("-u");
        if lazy {
            cmd.arg("-z");
        }
        match cmd.arg("--").arg(path).output() {
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => {
                if top_mount(path).is_none() {
                    return Err(Failure::NotMounted);
                }
                let text = String::from_utf8_lossy(&out.stderr);
                // "fusermount3: failed to unmount /m: Device or resource busy"
                let why = text.trim().rsplit(": ").next().unwrap_or_default();
                let busy = io::Error::from_raw_os_error(libc::EBUSY).to_string();
                return Err(match busy.starts_with(why) && !why.is_empty() {
                    true => Failure::Busy,
                    false => Failure::Other(format!("{bin}: {why}")),
                });
            }
            Err(e) => last = format!("cannot run {bin}: {e}"),
        }
    }
    Err(Failure::Other(last))
}

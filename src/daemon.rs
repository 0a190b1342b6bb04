//! Process plumbing: daemonizing the way mount(8) needs (the command returns
//! only once the mount is live), the log (`logger`), and a thread that hands
//! every SIGINT/SIGTERM/SIGHUP to the mount's stop (see `mount::unmount`).

mod logger;

pub use logger::{init_stderr, init_syslog};

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};

/// The daemon's end of the pipe to the waiting parent.
pub struct ReadyPipe(File);

impl ReadyPipe {
    /// Tells the parent the mount is live and detaches from the terminal.
    pub fn ready(mut self) {
        let _ = self.0.write_all(&[0]);
        detach_stdio();
    }

    /// Tells the parent why mounting failed; it prints the message.
    pub fn failed(mut self, message: &str) {
        let _ = self.0.write_all(&[1]);
        let _ = self.0.write_all(message.as_bytes());
    }
}

/// Forks. Returns in the child, with the pipe to report readiness; the parent
/// waits for the report and exits with the child's verdict.
pub fn daemonize() -> std::io::Result<ReadyPipe> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned here.
    let (mut read_end, write_end) =
        unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    // SAFETY: no other thread exists yet, so the child is a full copy.
    match unsafe { libc::fork() } {
        -1 => Err(std::io::Error::last_os_error()),
        0 => {
            drop(read_end);
            // SAFETY: setsid has no preconditions; a new session has no terminal.
            unsafe { libc::setsid() };
            Ok(ReadyPipe(write_end))
        }
        _child => {
            drop(write_end);
            let mut status = Vec::new();
            let _ = read_end.read_to_end(&mut status);
            match status.split_first() {
                Some((0, _)) => std::process::exit(0),
                Some((_, message)) => {
                    eprintln!("galleryfs: {}", String::from_utf8_lossy(message));
                    std::process::exit(1);
                }
                None => {
                    eprintln!("galleryfs: the daemon exited before the mount was ready");
                    std::process::exit(1);
                }
            }
        }
    }
}

/// Points stdin/stdout/stderr at /dev/null, so `$(mount …)` does not hang.
fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which we own.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise the set in place.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}

/// Blocks the stop signals in this thread and every thread started after it,
/// so only `on_stop_signal`'s thread receives them.
pub fn block_stop_signals() {
    let set = stop_signals();
    // SAFETY: a valid set; changing this thread's mask.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

/// Runs `stop` with each stop signal that arrives, for as long as the
/// process lives, in a thread of its own: a signal that comes while the
/// mount cannot stop yet (busy) is acted on, never lost.
pub fn on_stop_signal(mut stop: impl FnMut(i32) + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let set = stop_signals();
            loop {
                let mut sig = 0;
                // SAFETY: valid set and out-pointer; the signals are blocked in all threads.
                if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                    stop(sig);
                }
            }
        })?;
    Ok(())
}

/// The name of stop signal `sig`, for the log.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a stop signal",
    }
}

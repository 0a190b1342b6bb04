//! Process plumbing: daemonizing the way mount(8) needs (the command returns
//! only once the mount is live), a syslog logger for the daemon, and a thread
//! that turns SIGINT/SIGTERM/SIGHUP into a clean unmount.

use std::ffi::CString;
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

/// A `log` backend writing to syslog, for the daemon, which has no terminal.
struct SyslogLogger {
    level: log::LevelFilter,
}

impl log::Log for SyslogLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let priority = match record.level() {
            log::Level::Error => libc::LOG_ERR,
            log::Level::Warn => libc::LOG_WARNING,
            log::Level::Info => libc::LOG_INFO,
            log::Level::Debug | log::Level::Trace => libc::LOG_DEBUG,
        };
        let text = format!("{}", record.args()).replace('\0', "\\0");
        if let Ok(text) = CString::new(text) {
            // SAFETY: "%s" with one NUL-terminated argument.
            unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
        }
    }

    fn flush(&self) {}
}

/// Sends the daemon's log to syslog (journald) as `galleryfs`, at `RUST_LOG`'s
/// level when set, else info.
pub fn init_syslog() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<log::LevelFilter>().ok())
        .unwrap_or(log::LevelFilter::Info);
    // SAFETY: the identifier is a static NUL-terminated string.
    unsafe { libc::openlog(c"galleryfs".as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
    if log::set_boxed_logger(Box::new(SyslogLogger { level })).is_ok() {
        log::set_max_level(level);
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

/// Runs `stop` once, in a thread of its own, when a stop signal arrives.
pub fn on_stop_signal(stop: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let set = stop_signals();
            let mut sig = 0;
            // SAFETY: valid set and out-pointer; the signals are blocked in all threads.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                log::info!("signal {sig}: unmounting");
                stop();
            }
        })?;
    Ok(())
}

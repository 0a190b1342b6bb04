//! The daemon's log: stderr (`-f`) or syslog, both behind one filter that
//! moves fuser's messages about normal events down to debug.
//!
//! fuser 0.18 logs two normal events as problems: its final unmount after
//! the kernel already unmounted (an external `umount`: "Failed to umount
//! filesystem: Invalid argument") and a reply to a request whose process went
//! away or whose connection is gone ("Failed to send FUSE reply: No such
//! file or directory"). Only those exact errors are demoted; any other
//! warning or error from fuser keeps its level.

use std::ffi::CString;
use std::io;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Whether `record` is one of fuser's reports of a normal event.
fn is_routine(record: &Record<'_>) -> bool {
    let target = record.target();
    if record.level() > Level::Warn || !target.starts_with("fuser") {
        return false;
    }
    let text = record.args().to_string();
    let errno_is = |errnos: &[i32]| {
        errnos
            .iter()
            .any(|&e| text.ends_with(&io::Error::from_raw_os_error(e).to_string()))
    };
    // The kernel no longer has the mount: the unmount already happened.
    (text.starts_with("Failed to umount filesystem:") && errno_is(&[libc::EINVAL]))
        // ENOENT: the request was interrupted (its process went away);
        // ENODEV: the connection is gone (unmounted or aborted).
        || (text.starts_with("Failed to send FUSE reply:")
            && errno_is(&[libc::ENOENT, libc::ENODEV]))
}

/// `inner`, with fuser's routine messages at debug.
struct Routine<L>(L);

impl<L: Log> Log for Routine<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if is_routine(record) {
            self.0.log(
                &Record::builder()
                    .args(*record.args())
                    .level(Level::Debug)
                    .target(record.target())
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .build(),
            );
        } else {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Logs to stderr with timestamps, at `RUST_LOG`'s levels, else `default`.
pub fn init_stderr(default: &str) {
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default))
            .format_timestamp_millis()
            .build();
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(Routine(logger))).is_ok() {
        log::set_max_level(max);
    }
}

/// A `log` backend writing to syslog, for the daemon, which has no terminal.
struct SyslogLogger {
    level: LevelFilter,
}

impl Log for SyslogLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let priority = match record.level() {
            Level::Error => libc::LOG_ERR,
            Level::Warn => libc::LOG_WARNING,
            Level::Info => libc::LOG_INFO,
            Level::Debug | Level::Trace => libc::LOG_DEBUG,
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
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::Info);
    // SAFETY: the identifier is a static NUL-terminated string.
    unsafe { libc::openlog(c"galleryfs".as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
    if log::set_boxed_logger(Box::new(Routine(SyslogLogger { level }))).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routine(level: Level, target: &str, text: &str) -> bool {
        is_routine(
            &Record::builder()
                .level(level)
                .target(target)
                .args(format_args!("{text}"))
                .build(),
        )
    }

    #[test]
    fn only_fusers_reports_of_normal_events_are_demoted() {
        let einval = io::Error::from_raw_os_error(libc::EINVAL);
        let ebusy = io::Error::from_raw_os_error(libc::EBUSY);
        let enoent = io::Error::from_raw_os_error(libc::ENOENT);
        let enodev = io::Error::from_raw_os_error(libc::ENODEV);
        let eio = io::Error::from_raw_os_error(libc::EIO);
        let umount = |e: &io::Error| format!("Failed to umount filesystem: {e}");
        let reply = |e: &io::Error| format!("Failed to send FUSE reply: {e}");
        assert!(routine(Level::Warn, "fuser::session", &umount(&einval)));
        assert!(routine(Level::Error, "fuser::reply", &reply(&enoent)));
        assert!(routine(Level::Error, "fuser::reply", &reply(&enodev)));
        // Genuine failures stay visible.
        assert!(!routine(Level::Warn, "fuser::session", &umount(&ebusy)));
        assert!(!routine(Level::Error, "fuser::reply", &reply(&eio)));
        // Only fuser's, and only warnings and errors.
        assert!(!routine(Level::Warn, "galleryfs::mount", &umount(&einval)));
        assert!(!routine(Level::Info, "fuser::session", &umount(&einval)));
    }
}

//! Error lines on stderr (one per failure, starting with the command name)
//! and the exit status they add up to.

use std::fmt::Display;
use std::io;
use std::process::ExitCode;

pub(crate) const EXIT_FAILED: u8 = 1;
pub(crate) const EXIT_USAGE: u8 = 2;

pub(crate) struct Report {
    command: &'static str,
    failed: bool,
}

impl Report {
    pub fn new(command: &'static str) -> Report {
        Report {
            command,
            failed: false,
        }
    }

    /// Reports one failure; the command goes on with its other entries.
    pub fn error(&mut self, message: impl Display) {
        eprintln!("gallery-trash {}: {message}", self.command);
        self.failed = true;
    }

    /// Reports a usage error, which ends the command with status 2.
    pub fn usage(&self, message: impl Display) -> ExitCode {
        eprintln!("gallery-trash {}: {message}", self.command);
        ExitCode::from(EXIT_USAGE)
    }

    pub fn exit_code(&self) -> ExitCode {
        if self.failed {
            ExitCode::from(EXIT_FAILED)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// An I/O error as a short lower-case reason: `permission denied`.
pub(crate) fn describe(e: &io::Error) -> String {
    match e.raw_os_error() {
        // EPERM is what the sticky bit of .trash answers: the same thing to the user.
        Some(libc::EACCES | libc::EPERM) => "permission denied".into(),
        Some(libc::ENOENT) => "no such file or directory".into(),
        Some(libc::EXDEV) => "not on the same galleryfs".into(),
        // galleryfs's quota= (a restore that would not fit).
        Some(libc::EDQUOT) => "quota exceeded".into(),
        _ => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text.to_string(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_short_and_lower_case() {
        assert_eq!(
            describe(&io::Error::from_raw_os_error(libc::EACCES)),
            "permission denied"
        );
        assert_eq!(
            describe(&io::Error::from_raw_os_error(libc::EPERM)),
            "permission denied"
        );
        assert_eq!(
            describe(&io::Error::from_raw_os_error(libc::EROFS)),
            "read-only file system"
        );
        assert_eq!(
            describe(&io::Error::from_raw_os_error(libc::ENOTDIR)),
            "not a directory"
        );
        assert_eq!(describe(&io::Error::other("Odd thing")), "odd thing");
        assert_eq!(
            describe(&io::Error::from_raw_os_error(libc::EDQUOT)),
            "quota exceeded"
        );
    }
}

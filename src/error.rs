//! One error type at the seam between the filesystem core and the FUSE adapter:
//! an errno, which the adapter sends to the kernel as it is.

use std::fmt;
use std::io;

/// An errno returned by a filesystem operation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FsError(i32);

pub type FsResult<T> = Result<T, FsError>;

impl FsError {
    pub const EPERM: FsError = FsError(libc::EPERM);
    pub const ENOENT: FsError = FsError(libc::ENOENT);
    pub const EIO: FsError = FsError(libc::EIO);
    pub const EBADF: FsError = FsError(libc::EBADF);
    pub const EACCES: FsError = FsError(libc::EACCES);
    pub const EEXIST: FsError = FsError(libc::EEXIST);
    pub const ENOTDIR: FsError = FsError(libc::ENOTDIR);
    pub const ELOOP: FsError = FsError(libc::ELOOP);
    pub const EISDIR: FsError = FsError(libc::EISDIR);
    pub const EINVAL: FsError = FsError(libc::EINVAL);
    pub const ENOSPC: FsError = FsError(libc::ENOSPC);
    pub const EROFS: FsError = FsError(libc::EROFS);
    pub const ERANGE: FsError = FsError(libc::ERANGE);
    pub const ENODATA: FsError = FsError(libc::ENODATA);
    pub const ENOTSUP: FsError = FsError(libc::ENOTSUP);
    pub const ESTALE: FsError = FsError(libc::ESTALE);
    pub const EDQUOT: FsError = FsError(libc::EDQUOT);
    pub const EMLINK: FsError = FsError(libc::EMLINK);
    pub const EFBIG: FsError = FsError(libc::EFBIG);
    pub const EXDEV: FsError = FsError(libc::EXDEV);
    pub const ENOTTY: FsError = FsError(libc::ENOTTY);
    pub const ETXTBSY: FsError = FsError(libc::ETXTBSY);
    pub const ENOTEMPTY: FsError = FsError(libc::ENOTEMPTY);

    pub fn from_errno(errno: i32) -> FsError {
        if errno > 0 {
            FsError(errno)
        } else {
            FsError::EIO
        }
    }

    pub fn errno(self) -> i32 {
        self.0
    }

    /// Errors that are part of normal operation (a lookup of a missing name)
    /// are logged at debug; the rest deserve a warning.
    pub fn is_routine(self) -> bool {
        matches!(
            self.0,
            libc::ENOENT
                | libc::EEXIST
                | libc::ENODATA
                | libc::ENOTEMPTY
                | libc::EROFS
                | libc::EACCES
                | libc::EPERM
                | libc::ERANGE
                | libc::ENOTDIR
                | libc::EISDIR
                | libc::EINVAL
                | libc::ENOTSUP
                | libc::ENOSPC
                | libc::EDQUOT
                | libc::ENAMETOOLONG
                | libc::EXDEV
                | libc::ELOOP
                | libc::EMLINK
                | libc::EOVERFLOW
        )
    }
}

impl From<io::Error> for FsError {
    fn from(e: io::Error) -> FsError {
        match e.raw_os_error() {
            Some(errno) => FsError::from_errno(errno),
            None => {
                log::error!("I/O error without errno: {e}");
                FsError::EIO
            }
        }
    }
}

impl From<rusqlite::Error> for FsError {
    fn from(e: rusqlite::Error) -> FsError {
        // A full disk must reach the caller as ENOSPC, not as an I/O error.
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && f.code == rusqlite::ErrorCode::DiskFull
        {
            return FsError::ENOSPC;
        }
        log::error!("trash database error: {e}");
        FsError::EIO
    }
}

impl fmt::Debug for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", io::Error::from_raw_os_error(self.0))
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for FsError {}

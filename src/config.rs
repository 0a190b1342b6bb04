//! The validated settings of one mount, as the command line (`cli`) leaves
//! them: what the mount and its space policy run on. Nothing here parses.

use std::path::PathBuf;
use std::time::Duration;

const HOUR_SECS: u64 = 3600;
const DAY_SECS: u64 = 24 * HOUR_SECS;

/// How long a deleted file stays in `.trash/` unless `retention=` says otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * DAY_SECS);
/// How often expired trash is purged unless `sweep=` says otherwise.
pub const DEFAULT_SWEEP: Duration = Duration::from_secs(HOUR_SECS);

/// `passthrough=`: whether file I/O goes through FUSE passthrough to the backing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    /// Use it when the kernel and our privileges allow it, else fall back.
    Auto,
    /// Require it.
    On,
    /// Never use it.
    Off,
}

/// `max_trash=`: a cap on the size of `.trash/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrashCap {
    /// An absolute number of bytes.
    Bytes(u64),
    /// A percentage (1–100) of the storage filesystem.
    Percent(u8),
}

/// Generic mount flags that mean something on a FUSE mount and are applied to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelFlag {
    Dev,
    NoDev,
    Suid,
    NoSuid,
    Exec,
    NoExec,
    Atime,
    NoAtime,
    Sync,
    Async,
    DirSync,
}

/// A validated `galleryfs STORAGE MOUNTPOINT [-o ...]` invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountArgs {
    /// The backing directory, exactly as given (not canonicalised).
    pub storage: PathBuf,
    /// Where to mount, exactly as given (not canonicalised).
    pub mountpoint: PathBuf,
    /// `-f` or `-d`: do not daemonize.
    pub foreground: bool,
    /// `-d`: debug logging (implies `foreground`).
    pub debug: bool,
    /// `-s`: single-threaded request loop.
    pub single_threaded: bool,
    pub retention: Duration,
    pub sweep: Duration,
    /// May be zero (the default).
    pub min_retention: Duration,
    pub passthrough: Passthrough,
    pub max_trash: Option<TrashCap>,
    /// Bytes.
    pub quota: Option<u64>,
    pub overwrite: Overwrite,
    pub litter: Litter,
    pub allow_other: bool,
    pub allow_root: bool,
    /// Always true when `allow_other` is.
    pub default_permissions: bool,
    /// `ro` (true) or `rw` (false), whichever came last.
    pub read_only: bool,
    /// `fsname=`, never empty when set.
    pub fsname: Option<String>,
    pub auto_unmount: bool,
    /// Deduplicated (the last of each pair wins), in [`KernelFlag`] declaration order.
    pub kernel_flags: Vec<KernelFlag>,
    /// Options accepted but ignored, as given, in order (for a debug log line).
    pub ignored: Vec<String>,
}

impl MountArgs {
    /// The configuration with every option at its default.
    pub fn new(storage: impl Into<PathBuf>, mountpoint: impl Into<PathBuf>) -> Self {
        MountArgs {
            storage: storage.into(),
            mountpoint: mountpoint.into(),
            foreground: false,
            debug: false,
            single_threaded: false,
            retention: DEFAULT_RETENTION,
            sweep: DEFAULT_SWEEP,
            min_retention: Duration::ZERO,
            passthrough: Passthrough::Auto,
            max_trash: None,
            quota: None,
            overwrite: Overwrite::default(),
            litter: Litter::default(),
            allow_other: false,
            allow_root: false,
            default_permissions: false,
            read_only: false,
            fsname: None,
            auto_unmount: false,
            kernel_flags: Vec::new(),
            ignored: Vec::new(),
        }
    }
}

/// How long after an overwrite kept in the trash the same path's next
/// overwrites are not kept (`overwrite_interval=`): a burst of saves keeps
/// the content from before the burst.
pub const DEFAULT_OVERWRITE_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// The largest file kept by copying when no cheaper way applies
/// (`overwrite_copy_max=`).
pub const DEFAULT_OVERWRITE_COPY_MAX: u64 = 256 << 20;

/// `overwrite=`, `overwrite_interval=`, `overwrite_copy_max=`: keeping the
/// content an overwrite in the gallery destroys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overwrite {
    /// `overwrite=keep` (true, the default) or `off`.
    pub keep: bool,
    /// May be zero: every overwrite is kept.
    pub interval: Duration,
    /// Bytes.
    pub copy_max: u64,
}

impl Default for Overwrite {
    fn default() -> Overwrite {
        Overwrite {
            keep: true,
            interval: DEFAULT_OVERWRITE_INTERVAL,
            copy_max: DEFAULT_OVERWRITE_COPY_MAX,
        }
    }
}

/// How long litter (a program's temporary files: see `store::litter`)
/// stays in the trash unless `litter_retention=` says otherwise.
pub const DEFAULT_LITTER_RETENTION: Duration = Duration::from_secs(HOUR_SECS);

/// `litter=`, `litter_pattern=`, `litter_retention=`: which entries are a
/// program's temporary files, kept briefly and listed only when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Litter {
    /// `litter=default` (true, the default) or `off`.
    pub on: bool,
    /// Name globs added to the default ones, in the order given.
    pub patterns: Vec<String>,
    pub retention: Duration,
}

impl Default for Litter {
    fn default() -> Litter {
        Litter {
            on: true,
            patterns: Vec::new(),
            retention: DEFAULT_LITTER_RETENTION,
        }
    }
}

/// The space options, as given (see `space`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub max_trash: Option<TrashCap>,
    pub min_retention: Duration,
    pub quota: Option<u64>,
}

impl MountArgs {
    /// The space policy these settings ask for.
    pub fn policy(&self) -> Policy {
        Policy {
            max_trash: self.max_trash,
            min_retention: self.min_retention,
            quota: self.quota,
        }
    }
}

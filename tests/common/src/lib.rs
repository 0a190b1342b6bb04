//! What galleryfs's integration suites (`tests/it`, `tests/posix`,
//! `tests/torture`) share, in one place:
//!
//! - [`Mount`]: a real galleryfs mounted on a temporary directory, unmounted
//!   when dropped; [`Tmpfs`], a small tmpfs, and [`LoopFs`], a btrfs or xfs
//!   loop image, to use as STORAGE;
//! - [`bins`]: where cargo put the `galleryfs` and `gallery-trash` binaries;
//! - [`wait`]: polling for a condition with a deadline (never a fixed sleep);
//! - [`cmd`]: running programs that must succeed or fail;
//! - [`xattr`], [`errno`], [`fsutil`]: syscall helpers with one API;
//! - [`harness`]: sizes, seeds, a deterministic generator, summary lines;
//! - [`consistency`]: the crash suite's model of file contents and its
//!   checks of what the mount, STORAGE and the catalog hold (the soak suite
//!   uses them too).

pub mod bins;
pub mod cmd;
pub mod consistency;
pub mod errno;
pub mod fsutil;
pub mod harness;
mod loopfs;
mod mount;
mod tmpfs;
pub mod wait;
pub mod xattr;

pub use bins::{gallery_trash_bin, galleryfs_bin};
pub use cmd::{fails, ok, run, sh};
pub use loopfs::LoopFs;
pub use mount::{MOUNT_TIMEOUT, Mount, is_mounted, require_fuse};
pub use tmpfs::Tmpfs;
pub use wait::wait_until;

//! galleryfs: a FUSE filesystem whose `gallery/` sends deleted files to `.trash/`.
//!
//! The data path, top to bottom (see `doc/ARCHITECTURE.md`):
//!
//! - `fuse`: the adapter; decodes kernel requests, calls the core, replies.
//! - `fs`: the core. `GalleryFs` decides once per operation which part of
//!   the mount a node is in and hands it to that part's module (root,
//!   gallery, trash, desktop view); `fs::events` tells the kernel what
//!   changed behind its back.
//! - `node`: what node numbers denote and where they are (`node::Place`).
//! - `store`: STORAGE on disk and the trash store, with every crash-ordered
//!   composition and reconcile; its catalog is SQLite (`store::catalog`).
//! - `space`: what the trash may cost in storage, and its watcher thread.
//! - `backing`: the `*at` syscalls on STORAGE, through rustix (safe calls
//!   with the kernel's errno).
//!
//! Around them: `cli` parses argv into `config`'s settings (durations and
//! sizes through `units`, which gallery-trash shares), `mount` wires a
//! mount together, `daemon` forks, logs and handles signals, `expirer` runs
//! the sweep; `manual` renders the man pages and completions, `version`
//! what `-V` reports, `watchdog` is auto_unmount for a user's own mount.
//! What other programs see of a mount (names, attributes, value formats) is
//! defined once, in `contract`, which `gallery-trash` uses too.

// Every `unsafe` block of the product says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

mod backing;
pub mod cli;
mod clock;
pub mod config;
pub mod contract;
pub mod daemon;
mod error;
mod expirer;
mod fault;
mod fs;
mod fuse;
pub mod manual;
pub mod mount;
mod node;
mod space;
mod store;
mod sync;
pub mod units;
pub mod version;
pub mod watchdog;

//! galleryfs: a FUSE filesystem whose `gallery/` sends deleted files to `.trash/`.
//!
//! The crate is split along one seam: `fuse` adapts kernel requests to the
//! filesystem core (`fs`), which knows nothing about FUSE. The core reaches the
//! backing store only through `backing` (the `*at` syscalls), `inodes` (node
//! identity) and `trash` (crash-safe moves), which keeps its metadata in
//! `catalog` (SQLite). What other programs see of a mount (names, attributes,
//! value formats) is defined once, in `contract`.

pub mod backing;
pub mod catalog;
pub mod cli;
pub mod contract;
pub mod daemon;
pub mod desktop;
pub mod error;
pub mod expirer;
pub mod fault;
pub mod fs;
pub mod fuse;
pub mod inodes;
pub mod mount;
pub mod naming;
pub mod space;
pub mod store;
pub mod trash;

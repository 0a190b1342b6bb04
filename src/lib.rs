//! galleryfs: a FUSE filesystem whose `gallery/` sends deleted files to `.trash/`.
//!
//! The crate is split along one seam: `fuse` adapts kernel requests to the
//! filesystem core (`fs`), which knows nothing about FUSE. The core reaches the
//! backing store only through `backing` (the `*at` syscalls) and keeps trash
//! metadata in `catalog` (SQLite).

pub mod cli;

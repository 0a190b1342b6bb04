//! Nodes: the numbers the kernel knows files by. `ids` says what a number
//! denotes and where in the mount it is; `table` maps numbers to backing
//! inodes with the kernel's lookup counts, pins and a bounded fd cache.

mod ids;
mod table;

pub use ids::{
    GALLERY, NodeId, Place, ROOT, TRASH, View, files_dir_owner, ghost_id, ghost_of, is_trash_dir,
};
pub use table::{BackingKey, NodeTable, Pin};

//! The mount root: synthetic, read-only, showing `gallery/`, `.trash/` (when
//! it holds anything) and, to each uid that asks by name, `.Trash-UID/`
//! (the desktop view decides that one).

use std::ffi::OsStr;

use super::core::Core;
use super::types::DirItem;
use crate::contract;
use crate::error::FsResult;
use crate::node::{GALLERY, NodeId, ROOT, TRASH};

/// The fixed child of the root called `name`, if it is one.
pub(super) fn child(name: &OsStr) -> Option<NodeId> {
    match name.to_str()? {
        contract::GALLERY => Some(GALLERY),
        contract::TRASH => Some(TRASH),
        _ => None,
    }
}

/// The root's names after `offset`. `.trash` is listed only while it holds
/// a live entry, so an empty trash does not clutter `ls -a`.
pub(super) fn readdir(core: &Core, offset: u64) -> FsResult<Vec<DirItem>> {
    // Before the listing is taken: a change after this point invalidates it.
    core.root_listed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut items = vec![
        DirItem::new(".", 1, ROOT, libc::S_IFDIR),
        DirItem::new("..", 2, ROOT, libc::S_IFDIR),
        DirItem::new(contract::GALLERY, 3, GALLERY, libc::S_IFDIR),
    ];
    if core.store.has_live_entries()? {
        items.push(DirItem::new(contract::TRASH, 4, TRASH, libc::S_IFDIR));
    }
    Ok(items.into_iter().skip(offset as usize).collect())
}

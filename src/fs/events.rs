//! The one place that turns a change of the trash into what the kernel, the
//! desktop view and watchers must be told: the trash is shown in two
//! directories (`.trash/` and its owner's `.Trash-U/files/`, with `info/`
//! beside it), and the kernel sees at most the one a request went through;
//! watchers of the other learn of it by an echo (see `echo`).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use super::core::Core;
use super::echo;
use super::types::{Echo, Invalidation};
use super::view::{info_name, trashinfo};
use crate::node::{NodeId, Pin, ROOT, TRASH, View, files_dir_owner};
use crate::store::catalog::EntryRow;

/// What happened to the trash.
pub(super) enum Change<'a> {
    /// Entry `name` (owner `uid`, type `kind`) appeared without the kernel
    /// seeing it in either directory that shows it: an unlink or a
    /// replacement in the gallery, a kept overwrite, a fold.
    Appeared { name: &'a [u8], uid: u32, kind: u32 },
    /// The kernel itself moved a name into trash directory `via` (a rename
    /// into it): entry `name`, owned by `uid`.
    MovedIn {
        via: NodeId,
        name: &'a OsStr,
        uid: u32,
        kind: u32,
    },
    /// An entry was renamed within the trash, from `from` to `to` (each a
    /// trash directory and a name), which the kernel saw.
    Renamed {
        from: (NodeId, &'a OsStr),
        to: (NodeId, &'a OsStr),
        uid: u32,
        kind: u32,
    },
    /// Loose entries `gone` of `uid` were folded into entry `entry`.
    Folded {
        gone: &'a [Vec<u8>],
        entry: &'a [u8],
        uid: u32,
    },
    /// Something of `uid`'s changed with no name to tell (a row already gone).
    Changed { uid: Option<u32> },
    /// Entry `row` left the trash (restored or purged) through directory
    /// `via`, which the kernel saw; the other directory showing it did not.
    Left { via: NodeId, row: &'a EntryRow },
    /// Entry `row` left behind every client's back (expired, purged for
    /// space); `pin` keeps its inode number until the kernel forgets it.
    Vanished { row: &'a EntryRow, pin: Option<Pin> },
}

/// An entry a bulk request (`bulk`) took out of the trash, which the
/// kernel saw leave neither directory showing it.
pub(super) struct Gone {
    pub(super) row: EntryRow,
    /// The nodes the kernel knew it by in `.trash` and in its owner's
    /// `files/` (None: it holds no such name, and needs no invalidation).
    pub(super) nodes: [Option<NodeId>; 2],
    /// Purged (its nodes are dead), else restored (they live on elsewhere).
    pub(super) purged: bool,
}

/// Tells the kernel, the desktop view and watchers about the entries one
/// bulk request took out of the trash (restored into `into`, if given): as
/// `Vanished` for each, but only names the kernel holds are invalidated
/// (a bulk purge of 100,000 sends no notification for the names it never
/// looked up), the listings once per owner, and the watchers' echoes go
/// to the echoer, which tells a burst once it is over.
pub(super) fn bulk_gone(core: &Core, gone: &[Gone], into: Option<NodeId>) {
    let mut owners = std::collections::BTreeSet::new();
    for g in gone {
        let row = &g.row;
        let name = OsString::from_vec(row.name.clone());
        for (dir, node) in echo::shown_in(row.uid).into_iter().zip(g.nodes) {
            match node {
                Some(child) if g.purged => {
                    core.invalidate(Invalidation::Delete(dir, child, name.clone()))
                }
                Some(_) => core.invalidate(Invalidation::Entry(dir, name.clone())),
                None => {}
            }
        }
        // Sent only while the kernel holds the view's info/ (`fuse::Held`).
        let info_file = View::InfoFile(row.id).id();
        core.invalidate(Invalidation::Delete(
            View::Info(row.uid).id(),
            info_file,
            info_name(&row.name),
        ));
        echo_gone(core, row, None, &name);
        owners.insert(row.uid);
    }
    for uid in owners {
        touched(core, Some(uid));
    }
    if let Some(dir) = into {
        // Its listing and mtime changed behind the kernel's back.
        core.invalidate_attrs_now(dir);
    }
    if !gone.is_empty() {
        core.space.after_change(core);
    }
}

/// Tells the kernel, the desktop view and watchers (`echo`) about `change`.
/// After anything but a `Vanished` (which the sweep and the space policy
/// cause themselves), the space policy looks at the trash again.
pub(super) fn announce(core: &Core, change: Change<'_>) {
    match change {
        Change::Appeared { name, uid, kind } => {
            touched(core, Some(uid));
            echo_in(core, uid, None, OsStr::from_bytes(name), true, kind);
        }
        Change::MovedIn {
            via,
            name,
            uid,
            kind,
        } => {
            arrived(core, name);
            touched(core, Some(uid));
            echo_in(core, uid, Some(via), name, true, kind);
        }
        Change::Renamed {
            from,
            to,
            uid,
            kind,
        } => {
            touched(core, Some(uid));
            // (A rename between the two views locks both: the kernel's own
            // rename dropped the source name there.)
            if from.0 == to.0 {
                other_view_gone(core, uid, from.0, from.1);
            }
            echo_in(core, uid, Some(from.0), from.1, false, kind);
            echo_in(core, uid, Some(to.0), to.1, true, kind);
        }
        Change::Folded { gone, entry, uid } => {
            touched(core, Some(uid));
            for old in gone {
                echo_in(
                    core,
                    uid,
                    None,
                    OsStr::from_bytes(old),
                    false,
                    libc::S_IFREG,
                );
            }
            echo_in(
                core,
                uid,
                None,
                OsStr::from_bytes(entry),
                true,
                libc::S_IFDIR,
            );
        }
        Change::Changed { uid } => touched(core, uid),
        Change::Left { via, row } => {
            if let Some(uid) = files_dir_owner(via) {
                // Restored or purged through files/: clients unlink the info
                // file right after, which must still be there.
                let content = trashinfo(&row.original_path, row.deleted_at);
                core.desktop.bury(uid, row.id, &row.name, content);
            }
            touched(core, Some(row.uid));
            let name = OsString::from_vec(row.name.clone());
            other_view_gone(core, row.uid, via, &name);
            echo_gone(core, row, Some(via), &name);
        }
        Change::Vanished { row, pin } => {
            vanished(core, row, pin);
            return;
        }
    }
    core.space.after_change(core);
}

/// Entry `name` of `uid` left (or was renamed) through trash directory
/// `via`, where the kernel saw it: its name in the other directory showing
/// it must be dropped before the request is answered. Else a process using
/// that name next reaches a node that is no longer an entry there: a file
/// restored meanwhile (a write-open the trash must refuse would reach the
/// gallery file), or an inode another entry's name now holds. The request
/// locks `via` only, so the kernel can take the other directory's lock.
fn other_view_gone(core: &Core, uid: u32, via: NodeId, name: &OsStr) {
    for dir in echo::shown_in(uid) {
        if dir != via {
            core.invalidate_now(Invalidation::Entry(dir, name.to_os_string()));
        }
    }
}

/// Entry `name` of `uid` appeared (or vanished) in both directories that
/// show it, of which the kernel saw it in `seen`, if any: watchers of the
/// others are told by an echo.
fn echo_in(core: &Core, uid: u32, seen: Option<NodeId>, name: &OsStr, appeared: bool, kind: u32) {
    for dir in echo::shown_in(uid) {
        if Some(dir) != seen {
            core.echo(Echo {
                dir,
                name: name.to_os_string(),
                appeared,
                kind,
            });
        }
    }
}

/// `.trash/` and `uid`'s view changed: listings and mtimes. The kernel
/// caches these listings and drops them when it finds a new mtime, so the
/// mtime moves first and the attributes are invalidated before the change
/// is answered: a listing right after `rm` returns shows the entry.
fn touched(core: &Core, uid: Option<u32>) {
    core.desktop.touch();
    core.invalidate_attrs_now(TRASH);
    if let Some(uid) = uid {
        core.invalidate_attrs_now(View::Files(uid).id());
        core.invalidate_attrs_now(View::Info(uid).id());
    }
    // The root shows `.trash` only while it holds something.
    if core
        .root_listed
        .swap(false, std::sync::atomic::Ordering::SeqCst)
    {
        core.invalidate_attrs_now(ROOT);
    }
}

/// Entry `name` arrived: an info file a client wrote to announce it gives
/// way to the one galleryfs synthesizes from the catalog.
///
/// The kernel may still hold the client file's node (a cached dentry of
/// `info/NAME.trashinfo`, valid for the view's timeout): it keeps answering
/// with the entry's info file until the kernel has dropped the name, so a
/// client listing the trash right after `gio trash` or `trash-put` never
/// sees the info file vanish.
fn arrived(core: &Core, name: &OsStr) {
    let gone = core.desktop.take_announcements(name.as_bytes());
    if gone.is_empty() {
        return;
    }
    if let Ok(Some(entry)) = core.store.lookup(name.as_bytes()) {
        core.desktop
            .stand_for(gone.iter().map(|&(id, _)| id), entry.row.id);
    }
    let info = info_name(name.as_bytes());
    for (_, uid) in gone {
        core.invalidate(Invalidation::Entry(View::Info(uid).id(), info.clone()));
    }
}

/// `row` is gone from `.trash/`, its owner's `files/` and `info/`.
fn vanished(core: &Core, row: &EntryRow, pin: Option<Pin>) {
    let name = OsString::from_vec(row.name.clone());
    let files = View::Files(row.uid).id();
    let in_view = core.nodes.destroyed_pinned(files, &name, None);
    let child = core.nodes.destroyed_pinned(TRASH, &name, pin).or(in_view);
    for dir in [TRASH, files] {
        match child {
            Some(child) => core.invalidate(Invalidation::Delete(dir, child, name.clone())),
            None => core.invalidate(Invalidation::Entry(dir, name.clone())),
        }
    }
    let info = View::Info(row.uid).id();
    let info_file = View::InfoFile(row.id).id();
    core.invalidate(Invalidation::Delete(info, info_file, info_name(&row.name)));
    touched(core, Some(row.uid));
    echo_gone(core, row, None, &name);
}

/// `row` (named `name`) left; the desktop view never showed it if it was
/// litter. (An arrival of litter needs no such care: the helper's mknod in
/// `files/` finds no such entry there, and fails without an event.)
fn echo_gone(core: &Core, row: &EntryRow, seen: Option<NodeId>, name: &OsStr) {
    match core.store.is_litter(row) {
        true if seen != Some(TRASH) => core.echo(Echo {
            dir: TRASH,
            name: name.to_os_string(),
            appeared: false,
            kind: row.kind,
        }),
        true => {}
        false => echo_in(core, row.uid, seen, name, false, row.kind),
    }
}

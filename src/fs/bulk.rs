//! Bulk requests (`contract::bulk`): one setxattr purges the entries it
//! names (on `.trash` or a `.Trash-U/files` view) or restores them into
//! the gallery directory it is sent to, in one pass of the store
//! (`store::Bulk`: one catalog transaction), and its answers wait for the
//! client's getxattr of `user.trash.result.TOKEN` on `.trash`.
//!
//! Who may do what: the kernel has checked that the caller may write
//! attributes of the directory the request was sent to (only root for the
//! sticky `.trash`, U and root for `.Trash-U/files`, whoever may write a
//! gallery directory). Each entry is then taken only if the caller could
//! take it one by one: the sticky rule of `.trash`
//! (`contract::bulk::sticky_allows`), and what else the kernel would check
//! for an unlink or rename that a request does not show it — emptying a
//! directory entry's tree, moving a directory (it must be writable),
//! searching the destination — only where `grants` proves the kernel would
//! allow it; else EACCES, and the client does that one itself.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::Mutex;

use super::core::{Core, TRASH_PERM};
use super::events::{self, Gone};
use super::trash;
use super::types::Caller;
use crate::backing::{self, Stat};
use crate::contract::bulk::{self as contract, Op, RESULTS_KEPT, result_byte, sticky_allows};
use crate::error::{FsError, FsResult};
use crate::node::{NodeId, Place, TRASH, View};
use crate::sync::lock;

/// Answers kept for all uids together (a bound on memory: each is at most
/// one byte per item of a 64 KiB request).
const ANSWERS_MAX: usize = 256;

/// The answers of recent bulk requests, by uid and token.
#[derive(Default)]
pub(super) struct Answers(Mutex<VecDeque<Answer>>);

struct Answer {
    uid: u32,
    token: Vec<u8>,
    bytes: Vec<u8>,
}

impl Answers {
    fn keep(&self, uid: u32, token: &[u8], bytes: Vec<u8>) {
        let mut answers = lock(&self.0);
        answers.retain(|a| (a.uid, a.token.as_slice()) != (uid, token));
        if answers.iter().filter(|a| a.uid == uid).count() >= RESULTS_KEPT
            && let Some(oldest) = answers.iter().position(|a| a.uid == uid)
        {
            answers.remove(oldest);
        }
        if answers.len() >= ANSWERS_MAX {
            answers.pop_front();
        }
        answers.push_back(Answer {
            uid,
            token: token.to_vec(),
            bytes,
        });
    }

    fn get(&self, uid: u32, token: &[u8]) -> Option<Vec<u8>> {
        lock(&self.0)
            .iter()
            .find(|a| (a.uid, a.token.as_slice()) == (uid, token))
            .map(|a| a.bytes.clone())
    }
}

/// A setxattr of `name` on `node`: `Some` (the request's outcome) if `name`
/// is a bulk request's, None if it is an ordinary attribute.
pub(super) fn request(
    core: &Core,
    answers: &Answers,
    caller: Caller,
    node: NodeId,
    name: &OsStr,
    value: &[u8],
) -> Option<FsResult<()>> {
    let (op, token) = contract::parse_request_name(name.as_bytes())?;
    // A galleryfs without bulk requests, for the clients' fallback.
    if crate::fault::refused("bulk") {
        return None;
    }
    let outcome = contract::decode(op, value)
        .ok_or(FsError::EINVAL)
        .and_then(|items| match op {
            Op::Purge => purge(core, caller, node, &items),
            Op::Restore => restore(core, caller, node, &items),
        });
    Some(outcome.map(|bytes| answers.keep(caller.uid, token, bytes)))
}

/// A getxattr of `name` on `node`: `Some` if it asks for a request's answers.
pub(super) fn answer(
    answers: &Answers,
    caller: Caller,
    node: NodeId,
    name: &OsStr,
) -> Option<FsResult<Vec<u8>>> {
    let token = contract::parse_result_name(name.as_bytes())?;
    if node != TRASH || crate::fault::refused("bulk") {
        return Some(Err(FsError::ENODATA));
    }
    Some(answers.get(caller.uid, token).ok_or(FsError::ENODATA))
}

/// Purges the entries `items` name through trash directory `node`.
fn purge(core: &Core, caller: Caller, node: NodeId, items: &[Vec<&[u8]>]) -> FsResult<Vec<u8>> {
    // Through a view, only its owner's entries (litter too).
    let scope = match core.nodes.place(node)? {
        Place::TrashDir(scope) => scope,
        _ => return Err(FsError::EINVAL),
    };
    if scope.is_some_and(|uid| caller.uid != uid && caller.uid != 0) {
        return Err(FsError::EACCES);
    }
    run(core, items, None, |bulk, item| {
        purge_one(core, bulk, caller, scope, item[0])
    })
}

/// Runs `one` on each item in one `store::Bulk`, then tells everyone what
/// went (restored into `into`, if given); the answer byte of each item.
fn run(
    core: &Core,
    items: &[Vec<&[u8]>],
    into: Option<NodeId>,
    mut one: impl FnMut(&mut crate::store::Bulk<'_>, &[&[u8]]) -> FsResult<Gone>,
) -> FsResult<Vec<u8>> {
    let names: Vec<&[u8]> = items.iter().map(|item| item[0]).collect();
    let mut gone = Vec::new();
    let mut bulk = core.store.bulk(&names)?;
    let answer = items
        .iter()
        .map(|item| match one(&mut bulk, item) {
            Ok(g) => {
                gone.push(g);
                0
            }
            Err(e) => result_byte(e.errno()),
        })
        .collect();
    // The rows go here, before anyone is told.
    drop(bulk);
    events::bulk_gone(core, &gone, into);
    Ok(answer)
}

fn purge_one(
    core: &Core,
    bulk: &mut crate::store::Bulk<'_>,
    caller: Caller,
    scope: Option<u32>,
    name: &[u8],
) -> FsResult<Gone> {
    if !contract::valid_name(name) {
        return Err(FsError::EINVAL);
    }
    let entry = bulk.entry(name)?;
    if scope.is_some_and(|uid| uid != entry.row.uid) {
        return Err(FsError::ENOENT);
    }
    let os_name = OsStr::from_bytes(name);
    let views = [TRASH, View::Files(entry.row.uid).id()];
    let nodes = views.map(|dir| core.nodes.find(dir, os_name));
    // The file's stat where anything depends on it: for root, only the
    // names the kernel holds (a purge of 100,000 names it never looked up
    // stats none).
    let root = caller.uid == 0;
    let st = match !root || nodes.iter().any(Option::is_some) {
        true => Some(bulk.stat(name)?),
        false => None,
    };
    if let Some(st) = st.as_ref().filter(|_| !root) {
        if !sticky_allows(TRASH_PERM.into(), 0, st.st_uid, caller.uid) {
            return Err(FsError::EPERM);
        }
        let trash = core.nodes.trash_fd();
        if backing::is_dir(st) && !clearable(trash.as_fd(), os_name, st, caller).unwrap_or(false) {
            return Err(FsError::EACCES);
        }
    }
    // Pinned by a name the kernel knows (see `trash::purge_entry`); by the
    // table's own pin when it knows both, as the other may linger.
    let pin = match nodes {
        [None, None] => None,
        [Some(_), Some(_)] => core.nodes.pin(TRASH, os_name),
        [Some(_), None] => core.pin(TRASH, os_name),
        [None, Some(_)] => core.pin(views[1], os_name),
    };
    bulk.purge(&entry)?;
    if let Some(st) = &st {
        let pinned_in = if nodes[0].is_some() { TRASH } else { views[1] };
        let mut pin = Some(pin);
        for dir in views {
            let pin = match dir == pinned_in {
                true => pin.take().flatten(),
                false => None,
            };
            core.forget_name(dir, os_name, st, pin);
        }
    }
    Ok(Gone {
        row: entry.row,
        nodes,
        purged: true,
    })
}

/// Restores the entries `items` name into gallery directory `node`.
fn restore(core: &Core, caller: Caller, node: NodeId, items: &[Vec<&[u8]>]) -> FsResult<Vec<u8>> {
    match core.nodes.place(node)? {
        Place::GalleryRoot | Place::Gallery => {}
        Place::Root | Place::Desktop(_) | Place::TrashDir(_) => return Err(FsError::EINVAL),
        Place::TrashEntry | Place::InTrash => return Err(FsError::EROFS),
    }
    if node != crate::node::GALLERY && !core.nodes.is_dir(node) {
        return Err(FsError::ENOTDIR);
    }
    if trash::is_entry_now(core, node) {
        return Err(FsError::EROFS);
    }
    let dst = core.nodes.dir_fd(node)?;
    // The kernel checked that the caller may write `node`; a rename into
    // it needs its search permission too.
    if !grants(&backing::fstat(dst.as_fd())?, caller, X) {
        return Err(FsError::EACCES);
    }
    run(core, items, Some(node), |bulk, item| {
        restore_one(core, bulk, caller, (node, dst.as_fd()), item)
    })
}

fn restore_one(
    core: &Core,
    bulk: &mut crate::store::Bulk<'_>,
    caller: Caller,
    (into, dst): (NodeId, BorrowedFd<'_>),
    item: &[&[u8]],
) -> FsResult<Gone> {
    let (name, new_name) = (item[0], item[1]);
    if !contract::valid_name(name) || !contract::valid_name(new_name) {
        return Err(FsError::EINVAL);
    }
    let entry = bulk.entry(name)?;
    if caller.uid != 0 {
        let st = bulk.stat(name)?;
        if !sticky_allows(TRASH_PERM.into(), 0, st.st_uid, caller.uid) {
            return Err(FsError::EPERM);
        }
        // The kernel lets only who may write a directory move it to
        // another parent (its `..` changes).
        if backing::is_dir(&st) && !grants(&st, caller, W) {
            return Err(FsError::EACCES);
        }
    }
    let (os_name, os_new) = (OsStr::from_bytes(name), OsStr::from_bytes(new_name));
    let uid = entry.row.uid;
    let nodes = [TRASH, View::Files(uid).id()].map(|dir| core.nodes.find(dir, os_name));
    // A restored entry counts toward the quota again.
    let quota = core.space.reserve(entry.row.size)?;
    bulk.take_out(&entry, dst, os_new)?;
    drop(quota);
    trash::moved_entry(core, (TRASH, os_name), (into, os_new), uid);
    Ok(Gone {
        row: entry.row,
        nodes,
        purged: false,
    })
}

/// Permission bits (as in a mode's `rwx`).
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

/// Whether the kernel surely grants `caller` the permissions `mask` on a
/// node of `st` (its `generic_permission`, mode bits only: galleryfs has
/// no ACLs): uid 0 as privileged, the owner's bits for the owner, the
/// group's for the caller's gid; for anyone else only what the group's and
/// the others' bits both grant, since the caller's other groups are not
/// known here. Never true where the kernel would refuse.
fn grants(st: &Stat, caller: Caller, mask: u32) -> bool {
    let mode = st.st_mode;
    let bits = if caller.uid == 0 {
        return true;
    } else if caller.uid == st.st_uid {
        mode >> 6
    } else if caller.gid == st.st_gid {
        mode >> 3
    } else {
        (mode >> 3) & mode
    };
    bits & mask == mask
}

/// Whether `caller` could empty and remove directory `parent/name` (stat
/// `st`) as `rm -r` does: list, search and write every directory of the
/// tree, and in a sticky one remove only what the sticky rule allows.
fn clearable(parent: BorrowedFd<'_>, name: &OsStr, st: &Stat, caller: Caller) -> FsResult<bool> {
    if !grants(st, caller, R | W | X) {
        return Ok(false);
    }
    let dir = backing::open_dir_path(parent, name)?;
    for child in backing::read_dir(dir.as_fd())? {
        let child_st = backing::fstatat(dir.as_fd(), &child.name)?;
        if !sticky_allows(st.st_mode, st.st_uid, child_st.st_uid, caller.uid) {
            return Ok(false);
        }
        if backing::is_dir(&child_st) && !clearable(dir.as_fd(), &child.name, &child_st, caller)? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(mode: u32, uid: u32, gid: u32) -> Stat {
        // SAFETY: an all-zero stat is a valid value.
        let mut st: Stat = unsafe { std::mem::zeroed() };
        st.st_mode = libc::S_IFDIR | mode;
        st.st_uid = uid;
        st.st_gid = gid;
        st
    }

    fn who(uid: u32, gid: u32) -> Caller {
        Caller { uid, gid, pid: 1 }
    }

    #[test]
    fn grants_only_what_the_kernel_surely_grants() {
        let d = st(0o750, 1000, 100);
        assert!(grants(&d, who(1000, 5), R | W | X), "owner");
        assert!(grants(&d, who(1001, 100), R | X), "group");
        assert!(!grants(&d, who(1001, 100), W), "group cannot write");
        assert!(!grants(&d, who(1001, 5), X), "others nothing");
        assert!(grants(&d, who(0, 0), W), "root");
        // Owner bits decide for the owner even where others get more.
        assert!(!grants(&st(0o077, 1000, 100), who(1000, 100), R));
        // Others get more than the group: a caller perhaps in the group is not proven.
        assert!(!grants(&st(0o707, 1000, 100), who(1001, 5), R));
        assert!(grants(&st(0o777, 1000, 100), who(1001, 5), R | W | X));
    }

    #[test]
    fn answers_are_kept_per_uid_and_token() {
        let answers = Answers::default();
        answers.keep(1000, b"a", vec![0, 2]);
        answers.keep(1001, b"a", vec![1]);
        assert_eq!(answers.get(1000, b"a"), Some(vec![0, 2]));
        assert_eq!(answers.get(1001, b"a"), Some(vec![1]));
        assert_eq!(answers.get(1002, b"a"), None, "another uid's");
        answers.keep(1000, b"a", vec![9]);
        assert_eq!(answers.get(1000, b"a"), Some(vec![9]), "a token reused");
        for i in 0..RESULTS_KEPT {
            answers.keep(1000, format!("t{i}").as_bytes(), vec![]);
        }
        assert_eq!(answers.get(1000, b"a"), None, "only the newest are kept");
        assert_eq!(answers.get(1001, b"a"), Some(vec![1]), "per uid");
    }
}

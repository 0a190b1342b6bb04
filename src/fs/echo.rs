//! Echoes: how watchers of the trash learn of changes nobody made through
//! the directory they watch. The kernel raises inotify events only for
//! operations that pass through its VFS, never for FUSE notifications; so
//! after such a change a helper process of the daemon (`fuse::echo`)
//! repeats it with a real syscall on the mount — mknod, mkdir or symlink
//! where a name appeared, unlink or rmdir where one vanished — and this
//! module answers the helper's requests without changing anything. The
//! kernel then raises IN_CREATE / IN_DELETE itself, which is all
//! gvfsd-trash, file managers and `inotifywait` listen to.
//!
//! For a name that appeared, the helper's lookup misses and its mknod is
//! answered with the entry itself; for one that vanished, its lookup finds
//! a ghost (a node number nothing else uses, of the entry's file type) and
//! its unlink succeeds. Only the names the helper was sent are answered so.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use super::types::{Attr, Caller, Echo, Entry};
use crate::contract::top_dir_uid;
use crate::error::{FsError, FsResult};
use crate::node::{NodeId, ROOT, TRASH, View, ghost_id, ghost_of};
use crate::sync::lock;

/// The helper's identity and the names it is echoing now.
#[derive(Default)]
pub struct Echoes {
    /// The helper's pid (FUSE requests carry the thread id; it has one thread).
    helper: AtomicU32,
    sent: Mutex<HashMap<(NodeId, OsString), (bool, u32)>>,
    ghosts: AtomicU64,
}

impl Echoes {
    pub fn set_helper(&self, pid: u32) {
        self.helper.store(pid, Ordering::Relaxed);
    }

    /// Echoes about to be sent to the helper.
    pub fn begin(&self, batch: &[Echo]) {
        let mut sent = lock(&self.sent);
        for e in batch {
            sent.insert((e.dir, e.name.clone()), (e.appeared, e.kind));
        }
    }

    /// The helper has answered (or is gone): its names are ordinary again.
    pub fn end(&self) {
        lock(&self.sent).clear();
    }

    pub(super) fn is_helper(&self, caller: Caller) -> bool {
        let helper = self.helper.load(Ordering::Relaxed);
        helper != 0 && caller.pid == helper
    }

    fn sent(&self, parent: NodeId, name: &OsStr) -> Option<(bool, u32)> {
        lock(&self.sent)
            .get(&(parent, name.to_os_string()))
            .copied()
    }

    /// The helper's lookup: `Some` where an echo decides the answer.
    pub(super) fn lookup(&self, parent: NodeId, name: &OsStr) -> Option<FsResult<Entry>> {
        let (appeared, kind) = self.sent(parent, name)?;
        if appeared {
            // Not yet there for the helper: its mknod makes the kernel see it.
            return Some(Err(FsError::ENOENT));
        }
        let n = self.ghosts.fetch_add(1, Ordering::Relaxed) + 1;
        let node = ghost_id(n, kind);
        Some(Ok(Entry {
            node,
            attr: ghost_attr(node, kind),
            ttl: Duration::ZERO,
            // A new generation each time: the kernel never reuses a dead ghost.
            generation: n,
        }))
    }

    /// Whether the helper's mknod/mkdir/symlink of `parent/name` echoes an
    /// arrival (answered with the entry, by an ordinary lookup).
    pub(super) fn made(&self, parent: NodeId, name: &OsStr) -> bool {
        matches!(self.sent(parent, name), Some((true, _)))
    }

    /// Whether the helper's unlink/rmdir of `parent/name` echoes a departure
    /// (answered with success, removing nothing).
    pub(super) fn removed(&self, parent: NodeId, name: &OsStr) -> bool {
        matches!(self.sent(parent, name), Some((false, _)))
    }

    /// The helper looks `.Trash-U` up as U, whose directory it is.
    pub(super) fn as_owner(caller: Caller, parent: NodeId, name: &OsStr) -> Caller {
        match (parent == ROOT)
            .then(|| top_dir_uid(name.as_bytes()))
            .flatten()
        {
            Some(uid) => Caller { uid, ..caller },
            None => caller,
        }
    }
}

/// Attributes of a ghost: only its type matters, and that it is no other node.
pub(super) fn ghost_attr(node: NodeId, kind: u32) -> Attr {
    Attr {
        ino: node,
        size: 0,
        blocks: 0,
        atime: UNIX_EPOCH,
        mtime: UNIX_EPOCH,
        ctime: UNIX_EPOCH,
        kind,
        perm: 0o600,
        nlink: if kind == libc::S_IFDIR { 2 } else { 1 },
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
    }
}

/// The attributes of `node` if it is a ghost.
pub(super) fn ghost(node: NodeId) -> Option<Attr> {
    ghost_of(node).map(|kind| ghost_attr(node, kind))
}

/// The directories that show an entry of `uid`: `.trash` and `.Trash-U/files`.
pub(super) fn shown_in(uid: u32) -> [NodeId; 2] {
    [TRASH, View::Files(uid).id()]
}

/// What watchers must be told of `batch`, in order: per name, the first
/// change says what they saw before (the opposite of it), the last what is
/// true now. A name that came and went within the batch is never told; one
/// that went and came back is told both (it is another entry).
pub fn net(batch: Vec<Echo>) -> Vec<Echo> {
    let mut order: Vec<(NodeId, OsString)> = Vec::new();
    let mut seen: HashMap<(NodeId, OsString), (Echo, Echo)> = HashMap::new();
    for e in batch {
        let key = (e.dir, e.name.clone());
        match seen.get_mut(&key) {
            Some((_, last)) => *last = e,
            None => {
                order.push(key.clone());
                seen.insert(key, (e.clone(), e));
            }
        }
    }
    let mut out = Vec::new();
    for key in order {
        let (first, last) = seen.remove(&key).expect("recorded above");
        match (first.appeared, last.appeared) {
            // Came and went: nobody saw it.
            (true, false) => {}
            // Went and came back: another entry under the same name.
            (false, true) => {
                out.push(first);
                out.push(last);
            }
            _ => out.push(last),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, appeared: bool) -> Echo {
        Echo {
            dir: TRASH,
            name: name.into(),
            appeared,
            kind: libc::S_IFREG,
        }
    }

    #[test]
    fn a_burst_is_told_as_its_net_change() {
        // rm -rf: each file appears as an entry, then folds into the folder.
        let mut batch: Vec<Echo> = (0..1000).map(|i| e(&format!("f{i}"), true)).collect();
        batch.extend((0..1000).map(|i| e(&format!("f{i}"), false)));
        batch.push(Echo {
            kind: libc::S_IFDIR,
            ..e("tree", true)
        });
        let told = net(batch);
        assert_eq!(told.len(), 1);
        assert_eq!(
            (told[0].name.to_str(), told[0].kind),
            (Some("tree"), libc::S_IFDIR)
        );
    }

    #[test]
    fn a_name_that_went_and_came_back_is_told_both_in_order() {
        let told = net(vec![
            e("x", false),
            e("y", true),
            e("x", true),
            e("x", false),
            e("x", true),
        ]);
        let shown: Vec<(&str, bool)> = told
            .iter()
            .map(|e| (e.name.to_str().unwrap(), e.appeared))
            .collect();
        assert_eq!(shown, [("x", false), ("x", true), ("y", true)]);
    }

    #[test]
    fn paths_are_relative_to_the_mount_point() {
        assert_eq!(e("a b.jpg", true).path().unwrap(), b".trash/a b.jpg");
        let view = Echo {
            dir: View::Files(1000).id(),
            ..e("x", false)
        };
        assert_eq!(view.path().unwrap(), b".Trash-1000/files/x");
        let other = Echo {
            dir: View::Info(1000).id(),
            ..e("x", false)
        };
        assert_eq!(other.path(), None);
    }

    #[test]
    fn ghosts_are_no_other_node_and_keep_their_type() {
        let echoes = Echoes::default();
        echoes.begin(&[Echo {
            kind: libc::S_IFDIR,
            ..e("gone", false)
        }]);
        let first = echoes.lookup(TRASH, OsStr::new("gone")).unwrap().unwrap();
        let second = echoes.lookup(TRASH, OsStr::new("gone")).unwrap().unwrap();
        assert_ne!(first.node, second.node);
        assert_eq!(first.attr.kind, libc::S_IFDIR);
        assert_eq!(ghost(first.node).map(|a| a.kind), Some(libc::S_IFDIR));
        assert!(crate::node::View::decode(first.node).is_none());
        assert!(echoes.removed(TRASH, OsStr::new("gone")));
        assert!(!echoes.made(TRASH, OsStr::new("gone")));
        assert!(echoes.lookup(TRASH, OsStr::new("other")).is_none());
        echoes.end();
        assert!(echoes.lookup(TRASH, OsStr::new("gone")).is_none());
    }
}

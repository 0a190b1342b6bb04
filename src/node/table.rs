//! FUSE inode numbers ↔ backing inodes, with the kernel's lookup counts.
//!
//! A node is the backing inode: its FUSE number is the backing `st_ino` (fuser
//! reports the node number as `st_ino`, and this keeps inode numbers stable
//! across remounts and restores), so hard links share one node. Inodes of
//! another device, or with the numbers reserved below, get synthetic numbers.
//! A node remembers the names it is known by as `(parent node, name)`
//! links. No fd is held per node: directories get `O_PATH` fds from a bounded
//! cache, reopened by walking links from a fixed root fd and verified against
//! the key, so the number of open fds stays bounded however large the tree.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::ids::{GALLERY, NodeId, Place, ROOT, TRASH, View, is_trash_dir};
use crate::backing::{self, Stat};
use crate::error::{FsError, FsResult};
use crate::sync::lock;

/// Node numbers up to this are reserved for the fixed nodes.
const RESERVED: u64 = 15;

/// Synthetic node numbers start here, far above real inode numbers.
const FIRST_SYNTHETIC: NodeId = 1 << 63;

/// How long a lookup of a departed folder waits for the kernel to forget
/// its old number (see `NodeTable::await_departed_forget`).
const DEPARTED_FORGET_WAIT: Duration = Duration::from_millis(100);

/// Directory fds kept open at most, beyond the fixed ones...
const DIR_FD_CACHE: usize = 256;

/// ...and at most this share of the process's open-file limit, so open
/// files (one fd per file the kernel has open) always have room.
const DIR_FD_SHARE: usize = 4;

/// How many directory fds to cache under the current RLIMIT_NOFILE.
fn dir_fd_cache_size() -> usize {
    let limit = backing::open_file_limit().unwrap_or(1024) as usize;
    (limit / DIR_FD_SHARE).clamp(8, DIR_FD_CACHE)
}

/// The identity of a backing inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BackingKey {
    pub dev: u64,
    pub ino: u64,
}

impl BackingKey {
    pub fn of(st: &Stat) -> BackingKey {
        BackingKey {
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }
}

struct Node {
    key: BackingKey,
    is_dir: bool,
    /// Names this node is known by; the first is used to reach it.
    links: Vec<(NodeId, OsString)>,
    lookups: u64,
    /// For a directory the kernel holds (`lookups > 0`): the parent of the
    /// kernel's one dentry of it, the last place a lookup, a create or one
    /// of the kernel's own renames put it. A name it dropped stays the
    /// inode's alias while someone uses it (an `rm -r` holding its fd), so
    /// this holds until the kernel forgets the number (see `remember_as`).
    kernel_parent: NodeId,
    /// Told to the kernel with each entry: bumped when the node number passes
    /// to a new inode while the kernel may still hold the old one (a removed
    /// directory that is someone's cwd, a purged file still open), so that the
    /// kernel drops the old inode instead of reusing it for the new one.
    generation: u64,
    /// The backing inode was destroyed; its number may be reused by a new one.
    dead: bool,
    /// A gallery folder that a rename moved into the trash (see `depart`):
    /// for the kernel's handles on it, a removed folder.
    departed: bool,
    /// An `O_PATH` fd on the destroyed inode, held until the kernel forgets
    /// the node: while it is open the backing filesystem cannot give the
    /// number to a new file (see `NodeTable::pin`).
    pinned: Option<Pin>,
    /// The inode this node denoted before `swapped`, kept from taking the
    /// node's number until the kernel forgets the node.
    swapped_out: Option<BackingKey>,
}

/// A name of a node: its parent and the name in it.
type Link = (NodeId, OsString);

/// A hard-linked file may be known by many names; remembering a few is enough
/// to survive the removal of the one in use.
const MAX_LINKS: usize = 8;

struct Inner {
    nodes: HashMap<NodeId, Node>,
    /// Numbers that are not the inode's own: other devices, reserved
    /// numbers, and the two inodes of an overwrite kept by inode (`swapped`).
    by_key: HashMap<BackingKey, NodeId>,
    /// Inodes that must not take their own number while the kernel holds it
    /// for another inode (see `swapped`).
    moved_away: HashSet<BackingKey>,
    by_link: HashMap<(NodeId, OsString), NodeId>,
    /// The second number of a directory entry of the trash, for its name
    /// in a `.Trash-U/files` view (see `remember_in_view`).
    twins: HashMap<BackingKey, NodeId>,
    next_synthetic: NodeId,
    store_dev: u64,
}

impl Inner {
    /// Whether directory `dir` is `gallery/` or below it.
    fn in_gallery(&self, mut dir: NodeId) -> bool {
        for _ in 0..100_000 {
            if dir == GALLERY {
                return true;
            }
            match self.nodes.get(&dir).and_then(|n| n.links.first()) {
                Some(&(parent, _)) if !is_trash_dir(dir) && dir != ROOT => dir = parent,
                _ => return false,
            }
        }
        false
    }

    /// Whether node `id`'s inode is gone: it was destroyed, or a folder it
    /// was reached through was (a purged tree takes its files along).
    fn gone(&self, mut id: NodeId) -> bool {
        for _ in 0..100_000 {
            // Fixed nodes and the desktop view's directories (not in the
            // table) never go; nor does a folder the kernel has forgotten.
            match self.nodes.get(&id) {
                Some(node) if node.dead || node.departed => return true,
                Some(node) => match node.links.first() {
                    Some(&(parent, _)) => id = parent,
                    None => return false,
                },
                None => return false,
            }
        }
        false
    }

    /// A rename took name `new`: whatever it pointed at has lost it, and a
    /// directory it replaced (it was empty) is gone.
    fn replaced(&mut self, new: &Link) {
        if let Some(replaced) = self.by_link.remove(new)
            && let Some(node) = self.nodes.get_mut(&replaced)
        {
            node.links.retain(|l| l != new);
            node.dead |= node.is_dir;
        }
    }

    /// Node `id`'s inode is destroyed: its number may go to a new inode
    /// only as a new generation, and `pin` (if any) keeps the backing
    /// filesystem from reusing it until the kernel forgets the node.
    fn bury(&mut self, id: NodeId, pin: &mut Option<Pin>) {
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        node.dead = true;
        node.pinned = pin.take();
        let key = node.key;
        // A synthetic number must not be handed to a new inode reusing the key.
        if id >= FIRST_SYNTHETIC && self.by_key.get(&key) == Some(&id) {
            self.by_key.remove(&key);
        }
        if self.twins.get(&key) == Some(&id) {
            self.twins.remove(&key);
        }
    }

    /// The node number backing inode `key` has now, if it has one yet.
    fn known_id(&self, key: BackingKey) -> Option<NodeId> {
        if let Some(&id) = self.by_key.get(&key) {
            return Some(id);
        }
        (key.dev == self.store_dev && key.ino > RESERVED && !self.moved_away.contains(&key))
            .then_some(key.ino)
    }

    /// The node number of backing inode `key`.
    fn id_for(&mut self, key: BackingKey) -> NodeId {
        match self.known_id(key) {
            Some(id) => id,
            None => self.fresh(key, false),
        }
    }

    /// A new synthetic number for backing inode `key`, from now on its
    /// number (`twin`: in a `.Trash-U/files` view).
    fn fresh(&mut self, key: BackingKey, twin: bool) -> NodeId {
        let id = self.next_synthetic;
        self.next_synthetic += 1;
        match twin {
            true => self.twins.insert(key, id),
            false => self.by_key.insert(key, id),
        };
        id
    }

    /// Link `link` of node `id` is gone. Returns the node's other links, or
    /// None once it has none left and is buried (taking `pin`).
    fn drop_link(&mut self, id: NodeId, link: &Link, pin: &mut Option<Pin>) -> Option<Vec<Link>> {
        let node = self.nodes.get_mut(&id)?;
        node.links.retain(|l| l != link);
        if node.links.is_empty() {
            self.bury(id, pin);
            return None;
        }
        Some(node.links.clone())
    }
}

/// A bounded cache of directory `O_PATH` fds, evicted oldest-first.
struct FdCache {
    fds: HashMap<NodeId, Arc<OwnedFd>>,
    order: VecDeque<NodeId>,
}

/// Lock order: `inner` before `fds`; no syscall is made while `inner` is held.
pub struct NodeTable {
    inner: Mutex<Inner>,
    /// Signalled when the kernel forgets a departed folder (see `depart`).
    forgotten: Condvar,
    fds: Mutex<FdCache>,
    gallery_fd: Arc<OwnedFd>,
    trash_fd: Arc<OwnedFd>,
    fd_cache_size: usize,
    /// Pins held now, bounded like the fd cache (see `pin`).
    pins: Arc<AtomicUsize>,
}

/// An `O_PATH` fd keeping a removed inode's number from reuse, counted so
/// that pins never exhaust the process's open-file limit.
pub struct Pin {
    _fd: OwnedFd,
    count: Arc<AtomicUsize>,
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

impl NodeTable {
    pub fn new(gallery_fd: OwnedFd, trash_fd: OwnedFd) -> FsResult<NodeTable> {
        let mut nodes = HashMap::new();
        let mut by_key = HashMap::new();
        let store_dev = backing::fstat(gallery_fd.as_fd())?.st_dev;
        for (id, fd) in [(GALLERY, &gallery_fd), (TRASH, &trash_fd)] {
            let key = BackingKey::of(&backing::fstat(fd.as_fd())?);
            let name = if id == GALLERY {
                crate::contract::GALLERY
            } else {
                crate::contract::TRASH
            };
            nodes.insert(
                id,
                Node {
                    key,
                    is_dir: true,
                    links: vec![(ROOT, name.into())],
                    lookups: 0,
                    kernel_parent: ROOT,
                    generation: 0,
                    dead: false,
                    departed: false,
                    pinned: None,
                    swapped_out: None,
                },
            );
            by_key.insert(key, id);
        }
        Ok(NodeTable {
            forgotten: Condvar::new(),
            inner: Mutex::new(Inner {
                nodes,
                by_key,
                moved_away: HashSet::new(),
                twins: HashMap::new(),
                by_link: HashMap::new(),
                next_synthetic: FIRST_SYNTHETIC,
                store_dev,
            }),
            fds: Mutex::new(FdCache {
                fds: HashMap::new(),
                order: VecDeque::new(),
            }),
            gallery_fd: Arc::new(gallery_fd),
            trash_fd: Arc::new(trash_fd),
            fd_cache_size: dir_fd_cache_size(),
            pins: Arc::new(AtomicUsize::new(0)),
        })
    }

    pub fn gallery_fd(&self) -> &Arc<OwnedFd> {
        &self.gallery_fd
    }

    pub fn trash_fd(&self) -> &Arc<OwnedFd> {
        &self.trash_fd
    }

    fn is_fixed(id: NodeId) -> bool {
        id == ROOT || id == GALLERY || id == TRASH
    }

    /// The node number `st` has or would have (for d_ino in listings).
    pub fn id_of(&self, st: &Stat) -> NodeId {
        let key = BackingKey::of(st);
        let inner = lock(&self.inner);
        inner.by_key.get(&key).copied().unwrap_or(key.ino)
    }

    /// The node number of a same-device inode number (d_ino of a listing).
    pub fn id_of_ino(&self, ino: u64) -> NodeId {
        if ino > RESERVED {
            ino
        } else {
            FIRST_SYNTHETIC - 1 - ino
        }
    }

    /// Records that the kernel learned `parent/name` → the inode `st`, and
    /// returns its node (one more lookup reference).
    pub fn remember(&self, parent: NodeId, name: &OsStr, st: &Stat) -> NodeId {
        self.remember_as(parent, name, st, false, true)
            .unwrap_or_else(|| unreachable!("a confirmed remember always gives a node"))
    }

    /// `remember` for a lookup of `name` in `dir` (node `parent`) whose stat
    /// `st` may predate a move: a directory the kernel holds by a name in
    /// another directory has usually just moved (a restore through the
    /// other view, whose rename galleryfs finished between the stat and
    /// now), so the name is stat'ed again and that is remembered. Given to
    /// the kernel on the stale stat, its number would make the kernel move
    /// its other name here, and answer ESTALE when it cannot take the
    /// rename lock to do so. Returns the node and the stat it is for.
    pub fn remember_looked_up(
        &self,
        dir: BorrowedFd<'_>,
        parent: NodeId,
        name: &OsStr,
        st: Stat,
    ) -> FsResult<(NodeId, Stat)> {
        if let Some(id) = self.remember_as(parent, name, &st, false, false) {
            return Ok((id, st));
        }
        let now = backing::fstatat(dir, name)?;
        Ok((self.remember(parent, name, &now), now))
    }

    /// `remember` for a directory entry of the trash named in a
    /// `.Trash-U/files` view: it gets a number of its own there. The kernel
    /// keeps one name per directory inode, so one number for both views
    /// would make it move that name whenever the other view is used, and
    /// it answers ESTALE when it cannot take the locks to do so.
    pub fn remember_in_view(&self, parent: NodeId, name: &OsStr, st: &Stat) -> NodeId {
        self.remember_as(parent, name, st, true, true)
            .unwrap_or_else(|| unreachable!("a confirmed remember always gives a node"))
    }

    fn remember_as(
        &self,
        parent: NodeId,
        name: &OsStr,
        st: &Stat,
        twin: bool,
        confirmed: bool,
    ) -> Option<NodeId> {
        let key = BackingKey::of(st);
        let mut guard = lock(&self.inner);
        if !twin {
            guard = self.await_departed_forget(guard, key);
        }
        let inner = &mut *guard;
        let link = (parent, name.to_os_string());
        let mut id = match twin {
            false => match inner.id_for(key) {
                // The kernel still holds the number for an inode that is
                // gone (a removed file still open, a file of a purged tree
                // by a name it has cached): a new inode that reuses the
                // backing number gets a number of its own. With the old one
                // (and a new generation) the kernel would make its old inode
                // bad: EIO for whoever still holds it, where a gone name
                // says ENOENT. (A name the node has already is no new inode.)
                // So does a departed folder under its name in the trash,
                // and whatever a lookup through that name finds below it.
                id if inner.nodes.get(&id).is_some_and(|n| {
                    n.departed || (!n.links.contains(&link) && inner.gone(id))
                }) =>
                {
                    inner.fresh(key, false)
                }
                id => id,
            },
            true => match inner.twins.get(&key) {
                Some(&id) => id,
                None => inner.fresh(key, true),
            },
        };
        let is_dir = backing::is_dir(st);
        if is_dir {
            log::trace!(
                "dir {:?} at {link:?}: node {id} (twin {twin}, confirmed {confirmed})",
                key
            );
        }
        if !confirmed
            && is_dir
            && !Self::is_fixed(id)
            && inner.nodes.get(&id).is_some_and(|n| {
                n.key == key
                    && !n.dead
                    && n.lookups > 0
                    && !n.links.contains(&link)
                    && n.links.iter().any(|l| l.0 != parent)
            })
        {
            return None;
        }
        // The kernel moves a directory inode's dentry (even one it dropped
        // but someone still uses) to wherever a lookup names its number,
        // and answers ESTALE when it cannot take the rename lock to do so
        // from another parent. A directory it holds under another parent
        // than this one (moved there behind its back: a fold, a restore
        // through the other view) gets a number of its own here.
        let held_under = inner
            .nodes
            .get(&id)
            .filter(|n| n.is_dir && n.lookups > 0)
            .map(|n| n.kernel_parent);
        if let Some(held_under) = held_under
            && is_dir
            && !Self::is_fixed(id)
            && held_under != parent
        {
            let fresh = inner.fresh(key, twin);
            log::debug!("directory {id} held under {held_under}: {link:?} is node {fresh}");
            // The old number still reaches the folder, here (a process in
            // it goes on), but no lookup gives it any more.
            let old = inner.nodes.get_mut(&id).expect("checked above");
            if old.key == key {
                let stale = std::mem::replace(&mut old.links, vec![link.clone()]);
                for l in stale {
                    if inner.by_link.get(&l) == Some(&id) {
                        inner.by_link.remove(&l);
                    }
                }
            }
            id = fresh;
        }
        let mut reused = false;
        let node = inner.nodes.entry(id).or_insert_with(|| Node {
            key,
            is_dir,
            links: Vec::new(),
            lookups: 0,
            kernel_parent: 0,
            generation: 0,
            dead: false,
            departed: false,
            pinned: None,
            swapped_out: None,
        });
        if node.key != key || node.is_dir != is_dir || node.dead {
            // The inode number was reused by a new file since the node was
            // made. The lookup count stays: the kernel forgets the old inode
            // under the same number.
            node.key = key;
            node.is_dir = is_dir;
            node.dead = false;
            node.generation += 1;
            let stale = std::mem::take(&mut node.links);
            for old in stale {
                if inner.by_link.get(&old) == Some(&id) {
                    inner.by_link.remove(&old);
                }
            }
            reused = true;
        }
        // The name may have pointed at another inode before (replaced behind our back).
        if let Some(old) = inner.by_link.insert(link.clone(), id)
            && old != id
            && let Some(node) = inner.nodes.get_mut(&old)
        {
            node.links.retain(|l| *l != link);
        }
        if let Some(node) = inner.nodes.get_mut(&id)
            && !Self::is_fixed(id)
        {
            // An inode with one name (or a directory) has no other: any other
            // link the node still knows went stale behind the kernel's back
            // (a move into or out of the trash racing with this lookup), and
            // keeping it would put the node in two places at once.
            let only = st.st_nlink <= 1 || is_dir;
            // (A trash entry's name in the other view of the trash is the
            // same backing name, not a stale one: the kernel holds both.)
            let other_view = |l: &Link| is_trash_dir(l.0) && is_trash_dir(parent) && l.1 == name;
            let stale: Vec<Link> = if only {
                let (kept, stale): (Vec<Link>, Vec<Link>) = node
                    .links
                    .drain(..)
                    .filter(|l| *l != link)
                    .partition(other_view);
                node.links = kept;
                stale
            } else {
                node.links.retain(|l| *l != link);
                Vec::new()
            };
            if is_dir && node.lookups > 0 && stale.iter().any(|l| l.0 != parent) {
                log::debug!(
                    "directory {id} given as {parent}/{name:?} while the kernel may hold it at {stale:?}"
                );
            }
            node.links.insert(0, link);
            for old in stale {
                if inner.by_link.get(&old) == Some(&id) {
                    inner.by_link.remove(&old);
                }
            }
            let Some(node) = inner.nodes.get_mut(&id) else {
                return Some(id);
            };
            if node.links.len() > MAX_LINKS
                && let Some(dropped) = node.links.pop()
            {
                inner.by_link.remove(&dropped);
            }
            node.lookups += 1;
            if node.is_dir {
                node.kernel_parent = parent;
            }
        }
        drop(guard);
        if reused {
            // A cached directory fd is the old inode's.
            self.drop_fd(id);
        }
        Some(id)
    }

    /// A lookup of a departed folder's inode (its name in the trash) while
    /// the kernel holds its old number: usually the kernel has just dropped
    /// the old name and its FORGET is being handled on another thread; then
    /// the folder keeps its number (`st_ino`, as for any rename). Waits a
    /// bounded time for it; past that, someone really holds the folder (an
    /// fd opened in the gallery) and the trash's name gets a new number.
    fn await_departed_forget<'a>(
        &self,
        mut guard: MutexGuard<'a, Inner>,
        key: BackingKey,
    ) -> MutexGuard<'a, Inner> {
        let mut deadline = None;
        loop {
            let departed = guard
                .known_id(key)
                .and_then(|id| guard.nodes.get(&id))
                .is_some_and(|n| n.departed && n.key == key);
            if !departed {
                return guard;
            }
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + DEPARTED_FORGET_WAIT);
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return guard;
            }
            guard = self
                .forgotten
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Releases `n` lookup references; the node is dropped at zero.
    pub fn forget(&self, id: NodeId, n: u64) {
        if Self::is_fixed(id) {
            return;
        }
        let mut inner = lock(&self.inner);
        let Some(node) = inner.nodes.get_mut(&id) else {
            return;
        };
        if node.lookups > n {
            node.lookups -= n;
            return;
        }
        if node.lookups < n {
            log::warn!(
                "forget of node {id}: {n} references, only {} known",
                node.lookups
            );
        }
        let node = inner.nodes.remove(&id).expect("present above");
        if node.is_dir {
            log::trace!("dir node {id} forgotten, links {:?}", node.links);
        }
        if node.departed {
            self.forgotten.notify_all();
        }
        for link in &node.links {
            if inner.by_link.get(link) == Some(&id) {
                inner.by_link.remove(link);
            }
        }
        if inner.by_key.get(&node.key) == Some(&id) {
            inner.by_key.remove(&node.key);
        }
        if inner.twins.get(&node.key) == Some(&id) {
            inner.twins.remove(&node.key);
        }
        if let Some(old) = node.swapped_out {
            inner.moved_away.remove(&old);
        }
        drop(inner);
        self.drop_fd(id);
    }

    /// Node `id`'s inode went to the trash and a new inode (`new`) took its
    /// name while the kernel goes on using `id` for that name (an overwrite
    /// kept by inode, see `fs::keep`). `id` now denotes the new inode, so
    /// the name keeps its number; the old inode, wherever it is reached
    /// again, gets a synthetic number until the kernel forgets `id`.
    pub fn swapped(&self, id: NodeId, new: &Stat) {
        let mut guard = lock(&self.inner);
        let inner = &mut *guard;
        let new_key = BackingKey::of(new);
        let Some(node) = inner.nodes.get_mut(&id) else {
            return;
        };
        let old_key = std::mem::replace(&mut node.key, new_key);
        if inner.by_key.get(&old_key) == Some(&id) {
            inner.by_key.remove(&old_key);
        }
        if old_key.dev == inner.store_dev && old_key.ino == id && node.swapped_out.is_none() {
            node.swapped_out = Some(old_key);
            inner.moved_away.insert(old_key);
        }
        inner.by_key.insert(new_key, id);
    }

    fn drop_fd(&self, id: NodeId) {
        let mut fds = lock(&self.fds);
        if fds.fds.remove(&id).is_some() {
            fds.order.retain(|&x| x != id);
        }
    }

    /// The node known as `parent/name`, if the kernel knows it.
    pub fn find(&self, parent: NodeId, name: &OsStr) -> Option<NodeId> {
        lock(&self.inner)
            .by_link
            .get(&(parent, name.to_os_string()))
            .copied()
    }

    /// A rename moved `old_parent/old_name` to `new_parent/new_name`.
    pub fn moved(
        &self,
        old_parent: NodeId,
        old_name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
    ) {
        let mut inner = lock(&self.inner);
        let old = (old_parent, old_name.to_os_string());
        let new = (new_parent, new_name.to_os_string());
        inner.replaced(&new);
        let Some(id) = inner.by_link.remove(&old) else {
            return;
        };
        log::trace!("node {id} moved {old:?} -> {new:?}");
        inner.by_link.insert(new.clone(), id);
        if let Some(node) = inner.nodes.get_mut(&id) {
            node.links.retain(|l| *l != old);
            node.links.insert(0, new);
            // A view's number that left the view (a restore through it) is
            // the directory's number from now on, wherever it is looked up,
            // while the kernel holds it: the kernel may still hold the
            // directory's own number for an old name, and a lookup answered
            // with that one would make it move that name (ESTALE when it
            // cannot). The view's next lookup gets a number of its own.
            let key = node.key;
            if inner.twins.get(&key) == Some(&id)
                && super::ids::files_dir_owner(new_parent).is_none()
            {
                inner.twins.remove(&key);
                inner.by_key.insert(key, id);
            }
        }
        // The directory moved, not its contents: its cached fd stays valid.
    }

    /// The kernel's rename of its dentry `node` (the one it had for the
    /// source name, see `find`) into `new_parent` succeeded: it moved that
    /// dentry there.
    pub fn kernel_moved(&self, node: Option<NodeId>, new_parent: NodeId) {
        let Some(id) = node else {
            return;
        };
        let mut inner = lock(&self.inner);
        if let Some(node) = inner.nodes.get_mut(&id)
            && node.is_dir
        {
            node.kernel_parent = new_parent;
        }
    }

    /// A rename moved gallery folder `old_parent/old_name` into the trash
    /// as `new_parent/new_name`. The kernel keeps the folder under its old
    /// number, now named in the trash, and a process that opened it in the
    /// gallery (an `rm -r` holding its fd) goes on with `unlinkat(fd, ..)`
    /// through that number: inside the trash, an unlink deletes for good.
    /// So the number stays the gallery's: below it the folder is a removed
    /// one (`place` says ENOENT), and the trash's name gets a number of its
    /// own at its next lookup while the kernel still holds the old one
    /// (`remember_as`, `await_departed_forget`), as does everything found
    /// through it. The caller makes the kernel look the name up again.
    pub fn depart(
        &self,
        old_parent: NodeId,
        old_name: &OsStr,
        new_parent: NodeId,
        new_name: &OsStr,
    ) {
        let mut inner = lock(&self.inner);
        let old = (old_parent, old_name.to_os_string());
        let new = (new_parent, new_name.to_os_string());
        inner.replaced(&new);
        let Some(id) = inner.by_link.remove(&old) else {
            return;
        };
        log::trace!("node {id} departed {old:?} -> {new:?}");
        if let Some(node) = inner.nodes.get_mut(&id) {
            // Its one name, for reaching the inode (a listing through an
            // open handle), not for lookups: `by_link` does not point here.
            node.links = vec![new];
            node.departed = true;
        }
    }

    /// Two names swapped their inodes (RENAME_EXCHANGE).
    pub fn exchanged(&self, a_parent: NodeId, a_name: &OsStr, b_parent: NodeId, b_name: &OsStr) {
        let mut inner = lock(&self.inner);
        let a = (a_parent, a_name.to_os_string());
        let b = (b_parent, b_name.to_os_string());
        let id_a = inner.by_link.remove(&a);
        let id_b = inner.by_link.remove(&b);
        for (id, from, to) in [(id_a, &a, &b), (id_b, &b, &a)] {
            if let Some(id) = id {
                inner.by_link.insert(to.clone(), id);
                if let Some(node) = inner.nodes.get_mut(&id) {
                    node.links.retain(|l| l != from);
                    node.links.insert(0, to.clone());
                }
            }
        }
    }

    /// `parent/name` no longer exists.
    pub fn unlinked(&self, parent: NodeId, name: &OsStr) {
        let mut inner = lock(&self.inner);
        let link = (parent, name.to_os_string());
        if let Some(id) = inner.by_link.remove(&link)
            && let Some(node) = inner.nodes.get_mut(&id)
        {
            node.links.retain(|l| *l != link);
        }
    }

    /// Before `parent/name` is removed for good: an `O_PATH` fd on its inode,
    /// to hand to `destroyed_pinned` once it is removed. The node keeps it
    /// until the kernel forgets the node, so the backing filesystem (ext4
    /// hands a freed number out again at once) cannot give the number to a
    /// file created meanwhile: the kernel, still holding the old inode under
    /// that number, would take the new file for it (another file's
    /// attributes, or with a new generation a bad inode: EIO for whoever
    /// still holds the old one). None if the kernel does not know the name.
    ///
    /// At most as many pins as directory fds are held at once: past that
    /// (a burst of expiries the kernel has not forgotten yet), a reused
    /// number is told apart by its generation instead.
    pub fn pin(&self, parent: NodeId, name: &OsStr) -> Option<Pin> {
        if self.pins.load(Ordering::Relaxed) >= self.fd_cache_size {
            return None;
        }
        let key = {
            let inner = lock(&self.inner);
            let id = *inner.by_link.get(&(parent, name.to_os_string()))?;
            inner.nodes.get(&id)?.key
        };
        let dir = self.dir_fd(parent).ok()?;
        let fd = backing::open_path(dir.as_fd(), name).ok()?;
        let st = backing::fstat(fd.as_fd()).ok()?;
        if BackingKey::of(&st) != key {
            return None;
        }
        self.pins.fetch_add(1, Ordering::Relaxed);
        Some(Pin {
            _fd: fd,
            count: self.pins.clone(),
        })
    }

    /// `destroyed`, keeping `pin` (from `pin`, taken before the removal)
    /// with the node until the kernel forgets it.
    pub fn destroyed_pinned(
        &self,
        parent: NodeId,
        name: &OsStr,
        mut pin: Option<Pin>,
    ) -> Option<NodeId> {
        let mut inner = lock(&self.inner);
        let link = (parent, name.to_os_string());
        let id = inner.by_link.remove(&link)?;
        log::trace!("node {id} destroyed at {link:?}");
        // Still named: the number already belongs to a new inode. The old
        // one was freed (unpinned) before this call, and a file created
        // meanwhile got its number and was remembered under its own name;
        // marking that live node dead would bump its generation at its
        // next lookup, and the kernel would turn its inode bad (EIO).
        inner.drop_link(id, &link, &mut pin);
        drop(inner);
        drop(pin);
        self.drop_fd(id);
        Some(id)
    }

    /// `destroyed_pinned` for `parent/name`, whose inode `st` is destroyed
    /// (its last name removed). The node may know the inode by another name
    /// gone with it, its name in the other view of the trash (`.trash/d/x`
    /// and `.Trash-U/files/d/x`), or by that name only (a lookup through the
    /// other view replaced this one): the node is dead unless one of its
    /// names still holds the number (a new inode that took it). Else the
    /// kernel would take a new file given the freed number for the old one,
    /// with the old one's page cache (a read of 0 bytes, another file's data).
    pub fn destroyed_inode(
        &self,
        parent: NodeId,
        name: &OsStr,
        st: &Stat,
        mut pin: Option<Pin>,
    ) -> Option<NodeId> {
        let key = BackingKey::of(st);
        let link = (parent, name.to_os_string());
        let (id, others) = {
            let mut guard = lock(&self.inner);
            let inner = &mut *guard;
            let id = match inner.by_link.remove(&link) {
                Some(id) => id,
                None => inner
                    .known_id(key)
                    .or_else(|| inner.twins.get(&key).copied())?,
            };
            let node = inner.nodes.get_mut(&id)?;
            if node.key != key {
                return Some(id);
            }
            if node.dead {
                // Buried through its other name already (a purge through
                // both views): the pin goes with it all the same.
                if node.pinned.is_none() {
                    node.pinned = pin.take();
                }
                return Some(id);
            }
            match inner.drop_link(id, &link, &mut pin) {
                Some(others) => (id, others),
                None => {
                    drop(guard);
                    self.drop_fd(id);
                    return Some(id);
                }
            }
        };
        let holds_key = |l: &Link| {
            self.dir_fd(l.0)
                .and_then(|dir| backing::fstatat(dir.as_fd(), &l.1))
                .is_ok_and(|now| BackingKey::of(&now) == key)
        };
        let live: Vec<Link> = others.iter().filter(|l| holds_key(l)).cloned().collect();
        let mut guard = lock(&self.inner);
        let inner = &mut *guard;
        let Some(node) = inner.nodes.get_mut(&id) else {
            return Some(id);
        };
        if node.key == key
            && !node.dead
            && node
                .links
                .iter()
                .all(|l| others.contains(l) && !live.contains(l))
        {
            log::trace!("node {id} destroyed also at {:?}", node.links);
            for stale in std::mem::take(&mut node.links) {
                if inner.by_link.get(&stale) == Some(&id) {
                    inner.by_link.remove(&stale);
                }
            }
            inner.bury(id, &mut pin);
            drop(guard);
            self.drop_fd(id);
        }
        Some(id)
    }

    /// The generation the kernel is told for node `id` (see `Node::generation`).
    pub fn generation(&self, id: NodeId) -> u64 {
        lock(&self.inner).nodes.get(&id).map_or(0, |n| n.generation)
    }

    pub fn key(&self, id: NodeId) -> FsResult<BackingKey> {
        lock(&self.inner)
            .nodes
            .get(&id)
            .map(|n| n.key)
            .ok_or(FsError::ENOENT)
    }

    /// Where `id` lives.
    pub fn place(&self, id: NodeId) -> FsResult<Place> {
        match id {
            ROOT => return Ok(Place::Root),
            GALLERY => return Ok(Place::GalleryRoot),
            TRASH => return Ok(Place::TrashDir(None)),
            _ => match View::decode(id) {
                Some(View::Files(uid)) => return Ok(Place::TrashDir(Some(uid))),
                Some(view) => return Ok(Place::Desktop(view)),
                None => {}
            },
        }
        let inner = lock(&self.inner);
        // A file with names both in the gallery and in the trash (a hard link
        // moved into .trash) is a gallery file: ordinary operations through
        // its gallery name must work. Which name the kernel used is unknown.
        if let Some(node) = inner.nodes.get(&id)
            && node.links.len() > 1
            && node
                .links
                .iter()
                .any(|&(parent, _)| inner.in_gallery(parent))
        {
            return Ok(Place::Gallery);
        }
        let mut current = id;
        // Walk up to a fixed node; the depth bounds the loop (a cycle would be a bug).
        for depth in 0..100_000 {
            let node = inner.nodes.get(&current).ok_or(FsError::ENOENT)?;
            // A folder that left the gallery is a removed one for the
            // handles that reach it by this number (see `depart`).
            if node.departed {
                return Err(FsError::ENOENT);
            }
            // No name left: the inode was removed (ENOENT, as for any removed name).
            let parent = node.links.first().ok_or(FsError::ENOENT)?.0;
            match parent {
                GALLERY => return Ok(Place::Gallery),
                _ if is_trash_dir(parent) => {
                    return Ok(if depth == 0 {
                        Place::TrashEntry
                    } else {
                        Place::InTrash
                    });
                }
                ROOT => return Err(FsError::ENOENT),
                _ => current = parent,
            }
        }
        Err(FsError::EIO)
    }

    /// The first link of `id`: the name through which it is reached.
    pub fn link(&self, id: NodeId) -> FsResult<(NodeId, OsString)> {
        let inner = lock(&self.inner);
        let node = inner.nodes.get(&id).ok_or(FsError::ENOENT)?;
        // No name left: the inode was removed.
        node.links.first().cloned().ok_or(FsError::ENOENT)
    }

    /// Every name of `id` the table knows, most recently used first.
    pub fn links(&self, id: NodeId) -> FsResult<Vec<(NodeId, OsString)>> {
        let inner = lock(&self.inner);
        let node = inner.nodes.get(&id).ok_or(FsError::ENOENT)?;
        Ok(node.links.clone())
    }

    /// Path of `id` relative to `gallery/`, or to `.trash/` for nodes in the trash.
    pub fn relative_path(&self, id: NodeId) -> FsResult<Vec<u8>> {
        let inner = lock(&self.inner);
        let mut parts: Vec<OsString> = Vec::new();
        let mut current = id;
        while current != GALLERY && !is_trash_dir(current) {
            let node = inner.nodes.get(&current).ok_or(FsError::ENOENT)?;
            let (parent, name) = node.links.first().ok_or(FsError::ENOENT)?;
            parts.push(name.clone());
            if parts.len() > 100_000 {
                return Err(FsError::EIO);
            }
            current = *parent;
        }
        parts.reverse();
        Ok(parts
            .iter()
            .map(|p| p.as_bytes())
            .collect::<Vec<_>>()
            .join(&b'/'))
    }

    /// The `O_PATH` fd of directory `id`, from the cache or reopened by name.
    pub fn dir_fd(&self, id: NodeId) -> FsResult<Arc<OwnedFd>> {
        match id {
            GALLERY => return Ok(self.gallery_fd.clone()),
            _ if is_trash_dir(id) => return Ok(self.trash_fd.clone()),
            ROOT => return Err(FsError::EPERM),
            _ if View::decode(id).is_some() => return Err(FsError::EPERM),
            _ => {}
        }
        if let Some(fd) = lock(&self.fds).fds.get(&id) {
            return Ok(fd.clone());
        }
        let (fd, _) = self.open_verified(id, backing::open_dir_path)?;
        let fd = Arc::new(fd);
        let mut cache = lock(&self.fds);
        if cache.fds.insert(id, fd.clone()).is_none() {
            cache.order.push_back(id);
        }
        while cache.order.len() > self.fd_cache_size {
            if let Some(old) = cache.order.pop_front() {
                cache.fds.remove(&old);
            }
        }
        Ok(fd)
    }

    /// Node `id`'s identity and names, and the error to give if none of the
    /// names reaches it any more.
    fn names_of(&self, id: NodeId) -> FsResult<(BackingKey, Vec<Link>, FsError)> {
        let inner = lock(&self.inner);
        let node = inner.nodes.get(&id).ok_or(FsError::ENOENT)?;
        // No name left: the inode was removed (fstat of an open directory
        // someone else deleted, say): ENOENT, as a local filesystem says.
        // Names that now reach other inodes (see `open_verified`) are ESTALE.
        Ok((node.key, node.links.clone(), FsError::ENOENT))
    }

    /// Opens node `id` through one of its links with `open`, checking that the
    /// result is the node's own inode. Another inode under its name is
    /// ESTALE, the one case galleryfs answers it: the kernel then looks the
    /// path up again (LOOKUP_REVAL) and retries with the node the name has
    /// now, which the caller never sees; a name the table lost track of
    /// heals that way.
    fn open_verified(
        &self,
        id: NodeId,
        open: impl Fn(std::os::fd::BorrowedFd<'_>, &OsStr) -> FsResult<OwnedFd>,
    ) -> FsResult<(OwnedFd, Stat)> {
        let (key, links, mut last) = self.names_of(id)?;
        for (parent, name) in links {
            let parent_fd = match self.dir_fd(parent) {
                Ok(fd) => fd,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            match open(parent_fd.as_fd(), &name) {
                Ok(fd) => {
                    let st = backing::fstat(fd.as_fd())?;
                    if BackingKey::of(&st) == key {
                        return Ok((fd, st));
                    }
                    log::debug!("node {id}: {name:?} in {parent} is another inode now (ESTALE)");
                    last = FsError::ESTALE;
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// An `O_PATH` fd on node `id` (any type), verified to be its inode.
    pub fn path_fd(&self, id: NodeId) -> FsResult<(Arc<OwnedFd>, Stat)> {
        if matches!(id, GALLERY | TRASH) || is_trash_dir(id) || self.is_dir(id) {
            let fd = self.dir_fd(id)?;
            let st = backing::fstat(fd.as_fd())?;
            return Ok((fd, st));
        }
        let (fd, st) = self.open_verified(id, backing::open_path)?;
        Ok((Arc::new(fd), st))
    }

    /// Opens node `id` (not a directory) for I/O with `flags`.
    pub fn open_file(&self, id: NodeId, flags: i32) -> FsResult<(OwnedFd, Stat)> {
        self.open_verified(id, |dir, name| backing::openat(dir, name, flags, 0))
    }

    pub fn is_dir(&self, id: NodeId) -> bool {
        lock(&self.inner).nodes.get(&id).is_some_and(|n| n.is_dir)
    }

    /// Current attributes of node `id`, verified to be its inode.
    pub fn stat(&self, id: NodeId) -> FsResult<Stat> {
        if matches!(id, GALLERY | TRASH) || self.is_dir(id) {
            return backing::fstat(self.dir_fd(id)?.as_fd());
        }
        let (key, links, mut last) = self.names_of(id)?;
        for (parent, name) in links {
            let Ok(parent_fd) = self.dir_fd(parent) else {
                continue;
            };
            match backing::fstatat(parent_fd.as_fd(), &name) {
                Ok(st) if BackingKey::of(&st) == key => return Ok(st),
                Ok(_) => last = FsError::ESTALE,
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Number of nodes the kernel holds, for tests of boundedness.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        lock(&self.inner).nodes.len()
    }
}

#[cfg(test)]
mod tests;

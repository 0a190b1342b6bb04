//! Open handles: backing files and the desktop view's synthesized files,
//! under one numbering so a handle says what it is. (Directories have no
//! handles: galleryfs answers no OPENDIR, see `fuse`.)

use std::collections::HashMap;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{FsError, FsResult};
use crate::node::NodeId;
use crate::sync::lock;

/// `FMODE_EXEC` as the kernel passes it in an open's flags: the open of a
/// program it is about to execute.
const FMODE_EXEC: i32 = 0x20;

/// What an open file of the desktop view reads.
#[derive(Clone)]
pub(super) enum ViewFile {
    /// A synthesized `.trashinfo`, as it was at open.
    Snapshot(Arc<Vec<u8>>),
    /// A file a client wrote (its id in the view's state).
    Client(u64),
}

/// An open backing file, the node it was opened on, and whether it was
/// opened to execute the program.
type OpenFile = (Arc<File>, NodeId, bool);

/// Every open handle of the mount.
pub(super) struct Handles {
    next: AtomicU64,
    /// Open backing files, with the node each was opened on.
    files: Mutex<HashMap<u64, OpenFile>>,
    /// How many open backing files each node has, and how many of them
    /// were opened to execute it.
    open: Mutex<HashMap<NodeId, (usize, usize)>>,
    views: Mutex<HashMap<u64, ViewFile>>,
}

impl Handles {
    pub(super) fn new() -> Handles {
        Handles {
            next: AtomicU64::new(1),
            files: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
            views: Mutex::new(HashMap::new()),
        }
    }

    fn next(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Lock order: `files` before `open`. `flags` are the open's.
    pub(super) fn add_file(&self, file: File, node: NodeId, flags: i32) -> u64 {
        let fh = self.next();
        let exec = flags & FMODE_EXEC != 0;
        let mut files = lock(&self.files);
        files.insert(fh, (Arc::new(file), node, exec));
        let mut open = lock(&self.open);
        let counts = open.entry(node).or_default();
        counts.0 += 1;
        counts.1 += usize::from(exec);
        fh
    }

    pub(super) fn file(&self, fh: u64) -> FsResult<Arc<File>> {
        lock(&self.files)
            .get(&fh)
            .map(|(f, _, _)| f.clone())
            .ok_or(FsError::EBADF)
    }

    /// The backing file of `fh`, if it is an open backing file.
    pub(super) fn file_of(&self, fh: Option<u64>) -> Option<Arc<File>> {
        fh.and_then(|fh| lock(&self.files).get(&fh).map(|(f, _, _)| f.clone()))
    }

    pub(super) fn close_file(&self, fh: u64) {
        let mut files = lock(&self.files);
        if let Some((_, node, exec)) = files.remove(&fh) {
            let mut open = lock(&self.open);
            if let Some(counts) = open.get_mut(&node) {
                counts.0 -= 1;
                counts.1 -= usize::from(exec);
                if counts.0 == 0 {
                    open.remove(&node);
                }
            }
        }
    }

    /// The node open backing file `fh` was opened on.
    pub(super) fn node_of(&self, fh: u64) -> Option<NodeId> {
        lock(&self.files).get(&fh).map(|&(_, node, _)| node)
    }

    /// Whether some process has node `node` open through the mount.
    pub(super) fn is_open(&self, node: NodeId) -> bool {
        lock(&self.open).contains_key(&node)
    }

    /// Whether some process is executing node `node`.
    pub(super) fn is_executing(&self, node: NodeId) -> bool {
        lock(&self.open)
            .get(&node)
            .is_some_and(|&(_, execs)| execs > 0)
    }

    pub(super) fn add_view(&self, file: ViewFile) -> u64 {
        let fh = self.next();
        lock(&self.views).insert(fh, file);
        fh
    }

    pub(super) fn view(&self, fh: u64) -> Option<ViewFile> {
        lock(&self.views).get(&fh).cloned()
    }

    /// Closes `fh` if it is a view file; false if it is not one.
    pub(super) fn close_view(&self, fh: u64) -> bool {
        lock(&self.views).remove(&fh).is_some()
    }

    /// Drops every backing file (at unmount).
    pub(super) fn clear(&self) {
        lock(&self.files).clear();
        lock(&self.open).clear();
    }
}

//! What a node number denotes: the fixed nodes, the desktop view's tagged
//! numbers, backing inodes (see `table`), and the place in the mount each
//! is in, which decides what operations on it mean.

pub type NodeId = u64;

/// The mount root: synthetic, shows `gallery` and `.trash`.
pub const ROOT: NodeId = 1;
/// `gallery/`, backed by `STORAGE/gallery`.
pub const GALLERY: NodeId = 2;
/// `.trash/`, backed by `STORAGE/trash`.
pub const TRASH: NodeId = 3;

/// Whether `id` is a directory whose children are trash entries: `.trash`
/// itself, or a `.Trash-UID/files` view of it.
pub fn is_trash_dir(id: NodeId) -> bool {
    id == TRASH || files_dir_owner(id).is_some()
}

/// Node numbers of the view: a tag in the top byte, a uid or an id below.
const TAG_SHIFT: u32 = 56;
const TAG_TOP: u64 = 0xF1;
const TAG_FILES: u64 = 0xF2;
const TAG_INFO: u64 = 0xF3;
const TAG_EXPUNGED: u64 = 0xF4;
const TAG_INFO_FILE: u64 = 0xF5;
const TAG_CLIENT_FILE: u64 = 0xF6;
const TAG_GHOST: u64 = 0xF7;
const LOW_BITS: u64 = (1 << TAG_SHIFT) - 1;

/// A node of the view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `.Trash-U`
    Top(u32),
    /// `.Trash-U/files`: the trash itself, U's entries only
    Files(u32),
    /// `.Trash-U/info`
    Info(u32),
    /// `.Trash-U/expunged` (gvfsd-trash's staging area for deletion)
    Expunged(u32),
    /// `info/NAME.trashinfo` of the entry with this catalog id
    InfoFile(i64),
    /// A file a client wrote
    ClientFile(u64),
}

impl View {
    pub fn decode(id: NodeId) -> Option<View> {
        let low = id & LOW_BITS;
        Some(match id >> TAG_SHIFT {
            TAG_TOP => View::Top(low as u32),
            TAG_FILES => View::Files(low as u32),
            TAG_INFO => View::Info(low as u32),
            TAG_EXPUNGED => View::Expunged(low as u32),
            TAG_INFO_FILE => View::InfoFile(low as i64),
            TAG_CLIENT_FILE => View::ClientFile(low),
            _ => return None,
        })
    }

    pub fn id(self) -> NodeId {
        let (tag, low) = match self {
            View::Top(uid) => (TAG_TOP, uid as u64),
            View::Files(uid) => (TAG_FILES, uid as u64),
            View::Info(uid) => (TAG_INFO, uid as u64),
            View::Expunged(uid) => (TAG_EXPUNGED, uid as u64),
            View::InfoFile(id) => (TAG_INFO_FILE, id as u64),
            View::ClientFile(id) => (TAG_CLIENT_FILE, id),
        };
        tag << TAG_SHIFT | (low & LOW_BITS)
    }
}

/// The `n`th ghost, of file type `kind` (`S_IFMT` bits): a node number that
/// names nothing, answered to the echo helper for a name that vanished
/// (see `fs::echo`). The type sits in the low four bits.
pub fn ghost_id(n: u64, kind: u32) -> NodeId {
    TAG_GHOST << TAG_SHIFT | ((n << 4) & LOW_BITS) | u64::from((kind & libc::S_IFMT) >> 12)
}

/// The file type of ghost `id`, if it is one.
pub fn ghost_of(id: NodeId) -> Option<u32> {
    (id >> TAG_SHIFT == TAG_GHOST).then_some(((id & 0xF) as u32) << 12)
}

/// The uid whose `files/` view `id` is, if it is one.
pub fn files_dir_owner(id: NodeId) -> Option<u32> {
    match View::decode(id) {
        Some(View::Files(uid)) => Some(uid),
        _ => None,
    }
}

/// Where a node lives, which decides what operations on it mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The mount root.
    Root,
    /// `gallery/` itself.
    GalleryRoot,
    /// Anywhere below `gallery/`.
    Gallery,
    /// A directory whose children are trash entries: `.trash/` (None) or
    /// uid U's `.Trash-U/files/` (Some(U)), the same entries filtered by owner.
    TrashDir(Option<u32>),
    /// A direct child of `.trash/`.
    TrashEntry,
    /// Below a trashed directory.
    InTrash,
    /// The synthesized freedesktop.org trash (`.Trash-UID` and what is in
    /// it), except `files/`, which is the trash itself and so a `TrashDir`.
    Desktop(View),
}

impl Place {
    /// Whether the node is in the trash (read-only but for restore, rename, purge).
    pub fn in_trash(self) -> bool {
        matches!(
            self,
            Place::TrashDir(_) | Place::TrashEntry | Place::InTrash
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_numbers_round_trip() {
        for view in [
            View::Top(1000),
            View::Files(0),
            View::Info(u32::MAX),
            View::Expunged(7),
            View::InfoFile(123_456),
            View::ClientFile(9),
        ] {
            assert_eq!(View::decode(view.id()), Some(view));
        }
        assert_eq!(View::decode(42), None);
        assert_eq!(
            View::decode(1 << 63),
            None,
            "not a synthetic inode number of another device"
        );
    }
}

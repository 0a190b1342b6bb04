//! The trash as galleryfs counts it — its size on disk, its cap, whether space
//! pressure is purging it — read from the attributes of `.trash` itself.

use std::path::Path;

use galleryfs::contract::{self, human_size};

use crate::syscalls;

/// Width of `info`'s labels (as in `info`).
const LABEL_WIDTH: usize = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrashSpace {
    /// Bytes the trash's entries occupy on disk.
    pub total: u64,
    /// `max_trash`, in bytes.
    pub cap: Option<u64>,
    /// Oldest entries were purged lately to make room (a full disk or the cap).
    pub purging: bool,
}

/// What galleryfs says about the trash at `trash_dir`; None from a galleryfs
/// too old to say.
pub(crate) fn read(trash_dir: &Path) -> Option<TrashSpace> {
    let value = |name: &str| syscalls::lgetxattr(trash_dir, name).ok();
    let number = |name: &str| value(name).as_deref().and_then(contract::parse_bytes);
    Some(TrashSpace {
        total: number(contract::XATTR_TOTAL_SIZE)?,
        cap: number(contract::XATTR_MAX_SIZE),
        // Unreadable or unknown values mean not purging.
        purging: value(contract::XATTR_PURGING_FOR_SPACE)
            .as_deref()
            .and_then(contract::parse_flag)
            .unwrap_or(false),
    })
}

/// What the `list` footer adds after `N items, SIZE`: the total against the
/// cap, and purging; nothing when there is neither.
pub(crate) fn footer_clause(space: &TrashSpace) -> String {
    let mut out = String::new();
    if let Some(cap) = space.cap {
        out.push_str(&format!(
            "; {} on disk of a {} cap",
            human_size(space.total),
            human_size(cap)
        ));
    }
    if space.purging {
        out.push_str("; purging the oldest entries for space");
    }
    out
}

/// `info`'s lines about the whole trash.
pub(crate) fn info_lines(space: &TrashSpace) -> String {
    let lines = [
        (
            "trash size",
            format!(
                "{} ({} bytes on disk)",
                human_size(space.total),
                space.total
            ),
        ),
        (
            "trash cap",
            space.cap.map_or_else(
                || "none".to_string(),
                |cap| format!("{} ({cap} bytes)", human_size(cap)),
            ),
        ),
        (
            "purging",
            if space.purging {
                "yes: oldest entries go to make room".to_string()
            } else {
                "no".to_string()
            },
        ),
    ];
    lines
        .iter()
        .map(|(label, value)| format!("{:<LABEL_WIDTH$} {value}\n", format!("{label}:")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_says_nothing_without_a_cap_or_purging() {
        let quiet = TrashSpace {
            total: 4096,
            cap: None,
            purging: false,
        };
        assert_eq!(footer_clause(&quiet), "");
        let busy = TrashSpace {
            total: 3 << 20,
            cap: Some(20 << 30),
            purging: true,
        };
        assert_eq!(
            footer_clause(&busy),
            "; 3.0 MiB on disk of a 20.0 GiB cap; purging the oldest entries for space"
        );
    }

    #[test]
    fn info_lines_are_labelled() {
        let space = TrashSpace {
            total: 1536,
            cap: None,
            purging: false,
        };
        assert_eq!(
            info_lines(&space),
            "\
trash size:    1.5 KiB (1536 bytes on disk)
trash cap:     none
purging:       no
"
        );
    }

    #[test]
    fn a_directory_that_is_no_trash_says_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), None);
    }
}

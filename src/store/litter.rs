//! Litter: entries whose original name or place marks them as a program's
//! temporary file (an editor's swap or backup file, an office lock file, a
//! partial download, anything git replaces inside `.git`, an empty file).
//! They stay only `litter_retention` and gallery-trash and the desktop view
//! leave them out unless asked. Decided once, when the row is inserted, from
//! the original path, the file type and the size; a pure function here.

use std::ffi::CString;

use crate::config;

/// The name patterns (`fnmatch(3)` globs, matched against the last
/// component of the original path) that are litter unless `litter=off`.
pub const DEFAULT_PATTERNS: [&str; 10] = [
    // vim's swap files: .x.swp, then .x.swo, … down to .x.swa, and .x.swx
    ".*.sw[a-p]",
    ".*.swx",
    // backup files (vim, emacs, nano, many others)
    "*~",
    // emacs: auto-save files and lock symlinks
    "#*#",
    ".#*",
    // LibreOffice and Microsoft Office lock files
    ".~lock.*#",
    "~$*",
    // partial downloads (Firefox, Chrome, wget, curl and others)
    "*.part",
    "*.crdownload",
    "*.partial",
];

/// The directory whose contents are litter: git rewrites its files (index,
/// refs, config, logs) by lock file and rename on every command.
const GIT_DIR: &[u8] = b".git";

/// Which new entries are litter, and how long litter stays.
#[derive(Debug)]
pub struct Litter {
    /// None with `litter=off`: nothing is litter, not even rows an earlier
    /// mount marked.
    patterns: Option<Vec<CString>>,
    /// Seconds; never more than the retention of other entries.
    pub(super) retention: i64,
}

impl Litter {
    /// As the mount's settings say, for a trash whose entries stay `retention` seconds.
    pub fn new(settings: &config::Litter, retention: i64) -> Litter {
        let patterns = settings.on.then(|| {
            DEFAULT_PATTERNS
                .iter()
                .map(|p| p.to_string())
                .chain(settings.patterns.iter().cloned())
                // A pattern holding NUL cannot come from argv; dropped all the same.
                .filter_map(|p| CString::new(p).ok())
                .collect()
        });
        let own = settings.retention.as_secs().min(i64::MAX as u64 / 4) as i64;
        Litter {
            patterns,
            retention: own.min(retention),
        }
    }

    /// Whether litter is told apart at all.
    pub fn on(&self) -> bool {
        self.patterns.is_some()
    }

    /// Whether an entry of `original_path` (relative to `gallery/`), of file
    /// type `kind` (`S_IFMT` bits) and `size` bytes is litter. A directory
    /// is litter only inside a `.git` (a repository removed whole, or its
    /// `.git` folder, is a real deletion); a file also by its name, or for
    /// holding nothing.
    pub fn is_litter(&self, original_path: &[u8], kind: u32, size: u64) -> bool {
        let Some(patterns) = &self.patterns else {
            return false;
        };
        let mut parts = original_path
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty());
        let name = parts.next_back().unwrap_or_default();
        if parts.any(|p| p == GIT_DIR) {
            return true;
        }
        if kind == libc::S_IFDIR {
            return false;
        }
        if kind == libc::S_IFREG && size == 0 {
            return true;
        }
        patterns.iter().any(|p| matches(p, name))
    }
}

/// `fnmatch(3)` without flags: `*` and `?` also match a leading dot (a
/// backup of `.bashrc` is litter too). Names never hold `/`.
fn matches(pattern: &CString, name: &[u8]) -> bool {
    let Ok(name) = CString::new(name) else {
        return false;
    };
    // SAFETY: both pointers are NUL-terminated strings that outlive the
    // call; fnmatch only reads them and keeps neither.
    unsafe { libc::fnmatch(pattern.as_ptr(), name.as_ptr(), 0) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings(on: bool, patterns: &[&str]) -> config::Litter {
        config::Litter {
            on,
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            retention: Duration::from_secs(3600),
        }
    }

    fn file(litter: &Litter, path: &str) -> bool {
        litter.is_litter(path.as_bytes(), libc::S_IFREG, 10)
    }

    #[test]
    fn the_default_patterns_match_temporary_files() {
        let l = Litter::new(&settings(true, &[]), 30 * 86_400);
        for path in [
            ".notes.txt.swp",
            "a/.notes.txt.swo",
            ".x.swa",
            ".x.swx",
            "notes.txt~",
            ".bashrc~",
            "#notes.txt#",
            ".#notes.txt",
            "docs/.~lock.report.odt#",
            "~$report.docx",
            "film.mkv.part",
            "film.mkv.crdownload",
            "film.mkv.partial",
        ] {
            assert!(file(&l, path), "{path}");
        }
        for path in [
            "notes.txt",
            ".x.swq",
            "x.swp",
            "~notes",
            "#notes",
            "report.docx",
            "partial.jpg",
            "a~/b.jpg",
            ".gitignore",
            "git/config",
        ] {
            assert!(!file(&l, path), "{path}");
        }
    }

    #[test]
    fn everything_inside_a_git_directory_is_litter() {
        let l = Litter::new(&settings(true, &[]), 30 * 86_400);
        assert!(file(&l, "repo/.git/index"));
        assert!(file(&l, ".git/refs/heads/main"));
        assert!(l.is_litter(b"repo/.git/objects/ab", libc::S_IFDIR, 4096));
        assert!(l.is_litter(b"repo/.git/hooks/x", libc::S_IFLNK, 4));
        // The repository, or its .git, removed whole: real deletions.
        assert!(!l.is_litter(b"repo/.git", libc::S_IFDIR, 4096));
        assert!(!l.is_litter(b"repo", libc::S_IFDIR, 4096));
        assert!(!file(&l, "repo/.github/workflow.yml"));
    }

    #[test]
    fn empty_files_are_litter_but_not_empty_directories() {
        let l = Litter::new(&settings(true, &[]), 30 * 86_400);
        assert!(l.is_litter(b"4913", libc::S_IFREG, 0));
        assert!(!l.is_litter(b"albums", libc::S_IFDIR, 0));
        assert!(!l.is_litter(b"fifo", libc::S_IFIFO, 0));
        // A symlink is litter by its name (emacs's lock is one).
        assert!(l.is_litter(b".#notes.txt", libc::S_IFLNK, 20));
        // Directories are never litter by name.
        assert!(!l.is_litter(b"backup~", libc::S_IFDIR, 4096));
    }

    #[test]
    fn patterns_add_to_the_defaults() {
        let l = Litter::new(&settings(true, &["*.tmp", "core.[0-9]*"]), 30 * 86_400);
        assert!(file(&l, "a/b.tmp"));
        assert!(file(&l, "core.1234"));
        assert!(file(&l, "x~"));
        assert!(!file(&l, "core"));
    }

    #[test]
    fn off_makes_nothing_litter() {
        let l = Litter::new(&settings(false, &[]), 30 * 86_400);
        assert!(!l.on());
        assert!(!file(&l, ".x.swp"));
        assert!(!file(&l, "repo/.git/index"));
        assert!(!l.is_litter(b"empty", libc::S_IFREG, 0));
    }

    #[test]
    fn litter_never_outlives_other_entries() {
        assert_eq!(
            Litter::new(&settings(true, &[]), 30 * 86_400).retention,
            3600
        );
        assert_eq!(Litter::new(&settings(true, &[]), 60).retention, 60);
    }

    #[test]
    fn names_that_are_not_utf8_match_bytewise() {
        let l = Litter::new(&settings(true, &[]), 30 * 86_400);
        assert!(l.is_litter(b"caf\xe9.txt~", libc::S_IFREG, 3));
        assert!(!l.is_litter(b"caf\xe9.txt", libc::S_IFREG, 3));
    }
}

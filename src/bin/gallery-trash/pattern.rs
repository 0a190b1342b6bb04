//! `purge PATTERN`: which entries a glob takes, as trash-rm takes them —
//! by the entry's name in `.trash/` or its original file name, or, for a
//! pattern with a `/`, by its original path relative to `gallery/`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use crate::entries::Entry;

/// Whether an argument that names no entry is meant as a pattern.
pub(crate) fn is_pattern(arg: &[u8]) -> bool {
    arg.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// Whether `pattern` takes `e`. A leading `gallery/` is allowed on a path
/// pattern, as `list` prints original paths.
pub(crate) fn matches(pattern: &[u8], e: &Entry) -> bool {
    let original = e.original_path.as_deref().ok();
    if pattern.contains(&b'/') {
        let pattern = pattern
            .strip_prefix(galleryfs::contract::GALLERY.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"/"))
            .unwrap_or(pattern);
        return original.is_some_and(|o| fnmatch(pattern, o));
    }
    let base = original.map(|o| o.rsplit(|&b| b == b'/').next().unwrap_or(o));
    fnmatch(pattern, e.name.as_bytes()) || base.is_some_and(|b| fnmatch(pattern, b))
}

/// fnmatch(3) without flags: `*` and `?` match `/` and a leading dot too,
/// as the mount's litter_pattern does. A NUL byte matches nothing.
fn fnmatch(pattern: &[u8], text: &[u8]) -> bool {
    let (Ok(pattern), Ok(text)) = (CString::new(pattern), CString::new(text)) else {
        return false;
    };
    // SAFETY: both are valid NUL-terminated strings that outlive the call;
    // fnmatch only reads them and keeps neither.
    unsafe { libc::fnmatch(pattern.as_ptr(), text.as_ptr(), 0) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;

    #[test]
    fn names_original_names_and_paths() {
        let cat = fake(b"cat (2).jpg", Some("albums/2026/cat.jpg"), None);
        for yes in [
            &b"*.jpg"[..],
            b"cat*",
            b"cat (?).jpg",
            b"albums/*",
            b"gallery/albums/*",
            b"*/2026/*",
            b"[c]at.jpg",
        ] {
            assert!(matches(yes, &cat), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"*.png"[..],
            b"dog*",
            b"2026/*",
            b"albums/*.png",
            b"*/*.png",
        ] {
            assert!(!matches(no, &cat), "{}", String::from_utf8_lossy(no));
        }
        // Without an original path, only the entry's own name can match.
        let link = fake(b"link", None, None);
        assert!(matches(b"l*", &link) && !matches(b"*/l*", &link));
    }

    #[test]
    fn what_counts_as_a_pattern() {
        assert!(is_pattern(b"*.jpg") && is_pattern(b"a?") && is_pattern(b"[ab]"));
        assert!(!is_pattern(b"cat.jpg") && !is_pattern(b".trash/cat (2).jpg"));
    }
}

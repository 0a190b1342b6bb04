//! Names of trash entries: the deleted file's own name, then `name (2).ext`,
//! `name (3).ext`, … keeping the extension, never longer than 255 bytes.

/// Longest name a Linux filesystem accepts, in bytes.
pub const NAME_MAX: usize = 255;

/// Longest suffix still treated as an extension (longer ones are part of the stem).
const MAX_EXTENSION: usize = 16;

/// Splits `name` into stem and extension (with its dot). `archive.tar.gz`
/// keeps `.tar.gz` together; a leading dot (`.bashrc`) is not an extension.
pub fn split_extension(name: &[u8]) -> (&[u8], &[u8]) {
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return (name, b"");
    };
    if dot == 0 || name.len() - dot > MAX_EXTENSION {
        return (name, b"");
    }
    let (stem, ext) = name.split_at(dot);
    if stem.len() > 4 && stem.ends_with(b".tar") {
        let cut = stem.len() - 4;
        return (&name[..cut], &name[cut..]);
    }
    (stem, ext)
}

/// Shortens `stem` so `stem + suffix` fits in NAME_MAX, never splitting a UTF-8 character.
fn fit(stem: &[u8], suffix_len: usize) -> &[u8] {
    let room = NAME_MAX.saturating_sub(suffix_len);
    if stem.len() <= room {
        return stem;
    }
    let mut cut = room;
    // Back off continuation bytes (10xxxxxx) so a multi-byte character stays whole.
    while cut > 0 && stem[cut] & 0xC0 == 0x80 {
        cut -= 1;
    }
    &stem[..cut]
}

/// The `n`th candidate name for an entry made from `name` (n = 1 is the name itself).
pub fn candidate(name: &[u8], n: u64) -> Vec<u8> {
    let (stem, ext) = split_extension(name);
    let marker = if n <= 1 {
        Vec::new()
    } else {
        format!(" ({n})").into_bytes()
    };
    let ext = if ext.len() + marker.len() >= NAME_MAX {
        &b""[..]
    } else {
        ext
    };
    let stem = if n <= 1 && ext.is_empty() { name } else { stem };
    let stem = fit(stem, marker.len() + ext.len());
    [stem, &marker, ext].concat()
}

/// What every collision candidate of `name` starts with (`cat (` for
/// `cat.jpg`), or None when long names shorten the stem, so candidates
/// share no simple prefix.
pub fn collision_prefix(name: &[u8]) -> Option<Vec<u8>> {
    let (stem, ext) = split_extension(name);
    // " (NNNNNNNNNN)" is at most 13 bytes.
    (stem.len() + ext.len() + 13 <= NAME_MAX).then(|| [stem, b" ("].concat())
}

/// The first candidate for which `taken` is false.
pub fn first_free<E>(
    name: &[u8],
    mut taken: impl FnMut(&[u8]) -> Result<bool, E>,
) -> Result<Vec<u8>, E> {
    let mut n = 1;
    loop {
        let candidate = candidate(name, n);
        if !candidate.is_empty() && !taken(&candidate)? {
            return Ok(candidate);
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &str, n: u64) -> String {
        String::from_utf8(candidate(name.as_bytes(), n)).unwrap()
    }

    #[test]
    fn collisions_keep_the_extension() {
        assert_eq!(cand("cat.jpg", 1), "cat.jpg");
        assert_eq!(cand("cat.jpg", 2), "cat (2).jpg");
        assert_eq!(cand("cat.jpg", 13), "cat (13).jpg");
        assert_eq!(cand("notes", 2), "notes (2)");
        assert_eq!(cand(".bashrc", 2), ".bashrc (2)");
        assert_eq!(cand("photos.tar.gz", 2), "photos (2).tar.gz");
        assert_eq!(
            cand("a.verylongextensionthatisnotone", 2),
            "a.verylongextensionthatisnotone (2)"
        );
        assert_eq!(cand("trailing.", 2), "trailing (2).");
    }

    #[test]
    fn long_names_are_shortened_in_the_stem() {
        let long = format!("{}.jpg", "x".repeat(251));
        assert_eq!(long.len(), 255);
        assert_eq!(cand(&long, 1), long);
        let second = cand(&long, 2);
        assert_eq!(second.len(), 255);
        assert!(second.ends_with(" (2).jpg"));
        let no_ext = "y".repeat(255);
        assert_eq!(cand(&no_ext, 3).len(), 255);
        assert!(cand(&no_ext, 3).ends_with(" (3)"));
    }

    #[test]
    fn shortening_never_splits_a_utf8_character() {
        let long = format!("{}.png", "é".repeat(125));
        assert_eq!(long.len(), 254);
        let second = candidate(long.as_bytes(), 2);
        assert!(second.len() <= NAME_MAX);
        assert!(String::from_utf8(second).is_ok());
    }

    #[test]
    fn non_utf8_names_work() {
        assert_eq!(candidate(b"\xff\xfe.jpg", 2), b"\xff\xfe (2).jpg".to_vec());
    }

    #[test]
    fn first_free_skips_taken_names() {
        let taken = ["cat.jpg", "cat (2).jpg"];
        let free = first_free::<()>(b"cat.jpg", |c| Ok(taken.iter().any(|t| t.as_bytes() == c)));
        assert_eq!(free.unwrap(), b"cat (3).jpg");
    }
}

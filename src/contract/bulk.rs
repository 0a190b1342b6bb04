//! Bulk requests: one `setxattr` purges or restores many entries (a value
//! of up to 64 KiB), in one pass of the daemon and one catalog
//! transaction, where one by one each entry costs a lookup, an unlink or a
//! rename and the kernel's bookkeeping around them.
//!
//! - **purge**: `setxattr(DIR, "user.trash.purge.TOKEN", NAMES)`. DIR is
//!   `.trash`, whose attributes only its owner (root) may write (the kernel
//!   lets no one else write `user.*` attributes of a sticky directory), or
//!   the caller's own `.Trash-UID/files` (mode 0700: UID and root), through
//!   which only UID's entries are reached (litter too). NAMES: entry names,
//!   each followed by a NUL byte.
//! - **restore**: `setxattr(DEST, "user.trash.restore.TOKEN", PAIRS)`, DEST a
//!   directory of `gallery/`: the kernel decides whether the caller may write
//!   there (and reach it). PAIRS: for each entry its name, NUL, the name it
//!   takes in DEST, NUL. Nothing is ever replaced (`RENAME_NOREPLACE`).
//! - **the answers**: setxattr returns no value, so after it succeeded,
//!   `getxattr(".trash", "user.trash.result.TOKEN")` gives one byte per name
//!   (per pair), in request order: 0 if done, else the errno that name
//!   failed with. The daemon keeps the last results of each uid for a
//!   while ([`RESULTS_KEPT`]); only the same uid reads them.
//!
//! TOKEN is the client's ([`valid_token`]): a different one per request
//! keeps answers apart. setxattr itself fails only for the request as a
//! whole: EINVAL for a value that is not NAMES or PAIRS, ENOTDIR or EROFS
//! for a DEST that is not a directory of `gallery/`, the kernel's EPERM or
//! EACCES, and, from a galleryfs without bulk requests, EPERM (`.trash`,
//! `files/`) or EOPNOTSUPP (`gallery/`): a client then acts one by one.
//!
//! Each name is acted on only if the caller could do it one by one: the
//! sticky-bit rule of `.trash` ([`sticky_allows`]) for its entries, and
//! where the daemon cannot prove the kernel would allow the rest (a tree
//! holding directories the caller may not empty, a directory entry the
//! caller may not move, a destination it may not search) the name fails
//! with EACCES. A client may redo any refused name one by one, where the
//! kernel decides.

/// `setxattr` name prefix of a purge request, before the token.
pub const XATTR_PURGE: &str = "user.trash.purge.";
/// `setxattr` name prefix of a restore request, before the token.
pub const XATTR_RESTORE: &str = "user.trash.restore.";
/// `getxattr` name prefix (on `.trash`) of a request's answers.
pub const XATTR_RESULT: &str = "user.trash.result.";
/// The largest value Linux passes to setxattr (XATTR_SIZE_MAX).
pub const VALUE_MAX: usize = 65_536;
/// The longest token.
pub const TOKEN_MAX: usize = 64;
/// Answers kept per uid: a client reads its answer right after its request.
pub const RESULTS_KEPT: usize = 16;
/// The longest name Linux accepts.
const NAME_MAX: usize = 255;

/// What a bulk request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Purge,
    Restore,
}

impl Op {
    /// The setxattr name prefix of this operation.
    pub fn prefix(self) -> &'static str {
        match self {
            Op::Purge => XATTR_PURGE,
            Op::Restore => XATTR_RESTORE,
        }
    }

    /// Fields per item: a name, or a pair.
    fn fields(self) -> usize {
        match self {
            Op::Purge => 1,
            Op::Restore => 2,
        }
    }
}

/// A token: 1 to [`TOKEN_MAX`] bytes of ASCII letters, digits, `.`, `_`, `-`.
pub fn valid_token(token: &[u8]) -> bool {
    (1..=TOKEN_MAX).contains(&token.len())
        && token
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The operation and token a setxattr name asks for; None if it is no bulk
/// request's name (a token that is not [`valid_token`] names none).
pub fn parse_request_name(name: &[u8]) -> Option<(Op, &[u8])> {
    [Op::Purge, Op::Restore].into_iter().find_map(|op| {
        let token = name.strip_prefix(op.prefix().as_bytes())?;
        valid_token(token).then_some((op, token))
    })
}

/// The token of an answer's getxattr name; None if it names no answer.
pub fn parse_result_name(name: &[u8]) -> Option<&[u8]> {
    name.strip_prefix(XATTR_RESULT.as_bytes())
        .filter(|t| valid_token(t))
}

/// Whether `name` could be a name in a directory: not empty, `.` or `..`,
/// no `/`, at most 255 bytes.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && name != b"."
        && name != b".."
        && !name.contains(&b'/')
        && !name.contains(&0)
}

/// A request's value, filled item by item up to [`VALUE_MAX`].
#[derive(Debug)]
pub struct Request {
    op: Op,
    value: Vec<u8>,
    items: usize,
}

impl Request {
    pub fn new(op: Op) -> Request {
        Request {
            op,
            value: Vec::new(),
            items: 0,
        }
    }

    /// Adds one item (an entry name; for a restore, the entry name and its
    /// new name); false, adding nothing, if it does not fit.
    pub fn push(&mut self, fields: &[&[u8]]) -> bool {
        assert_eq!(
            fields.len(),
            self.op.fields(),
            "one field per part of an item"
        );
        let len: usize = fields.iter().map(|f| f.len() + 1).sum();
        if self.value.len() + len > VALUE_MAX {
            return false;
        }
        for f in fields {
            self.value.extend_from_slice(f);
            self.value.push(0);
        }
        self.items += 1;
        true
    }

    pub fn items(&self) -> usize {
        self.items
    }

    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

/// The items of a request's value (each one field per part); None if the
/// value is not a request of `op`: empty, too long, not NUL-terminated, or
/// an odd number of fields for a restore.
pub fn decode(op: Op, value: &[u8]) -> Option<Vec<Vec<&[u8]>>> {
    if value.is_empty() || value.len() > VALUE_MAX || value.last() != Some(&0) {
        return None;
    }
    let fields: Vec<&[u8]> = value[..value.len() - 1].split(|&b| b == 0).collect();
    if !fields.len().is_multiple_of(op.fields()) {
        return None;
    }
    Some(fields.chunks(op.fields()).map(<[&[u8]]>::to_vec).collect())
}

/// An answer's byte for an errno (0: done).
pub fn result_byte(errno: i32) -> u8 {
    errno.clamp(0, 255) as u8
}

/// Whether `caller` may remove or rename an entry owned by `entry_uid` out
/// of a directory of mode `dir_mode` owned by `dir_uid`, as far as the
/// sticky bit decides (the kernel's `check_sticky`, with uid 0 standing for
/// the capability CAP_FOWNER): any entry of a plain directory, else only
/// the entry's owner, the directory's owner and root. The one statement of
/// the rule, for the daemon and its clients.
pub fn sticky_allows(dir_mode: u32, dir_uid: u32, entry_uid: u32, caller: u32) -> bool {
    dir_mode & 0o1000 == 0 || caller == 0 || caller == entry_uid || caller == dir_uid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_names_are_the_daemons_own() {
        for name in [XATTR_PURGE, XATTR_RESTORE, XATTR_RESULT] {
            assert!(name.starts_with(crate::contract::XATTR_PREFIX), "{name}");
        }
    }

    #[test]
    fn request_names_carry_a_token() {
        assert_eq!(
            parse_request_name(b"user.trash.purge.123-4.x_y"),
            Some((Op::Purge, &b"123-4.x_y"[..]))
        );
        assert_eq!(
            parse_request_name(b"user.trash.restore.a"),
            Some((Op::Restore, &b"a"[..]))
        );
        for bad in [
            &b"user.trash.purge."[..],
            b"user.trash.purge.a/b",
            b"user.trash.purge.a b",
            b"user.trash.purgex",
            b"user.trash.original_path",
        ] {
            assert_eq!(parse_request_name(bad), None, "{bad:?}");
        }
        let long = format!("{XATTR_PURGE}{}", "t".repeat(TOKEN_MAX + 1));
        assert_eq!(parse_request_name(long.as_bytes()), None);
        assert_eq!(parse_result_name(b"user.trash.result.t1"), Some(&b"t1"[..]));
        assert_eq!(parse_result_name(b"user.trash.result."), None);
    }

    #[test]
    fn requests_round_trip_any_bytes_but_nul() {
        let mut purge = Request::new(Op::Purge);
        assert!(purge.push(&[b"caf\xe9.jpg"]));
        assert!(purge.push(&[b"a\nb"]));
        assert_eq!(
            decode(Op::Purge, purge.value()),
            Some(vec![vec![&b"caf\xe9.jpg"[..]], vec![&b"a\nb"[..]]])
        );
        let mut restore = Request::new(Op::Restore);
        assert!(restore.push(&[b"x (2).jpg", b"x.jpg"]));
        assert_eq!(restore.items(), 1);
        assert_eq!(
            decode(Op::Restore, restore.value()),
            Some(vec![vec![&b"x (2).jpg"[..], &b"x.jpg"[..]]])
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        assert_eq!(decode(Op::Purge, b""), None);
        assert_eq!(decode(Op::Purge, b"a\0b"), None, "not NUL-terminated");
        assert_eq!(decode(Op::Restore, b"a\0b\0c\0"), None, "half a pair");
        assert_eq!(decode(Op::Purge, b"\0"), Some(vec![vec![&b""[..]]]));
        assert!(!valid_name(b""));
    }

    #[test]
    fn a_request_stops_at_the_kernels_limit() {
        let mut r = Request::new(Op::Purge);
        let name = [b'n'; 255];
        while r.push(&[&name]) {}
        assert!(r.value().len() <= VALUE_MAX);
        assert!(r.value().len() + 256 > VALUE_MAX);
        assert_eq!(decode(Op::Purge, r.value()).unwrap().len(), r.items());
    }

    #[test]
    fn names_are_single_components() {
        assert!(valid_name(b"cat.jpg") && valid_name(b"\xff"));
        for bad in [&b"."[..], b"..", b"a/b", &[b'x'; 256]] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_sticky_rule() {
        assert!(sticky_allows(0o1777, 0, 1000, 1000), "the entry's owner");
        assert!(sticky_allows(0o1777, 0, 1000, 0), "root");
        assert!(!sticky_allows(0o1777, 0, 1000, 1001), "another user");
        assert!(
            sticky_allows(0o1777, 1001, 1000, 1001),
            "the directory's owner"
        );
        assert!(sticky_allows(0o0777, 0, 1000, 1001), "no sticky bit");
    }
}

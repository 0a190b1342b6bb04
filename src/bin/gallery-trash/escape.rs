//! Shows names (bytes, not necessarily UTF-8) on a terminal without letting
//! them move the cursor or hide themselves: control characters, bidi
//! overrides and invalid UTF-8 come out as backslash escapes.

use std::fmt::Write;

/// Escapes `bytes` for display: `\n`, `\t`, `\r`, `\\`, `\x01`, `\x7f`,
/// `\xff` for a byte that is not UTF-8, `\u{202e}` for other invisible
/// controls. Everything else, including non-ASCII text, is shown as is.
pub(crate) fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            escape_char(c, &mut out);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\\' => out.push_str("\\\\"),
        c if c.is_ascii_control() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_control() || is_bidi_control(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Characters that reorder the text around them (the "Trojan Source" set).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_unchanged() {
        assert_eq!(escape(b"cat (2).jpg"), "cat (2).jpg");
        assert_eq!(escape("Übersicht 猫.png".as_bytes()), "Übersicht 猫.png");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape(b"a\nb"), "a\\nb");
        assert_eq!(escape(b"\t\r"), "\\t\\r");
        assert_eq!(escape(b"x\x01y\x1b[31m"), "x\\x01y\\x1b[31m");
        assert_eq!(escape(b"del\x7f"), "del\\x7f");
        assert_eq!(escape("c1\u{85}".as_bytes()), "c1\\u{85}");
    }

    #[test]
    fn invalid_utf8_is_escaped_byte_by_byte() {
        assert_eq!(escape(b"caf\xe9.jpg"), "caf\\xe9.jpg");
        assert_eq!(escape(b"\xff\xfe"), "\\xff\\xfe");
        // A truncated multi-byte sequence followed by valid text.
        assert_eq!(escape(b"\xe2\x82z"), "\\xe2\\x82z");
    }

    #[test]
    fn backslash_is_escaped_so_escapes_are_unambiguous() {
        assert_eq!(escape(b"a\\x01"), "a\\\\x01");
    }

    #[test]
    fn bidi_overrides_are_escaped() {
        assert_eq!(
            escape("evil\u{202e}gpj.exe".as_bytes()),
            "evil\\u{202e}gpj.exe"
        );
    }
}

//! Text from the network or the file system made safe for a terminal: the one place Honeybot
//! escapes what it prints (user agents, paths, file names in error messages, model output).

use std::fmt::Write;

/// `text` with every control character (C0, DEL, C1 — hence every ANSI/OSC escape sequence's
/// introducer), every bidirectional-formatting character, the invisible format characters
/// (zero-width space and joiners, word joiner, BOM) and the Unicode line and paragraph
/// separators replaced by a visible `\u{..}` escape, so hostile text cannot drive, reorder,
/// hide in or split the terminal's output. Everything else, including non-ASCII letters, is
/// kept. Idempotent: escaped text comes out unchanged.
pub fn for_terminal(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether [`for_terminal`] escapes `c`.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The Unicode bidirectional formatting characters (marks, embeddings, overrides, isolates).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Invisible format characters: two paths that differ only by one look the same on screen.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_ansi_and_control_characters() {
        let hostile = "curl\x1b[2J\x1b]0;pwned\x07\r\n\u{9b}31m";
        let safe = for_terminal(hostile);
        assert!(!safe.chars().any(char::is_control), "{safe:?}");
        assert_eq!(
            safe,
            "curl\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{d}\\u{a}\\u{9b}31m"
        );
    }

    #[test]
    fn escapes_bidi_overrides_and_separators_and_keeps_ordinary_text() {
        assert_eq!(for_terminal("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(for_terminal("x\u{2067}y\u{2028}z"), "x\\u{2067}y\\u{2028}z");
        assert_eq!(for_terminal("/blog/ünïcode ok"), "/blog/ünïcode ok");
    }

    #[test]
    fn escapes_invisible_characters_and_is_idempotent() {
        let hostile = "/a\u{200b}b\u{feff}\u{2060}\u{1b}]52;c;eA==\u{7}";
        let once = for_terminal(hostile);
        assert_eq!(
            once,
            "/a\\u{200b}b\\u{feff}\\u{2060}\\u{1b}]52;c;eA==\\u{7}"
        );
        assert_eq!(for_terminal(&once), once);
    }
}

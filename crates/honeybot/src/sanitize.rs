//! Log-derived text made safe for a terminal.

use std::fmt::Write;

/// `text` with every control character (C0, DEL, C1 — hence every ANSI escape sequence's
/// introducer) and every bidirectional-override character replaced by a visible `\u{..}`
/// escape, so a hostile user agent or path cannot drive or reorder the terminal.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_bidi_control(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
    fn escapes_bidi_overrides_and_keeps_ordinary_text() {
        assert_eq!(for_terminal("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(for_terminal("/blog/ünïcode ok"), "/blog/ünïcode ok");
    }
}

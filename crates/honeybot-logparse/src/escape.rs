//! Escapes inside quoted log fields.
//!
//! nginx writes `"`, `\` and bytes outside printable ASCII as `\xNN`; Apache writes `\"`,
//! `\\`, `\n`-style escapes and `\xNN`. Raw bytes (e.g. Big5 from old Apache versions) may
//! also appear unescaped. Fields are kept as written by the parser; [`unescape`] decodes them.

use std::borrow::Cow;

/// Undo nginx/Apache log escaping (`\"`, `\\`, `\xNN`, and Apache's `\n \r \t \b \v`) of a
/// field. Borrowed when the field holds no backslash. A backslash that starts no known
/// escape is kept as written, so decoding never fails.
pub fn unescape(field: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'\\', field) else {
        return Cow::Borrowed(field);
    };
    let mut out = Vec::with_capacity(field.len());
    out.extend_from_slice(&field[..first]);
    let mut rest = &field[first..];
    while let Some(pos) = memchr::memchr(b'\\', rest) {
        out.extend_from_slice(&rest[..pos]);
        let esc = &rest[pos..];
        let (byte, used) = match esc.get(1) {
            Some(b'"') => (b'"', 2),
            Some(b'\\') => (b'\\', 2),
            Some(b'n') => (b'\n', 2),
            Some(b'r') => (b'\r', 2),
            Some(b't') => (b'\t', 2),
            Some(b'b') => (0x08, 2),
            Some(b'v') => (0x0b, 2),
            Some(b'x') => match (esc.get(2).and_then(hex), esc.get(3).and_then(hex)) {
                (Some(hi), Some(lo)) => (hi << 4 | lo, 4),
                _ => (b'\\', 1),
            },
            _ => (b'\\', 1),
        };
        out.push(byte);
        rest = &esc[used..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// End of a quoted field: `field` starts just after the opening quote; returns the index of
/// the closing quote, skipping backslash-escaped bytes.
#[inline]
pub(crate) fn closing_quote(field: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let pos = from + memchr::memchr2(b'"', b'\\', field.get(from..)?)?;
        if field[pos] == b'"' {
            return Some(pos);
        }
        from = pos + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_without_backslash() {
        assert!(matches!(
            unescape(b"/plain path"),
            Cow::Borrowed(b"/plain path")
        ));
    }

    #[test]
    fn decodes_apache_and_nginx_escapes() {
        assert_eq!(&*unescape(br#"a \"quoted\" \\ b"#), br#"a "quoted" \ b"#);
        assert_eq!(
            &*unescape(br"\x22hi\x5C\x03\xE0\xe0"),
            b"\"hi\\\x03\xe0\xe0"
        );
        assert_eq!(&*unescape(br"1\n2\t3\r\b\v"), b"1\n2\t3\r\x08\x0b");
    }

    #[test]
    fn unknown_or_truncated_escapes_are_kept() {
        assert_eq!(&*unescape(br"\q"), br"\q");
        assert_eq!(&*unescape(br"\x4"), br"\x4");
        assert_eq!(&*unescape(br"\xZZ"), br"\xZZ");
        assert_eq!(&*unescape(br"end\"), br"end\");
    }

    #[test]
    fn closing_quote_skips_escaped_quotes() {
        assert_eq!(closing_quote(br#"abc" x"#), Some(3));
        assert_eq!(closing_quote(br#"a\"b" x"#), Some(4));
        assert_eq!(closing_quote(br#"a\\" x"#), Some(3));
        assert_eq!(closing_quote(br#"a\"#), None);
        assert_eq!(closing_quote(br#"abc"#), None);
        assert_eq!(closing_quote(br#"""#), Some(0));
    }
}

//! Dead paths as nginx compares them, and as they may be written into its config.
//!
//! The map is keyed on `$uri`, not `$request_uri`: `$uri` is the path nginx decoded and
//! normalised (`%XX` decoded, `//` merged, `.` and `..` resolved, no query string), so one
//! key covers `/old/`, `/old/?utm_source=x`, `//old/` and `/%6Fld/`. nginx's map compares
//! string keys ignoring ASCII case, so keys are stored ASCII-lowercased, which is also how
//! two spellings of one key are found before nginx would reject them as duplicates.
//!
//! Request paths are attacker-controlled. A key is written only as a double-quoted nginx
//! token in which `"` and `\` are escaped; keys that could still surprise a reader or a
//! terminal (control characters, bidi controls, invalid UTF-8), that do not start with `/`,
//! or that are longer than the map's hash bucket allows are refused. Targets are live site
//! paths, written percent-encoded so that no byte of them is special to nginx.

use std::fmt;

/// Why a dead path cannot be a map key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refused {
    /// Not an origin-form target (`/...`).
    NotAPath,
    /// A `%` not followed by two hex digits (nginx answers 400, never 404).
    BadEscape,
    /// A NUL, another control character, or a Unicode bidi/format control.
    ControlCharacter,
    /// The decoded path is not UTF-8.
    NotUtf8,
    /// `..` above the root.
    Traversal,
    /// Longer than the configured limit.
    TooLong,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::NotAPath => "not an origin-form path",
            Refused::BadEscape => "invalid %-escape",
            Refused::ControlCharacter => "control or bidi character",
            Refused::NotUtf8 => "not UTF-8 after decoding",
            Refused::Traversal => "'..' above the root",
            Refused::TooLong => "longer than max_key_bytes",
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// nginx's `$uri` of a request target as logged: the query string dropped, `%XX` decoded,
/// runs of `/` merged, `.` and `..` segments resolved. Bytes, as nginx has them.
pub fn uri_bytes(target: &str) -> Result<Vec<u8>, Refused> {
    let raw = target.as_bytes();
    if raw.first() != Some(&b'/') {
        return Err(Refused::NotAPath);
    }
    let end = raw.iter().position(|&b| b == b'?').unwrap_or(raw.len());
    let mut decoded = Vec::with_capacity(end);
    let mut i = 0;
    while i < end {
        let b = raw[i];
        if b == b'%' {
            let (Some(h), Some(l)) = (
                raw.get(i + 1).filter(|_| i + 1 < end).and_then(|&c| hex(c)),
                raw.get(i + 2).filter(|_| i + 2 < end).and_then(|&c| hex(c)),
            ) else {
                return Err(Refused::BadEscape);
            };
            decoded.push(h << 4 | l);
            i += 3;
        } else {
            decoded.push(b);
            i += 1;
        }
    }
    if decoded.contains(&0) {
        return Err(Refused::ControlCharacter);
    }
    // Segments after merging slashes; `.` dropped, `..` pops.
    let mut out: Vec<&[u8]> = Vec::new();
    let segments: Vec<&[u8]> = decoded.split(|&b| b == b'/').skip(1).collect();
    let mut trailing_slash = false;
    for (n, seg) in segments.iter().enumerate() {
        let last = n + 1 == segments.len();
        match *seg {
            b"" => trailing_slash = last,
            b"." => trailing_slash = true,
            b".." => {
                if out.pop().is_none() {
                    return Err(Refused::Traversal);
                }
                trailing_slash = true;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut uri = Vec::with_capacity(decoded.len());
    for s in &out {
        uri.push(b'/');
        uri.extend_from_slice(s);
    }
    if trailing_slash || out.is_empty() {
        uri.push(b'/');
    }
    Ok(uri)
}

/// The map key of a request target: [`uri_bytes`], UTF-8 and free of control characters,
/// ASCII-lowercased, at most `max_bytes` long.
pub fn map_key(target: &str, max_bytes: usize) -> Result<String, Refused> {
    let uri = uri_bytes(target)?;
    let mut key = checked_text(&uri)?.to_owned();
    key.make_ascii_lowercase();
    if key.len() > max_bytes {
        return Err(Refused::TooLong);
    }
    Ok(key)
}

/// `bytes` as text that is safe to show and to write into a config: UTF-8 without C0/C1
/// controls, DEL, or Unicode bidi and invisible format controls.
fn checked_text(bytes: &[u8]) -> Result<&str, Refused> {
    let text = std::str::from_utf8(bytes).map_err(|_| Refused::NotUtf8)?;
    if text.chars().any(is_unsafe_char) {
        return Err(Refused::ControlCharacter);
    }
    Ok(text)
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// `key` as one double-quoted nginx config token that nginx reads back as exactly `key`.
/// Refuses what [`map_key`] refuses (so any bytes may be passed), and keys not starting
/// with `/` (which also keeps `default`, `include`, `hostnames`, `volatile`, a leading `~`
/// (regex) or `\` away from the map's special meanings).
pub fn quote_key(key: &[u8], max_bytes: usize) -> Result<String, Refused> {
    if key.first() != Some(&b'/') {
        return Err(Refused::NotAPath);
    }
    let text = checked_text(key)?;
    if key.len() > max_bytes {
        return Err(Refused::TooLong);
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A site path (decoded, starting with a single `/`) as the `Location` value of the map:
/// every byte other than `A-Z a-z 0-9 - . _ ~ /` percent-encoded, so the token needs no
/// quoting and holds no `$` (variable), quote, space, `;`, `{` or `}`. `None` when the path
/// could leave the site (`//host`, no leading `/`).
pub fn location(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    let mut out = String::with_capacity(path.len() + 8);
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How nginx's config reader turns a quoted token back into bytes
    /// (`ngx_conf_read_token`: `\"`, `\'`, `\\` unescaped; `\t`, `\r`, `\n` too).
    fn nginx_unquote(token: &str) -> Vec<u8> {
        let inner = &token.as_bytes()[1..token.len() - 1];
        let mut out = Vec::new();
        let mut i = 0;
        while i < inner.len() {
            if inner[i] == b'\\' && i + 1 < inner.len() {
                match inner[i + 1] {
                    b'"' | b'\'' | b'\\' => {
                        out.push(inner[i + 1]);
                        i += 2;
                        continue;
                    }
                    b't' | b'r' | b'n' => panic!("escape sequence produced: {token}"),
                    _ => {}
                }
            }
            out.push(inner[i]);
            i += 1;
        }
        out
    }

    /// Where nginx's tokenizer would end the quoted token.
    fn token_end(token: &str) -> usize {
        let b = token.as_bytes();
        let mut i = 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => return i,
                _ => i += 1,
            }
        }
        b.len()
    }

    #[test]
    fn uri_form_matches_nginx_normalisation() {
        for (target, uri) in [
            ("/old/", "/old/"),
            ("/old/?utm_source=x", "/old/"),
            ("//old//page", "/old/page"),
            ("/%6Fld/", "/old/"),
            ("/a/./b/../c", "/a/c"),
            ("/a/b/..", "/a/"),
            ("/a/.", "/a/"),
            ("/", "/"),
            ("/caf%C3%A9", "/café"),
            ("/a%2Fb", "/a/b"),
            ("/a%20b", "/a b"),
        ] {
            assert_eq!(uri_bytes(target).as_deref(), Ok(uri.as_bytes()), "{target}");
        }
    }

    #[test]
    fn hostile_targets_are_refused() {
        for (target, why) in [
            ("x", Refused::NotAPath),
            ("http://evil/", Refused::NotAPath),
            ("/%zz", Refused::BadEscape),
            ("/%4", Refused::BadEscape),
            ("/a%0ab", Refused::ControlCharacter),
            ("/a%00", Refused::ControlCharacter),
            ("/a%1b[31m", Refused::ControlCharacter),
            ("/%E2%80%AEgnp.exe", Refused::ControlCharacter),
            ("/%ff", Refused::NotUtf8),
            ("/../etc/passwd", Refused::Traversal),
        ] {
            assert_eq!(map_key(target, 200), Err(why), "{target}");
        }
        assert_eq!(
            map_key(&format!("/{}", "a".repeat(300)), 200),
            Err(Refused::TooLong)
        );
    }

    #[test]
    fn keys_are_lowercased_like_nginx_compares_them() {
        assert_eq!(map_key("/Old/Post?x=1", 200).as_deref(), Ok("/old/post"));
    }

    #[test]
    fn the_injection_of_the_issue_stays_one_token() {
        let key = map_key("/x%22;return%20301%20https://evil;%23", 200).expect("key");
        let token = quote_key(key.as_bytes(), 200).expect("quoted");
        assert_eq!(token, r#""/x\";return 301 https:/evil;#""#);
        assert_eq!(token_end(&token), token.len() - 1);
        assert_eq!(nginx_unquote(&token), key.as_bytes());
    }

    #[test]
    fn locations_never_leave_the_site_and_hold_no_syntax() {
        assert_eq!(location("/blog/café/").as_deref(), Some("/blog/caf%C3%A9/"));
        assert_eq!(
            location("/a b$c;{}\"'").as_deref(),
            Some("/a%20b%24c%3B%7B%7D%22%27")
        );
        assert_eq!(location("//evil.example/"), None);
        assert_eq!(location("https://evil.example/"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn quoted_keys_read_back_exactly(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Ok(token) = quote_key(&bytes, 256) {
                proptest::prop_assert_eq!(token_end(&token), token.len() - 1, "token ends early: {}", token);
                proptest::prop_assert_eq!(nginx_unquote(&token), bytes);
                proptest::prop_assert!(!token.chars().any(is_unsafe_char));
            }
        }

        #[test]
        fn map_keys_of_any_target_are_quotable(target in "/[ -~\u{80}-\u{10FFFF}]{0,120}") {
            if let Ok(key) = map_key(&target, 256) {
                proptest::prop_assert!(key.starts_with('/'));
                proptest::prop_assert!(!key.contains("//"));
                proptest::prop_assert!(quote_key(key.as_bytes(), 256).is_ok());
            }
        }
    }
}

//! The line parser: one left-to-right pass over the bytes, `memchr` to find delimiters,
//! borrowed slices for every field.

use crate::escape::closing_quote;
use crate::time::{TIME_LEN, parse_time};
use crate::{Entry, Format, ParseError, Request};

/// Longest line accepted (after stripping the line ending). nginx caps a request line and
/// each header at 8 KiB by default; escaping can quadruple them, so 64 KiB leaves room for
/// every real line while bounding what a hostile line costs downstream.
pub const MAX_LINE_LEN: usize = 64 * 1024;

/// Parse one line (without or with its trailing `\n` / `\r\n`).
///
/// Layout: `[VHOST] ADDR IDENT USER [TIME] "REQUEST" STATUS BYTES` then, optionally,
/// `"REFERER" "UA"`, then any number of extra quoted fields or Honeybot extended fields
/// (`Accept:"…" MarkdownServed:… Host:"…" RequestTime:…`). Trailing blanks are ignored.
pub fn parse_line(line: &[u8]) -> Result<Entry<'_>, ParseError> {
    let line = trim_end(line);
    if line.is_empty() {
        return Err(ParseError::Empty);
    }
    if line.len() > MAX_LINE_LEN {
        return Err(ParseError::TooLong);
    }
    if line[0] == b'#' {
        return Err(ParseError::NotAccessLog);
    }
    // The timestamp bracket is the anchor: without `[dd/` the line is some other log
    // (nginx error log `2015/01/20 19:53:28 [error] …`, journal prefixes, comments).
    let open = memchr::memchr(b'[', line).ok_or(ParseError::NotAccessLog)?;
    let after = &line[open + 1..];
    let looks_like_time =
        matches!(after, [d1, d2, b'/', ..] if d1.is_ascii_digit() && d2.is_ascii_digit());
    if !looks_like_time {
        return Err(ParseError::NotAccessLog);
    }

    let head = parse_head(&line[..open])?;

    let time = after
        .get(..TIME_LEN)
        .and_then(parse_time)
        .ok_or(ParseError::BadTime)?;
    let rest = match after.get(TIME_LEN..) {
        Some([b']', rest @ ..]) => rest,
        _ => return Err(ParseError::BadTime),
    };

    let rest = rest
        .strip_prefix(b" \"")
        .ok_or(ParseError::BadRequestField)?;
    let end = closing_quote(rest).ok_or(ParseError::BadRequestField)?;
    let request = split_request(&rest[..end]);
    let rest = &rest[end + 1..];

    let rest = rest.strip_prefix(b" ").ok_or(ParseError::BadStatus)?;
    let (status, rest) = next_token(rest);
    let status = parse_status(status).ok_or(ParseError::BadStatus)?;

    let rest = rest.strip_prefix(b" ").ok_or(ParseError::BadBytes)?;
    let (bytes, rest) = next_token(rest);
    let bytes = parse_bytes(bytes).ok_or(ParseError::BadBytes)?;

    let mut entry = Entry {
        vhost: head.vhost,
        remote_addr: head.addr,
        remote_user: dash_is_none(head.user),
        time,
        request,
        status,
        bytes,
        referer: None,
        user_agent: None,
        accept: None,
        markdown_served: None,
        host: None,
        request_time: None,
        format: Format::Common,
    };
    parse_tail(rest, &mut entry)?;
    Ok(entry)
}

/// Strip the line ending and trailing blanks (some servers pad lines with a space).
pub(crate) fn trim_end(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r' | b' ' | b'\t'] = line {
        line = rest;
    }
    line
}

struct Head<'a> {
    vhost: Option<&'a [u8]>,
    addr: &'a [u8],
    user: &'a [u8],
}

/// `ADDR IDENT USER ` or `VHOST ADDR IDENT USER ` (with the space before `[`).
fn parse_head(head: &[u8]) -> Result<Head<'_>, ParseError> {
    let head = head.strip_suffix(b" ").ok_or(ParseError::BadAddress)?;
    // Split off at most three tokens; the remainder is the user (which may hold spaces).
    let mut tokens: [&[u8]; 3] = [&[]; 3];
    let mut found = 0;
    let mut rest = head;
    while found < 3 {
        match space(rest) {
            Some(sp) => {
                tokens[found] = &rest[..sp];
                rest = &rest[sp + 1..];
                found += 1;
            }
            None => break,
        }
    }
    if found < 2 {
        // `ADDR [time]` or `ADDR X [time]`: the ident/user pair is missing (lnav's broken line).
        let addr = if found == 0 { head } else { tokens[0] };
        return if !is_address(addr) {
            Err(ParseError::BadAddress)
        } else {
            Err(ParseError::MissingIdent)
        };
    }
    let (vhost, addr, user) = if found == 2 {
        (None, tokens[0], rest)
    } else if tokens[2] == b"-"
        && tokens[1] != b"-"
        && is_address(tokens[1])
        && is_address(tokens[0])
    {
        // Vhost prefix: `VHOST ADDR - USER`.
        (Some(tokens[0]), tokens[1], rest)
    } else {
        // `ADDR - USER WITH SPACES`: the user is everything after the ident. Only with the
        // usual `-` ident, so a syslog prefix (`Jan 1 00:00:00 host nginx: ADDR - -`) is
        // rejected instead of read as the address `Jan`.
        if tokens[1] != b"-" {
            return Err(ParseError::BadAddress);
        }
        let user_start = tokens[0].len() + 1 + tokens[1].len() + 1;
        (None, tokens[0], &head[user_start..])
    };
    if !is_address(addr) {
        return Err(ParseError::BadAddress);
    }
    if user.is_empty() {
        return Err(ParseError::MissingIdent);
    }
    Ok(Head { vhost, addr, user })
}

/// IPv4, IPv6 (with an optional `%zone`) or a host name: a non-empty run of the characters
/// those use. Deliberately loose: nginx writes `$remote_addr` itself, so a wrong-looking
/// address is rare and is rejected here only when it holds characters no address has.
pub(crate) fn is_address(token: &[u8]) -> bool {
    !token.is_empty()
        && token
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-' | b'_' | b'%'))
}

/// Split `$request` into `METHOD TARGET [PROTOCOL]`, or keep it whole as `Raw`.
pub(crate) fn split_request(req: &[u8]) -> Request<'_> {
    let Some(sp) = space(req) else {
        return Request::Raw(req);
    };
    let method = &req[..sp];
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Request::Raw(req);
    }
    let rest = &req[sp + 1..];
    match rest.iter().rposition(|&b| b == b' ') {
        Some(p) if rest[p + 1..].starts_with(b"HTTP/") => {
            if p == 0 {
                Request::Raw(req)
            } else {
                Request::Http {
                    method,
                    target: &rest[..p],
                    protocol: Some(&rest[p + 1..]),
                }
            }
        }
        _ if rest.is_empty() => Request::Raw(req),
        _ => Request::Http {
            method,
            target: rest,
            protocol: None,
        },
    }
}

/// RFC 9110 `tchar`: the characters an HTTP method token may hold.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// The first space in `s`. The fields searched this way (address, ident, method, status,
/// size) are a few bytes long: a plain loop beats `memchr`'s set-up cost there.
#[inline]
fn space(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b' ')
}

/// The bytes up to the next space, and what follows (starting at that space).
#[inline]
fn next_token(s: &[u8]) -> (&[u8], &[u8]) {
    match space(s) {
        Some(sp) => (&s[..sp], &s[sp..]),
        None => (s, &[]),
    }
}

pub(crate) fn parse_status(s: &[u8]) -> Option<u16> {
    match *s {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// `$body_bytes_sent`: digits (fitting a u64) or `-`.
pub(crate) fn parse_bytes(s: &[u8]) -> Option<Option<u64>> {
    if s == b"-" {
        return Some(None);
    }
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(Some(n))
}

pub(crate) fn dash_is_none(field: &[u8]) -> Option<&[u8]> {
    (field != b"-" && !field.is_empty()).then_some(field)
}

/// A quoted field at the start of `s` (which begins with `"`): its content and the rest.
fn quoted(s: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let body = &s[1..];
    let end = closing_quote(body).ok_or(ParseError::BadQuotedField)?;
    let rest = &body[end + 1..];
    if !(rest.is_empty() || rest[0] == b' ') {
        return Err(ParseError::BadQuotedField);
    }
    Ok((&body[..end], rest))
}

/// Everything after `$body_bytes_sent`: nothing (common), `"REFERER" "UA"` (combined), then
/// extra quoted fields and/or Honeybot extended `Name:value` fields.
fn parse_tail<'a>(rest: &'a [u8], entry: &mut Entry<'a>) -> Result<(), ParseError> {
    let mut rest = skip_spaces(rest);
    if rest.is_empty() {
        return Ok(());
    }
    if rest[0] != b'"' {
        return Err(ParseError::TrailingGarbage);
    }
    let (referer, after) = quoted(rest)?;
    rest = skip_spaces(after);
    if rest.first() != Some(&b'"') {
        // A referer without a user agent is not a format any server writes.
        return Err(ParseError::BadQuotedField);
    }
    let (user_agent, after) = quoted(rest)?;
    rest = skip_spaces(after);
    entry.referer = dash_is_none(referer);
    entry.user_agent = dash_is_none(user_agent);
    entry.format = Format::Combined;

    let mut extra = false;
    let mut named = false;
    while !rest.is_empty() {
        if rest[0] == b'"' {
            let (_, after) = quoted(rest)?;
            extra = true;
            rest = skip_spaces(after);
            continue;
        }
        let (value, after, slot) = if let Some(v) = rest.strip_prefix(b"Accept:") {
            let (value, after) = value_field(v)?;
            (value, after, &mut entry.accept)
        } else if let Some(v) = rest.strip_prefix(b"MarkdownServed:") {
            let (value, after) = value_field(v)?;
            (value, after, &mut entry.markdown_served)
        } else if let Some(v) = rest.strip_prefix(b"Host:") {
            let (value, after) = value_field(v)?;
            (value, after, &mut entry.host)
        } else if let Some(v) = rest.strip_prefix(b"RequestTime:") {
            let (value, after) = value_field(v)?;
            (value, after, &mut entry.request_time)
        } else {
            // Any other field a log format appends: a bare token (`0.004`) or an unknown
            // `Name:value`, `name=value`, `Name:"quoted"`, `name="quoted"`. Kept out of the
            // entry; the line still counts.
            let (token, after) = next_token(rest);
            rest = match memchr::memchr(b'"', token) {
                None => skip_spaces(after),
                Some(q) if q > 0 && matches!(token[q - 1], b':' | b'=') => {
                    let (_, after) = quoted(&rest[q..])?;
                    skip_spaces(after)
                }
                Some(_) => return Err(ParseError::BadQuotedField),
            };
            extra = true;
            continue;
        };
        *slot = dash_is_none(value);
        named = true;
        rest = skip_spaces(after);
    }
    if named {
        entry.format = Format::HoneybotExtended;
    } else if extra {
        entry.format = Format::CombinedExtra;
    }
    Ok(())
}

/// The value of a `Name:value` field: quoted, or a bare token up to the next space.
fn value_field(v: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    if v.first() == Some(&b'"') {
        quoted(v)
    } else {
        let (value, rest) = next_token(v);
        if value.contains(&b'"') {
            return Err(ParseError::BadQuotedField);
        }
        Ok((value, rest))
    }
}

#[inline]
fn skip_spaces(mut s: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    s
}

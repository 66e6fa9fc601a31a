//! Log formats: the built-in ones (recognised per line by [`crate::parse_line`]) and custom
//! nginx `log_format` definitions compiled once into a field plan.
//!
//! A plan is the definition split into literal text and variables. Parsing a line walks the
//! plan left to right: a literal must match byte for byte; a variable takes the bytes up to
//! the first byte of the literal that follows it (a quote-aware search when the variable
//! sits between double quotes), so every field is still a borrowed slice of the line.

use std::fmt;

use crate::escape::closing_quote;
use crate::parse::{dash_is_none, is_address, parse_bytes, parse_status, split_request, trim_end};
use crate::time::{parse_iso8601, parse_msec, parse_time};
use crate::{Entry, Format, MAX_LINE_LEN, ParseError, Request};

/// How lines of a log are read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogFormat {
    plan: Option<Plan>,
}

/// Names accepted for the built-in formats (all read by the same per-line detection).
pub const BUILTIN_FORMATS: [&str; 4] = ["combined", "common", "honeybot", "vhost"];

impl LogFormat {
    /// The built-in formats: combined, common, vhost-prefixed and Honeybot extended,
    /// recognised per line (see [`crate::parse_line`]).
    pub fn auto() -> Self {
        Self { plan: None }
    }

    /// A built-in format by name (`combined`, `common`, `honeybot`, `vhost`), or a custom
    /// nginx `log_format` definition. A definition may be given as in `nginx.conf`: with or
    /// without `log_format NAME [escape=...]` in front, as one or several quoted strings,
    /// with or without the closing `;`.
    pub fn from_spec(spec: &str) -> Result<Self, FormatError> {
        let trimmed = spec.trim();
        if BUILTIN_FORMATS.contains(&trimmed) {
            return Ok(Self::auto());
        }
        Self::compile(trimmed)
    }

    /// Compiles a custom nginx `log_format` definition (see [`LogFormat::from_spec`]).
    pub fn compile(definition: &str) -> Result<Self, FormatError> {
        let text = definition_text(definition)?;
        Ok(Self {
            plan: Some(Plan::compile(&text)?),
        })
    }

    /// Whether this is a custom definition (not the built-in detection).
    pub fn is_custom(&self) -> bool {
        self.plan.is_some()
    }

    /// Parses one line (with or without its line ending) in this format.
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<Entry<'a>, ParseError> {
        match &self.plan {
            None => crate::parse_line(line),
            Some(plan) => plan.parse(line),
        }
    }
}

/// Why a `log_format` definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("the log format is empty")]
    Empty,
    #[error("unterminated quoted string in the log format")]
    UnterminatedQuote,
    #[error(
        "unknown variable ${0} in the log format (known: the nginx variables Honeybot reads, \
         $http_*, $sent_http_*, $upstream_*, $cookie_*, $arg_*, $ssl_* and other nginx \
         core variables, which are skipped)"
    )]
    UnknownVariable(String),
    #[error(
        "variables ${0} and ${1} follow each other with nothing between them: the line cannot be split"
    )]
    Adjacent(String, String),
    #[error("the log format has no ${0} (a line needs at least $remote_addr, a time and a status)")]
    Missing(&'static str),
    #[error("${0} appears twice in the log format")]
    Duplicate(String),
    #[error("bad variable name after `$` at byte {0} of the log format")]
    BadVariable(usize),
}

/// What a variable of the format fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    RemoteAddr,
    RemoteUser,
    TimeLocal,
    TimeIso8601,
    Msec,
    Request,
    Method,
    /// `$request_uri` (target as sent) or `$uri` (normalised, without query).
    Target,
    Protocol,
    Status,
    BodyBytes,
    Referer,
    UserAgent,
    Accept,
    MarkdownServed,
    Host,
    RequestTime,
    /// A variable Honeybot does not record (its bytes are skipped).
    Skip,
}

impl Field {
    fn of(name: &str) -> Option<Field> {
        Some(match name {
            "remote_addr" | "realip_remote_addr" => Field::RemoteAddr,
            "remote_user" => Field::RemoteUser,
            "time_local" => Field::TimeLocal,
            "time_iso8601" => Field::TimeIso8601,
            "msec" => Field::Msec,
            "request" => Field::Request,
            "request_method" => Field::Method,
            "request_uri" | "uri" | "document_uri" => Field::Target,
            "server_protocol" => Field::Protocol,
            "status" => Field::Status,
            "body_bytes_sent" => Field::BodyBytes,
            "http_referer" => Field::Referer,
            "http_user_agent" => Field::UserAgent,
            "http_accept" => Field::Accept,
            "serve_markdown" => Field::MarkdownServed,
            "host" | "http_host" | "server_name" => Field::Host,
            "request_time" => Field::RequestTime,
            _ if SKIPPED_PREFIXES.iter().any(|p| name.starts_with(p)) => Field::Skip,
            _ if SKIPPED.contains(&name) => Field::Skip,
            _ => return None,
        })
    }
}

/// Families of nginx variables that are read past (their values are not recorded).
const SKIPPED_PREFIXES: &[&str] = &[
    "http_",
    "sent_http_",
    "sent_trailer_",
    "upstream_",
    "cookie_",
    "arg_",
    "ssl_",
    "geoip_",
    "proxy_",
    "jwt_",
];

/// Other nginx core/module variables that are read past.
const SKIPPED: &[&str] = &[
    "args",
    "query_string",
    "binary_remote_addr",
    "bytes_sent",
    "connection",
    "connection_requests",
    "connection_time",
    "content_length",
    "content_type",
    "document_root",
    "gzip_ratio",
    "hostname",
    "http2",
    "http3",
    "https",
    "is_args",
    "limit_rate",
    "nginx_version",
    "pid",
    "pipe",
    "proxy_protocol_addr",
    "proxy_protocol_port",
    "realip_remote_port",
    "remote_port",
    "request_body",
    "request_completion",
    "request_filename",
    "request_id",
    "request_length",
    "scheme",
    "server_addr",
    "server_port",
    "tcpinfo_rtt",
    "tcpinfo_rttvar",
    "time_local_ms",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Literal(Box<[u8]>),
    Var { field: Field, until: Until },
}

/// Where a variable's value ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// At the end of the line (the last step).
    End,
    /// At the next occurrence of this byte (the first byte of the following literal).
    Byte(u8),
    /// At the closing double quote, skipping backslash escapes (the variable is quoted).
    Quote,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    steps: Box<[Step]>,
    /// `$request_method`/`$request_uri`/`$server_protocol` given separately instead of `$request`.
    split_request: bool,
}

impl Plan {
    fn compile(text: &str) -> Result<Plan, FormatError> {
        if text.is_empty() {
            return Err(FormatError::Empty);
        }
        let bytes = text.as_bytes();
        let mut steps: Vec<Step> = Vec::new();
        let mut names: Vec<(Field, String)> = Vec::new();
        let mut literal = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                literal.push(bytes[i]);
                i += 1;
                continue;
            }
            let (name, next) = variable_name(bytes, i)?;
            let field = Field::of(name).ok_or_else(|| FormatError::UnknownVariable(name.into()))?;
            if literal.is_empty() {
                if let Some(Step::Var { .. }) = steps.last() {
                    let prev = names.last().map(|(_, n)| n.clone()).unwrap_or_default();
                    return Err(FormatError::Adjacent(prev, name.into()));
                }
            } else {
                steps.push(Step::Literal(std::mem::take(&mut literal).into()));
            }
            if field != Field::Skip && names.iter().any(|(f, _)| *f == field) {
                return Err(FormatError::Duplicate(name.into()));
            }
            let until = match bytes.get(next) {
                None => Until::End,
                Some(b'"') if i > 0 && bytes[i - 1] == b'"' => Until::Quote,
                Some(&b) => Until::Byte(b),
            };
            names.push((field, name.into()));
            steps.push(Step::Var { field, until });
            i = next;
        }
        if !literal.is_empty() {
            steps.push(Step::Literal(literal.into()));
        }
        let has = |f: Field| names.iter().any(|(g, _)| *g == f);
        if !has(Field::RemoteAddr) {
            return Err(FormatError::Missing("remote_addr"));
        }
        if !(has(Field::TimeLocal) || has(Field::TimeIso8601) || has(Field::Msec)) {
            return Err(FormatError::Missing("time_local"));
        }
        if !has(Field::Status) {
            return Err(FormatError::Missing("status"));
        }
        if !has(Field::Request) && !has(Field::Target) {
            return Err(FormatError::Missing("request"));
        }
        Ok(Plan {
            steps: steps.into(),
            split_request: !has(Field::Request),
        })
    }

    fn parse<'a>(&self, line: &'a [u8]) -> Result<Entry<'a>, ParseError> {
        let line = trim_end(line);
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        if line.len() > MAX_LINE_LEN {
            return Err(ParseError::TooLong);
        }
        let mut entry = Entry {
            vhost: None,
            remote_addr: &[],
            remote_user: None,
            time: crate::LogTime {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
                offset_minutes: 0,
            },
            request: Request::Raw(&[]),
            status: 0,
            bytes: None,
            referer: None,
            user_agent: None,
            accept: None,
            markdown_served: None,
            host: None,
            request_time: None,
            format: Format::Custom,
        };
        let (mut method, mut target, mut protocol) = (None, None, None);
        let mut rest = line;
        for step in self.steps.iter() {
            match step {
                Step::Literal(lit) => {
                    rest = rest.strip_prefix(&lit[..]).ok_or(if rest.is_empty() {
                        ParseError::NotAccessLog
                    } else {
                        ParseError::TrailingGarbage
                    })?;
                }
                Step::Var { field, until } => {
                    let end = match until {
                        Until::End => Some(rest.len()),
                        Until::Byte(b) => memchr::memchr(*b, rest),
                        Until::Quote => closing_quote(rest),
                    }
                    .ok_or(missing_end(*field))?;
                    let (value, after) = rest.split_at(end);
                    rest = after;
                    fill(
                        &mut entry,
                        *field,
                        value,
                        &mut method,
                        &mut target,
                        &mut protocol,
                    )?;
                }
            }
        }
        if !rest.is_empty() {
            return Err(ParseError::TrailingGarbage);
        }
        if self.split_request {
            entry.request = match (method, target) {
                (Some(method), Some(target)) if !method.is_empty() && method != b"-" => {
                    Request::Http {
                        method,
                        target,
                        protocol: protocol.filter(|p| !p.is_empty() && *p != b"-"),
                    }
                }
                (_, Some(target)) => Request::Raw(target),
                _ => Request::Raw(&[]),
            };
        }
        Ok(entry)
    }
}

/// The error for a field whose end is not in the line: the line is cut short or is not in
/// this format.
fn missing_end(field: Field) -> ParseError {
    match field {
        Field::TimeLocal | Field::TimeIso8601 | Field::Msec => ParseError::BadTime,
        Field::Request => ParseError::BadRequestField,
        Field::Status => ParseError::BadStatus,
        Field::BodyBytes => ParseError::BadBytes,
        Field::Referer | Field::UserAgent | Field::Accept => ParseError::BadQuotedField,
        Field::RemoteAddr => ParseError::BadAddress,
        _ => ParseError::NotAccessLog,
    }
}

fn fill<'a>(
    entry: &mut Entry<'a>,
    field: Field,
    value: &'a [u8],
    method: &mut Option<&'a [u8]>,
    target: &mut Option<&'a [u8]>,
    protocol: &mut Option<&'a [u8]>,
) -> Result<(), ParseError> {
    match field {
        Field::RemoteAddr => {
            // `[2001:db8::1]` as some proxies write it.
            let addr = value
                .strip_prefix(b"[")
                .and_then(|v| v.strip_suffix(b"]"))
                .unwrap_or(value);
            if !is_address(addr) {
                return Err(ParseError::BadAddress);
            }
            entry.remote_addr = addr;
        }
        Field::RemoteUser => entry.remote_user = dash_is_none(value),
        Field::TimeLocal => entry.time = parse_time(value).ok_or(ParseError::BadTime)?,
        Field::TimeIso8601 => entry.time = parse_iso8601(value).ok_or(ParseError::BadTime)?,
        Field::Msec => entry.time = parse_msec(value).ok_or(ParseError::BadTime)?,
        Field::Request => entry.request = split_request(value),
        Field::Method => *method = Some(value),
        Field::Target => *target = Some(value),
        Field::Protocol => *protocol = Some(value),
        Field::Status => entry.status = parse_status(value).ok_or(ParseError::BadStatus)?,
        Field::BodyBytes => entry.bytes = parse_bytes(value).ok_or(ParseError::BadBytes)?,
        Field::Referer => entry.referer = dash_is_none(value),
        Field::UserAgent => entry.user_agent = dash_is_none(value),
        Field::Accept => entry.accept = dash_is_none(value),
        Field::MarkdownServed => entry.markdown_served = dash_is_none(value),
        Field::Host => entry.host = dash_is_none(value),
        Field::RequestTime => entry.request_time = dash_is_none(value),
        Field::Skip => {}
    }
    Ok(())
}

/// The name of the variable at `bytes[at] == b'$'` (`$name` or `${name}`) and the index
/// after it.
fn variable_name(bytes: &[u8], at: usize) -> Result<(&str, usize), FormatError> {
    let is_name = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let (start, braced) = if bytes.get(at + 1) == Some(&b'{') {
        (at + 2, true)
    } else {
        (at + 1, false)
    };
    let len = bytes[start.min(bytes.len())..]
        .iter()
        .take_while(|b| is_name(b))
        .count();
    if len == 0 {
        return Err(FormatError::BadVariable(at));
    }
    let end = start + len;
    let next = if braced {
        if bytes.get(end) != Some(&b'}') {
            return Err(FormatError::BadVariable(at));
        }
        end + 1
    } else {
        end
    };
    // Names are ASCII by construction.
    let name = std::str::from_utf8(&bytes[start..end]).map_err(|_| FormatError::BadVariable(at))?;
    Ok((name, next))
}

/// The format text of a definition: strips `log_format NAME [escape=...]` and a closing `;`,
/// and joins nginx's quoted string pieces (`'...' '...'` or `"..."`). A definition that is
/// not quoted is taken as it is.
fn definition_text(definition: &str) -> Result<String, FormatError> {
    let mut def = definition.trim();
    if let Some(rest) = def.strip_prefix("log_format") {
        // `log_format NAME [escape=default|json|none] ...`
        let rest = rest.trim_start();
        let rest = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim_start();
        def = match rest.strip_prefix("escape=") {
            Some(r) => r
                .split_once(char::is_whitespace)
                .map_or("", |(_, r)| r)
                .trim_start(),
            None => rest,
        };
    }
    let def = def.strip_suffix(';').unwrap_or(def).trim_end();
    if !def.starts_with(['\'', '"']) {
        return if def.is_empty() {
            Err(FormatError::Empty)
        } else {
            Ok(def.to_owned())
        };
    }
    let mut out = String::new();
    let mut chars = def.chars();
    loop {
        match chars.next() {
            None => break,
            Some(c) if c.is_whitespace() => continue,
            Some(q @ ('\'' | '"')) => {
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        c if c == q => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                out.push(escaped);
                            }
                        }
                        c => out.push(c),
                    }
                }
                if !closed {
                    return Err(FormatError::UnterminatedQuote);
                }
            }
            // Text outside quotes between pieces: take it as nginx would (a bare word).
            Some(c) => out.push(c),
        }
    }
    if out.is_empty() {
        return Err(FormatError::Empty);
    }
    Ok(out)
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.plan {
            None => f.write_str("auto (combined, common, vhost, honeybot)"),
            Some(plan) => {
                for step in plan.steps.iter() {
                    match step {
                        Step::Literal(l) => f.write_str(&String::from_utf8_lossy(l))?,
                        Step::Var { field, .. } => write!(f, "<{field:?}>")?,
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_line;

    fn spec(s: &str) -> LogFormat {
        LogFormat::from_spec(s).unwrap_or_else(|e| panic!("{s:?} refused: {e}"))
    }

    fn refused(s: &str) -> FormatError {
        match LogFormat::from_spec(s) {
            Ok(f) => panic!("{s:?} accepted as {f}"),
            Err(e) => e,
        }
    }

    fn ok<'a>(f: &LogFormat, line: &'a [u8]) -> Entry<'a> {
        f.parse(line)
            .unwrap_or_else(|e| panic!("{:?} rejected: {e:?}", String::from_utf8_lossy(line)))
    }

    fn err(f: &LogFormat, line: &[u8]) -> ParseError {
        match f.parse(line) {
            Ok(e) => panic!("{:?} accepted as {e:?}", String::from_utf8_lossy(line)),
            Err(e) => e,
        }
    }

    /// nginx's built-in `combined`, as `nginx.conf` would spell it.
    const COMBINED: &str = r#"log_format combined '$remote_addr - $remote_user [$time_local] '
                    '"$request" $status $body_bytes_sent '
                    '"$http_referer" "$http_user_agent"';"#;

    /// The Honeybot extended format of modules/nginx.nix.
    const HONEYBOT: &str = r#"'$remote_addr - $remote_user [$time_local] "$request" '
        '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
        'Accept:"$http_accept" MarkdownServed:$serve_markdown'"#;

    /// Everything but the format tag must agree with the built-in parser.
    fn same_fields(a: &Entry<'_>, b: &Entry<'_>) -> bool {
        let mut a = a.clone();
        a.format = b.format;
        a == *b
    }

    #[test]
    fn builtin_names_select_the_detecting_parser() {
        for name in BUILTIN_FORMATS {
            assert!(!spec(name).is_custom(), "{name}");
        }
        assert!(spec(COMBINED).is_custom());
    }

    #[test]
    fn combined_definition_reads_combined_lines_like_the_builtin_parser() {
        let fmt = spec(COMBINED);
        let line = br#"203.0.113.9 - alice [10/Oct/2000:13:55:36 -0700] "GET /a?b=\"c\" HTTP/1.1" 404 12 "https://ref.example/" "Mozilla/5.0 (X11) \x1b[31m""#;
        let custom = ok(&fmt, line);
        assert_eq!(custom.format, Format::Custom);
        assert!(same_fields(
            &custom,
            &parse_line(line).unwrap_or_else(|e| panic!("{e:?}"))
        ));
    }

    #[test]
    fn honeybot_definition_reads_the_bundled_sample_like_the_builtin_parser() {
        let fmt = spec(HONEYBOT);
        let sample = include_bytes!("../../honeybot/data/sample-access.log");
        let mut lines = 0;
        for line in sample.split_inclusive(|&b| b == b'\n') {
            match (fmt.parse(line), parse_line(line)) {
                (Ok(c), Ok(b)) => assert!(same_fields(&c, &b), "{}", String::from_utf8_lossy(line)),
                (Err(_), Err(_)) => {}
                (c, b) => panic!(
                    "disagree on {}: {c:?} vs {b:?}",
                    String::from_utf8_lossy(line)
                ),
            }
            lines += 1;
        }
        assert!(lines > 1000, "the sample log is there ({lines} lines)");
    }

    /// The NixOS module passes the `log_format honeybot` definition of its nginx snippet to
    /// the ingester (modules/nginx.nix splits it out the same way): it must compile and read
    /// what nginx writes exactly like the built-in parser.
    #[test]
    fn the_nixos_nginx_snippets_format_reads_the_sample_like_the_builtin_parser() {
        let conf = include_str!("../../../modules/nginx/http.conf");
        let def = conf
            .split("log_format honeybot ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_else(|| panic!("no `log_format honeybot` in modules/nginx/http.conf"));
        let fmt = spec(def);
        assert!(fmt.is_custom());
        let sample = include_bytes!("../../honeybot/data/sample-access.log");
        let mut read = 0;
        for line in sample.split_inclusive(|&b| b == b'\n') {
            if let (Ok(c), Ok(b)) = (fmt.parse(line), parse_line(line)) {
                assert!(same_fields(&c, &b), "{}", String::from_utf8_lossy(line));
                read += 1;
            }
        }
        assert!(read > 1000, "{read} sample lines read");
    }

    #[test]
    fn iso_time_other_order_host_and_upstream_fields() {
        let fmt = spec(
            r#"$host [$time_iso8601] $remote_addr "$request_method $request_uri $server_protocol" $status $body_bytes_sent rt=$request_time uct="$upstream_connect_time" "$http_user_agent" "$http_referer""#,
        );
        let e = ok(&fmt, b"blog.example [2024-05-01T23:30:00+02:00] 2001:db8::7 \"GET /x/?q=1 HTTP/2.0\" 200 512 rt=0.004 uct=\"0.001, 0.002\" \"GPTBot/1.2\" \"-\"\n");
        assert_eq!(e.host, Some(&b"blog.example"[..]));
        assert_eq!(e.remote_addr, b"2001:db8::7");
        assert_eq!(
            e.request,
            Request::Http {
                method: b"GET",
                target: b"/x/?q=1",
                protocol: Some(b"HTTP/2.0")
            }
        );
        assert_eq!((e.status, e.bytes), (200, Some(512)));
        assert_eq!(e.request_time, Some(&b"0.004"[..]));
        assert_eq!(e.user_agent, Some(&b"GPTBot/1.2"[..]));
        assert_eq!(e.referer, None);
        assert_eq!(e.time.offset_minutes, 120);
        assert_eq!(e.time.date_utc().to_string(), "2024-05-01");
        assert_eq!(e.time.date_as_written().to_string(), "2024-05-01");
        assert_eq!(e.time.unix_seconds(), 1_714_599_000);
    }

    #[test]
    fn msec_and_bracketed_ipv6() {
        let fmt = spec(r#"[$remote_addr] $msec "$request" $status $body_bytes_sent"#);
        let e = ok(
            &fmt,
            b"[2001:db8::1] 1714599000.123 \"HEAD / HTTP/1.1\" 301 0",
        );
        assert_eq!(e.remote_addr, b"2001:db8::1");
        assert_eq!(e.time.unix_seconds(), 1_714_599_000);
        assert_eq!(e.time.date_utc().to_string(), "2024-05-01");
        let e = ok(
            &spec(r#"$remote_addr $msec "$request" $status"#),
            b"[::1] 1.5 \"GET / HTTP/1.1\" 200",
        );
        assert_eq!(
            e.remote_addr, b"::1",
            "brackets around the address are dropped"
        );
    }

    #[test]
    fn bad_definitions_name_the_problem() {
        let err = refused("$remote_addr [$time_local] \"$request\" $status $my_var");
        assert_eq!(err, FormatError::UnknownVariable("my_var".into()));
        assert!(err.to_string().contains("$my_var"), "{err}");
        assert_eq!(
            refused("$remote_addr$remote_user [$time_local] \"$request\" $status"),
            FormatError::Adjacent("remote_addr".into(), "remote_user".into())
        );
        assert_eq!(
            refused("[$time_local] \"$request\" $status"),
            FormatError::Missing("remote_addr")
        );
        assert_eq!(refused("'$remote_addr"), FormatError::UnterminatedQuote);
        assert_eq!(refused("  "), FormatError::Empty);
        assert!(matches!(
            LogFormat::from_spec("$ [$time_local]"),
            Err(FormatError::BadVariable(0))
        ));
        // `${name}` and skipped families are fine.
        spec(
            "${remote_addr} [$time_local] \"$request\" $status $upstream_addr $http_x_forwarded_for",
        );
    }

    #[test]
    fn lines_in_another_format_are_typed_errors() {
        let fmt = spec(COMBINED);
        for (line, expected) in [
            (&b""[..], ParseError::Empty),
            (b"2015/01/20 19:53:28 [error] 1#0: oops", ParseError::BadAddress),
            (b"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 2x0 1 \"-\" \"-\"", ParseError::BadStatus),
            (b"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" extra", ParseError::TrailingGarbage),
            (b"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1 \"-\" \"cut", ParseError::BadQuotedField),
            (b"1.2.3.4 - - [2000-10-10T13:55:36Z] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"", ParseError::BadTime),
        ] {
            assert_eq!(err(&fmt, line), expected, "{}", String::from_utf8_lossy(line));
        }
    }

    proptest::proptest! {
        #[test]
        fn custom_plans_never_panic(line in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            for def in [COMBINED, HONEYBOT, r#"$host [$time_iso8601] $remote_addr "$request_method $request_uri" $status $msec"#] {
                let _ = spec(def).parse(&line);
            }
        }

        #[test]
        fn definitions_never_panic(def in ".{0,80}") {
            let _ = LogFormat::from_spec(&def);
        }
    }
}

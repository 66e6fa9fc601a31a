//! Zero-copy parser for web server access-log lines.
//!
//! Accepted formats (detected per line, no configuration needed):
//! - `common`:   `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent`
//! - `combined`: common + ` "$http_referer" "$http_user_agent"`
//! - vhost-prefixed: `$host ` in front of either (Apache `%v %h %l %u %t ...`)
//! - combined with extra trailing fields (e.g. `"$http_x_forwarded_for"`, `$request_time`)
//! - Honeybot extended: combined + ` Accept:"$http_accept" MarkdownServed:$serve_markdown`
//!   (optionally followed by ` Host:"$host" RequestTime:$request_time`)
//!
//! Every field is a borrowed slice of the input line: parsing allocates nothing.
//! Every rejected line is a typed [`ParseError`]; no input makes the parser panic.
//!
//! API CONTRACT (used by honeybot-db, honeybot CLI, honeybot-ingest): keep the public
//! names below; add fields and variants freely.

#![forbid(unsafe_code)]

mod escape;
mod format;
mod parse;
mod time;

#[cfg(test)]
mod tests;

pub use escape::unescape;
pub use format::{BUILTIN_FORMATS, FormatError, LogFormat};
pub use parse::{MAX_LINE_LEN, parse_line};
pub use time::{Date, LogTime};

/// One parsed access-log line. All byte slices borrow from the input line and are the
/// field exactly as written in the log (still escaped: see [`unescape`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Virtual host in front of the line (vhost-prefixed format), if present.
    pub vhost: Option<&'a [u8]>,
    /// Client address as written: IPv4, IPv6 or a hostname.
    pub remote_addr: &'a [u8],
    /// `$remote_user`; `None` when `-`.
    pub remote_user: Option<&'a [u8]>,
    /// `$time_local`.
    pub time: LogTime,
    /// `$request`, split when it has the `METHOD TARGET PROTOCOL` shape.
    pub request: Request<'a>,
    /// `$status`.
    pub status: u16,
    /// `$body_bytes_sent`; `None` when `-`.
    pub bytes: Option<u64>,
    /// `$http_referer`; `None` when absent or `-`.
    pub referer: Option<&'a [u8]>,
    /// `$http_user_agent`; `None` when absent or `-`.
    pub user_agent: Option<&'a [u8]>,
    /// `Accept:"..."` of the Honeybot extended format; `None` when absent or `-`.
    pub accept: Option<&'a [u8]>,
    /// `MarkdownServed:...` of the Honeybot extended format; `None` when absent or `-`.
    pub markdown_served: Option<&'a [u8]>,
    /// `Host:"..."` of the Honeybot extended format; `None` when absent or `-`.
    pub host: Option<&'a [u8]>,
    /// `RequestTime:...` (seconds, e.g. `0.004`) of the Honeybot extended format.
    pub request_time: Option<&'a [u8]>,
    /// Which format the line matched.
    pub format: Format,
}

/// The format a line was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Common,
    Combined,
    /// Combined plus more trailing fields: quoted (`"$http_x_forwarded_for"`), bare tokens
    /// (`$request_time`) or `Name:value` fields other than the Honeybot extended ones.
    CombinedExtra,
    HoneybotExtended,
    /// A custom nginx `log_format` definition ([`LogFormat::compile`]).
    Custom,
}

/// `$request`. A well-formed request is `METHOD TARGET PROTOCOL`; anything else nginx
/// logs (`""`, TLS handshake bytes, `HELP`) is kept as `Raw` so it can still be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    Http {
        method: &'a [u8],
        target: &'a [u8],
        /// `None` for HTTP/0.9-style `GET /path`.
        protocol: Option<&'a [u8]>,
    },
    /// The request field as written, when it has no `METHOD TARGET [PROTOCOL]` shape.
    Raw(&'a [u8]),
}

impl<'a> Request<'a> {
    /// The path to record for this request: the target of an HTTP request, or the raw
    /// request text otherwise (so `""` and probes are still visible in reports).
    pub fn path(&self) -> &'a [u8] {
        match *self {
            Request::Http { target, .. } => target,
            Request::Raw(raw) => raw,
        }
    }

    pub fn method(&self) -> Option<&'a [u8]> {
        match *self {
            Request::Http { method, .. } => Some(method),
            Request::Raw(_) => None,
        }
    }
}

/// Why a line was not accepted. Each variant is counted separately by callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ParseError {
    #[error("empty line")]
    Empty,
    #[error("not an access-log line (e.g. an error-log line or a comment)")]
    NotAccessLog,
    #[error("bad client address field")]
    BadAddress,
    #[error("missing ident/user fields between the client address and the timestamp")]
    MissingIdent,
    #[error("bad timestamp")]
    BadTime,
    #[error("bad or unterminated quoted request field")]
    BadRequestField,
    #[error("bad status code")]
    BadStatus,
    #[error("bad body size")]
    BadBytes,
    #[error("bad or unterminated quoted field after the status")]
    BadQuotedField,
    #[error("unexpected data after the last field")]
    TrailingGarbage,
    #[error("line too long")]
    TooLong,
}

impl ParseError {
    /// Stable snake_case name of the error, for counters and JSON keys.
    pub fn kind(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::NotAccessLog => "not_access_log",
            ParseError::BadAddress => "bad_address",
            ParseError::MissingIdent => "missing_ident",
            ParseError::BadTime => "bad_time",
            ParseError::BadRequestField => "bad_request_field",
            ParseError::BadStatus => "bad_status",
            ParseError::BadBytes => "bad_bytes",
            ParseError::BadQuotedField => "bad_quoted_field",
            ParseError::TrailingGarbage => "trailing_garbage",
            ParseError::TooLong => "too_long",
        }
    }

    /// Every variant, in declaration order (for tables of counters).
    pub const ALL: [ParseError; 11] = [
        ParseError::Empty,
        ParseError::NotAccessLog,
        ParseError::BadAddress,
        ParseError::MissingIdent,
        ParseError::BadTime,
        ParseError::BadRequestField,
        ParseError::BadStatus,
        ParseError::BadBytes,
        ParseError::BadQuotedField,
        ParseError::TrailingGarbage,
        ParseError::TooLong,
    ];
}

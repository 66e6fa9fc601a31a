//! Typed failures of a chat request, classified by transport and HTTP status.

use std::path::PathBuf;

/// What went wrong, in the terms a caller decides on (retry, fall back, tell the user).
///
/// Classification uses only the transport error's kind and the HTTP status code, never the
/// server's error text (it differs between Ollama versions and between servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The configuration cannot work (bad endpoint, unreadable API key file).
    Config,
    /// Nothing listens at the endpoint (TCP connection refused).
    Refused,
    /// Any other failure to connect (DNS, unreachable network, TLS).
    Connect,
    /// The connect or total timeout passed.
    Timeout,
    /// HTTP 404: the model is not installed (or the endpoint path is wrong).
    ModelMissing,
    /// HTTP 5xx.
    Server,
    /// Another HTTP error status (400 prompt too long, 401 bad key, ...).
    Rejected,
    /// A 2xx answer whose body is not the protocol's JSON.
    BadBody,
    /// A well-formed answer with no text in it.
    Empty,
    /// The connection broke while sending or receiving.
    Transport,
}

impl ErrorKind {
    /// A stable snake_case name for logs and counters.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Refused => "refused",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ModelMissing => "model_missing",
            ErrorKind::Server => "server",
            ErrorKind::Rejected => "rejected",
            ErrorKind::BadBody => "bad_body",
            ErrorKind::Empty => "empty",
            ErrorKind::Transport => "transport",
        }
    }
}

/// A failed chat request. `Display` is one line meant for a human; the source chain has the
/// transport detail.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint { endpoint: String, reason: String },
    #[error("cannot read API key file {}", path.display())]
    ApiKeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("API key file {} is empty", path.display())]
    ApiKeyEmpty { path: PathBuf },
    #[error("cannot set up the HTTP client")]
    Build(#[source] reqwest::Error),
    #[error("connection refused by {url} (is the model server running?)")]
    Refused { url: String },
    #[error("cannot connect to {url}")]
    Connect {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} did not {phase} within {seconds} s")]
    Timeout {
        url: String,
        /// "connect" or "answer"
        phase: &'static str,
        seconds: u64,
    },
    #[error("model {model:?} not found at {url} (HTTP 404{detail})")]
    ModelMissing {
        model: String,
        url: String,
        detail: String,
    },
    #[error("server error HTTP {status} from {url}{detail}")]
    Server {
        status: u16,
        url: String,
        detail: String,
    },
    #[error("request rejected with HTTP {status} by {url}{detail}")]
    Rejected {
        status: u16,
        url: String,
        detail: String,
    },
    #[error("unusable answer from {url}: {reason}")]
    BadBody { url: String, reason: String },
    #[error("empty answer from {url}")]
    Empty { url: String },
    #[error("connection to {url} failed")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

impl LlmError {
    /// The class of failure, for decisions and exit codes.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            LlmError::InvalidEndpoint { .. }
            | LlmError::ApiKeyFile { .. }
            | LlmError::ApiKeyEmpty { .. }
            | LlmError::Build(_) => ErrorKind::Config,
            LlmError::Refused { .. } => ErrorKind::Refused,
            LlmError::Connect { .. } => ErrorKind::Connect,
            LlmError::Timeout { .. } => ErrorKind::Timeout,
            LlmError::ModelMissing { .. } => ErrorKind::ModelMissing,
            LlmError::Server { .. } => ErrorKind::Server,
            LlmError::Rejected { .. } => ErrorKind::Rejected,
            LlmError::BadBody { .. } => ErrorKind::BadBody,
            LlmError::Empty { .. } => ErrorKind::Empty,
            LlmError::Transport { .. } => ErrorKind::Transport,
        }
    }
}

/// True when an `io::Error` of kind `ConnectionRefused` is anywhere in the source chain.
pub(crate) fn is_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

/// The server's own error text, bounded to 200 characters and passed through the one terminal
/// escaper ([`honeybot_terminal::for_terminal`]: control characters, ANSI/OSC sequences, bidi
/// overrides and newlines become visible `\u{..}` escapes), as ": text" (or "").
///
/// Shown to the user for diagnosis only; it never decides anything.
pub(crate) fn detail_from_body(body: &[u8]) -> String {
    let text = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| match v.get("error") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(obj) => obj
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_owned),
            None => None,
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let bounded: String = text.trim().chars().take(200).collect();
    let clean = honeybot_terminal::for_terminal(bounded.trim_end());
    if clean.is_empty() {
        String::new()
    } else {
        format!(": {clean}")
    }
}

//! The control socket protocol: one JSON object per line, both ways.
//!
//! Client to daemon ([`Request`]), e.g.
//! `{"cmd":"say","text":"Breaking news.","priority":"interrupt"}`,
//! `{"cmd":"say","file":"/srv/site/_posts/2025-01-01-bots.md"}`, `{"cmd":"stop"}`,
//! `{"cmd":"skip"}`, `{"cmd":"pause"}`, `{"cmd":"resume"}`, `{"cmd":"status"}`,
//! `{"cmd":"subscribe"}`.
//! Every request gets one [`Reply`] line (`{"ok":true,...}` or `{"ok":false,"error":"..."}`).
//! After `subscribe`, [`Event`] lines follow as they happen (`{"event":"started",...}`),
//! interleaved with the replies to later requests on the same connection.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Longest request line accepted, in bytes.
pub const MAX_LINE: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Queued after what is playing.
    #[default]
    Normal,
    /// Cuts current speech and drops the queue (breaking news).
    Interrupt,
}

/// What `text` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    #[default]
    Text,
    Markdown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase", deny_unknown_fields)]
pub enum Request {
    Say {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// A Markdown file, read by the daemon (absolute path).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<PathBuf>,
        #[serde(default)]
        format: TextFormat,
        #[serde(default)]
        priority: Priority,
    },
    Stop,
    Skip,
    Pause,
    Resume,
    Status,
    Subscribe,
}

/// The daemon's state, answered to `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// "idle", "speaking" or "paused".
    pub state: String,
    /// The job being spoken.
    pub current: Option<u64>,
    /// Jobs waiting, in order.
    pub queued: Vec<u64>,
    /// The configured engine.
    pub engine: String,
    /// How the engines started, e.g. "voice piper loaded" or "piper failed, speaking with
    /// espeak-ng".
    pub voice: String,
    /// The sink, e.g. "paplay" or "wav".
    pub sink: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    /// The job id given to a `say`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Number of sentences of a `say`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentences: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Reply {
    pub fn ok() -> Self {
        Reply {
            ok: true,
            id: None,
            sentences: None,
            status: None,
            error: None,
        }
    }
    pub fn error(message: impl Into<String>) -> Self {
        Reply {
            ok: false,
            error: Some(message.into()),
            ..Reply::ok()
        }
    }
}

/// Why a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// Every sentence was played.
    Done,
    /// `stop`.
    Stopped,
    /// `skip`.
    Skipped,
    /// A `say` with priority `interrupt`.
    Interrupted,
    /// Dropped from the queue before it started (stop or interrupt).
    Dropped,
    /// An engine or sink failed (an `error` event says why).
    Failed,
    /// The daemon shut down.
    Shutdown,
}

/// Events streamed to subscribers. `at_ms` is the wall clock (Unix epoch, milliseconds) when
/// the daemon handed the audio to the sink (`started`, `sentence`), when the sink finished
/// playing (`finished`), or when the error happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    Started {
        id: u64,
        at_ms: u64,
        sentences: usize,
    },
    Sentence {
        id: u64,
        at_ms: u64,
        index: usize,
        text: String,
        engine: String,
        /// Length of this sentence's audio.
        duration_ms: u64,
    },
    Finished {
        id: u64,
        at_ms: u64,
        reason: EndReason,
    },
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        at_ms: u64,
        message: String,
    },
    Paused {
        at_ms: u64,
    },
    Resumed {
        at_ms: u64,
    },
    /// The subscriber was too slow and missed `missed` events.
    Lagged {
        missed: u64,
    },
}

impl Event {
    /// The job an event belongs to, if any.
    pub fn job(&self) -> Option<u64> {
        match self {
            Event::Started { id, .. } | Event::Sentence { id, .. } | Event::Finished { id, .. } => {
                Some(*id)
            }
            Event::Error { id, .. } => *id,
            Event::Paused { .. } | Event::Resumed { .. } | Event::Lagged { .. } => None,
        }
    }
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Done => "done",
            EndReason::Stopped => "stopped",
            EndReason::Skipped => "skipped",
            EndReason::Interrupted => "interrupted",
            EndReason::Dropped => "dropped",
            EndReason::Failed => "failed",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `s` safe for a terminal or a log line: control characters (ANSI escapes, newlines) and
/// bidirectional-formatting characters are shown escaped (Honeybot's one sanitizer,
/// [`honeybot_daemon::terminal::for_terminal`]).
pub fn printable(s: &str) -> String {
    honeybot_daemon::terminal::for_terminal(s)
}

/// A JSON line safe for a terminal: characters the sanitizer would escape are written as
/// JSON `\uXXXX` escapes, so the line stays valid JSON with the same meaning.
pub fn json_for_terminal(line: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if honeybot_daemon::terminal::needs_escape(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_wire_format() {
        let r: Request =
            serde_json::from_str(r#"{"cmd":"say","text":"hi","priority":"interrupt"}"#)
                .expect("parse");
        assert_eq!(
            r,
            Request::Say {
                text: Some("hi".into()),
                file: None,
                format: TextFormat::Text,
                priority: Priority::Interrupt
            }
        );
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"say","txt":"hi"}"#).is_err());
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"cmd":"stop"}"#).expect("stop"),
            Request::Stop
        );
        let e = serde_json::to_string(&Event::Finished {
            id: 3,
            at_ms: 5,
            reason: EndReason::Interrupted,
        })
        .expect("json");
        assert_eq!(
            e,
            r#"{"event":"finished","id":3,"at_ms":5,"reason":"interrupted"}"#
        );
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\u{a}c");
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
        let line = serde_json::to_string("x\u{202e}y").expect("json");
        let safe = json_for_terminal(&line);
        assert_eq!(safe, "\"x\\u202ey\"");
        assert_eq!(
            serde_json::from_str::<String>(&safe).expect("valid"),
            "x\u{202e}y"
        );
    }
}

//! The director's control socket: one JSON object per line, like the narrator's.
//!
//! Requests: `{"cmd":"status"}`, `{"cmd":"pause"}`, `{"cmd":"resume"}`, `{"cmd":"next"}`,
//! `{"cmd":"stop"}`. Replies: `{"ok":true}`, `{"ok":true,"status":{…}}` or
//! `{"ok":false,"error":"…"}`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::Subcommand)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Command {
    /// Print what is on screen and being read, as JSON.
    Status,
    /// Hold the show (and the narrator) where it is.
    Pause,
    /// Continue after pause.
    Resume,
    /// End the current item and go to the next.
    Next,
    /// End the show: close the browser, stop the narration, exit.
    Stop,
}

/// What `status` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `starting`, `waiting` (for the page to answer 200), `opening`, `showing`,
    /// `station-id`, `between`, `stopping`.
    pub state: String,
    pub paused: bool,
    /// The article on screen (or being prepared).
    pub title: Option<String>,
    pub url: Option<String>,
    /// `chromium` or `firefox` while a browser is open.
    pub browser: Option<String>,
    /// The browser window's id.
    pub window: Option<String>,
    /// The narrator job reading the article.
    pub reading: Option<u64>,
    /// Articles read to the end.
    pub played: u64,
    /// Breaking-news preemptions.
    pub breaking: u64,
    /// Items left in this round of the playlist.
    pub queued: usize,
    /// `inotify` or `poll`.
    pub watch: String,
}

impl Status {
    /// One line for sd-notify STATUS.
    pub fn line(&self) -> String {
        let mut s = self.state.clone();
        if self.paused {
            s.push_str(" (paused)");
        }
        if let Some(t) = &self.title {
            s.push_str(&format!(": {t}"));
        }
        if let Some(u) = &self.url {
            s.push_str(&format!(" <{u}>"));
        }
        if let Some(j) = self.reading {
            s.push_str(&format!(", reading job {j}"));
        }
        s
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub type Shared = Arc<Mutex<Status>>;

/// Binds `path`, replacing a stale socket nobody answers on.
pub async fn bind(path: &Path) -> Result<UnixListener, Error> {
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(Error::Locked {
                path: path.to_owned(),
            });
        }
        let _ = std::fs::remove_file(path);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io("creating", parent))?;
    }
    UnixListener::bind(path).map_err(Error::io("binding", path))
}

/// Serves the socket until the task is dropped: `status` from `shared`, the other verbs sent
/// to the show as [`Command`]s.
pub async fn serve(listener: UnixListener, shared: Shared, tx: mpsc::UnboundedSender<Command>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let (r, mut w) = stream.into_split();
            let mut lines = BufReader::new(r.take(64 * 1024)).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let reply = match serde_json::from_str::<Command>(&line) {
                    Ok(Command::Status) => Reply {
                        ok: true,
                        status: Some(shared.lock().map(|s| s.clone()).unwrap_or_default()),
                        error: None,
                    },
                    Ok(cmd) => {
                        let sent = tx.send(cmd).is_ok();
                        Reply {
                            ok: sent,
                            error: (!sent).then(|| "the show has ended".into()),
                            status: None,
                        }
                    }
                    Err(e) => Reply {
                        ok: false,
                        error: Some(format!("bad request: {e}")),
                        status: None,
                    },
                };
                let mut out = serde_json::to_string(&reply).unwrap_or_default();
                out.push('\n');
                if w.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

use tokio::io::AsyncReadExt as _;

/// Sends one command and returns the reply.
pub async fn call(socket: &Path, cmd: Command) -> Result<Reply, ClientError> {
    let stream = UnixStream::connect(socket)
        .await
        .map_err(|source| ClientError::Connect {
            path: socket.to_owned(),
            source,
        })?;
    let (r, mut w) = stream.into_split();
    let mut line = serde_json::to_string(&cmd).unwrap_or_default();
    line.push('\n');
    let io = |source| ClientError::Io {
        path: socket.to_owned(),
        source,
    };
    w.write_all(line.as_bytes()).await.map_err(io)?;
    let mut answer = String::new();
    BufReader::new(r)
        .read_line(&mut answer)
        .await
        .map_err(|source| ClientError::Io {
            path: socket.to_owned(),
            source,
        })?;
    let reply: Reply = serde_json::from_str(&answer)
        .map_err(|_| ClientError::Protocol(answer.trim().to_owned()))?;
    if reply.ok {
        Ok(reply)
    } else {
        Err(ClientError::Refused(reply.error.unwrap_or_default()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to the director at {path} (is `honeybot-director run` running?)")]
    Connect {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("talking to the director at {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("unexpected answer from the director: {0:?}")]
    Protocol(String),
    #[error("the director refused: {0}")]
    Refused(String),
}

//! The client side of the control socket, used by `honeybot-narrator say` and friends.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::protocol::{EndReason, Event, Reply, Request};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to the narrator at {path} (is `honeybot-narrator serve` running?)")]
    Connect {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("talking to the narrator at {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the narrator at {path} closed the connection")]
    Closed { path: PathBuf },
    #[error("unexpected line from the narrator: {0}")]
    Protocol(String),
    #[error("the narrator refused: {0}")]
    Refused(String),
}

/// A line from the daemon.
#[derive(Debug, Clone)]
pub enum Incoming {
    Reply(Reply),
    Event(Event),
}

/// One connection to the daemon.
#[derive(Debug)]
pub struct Client {
    path: PathBuf,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Client {
    pub async fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|source| ClientError::Connect {
                path: path.to_owned(),
                source,
            })?;
        let (r, w) = stream.into_split();
        Ok(Client {
            path: path.to_owned(),
            reader: BufReader::new(r),
            writer: w,
        })
    }

    pub async fn send(&mut self, req: &Request) -> Result<(), ClientError> {
        let mut line =
            serde_json::to_string(req).map_err(|e| ClientError::Protocol(e.to_string()))?;
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .await
            .map_err(|source| ClientError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// The next reply or event.
    pub async fn next(&mut self) -> Result<Incoming, ClientError> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .await
            .map_err(|source| ClientError::Io {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            return Err(ClientError::Closed {
                path: self.path.clone(),
            });
        }
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|_| ClientError::Protocol(crate::protocol::printable(line.trim())))?;
        let bad = |_| ClientError::Protocol(crate::protocol::printable(line.trim()));
        if value.get("event").is_some() {
            serde_json::from_value(value)
                .map(Incoming::Event)
                .map_err(bad)
        } else {
            serde_json::from_value(value)
                .map(Incoming::Reply)
                .map_err(bad)
        }
    }

    /// Sends `req` and returns its reply (events that arrive first are passed to `on_event`);
    /// a refusal is an error.
    pub async fn call(
        &mut self,
        req: &Request,
        mut on_event: impl FnMut(Event),
    ) -> Result<Reply, ClientError> {
        self.send(req).await?;
        loop {
            match self.next().await? {
                Incoming::Reply(r) if r.ok => return Ok(r),
                Incoming::Reply(r) => {
                    return Err(ClientError::Refused(r.error.unwrap_or_default()));
                }
                Incoming::Event(e) => on_event(e),
            }
        }
    }

    /// After `subscribe` and `say`: reads events until job `id` has finished, passing each of
    /// the job's events to `on_event`. Returns how it ended and whether an error was reported.
    pub async fn follow(
        &mut self,
        id: u64,
        mut on_event: impl FnMut(&Event),
    ) -> Result<(EndReason, bool), ClientError> {
        let mut had_error = false;
        loop {
            let Incoming::Event(event) = self.next().await? else {
                continue;
            };
            if event.job() != Some(id) {
                continue;
            }
            on_event(&event);
            match event {
                Event::Error { .. } => had_error = true,
                Event::Finished { reason, .. } => return Ok((reason, had_error)),
                _ => {}
            }
        }
    }
}

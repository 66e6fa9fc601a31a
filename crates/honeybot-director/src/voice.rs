//! The narrator connection, on its socket protocol (`docs/narrator.md`): a [`Speaker`]
//! connection for requests (`say`, `stop`, `pause`, …) and an [`Ears`] connection subscribed
//! to events, so the show waits on the real `finished` event of each job.

use std::path::{Path, PathBuf};

use honeybot_narrator::client::{Client, ClientError, Incoming};
use honeybot_narrator::protocol::{EndReason, Event, Priority, Request, TextFormat};
use tokio::sync::mpsc;

use crate::Error;

#[derive(Debug)]
pub struct Speaker {
    client: Client,
}

#[derive(Debug)]
pub struct Ears {
    socket: PathBuf,
    events: mpsc::UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Ears {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connects both halves; the subscription is in place before anything is said.
pub async fn connect(socket: &Path) -> Result<(Speaker, Ears), Error> {
    let mut sub = Client::connect(socket).await?;
    sub.call(&Request::Subscribe, |_| {}).await?;
    let (tx, events) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Ok(msg) = sub.next().await {
            if let Incoming::Event(e) = msg
                && tx.send(e).is_err()
            {
                return;
            }
        }
    });
    let client = Client::connect(socket).await?;
    Ok((
        Speaker { client },
        Ears {
            socket: socket.to_owned(),
            events,
            task,
        },
    ))
}

impl Speaker {
    async fn say(&mut self, req: Request) -> Result<u64, Error> {
        let reply = self.client.call(&req, |_| {}).await?;
        reply
            .id
            .ok_or_else(|| ClientError::Protocol("a say reply without a job id".into()).into())
    }

    /// Queues (or, with `interrupt`, cuts in with) plain text; returns the job id.
    pub async fn text(&mut self, text: &str, interrupt: bool) -> Result<u64, Error> {
        self.say(Request::Say {
            text: Some(text.to_owned()),
            file: None,
            format: TextFormat::Text,
            priority: if interrupt {
                Priority::Interrupt
            } else {
                Priority::Normal
            },
        })
        .await
    }

    /// Queues a Markdown file (read by the narrator); returns the job id.
    pub async fn file(&mut self, path: &Path) -> Result<u64, Error> {
        let path = std::path::absolute(path).map_err(Error::io("resolving", path))?;
        self.say(Request::Say {
            text: None,
            file: Some(path),
            format: TextFormat::Markdown,
            priority: Priority::Normal,
        })
        .await
    }

    /// `stop`, `pause`, `resume`, `skip`.
    pub async fn command(&mut self, req: Request) -> Result<(), Error> {
        self.client.call(&req, |_| {}).await.map(|_| ())?;
        Ok(())
    }
}

impl Ears {
    /// Waits for the `finished` event of job `id`; events of other jobs are passed over.
    pub async fn finished(&mut self, id: u64) -> Result<EndReason, Error> {
        loop {
            match self.events.recv().await {
                Some(Event::Finished { id: j, reason, .. }) if j == id => return Ok(reason),
                Some(Event::Error {
                    id: Some(j),
                    message,
                    ..
                }) if j == id => {
                    log::warn!(job = id; "narrator: {message}");
                }
                Some(_) => {}
                None => {
                    return Err(ClientError::Closed {
                        path: self.socket.clone(),
                    }
                    .into());
                }
            }
        }
    }
}

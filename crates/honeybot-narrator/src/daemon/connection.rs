//! One control connection: JSON lines in, replies and subscribed events out.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::{Control, FIRST_CHUNK_CHARS};
use crate::config::Limits;
use crate::markdown::{TextOptions, markdown_to_script, text_to_script};
use crate::protocol::{Event, MAX_LINE, Reply, Request, TextFormat, now_ms};

/// One control connection: requests in, replies (and events after `subscribe`) out. A client
/// that goes away only ends its own connection.
pub(super) async fn connection(
    stream: UnixStream,
    ctl: mpsc::Sender<Control>,
    events: broadcast::Sender<Event>,
    text_opts: Arc<TextOptions>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r);
    let mut sub: Option<broadcast::Receiver<Event>> = None;
    let mut line = Vec::new();
    loop {
        let out: String = tokio::select! {
            () = async { let _ = stop.wait_for(|s| *s).await; } => return,
            read = read_line(&mut reader, &mut line) => match read {
                Ok(true) => {
                    let reply = match serde_json::from_slice::<Request>(&line) {
                        Ok(Request::Subscribe) => {
                            sub = Some(events.subscribe());
                            Reply::ok()
                        }
                        Ok(req) => {
                            let reply = handle(req, &ctl, &text_opts, limits).await;
                            if let (false, Some(message)) = (reply.ok, reply.error.as_ref()) {
                                // Refusals are events too, for whoever watches the daemon.
                                log::warn!("refused a request: {message}");
                                let _ = events.send(Event::Error { id: None, at_ms: now_ms(), message: message.clone() });
                            }
                            reply
                        }
                        Err(e) => Reply::error(format!("bad request: {e}")),
                    };
                    to_line(&reply)
                }
                Ok(false) => return,
                Err(msg) => {
                    let _ = w.write_all(to_line(&Reply::error(msg)).as_bytes()).await;
                    return;
                }
            },
            ev = async { match sub.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => match ev {
                Ok(e) => to_line(&e),
                Err(broadcast::error::RecvError::Lagged(missed)) => to_line(&Event::Lagged { missed }),
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        if let Err(e) = w.write_all(out.as_bytes()).await {
            log::debug!("control client went away: {e}");
            return;
        }
    }
}

fn to_line<T: serde::Serialize>(v: &T) -> String {
    let mut s =
        serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Reads one line into `buf` (without the newline); false at end of input.
async fn read_line(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    buf: &mut Vec<u8>,
) -> Result<bool, String> {
    buf.clear();
    let n = (&mut *reader)
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', buf)
        .await
        .map_err(|e| format!("reading request: {e}"))?;
    if n == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > MAX_LINE {
        return Err(format!("request longer than {MAX_LINE} bytes"));
    }
    Ok(true)
}

async fn handle(
    req: Request,
    ctl: &mpsc::Sender<Control>,
    text_opts: &TextOptions,
    limits: Limits,
) -> Reply {
    let simple = |c: Control| async move {
        if ctl.send(c).await.is_ok() {
            Reply::ok()
        } else {
            Reply::error("shutting down")
        }
    };
    match req {
        Request::Stop => simple(Control::Stop).await,
        Request::Skip => simple(Control::Skip).await,
        Request::Pause => simple(Control::Pause).await,
        Request::Resume => simple(Control::Resume).await,
        Request::Subscribe => Reply::ok(),
        Request::Status => {
            let (tx, rx) = oneshot::channel();
            if ctl.send(Control::Status(tx)).await.is_err() {
                return Reply::error("shutting down");
            }
            match rx.await {
                Ok(s) => Reply {
                    status: Some(s),
                    ..Reply::ok()
                },
                Err(_) => Reply::error("shutting down"),
            }
        }
        Request::Say {
            text,
            file,
            format,
            priority,
        } => {
            let script = match (text, file) {
                (Some(t), None) if t.len() as u64 > limits.max_text_bytes => {
                    return Reply::error(format!(
                        "text of {} bytes is larger than the limit of {} bytes (limits.max_text_bytes)",
                        t.len(),
                        limits.max_text_bytes
                    ));
                }
                (Some(t), None) => match format {
                    TextFormat::Text => text_to_script(&t, text_opts),
                    TextFormat::Markdown => markdown_to_script(&t, text_opts),
                },
                (None, Some(path)) => {
                    if !path.is_absolute() {
                        return Reply::error(format!(
                            "file {} must be an absolute path",
                            path.display()
                        ));
                    }
                    let limit = limits.max_text_bytes;
                    let read = tokio::task::spawn_blocking(move || {
                        crate::input::read_file_capped(&path, limit)
                    })
                    .await;
                    match read {
                        Ok(Ok(md)) => markdown_to_script(&md, text_opts),
                        Ok(Err(e)) => {
                            return Reply::error(crate::protocol::printable(&error_chain(&e)));
                        }
                        Err(e) => return Reply::error(format!("reading the file: {e}")),
                    }
                }
                _ => return Reply::error("say needs exactly one of text and file"),
            };
            if script.sentences.is_empty() {
                return Reply::error("nothing to say");
            }
            let mut script = script;
            crate::sentences::shorten_first(&mut script.sentences, FIRST_CHUNK_CHARS);
            let (tx, rx) = oneshot::channel();
            if ctl
                .send(Control::Say {
                    script,
                    priority,
                    reply: tx,
                })
                .await
                .is_err()
            {
                return Reply::error("shutting down");
            }
            rx.await.unwrap_or_else(|_| Reply::error("shutting down"))
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

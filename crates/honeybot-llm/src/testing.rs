//! A scripted stand-in for a model server, for tests only (feature `test-server`).
//!
//! It is a FAKE: Ollama and llama.cpp cannot run in the test environment (no model weights,
//! no time to load them). It speaks the real wire protocols over a real TCP socket on
//! 127.0.0.1 (port 0), so the client under test goes through its whole HTTP stack: it answers
//! `POST /api/chat` in Ollama's shape and `POST /v1/chat/completions` in OpenAI's shape,
//! records every request for assertions, and plays a script of replies in order (the last
//! one repeats).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// HTTP 200 with this assistant text, in the protocol the request used.
    Text(String),
    /// HTTP 200 with this assistant text and a separate reasoning field.
    TextWithThinking { content: String, thinking: String },
    /// Any status with a JSON error body in the protocol's shape (`{"error": ...}`).
    Error(u16, String),
    /// Any status with this raw body (for malformed answers).
    Raw(u16, String),
    /// Read the request, then never answer (until the server is dropped): a model that
    /// takes longer than the client's timeout.
    Hang,
    /// A 200 answer with this text whose body is sent one byte every `every` (headers at
    /// once): a server that keeps the connection busy without ever finishing.
    Trickle { content: String, every: Duration },
    /// A 200 answer whose body stops after its first `bytes` bytes and then stays silent
    /// (connection held open until the server is dropped): a model that stalls mid-answer.
    Stall { content: String, bytes: usize },
    /// An HTTP redirect (`307`) to `location`.
    Redirect(String),
}

impl Reply {
    #[must_use]
    pub fn text(s: impl Into<String>) -> Self {
        Reply::Text(s.into())
    }
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Value::Null` when it was not JSON).
    pub body: Value,
}

impl Recorded {
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The running fake; stops and joins its thread when dropped.
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Starts on 127.0.0.1, port chosen by the OS.
    ///
    /// # Errors
    /// When no socket can be bound.
    pub fn start(script: Vec<Reply>) -> std::io::Result<Self> {
        Self::start_on(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            script,
        )
    }

    /// Starts on a given address (port 0 for any).
    ///
    /// # Errors
    /// When the socket cannot be bound.
    pub fn start_on(addr: SocketAddr, script: Vec<Reply>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            std::thread::spawn(move || serve(&listener, &script, &requests, &stop))
        };
        Ok(Self {
            addr,
            requests,
            stop,
            thread: Some(thread),
        })
    }

    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    listener: &TcpListener,
    script: &[Reply],
    requests: &Mutex<Vec<Recorded>>,
    stop: &AtomicBool,
) {
    let mut held = Vec::new(); // connections of `Hang` replies, closed when the server stops
    let mut next = 0usize;
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut stream) = stream else { continue };
        let Some(request) = read_request(&mut stream) else {
            continue;
        };
        let path = request.path.clone();
        let streamed = request.body["stream"] == json!(true);
        requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
        let reply = script
            .get(next)
            .or_else(|| script.last())
            .cloned()
            .unwrap_or(Reply::Hang);
        next += 1;
        let (status, body) = match reply {
            Reply::Hang => {
                held.push(stream);
                continue;
            }
            Reply::Redirect(location) => {
                let head = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
                continue;
            }
            Reply::Trickle { content, every } => {
                let body = answer_body(&path, &content, None, streamed);
                let _ = stream.write_all(stream_head().as_bytes());
                for b in body.bytes() {
                    if stop.load(Ordering::SeqCst) || stream.write_all(&[b]).is_err() {
                        break;
                    }
                    std::thread::sleep(every);
                }
                continue;
            }
            Reply::Stall { content, bytes } => {
                let body = answer_body(&path, &content, None, streamed);
                let cut = &body.as_bytes()[..bytes.min(body.len())];
                let _ = stream
                    .write_all(stream_head().as_bytes())
                    .and_then(|()| stream.write_all(cut));
                held.push(stream);
                continue;
            }
            Reply::Text(content) if streamed => {
                let body = answer_body(&path, &content, None, true);
                let _ = stream
                    .write_all(stream_head().as_bytes())
                    .and_then(|()| stream.write_all(body.as_bytes()));
                continue;
            }
            Reply::Text(content) => (200, success(&path, &content, None)),
            Reply::TextWithThinking { content, thinking } => {
                (200, answer_body(&path, &content, Some(&thinking), streamed))
            }
            Reply::Error(status, message) => {
                let body = if path.starts_with("/v1/") {
                    json!({"error": {"message": message, "type": "server_error"}})
                } else {
                    json!({"error": message})
                };
                (status, body.to_string())
            }
            Reply::Raw(status, body) => (status, body),
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            reason(status),
            body.len()
        );
        let _ = stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()));
    }
    drop(held);
}

/// Headers of a streamed 200 answer: no length, the body ends when the connection closes.
fn stream_head() -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n".to_owned()
}

/// The 200 body for `content`: streamed (Ollama: JSON lines, a few characters each, then a
/// `done` line; OpenAI: server-sent events ending in `[DONE]`) or one JSON object.
fn answer_body(path: &str, content: &str, thinking: Option<&str>, streamed: bool) -> String {
    if !streamed {
        return success(path, content, thinking);
    }
    let chars: Vec<char> = content.chars().collect();
    let pieces: Vec<String> = chars.chunks(8).map(|c| c.iter().collect()).collect();
    let mut out = String::new();
    if path.starts_with("/v1/") {
        for p in &pieces {
            let chunk = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]});
            out.push_str(&format!("data: {chunk}\n\n"));
        }
        let last = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20}});
        out.push_str(&format!("data: {last}\n\ndata: [DONE]\n\n"));
    } else {
        if let Some(t) = thinking {
            let line = json!({"model": "fake", "message": {"role": "assistant", "content": "", "thinking": t}, "done": false});
            out.push_str(&format!("{line}\n"));
        }
        for p in &pieces {
            let line = json!({"model": "fake", "message": {"role": "assistant", "content": p}, "done": false});
            out.push_str(&format!("{line}\n"));
        }
        let last = json!({"model": "fake", "message": {"role": "assistant", "content": ""},
            "done": true, "done_reason": "stop", "prompt_eval_count": 100, "eval_count": 20});
        out.push_str(&format!("{last}\n"));
    }
    out
}

fn success(path: &str, content: &str, thinking: Option<&str>) -> String {
    if path.starts_with("/v1/") {
        json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content,
                                     "reasoning_content": thinking}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        })
        .to_string()
    } else {
        let mut message = json!({"role": "assistant", "content": content});
        if let Some(t) = thinking {
            message["thinking"] = json!(t);
        }
        json!({
            "model": "fake", "created_at": "2026-01-01T00:00:00Z", "message": message,
            "done": true, "done_reason": "stop", "total_duration": 1, "load_duration": 1,
            "prompt_eval_count": 100, "eval_count": 20
        })
        .to_string()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
        if name == "content-length" {
            length = value.parse().ok()?;
        }
        headers.push((name, value));
    }
    let mut body = vec![0; length.min(64 * 1024 * 1024)];
    reader.read_exact(&mut body).ok()?;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

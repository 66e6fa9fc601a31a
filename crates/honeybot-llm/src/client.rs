//! The chat request itself, in both wire protocols.

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::endpoint::Endpoint;
use crate::error::{LlmError, detail_from_body, is_refused};

/// Largest answer body read; anything longer is not a chat answer.
const MAX_BODY: u64 = 8 * 1024 * 1024;

/// Which wire protocol the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Provider {
    /// Ollama's native `/api/chat`.
    #[serde(rename = "ollama")]
    Ollama,
    /// OpenAI-compatible `/v1/chat/completions` (llama.cpp server, Ollama's `/v1`, vLLM...).
    #[serde(rename = "openai")]
    OpenAi,
}

impl Provider {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Ollama => "ollama",
            Provider::OpenAi => "openai",
        }
    }
}

/// Who speaks in a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    #[must_use]
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    #[must_use]
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
}

/// An API key, kept out of `Debug` output.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Everything a [`Client`] needs. Build with [`ClientConfig::new`], then adjust fields.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub provider: Provider,
    pub endpoint: Endpoint,
    pub model: String,
    /// Context window sent to Ollama as `options.num_ctx`. Keep it fixed per model: a
    /// different value makes Ollama reload the model. (OpenAI-compatible servers fix their
    /// context at start-up; it is not sent to them.)
    pub num_ctx: u32,
    /// Most tokens the answer may have (`num_predict` / `max_tokens`).
    pub max_tokens: u32,
    pub temperature: f32,
    /// How long Ollama keeps the model loaded after the request (`"10m"`, `"-1"`); `None`
    /// leaves the server's default. Ollama only.
    pub keep_alive: Option<String>,
    /// Ollama's `think` switch; `Some(false)` (the default) asks thinking models to answer
    /// directly. `None` omits the field.
    pub think: Option<bool>,
    /// Limit for establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Limit for the whole request, answer included: one deadline, however the server
    /// trickles its bytes. Local models loading from disk on a CPU need minutes, so defaults
    /// are generous.
    pub timeout: Duration,
    /// Ask for a streamed answer (`stream: true`) and read it as it comes. Needed for
    /// [`ClientConfig::stall_timeout`] to mean anything: a non-streamed answer is silent
    /// until it is complete.
    pub stream: bool,
    /// Longest silence allowed once the answer has started (first byte of the body): a
    /// server that stops sending is given up after this, not after [`ClientConfig::timeout`].
    pub stall_timeout: Duration,
    api_key: Option<Secret>,
}

impl ClientConfig {
    /// Defaults: `num_ctx` 8192, 512 answer tokens, temperature 0.2, keep-alive 10 minutes,
    /// `think: false`, connect timeout 5 s, total timeout 180 s, not streamed, stall timeout
    /// 10 s, no API key.
    #[must_use]
    pub fn new(provider: Provider, endpoint: Endpoint, model: impl Into<String>) -> Self {
        Self {
            provider,
            endpoint,
            model: model.into(),
            num_ctx: 8192,
            max_tokens: 512,
            temperature: 0.2,
            keep_alive: Some("10m".to_owned()),
            think: Some(false),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(180),
            stream: false,
            stall_timeout: Duration::from_secs(10),
            api_key: None,
        }
    }

    /// Reads the API key (sent as `Authorization: Bearer`) from a file, such as a systemd
    /// credential. Keys are only ever read from files, never taken from configuration text.
    ///
    /// # Errors
    /// [`LlmError::ApiKeyFile`] when the file cannot be read, [`LlmError::ApiKeyEmpty`] when
    /// it holds only white space.
    pub fn api_key_file(mut self, path: &Path) -> Result<Self, LlmError> {
        let text = std::fs::read_to_string(path).map_err(|source| LlmError::ApiKeyFile {
            path: path.to_owned(),
            source,
        })?;
        let key = text.trim();
        if key.is_empty() {
            return Err(LlmError::ApiKeyEmpty {
                path: path.to_owned(),
            });
        }
        self.api_key = Some(Secret(key.to_owned()));
        Ok(self)
    }

    /// True when an API key was loaded.
    #[must_use]
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }
}

/// The text of a successful answer and what the server said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The assistant message as sent (not cleaned).
    pub content: String,
    /// Reasoning the server returned separately (`thinking` / `reasoning_content`), if any.
    pub thinking: Option<String>,
    /// Why generation stopped (`stop`, `length`, ...), if said.
    pub finish_reason: Option<String>,
    /// Prompt tokens the server evaluated, if said.
    pub prompt_tokens: Option<u64>,
    /// Answer tokens, if said.
    pub completion_tokens: Option<u64>,
}

/// A blocking chat client for one model on one server.
///
/// Blocking by design: call it from a plain thread (or `spawn_blocking` inside async code).
#[derive(Debug)]
pub struct Client {
    http: reqwest::blocking::Client,
    chat_url: reqwest::Url,
    config: ClientConfig,
}

impl Client {
    /// Sets up the HTTP client (no connection is made yet).
    ///
    /// # Errors
    /// [`LlmError::Build`] when the TLS backend cannot be initialised.
    pub fn new(config: ClientConfig) -> Result<Self, LlmError> {
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // The prompt (a diff, an access log) goes only to the configured server: a
            // redirect is answered as an error, never followed with the body.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("honeybot-llm/", env!("CARGO_PKG_VERSION")));
        if config.endpoint.is_local() {
            // A proxy from the environment must not capture requests to this machine.
            builder = builder.no_proxy();
        }
        if let Some((domain, addrs)) = config.endpoint.loopback_overrides() {
            builder = builder.resolve_to_addrs(&domain, &addrs);
        }
        let http = builder.build().map_err(LlmError::Build)?;
        let chat_url = config.endpoint.chat_url(config.provider);
        Ok(Self {
            http,
            chat_url,
            config,
        })
    }

    /// The configuration this client was built with.
    #[must_use]
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The URL requests go to.
    #[must_use]
    pub fn chat_url(&self) -> &reqwest::Url {
        &self.chat_url
    }

    /// Sends one non-streaming chat request and returns the answer.
    ///
    /// With `schema`, the server is asked for JSON matching it (Ollama `format`, OpenAI
    /// `response_format`); servers that ignore it still answer, so read the answer with
    /// [`crate::extract_json`], which tolerates prose and fences around the object.
    ///
    /// # Errors
    /// A typed [`LlmError`]; [`LlmError::kind`] tells refused, timeout, model missing (404),
    /// server error (5xx), other HTTP status, bad body, empty answer and transport failures
    /// apart.
    pub fn chat(&self, messages: &[Message], schema: Option<&Value>) -> Result<Answer, LlmError> {
        let body = self.request_body(messages, schema);
        let mut request = self.http.post(self.chat_url.clone()).json(&body);
        if let Some(Secret(key)) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let (status, bytes) = self.exchange(request)?;
        if !status.is_success() {
            return Err(self.status_error(status.as_u16(), &bytes));
        }
        let answer = match self.config.provider {
            Provider::Ollama => self.parse_ollama(&bytes)?,
            Provider::OpenAi => self.parse_openai(&bytes)?,
        };
        if answer.content.trim().is_empty() {
            return Err(LlmError::Empty { url: self.url() });
        }
        Ok(answer)
    }

    /// Sends `request` and reads the whole answer under one deadline (`timeout`) and, once
    /// the body has started, the stall limit (`stall_timeout`). The blocking transfer runs on
    /// its own thread that hands over each piece as it arrives, so neither limit depends on
    /// how the server spaces its bytes; on expiry the thread is left to end with the socket's
    /// own timeout.
    fn exchange(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), LlmError> {
        enum Piece {
            Head(reqwest::StatusCode),
            Bytes(Vec<u8>),
            Failed(LlmError),
            End,
        }
        let start = std::time::Instant::now();
        let deadline = start + self.config.timeout;
        let (tx, rx) = std::sync::mpsc::channel::<Piece>();
        let classify_send = {
            let url = self.url();
            let (connect_timeout, timeout) = (self.config.connect_timeout, self.config.timeout);
            move |e: reqwest::Error| classify(&url, connect_timeout, timeout, e)
        };
        let url = self.url();
        let _ = std::thread::Builder::new()
            .name("llm-request".into())
            .spawn(move || {
                let mut response = match request.send() {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Piece::Failed(classify_send(e)));
                        return;
                    }
                };
                if tx.send(Piece::Head(response.status())).is_err() {
                    return;
                }
                let mut buf = vec![0u8; 16 * 1024];
                let mut total = 0u64;
                loop {
                    match response.read(&mut buf) {
                        Ok(0) => {
                            let _ = tx.send(Piece::End);
                            return;
                        }
                        Ok(n) => {
                            total += n as u64;
                            if total > MAX_BODY {
                                let _ = tx.send(Piece::Failed(LlmError::BadBody {
                                    url,
                                    reason: format!("the answer is longer than {MAX_BODY} bytes"),
                                }));
                                return;
                            }
                            if tx.send(Piece::Bytes(buf[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                        Err(io) if io.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(io) => {
                            let _ = tx.send(Piece::Failed(LlmError::BadBody {
                                url,
                                reason: format!("reading the answer failed: {io}"),
                            }));
                            return;
                        }
                    }
                }
            });
        let mut status = None;
        let mut bytes = Vec::new();
        let mut started = false;
        loop {
            let now = std::time::Instant::now();
            let total_left = deadline.saturating_duration_since(now);
            let wait = if started {
                total_left.min(self.config.stall_timeout)
            } else {
                total_left
            };
            match rx.recv_timeout(wait) {
                Ok(Piece::Head(s)) => status = Some(s),
                Ok(Piece::Bytes(b)) => {
                    started = true;
                    bytes.extend_from_slice(&b);
                }
                Ok(Piece::End) => break,
                Ok(Piece::Failed(e)) => return Err(e),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    return Err(if started && wait < total_left {
                        LlmError::Timeout {
                            url: self.url(),
                            phase: "send more of the answer",
                            seconds: self.config.stall_timeout.as_secs(),
                        }
                    } else {
                        self.timeout("answer", self.config.timeout)
                    });
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(self.bad_body("the request ended without an answer"));
                }
            }
        }
        let status = status.ok_or_else(|| self.bad_body("no answer"))?;
        Ok((status, bytes))
    }

    /// [`Client::chat`] with a JSON schema, the answer read into `T`: JSON is taken from
    /// the answer with [`crate::extract_json`] (tolerating prose, fences and reasoning around
    /// it), so servers that ignore the schema still work when the model complies.
    ///
    /// # Errors
    /// As [`Client::chat`]; [`LlmError::BadBody`] when no JSON object matching `T` is found.
    pub fn chat_json<T: serde::de::DeserializeOwned>(
        &self,
        messages: &[Message],
        schema: &Value,
    ) -> Result<T, LlmError> {
        let answer = self.chat(messages, Some(schema))?;
        let value = crate::extract_json(&answer.content)
            .ok_or_else(|| self.bad_body("the answer has no JSON object"))?;
        serde_json::from_value(value)
            .map_err(|e| self.bad_body(format!("the JSON answer does not match the schema: {e}")))
    }

    fn request_body(&self, messages: &[Message], schema: Option<&Value>) -> Value {
        let c = &self.config;
        match c.provider {
            Provider::Ollama => {
                let mut body = json!({
                    "model": c.model,
                    "messages": messages,
                    "stream": c.stream,
                    "options": {
                        "num_ctx": c.num_ctx,
                        "num_predict": c.max_tokens,
                        "temperature": c.temperature,
                    },
                });
                if let Some(think) = c.think {
                    body["think"] = json!(think);
                }
                if let Some(keep_alive) = &c.keep_alive {
                    body["keep_alive"] = json!(keep_alive);
                }
                if let Some(schema) = schema {
                    body["format"] = schema.clone();
                }
                body
            }
            Provider::OpenAi => {
                let mut body = json!({
                    "model": c.model,
                    "messages": messages,
                    "stream": c.stream,
                    "max_tokens": c.max_tokens,
                    "temperature": c.temperature,
                });
                if let Some(schema) = schema {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": { "name": "answer", "strict": true, "schema": schema },
                    });
                }
                body
            }
        }
    }

    fn url(&self) -> String {
        self.chat_url.to_string()
    }

    fn timeout(&self, phase: &'static str, limit: Duration) -> LlmError {
        LlmError::Timeout {
            url: self.url(),
            phase,
            seconds: limit.as_secs(),
        }
    }

    fn status_error(&self, status: u16, body: &[u8]) -> LlmError {
        let detail = detail_from_body(body);
        let url = self.url();
        match status {
            404 => LlmError::ModelMissing {
                model: self.config.model.clone(),
                url,
                detail,
            },
            500..=599 => LlmError::Server {
                status,
                url,
                detail,
            },
            300..=399 => LlmError::Rejected {
                status,
                url,
                detail:
                    ": a redirect; not followed (the prompt goes only to the configured endpoint)"
                        .to_owned(),
            },
            _ => LlmError::Rejected {
                status,
                url,
                detail,
            },
        }
    }

    /// A reason may quote the answer (a parser's "unknown variant ..."): escaped for the
    /// terminal like the server's error text.
    fn bad_body(&self, reason: impl Into<String>) -> LlmError {
        LlmError::BadBody {
            url: self.url(),
            reason: honeybot_terminal::for_terminal(&reason.into()),
        }
    }

    fn parse_ollama(&self, bytes: &[u8]) -> Result<Answer, LlmError> {
        // A streamed answer is one JSON object per line; the pieces of content add up and
        // the last line has the counts. A single object is the non-streamed shape.
        let lines: Vec<&[u8]> = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .collect();
        if lines.len() > 1 {
            let mut answer: Option<Answer> = None;
            for line in lines {
                let part = self.parse_ollama_one(line)?;
                match answer.as_mut() {
                    None => answer = Some(part),
                    Some(a) => {
                        a.content.push_str(&part.content);
                        if let Some(t) = part.thinking {
                            a.thinking.get_or_insert_with(String::new).push_str(&t);
                        }
                        a.finish_reason = part.finish_reason.or(a.finish_reason.take());
                        a.prompt_tokens = part.prompt_tokens.or(a.prompt_tokens);
                        a.completion_tokens = part.completion_tokens.or(a.completion_tokens);
                    }
                }
            }
            return answer.ok_or_else(|| self.bad_body("no \"message\" in the answer"));
        }
        self.parse_ollama_one(bytes)
    }

    fn parse_ollama_one(&self, bytes: &[u8]) -> Result<Answer, LlmError> {
        #[derive(Deserialize)]
        struct Reply {
            message: Option<ReplyMessage>,
            error: Option<Value>,
            done_reason: Option<String>,
            prompt_eval_count: Option<u64>,
            eval_count: Option<u64>,
        }
        #[derive(Deserialize)]
        struct ReplyMessage {
            #[serde(default)]
            content: String,
            thinking: Option<String>,
        }
        let reply: Reply = serde_json::from_slice(bytes)
            .map_err(|e| self.bad_body(format!("not an Ollama chat answer: {e}")))?;
        if reply.error.is_some() {
            return Err(self.bad_body(format!("error in a 2xx answer{}", detail_from_body(bytes))));
        }
        let message = reply
            .message
            .ok_or_else(|| self.bad_body("no \"message\" in the answer"))?;
        Ok(Answer {
            content: message.content,
            thinking: message.thinking.filter(|t| !t.is_empty()),
            finish_reason: reply.done_reason,
            prompt_tokens: reply.prompt_eval_count,
            completion_tokens: reply.eval_count,
        })
    }

    fn parse_openai(&self, bytes: &[u8]) -> Result<Answer, LlmError> {
        // A streamed answer is server-sent events: `data: {chunk}` lines, then `data: [DONE]`.
        let text = String::from_utf8_lossy(bytes);
        let events: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .filter(|d| !d.is_empty() && *d != "[DONE]")
            .collect();
        if events.is_empty() {
            return self.parse_openai_one(bytes);
        }
        let mut answer = Answer {
            content: String::new(),
            thinking: None,
            finish_reason: None,
            prompt_tokens: None,
            completion_tokens: None,
        };
        for data in events {
            let v: Value = serde_json::from_str(data)
                .map_err(|e| self.bad_body(format!("not a chat completion chunk: {e}")))?;
            if v.get("error").is_some() {
                return Err(self.bad_body(format!(
                    "error in a 2xx answer{}",
                    detail_from_body(data.as_bytes())
                )));
            }
            if let Some(choice) = v.get("choices").and_then(|c| c.get(0)) {
                let delta = choice.get("delta").or_else(|| choice.get("message"));
                if let Some(c) = delta.and_then(|d| d.get("content")).and_then(Value::as_str) {
                    answer.content.push_str(c);
                }
                if let Some(t) = delta
                    .and_then(|d| d.get("reasoning_content"))
                    .and_then(Value::as_str)
                {
                    answer.thinking.get_or_insert_with(String::new).push_str(t);
                }
                if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
                    answer.finish_reason = Some(f.to_owned());
                }
            }
            if let Some(u) = v.get("usage") {
                answer.prompt_tokens = u.get("prompt_tokens").and_then(Value::as_u64);
                answer.completion_tokens = u.get("completion_tokens").and_then(Value::as_u64);
            }
        }
        answer.thinking = answer.thinking.filter(|t| !t.is_empty());
        Ok(answer)
    }

    fn parse_openai_one(&self, bytes: &[u8]) -> Result<Answer, LlmError> {
        #[derive(Deserialize)]
        struct Reply {
            #[serde(default)]
            choices: Vec<Choice>,
            usage: Option<Usage>,
            error: Option<Value>,
        }
        #[derive(Deserialize)]
        struct Choice {
            message: Option<ChoiceMessage>,
            finish_reason: Option<String>,
        }
        #[derive(Deserialize)]
        struct ChoiceMessage {
            content: Option<String>,
            reasoning_content: Option<String>,
        }
        #[derive(Deserialize)]
        struct Usage {
            prompt_tokens: Option<u64>,
            completion_tokens: Option<u64>,
        }
        let reply: Reply = serde_json::from_slice(bytes)
            .map_err(|e| self.bad_body(format!("not a chat completion: {e}")))?;
        if reply.error.is_some() {
            return Err(self.bad_body(format!("error in a 2xx answer{}", detail_from_body(bytes))));
        }
        let choice = reply
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| self.bad_body("no \"choices\" in the answer"))?;
        let message = choice
            .message
            .ok_or_else(|| self.bad_body("no \"message\" in the choice"))?;
        Ok(Answer {
            content: message.content.unwrap_or_default(),
            thinking: message.reasoning_content.filter(|t| !t.is_empty()),
            finish_reason: choice.finish_reason,
            prompt_tokens: reply.usage.as_ref().and_then(|u| u.prompt_tokens),
            completion_tokens: reply.usage.as_ref().and_then(|u| u.completion_tokens),
        })
    }
}

/// Transport errors, by kind: never by their text.
fn classify(
    url: &str,
    connect_timeout: Duration,
    timeout: Duration,
    err: reqwest::Error,
) -> LlmError {
    let url = url.to_owned();
    if err.is_timeout() {
        let (phase, limit) = if err.is_connect() {
            ("connect", connect_timeout)
        } else {
            ("answer", timeout)
        };
        return LlmError::Timeout {
            url,
            phase,
            seconds: limit.as_secs(),
        };
    }
    if is_refused(&err) {
        return LlmError::Refused { url };
    }
    if err.is_connect() {
        return LlmError::Connect { url, source: err };
    }
    LlmError::Transport { url, source: err }
}

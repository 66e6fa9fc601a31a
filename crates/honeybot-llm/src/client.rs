//! The chat request itself, in both wire protocols.

use std::io::Read;
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
    /// Limit for the whole request, answer included. Local models loading from disk on a
    /// CPU need minutes, so defaults are generous.
    pub timeout: Duration,
    api_key: Option<Secret>,
}

impl ClientConfig {
    /// Defaults: `num_ctx` 8192, 512 answer tokens, temperature 0.2, keep-alive 10 minutes,
    /// `think: false`, connect timeout 5 s, total timeout 180 s, no API key.
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
        let response = request.send().map_err(|e| self.classify(e))?;
        let status = response.status();
        let bytes = self.read_body(response)?;
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
                    "stream": false,
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
                    "stream": false,
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

    fn read_body(&self, response: reqwest::blocking::Response) -> Result<Vec<u8>, LlmError> {
        let mut bytes = Vec::new();
        match response.take(MAX_BODY).read_to_end(&mut bytes) {
            Ok(_) => Ok(bytes),
            Err(io) => {
                let timed_out = io.kind() == std::io::ErrorKind::TimedOut
                    || io
                        .get_ref()
                        .and_then(|e| e.downcast_ref::<reqwest::Error>())
                        .is_some_and(reqwest::Error::is_timeout);
                if timed_out {
                    Err(self.timeout("answer", self.config.timeout))
                } else {
                    Err(LlmError::BadBody {
                        url: self.url(),
                        reason: format!("reading the answer failed: {io}"),
                    })
                }
            }
        }
    }

    fn timeout(&self, phase: &'static str, limit: Duration) -> LlmError {
        LlmError::Timeout {
            url: self.url(),
            phase,
            seconds: limit.as_secs(),
        }
    }

    /// Transport errors, by kind: never by their text.
    fn classify(&self, err: reqwest::Error) -> LlmError {
        if err.is_timeout() {
            return if err.is_connect() {
                self.timeout("connect", self.config.connect_timeout)
            } else {
                self.timeout("answer", self.config.timeout)
            };
        }
        if is_refused(&err) {
            return LlmError::Refused { url: self.url() };
        }
        if err.is_connect() {
            return LlmError::Connect {
                url: self.url(),
                source: err,
            };
        }
        LlmError::Transport {
            url: self.url(),
            source: err,
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
            _ => LlmError::Rejected {
                status,
                url,
                detail,
            },
        }
    }

    fn bad_body(&self, reason: impl Into<String>) -> LlmError {
        LlmError::BadBody {
            url: self.url(),
            reason: reason.into(),
        }
    }

    fn parse_ollama(&self, bytes: &[u8]) -> Result<Answer, LlmError> {
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

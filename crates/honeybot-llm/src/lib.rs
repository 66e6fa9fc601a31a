//! A small client for local language models, shared by `ai-commit` and the 404 janitor.
//!
//! Two wire protocols, chosen in configuration ([`Provider`]):
//! - Ollama's native `POST /api/chat` (non-streaming, `think: false`, a fixed `num_ctx` so the
//!   model is not reloaded between calls, `keep_alive`, JSON-schema answers through `format`);
//! - the OpenAI-compatible `POST /v1/chat/completions` spoken by llama.cpp's server, Ollama's
//!   `/v1`, vLLM and others (JSON-schema answers through `response_format`).
//!
//! Failures are typed by what happened on the wire ([`ErrorKind`]: refused, timeout, model
//! missing = 404, server error = 5xx, bad body, ...), never by matching error text, which
//! differs between server versions. The client is blocking: its users are one-shot processes
//! that make one request at a time.

mod client;
mod endpoint;
mod error;
mod json;
#[cfg(feature = "test-server")]
pub mod testing;

pub use client::{Answer, Client, ClientConfig, Message, Provider, Role};
pub use endpoint::{Endpoint, OLLAMA_DEFAULT_HOST, parse_ollama_host};
pub use error::{ErrorKind, LlmError};
pub use json::{extract_json, strip_think};
pub use reqwest::Url;

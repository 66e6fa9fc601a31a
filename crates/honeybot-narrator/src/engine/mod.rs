//! TTS engines: a long-lived `piper` process (neural voice) and `espeak-ng` (light fallback).
//!
//! Engines are synchronous: the daemon owns them on one worker thread ([`VoiceWorker`]), so a
//! sentence already handed to piper is always read to its end and the process stays in step.

mod espeak;
mod piper;

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

pub use espeak::{Espeak, EspeakConfig};
pub use piper::{FENCE, Piper, PiperConfig};

use crate::audio::{Audio, WavError};

/// Which engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    Piper,
    EspeakNg,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Piper => "piper",
            EngineKind::EspeakNg => "espeak-ng",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that goes wrong with an engine. Each names the command or file involved.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no piper voice model configured (set piper.model)")]
    NoModel,
    #[error("voice model {path} does not exist")]
    ModelMissing { path: PathBuf },
    #[error("reading voice model config {path}")]
    ModelConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("voice model config {path}: {message}")]
    ModelConfigInvalid { path: PathBuf, message: String },
    #[error("starting {command}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("talking to {command}")]
    Pipe {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} exited ({status}){}", tail_suffix(.stderr))]
    Exited {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("{command} gave no answer within {} s", .after.as_secs())]
    Timeout { command: String, after: Duration },
    #[error("{command} produced no audio{}", tail_suffix(.stderr))]
    NoAudio { command: String, stderr: String },
    #[error("{command} produced unreadable audio")]
    BadAudio {
        command: String,
        #[source]
        source: WavError,
    },
    #[error("{kind} is failing; next retry in {} s", .retry_in.as_secs().max(1))]
    BackingOff {
        kind: EngineKind,
        retry_in: Duration,
    },
}

fn tail_suffix(stderr: &str) -> String {
    let t = stderr.trim();
    if t.is_empty() {
        String::new()
    } else {
        format!(": {}", crate::protocol::printable(t))
    }
}

/// A started engine.
#[derive(Debug)]
pub enum Engine {
    Piper(Piper),
    Espeak(Espeak),
}

impl Engine {
    /// Starts `kind` and checks it can really speak (piper: the model is loaded; espeak-ng:
    /// a test word gives audio).
    pub fn start(
        kind: EngineKind,
        piper: &PiperConfig,
        espeak: &EspeakConfig,
    ) -> Result<Engine, EngineError> {
        Ok(match kind {
            EngineKind::Piper => Engine::Piper(Piper::start(piper)?),
            EngineKind::EspeakNg => Engine::Espeak(Espeak::start(espeak)?),
        })
    }

    pub fn kind(&self) -> EngineKind {
        match self {
            Engine::Piper(_) => EngineKind::Piper,
            Engine::Espeak(_) => EngineKind::EspeakNg,
        }
    }

    /// One sentence to audio.
    pub fn synthesize(&mut self, text: &str) -> Result<Audio, EngineError> {
        match self {
            Engine::Piper(p) => p.synthesize(text),
            Engine::Espeak(e) => e.synthesize(text),
        }
    }

    /// False once the engine failed in a way that needs a restart.
    pub fn is_alive(&self) -> bool {
        match self {
            Engine::Piper(p) => p.is_alive(),
            Engine::Espeak(_) => true,
        }
    }
}

/// Engine settings shared by the daemon and `speak`.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    pub piper: PiperConfig,
    pub espeak: EspeakConfig,
}

/// One engine kind, restarted with exponential backoff after failures.
#[derive(Debug)]
struct Slot {
    kind: EngineKind,
    engine: Option<Engine>,
    failures: u32,
    retry_at: Option<Instant>,
}

const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

impl Slot {
    fn new(kind: EngineKind) -> Self {
        Self {
            kind,
            engine: None,
            failures: 0,
            retry_at: None,
        }
    }

    fn failed(&mut self) {
        self.engine = None;
        self.failures = self.failures.saturating_add(1);
        let backoff = BACKOFF_FIRST
            .saturating_mul(1 << self.failures.min(7).saturating_sub(1))
            .min(BACKOFF_MAX);
        self.retry_at = Some(Instant::now() + backoff);
    }

    fn engine(&mut self, settings: &EngineSettings) -> Result<&mut Engine, EngineError> {
        if self.engine.as_ref().is_some_and(|e| !e.is_alive()) {
            self.failed();
        }
        if self.engine.is_none() {
            if let Some(at) = self.retry_at {
                let now = Instant::now();
                if at > now {
                    return Err(EngineError::BackingOff {
                        kind: self.kind,
                        retry_in: at - now,
                    });
                }
            }
            match Engine::start(self.kind, &settings.piper, &settings.espeak) {
                Ok(e) => {
                    log::info!(engine:% = self.kind; "{} engine started", self.kind);
                    self.engine = Some(e);
                }
                Err(e) => {
                    self.failed();
                    return Err(e);
                }
            }
        }
        self.engine.as_mut().ok_or(EngineError::BackingOff {
            kind: self.kind,
            retry_in: Duration::ZERO,
        })
    }

    fn synthesize(&mut self, settings: &EngineSettings, text: &str) -> Result<Audio, EngineError> {
        let result = self.engine(settings)?.synthesize(text);
        match &result {
            Ok(_) => {
                self.failures = 0;
                self.retry_at = None;
            }
            Err(_) => self.failed(),
        }
        result
    }
}

/// The configured engine plus an optional fallback, each restarted with backoff.
#[derive(Debug)]
pub struct Voice {
    settings: EngineSettings,
    primary: Slot,
    fallback: Option<Slot>,
}

impl Voice {
    pub fn new(
        settings: EngineSettings,
        primary: EngineKind,
        fallback: Option<EngineKind>,
    ) -> Self {
        Self {
            settings,
            primary: Slot::new(primary),
            fallback: fallback.filter(|f| *f != primary).map(Slot::new),
        }
    }

    /// Starts the engines now (instead of on the first sentence). Returns a status line and
    /// the errors met; `Ok` when at least one engine can speak.
    pub fn warm_up(&mut self) -> (bool, String, Vec<EngineError>) {
        let mut errors = Vec::new();
        let primary_ok = match self.primary.engine(&self.settings) {
            Ok(_) => true,
            Err(e) => {
                errors.push(e);
                false
            }
        };
        let fallback_ok = match &mut self.fallback {
            Some(slot) => match slot.engine(&self.settings) {
                Ok(_) => true,
                Err(e) => {
                    errors.push(e);
                    false
                }
            },
            None => false,
        };
        let status = match (primary_ok, fallback_ok, &self.fallback) {
            (true, _, _) => format!("voice {} loaded", self.primary.kind),
            (false, true, Some(f)) => {
                format!("{} failed, speaking with {}", self.primary.kind, f.kind)
            }
            _ => format!("no engine could start ({} failed)", self.primary.kind),
        };
        (primary_ok || fallback_ok, status, errors)
    }

    /// One sentence, by the primary engine or else the fallback. Every failure met on the way
    /// is pushed to `errors` (the caller reports them), even when the fallback then succeeds.
    pub fn synthesize(
        &mut self,
        text: &str,
        errors: &mut Vec<EngineError>,
    ) -> Option<(Audio, EngineKind)> {
        match self.primary.synthesize(&self.settings, text) {
            Ok(a) => return Some((a, self.primary.kind)),
            Err(e) => errors.push(e),
        }
        let slot = self.fallback.as_mut()?;
        match slot.synthesize(&self.settings, text) {
            Ok(a) => Some((a, slot.kind)),
            Err(e) => {
                errors.push(e);
                None
            }
        }
    }

    pub fn primary(&self) -> EngineKind {
        self.primary.kind
    }
}

/// The answer for one sentence: its audio (unless every engine failed) and every engine error
/// met on the way, for the caller to report with its job id.
#[derive(Debug)]
pub struct Synthesis {
    pub audio: Option<(Audio, EngineKind)>,
    pub errors: Vec<EngineError>,
}

type Job = (String, oneshot::Sender<Synthesis>);

/// A [`Voice`] on its own thread, used from async code. Sentences are synthesised in the
/// order they are asked for; a caller that gives up drops its answer, the engine still
/// finishes the sentence (so piper's output stays in step).
#[derive(Debug, Clone)]
pub struct VoiceWorker {
    tx: std_mpsc::Sender<Job>,
}

impl VoiceWorker {
    /// Spawns the worker; `ready` gets the warm-up result (can speak, status line, errors)
    /// once the engines are started.
    pub fn spawn(
        mut voice: Voice,
        ready: oneshot::Sender<(bool, String, Vec<EngineError>)>,
    ) -> std::io::Result<VoiceWorker> {
        let (tx, rx) = std_mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("narrator-voice".into())
            .spawn(move || {
                let _ = ready.send(voice.warm_up());
                while let Ok((text, reply)) = rx.recv() {
                    if reply.is_closed() {
                        continue;
                    }
                    let mut errors = Vec::new();
                    let audio = voice.synthesize(&text, &mut errors);
                    let _ = reply.send(Synthesis { audio, errors });
                }
            })?;
        Ok(VoiceWorker { tx })
    }

    /// Audio for one sentence, with the engine errors met.
    pub async fn synthesize(&self, text: String) -> Synthesis {
        let (reply, answer) = oneshot::channel();
        let gone = || Synthesis {
            audio: None,
            errors: Vec::new(),
        };
        if self.tx.send((text, reply)).is_err() {
            return gone();
        }
        answer.await.unwrap_or_else(|_| gone())
    }
}

//! The daemon's TOML config. Unknown keys are rejected; every key has a default except the
//! piper model, so an empty file is valid (espeak-ng then has to do).
//!
//! ```toml
//! socket = "/run/user/1000/honeybot-narrator.sock"  # default: $XDG_RUNTIME_DIR/honeybot-narrator.sock
//! engine = "piper"              # piper | espeak-ng
//! fallback = "espeak-ng"        # piper | espeak-ng | "none"
//! sentence_gap_ms = 250         # silence between sentences
//! max_sentence_chars = 240      # longer sentences are cut at a clause
//!
//! [piper]
//! model = "/var/lib/voices/en_US-joe-medium.onnx"
//!
//! [espeak]
//! voice = "en-us"
//!
//! [sink]
//! kind = "player"               # player | wav
//! player = "paplay"             # paplay | pw-play | aplay | command
//! device = "honeybot"           # sink / ALSA device; default: the system default
//! buffer_ms = 250               # audio handed to the player ahead of time
//!
//! [limits]
//! max_text_bytes = 1048576      # largest text or file a `say` may hand over
//! max_queue = 32                # jobs waiting behind the one speaking
//!
//! [pronunciations]
//! AI = "A.I."
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::{EngineKind, EngineSettings, EspeakConfig, PiperConfig};
use crate::sentences::DEFAULT_MAX_CHARS;
use crate::sink::SinkConfig;

/// The one environment variable the narrator reads for its default socket.
pub const RUNTIME_DIR_ENV: &str = "XDG_RUNTIME_DIR";
pub const SOCKET_NAME: &str = "honeybot-narrator.sock";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file or not TOML / not this shape (unknown key, bad type): file, line, key.
    #[error(transparent)]
    Toml(#[from] honeybot_daemon::ConfigError),
    /// Parsed, but a value is out of range or contradicts another.
    #[error("{path}: key `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        message: String,
    },
    #[error("no socket path: set `socket` in the config or {RUNTIME_DIR_ENV}")]
    NoSocket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    Piper,
    EspeakNg,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub socket: Option<PathBuf>,
    #[serde(default = "default_engine")]
    pub engine: EngineKind,
    #[serde(default = "default_fallback")]
    pub fallback: Fallback,
    #[serde(default = "default_gap")]
    pub sentence_gap_ms: u64,
    #[serde(default = "default_max_chars")]
    pub max_sentence_chars: usize,
    #[serde(default)]
    pub piper: PiperConfig,
    #[serde(default)]
    pub espeak: EspeakConfig,
    #[serde(default)]
    pub sink: SinkConfig,
    #[serde(default)]
    pub limits: Limits,
    /// Additions to and overrides of the built-in pronunciation table.
    #[serde(default)]
    pub pronunciations: BTreeMap<String, String>,
}

/// `[limits]`: what one client may ask of the daemon, so no request can make it large.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest text (`say` text) or file (`say --file`, `speak`) accepted, in bytes.
    #[serde(default = "default_max_text_bytes")]
    pub max_text_bytes: u64,
    /// Most jobs waiting in the queue; a `say` beyond it is refused.
    #[serde(default = "default_max_queue")]
    pub max_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_bytes: default_max_text_bytes(),
            max_queue: default_max_queue(),
        }
    }
}

fn default_max_text_bytes() -> u64 {
    1024 * 1024
}
fn default_max_queue() -> usize {
    32
}

fn default_engine() -> EngineKind {
    EngineKind::Piper
}
fn default_fallback() -> Fallback {
    Fallback::EspeakNg
}
fn default_gap() -> u64 {
    250
}
fn default_max_chars() -> usize {
    DEFAULT_MAX_CHARS
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = honeybot_daemon::load_toml(path)?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    /// `text` is the content of `path` (which only names it in errors).
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = honeybot_daemon::parse_toml(path, text)?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| {
            Err(ConfigError::Invalid {
                path: path.to_owned(),
                key,
                message: message.into(),
            })
        };
        if self.max_sentence_chars < 20 {
            return invalid("max_sentence_chars", "must be at least 20");
        }
        if self.sentence_gap_ms > 10_000 {
            return invalid("sentence_gap_ms", "must be at most 10000");
        }
        if self.engine == EngineKind::Piper
            && self.piper.model.is_none()
            && self.fallback == Fallback::None
        {
            return invalid(
                "piper.model",
                "engine is piper, so a voice model is needed (or set a fallback)",
            );
        }
        if self.limits.max_text_bytes == 0 || self.limits.max_text_bytes > 64 * 1024 * 1024 {
            return invalid("limits.max_text_bytes", "must be between 1 and 67108864");
        }
        if self.limits.max_queue == 0 || self.limits.max_queue > 10_000 {
            return invalid("limits.max_queue", "must be between 1 and 10000");
        }
        if let Some(l) = self.piper.length_scale {
            if !(0.1..=10.0).contains(&l) {
                return invalid("piper.length_scale", "must be between 0.1 and 10");
            }
        }
        self.sink
            .validate()
            .map_err(|(key, message)| ConfigError::Invalid {
                path: path.to_owned(),
                key,
                message,
            })
    }

    /// The socket path: `socket`, else `$XDG_RUNTIME_DIR/honeybot-narrator.sock`.
    pub fn socket_path(&self) -> Result<PathBuf, ConfigError> {
        default_socket(self.socket.as_deref())
    }

    pub fn fallback_engine(&self) -> Option<EngineKind> {
        match self.fallback {
            Fallback::Piper => Some(EngineKind::Piper),
            Fallback::EspeakNg => Some(EngineKind::EspeakNg),
            Fallback::None => None,
        }
    }

    pub fn engine_settings(&self) -> EngineSettings {
        EngineSettings {
            piper: self.piper.clone(),
            espeak: self.espeak.clone(),
        }
    }

    pub fn text_options(&self) -> crate::markdown::TextOptions {
        crate::markdown::TextOptions {
            max_chars: self.max_sentence_chars,
            pronunciations: crate::pronounce::Pronunciations::new(&self.pronunciations),
        }
    }
}

/// `explicit`, else the default socket in the runtime directory.
pub fn default_socket(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(p) = explicit {
        return Ok(p.to_owned());
    }
    match std::env::var_os(RUNTIME_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Ok(Path::new(&dir).join(SOCKET_NAME)),
        _ => Err(ConfigError::NoSocket),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = Config::from_toml_str("engine = \"piper\"\nvolume = 3\n", Path::new("n.toml"))
            .expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.starts_with("n.toml:2:1: key `volume`"), "{msg}");
        let err = Config::from_toml_str(
            "[sink]\nplayer = \"paplay\"\nrate = 1\n",
            Path::new("n.toml"),
        )
        .expect_err("unknown");
        assert!(
            err.to_string().starts_with("n.toml:3:1: key `sink.rate`"),
            "{err}"
        );
    }

    #[test]
    fn validation_names_the_key() {
        let err = Config::from_toml_str("max_sentence_chars = 3", Path::new("n.toml"))
            .expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "n.toml: key `max_sentence_chars`: must be at least 20"
        );
        let err = Config::from_toml_str("fallback = \"none\"", Path::new("n.toml"))
            .expect_err("no model");
        assert!(err.to_string().contains("piper.model"), "{err}");
        let ok = Config::from_toml_str(
            "[pronunciations]\nHoneybot = \"Honey bot\"\n",
            Path::new("n.toml"),
        )
        .expect("ok");
        assert_eq!(
            ok.text_options().pronunciations.apply("Honeybot"),
            "Honey bot"
        );
    }
}

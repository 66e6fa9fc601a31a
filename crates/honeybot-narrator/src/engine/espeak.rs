//! `espeak-ng`, the light fallback: one short-lived process per sentence, WAV on stdout.
//!
//! espeak-ng exits 0 even when it produced nothing useful (a missing voice, an audio device it
//! could not open), so success is judged by the audio it wrote, never by its exit status alone.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::EngineError;
use crate::audio::Audio;

/// `[espeak]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EspeakConfig {
    /// The espeak-ng executable (default `espeak-ng`).
    #[serde(default = "default_command")]
    pub command: PathBuf,
    /// Voice name (`espeak-ng --voices`), default `en-us`.
    #[serde(default = "default_voice")]
    pub voice: String,
    /// Words per minute (espeak-ng's default is 175).
    pub speed: Option<u32>,
}

fn default_command() -> PathBuf {
    PathBuf::from("espeak-ng")
}
fn default_voice() -> String {
    "en-us".to_owned()
}

impl Default for EspeakConfig {
    fn default() -> Self {
        Self {
            command: default_command(),
            voice: default_voice(),
            speed: None,
        }
    }
}

/// espeak-ng, checked to work.
#[derive(Debug)]
pub struct Espeak {
    cfg: EspeakConfig,
    command: String,
}

impl Espeak {
    /// Checks that espeak-ng speaks with the configured voice.
    pub fn start(cfg: &EspeakConfig) -> Result<Espeak, EngineError> {
        let e = Espeak {
            cfg: cfg.clone(),
            command: cfg.command.display().to_string(),
        };
        e.synthesize("ok")?;
        Ok(e)
    }

    pub fn synthesize(&self, text: &str) -> Result<Audio, EngineError> {
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut cmd = Command::new(&self.cfg.command);
        // -b 1: input is UTF-8; --stdin: text never reaches the argument list (no option
        // injection from a sentence starting with "-").
        cmd.args(["--stdout", "-b", "1", "-v"]).arg(&self.cfg.voice);
        if let Some(s) = self.cfg.speed {
            cmd.arg("-s").arg(s.to_string());
        }
        cmd.arg("--stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| EngineError::Spawn {
            command: self.command.clone(),
            source,
        })?;
        if let Some(mut stdin) = child.stdin.take() {
            let written = stdin
                .write_all(text.as_bytes())
                .and_then(|()| stdin.write_all(b"\n"));
            drop(stdin);
            if let Err(source) = written {
                let _ = child.kill();
                let _ = child.wait();
                return Err(EngineError::Pipe {
                    command: self.command.clone(),
                    source,
                });
            }
        }
        let out = child
            .wait_with_output()
            .map_err(|source| EngineError::Pipe {
                command: self.command.clone(),
                source,
            })?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(EngineError::Exited {
                command: self.command.clone(),
                status: out.status.to_string(),
                stderr,
            });
        }
        if out.stdout.is_empty() {
            return Err(EngineError::NoAudio {
                command: self.command.clone(),
                stderr,
            });
        }
        let audio = Audio::from_wav_bytes(&out.stdout).map_err(|source| EngineError::BadAudio {
            command: self.command.clone(),
            source,
        })?;
        if audio.samples.is_empty() && text.chars().any(char::is_alphanumeric) {
            return Err(EngineError::NoAudio {
                command: self.command.clone(),
                stderr,
            });
        }
        if !stderr.trim().is_empty() {
            log::warn!(
                engine = "espeak-ng";
                "{}",
                crate::protocol::printable(stderr.trim())
            );
        }
        Ok(audio)
    }
}

//! One long-lived `piper` process (piper-tts >= 1.8, `--output-raw`).
//!
//! piper reads one utterance per stdin line and writes its audio as raw 16-bit mono samples
//! to stdout, with no delimiter between utterances. To know where an utterance ends, every
//! text line is followed by a fence line, `[[ ]]`: an empty raw-phoneme block that piper
//! phonemizes to nothing (no audio) but, run with `--debug`, logs on stderr as
//! `DEBUG:piper.voice:text=[[ ]], phonemes=[]`. piper handles lines strictly in order and
//! flushes stdout after each sentence, so when that log line appears every sample of the
//! utterance is already in the stdout pipe, and (since the next line is only sent after the
//! fence) nothing more is written until then. Reading stdout until it would block then yields
//! exactly one utterance. User text never contains `[` or `]`, so it cannot fake a fence.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde::Deserialize;

use super::EngineError;
use crate::audio::Audio;

/// The line sent after each utterance; see the module documentation.
pub const FENCE: &str = "[[ ]]";
const FENCE_LOG_SUFFIX: &str = "text=[[ ]], phonemes=[]";

/// `[piper]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiperConfig {
    /// The piper executable (default `piper`, looked up in PATH).
    #[serde(default = "default_command")]
    pub command: PathBuf,
    /// The `.onnx` voice model.
    pub model: Option<PathBuf>,
    /// Its config; default: the model path with `.json` appended.
    pub model_config: Option<PathBuf>,
    /// Speaker id for multi-speaker models.
    pub speaker: Option<u32>,
    /// Speaking speed: > 1 slower, < 1 faster.
    pub length_scale: Option<f32>,
    /// How long loading the model may take, in seconds.
    #[serde(default = "default_load_timeout")]
    pub load_timeout_secs: u64,
    /// How long one sentence may take, in seconds.
    #[serde(default = "default_sentence_timeout")]
    pub sentence_timeout_secs: u64,
}

fn default_command() -> PathBuf {
    PathBuf::from("piper")
}
fn default_load_timeout() -> u64 {
    120
}
fn default_sentence_timeout() -> u64 {
    60
}

impl Default for PiperConfig {
    fn default() -> Self {
        Self {
            command: default_command(),
            model: None,
            model_config: None,
            speaker: None,
            length_scale: None,
            load_timeout_secs: default_load_timeout(),
            sentence_timeout_secs: default_sentence_timeout(),
        }
    }
}

/// A running piper process with its voice loaded.
#[derive(Debug)]
pub struct Piper {
    command: String,
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    stderr: ChildStderr,
    /// Incomplete stderr line.
    err_line: Vec<u8>,
    /// Last stderr lines that were not fences, for error messages.
    err_tail: VecDeque<String>,
    rate: u32,
    alive: bool,
    sentence_timeout: Duration,
}

/// The sample rate from a piper model config (`audio.sample_rate`).
pub fn model_sample_rate(path: &Path) -> Result<u32, EngineError> {
    #[derive(Deserialize)]
    struct ModelConfig {
        audio: AudioConfig,
    }
    #[derive(Deserialize)]
    struct AudioConfig {
        sample_rate: u32,
    }
    let text = std::fs::read_to_string(path).map_err(|source| EngineError::ModelConfig {
        path: path.to_owned(),
        source,
    })?;
    let cfg: ModelConfig =
        serde_json::from_str(&text).map_err(|e| EngineError::ModelConfigInvalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    if !(4000..=192_000).contains(&cfg.audio.sample_rate) {
        return Err(EngineError::ModelConfigInvalid {
            path: path.to_owned(),
            message: format!(
                "audio.sample_rate {} is not a voice sample rate",
                cfg.audio.sample_rate
            ),
        });
    }
    Ok(cfg.audio.sample_rate)
}

fn set_nonblocking(fd: impl AsFd) -> nix::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFL)?);
    fcntl(&fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Text as one piper input line: no line breaks, no control characters, no brackets (which
/// piper reads as raw phonemes and which would let text fake a fence).
pub fn sanitize(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_control() || c == '[' || c == ']' {
                ' '
            } else {
                c
            }
        })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Piper {
    /// Starts piper and waits until the model is loaded.
    pub fn start(cfg: &PiperConfig) -> Result<Piper, EngineError> {
        let model = cfg.model.as_ref().ok_or(EngineError::NoModel)?;
        if !model.is_file() {
            return Err(EngineError::ModelMissing {
                path: model.clone(),
            });
        }
        let model_config = cfg.model_config.clone().unwrap_or_else(|| {
            let mut p = model.clone().into_os_string();
            p.push(".json");
            PathBuf::from(p)
        });
        let rate = model_sample_rate(&model_config)?;
        let command = cfg.command.display().to_string();
        let mut cmd = Command::new(&cfg.command);
        cmd.arg("--model")
            .arg(model)
            .arg("--config")
            .arg(&model_config);
        cmd.args(["--output-raw", "--debug"]);
        if let Some(s) = cfg.speaker {
            cmd.arg("--speaker").arg(s.to_string());
        }
        if let Some(l) = cfg.length_scale {
            cmd.arg("--length-scale").arg(l.to_string());
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| EngineError::Spawn {
            command: command.clone(),
            source,
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(EngineError::Spawn {
                command,
                source: std::io::Error::other("no pipes"),
            });
        };
        let pipe_err = |source: nix::Error| EngineError::Pipe {
            command: command.clone(),
            source: source.into(),
        };
        set_nonblocking(&stdout).map_err(pipe_err)?;
        set_nonblocking(&stderr).map_err(pipe_err)?;
        let mut piper = Piper {
            command,
            child,
            stdin,
            stdout,
            stderr,
            err_line: Vec::new(),
            err_tail: VecDeque::new(),
            rate,
            alive: true,
            sentence_timeout: Duration::from_secs(cfg.sentence_timeout_secs.max(1)),
        };
        // A fence alone: answered once the model is loaded and piper reads its input.
        piper.exchange("", Duration::from_secs(cfg.load_timeout_secs.max(1)))?;
        Ok(piper)
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// One utterance to audio.
    pub fn synthesize(&mut self, text: &str) -> Result<Audio, EngineError> {
        let line = sanitize(text);
        if line.is_empty() {
            return Ok(Audio {
                rate: self.rate,
                samples: Vec::new(),
            });
        }
        let bytes = self.exchange(&line, self.sentence_timeout)?;
        Ok(Audio::from_le_bytes(self.rate, &bytes))
    }

    /// Sends `line` (may be empty) and a fence, returns the raw audio written before the fence.
    fn exchange(&mut self, line: &str, timeout: Duration) -> Result<Vec<u8>, EngineError> {
        if !self.alive {
            return Err(self.died());
        }
        let result = self.exchange_inner(line, timeout);
        if result.is_err() {
            self.alive = false;
            let _ = self.child.kill();
        }
        result
    }

    fn exchange_inner(&mut self, line: &str, timeout: Duration) -> Result<Vec<u8>, EngineError> {
        let deadline = Instant::now() + timeout;
        let mut input = String::with_capacity(line.len() + FENCE.len() + 2);
        if !line.is_empty() {
            input.push_str(line);
            input.push('\n');
        }
        input.push_str(FENCE);
        input.push('\n');
        if let Err(e) = self
            .stdin
            .write_all(input.as_bytes())
            .and_then(|()| self.stdin.flush())
        {
            return Err(if e.kind() == ErrorKind::BrokenPipe {
                self.died()
            } else {
                self.pipe_err(e)
            });
        }
        let mut audio = Vec::new();
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(EngineError::Timeout {
                    command: self.command.clone(),
                    after: timeout,
                });
            }
            let wait_ms = (deadline - now).as_millis().min(1000) as u16;
            let (out_ready, err_ready) = {
                let mut fds = [
                    PollFd::new(self.stdout.as_fd(), PollFlags::POLLIN),
                    PollFd::new(self.stderr.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::from(wait_ms)) {
                    Ok(_) => {}
                    Err(nix::Error::EINTR) => continue,
                    Err(e) => return Err(self.pipe_err(e.into())),
                }
                let ready = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
                (ready(&fds[0]), ready(&fds[1]))
            };
            if out_ready && self.drain_stdout(&mut audio)? {
                return Err(self.died());
            }
            if err_ready {
                let (fence, eof) = self.read_stderr()?;
                if fence {
                    // Everything before the fence is in the pipe now; nothing follows it.
                    if self.drain_stdout(&mut audio)? {
                        return Err(self.died());
                    }
                    return Ok(audio);
                }
                if eof {
                    return Err(self.died());
                }
            }
        }
    }

    /// Reads all stdout available now into `audio`; true at end of file.
    fn drain_stdout(&mut self, audio: &mut Vec<u8>) -> Result<bool, EngineError> {
        let mut buf = [0u8; 64 * 1024];
        loop {
            match self.stdout.read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => audio.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.pipe_err(e)),
            }
        }
    }

    /// Reads available stderr; returns (fence seen, end of file).
    fn read_stderr(&mut self) -> Result<(bool, bool), EngineError> {
        let mut buf = [0u8; 8192];
        let mut fence = false;
        let mut eof = false;
        loop {
            match self.stderr.read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => self.err_line.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.pipe_err(e)),
            }
        }
        while let Some(nl) = self.err_line.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.err_line.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
            if line.ends_with(FENCE_LOG_SUFFIX) {
                fence = true;
            } else if !line.starts_with("DEBUG:") {
                log::warn!(engine = "piper"; "{}", crate::protocol::printable(&line));
                self.remember(line);
            } else {
                log::trace!(engine = "piper"; "{}", crate::protocol::printable(&line));
            }
        }
        Ok((fence, eof))
    }

    fn remember(&mut self, line: String) {
        if self.err_tail.len() == 8 {
            self.err_tail.pop_front();
        }
        self.err_tail.push_back(line);
    }

    fn pipe_err(&self, source: std::io::Error) -> EngineError {
        EngineError::Pipe {
            command: self.command.clone(),
            source,
        }
    }

    /// The process is gone or unusable: reap it and describe how it ended.
    fn died(&mut self) -> EngineError {
        self.alive = false;
        let _ = self.read_stderr();
        if !self.err_line.is_empty() {
            let rest = String::from_utf8_lossy(&std::mem::take(&mut self.err_line)).into_owned();
            self.remember(rest);
        }
        let status = match self.child.try_wait() {
            Ok(Some(s)) => s.to_string(),
            _ => {
                let _ = self.child.kill();
                self.child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| format!("killed, {s}"))
            }
        };
        let stderr = self
            .err_tail
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(" | ");
        EngineError::Exited {
            command: self.command.clone(),
            status,
            stderr,
        }
    }
}

impl Drop for Piper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitized_text_cannot_fake_a_fence_or_a_second_line() {
        assert_eq!(sanitize("a [[ ]]\nb\r\u{1b}[31mc"), "a b 31mc");
        assert!(!sanitize("[[ ]]").contains(FENCE));
    }
}

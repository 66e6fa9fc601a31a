//! Where audio goes: a player command fed raw samples on stdin (paplay, pw-play, aplay or any
//! command), or WAV files.

use std::path::PathBuf;
use std::process::Stdio;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SinkKind {
    #[default]
    Player,
    Wav,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlayerKind {
    #[default]
    Paplay,
    PwPlay,
    Aplay,
    /// `command`, with `{rate}` replaced by the sample rate.
    Command,
}

/// `[sink]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    #[serde(default)]
    pub kind: SinkKind,
    #[serde(default)]
    pub player: PlayerKind,
    /// PulseAudio/PipeWire sink name or ALSA device; default: the system default.
    pub device: Option<String>,
    /// For `player = "command"`: program and arguments; it reads raw s16le mono at `{rate}`.
    pub command: Option<Vec<String>>,
    /// How much audio is handed to the player ahead of real time, in milliseconds. Smaller
    /// cuts faster on stop/interrupt; larger survives a busy machine.
    #[serde(default = "default_buffer_ms")]
    pub buffer_ms: u64,
    /// For `kind = "wav"`: the folder where each job is written as `<id>.wav`.
    pub dir: Option<PathBuf>,
}

fn default_buffer_ms() -> u64 {
    250
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            kind: SinkKind::default(),
            player: PlayerKind::default(),
            device: None,
            command: None,
            buffer_ms: default_buffer_ms(),
            dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("starting player {command}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("player {command} exited ({status}){}", stderr_suffix(.stderr))]
    Died {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("writing {path}")]
    Wav {
        path: PathBuf,
        #[source]
        source: crate::audio::WavError,
    },
}

fn stderr_suffix(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() {
        String::new()
    } else {
        format!(": {}", crate::protocol::printable(t))
    }
}

impl SinkConfig {
    /// Checks the keys that depend on each other; `Err((key, message))`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.kind == SinkKind::Wav && self.dir.is_none() {
            return Err(("sink.dir", "kind = \"wav\" needs a folder".into()));
        }
        if self.kind == SinkKind::Player
            && self.player == PlayerKind::Command
            && self
                .command
                .as_ref()
                .is_none_or(|c| c.first().is_none_or(String::is_empty))
        {
            return Err((
                "sink.command",
                "player = \"command\" needs a command".into(),
            ));
        }
        if self.buffer_ms > 5000 {
            return Err(("sink.buffer_ms", "must be at most 5000".into()));
        }
        Ok(())
    }

    /// A short name for status lines.
    pub fn name(&self) -> String {
        match (self.kind, self.player) {
            (SinkKind::Wav, _) => "wav".into(),
            (_, PlayerKind::Paplay) => "paplay".into(),
            (_, PlayerKind::PwPlay) => "pw-play".into(),
            (_, PlayerKind::Aplay) => "aplay".into(),
            (_, PlayerKind::Command) => self
                .command
                .as_ref()
                .and_then(|c| c.first())
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The player command line for raw s16le mono audio at `rate` Hz.
    pub fn player_argv(&self, rate: u32) -> Vec<String> {
        let r = rate.to_string();
        let dev = self.device.as_deref();
        let mut argv: Vec<String> = match self.player {
            PlayerKind::Paplay => {
                let mut a = vec![
                    "paplay".into(),
                    "--raw".into(),
                    format!("--rate={r}"),
                    "--channels=1".into(),
                    "--format=s16le".into(),
                    "--client-name=honeybot-narrator".into(),
                    "--stream-name=narration".into(),
                    "--latency-msec=50".into(),
                ];
                if let Some(d) = dev {
                    a.push(format!("--device={d}"));
                }
                a
            }
            PlayerKind::PwPlay => {
                let mut a = vec![
                    "pw-play".into(),
                    "--raw".into(),
                    format!("--rate={r}"),
                    "--channels=1".into(),
                    "--format=s16".into(),
                    "--latency=50ms".into(),
                ];
                if let Some(d) = dev {
                    a.push(format!("--target={d}"));
                }
                a.push("-".into());
                a
            }
            PlayerKind::Aplay => {
                let mut a = vec![
                    "aplay".into(),
                    "-q".into(),
                    "-t".into(),
                    "raw".into(),
                    "-f".into(),
                    "S16_LE".into(),
                ];
                a.extend(["-c".into(), "1".into(), "-r".into(), r.clone()]);
                if let Some(d) = dev {
                    a.extend(["-D".into(), d.to_owned()]);
                }
                a.push("-".into());
                a
            }
            PlayerKind::Command => self.command.clone().unwrap_or_default(),
        };
        for a in &mut argv {
            *a = a.replace("{rate}", &r);
        }
        argv
    }
}

/// A running player reading raw samples on stdin.
#[derive(Debug)]
pub struct Player {
    command: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Option<JoinHandle<String>>,
    pub rate: u32,
}

impl Player {
    pub fn spawn(cfg: &SinkConfig, rate: u32) -> Result<Player, SinkError> {
        let argv = cfg.player_argv(rate);
        let command = argv.join(" ");
        let Some((program, args)) = argv.split_first() else {
            return Err(SinkError::Spawn {
                command,
                source: std::io::Error::other("empty command"),
            });
        };
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| SinkError::Spawn {
                command: command.clone(),
                source,
            })?;
        let stdin = child.stdin.take();
        let stderr = child.stderr.take().map(|mut e| {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let _ = (&mut e).take(16 * 1024).read_to_end(&mut buf).await;
                String::from_utf8_lossy(&buf).into_owned()
            })
        });
        Ok(Player {
            command,
            child,
            stdin,
            stderr,
            rate,
        })
    }

    /// Writes raw little-endian samples. A player that has died is reported with its status.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        let ok = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(bytes).await.is_ok(),
            None => false,
        };
        if ok { Ok(()) } else { Err(self.died().await) }
    }

    /// Closes the input and waits until the player has played everything and exited.
    pub async fn finish(mut self) -> Result<(), SinkError> {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.shutdown().await;
        }
        match self.child.wait().await {
            Ok(s) if s.success() => Ok(()),
            _ => Err(self.died().await),
        }
    }

    /// Stops playback now.
    pub async fn kill(mut self) {
        self.stdin = None;
        let _ = self.child.kill().await;
    }

    async fn died(&mut self) -> SinkError {
        self.stdin = None;
        let status = match self.child.try_wait() {
            Ok(Some(s)) => s.to_string(),
            _ => match tokio::time::timeout(std::time::Duration::from_secs(2), self.child.wait())
                .await
            {
                Ok(Ok(s)) => s.to_string(),
                _ => {
                    let _ = self.child.kill().await;
                    "did not exit, killed".into()
                }
            },
        };
        let stderr = match self.stderr.take() {
            Some(h) => h.await.unwrap_or_default(),
            None => String::new(),
        };
        SinkError::Died {
            command: self.command.clone(),
            status,
            stderr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn player_command_lines() {
        let mut cfg = SinkConfig {
            device: Some("hb".into()),
            ..SinkConfig::default()
        };
        let argv = cfg.player_argv(22050);
        assert_eq!(argv[0], "paplay");
        assert!(
            argv.contains(&"--rate=22050".to_owned()) && argv.contains(&"--device=hb".to_owned())
        );
        cfg.player = PlayerKind::Aplay;
        assert_eq!(
            cfg.player_argv(16000)[..2],
            ["aplay".to_owned(), "-q".to_owned()]
        );
        cfg.player = PlayerKind::Command;
        cfg.command = Some(vec!["sox".into(), "-r".into(), "{rate}".into()]);
        assert_eq!(cfg.player_argv(24000), vec!["sox", "-r", "24000"]);
        cfg.command = None;
        assert!(cfg.validate().is_err());
    }
}

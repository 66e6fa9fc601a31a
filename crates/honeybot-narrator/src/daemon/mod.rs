//! The narrator daemon: a control socket, a queue of jobs, one job speaking at a time.
//!
//! Shape: [`serve`] takes a bound listener and a shutdown future (the caller owns both, so
//! tests run it in-process). Connections send [`Control`] messages to one speaker task that
//! owns the queue; each job runs in its own task: sentences are synthesised ahead on the voice
//! worker while the player plays the previous one, and audio is handed to the player in real
//! time with a small lead (`sink.buffer_ms`), so stop/skip/interrupt cut within that lead and
//! the `sentence` events match what is heard.

mod connection;

use connection::connection;

use std::collections::VecDeque;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::audio::{Audio, WavFile};
use crate::config::Config;
use crate::engine::{Voice, VoiceWorker};
use crate::markdown::Script;
use crate::protocol::{EndReason, Event, Priority, Reply, Status, now_ms};
use crate::sink::{Player, SinkConfig, SinkError, SinkKind};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("starting the voice worker thread")]
    Worker(#[source] std::io::Error),
    #[error("control socket {path} is in use by a running narrator")]
    InUse { path: PathBuf },
    #[error(
        "control socket {path} exists and is not a socket; refusing to replace it (choose another `socket` path)"
    )]
    NotASocket { path: PathBuf },
    #[error("sink.dir {path}: cannot create the folder for the WAV files")]
    SinkDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("control socket {path}")]
    Socket {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A first sentence longer than this is cut at its first clause, for a quicker first audio.
const FIRST_CHUNK_CHARS: usize = 40;

/// Binds the control socket (mode 0600), replacing a stale socket file nobody listens on.
pub fn bind(path: &std::path::Path) -> Result<UnixListener, DaemonError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |source| DaemonError::Socket {
        path: path.to_owned(),
        source,
    };
    // Only a socket that nothing answers on is stale; any other file at the path is the
    // operator's and is never removed.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if !meta.file_type().is_socket() {
            return Err(DaemonError::NotASocket {
                path: path.to_owned(),
            });
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(DaemonError::InUse {
                path: path.to_owned(),
            });
        }
        std::fs::remove_file(path).map_err(err)?;
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    Ok(listener)
}

/// Messages to the speaker task.
#[derive(Debug)]
enum Control {
    Say {
        script: Script,
        priority: Priority,
        reply: oneshot::Sender<Reply>,
    },
    Stop,
    Skip,
    Pause,
    Resume,
    Status(oneshot::Sender<Status>),
    Ended(u64),
}

/// What every job needs.
#[derive(Debug)]
struct Ctx {
    voice: VoiceWorker,
    sink: SinkConfig,
    gap: Duration,
    events: broadcast::Sender<Event>,
    sink_backoff: Mutex<Backoff>,
    /// What the voice worker said after starting the engines.
    voice_status: Mutex<String>,
}

impl Ctx {
    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn error(&self, id: Option<u64>, message: String) {
        match id {
            Some(id) => log::error!(job = id; "{message}"),
            None => log::error!("{message}"),
        }
        self.emit(Event::Error {
            id,
            at_ms: now_ms(),
            message,
        });
    }
}

/// Exponential backoff after sink failures.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
}

impl Backoff {
    fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
        let secs = 1u64 << self.failures.min(6).saturating_sub(1);
        self.retry_at = Some(Instant::now() + Duration::from_secs(secs));
    }
    fn succeeded(&mut self) {
        *self = Backoff::default();
    }
}

/// Runs the daemon on `listener` until `shutdown` completes. `ready` is called once the voice
/// is loaded (or has failed and the fallback speaks), with a status line for sd-notify.
pub async fn serve(
    config: Config,
    listener: UnixListener,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(&str),
) -> Result<(), DaemonError> {
    if let (SinkKind::Wav, Some(dir)) = (config.sink.kind, config.sink.dir.as_ref()) {
        std::fs::create_dir_all(dir).map_err(|source| DaemonError::SinkDir {
            path: dir.clone(),
            source,
        })?;
    }
    let (events, _) = broadcast::channel(1024);
    let voice = Voice::new(
        config.engine_settings(),
        config.engine,
        config.fallback_engine(),
    );
    let (ready_tx, ready_rx) = oneshot::channel();
    let worker = VoiceWorker::spawn(voice, ready_tx).map_err(DaemonError::Worker)?;
    let ctx = Arc::new(Ctx {
        voice: worker,
        sink: config.sink.clone(),
        gap: Duration::from_millis(config.sentence_gap_ms),
        events,
        sink_backoff: Mutex::new(Backoff::default()),
        voice_status: Mutex::new("loading the voice".into()),
    });
    let text_opts = Arc::new(config.text_options());
    let (ctl_tx, ctl_rx) = mpsc::channel(64);
    let status_base = Status {
        state: "idle".into(),
        current: None,
        queued: Vec::new(),
        engine: config.engine.to_string(),
        voice: String::new(),
        sink: config.sink.name(),
    };
    let speaker = tokio::spawn(speaker(
        ctx.clone(),
        ctl_rx,
        ctl_tx.clone(),
        status_base,
        config.limits.max_queue,
    ));
    let (conn_stop_tx, conn_stop) = watch::channel(false);

    let mut ready = Some(ready);
    let mut ready_rx = Some(ready_rx);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            r = async { match ready_rx.as_mut() { Some(r) => r.await, None => std::future::pending().await } }, if ready_rx.is_some() => {
                ready_rx = None;
                let (ok, status, errors) = r.unwrap_or((false, "voice worker died".into(), Vec::new()));
                for e in &errors {
                    ctx.error(None, error_chain(e));
                }
                if ok { log::info!("{status}") } else { log::error!("{status}") }
                if let Ok(mut v) = ctx.voice_status.lock() {
                    v.clone_from(&status);
                }
                if let Some(f) = ready.take() {
                    f(&status);
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, ctl_tx.clone(), ctx.events.clone(), text_opts.clone(), config.limits, conn_stop.clone()));
                }
                Err(e) => {
                    log::warn!("accepting a control connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    log::info!("shutting down");
    let _ = conn_stop_tx.send(true);
    drop(ctl_tx);
    let _ = tokio::time::timeout(Duration::from_secs(5), speaker).await;
    Ok(())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    crate::protocol::printable(&s)
}

struct Current {
    id: u64,
    cancel: watch::Sender<Option<EndReason>>,
    task: tokio::task::JoinHandle<()>,
}

/// The queue owner. Ends when every control sender is gone (shutdown).
async fn speaker(
    ctx: Arc<Ctx>,
    mut rx: mpsc::Receiver<Control>,
    tx: mpsc::Sender<Control>,
    base: Status,
    max_queue: usize,
) {
    let mut queue: VecDeque<(u64, Script)> = VecDeque::new();
    let mut current: Option<Current> = None;
    let (paused_tx, paused_rx) = watch::channel(false);
    let mut next_id: u64 = 1;
    let tx = tx.downgrade();

    let drop_queue = |queue: &mut VecDeque<(u64, Script)>| {
        for (id, _) in queue.drain(..) {
            ctx.emit(Event::Finished {
                id,
                at_ms: now_ms(),
                reason: EndReason::Dropped,
            });
        }
    };

    while let Some(msg) = rx.recv().await {
        match msg {
            Control::Say {
                script,
                priority,
                reply,
            } => {
                if priority == Priority::Normal && queue.len() >= max_queue {
                    let _ = reply.send(Reply::error(format!(
                        "the queue is full ({max_queue} jobs waiting, limits.max_queue); try again later"
                    )));
                    continue;
                }
                let id = next_id;
                next_id += 1;
                let sentences = script.sentences.len();
                if priority == Priority::Interrupt {
                    drop_queue(&mut queue);
                    if let Some(c) = current.take() {
                        let _ = c.cancel.send(Some(EndReason::Interrupted));
                    }
                }
                queue.push_back((id, script));
                let _ = reply.send(Reply {
                    id: Some(id),
                    sentences: Some(sentences),
                    ..Reply::ok()
                });
            }
            Control::Stop => {
                drop_queue(&mut queue);
                if let Some(c) = current.take() {
                    let _ = c.cancel.send(Some(EndReason::Stopped));
                }
            }
            Control::Skip => {
                if let Some(c) = current.take() {
                    let _ = c.cancel.send(Some(EndReason::Skipped));
                }
            }
            Control::Pause => {
                if !paused_tx.send_replace(true) {
                    ctx.emit(Event::Paused { at_ms: now_ms() });
                }
            }
            Control::Resume => {
                if paused_tx.send_replace(false) {
                    ctx.emit(Event::Resumed { at_ms: now_ms() });
                }
            }
            Control::Status(reply) => {
                let state = match (&current, *paused_rx.borrow()) {
                    (_, true) => "paused",
                    (Some(_), false) => "speaking",
                    (None, false) => "idle",
                };
                let _ = reply.send(Status {
                    state: state.into(),
                    current: current.as_ref().map(|c| c.id),
                    queued: queue.iter().map(|(id, _)| *id).collect(),
                    voice: ctx
                        .voice_status
                        .lock()
                        .map(|v| v.clone())
                        .unwrap_or_default(),
                    ..base.clone()
                });
            }
            Control::Ended(id) => {
                if current.as_ref().is_some_and(|c| c.id == id) {
                    current = None;
                }
            }
        }
        if current.is_none() {
            if let Some((id, script)) = queue.pop_front() {
                let (cancel, cancel_rx) = watch::channel(None);
                let (ctx2, paused, back) = (ctx.clone(), paused_rx.clone(), tx.clone());
                let task = tokio::spawn(async move {
                    let reason = run_job(&ctx2, id, script, cancel_rx, paused).await;
                    ctx2.emit(Event::Finished {
                        id,
                        at_ms: now_ms(),
                        reason,
                    });
                    if let Some(back) = back.upgrade() {
                        let _ = back.send(Control::Ended(id)).await;
                    }
                });
                current = Some(Current { id, cancel, task });
            }
        }
    }
    // Shutdown: cut the current job, drop the rest.
    drop_queue(&mut queue);
    if let Some(c) = current.take() {
        let _ = c.cancel.send(Some(EndReason::Shutdown));
        let _ = c.task.await;
    }
}

/// Where a job's audio goes.
enum Output {
    Player(Box<Player>),
    /// Written as it comes (never held whole).
    Wav {
        path: PathBuf,
        file: WavFile,
    },
}

impl Output {
    async fn open(ctx: &Ctx, id: u64, rate: u32) -> Result<Output, SinkError> {
        match ctx.sink.kind {
            SinkKind::Player => Player::spawn(&ctx.sink, rate).map(|p| Output::Player(Box::new(p))),
            SinkKind::Wav => {
                let dir = ctx.sink.dir.clone().unwrap_or_default();
                let path = dir.join(format!("{id}.wav"));
                WavFile::create(&path, rate)
                    .map(|file| Output::Wav {
                        path: path.clone(),
                        file,
                    })
                    .map_err(|source| SinkError::Wav { path, source })
            }
        }
    }

    fn rate(&self) -> u32 {
        match self {
            Output::Player(p) => p.rate,
            Output::Wav { file, .. } => file.rate(),
        }
    }

    async fn write(&mut self, chunk: &Audio) -> Result<(), SinkError> {
        match self {
            Output::Player(p) => p.write(&chunk.to_le_bytes()).await,
            Output::Wav { path, file } => file.write(chunk).map_err(|source| SinkError::Wav {
                path: path.clone(),
                source,
            }),
        }
    }

    async fn finish(self) -> Result<(), SinkError> {
        match self {
            Output::Player(p) => p.finish().await,
            Output::Wav { path, file } => file
                .finish()
                .map_err(|source| SinkError::Wav { path, source }),
        }
    }

    async fn kill(self) {
        if let Output::Player(p) = self {
            p.kill().await;
        }
    }

    fn paced(&self) -> bool {
        matches!(self, Output::Player(_))
    }
}

/// Waits until the job is cancelled; the reason.
async fn cancelled(rx: &mut watch::Receiver<Option<EndReason>>) -> EndReason {
    match rx.wait_for(Option::is_some).await {
        Ok(r) => r.unwrap_or(EndReason::Shutdown),
        Err(_) => EndReason::Shutdown,
    }
}

/// Speaks one job; returns why it ended.
async fn run_job(
    ctx: &Arc<Ctx>,
    id: u64,
    script: Script,
    mut cancel: watch::Receiver<Option<EndReason>>,
    mut paused: watch::Receiver<bool>,
) -> EndReason {
    let total = script.sentences.len();
    // Synthesis runs ahead of playback by up to two sentences.
    let (tx, mut rx) = mpsc::channel(2);
    let voice = ctx.voice.clone();
    let producer = tokio::spawn(async move {
        for (i, text) in script.sentences.into_iter().enumerate() {
            let out = voice.synthesize(text.clone()).await;
            if tx.send((i, text, out)).await.is_err() {
                break;
            }
        }
    });
    let _abort = AbortOnDrop(producer);

    let mut output: Option<Output> = None;
    let lead = Duration::from_millis(ctx.sink.buffer_ms);
    // When the audio written so far will have been played.
    let mut due = Instant::now();
    let mut written_any = false;

    let outcome: Result<(), EndReason> = async {
        loop {
            let item = tokio::select! {
                r = cancelled(&mut cancel) => return Err(r),
                item = rx.recv() => item,
            };
            let Some((index, text, synthesis)) = item else {
                return Ok(());
            };
            for e in &synthesis.errors {
                ctx.error(Some(id), error_chain(e));
            }
            let Some((audio, engine)) = synthesis.audio else {
                ctx.error(
                    Some(id),
                    format!("no engine could speak sentence {index}; giving up on this text"),
                );
                return Err(EndReason::Failed);
            };
            if audio.samples.is_empty() {
                continue;
            }
            if output.is_none() {
                output = Some(open_output(ctx, id, audio.rate, &mut cancel).await?);
            }
            let Some(out) = output.as_mut() else {
                return Err(EndReason::Failed);
            };
            let rate = out.rate();
            if written_any {
                let gap = Audio::silence(rate, ctx.gap);
                play(ctx, id, out, &gap, lead, &mut due, &mut cancel, &mut paused).await?;
            } else {
                ctx.emit(Event::Started {
                    id,
                    at_ms: now_ms(),
                    sentences: total,
                });
            }
            written_any = true;
            let audio = audio.resampled(rate);
            ctx.emit(Event::Sentence {
                id,
                at_ms: now_ms(),
                index,
                text: text.clone(),
                engine: engine.to_string(),
                duration_ms: audio.duration().as_millis() as u64,
            });
            play(
                ctx,
                id,
                out,
                &audio,
                lead,
                &mut due,
                &mut cancel,
                &mut paused,
            )
            .await?;
        }
    }
    .await;

    match outcome {
        Ok(()) => match output {
            None => EndReason::Done,
            Some(out) => {
                let finished = tokio::select! {
                    r = cancelled(&mut cancel) => Err(r),
                    r = out.finish() => Ok(r),
                };
                match finished {
                    Ok(Ok(())) => EndReason::Done,
                    Ok(Err(e)) => {
                        sink_failed(ctx, id, &e);
                        EndReason::Failed
                    }
                    // The player was dropped inside `finish` and killed (kill_on_drop).
                    Err(r) => r,
                }
            }
        },
        Err(reason) => {
            if let Some(out) = output {
                out.kill().await;
            }
            reason
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn sink_failed(ctx: &Ctx, id: u64, e: &SinkError) {
    if let Ok(mut b) = ctx.sink_backoff.lock() {
        b.failed();
    }
    ctx.error(Some(id), error_chain(e));
}

/// Opens the sink, first waiting out the backoff of an earlier failure.
async fn open_output(
    ctx: &Ctx,
    id: u64,
    rate: u32,
    cancel: &mut watch::Receiver<Option<EndReason>>,
) -> Result<Output, EndReason> {
    let retry_at = ctx.sink_backoff.lock().ok().and_then(|b| b.retry_at);
    if let Some(at) = retry_at.filter(|at| *at > Instant::now()) {
        let retry_ms = (at - Instant::now()).as_millis();
        log::info!(job = id, retry_ms; "sink failed before; retrying in {retry_ms} ms");
        tokio::select! {
            r = cancelled(cancel) => return Err(r),
            () = tokio::time::sleep_until(at) => {}
        }
    }
    match Output::open(ctx, id, rate).await {
        Ok(o) => Ok(o),
        Err(e) => {
            sink_failed(ctx, id, &e);
            Err(EndReason::Failed)
        }
    }
}

/// Hands `audio` to the sink in 50 ms chunks, no more than `lead` ahead of real time, holding
/// while paused.
#[allow(clippy::too_many_arguments)]
async fn play(
    ctx: &Ctx,
    id: u64,
    out: &mut Output,
    audio: &Audio,
    lead: Duration,
    due: &mut Instant,
    cancel: &mut watch::Receiver<Option<EndReason>>,
    paused: &mut watch::Receiver<bool>,
) -> Result<(), EndReason> {
    let per_chunk = (audio.rate as usize / 20).max(1);
    for samples in audio.samples.chunks(per_chunk) {
        let chunk = Audio {
            rate: audio.rate,
            samples: samples.to_vec(),
        };
        if out.paced() {
            while *paused.borrow_and_update() {
                tokio::select! {
                    r = cancelled(cancel) => return Err(r),
                    changed = paused.changed() => if changed.is_err() { return Err(EndReason::Shutdown) },
                }
            }
            let at = due.checked_sub(lead).unwrap_or(*due);
            if at > Instant::now() {
                tokio::select! {
                    r = cancelled(cancel) => return Err(r),
                    () = tokio::time::sleep_until(at) => {}
                }
            }
        }
        let written = tokio::select! {
            r = cancelled(cancel) => return Err(r),
            w = out.write(&chunk) => w,
        };
        if let Err(e) = written {
            sink_failed(ctx, id, &e);
            return Err(EndReason::Failed);
        }
        if let Ok(mut b) = ctx.sink_backoff.lock() {
            b.succeeded();
        }
        *due = (*due).max(Instant::now()) + chunk.duration();
    }
    Ok(())
}

//! honeybot-ingest: follow nginx access logs into HoneyDB, exactly once, as a systemd
//! service.
//!
//! [`run`] is the daemon loop. It takes its inputs (settings, an open [`HoneyDb`]), the
//! [`Control`] trigger (shutdown / reload) and the [`Notifier`] as parameters, so tests
//! drive it in-process and `main.rs` only wires signals, logging and exit codes.
//!
//! Per followed path the loop keeps the current file and, after a rotation, the old file
//! until its tail is drained. Every open file has its own [`Batch`]; a batch is committed
//! together with that file's cursor (content identity + byte offset + lines) in one
//! transaction, every `batch_lines` lines or `flush_interval_ms` after its first line.
//! A failed commit hands the batch back: it is kept (reading that file pauses once the
//! batch is full) and retried with backoff, so a busy or full database delays lines but
//! never loses or doubles them. A commit refused because another importer moved the
//! file's cursor meanwhile (`DbError::CursorConflict`) is not a fault: the batch is
//! dropped (the other importer counted those lines) and the file is read on from the
//! stored cursor.

pub mod config;
pub mod follow;
pub mod watch;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use honeybot_daemon::{ConfigError, Control, Notifier};
use honeybot_db::{Batch, CommitFailed, Cursor, DbError, HoneyDb, IpModeError};
use honeybot_logparse::{ParseError, parse_line};
use nix::poll::{PollFd, PollFlags, PollTimeout};

pub use config::{Overrides, Settings};
use follow::{FollowError, Line, PathState, TailFile};
pub use watch::Watcher;

/// After a scan, the next one waits at least this long for more appends to gather
/// (a busy nginx writes one line per request; inotify would wake us per line).
const MIN_SCAN_GAP: Duration = Duration::from_millis(20);
/// A rotated-away file is read until it has not grown for this long (nginx keeps writing
/// to it until `nginx -s reopen` reaches every worker).
pub const DRAIN_GRACE: Duration = Duration::from_secs(5);
/// How often STATUS= is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(2);
/// How often a progress record goes to the journal.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// Retry pauses of a failing commit: doubling from the first to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Bytes read per file per scan before the loop comes round again (watchdog, signals).
const SCAN_BUDGET: usize = 4 << 20;
/// On shutdown, how long the final commits may keep retrying a busy database.
const SHUTDOWN_FLUSH: Duration = Duration::from_millis(600);

/// Why the daemon stopped (or could not start).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot set up IP privacy")]
    IpMode(#[from] IpModeError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot wait for log changes")]
    Poll(#[source] nix::Error),
}

impl IngestError {
    /// Process exit status: 2 for a configuration the operator must fix, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            IngestError::Config(_) | IngestError::IpMode(_) => 2,
            _ => 1,
        }
    }
}

/// Totals of one [`run`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Lines committed (parsed + malformed).
    pub lines: u64,
    pub lines_malformed: u64,
    pub commits: u64,
}

/// Open the database; a busy or full database is retried (with STATUS= saying so) until
/// it opens or a shutdown is requested (then `Ok(None)`).
pub fn open_db(
    settings: &Settings,
    control: &Control,
    notifier: &Notifier,
) -> Result<Option<HoneyDb>, IngestError> {
    let options = settings.db_options()?;
    let mut backoff = BACKOFF_FIRST;
    loop {
        match HoneyDb::open(&settings.db, &options) {
            Ok(db) => return Ok(Some(db)),
            Err(err @ (DbError::Busy { .. } | DbError::DiskFull { .. })) => {
                log::warn!(error:% = err; "cannot open the database yet, retrying");
                notifier.status(&format!("ERROR: {err}; retrying"));
                if wait_for(control, &[], backoff)? {
                    return Ok(None);
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Follow `settings.logs` into `db` until `control` asks for shutdown; `reload` is called
/// on each reload request and its settings applied (db, timezone and IP mode changes
/// need a restart and are reported, not applied). Sends READY=1 once every existing log
/// was opened and its cursor resumed.
pub fn run(
    settings: Settings,
    db: HoneyDb,
    control: &Control,
    notifier: &mut Notifier,
    reload: impl FnMut() -> Result<Settings, IngestError>,
) -> Result<RunSummary, IngestError> {
    run_with_watcher(settings, db, Watcher::new(), control, notifier, reload)
}

/// [`run`] with a given [`Watcher`] (e.g. [`Watcher::polling`] to run without inotify).
pub fn run_with_watcher(
    settings: Settings,
    db: HoneyDb,
    watcher: Watcher,
    control: &Control,
    notifier: &mut Notifier,
    mut reload: impl FnMut() -> Result<Settings, IngestError>,
) -> Result<RunSummary, IngestError> {
    let mut ing = Ingest::new(settings, db, watcher);
    ing.watcher.watch_dirs(&ing.settings.logs);
    let now = Instant::now();
    for src in &mut ing.sources {
        src.open_current(&mut ing.db, now);
    }
    log::info!(
        logs = ing.settings.logs.len(), db:% = ing.settings.db.display();
        "following {} log(s) into {}", ing.settings.logs.len(), ing.settings.db.display()
    );
    notifier.ready(&ing.status_line(now));
    let mut status_at = now;
    let mut last_status = String::new();
    let mut log_at = now;
    loop {
        if control.shutdown_requested() {
            ing.flush_for_shutdown();
            let now = Instant::now();
            let status = ing.status_line(now);
            log::info!(lines = ing.summary.lines, lag_bytes = ing.lag_bytes();
                "stopping: {status}");
            notifier.stopping(&status);
            return Ok(ing.summary);
        }
        if control.take_reload() {
            notifier.reloading();
            match reload() {
                Ok(new) => ing.apply(new),
                Err(err) => log::error!(error:% = error_chain(&err);
                    "reload failed, keeping the running configuration: {}", error_chain(&err)),
            }
            notifier.ready(&ing.status_line(Instant::now()));
        }
        ing.watcher.drain();
        control.clear_wake();
        let all_watched = ing.watcher.watch_dirs(&ing.settings.logs);

        let now = Instant::now();
        let more = ing.scan(now);
        ing.flush_due(now, notifier);
        notifier.watchdog(now);
        if now >= status_at {
            let status = ing.status_line(now);
            if status != last_status {
                notifier.status(&status);
                last_status = status;
            }
            status_at = now + STATUS_EVERY;
        }
        if now >= log_at {
            ing.log_progress(now);
            log_at = now + LOG_EVERY;
        }

        let timeout = if more {
            Duration::ZERO
        } else {
            let mut t = if all_watched && ing.watcher.fd().is_some() && ing.sources_settled() {
                ing.settings.poll_interval.max(Duration::from_secs(1))
            } else {
                ing.settings.poll_interval
            };
            for at in [ing.next_flush(), ing.retry_at(), Some(status_at)]
                .into_iter()
                .flatten()
            {
                t = t.min(at.saturating_duration_since(now));
            }
            if let Some(due) = notifier.watchdog_due_in(now) {
                t = t.min(due);
            }
            t
        };
        // Let appends gather for a moment; only a control request cuts this short.
        let gap = timeout.min(MIN_SCAN_GAP);
        if !gap.is_zero() && wait_for(control, &[], gap)? {
            continue;
        }
        let rest = timeout.saturating_sub(gap);
        if !rest.is_zero() {
            let fds: Vec<_> = ing.watcher.fd().into_iter().collect();
            wait_for(control, &fds, rest)?;
        }
    }
}

/// Wait until a control request, readable `fds` or the timeout. Returns whether a control
/// request is pending (shutdown or reload).
fn wait_for(
    control: &Control,
    fds: &[std::os::fd::BorrowedFd<'_>],
    timeout: Duration,
) -> Result<bool, IngestError> {
    let mut pfds = vec![PollFd::new(control.wake_fd(), PollFlags::POLLIN)];
    pfds.extend(fds.iter().map(|fd| PollFd::new(*fd, PollFlags::POLLIN)));
    let ms = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    match nix::poll::poll(&mut pfds, ms) {
        Ok(_) | Err(nix::Error::EINTR) => {}
        Err(err) => return Err(IngestError::Poll(err)),
    }
    let woke = pfds[0]
        .revents()
        .is_some_and(|r| r.contains(PollFlags::POLLIN));
    Ok(woke)
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
}

/// One open log file and the lines read from it that are not committed yet.
#[derive(Debug)]
struct Tracked {
    tail: TailFile,
    /// The cursor was looked up (a file opened empty waits for its first bytes).
    resumed: bool,
    /// No more reading: the file was truncated under us; only the batch remains.
    finished: bool,
    batch: Batch,
    /// When the oldest line of `batch` was read.
    batch_since: Option<Instant>,
    committed: Cursor,
    last_growth: Instant,
}

/// A configured path: its current file and rotated-away files still being drained.
#[derive(Debug)]
struct Source {
    path: PathBuf,
    current: Option<Tracked>,
    draining: Vec<Tracked>,
    last_error: Option<String>,
}

#[derive(Debug)]
struct Fault {
    error: String,
    since: Instant,
    backoff: Duration,
    retry_at: Instant,
    logged_at: Instant,
}

#[derive(Debug)]
struct Ingest {
    settings: Settings,
    db: HoneyDb,
    sources: Vec<Source>,
    watcher: Watcher,
    summary: RunSummary,
    fault: Option<Fault>,
    rate_mark: (Instant, u64),
    rate: f64,
}

impl Ingest {
    fn new(settings: Settings, db: HoneyDb, watcher: Watcher) -> Self {
        let sources = settings.logs.iter().cloned().map(Source::new).collect();
        Ingest {
            settings,
            db,
            sources,
            watcher,
            summary: RunSummary::default(),
            fault: None,
            rate_mark: (Instant::now(), 0),
            rate: 0.0,
        }
    }

    /// Read every source; returns whether data is left over (budget exhausted or a full
    /// batch waiting for its commit).
    fn scan(&mut self, now: Instant) -> bool {
        let batch_lines = self.settings.batch_lines;
        let paused = self.fault.is_some();
        let mut more = false;
        for src in &mut self.sources {
            more |= src.scan(&mut self.db, batch_lines, now);
        }
        // A full batch that cannot be committed now is not "more to do right away".
        more && !paused
    }

    fn sources_settled(&self) -> bool {
        self.sources.iter().all(|s| s.draining.is_empty())
    }

    fn next_flush(&self) -> Option<Instant> {
        self.tracked()
            .filter_map(|t| t.batch_since)
            .min()
            .map(|since| since + self.settings.flush_interval)
    }

    fn retry_at(&self) -> Option<Instant> {
        self.fault.as_ref().map(|f| f.retry_at)
    }

    fn tracked(&self) -> impl Iterator<Item = &Tracked> {
        self.sources
            .iter()
            .flat_map(|s| s.draining.iter().chain(s.current.iter()))
    }

    /// Commit every batch that is full or old enough (all of them with `force`).
    fn flush_due(&mut self, now: Instant, notifier: &Notifier) {
        if let Some(f) = &self.fault {
            if now < f.retry_at {
                return;
            }
        }
        let batch_lines = self.settings.batch_lines;
        let flush_interval = self.settings.flush_interval;
        let mut failure = None;
        'outer: for src in &mut self.sources {
            for t in src.draining.iter_mut().chain(src.current.iter_mut()) {
                let due = t.batch_since.is_some_and(|since| {
                    t.batch.lines() >= batch_lines || now.duration_since(since) >= flush_interval
                });
                if !due {
                    continue;
                }
                match commit(&mut self.db, t, &mut self.summary) {
                    Ok(()) => {}
                    Err(err) => {
                        failure = Some(err);
                        break 'outer;
                    }
                }
            }
            let replaced = src.current.is_some();
            src.draining.retain(|t| !t.done(now, replaced));
        }
        match failure {
            Some(err) => self.record_fault(err, now, notifier),
            None => {
                if let Some(f) = self.fault.take() {
                    log::info!(seconds = f.since.elapsed().as_secs();
                        "database writable again after {:.1} s", f.since.elapsed().as_secs_f64());
                    notifier.status(&self.status_line(now));
                }
            }
        }
    }

    fn record_fault(&mut self, err: DbError, now: Instant, notifier: &Notifier) {
        let text = error_chain(&err);
        let held = self.held_lines();
        match &mut self.fault {
            Some(f) => {
                f.backoff = (f.backoff * 2).min(BACKOFF_MAX);
                f.retry_at = now + f.backoff;
                if f.error != text || now.duration_since(f.logged_at) >= LOG_EVERY {
                    log::error!(error:% = text, held_lines = held;
                        "still cannot commit, holding {held} lines: {text}");
                    f.logged_at = now;
                    f.error = text;
                }
            }
            None => {
                match err {
                    DbError::Busy { .. } => log::warn!(error:% = text, held_lines = held;
                        "database busy, retrying with backoff: {text}"),
                    _ => log::error!(error:% = text, held_lines = held;
                        "cannot commit, keeping the cursor and retrying: {text}"),
                }
                self.fault = Some(Fault {
                    error: text,
                    since: now,
                    backoff: BACKOFF_FIRST,
                    retry_at: now + BACKOFF_FIRST,
                    logged_at: now,
                });
            }
        }
        notifier.status(&self.status_line(now));
    }

    fn held_lines(&self) -> u64 {
        self.tracked().map(|t| t.batch.lines()).sum()
    }

    /// Final commits on shutdown: retried for a short while if the database is busy; what
    /// cannot be committed is read again after the restart (the cursor was not moved).
    fn flush_for_shutdown(&mut self) {
        let deadline = Instant::now() + SHUTDOWN_FLUSH;
        let mut pause = Duration::from_millis(20);
        loop {
            let mut failed = None;
            for src in &mut self.sources {
                for t in src.draining.iter_mut().chain(src.current.iter_mut()) {
                    if t.batch.is_empty() {
                        continue;
                    }
                    if let Err(err) = commit(&mut self.db, t, &mut self.summary) {
                        failed = Some(err);
                    }
                }
            }
            let Some(err) = failed else { return };
            if Instant::now() + pause >= deadline {
                log::warn!(error:% = error_chain(&err), held_lines = self.held_lines();
                    "stopping without committing the last lines; they are read again on restart");
                return;
            }
            std::thread::sleep(pause);
            pause *= 2;
        }
    }

    fn apply(&mut self, new: Settings) {
        let old = &self.settings;
        if new.db != old.db
            || new.time_zone != old.time_zone
            || new.ip_mode_name != old.ip_mode_name
            || new.ip_hash_key_file != old.ip_hash_key_file
        {
            log::warn!("db, timezone, ip_mode and ip_hash_key_file changes take effect on restart");
        }
        let now = Instant::now();
        // Sources no longer configured: commit what was read, then let go.
        let mut keep = Vec::new();
        for mut src in std::mem::take(&mut self.sources) {
            if new.logs.contains(&src.path) {
                keep.push(src);
                continue;
            }
            for t in src.draining.iter_mut().chain(src.current.iter_mut()) {
                if !t.batch.is_empty() {
                    if let Err(err) = commit(&mut self.db, t, &mut self.summary) {
                        log::warn!(path:% = src.path.display(), error:% = error_chain(&err);
                            "dropped log not fully committed; its lines are read again if it is added back");
                    }
                }
            }
            log::info!(path:% = src.path.display(); "no longer following {}", src.path.display());
        }
        for path in &new.logs {
            if !keep.iter().any(|s| &s.path == path) {
                log::info!(path:% = path.display(); "now following {}", path.display());
                let mut src = Source::new(path.clone());
                src.open_current(&mut self.db, now);
                keep.push(src);
            }
        }
        self.sources = keep;
        let mut applied = new;
        applied.db = self.settings.db.clone();
        applied.time_zone = self.settings.time_zone;
        applied.ip_mode_name = self.settings.ip_mode_name;
        applied.ip_hash_key_file = self.settings.ip_hash_key_file.clone();
        self.settings = applied;
        self.watcher.watch_dirs(&self.settings.logs);
        log::info!(batch_lines = self.settings.batch_lines,
            flush_interval_ms = self.settings.flush_interval.as_millis() as u64,
            poll_interval_ms = self.settings.poll_interval.as_millis() as u64;
            "configuration reloaded");
    }

    /// Bytes appended to the followed files and not yet committed.
    fn lag_bytes(&self) -> u64 {
        self.tracked()
            .map(|t| t.tail.file_len().saturating_sub(t.committed.offset))
            .sum()
    }

    /// Age of the oldest line read but not yet committed.
    fn lag_seconds(&self, now: Instant) -> f64 {
        self.tracked()
            .filter_map(|t| t.batch_since)
            .min()
            .map_or(0.0, |s| now.duration_since(s).as_secs_f64())
    }

    fn update_rate(&mut self, now: Instant) {
        let (at, lines) = self.rate_mark;
        let secs = now.duration_since(at).as_secs_f64();
        if secs >= 1.0 {
            self.rate = (self.summary.lines - lines) as f64 / secs;
            self.rate_mark = (now, self.summary.lines);
        }
    }

    fn status_line(&mut self, now: Instant) -> String {
        self.update_rate(now);
        let base = format!(
            "{} lines ingested, {:.0} lines/s, lag {:.1} s / {} bytes, {} log(s)",
            self.summary.lines,
            self.rate,
            self.lag_seconds(now),
            self.lag_bytes(),
            self.sources.len()
        );
        match &self.fault {
            Some(f) => format!(
                "ERROR: {} (holding {} lines, retrying); {base}",
                f.error,
                self.held_lines()
            ),
            None => base,
        }
    }

    fn log_progress(&mut self, now: Instant) {
        self.update_rate(now);
        log::info!(
            lines = self.summary.lines,
            lines_per_second = self.rate as u64,
            lag_seconds = self.lag_seconds(now),
            lag_bytes = self.lag_bytes(),
            malformed = self.summary.lines_malformed;
            "{} lines ingested", self.summary.lines
        );
    }
}

/// Commit `t`'s batch with its cursor; on failure the batch is kept in `t`.
///
/// A [`DbError::CursorConflict`] (another importer, e.g. `honeybot ingest` run by hand,
/// committed this file meanwhile) is not a fault: retrying would fail every time, and the
/// lines the other importer counted must not be counted again. The batch is dropped and
/// the file is read again from the stored cursor; `Ok` is returned. Only when the stored
/// cursor cannot be read (busy database) is the batch kept and the error returned.
fn commit(db: &mut HoneyDb, t: &mut Tracked, summary: &mut RunSummary) -> Result<(), DbError> {
    if t.batch.is_empty() {
        return Ok(());
    }
    let batch = std::mem::replace(&mut t.batch, db.batch());
    let identity = t.tail.identity();
    let cursor = t.tail.cursor();
    match db.commit(batch, Some((&identity, cursor))) {
        Ok(stats) => {
            summary.lines += stats.lines_parsed + stats.lines_malformed;
            summary.lines_malformed += stats.lines_malformed;
            summary.commits += 1;
            t.committed = cursor;
            t.batch_since = None;
            log::debug!(path:% = t.tail.path().display(), offset = cursor.offset,
                lines = stats.lines_parsed + stats.lines_malformed; "committed");
            Ok(())
        }
        Err(CommitFailed {
            error: DbError::CursorConflict { .. },
            batch,
        }) => match db.cursor(&identity) {
            Ok(stored) => {
                let stored = stored.unwrap_or_default();
                log::warn!(path:% = t.tail.path().display(), offset = cursor.offset,
                    stored_offset = stored.offset, dropped_lines = batch.lines();
                    "{} was committed by another importer up to byte {} while this one had \
                     read to byte {}; dropping {} lines read here and continuing at byte {}",
                    t.tail.path().display(), stored.offset, cursor.offset, batch.lines(),
                    stored.offset);
                if stored.offset < t.committed.offset {
                    // CAS makes this impossible (a cursor only moves forward); should the
                    // stored cursor be behind anyway, it is what the counts match.
                    log::warn!(path:% = t.tail.path().display(), offset = t.committed.offset,
                        stored_offset = stored.offset;
                        "stored cursor of {} is behind what this process committed; \
                         reading again from byte {}", t.tail.path().display(), stored.offset);
                }
                t.tail.reposition(stored);
                t.committed = stored;
                t.batch_since = None;
                Ok(())
            }
            Err(err) => {
                t.batch = *batch;
                Err(err)
            }
        },
        Err(CommitFailed { error, batch }) => {
            t.batch = *batch;
            Err(error)
        }
    }
}

impl Tracked {
    fn new(tail: TailFile, db: &HoneyDb, now: Instant) -> Self {
        Tracked {
            tail,
            resumed: false,
            finished: false,
            batch: db.batch(),
            batch_since: None,
            committed: Cursor::default(),
            last_growth: now,
        }
    }

    /// Look the cursor up once the file has its first bytes.
    fn try_resume(&mut self, db: &mut HoneyDb) -> Result<(), SourceError> {
        if self.resumed {
            return Ok(());
        }
        self.tail.fill_prefix()?;
        if !self.tail.has_data() {
            return Ok(());
        }
        if let Some(cursor) = db.cursor(&self.tail.identity())? {
            let len = self.tail.file_len();
            if cursor.offset > len {
                log::warn!(path:% = self.tail.path().display(), offset = cursor.offset, len = len;
                    "committed offset is past the end of the file; waiting for it to grow");
            }
            log::info!(path:% = self.tail.path().display(), offset = cursor.offset, lines = cursor.lines;
                "resuming {} at byte {}", self.tail.path().display(), cursor.offset);
            self.tail.resume(cursor);
            self.committed = cursor;
        }
        self.resumed = true;
        Ok(())
    }

    /// Read new lines into the batch (up to `batch_lines` in it). Returns whether more is
    /// waiting (budget used up or batch full). A file found truncated is `finished`.
    fn read(&mut self, batch_lines: u64, now: Instant) -> Result<bool, FollowError> {
        if self.finished || !self.resumed {
            return Ok(false);
        }
        let room = batch_lines.saturating_sub(self.batch.lines());
        if room == 0 {
            return Ok(true);
        }
        let batch = &mut self.batch;
        let got = self.tail.read_lines(SCAN_BUDGET, room, |line| match line {
            Line::Complete(bytes) => match parse_line(bytes) {
                Ok(entry) => batch.add(&entry),
                Err(err) => batch.add_malformed(&err),
            },
            Line::TooLong => batch.add_malformed(&ParseError::TooLong),
        })?;
        if got.lines > 0 {
            self.last_growth = now;
            self.batch_since.get_or_insert(now);
        }
        if got.truncated {
            self.finished = true;
        }
        Ok(got.lines == room)
    }

    /// A rotated-away file can be dropped: nothing uncommitted, and either truncated, or
    /// a new file took its name (`replaced`) and it has not grown for [`DRAIN_GRACE`]. A
    /// file that vanished without a successor stays open: nginx may still write to it.
    fn done(&self, now: Instant, replaced: bool) -> bool {
        self.batch.is_empty()
            && (self.finished || (replaced && now.duration_since(self.last_growth) >= DRAIN_GRACE))
    }
}

#[derive(Debug, thiserror::Error)]
enum SourceError {
    #[error(transparent)]
    Follow(#[from] FollowError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl Source {
    fn new(path: PathBuf) -> Self {
        Source {
            path,
            current: None,
            draining: Vec::new(),
            last_error: None,
        }
    }

    fn report(&mut self, result: Result<(), SourceError>) {
        match result {
            Ok(()) => {
                if self.last_error.take().is_some() {
                    log::info!(path:% = self.path.display(); "{} readable again", self.path.display());
                }
            }
            Err(err) => {
                let text = error_chain(&err);
                if self.last_error.as_deref() != Some(text.as_str()) {
                    log::error!(path:% = self.path.display(), error:% = text; "{text}");
                    self.last_error = Some(text);
                }
            }
        }
    }

    /// Open the file now at `path` if none is open, and resume its cursor.
    fn open_current(&mut self, db: &mut HoneyDb, now: Instant) {
        let r = self.try_open_current(db, now);
        self.report(r);
    }

    fn try_open_current(&mut self, db: &mut HoneyDb, now: Instant) -> Result<(), SourceError> {
        if self.current.is_none() {
            let Some(tail) = TailFile::open(&self.path)? else {
                return Ok(());
            };
            // The same inode coming back under its name (moved away and back): continue
            // the tracked state instead of reading it twice.
            let same = self
                .draining
                .iter()
                .position(|t| !t.finished && t.tail.dev_inode() == tail.dev_inode());
            let tracked = match same {
                Some(i) => self.draining.remove(i),
                None => {
                    log::info!(path:% = self.path.display(), dev = tail.dev_inode().0, inode = tail.dev_inode().1;
                        "opened {}", self.path.display());
                    Tracked::new(tail, db, now)
                }
            };
            self.current = Some(tracked);
        }
        if let Some(cur) = &mut self.current {
            cur.try_resume(db)?;
        }
        Ok(())
    }

    /// Drain rotated files, read the current one, then check for rotation.
    fn scan(&mut self, db: &mut HoneyDb, batch_lines: u64, now: Instant) -> bool {
        let mut more = false;
        let mut result = Ok(());
        for t in &mut self.draining {
            match t.read(batch_lines, now) {
                Ok(m) => more |= m,
                Err(err) => {
                    // The old file cannot be read any more: keep what we have.
                    t.finished = true;
                    result = Err(err.into());
                }
            }
        }
        for _ in 0..2 {
            if let Err(err) = self.try_open_current(db, now) {
                result = Err(err);
                break;
            }
            let Some(cur) = &mut self.current else { break };
            match cur.read(batch_lines, now) {
                Ok(m) => more |= m,
                Err(err) => {
                    result = Err(err.into());
                    break;
                }
            }
            let state = match cur.tail.check_path() {
                Ok(_) if cur.finished => PathState::Truncated,
                Ok(s) => s,
                Err(err) => {
                    result = Err(err.into());
                    break;
                }
            };
            match state {
                PathState::Same => break,
                PathState::Truncated => {
                    log::info!(path:% = self.path.display(); "{} was truncated (copytruncate); reading it from the start", self.path.display());
                    if let Some(mut t) = self.current.take() {
                        t.finished = true;
                        self.draining.push(t);
                    }
                }
                PathState::Replaced => {
                    log::info!(path:% = self.path.display(); "{} was replaced (rotated); draining the old file", self.path.display());
                    if let Some(t) = self.current.take() {
                        self.draining.push(t);
                    }
                }
                PathState::Missing => {
                    log::info!(path:% = self.path.display(); "{} disappeared; draining it and waiting for it to come back", self.path.display());
                    if let Some(t) = self.current.take() {
                        self.draining.push(t);
                    }
                    break;
                }
            }
        }
        let replaced = self.current.is_some();
        self.draining.retain(|t| !t.done(now, replaced));
        self.report(result);
        more
    }
}

//! honeybot-ingest: follow nginx access logs into HoneyDB, exactly once, as a systemd
//! service.
//!
//! [`run`] is the daemon loop. It takes its inputs (settings, an open [`HoneyDb`]), the
//! [`Control`] trigger (shutdown / reload) and the [`Notifier`] as parameters, so tests
//! drive it in-process and `main.rs` only wires signals, logging and exit codes.
//!
//! Per followed path ([`source`]) the loop keeps the current file and, after a rotation,
//! the old file until its tail is drained; on start and after every rotation the rotated
//! siblings ([`rotated`]) whose stored cursor is not at their end are drained too. Every open file has its own [`Batch`]; a batch is committed
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
pub mod rotated;
mod source;
pub mod watch;

use std::time::{Duration, Instant};

use honeybot_daemon::{ConfigError, Control, Notifier};
use honeybot_db::{DbError, HoneyDb, IpModeError};
use nix::poll::{PollFd, PollFlags, PollTimeout};

pub use config::{Overrides, Settings};
use source::{InUse, Recovery, Source, Tracked, Unread, commit};
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
pub(crate) const SCAN_BUDGET: usize = 4 << 20;
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
    ing.warn_about_rotated_names_in_logs();
    let now = Instant::now();
    for i in 0..ing.sources.len() {
        let others = ing.in_use_except(i);
        ing.sources[i].open_current(&mut ing.db, &others, now);
    }
    // The live files first (so a rotation from now on is seen as one), then whatever
    // the cursors say is unfinished among the rotated files.
    ing.recover(control);
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
        ing.recover(control);
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

pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
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
    /// Files the cursors say were not read to their end and that cannot be found or read
    /// (each reported once), by fingerprint.
    unread: std::collections::BTreeMap<String, Unread>,
    /// Unfinished files are looked for at start only: during a rotation a file can be
    /// briefly under no name at all (between logrotate's steps).
    unread_checked: bool,
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
            unread: std::collections::BTreeMap::new(),
            unread_checked: false,
        }
    }

    /// The files read by every source but `i`.
    fn in_use_except(&self, i: usize) -> Vec<InUse> {
        self.sources
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, s)| s.in_use())
            .collect()
    }

    /// A configured log that is a rotated name of another configured log is read once
    /// (by inode), but the configuration should say so.
    fn warn_about_rotated_names_in_logs(&self) {
        for log in &self.settings.logs {
            for other in &self.settings.logs {
                if other == log {
                    continue;
                }
                if rotated::is_rotated_name(other, log, &self.settings.rotated_names) {
                    log::warn!(path:% = log.display(), other:% = other.display();
                        "{} is a rotated name of {}, whose rotated files are drained anyway; \
                         remove it from `logs` (each file is counted once either way)",
                        log.display(), other.display());
                }
            }
        }
    }

    /// Run [`Source::recover`] for every source that saw a rotation (all of them at start).
    fn recover(&mut self, control: &Control) {
        let now = Instant::now();
        for i in 0..self.sources.len() {
            if !self.sources[i].rescan {
                continue;
            }
            let others = self.in_use_except(i);
            let stop = || control.shutdown_requested();
            let r = Recovery {
                patterns: &self.settings.rotated_names,
                others: &others,
                batch_lines: self.settings.batch_lines,
                format: &self.settings.log_format,
                stop: &stop,
            };
            match self.sources[i].recover(&mut self.db, &r, &mut self.summary, now) {
                Ok(found) => {
                    for u in found.into_iter().filter(|_| !self.unread_checked) {
                        if self.unread.contains_key(&u.fingerprint) {
                            continue;
                        }
                        let bytes = u.bytes.map_or_else(
                            || "an unknown number of bytes".to_owned(),
                            |b| format!("{b} bytes"),
                        );
                        log::error!(path:% = u.log.display(), offset = u.offset, lines = u.lines,
                            unread_bytes = u.bytes.map_or(-1, |b| b as i64), updated_at:% = u.updated_at;
                            "a rotated file of {} was read only up to byte {} ({} lines, last \
                             commit {}) and is {}: {bytes} left unread",
                            u.log.display(), u.offset, u.lines, u.updated_at, u.why);
                        self.unread.insert(u.fingerprint.clone(), u);
                    }
                }
                Err(err) => {
                    // Tried again at the next rotation or start; the cursor is untouched.
                    self.sources[i].rescan = true;
                    log::warn!(path:% = self.sources[i].path.display(), error:% = error_chain(&err);
                        "cannot look for rotated files of {} yet: {}",
                        self.sources[i].path.display(), error_chain(&err));
                }
            }
        }
        self.unread_checked |= self.sources.iter().all(|s| !s.rescan);
    }

    /// Read every source; returns whether data is left over (budget exhausted or a full
    /// batch waiting for its commit).
    fn scan(&mut self, now: Instant) -> bool {
        let batch_lines = self.settings.batch_lines;
        let paused = self.fault.is_some();
        let mut more = false;
        for i in 0..self.sources.len() {
            let others = self.in_use_except(i);
            more |= self.sources[i].scan(
                &mut self.db,
                &others,
                batch_lines,
                &self.settings.log_format,
                now,
            );
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
                let others: Vec<InUse> = keep.iter().flat_map(|s| s.in_use()).collect();
                src.open_current(&mut self.db, &others, now);
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
        let line = match &self.fault {
            Some(f) => format!(
                "ERROR: {} (holding {} lines, retrying); {base}",
                f.error,
                self.held_lines()
            ),
            None => base,
        };
        if self.unread.is_empty() {
            return line;
        }
        let known: u64 = self.unread.values().filter_map(|u| u.bytes).sum();
        let unknown = self.unread.values().filter(|u| u.bytes.is_none()).count();
        let bytes = match (known, unknown) {
            (_, 0) => format!("{known} bytes"),
            (0, _) => "an unknown number of bytes".to_owned(),
            _ => format!("{known} bytes + an unknown number"),
        };
        format!(
            "{line}; UNREAD: {} rotated file(s) not found or unreadable, {bytes} left unread",
            self.unread.len()
        )
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

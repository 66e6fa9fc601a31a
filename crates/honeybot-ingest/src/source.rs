//! One configured log: the file now at its path, the rotated-away files still being
//! drained, and the search for rotated files that its stored cursors say are unfinished.
//!
//! Every open file is a [`Tracked`] with its own batch, committed together with that
//! file's cursor. The stored cursor, not the path, says what is read: on start and after
//! every rotation [`Source::recover`] looks at the rotated siblings of the log (see
//! [`crate::rotated`]) and drains every one whose cursor is not at its end, and every
//! numbered/dated sibling without a cursor that is newer than the oldest one with a
//! cursor (written, or rotated in and out, while the daemon was not reading it), before
//! and while the live file is followed. Within the process a
//! file is read by one [`Tracked`] only, whatever names it has ((dev, inode) or content
//! fingerprint already in use elsewhere: the second name is an alias and is not read).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use honeybot_db::{
    Batch, CommitFailed, Cursor, DbError, FileIdentity, HoneyDb, ImportError, ImportOptions,
    count_line, count_too_long,
};
use honeybot_logparse::LogFormat;

use crate::follow::{FollowError, Line, PathState, TailFile};
use crate::rotated::{self, Probe};
use crate::{DRAIN_GRACE, RunSummary, SCAN_BUDGET, error_chain};

/// Stored cursors written under a log's name within this long of its newest one belong to
/// the files that were open when the follower last committed (the live file and the ones
/// being drained).
const LAST_OPEN_WINDOW: Duration = Duration::from_secs(60);

/// How long to wait before looking again for a rotated file that seems missing.
const RELIST_PAUSE: Duration = Duration::from_millis(50);

/// A file some [`Tracked`] of this process reads: another name of it is not read again.
#[derive(Debug, Clone)]
pub(crate) struct InUse {
    pub dev_inode: (u64, u64),
    /// Content identity, once the file has data.
    pub identity: Option<FileIdentity>,
    pub path: PathBuf,
}

impl InUse {
    fn matches(&self, dev_inode: (u64, u64), identity: Option<&FileIdentity>) -> bool {
        self.dev_inode == dev_inode
            || self
                .identity
                .as_ref()
                .zip(identity)
                .is_some_and(|(a, b)| a.same_start(b))
    }
}

/// A file of a log that the stored cursors say was not read to its end and that is
/// nowhere to be found (or cannot be read): reported once.
#[derive(Debug, Clone)]
pub(crate) struct Unread {
    pub log: PathBuf,
    pub fingerprint: String,
    pub offset: u64,
    pub lines: u64,
    pub updated_at: String,
    /// Bytes left unread, when the file's size is known (found but unreadable).
    pub bytes: Option<u64>,
    pub why: String,
}

/// What [`Source::recover`] needs from the daemon.
pub(crate) struct Recovery<'a> {
    pub patterns: &'a [String],
    pub others: &'a [InUse],
    pub batch_lines: u64,
    pub format: &'a LogFormat,
    pub stop: &'a dyn Fn() -> bool,
}

/// One open log file and the lines read from it that are not committed yet.
#[derive(Debug)]
pub(crate) struct Tracked {
    pub(crate) tail: TailFile,
    /// The cursor was looked up (a file opened empty waits for its first bytes).
    pub(crate) resumed: bool,
    /// No more reading: the file was truncated under us; only the batch remains.
    pub(crate) finished: bool,
    pub(crate) batch: Batch,
    /// When the oldest line of `batch` was read.
    pub(crate) batch_since: Option<Instant>,
    pub(crate) committed: Cursor,
    pub(crate) last_growth: Instant,
}

/// A configured path: its current file and rotated-away files still being drained.
#[derive(Debug)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub current: Option<Tracked>,
    pub draining: Vec<Tracked>,
    last_error: Option<String>,
    /// The file at `path` is read under another configured name (logged once).
    alias_of: Option<PathBuf>,
    /// Last error per rotated sibling (logged once per distinct error).
    sibling_errors: HashMap<PathBuf, String>,
    /// A rotation happened or a drained file was let go: look at the siblings again.
    pub rescan: bool,
}

/// Commit `t`'s batch with its cursor; on failure the batch is kept in `t`.
///
/// A [`DbError::CursorConflict`] (another importer, e.g. `honeybot ingest` run by hand,
/// committed this file meanwhile) is not a fault: retrying would fail every time, and the
/// lines the other importer counted must not be counted again. The batch is dropped and
/// the file is read again from the stored cursor; `Ok` is returned. Only when the stored
/// cursor cannot be read (busy database) is the batch kept and the error returned.
pub(crate) fn commit(
    db: &mut HoneyDb,
    t: &mut Tracked,
    summary: &mut RunSummary,
) -> Result<(), DbError> {
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
    fn read(
        &mut self,
        batch_lines: u64,
        format: &LogFormat,
        now: Instant,
    ) -> Result<bool, FollowError> {
        if self.finished || !self.resumed {
            return Ok(false);
        }
        let room = batch_lines.saturating_sub(self.batch.lines());
        if room == 0 {
            return Ok(true);
        }
        let batch = &mut self.batch;
        let got = self.tail.read_lines(SCAN_BUDGET, room, |line| match line {
            Line::Complete(bytes) => count_line(batch, format, bytes),
            Line::TooLong => count_too_long(batch),
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
    pub(crate) fn done(&self, now: Instant, replaced: bool) -> bool {
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
    pub(crate) fn new(path: PathBuf) -> Self {
        Source {
            path,
            current: None,
            draining: Vec::new(),
            last_error: None,
            alias_of: None,
            sibling_errors: HashMap::new(),
            rescan: true,
        }
    }

    /// Every file this source reads.
    pub(crate) fn in_use(&self) -> impl Iterator<Item = InUse> + '_ {
        self.draining
            .iter()
            .chain(self.current.iter())
            .map(|t| InUse {
                dev_inode: t.tail.dev_inode(),
                identity: t.tail.has_data().then(|| t.tail.identity()),
                path: t.tail.path().to_owned(),
            })
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
    pub(crate) fn open_current(&mut self, db: &mut HoneyDb, others: &[InUse], now: Instant) {
        let r = self.try_open_current(db, others, now);
        self.report(r);
    }

    fn try_open_current(
        &mut self,
        db: &mut HoneyDb,
        others: &[InUse],
        now: Instant,
    ) -> Result<(), SourceError> {
        if self.current.is_none() {
            let Some(tail) = TailFile::open(&self.path)? else {
                return Ok(());
            };
            let identity = tail.has_data().then(|| tail.identity());
            if let Some(other) = others
                .iter()
                .find(|o| o.matches(tail.dev_inode(), identity.as_ref()))
            {
                // One file under two names: read it once, through the other name.
                if self.alias_of.as_ref() != Some(&other.path) {
                    log::warn!(path:% = self.path.display(), other:% = other.path.display();
                        "{} is the same file as {} (a link, a copy or a rotated name listed in \
                         `logs`); its lines are counted once, through {}; remove one of the \
                         two from `logs`",
                        self.path.display(), other.path.display(), other.path.display());
                    self.alias_of = Some(other.path.clone());
                }
                return Ok(());
            }
            self.alias_of = None;
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
                    // Files may have come and gone under the name since the last one.
                    self.rescan = true;
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
    pub(crate) fn scan(
        &mut self,
        db: &mut HoneyDb,
        others: &[InUse],
        batch_lines: u64,
        format: &LogFormat,
        now: Instant,
    ) -> bool {
        let mut more = false;
        let mut result = Ok(());
        for t in &mut self.draining {
            match t.read(batch_lines, format, now) {
                Ok(m) => more |= m,
                Err(err) => {
                    // The old file cannot be read any more: keep what we have.
                    t.finished = true;
                    result = Err(err.into());
                }
            }
        }
        for _ in 0..2 {
            if let Err(err) = self.try_open_current(db, others, now) {
                result = Err(err);
                break;
            }
            let Some(cur) = &mut self.current else { break };
            match cur.read(batch_lines, format, now) {
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
                    self.rescan = true;
                    log::info!(path:% = self.path.display(); "{} was truncated (copytruncate); reading it from the start", self.path.display());
                    if let Some(mut t) = self.current.take() {
                        t.finished = true;
                        self.draining.push(t);
                    }
                }
                PathState::Replaced => {
                    self.rescan = true;
                    log::info!(path:% = self.path.display(); "{} was replaced (rotated); draining the old file", self.path.display());
                    if let Some(t) = self.current.take() {
                        self.draining.push(t);
                    }
                }
                PathState::Missing => {
                    self.rescan = true;
                    log::info!(path:% = self.path.display(); "{} disappeared; draining it and waiting for it to come back", self.path.display());
                    if let Some(t) = self.current.take() {
                        self.draining.push(t);
                    }
                    break;
                }
            }
        }
        let replaced = self.current.is_some();
        let before = self.draining.len();
        self.draining.retain(|t| !t.done(now, replaced));
        self.rescan |= self.draining.len() != before;
        self.report(result);
        more
    }

    /// Find the files of this log that the stored cursors say are unfinished, among its
    /// rotated siblings, and drain them: a plain sibling is followed like a rotated-away
    /// file (nginx may still write to it), a gzip one is imported to its end at once
    /// through [`honeybot_db::import_until`]. Drained: every sibling whose cursor is not at
    /// its end, and every numbered/dated sibling without a cursor that is newer than the
    /// OLDEST numbered/dated sibling with one. Not the newest: a stop can come after a
    /// newer file's first commit and before an older one was read (a file drained from
    /// byte 0 whose turn had not come), and that older file is still owed. Only files
    /// older than everything the daemon ever read are history. Returns the files the
    /// cursors say are unfinished that cannot be found or read.
    ///
    /// A file that seems missing is looked for once more after [`RELIST_PAUSE`]: a
    /// directory listing taken while logrotate renames `.N.gz` to `.N+1.gz` can miss a
    /// file, which would otherwise be reported lost and left undrained until the next
    /// rotation. What the second look finds is drained; only what it misses is reported.
    pub(crate) fn recover(
        &mut self,
        db: &mut HoneyDb,
        r: &Recovery<'_>,
        summary: &mut RunSummary,
        now: Instant,
    ) -> Result<Vec<Unread>, DbError> {
        let unread = self.recover_once(db, r, summary, now)?;
        if unread.is_empty() || (r.stop)() {
            return Ok(unread);
        }
        std::thread::sleep(RELIST_PAUSE);
        self.recover_once(db, r, summary, now)
    }

    fn recover_once(
        &mut self,
        db: &mut HoneyDb,
        r: &Recovery<'_>,
        summary: &mut RunSummary,
        now: Instant,
    ) -> Result<Vec<Unread>, DbError> {
        self.rescan = false;
        let mut in_use: Vec<InUse> = r.others.to_vec();
        in_use.extend(self.in_use());
        // (position in the rotation: 0 is the live file, sibling, probe)
        let mut probes: Vec<(usize, rotated::Sibling, Probe)> = Vec::new();
        // (path, error, (dev, inode, length) when it can be stat'ed)
        type Unreadable = (PathBuf, String, Option<(u64, u64, u64)>);
        let mut unreadable: Vec<Unreadable> = Vec::new();
        // The live file, to recognise its cursor below. Whether it has a cursor says
        // nothing about the siblings: a file can be rotated in and out of the name while
        // the daemon is stopped or between two of its scans.
        let live = match rotated::probe(&self.path) {
            Ok(Some(p)) if p.identity.prefix_len() > 0 => Some(p),
            _ => None,
        };
        // Position of the oldest numbered/dated sibling that has a cursor.
        let mut oldest_known = None;
        for (i, sib) in rotated::siblings(&self.path, r.patterns)
            .into_iter()
            .enumerate()
        {
            match rotated::probe(&sib.path) {
                Ok(Some(p)) if p.identity.prefix_len() > 0 => {
                    self.sibling_errors.remove(&sib.path);
                    if sib.rank.is_some() && db.cursor(&p.identity)?.is_some() {
                        oldest_known = Some(i + 1);
                    }
                    probes.push((i + 1, sib, p));
                }
                Ok(_) => {}
                Err(err) => {
                    let text = error_chain(&err);
                    if self.sibling_errors.get(&sib.path) != Some(&text) {
                        log::warn!(path:% = sib.path.display(), log:% = self.path.display(),
                            error:% = text; "rotated file of {}: {text}", self.path.display());
                        self.sibling_errors.insert(sib.path.clone(), text.clone());
                    }
                    let stat = std::fs::symlink_metadata(&sib.path).ok().map(|m| {
                        use std::os::unix::fs::MetadataExt;
                        (m.dev(), m.ino(), m.len())
                    });
                    unreadable.push((sib.path, text, stat));
                }
            }
        }
        for (pos, sib, p) in &probes {
            if in_use
                .iter()
                .any(|u| u.matches(p.dev_inode, Some(&p.identity)))
            {
                continue;
            }
            let cursor = db.cursor(&p.identity)?;
            let newer = sib.rank.is_some() && oldest_known.is_some_and(|k| *pos < k);
            let from = match cursor {
                Some(c) if !p.is_read_up_to(c.offset) => c,
                None if newer => Cursor::default(),
                _ => continue,
            };
            log::info!(path:% = sib.path.display(), log:% = self.path.display(), offset = from.offset;
                "draining rotated {} from byte {} (its cursor is not at its end{})",
                sib.path.display(), from.offset,
                if cursor.is_none() { "; rotated while not followed" } else { "" });
            if p.gzip {
                self.drain_gzip(db, &sib.path, p.dev_inode, r, summary);
            } else {
                match TailFile::open(&sib.path) {
                    // Renamed between the probe and the open (a rotation in progress):
                    // that is another file; the next search sees it under its new name.
                    Ok(Some(tail))
                        if tail.dev_inode() != p.dev_inode
                            || in_use.iter().any(|u| u.matches(tail.dev_inode(), None)) =>
                    {
                        self.rescan = true;
                    }
                    Ok(Some(tail)) => {
                        let tail = tail.with_label(&self.path);
                        in_use.push(InUse {
                            dev_inode: tail.dev_inode(),
                            identity: Some(p.identity.clone()),
                            path: sib.path.clone(),
                        });
                        let mut t = Tracked::new(tail, db, now);
                        if let Err(err) = t.try_resume(db) {
                            log::warn!(path:% = sib.path.display(), error:% = error_chain(&err);
                                "cannot resume rotated {}: {}", sib.path.display(), error_chain(&err));
                            continue;
                        }
                        self.draining.push(t);
                    }
                    Ok(None) => {}
                    Err(err) => {
                        log::warn!(path:% = sib.path.display(), error:% = error_chain(&err);
                        "cannot open rotated {}: {}", sib.path.display(), error_chain(&err))
                    }
                }
            }
        }

        // Cursors of files this log had open at the last commit that are found nowhere.
        let mut unread = Vec::new();
        let known: Vec<&honeybot_db::FileIdentity> = live
            .iter()
            .chain(probes.iter().map(|(_, _, p)| p))
            .map(|p| &p.identity)
            .collect();
        for row in db.latest_cursors_of(&self.path, LAST_OPEN_WINDOW)? {
            let found = known
                .iter()
                .any(|id| id.matches(&row.fingerprint, row.prefix_len))
                || in_use.iter().any(|u| {
                    u.identity
                        .as_ref()
                        .is_some_and(|id| id.matches(&row.fingerprint, row.prefix_len))
                });
            if found {
                continue;
            }
            let stat = unreadable
                .iter()
                .find(|(_, _, st)| st.is_some_and(|(d, i, _)| row.dev_inode == Some((d, i))));
            unread.push(Unread {
                log: self.path.clone(),
                fingerprint: row.fingerprint.clone(),
                offset: row.offset,
                lines: row.lines,
                updated_at: row.updated_at.clone(),
                bytes: stat
                    .and_then(|(_, _, st)| st.map(|(_, _, len)| len.saturating_sub(row.offset))),
                why: match stat {
                    Some((path, text, _)) => format!("{} cannot be read: {text}", path.display()),
                    None => format!(
                        "not found among its rotated names ({})",
                        r.patterns.join(", ")
                    ),
                },
            });
        }
        Ok(unread)
    }

    /// Import a gzip sibling from its cursor to its end (it is complete: a last line
    /// without newline counts), stopping early on shutdown.
    fn drain_gzip(
        &mut self,
        db: &mut HoneyDb,
        path: &Path,
        dev_inode: (u64, u64),
        r: &Recovery<'_>,
        summary: &mut RunSummary,
    ) {
        use std::os::unix::fs::MetadataExt;
        let file = match crate::follow::open_log(path) {
            Ok(Some((f, meta))) if (meta.dev(), meta.ino()) == dev_inode => f,
            Ok(Some(_)) => {
                // Replaced since the probe: look again.
                self.rescan = true;
                return;
            }
            Ok(None) => return,
            Err(err) => {
                log::warn!(path:% = path.display(), error:% = error_chain(&err);
                    "cannot drain rotated {}: {}", path.display(), error_chain(&err));
                return;
            }
        };
        let mut options = ImportOptions::new(path.display().to_string());
        options.batch_lines = r.batch_lines;
        options.format = r.format.clone();
        let reader = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
        match honeybot_db::import_until(db, reader, &options, |_| !(r.stop)()) {
            Ok(stats) => {
                summary.lines += stats.lines_parsed + stats.lines_malformed;
                summary.lines_malformed += stats.lines_malformed;
                log::info!(path:% = path.display(), lines = stats.lines_parsed + stats.lines_malformed;
                    "drained rotated {}: {} lines", path.display(), stats.lines_parsed + stats.lines_malformed);
            }
            Err(ImportError::Stopped { .. }) => {}
            Err(err) => log::warn!(path:% = path.display(), error:% = error_chain(&err);
                "cannot drain rotated {}: {}", path.display(), error_chain(&err)),
        }
    }
}

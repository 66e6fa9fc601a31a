//! Importing a whole log stream exactly once.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::time::Instant;

use honeybot_logparse::{LogFormat, MAX_LINE_LEN, ParseError};

use crate::{Batch, CommitFailed, Cursor, DbError, FileIdentity, HoneyDb};

/// How [`import()`] reads and commits.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// At most this many lines per transaction.
    pub batch_lines: u64,
    /// Commit once the batch holds this many distinct entries ([`Batch::footprint`]):
    /// bounds memory when every line is new, while repetitive logs get large batches.
    pub batch_footprint: usize,
    /// The name the stream is known by: named in errors and stored in the cursor row.
    pub name: String,
    /// `(st_dev, st_ino)` of the file, when it is one.
    pub dev_inode: Option<(u64, u64)>,
    /// The stream is complete (gzip, stdin, a rotated file nothing writes to any more):
    /// a last line without a newline is a line. When `false` (a log a server may still
    /// be writing), such a line is held back: not counted, the cursor stops before it,
    /// and the next import reads it once it is whole.
    pub complete: bool,
    /// How lines are parsed (default: the built-in formats, detected per line).
    pub format: LogFormat,
}

impl ImportOptions {
    /// Lines per transaction unless told otherwise.
    pub const DEFAULT_BATCH_LINES: u64 = 250_000;
    /// Distinct entries per transaction unless told otherwise (about 35 MB of peak RSS
    /// when every line is a new client and path).
    pub const DEFAULT_BATCH_FOOTPRINT: usize = 60_000;

    /// Defaults for a stream called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            batch_lines: Self::DEFAULT_BATCH_LINES,
            batch_footprint: Self::DEFAULT_BATCH_FOOTPRINT,
            name: name.into(),
            dev_inode: None,
            complete: true,
            format: LogFormat::auto(),
        }
    }
}

/// What an import did. `lines_total == lines_parsed + lines_malformed +
/// lines_skipped_duplicate` always holds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ImportStats {
    pub lines_total: u64,
    pub lines_parsed: u64,
    pub lines_malformed: u64,
    /// Lines already counted by an earlier import of the same content.
    pub lines_skipped_duplicate: u64,
    pub malformed_by_kind: BTreeMap<String, u64>,
    /// An unterminated last line left for a later import (not counted anywhere else).
    pub lines_held_back: u64,
    pub bytes_held_back: u64,
    pub requests_by_status: BTreeMap<u16, u64>,
    /// Bytes read from the stream (after gz decoding).
    pub bytes: u64,
    pub seconds: f64,
}

impl ImportStats {
    /// Adds another import's figures (e.g. the next file of one command).
    pub fn merge(&mut self, other: &ImportStats) {
        self.lines_total += other.lines_total;
        self.lines_parsed += other.lines_parsed;
        self.lines_malformed += other.lines_malformed;
        self.lines_skipped_duplicate += other.lines_skipped_duplicate;
        self.lines_held_back += other.lines_held_back;
        self.bytes_held_back += other.bytes_held_back;
        for (k, n) in &other.malformed_by_kind {
            *self.malformed_by_kind.entry(k.clone()).or_insert(0) += n;
        }
        for (k, n) in &other.requests_by_status {
            *self.requests_by_status.entry(*k).or_insert(0) += n;
        }
        self.bytes += other.bytes;
        self.seconds += other.seconds;
    }
}

/// Why an import stopped. Everything committed before the error stays committed, with its
/// cursor, so running the import again continues where it stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {name}")]
    Read {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    /// The caller asked to stop (its progress callback returned `false`); what was
    /// committed stays committed.
    #[error("import of {name} stopped")]
    Stopped { name: String },
}

impl From<CommitFailed> for ImportError {
    fn from(failed: CommitFailed) -> Self {
        Self::Db(failed.error)
    }
}

/// A bulk import writes the `recent_requests` ring at most this often (and at its end):
/// writing it at every batch cost 10 % of a high-cardinality import.
const RING_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Read buffer: larger than the longest line the parser accepts.
const BUF_LEN: usize = 1 << 20;
const _: () = assert!(BUF_LEN > MAX_LINE_LEN + 1);

/// Imports a whole stream (a plain file, decoded gz, stdin): identifies it by its first
/// [`FileIdentity::PREFIX_LEN`] bytes, skips what its committed cursor covers (counted as
/// `lines_skipped_duplicate`), parses and aggregates the rest and commits it, together
/// with the advanced cursor, whenever the batch reaches `batch_lines` lines or
/// `batch_footprint` distinct entries. A last line without a newline is counted as the
/// end of the finished stream when [`ImportOptions::complete`], else held back.
/// `progress` gets the bytes read so far.
pub fn import<R: Read>(
    db: &mut HoneyDb,
    reader: R,
    options: &ImportOptions,
    mut progress: impl FnMut(u64),
) -> Result<ImportStats, ImportError> {
    import_until(db, reader, options, |bytes| {
        progress(bytes);
        true
    })
}

/// [`import()`] that stops with [`ImportError::Stopped`] as soon as `progress` (called
/// after every read) returns `false`.
pub fn import_until<R: Read>(
    db: &mut HoneyDb,
    reader: R,
    options: &ImportOptions,
    progress: impl FnMut(u64) -> bool,
) -> Result<ImportStats, ImportError> {
    let started = Instant::now();
    let mut input = Input {
        reader,
        buf: vec![0; BUF_LEN],
        start: 0,
        end: 0,
        eof: false,
        bytes: 0,
        name: &options.name,
        progress,
    };
    let mut stats = ImportStats::default();

    while input.end < FileIdentity::PREFIX_LEN && !input.eof {
        input.read_more()?;
    }
    let mut identity = FileIdentity::from_prefix(&input.buf[..input.end]);
    identity.path = Some(options.name.clone());
    identity.dev_inode = options.dev_inode;
    let known = db.cursor(&identity)?.unwrap_or_default();

    // Skip what is already counted.
    let mut offset = 0u64;
    let mut skipped_newlines = 0u64;
    let mut last_skipped = b'\n';
    while offset < known.offset {
        if input.start == input.end {
            if input.eof {
                break;
            }
            input.compact();
            input.read_more()?;
            continue;
        }
        let take = (input.end - input.start)
            .min(usize::try_from(known.offset - offset).unwrap_or(usize::MAX));
        let chunk = &input.buf[input.start..input.start + take];
        skipped_newlines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        last_skipped = chunk[take - 1];
        input.start += take;
        offset += take as u64;
    }
    if offset < known.offset {
        // The stream is shorter than what was imported from this content before.
        stats.lines_skipped_duplicate = skipped_newlines + u64::from(last_skipped != b'\n');
        stats.lines_total = stats.lines_skipped_duplicate;
        stats.bytes = input.bytes;
        stats.seconds = started.elapsed().as_secs_f64();
        return Ok(stats);
    }
    stats.lines_skipped_duplicate = known.lines;
    let mut lines = known.lines;

    let mut batch = db.batch();
    let mut too_long = false;
    // Bytes of the current too-long line dropped so far.
    let mut dropped = 0u64;
    let mut ring_written = Instant::now();
    loop {
        while let Some(i) = memchr::memchr(b'\n', &input.buf[input.start..input.end]) {
            // A full batch is committed when the next line arrives, so the last batch of the
            // stream is never empty and writes the ring rows left for it.
            if batch.lines() >= options.batch_lines || batch.footprint() >= options.batch_footprint
            {
                let mut full = std::mem::replace(&mut batch, db.batch());
                if ring_written.elapsed() < RING_EVERY {
                    full.leave_ring_for_later();
                } else {
                    ring_written = Instant::now();
                }
                commit(db, full, &identity, Cursor { offset, lines }, &mut stats)?;
            }
            let line = &input.buf[input.start..input.start + i + 1];
            if too_long {
                too_long = false;
                dropped = 0;
                count_too_long(&mut batch);
            } else {
                count_line(&mut batch, &options.format, line);
            }
            input.start += i + 1;
            offset += (i + 1) as u64;
            lines += 1;
        }
        if input.eof {
            break;
        }
        if input.start == 0 && input.end == input.buf.len() {
            // A line longer than the buffer: drop its bytes, count it once at its end.
            too_long = true;
            offset += input.end as u64;
            dropped += input.end as u64;
            input.start = input.end;
        }
        input.compact();
        input.read_more()?;
    }
    if !options.complete && (input.start < input.end || too_long) {
        // A line still being written: leave it (and the cursor) for the next import.
        offset -= dropped;
        stats.lines_held_back = 1;
        stats.bytes_held_back = dropped + (input.end - input.start) as u64;
    } else if input.start < input.end || too_long {
        if too_long {
            count_too_long(&mut batch);
        } else {
            count_line(
                &mut batch,
                &options.format,
                &input.buf[input.start..input.end],
            );
        }
        offset += (input.end - input.start) as u64;
        lines += 1;
    }
    if !batch.is_empty() {
        commit(db, batch, &identity, Cursor { offset, lines }, &mut stats)?;
    }
    stats.lines_total = stats.lines_skipped_duplicate + stats.lines_parsed + stats.lines_malformed;
    stats.bytes = input.bytes;
    stats.seconds = started.elapsed().as_secs_f64();
    Ok(stats)
}

/// The one place a log line becomes a count: parsed in `format` and added to `batch`,
/// or counted as malformed by kind. Used by [`import()`] and by the follower.
#[inline]
pub fn count_line(batch: &mut Batch, format: &LogFormat, line: &[u8]) {
    match format.parse(line) {
        Ok(entry) => batch.add(&entry),
        Err(e) => batch.add_malformed(&e),
    }
}

/// A line longer than the reader keeps (its bytes were skipped): one malformed
/// `too_long` line. Used by [`import()`] and by the follower.
#[inline]
pub fn count_too_long(batch: &mut Batch) {
    batch.add_malformed(&ParseError::TooLong);
}

fn commit(
    db: &mut HoneyDb,
    batch: Batch,
    identity: &FileIdentity,
    cursor: Cursor,
    stats: &mut ImportStats,
) -> Result<(), ImportError> {
    let done = db.commit(batch, Some((identity, cursor)))?;
    stats.lines_parsed += done.lines_parsed;
    stats.lines_malformed += done.lines_malformed;
    for (status, n) in done.requests_by_status {
        *stats.requests_by_status.entry(status).or_insert(0) += n;
    }
    for (kind, n) in done.malformed_by_kind {
        *stats.malformed_by_kind.entry(kind.to_owned()).or_insert(0) += n;
    }
    Ok(())
}

struct Input<'a, R, P> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    bytes: u64,
    name: &'a str,
    progress: P,
}

impl<R: Read, P: FnMut(u64) -> bool> Input<'_, R, P> {
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// One read into the free tail of the buffer (which must not be full).
    fn read_more(&mut self) -> Result<(), ImportError> {
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    self.bytes += n as u64;
                    if !(self.progress)(self.bytes) {
                        return Err(ImportError::Stopped {
                            name: self.name.to_owned(),
                        });
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(ImportError::Read {
                        name: self.name.to_owned(),
                        source,
                    });
                }
            }
        }
    }
}

//! Following one log file: complete lines only, byte-exact offsets, rotation checks.
//!
//! A [`TailFile`] is an open file read with `pread` from `read_pos`; it hands out complete
//! lines (ending in `\n`) and keeps an incomplete last line buffered until its newline is
//! written, so the cursor offset ([`TailFile::consumed`]) always sits on a line boundary.
//! [`TailFile::check_path`] tells whether the path still names this file (same `(dev,
//! inode)` and same first bytes), was truncated in place (copytruncate), replaced by a new
//! file (rename-and-create) or is gone.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use honeybot_db::{Cursor, FileIdentity};

/// Bytes read per `pread`.
const CHUNK: usize = 64 * 1024;

/// A line longer than this (without newline) is skipped up to its newline and counted as
/// one malformed `too_long` line; bounds memory on hostile input.
pub const MAX_LINE: usize = 64 * 1024;

/// An I/O error with the path it happened on.
#[derive(Debug, thiserror::Error)]
#[error("{op} {path}")]
pub struct FollowError {
    pub op: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl FollowError {
    fn new(op: &'static str, path: &Path, source: io::Error) -> Self {
        FollowError {
            op,
            path: path.to_owned(),
            source,
        }
    }
}

/// One unit handed to the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line, including its `\n`.
    Complete(&'a [u8]),
    /// A line longer than [`MAX_LINE`] that was skipped.
    TooLong,
}

/// What the path of a followed file names now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathState {
    /// Still this file, possibly grown.
    Same,
    /// This inode, but shorter than what was read or with other first bytes: truncated in
    /// place (copytruncate) and perhaps written again.
    Truncated,
    /// Another file now has the name (rename-and-create rotation).
    Replaced,
    /// Nothing has the name (deleted, or renamed and not yet recreated).
    Missing,
}

/// An open log file being read.
#[derive(Debug)]
pub struct TailFile {
    path: PathBuf,
    file: File,
    dev: u64,
    ino: u64,
    /// First bytes of the file (up to `FileIdentity::PREFIX_LEN`), as far as read.
    prefix: Vec<u8>,
    read_pos: u64,
    consumed: u64,
    lines: u64,
    /// Bytes `[consumed, read_pos)`: the incomplete last line (unless `discarding`).
    pending: Vec<u8>,
    /// Inside a line longer than [`MAX_LINE`]: its bytes are dropped, `skipped` counts them.
    discarding: bool,
    skipped: u64,
    /// Scratch buffer for reads.
    chunk: Vec<u8>,
}

impl TailFile {
    /// Open `path` positioned at its start; call [`TailFile::resume`] once the file has data.
    pub fn open(path: &Path) -> Result<Option<TailFile>, FollowError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FollowError::new("cannot open log", path, e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| FollowError::new("cannot stat log", path, e))?;
        let mut tail = TailFile {
            path: path.to_owned(),
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            prefix: Vec::with_capacity(FileIdentity::PREFIX_LEN),
            read_pos: 0,
            consumed: 0,
            lines: 0,
            pending: Vec::new(),
            discarding: false,
            skipped: 0,
            chunk: Vec::new(),
        };
        tail.fill_prefix()?;
        Ok(Some(tail))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn dev_inode(&self) -> (u64, u64) {
        (self.dev, self.ino)
    }

    /// Offset just after the last complete line handed out: the cursor offset.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Lines handed out before [`TailFile::consumed`] (counting from the file's start).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Whether any byte of the file is known (an empty file has no identity yet).
    pub fn has_data(&self) -> bool {
        !self.prefix.is_empty()
    }

    /// The content identity of the file as far as it is known (grows up to
    /// `PREFIX_LEN` bytes, then is final), with `(dev, inode)` attached.
    pub fn identity(&self) -> FileIdentity {
        FileIdentity::from_prefix(&self.prefix).with_dev_inode(self.dev, self.ino)
    }

    /// The cursor that covers everything handed out so far.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            offset: self.consumed,
            lines: self.lines,
        }
    }

    /// Continue after a committed cursor. Only valid before anything was read.
    pub fn resume(&mut self, cursor: Cursor) {
        debug_assert_eq!(self.consumed, 0);
        self.read_pos = cursor.offset;
        self.consumed = cursor.offset;
        self.lines = cursor.lines;
        self.pending.clear();
        self.discarding = false;
        self.skipped = 0;
    }

    /// Re-read the first bytes (a file opened empty may have grown; `prefix` must be known
    /// before the identity is used for a cursor lookup).
    pub fn fill_prefix(&mut self) -> Result<(), FollowError> {
        let have = self.prefix.len();
        if have >= FileIdentity::PREFIX_LEN {
            return Ok(());
        }
        self.prefix.resize(FileIdentity::PREFIX_LEN, 0);
        let mut filled = have;
        let result = loop {
            match self.file.read_at(&mut self.prefix[filled..], filled as u64) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == FileIdentity::PREFIX_LEN {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(FollowError::new("cannot read log", &self.path, e)),
            }
        };
        self.prefix.truncate(filled);
        result
    }

    /// Read what was appended since the last call and hand each complete line to
    /// `on_line`, stopping after about `max_bytes` read or exactly `max_lines` lines (the
    /// rest is read again next time). Returns the number of lines handed out.
    pub fn read_lines(
        &mut self,
        max_bytes: usize,
        max_lines: u64,
        mut on_line: impl FnMut(Line<'_>),
    ) -> Result<u64, FollowError> {
        let mut total = 0;
        let mut handed = 0;
        while total < max_bytes && handed < max_lines {
            self.chunk.resize(CHUNK, 0);
            let n = match self.file.read_at(&mut self.chunk, self.read_pos) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(FollowError::new("cannot read log", &self.path, e)),
            };
            if n == 0 {
                break;
            }
            self.read_pos += n as u64;
            total += n;
            if self.prefix.len() < FileIdentity::PREFIX_LEN
                && self.read_pos > self.prefix.len() as u64
            {
                self.fill_prefix()?;
            }
            let data = std::mem::take(&mut self.chunk);
            let stopped = self.split_lines(&data[..n], max_lines, &mut handed, &mut on_line);
            self.chunk = data;
            if stopped {
                // Stopped on a line boundary: forget what was read past it.
                self.read_pos = self.consumed;
                self.pending.clear();
                break;
            }
        }
        Ok(handed)
    }

    /// Split `data` (the bytes following `pending`) into lines. Returns true when it
    /// stopped at `max_lines` before the end of `data`.
    fn split_lines(
        &mut self,
        mut data: &[u8],
        max_lines: u64,
        handed: &mut u64,
        on_line: &mut impl FnMut(Line<'_>),
    ) -> bool {
        if self.discarding {
            match memchr::memchr(b'\n', data) {
                None => {
                    self.skipped += data.len() as u64;
                    return false;
                }
                Some(nl) => {
                    self.consumed += self.skipped + (nl + 1) as u64;
                    self.lines += 1;
                    self.skipped = 0;
                    self.discarding = false;
                    *handed += 1;
                    on_line(Line::TooLong);
                    data = &data[nl + 1..];
                }
            }
        } else if !self.pending.is_empty() {
            match memchr::memchr(b'\n', data) {
                None => {
                    self.pending.extend_from_slice(data);
                    self.check_too_long();
                    return false;
                }
                Some(nl) => {
                    self.pending.extend_from_slice(&data[..=nl]);
                    data = &data[nl + 1..];
                    self.consumed += self.pending.len() as u64;
                    self.lines += 1;
                    *handed += 1;
                    if self.pending.len() > MAX_LINE + 1 {
                        on_line(Line::TooLong);
                    } else {
                        on_line(Line::Complete(&self.pending));
                    }
                    self.pending.clear();
                }
            }
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', data) {
            if *handed >= max_lines {
                return true;
            }
            let line = &data[start..=nl];
            self.consumed += line.len() as u64;
            self.lines += 1;
            *handed += 1;
            if line.len() > MAX_LINE + 1 {
                on_line(Line::TooLong);
            } else {
                on_line(Line::Complete(line));
            }
            start = nl + 1;
        }
        if *handed >= max_lines && start < data.len() {
            return true;
        }
        self.pending.extend_from_slice(&data[start..]);
        self.check_too_long();
        false
    }

    fn check_too_long(&mut self) {
        if self.pending.len() > MAX_LINE {
            self.skipped = self.pending.len() as u64;
            self.pending.clear();
            self.pending.shrink_to(MAX_LINE);
            self.discarding = true;
        }
    }

    /// Compare the path with the open file.
    pub fn check_path(&mut self) -> Result<PathState, FollowError> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(PathState::Missing),
            Err(e) => return Err(FollowError::new("cannot stat log", &self.path, e)),
        };
        if (meta.dev(), meta.ino()) != (self.dev, self.ino) {
            return Ok(PathState::Replaced);
        }
        if meta.len() < self.read_pos {
            return Ok(PathState::Truncated);
        }
        // Truncated and written past our position again before we looked: the first
        // bytes differ from the ones we know.
        if !self.prefix.is_empty() {
            let mut now = vec![0u8; self.prefix.len()];
            let n = read_full_at(&self.file, &mut now, 0)
                .map_err(|e| FollowError::new("cannot read log", &self.path, e))?;
            if n < self.prefix.len() || now != self.prefix {
                return Ok(PathState::Truncated);
            }
        }
        Ok(PathState::Same)
    }

    /// Current size of the open file (for lag).
    pub fn file_len(&self) -> u64 {
        self.file.metadata().map_or(self.read_pos, |m| m.len())
    }
}

fn read_full_at(file: &File, buf: &mut [u8], mut offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

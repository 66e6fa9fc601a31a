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
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt};
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
    pub(crate) fn new(op: &'static str, path: &Path, source: io::Error) -> Self {
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
    /// The configured log this file belongs to (stored with its cursor).
    label: PathBuf,
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
    /// Scratch buffers for reads and prefix checks.
    chunk: Vec<u8>,
    scratch: Vec<u8>,
}

/// What [`TailFile::read_lines`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadResult {
    /// Lines handed out.
    pub lines: u64,
    /// The file was found truncated (its first bytes changed): stop reading it.
    pub truncated: bool,
}

impl TailFile {
    /// Open `path` positioned at its start; call [`TailFile::resume`] once the file has data.
    /// `Ok(None)` when nothing has the name. Only a regular file is opened ([`open_log`]).
    pub fn open(path: &Path) -> Result<Option<TailFile>, FollowError> {
        let Some((file_handle, meta)) = open_log(path)? else {
            return Ok(None);
        };
        let mut tail = TailFile {
            path: path.to_owned(),
            label: path.to_owned(),
            file: file_handle,
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
            scratch: Vec::new(),
        };
        tail.fill_prefix()?;
        Ok(Some(tail))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Store the cursor under the configured log `label` (this file is a rotated name of it).
    pub fn with_label(mut self, label: &Path) -> Self {
        self.label = label.to_owned();
        self
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
        FileIdentity::from_prefix(&self.prefix)
            .with_dev_inode(self.dev, self.ino)
            .with_path(self.label.to_string_lossy())
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
        self.reposition(cursor);
    }

    /// Continue at `cursor` instead of where reading stands, forward or back (another
    /// importer committed this file up to `cursor`): the incomplete line buffered is
    /// forgotten and read again from the file. `cursor` must sit on a line boundary.
    pub fn reposition(&mut self, cursor: Cursor) {
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
    /// rest is read again next time).
    ///
    /// Every chunk is checked against the file's first bytes after it was read: if the
    /// file was truncated and written again past our position (copytruncate between two
    /// scans), the chunk belongs to new content and is not handed out; the result says
    /// `truncated` and this file must not be read further.
    pub fn read_lines(
        &mut self,
        max_bytes: usize,
        max_lines: u64,
        mut on_line: impl FnMut(Line<'_>),
    ) -> Result<ReadResult, FollowError> {
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
            if !self.prefix_intact()? {
                return Ok(ReadResult {
                    lines: handed,
                    truncated: true,
                });
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
        Ok(ReadResult {
            lines: handed,
            truncated: false,
        })
    }

    /// Whether the file still starts with the bytes we know.
    fn prefix_intact(&mut self) -> Result<bool, FollowError> {
        if self.prefix.is_empty() {
            return Ok(true);
        }
        let mut now = std::mem::take(&mut self.scratch);
        now.resize(self.prefix.len(), 0);
        let n = read_full_at(&self.file, &mut now, 0)
            .map_err(|e| FollowError::new("cannot read log", &self.path, e))?;
        let intact = n == self.prefix.len() && now == self.prefix;
        self.scratch = now;
        Ok(intact)
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
        // lstat: a symlink put in the log's place is another file (and is refused on open).
        let meta = match std::fs::symlink_metadata(&self.path) {
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
        if !self.prefix_intact()? {
            return Ok(PathState::Truncated);
        }
        Ok(PathState::Same)
    }

    /// Current size of the open file (for lag).
    pub fn file_len(&self) -> u64 {
        self.file.metadata().map_or(self.read_pos, |m| m.len())
    }
}

/// Open a log for reading without following a symlink in its last component and without
/// blocking (`O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`), and keep it only if it is a regular
/// file: a symlink (to `/etc/shadow`, `/dev/zero`, ...), a FIFO, a device, a socket or a
/// directory is refused with an error saying what it is, before a byte is read from it.
/// `Ok(None)` when nothing has the name.
pub fn open_log(path: &Path) -> Result<Option<(File, std::fs::Metadata)>, FollowError> {
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path);
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(FollowError::new(
                "refusing to follow a symbolic link (configure the file it points to)",
                path,
                e,
            ));
        }
        Err(e) => return Err(FollowError::new("cannot open log", path, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| FollowError::new("cannot stat log", path, e))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        let what = if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_char_device() {
            "a character device"
        } else if ft.is_block_device() {
            "a block device"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(FollowError::new(
            "refusing to read a log that is not a regular file",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, format!("it is {what}")),
        ));
    }
    Ok(Some((file, meta)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(tail: &mut TailFile, max_lines: u64) -> Vec<String> {
        let mut out = Vec::new();
        let r = tail
            .read_lines(usize::MAX, max_lines, |l| match l {
                Line::Complete(b) => out.push(String::from_utf8_lossy(b).into_owned()),
                Line::TooLong => out.push("<too long>".into()),
            })
            .expect("read");
        assert!(!r.truncated);
        out
    }

    fn append(path: &Path, data: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .expect("open for append");
        f.write_all(data).expect("append");
    }

    #[test]
    fn partial_last_line_waits_for_its_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("access.log");
        append(&path, b"one\ntw");
        let mut tail = TailFile::open(&path).expect("open").expect("exists");
        assert_eq!(collect(&mut tail, u64::MAX), ["one\n"]);
        assert_eq!(
            tail.cursor(),
            Cursor {
                offset: 4,
                lines: 1
            }
        );
        append(&path, b"o\nthree");
        assert_eq!(collect(&mut tail, u64::MAX), ["two\n"]);
        assert_eq!(
            tail.cursor(),
            Cursor {
                offset: 8,
                lines: 2
            }
        );
        append(&path, b"\n");
        assert_eq!(collect(&mut tail, u64::MAX), ["three\n"]);
        assert_eq!(
            tail.cursor(),
            Cursor {
                offset: 14,
                lines: 3
            }
        );
    }

    #[test]
    fn line_limit_stops_on_a_boundary_and_continues_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("access.log");
        append(&path, b"a\nb\nc\nd\ne");
        let mut tail = TailFile::open(&path).expect("open").expect("exists");
        assert_eq!(collect(&mut tail, 2), ["a\n", "b\n"]);
        assert_eq!(
            tail.cursor(),
            Cursor {
                offset: 4,
                lines: 2
            }
        );
        assert_eq!(collect(&mut tail, 2), ["c\n", "d\n"]);
        append(&path, b"\n");
        assert_eq!(collect(&mut tail, 2), ["e\n"]);
    }

    #[test]
    fn resume_starts_after_the_cursor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("access.log");
        append(&path, b"a\nb\nc\n");
        let mut tail = TailFile::open(&path).expect("open").expect("exists");
        tail.resume(Cursor {
            offset: 2,
            lines: 1,
        });
        assert_eq!(collect(&mut tail, u64::MAX), ["b\n", "c\n"]);
        assert_eq!(
            tail.cursor(),
            Cursor {
                offset: 6,
                lines: 3
            }
        );
        assert_eq!(
            tail.identity().fingerprint_hex(),
            FileIdentity::from_prefix(b"a\nb\nc\n").fingerprint_hex()
        );
    }

    #[test]
    fn reposition_moves_forward_and_back_on_line_boundaries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("access.log");
        append(&path, b"a\nb\nc\nd\ne");
        let mut tail = TailFile::open(&path).expect("open").expect("exists");
        assert_eq!(collect(&mut tail, 1), ["a\n"]);
        // Another importer counted up to "c": skip ahead, the partial "e" stays unread.
        tail.reposition(Cursor {
            offset: 6,
            lines: 3,
        });
        assert_eq!(collect(&mut tail, u64::MAX), ["d\n"]);
        // Back to "b" (the pending partial line is forgotten, not handed out twice).
        tail.reposition(Cursor {
            offset: 2,
            lines: 1,
        });
        append(&path, b"\n");
        assert_eq!(collect(&mut tail, u64::MAX), ["b\n", "c\n", "d\n", "e\n"]);
        assert_eq!(
            tail.cursor(),
            Cursor {
                offset: 10,
                lines: 5
            }
        );
    }

    #[test]
    fn overlong_line_is_skipped_and_counted_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("access.log");
        append(&path, b"ok\n");
        append(&path, &vec![b'x'; MAX_LINE * 3]);
        let mut tail = TailFile::open(&path).expect("open").expect("exists");
        assert_eq!(collect(&mut tail, u64::MAX), ["ok\n"]);
        append(&path, b"x\nnext\n");
        assert_eq!(collect(&mut tail, u64::MAX), ["<too long>", "next\n"]);
        let len = std::fs::metadata(&path).expect("stat").len();
        assert_eq!(
            tail.cursor(),
            Cursor {
                offset: len,
                lines: 3
            }
        );
    }

    #[test]
    fn rotation_states_are_told_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("access.log");
        append(&path, b"first line\n");
        let mut tail = TailFile::open(&path).expect("open").expect("exists");
        collect(&mut tail, u64::MAX);
        assert_eq!(tail.check_path().expect("stat"), PathState::Same);

        // copytruncate, then written past the old position before we looked
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open")
            .set_len(0)
            .expect("truncate");
        assert_eq!(tail.check_path().expect("stat"), PathState::Truncated);
        append(&path, b"other content, longer\n");
        assert_eq!(tail.check_path().expect("stat"), PathState::Truncated);

        // Reading never hands out the new content as a continuation of the old.
        append(&path, b"more and more and more content\n");
        let mut handed = 0;
        let r = tail
            .read_lines(usize::MAX, u64::MAX, |_| handed += 1)
            .expect("read");
        assert!(r.truncated);
        assert_eq!((r.lines, handed), (0, 0));

        std::fs::rename(&path, dir.path().join("access.log.1")).expect("rename");
        assert_eq!(tail.check_path().expect("stat"), PathState::Missing);
        append(&path, b"new file\n");
        assert_eq!(tail.check_path().expect("stat"), PathState::Replaced);
    }
}

//! Text handed to the narrator by name (`say --file`, `speak FILE`): read with a size cap,
//! regular files only, so `/dev/zero`, a FIFO or a 5 GB file cannot make the process large or
//! hang it.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("reading {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a regular file")]
    NotRegular { path: PathBuf },
    #[error("{path} is larger than the limit of {limit} bytes (limits.max_text_bytes)")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path} is not UTF-8 text")]
    NotUtf8 { path: PathBuf },
}

/// The text of the regular file `path`, at most `limit` bytes. The file is opened
/// non-blocking (a FIFO does not hang the open) and checked to be a regular file before a
/// byte is read.
pub fn read_file_capped(path: &Path, limit: u64) -> Result<String, InputError> {
    let open = |source| InputError::Open {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
        .map_err(open)?;
    let meta = file.metadata().map_err(open)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            path: path.to_owned(),
        });
    }
    if meta.len() > limit {
        return Err(InputError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    read_capped(file, limit, path)
}

/// At most `limit` bytes of UTF-8 text from `reader` (`name` only names it in errors).
pub fn read_capped(reader: impl Read, limit: u64, name: &Path) -> Result<String, InputError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Open {
            path: name.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            path: name.to_owned(),
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|_| InputError::NotUtf8 {
        path: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_large_files_are_refused_small_files_read() {
        let err = read_file_capped(Path::new("/dev/zero"), 1024).expect_err("device");
        assert!(matches!(err, InputError::NotRegular { .. }), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        let err = read_file_capped(&fifo, 1024).expect_err("fifo");
        assert!(matches!(err, InputError::NotRegular { .. }), "{err}");
        let big = dir.path().join("big.md");
        std::fs::write(&big, "a".repeat(2000)).expect("write");
        let err = read_file_capped(&big, 1024).expect_err("too large");
        assert!(err.to_string().contains("limit of 1024 bytes"), "{err}");
        assert_eq!(read_file_capped(&big, 2000).expect("fits").len(), 2000);
    }
}

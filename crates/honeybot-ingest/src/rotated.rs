//! Rotated siblings of a followed log: where logrotate puts the file that was the log.
//!
//! The names come from `rotated_names` patterns (`{name}` is the log's file name, `*`
//! any run of characters, `?` one; a `/` in a pattern names another directory, relative
//! to the log's). The defaults, `{name}.*` and `{name}-*`, cover logrotate's numbered
//! names (`access.log.1`, `access.log.2.gz`), `dateext` (`access.log-20261205`,
//! `access.log-20261205.gz`) and the Debian and NixOS nginx packages, which rotate
//! `/var/log/nginx/*.log` in place with `compress` + `delaycompress`.
//!
//! A sibling is looked at only through [`probe`]: opened like a followed log (regular
//! files only, no symlinks, never blocking), identified by the content of its first bytes
//! (a gzip file by its decompressed first bytes) and its decoded size where it is cheap
//! to know (a plain file's length; gzip's `ISIZE` trailer).

use std::cmp::Reverse;
use std::io::Read;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use honeybot_db::FileIdentity;

use crate::follow::{FollowError, open_log};

/// Default of `rotated_names`.
pub const DEFAULT_ROTATED_NAMES: &[&str] = &["{name}.*", "{name}-*"];

/// Where a sibling stands in the rotation: numbered names count up with age, dated names
/// count up with time. `Ord`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// `name.N` / `name.N.gz`: smaller is newer.
    Numbered(u64),
    /// `name-YYYYMMDD[...]`: the digits, later is newer.
    Dated(Reverse<String>),
}

/// One rotated file next to a log.
#[derive(Debug, Clone)]
pub struct Sibling {
    pub path: PathBuf,
    /// `None` when the name does not say where it stands (e.g. `access.log.bak`): such a
    /// file is only drained when it has an unfinished cursor.
    pub rank: Option<Rank>,
}

/// The rotated siblings of `log` under `patterns`, newest first (ranked ones first, then
/// the unranked ones by name). The log itself is never one.
pub fn siblings(log: &Path, patterns: &[String]) -> Vec<Sibling> {
    let Some(name) = log.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let dir = crate::watch::dir_of(log);
    let mut found: Vec<Sibling> = Vec::new();
    for pattern in patterns {
        let (pdir, pname) = split_pattern(&dir, &pattern.replace("{name}", name));
        let Ok(entries) = std::fs::read_dir(&pdir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(fname) = file_name.to_str() else {
                continue;
            };
            if !glob_match(&pname, fname) {
                continue;
            }
            let path = pdir.join(fname);
            if path == log || found.iter().any(|s| s.path == path) {
                continue;
            }
            found.push(Sibling {
                rank: rank_of(name, fname),
                path,
            });
        }
    }
    found.sort_by(|a, b| match (&a.rank, &b.rank) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.path.cmp(&b.path),
    });
    found
}

/// A pattern's directory (relative to the log's `dir`) and file-name part.
fn split_pattern(dir: &Path, pattern: &str) -> (PathBuf, String) {
    match pattern.rsplit_once('/') {
        Some(("", n)) => (PathBuf::from("/"), n.to_owned()),
        Some((d, n)) => (dir.join(d), n.to_owned()),
        None => (dir.to_owned(), pattern.to_owned()),
    }
}

/// Whether `candidate` is a rotated name of `log` under `patterns` (whether or not it
/// exists).
pub fn is_rotated_name(log: &Path, candidate: &Path, patterns: &[String]) -> bool {
    let (Some(name), Some(cand)) = (
        log.file_name().and_then(|n| n.to_str()),
        candidate.file_name().and_then(|n| n.to_str()),
    ) else {
        return false;
    };
    let dir = crate::watch::dir_of(log);
    patterns.iter().any(|p| {
        let (pdir, pname) = split_pattern(&dir, &p.replace("{name}", name));
        crate::watch::dir_of(candidate) == pdir && glob_match(&pname, cand)
    })
}

/// `*` any run of characters, `?` exactly one; everything else literally.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == n[ni])) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Where `file` (a name that starts with or contains the log's `name`) stands.
fn rank_of(name: &str, file: &str) -> Option<Rank> {
    let rest = file.strip_prefix(name)?;
    let rest = rest.strip_suffix(".gz").unwrap_or(rest);
    let digits = rest.strip_prefix('.').or_else(|| rest.strip_prefix('-'))?;
    if digits.is_empty() {
        return None;
    }
    if digits.len() < 8 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.parse().ok().map(Rank::Numbered);
    }
    // dateext: digits with optional separators (-, _, .), at least a full date.
    let only: String = digits.chars().filter(char::is_ascii_digit).collect();
    let separators_only = digits
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    (separators_only && only.len() >= 8).then_some(Rank::Dated(Reverse(only)))
}

/// What [`probe`] learnt about a file.
#[derive(Debug)]
pub struct Probe {
    pub dev_inode: (u64, u64),
    pub gzip: bool,
    /// Content identity (of the decompressed stream for gzip).
    pub identity: FileIdentity,
    /// Decoded size: the length of a plain file; gzip's `ISIZE` (decoded size mod 2^32,
    /// of the last member), `None` if the trailer cannot be read.
    pub size: Option<u64>,
    /// Size on disk.
    pub file_len: u64,
}

impl Probe {
    /// Whether `offset` (a cursor) is at the end of the decoded content, as far as that is
    /// cheap to tell (a gzip file whose `ISIZE` matches counts as read).
    pub fn is_read_up_to(&self, offset: u64) -> bool {
        match (self.gzip, self.size) {
            (false, Some(len)) => offset >= len,
            (true, Some(isize)) => offset % (1 << 32) == isize,
            (_, None) => false,
        }
    }
}

/// Open `path` as a log (see [`open_log`]) and identify it. `Ok(None)` when it is gone.
pub fn probe(path: &Path) -> Result<Option<Probe>, FollowError> {
    let Some((file, meta)) = open_log(path)? else {
        return Ok(None);
    };
    let read_err = |e| FollowError::new("cannot read rotated log", path, e);
    let mut head = [0u8; 2];
    let n = file.read_at(&mut head, 0).map_err(read_err)?;
    let gzip = n == 2 && head == [0x1f, 0x8b];
    let dev_inode = (meta.dev(), meta.ino());
    if !gzip {
        let mut prefix = vec![0u8; FileIdentity::PREFIX_LEN];
        let mut filled = 0;
        while filled < prefix.len() {
            match file.read_at(&mut prefix[filled..], filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_err(e)),
            }
        }
        prefix.truncate(filled);
        return Ok(Some(Probe {
            dev_inode,
            gzip,
            identity: FileIdentity::from_prefix(&prefix).with_path(path.to_string_lossy()),
            size: Some(meta.len()),
            file_len: meta.len(),
        }));
    }
    let mut prefix = Vec::with_capacity(FileIdentity::PREFIX_LEN);
    flate2::read::MultiGzDecoder::new(&file)
        .take(FileIdentity::PREFIX_LEN as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| FollowError::new("cannot decompress rotated log", path, e))?;
    let mut trailer = [0u8; 4];
    let size = (meta.len() >= 18)
        .then(|| file.read_exact_at(&mut trailer, meta.len() - 4).ok())
        .flatten()
        .map(|()| u64::from(u32::from_le_bytes(trailer)));
    Ok(Some(Probe {
        dev_inode,
        gzip,
        identity: FileIdentity::from_prefix(&prefix).with_path(path.to_string_lossy()),
        size,
        file_len: meta.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("access.log.*", "access.log.1"));
        assert!(glob_match("access.log.*", "access.log.2.gz"));
        assert!(!glob_match("access.log.*", "access.log"));
        assert!(glob_match("access.log-*", "access.log-20261205.gz"));
        assert!(glob_match("a?c*", "abcdef"));
        assert!(!glob_match("a?c", "abbc"));
    }

    #[test]
    fn ranks_order_newest_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "access.log",
            "access.log.1",
            "access.log.10.gz",
            "access.log.2.gz",
            "access.log-20261204.gz",
            "access.log-20261205",
            "access.log.bak",
            "other.log.1",
        ] {
            std::fs::write(dir.path().join(name), b"x\n").expect("write");
        }
        let log = dir.path().join("access.log");
        let patterns: Vec<String> = DEFAULT_ROTATED_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let names: Vec<String> = siblings(&log, &patterns)
            .iter()
            .map(|s| {
                s.path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "access.log.1",
                "access.log.2.gz",
                "access.log.10.gz",
                "access.log-20261205",
                "access.log-20261204.gz",
                "access.log.bak"
            ]
        );
    }
}

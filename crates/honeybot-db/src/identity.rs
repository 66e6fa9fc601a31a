//! Content identity of a log file.

/// Identifies a log file by the content of its first [`FileIdentity::PREFIX_LEN`] bytes.
///
/// Access-log lines start with distinct timestamps, so the first bytes of a log tell files
/// apart, while a renamed, copied, compressed-then-decompressed or grown file keeps them:
/// the same content is the same file, whatever its name or inode.
///
/// A file shorter than `PREFIX_LEN` has a provisional identity over the bytes it has; when
/// it grows, [`crate::HoneyDb::cursor`] still finds its cursor (the stored prefix length is
/// compared with the same number of leading bytes) and the next commit re-keys the cursor
/// to the longer prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct FileIdentity {
    prefix: Vec<u8>,
    fingerprint: blake3::Hash,
    /// `(st_dev, st_ino)` of the file when known; stored for operators, not used to match.
    pub dev_inode: Option<(u64, u64)>,
    /// Where the file was read from, when known; stored for operators, not used to match.
    pub path: Option<String>,
}

impl std::fmt::Debug for FileIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileIdentity")
            .field("fingerprint", &self.fingerprint_hex())
            .field("prefix_len", &self.prefix.len())
            .field("dev_inode", &self.dev_inode)
            .finish()
    }
}

impl FileIdentity {
    /// How many leading bytes identify a file.
    pub const PREFIX_LEN: usize = 1024;

    /// The identity of a file that starts with `prefix` (only the first `PREFIX_LEN` bytes
    /// are used; pass fewer when the file is shorter).
    pub fn from_prefix(prefix: &[u8]) -> Self {
        let prefix = &prefix[..prefix.len().min(Self::PREFIX_LEN)];
        Self {
            prefix: prefix.to_vec(),
            fingerprint: fingerprint(prefix),
            dev_inode: None,
            path: None,
        }
    }

    /// The same identity with `(st_dev, st_ino)` hints attached.
    pub fn with_dev_inode(mut self, dev: u64, inode: u64) -> Self {
        self.dev_inode = Some((dev, inode));
        self
    }

    /// The same identity with the path it was read from attached.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Number of bytes the fingerprint covers (`PREFIX_LEN` unless the file was shorter).
    pub fn prefix_len(&self) -> usize {
        self.prefix.len()
    }

    /// Whether the identity covers the full `PREFIX_LEN` bytes (is final).
    pub fn is_complete(&self) -> bool {
        self.prefix.len() == Self::PREFIX_LEN
    }

    /// Hex BLAKE3 hash of the prefix: the key of the cursor in `import_cursors`.
    pub fn fingerprint_hex(&self) -> String {
        self.fingerprint.to_hex().to_string()
    }

    /// A shorter copy is recognised from this many bytes on: two different logs can share
    /// a first line or two (a header comment, the same first request), not half a KiB.
    pub const MIN_CHECKPOINT: usize = 512;

    /// `(fingerprint, length, lines)` of every prefix of this file that ends on a line
    /// boundary at or before `upto` (within the identity's bytes): a shorter copy of the
    /// file that ends there is that prefix.
    pub(crate) fn line_checkpoints(&self, upto: u64) -> Vec<(String, usize, u64)> {
        let end = self
            .prefix
            .len()
            .min(usize::try_from(upto).unwrap_or(usize::MAX));
        memchr::memchr_iter(b'\n', &self.prefix[..end])
            .enumerate()
            .filter(|(_, nl)| nl + 1 >= Self::MIN_CHECKPOINT)
            .map(|(i, nl)| {
                (
                    fingerprint(&self.prefix[..=nl]).to_hex().to_string(),
                    nl + 1,
                    i as u64 + 1,
                )
            })
            .collect()
    }

    /// Whether two files start with the same bytes as far as both are known (one may be
    /// a shorter, provisional prefix of the other): the same content, one cursor.
    pub fn same_start(&self, other: &FileIdentity) -> bool {
        let n = self.prefix_len().min(other.prefix_len());
        n > 0 && self.prefix[..n] == other.prefix[..n]
    }

    /// Whether a cursor stored under `fingerprint_hex` for a prefix of `prefix_len` bytes
    /// belongs to this file (its first `prefix_len` bytes have that fingerprint).
    pub fn matches(&self, fingerprint_hex: &str, prefix_len: usize) -> bool {
        self.fingerprint_of_first(prefix_len).as_deref() == Some(fingerprint_hex)
    }

    /// The fingerprint of the first `len` bytes of this file's prefix, if it has that many.
    pub(crate) fn fingerprint_of_first(&self, len: usize) -> Option<String> {
        self.prefix
            .get(..len)
            .map(|p| fingerprint(p).to_hex().to_string())
    }
}

fn fingerprint(prefix: &[u8]) -> blake3::Hash {
    blake3::Hasher::new_derive_key("honeybot 2026 log file identity v1")
        .update(prefix)
        .finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_first_bytes_same_identity() {
        let a: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let mut grown = a.clone();
        grown.extend_from_slice(b"more lines\n");
        assert_eq!(
            FileIdentity::from_prefix(&a).fingerprint_hex(),
            FileIdentity::from_prefix(&grown).fingerprint_hex()
        );
        let mut other = a.clone();
        other[10] ^= 1;
        assert_ne!(
            FileIdentity::from_prefix(&a).fingerprint_hex(),
            FileIdentity::from_prefix(&other).fingerprint_hex()
        );
        assert!(FileIdentity::from_prefix(&a).is_complete());
    }

    #[test]
    fn short_file_knows_its_shorter_prefixes() {
        let short = FileIdentity::from_prefix(b"line one\n");
        let long = FileIdentity::from_prefix(b"line one\nline two\n");
        assert!(!short.is_complete());
        assert_eq!(
            long.fingerprint_of_first(short.prefix_len()),
            Some(short.fingerprint_hex())
        );
        assert_eq!(short.fingerprint_of_first(100), None);
    }
}

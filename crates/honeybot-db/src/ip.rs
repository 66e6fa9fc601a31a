//! IP privacy: client addresses kept whole, truncated or keyed-hashed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// How client addresses are stored.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum IpMode {
    /// Addresses (and hostnames) as written in the log.
    #[default]
    Full,
    /// IPv4 cut to its /24 (`203.0.113.0`), IPv6 to its /48 (`2001:db8:1::`); hostnames kept.
    Truncate,
    /// `h:` + 32 hex digits of a keyed BLAKE3 hash of the address or hostname. The same
    /// client always maps to the same value under one key; without the key it cannot be
    /// reversed by trying all addresses.
    Hash { key: Vec<u8> },
}

impl fmt::Debug for IpMode {
    // Never print the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("Full"),
            Self::Truncate => f.write_str("Truncate"),
            Self::Hash { .. } => f.write_str("Hash { key: <redacted> }"),
        }
    }
}

/// Why an IP mode could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum IpModeError {
    #[error("unknown IP mode {0:?} (expected \"full\", \"truncate\" or \"hash\")")]
    Unknown(String),
    #[error("IP mode \"hash\" needs a key file")]
    MissingKey,
    #[error("cannot read IP hash key file {path}")]
    ReadKey {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("IP hash key file {path} holds fewer than 16 bytes")]
    ShortKey { path: std::path::PathBuf },
}

impl IpMode {
    /// Builds a mode from its config spelling (`full`, `truncate`, `hash`); `hash` reads its
    /// key from `key_file` (any content of at least 16 bytes; surrounding whitespace ignored).
    pub fn from_config(name: &str, key_file: Option<&Path>) -> Result<Self, IpModeError> {
        match name {
            "full" => Ok(Self::Full),
            "truncate" => Ok(Self::Truncate),
            "hash" => {
                let path = key_file.ok_or(IpModeError::MissingKey)?;
                let raw = std::fs::read(path).map_err(|source| IpModeError::ReadKey {
                    path: path.to_owned(),
                    source,
                })?;
                let key = raw.trim_ascii().to_vec();
                if key.len() < 16 {
                    return Err(IpModeError::ShortKey {
                        path: path.to_owned(),
                    });
                }
                Ok(Self::Hash { key })
            }
            other => Err(IpModeError::Unknown(other.to_owned())),
        }
    }

    /// The stored form of a client address (`addr` already unescaped).
    pub(crate) fn apply(&self, addr: &str) -> String {
        match self {
            Self::Full => addr.to_owned(),
            Self::Truncate => match addr.parse::<IpAddr>() {
                Ok(IpAddr::V4(v4)) => {
                    let [a, b, c, _] = v4.octets();
                    Ipv4Addr::new(a, b, c, 0).to_string()
                }
                Ok(IpAddr::V6(v6)) => {
                    let s = v6.segments();
                    Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
                }
                Err(_) => addr.to_owned(),
            },
            Self::Hash { key } => {
                let derived = blake3::derive_key("honeybot 2026 client address hash v1", key);
                let hash = blake3::keyed_hash(&derived, addr.as_bytes());
                let hex = hash.to_hex();
                format!("h:{}", &hex.as_str()[..32])
            }
        }
    }

    /// What `kv_store.ip_mode` records: the mode, and for `hash` a short fingerprint of the
    /// key (it reveals nothing usable about the key, but tells two keys apart).
    pub(crate) fn stored_label(&self) -> String {
        match self {
            Self::Hash { key } => {
                let check = blake3::derive_key("honeybot 2026 ip hash key check v1", key);
                let hex = blake3::Hash::from_bytes(check).to_hex();
                format!("hash (key {})", &hex.as_str()[..8])
            }
            other => other.name().to_owned(),
        }
    }

    /// The config spelling of this mode.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Truncate => "truncate",
            Self::Hash { .. } => "hash",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_keeps_everything() {
        assert_eq!(IpMode::Full.apply("203.0.113.77"), "203.0.113.77");
        assert_eq!(IpMode::Full.apply("2001:db8::1"), "2001:db8::1");
        assert_eq!(IpMode::Full.apply("crawl.example.com"), "crawl.example.com");
    }

    #[test]
    fn truncate_cuts_v4_to_24_and_v6_to_48() {
        let m = IpMode::Truncate;
        assert_eq!(m.apply("203.0.113.77"), "203.0.113.0");
        assert_eq!(m.apply("203.0.113.1"), m.apply("203.0.113.254"));
        assert_ne!(m.apply("203.0.113.1"), m.apply("203.0.114.1"));
        assert_eq!(m.apply("2001:db8:abcd:12:34::1"), "2001:db8:abcd::");
        assert_eq!(
            m.apply("2001:db8:abcd:ffff::9"),
            m.apply("2001:db8:abcd:1::1")
        );
        assert_eq!(m.apply("crawl.example.com"), "crawl.example.com");
    }

    #[test]
    fn hash_is_keyed_stable_and_hides_the_address() {
        let a = IpMode::Hash {
            key: b"0123456789abcdef-key-a".to_vec(),
        };
        let b = IpMode::Hash {
            key: b"0123456789abcdef-key-b".to_vec(),
        };
        let ha = a.apply("203.0.113.77");
        assert!(ha.starts_with("h:") && ha.len() == 34, "{ha}");
        assert!(!ha.contains("203"));
        assert_eq!(ha, a.apply("203.0.113.77"));
        assert_ne!(ha, a.apply("203.0.113.78"));
        assert_ne!(ha, b.apply("203.0.113.77"));
        assert!(a.apply("crawl.example.com").starts_with("h:"));
        assert!(!format!("{a:?}").contains("0123"));
    }

    #[test]
    fn hash_key_comes_from_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        std::fs::write(&path, "a-long-enough-secret-key\n").expect("write key");
        let m = IpMode::from_config("hash", Some(&path)).expect("hash mode");
        assert_eq!(
            m,
            IpMode::Hash {
                key: b"a-long-enough-secret-key".to_vec()
            }
        );
        std::fs::write(&path, "short").expect("write key");
        assert!(matches!(
            IpMode::from_config("hash", Some(&path)),
            Err(IpModeError::ShortKey { .. })
        ));
        assert!(matches!(
            IpMode::from_config("hash", None),
            Err(IpModeError::MissingKey)
        ));
        let err = IpMode::from_config("hash", Some(&dir.path().join("missing")))
            .expect_err("missing key file");
        assert!(err.to_string().contains("missing"), "{err}");
        assert!(matches!(
            IpMode::from_config("mask", None),
            Err(IpModeError::Unknown(_))
        ));
    }
}

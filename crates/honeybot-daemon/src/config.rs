//! Strict TOML configuration files.
//!
//! The caller's config struct carries `#[serde(deny_unknown_fields)]`; this module turns
//! toml's error (message + byte span) into one line that names the file, the position and
//! the key, e.g. `/etc/honeybot/ingest.toml:3:1: key `batch_line`: unknown field ...`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a configuration file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Box<InvalidConfig>),
}

/// A config file that was read but not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidConfig {
    pub path: PathBuf,
    /// 1-based line and column of the offending text, when toml reported a position.
    pub position: Option<(usize, usize)>,
    /// The key the error is about (dotted for nested tables), when it can be told.
    pub key: Option<String>,
    /// toml's / serde's message, first line only.
    pub message: String,
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl ConfigError {
    /// The key the error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid(inv) => inv.key.as_deref(),
            ConfigError::Read { .. } => None,
        }
    }
}

/// Read and parse `path` as `T`.
pub fn load_toml<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_toml(path, &text)
}

/// Parse `text` (the content of `path`, used in messages) as `T`.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|err| {
        let message = err
            .message()
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let span = err.span();
        let position = span.as_ref().map(|s| line_col(text, s.start));
        // A missing field's span covers the whole table: its name is only in the message.
        let key = if message.starts_with("missing field") {
            backticked(&message)
        } else {
            span.as_ref()
                .and_then(|s| key_at(text, s.clone()))
                .or_else(|| backticked(&message))
        };
        let position = if message.starts_with("missing field") {
            None
        } else {
            position
        };
        ConfigError::Invalid(Box::new(InvalidConfig {
            path: path.to_owned(),
            position,
            key,
            message,
        }))
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The key an error span points at: the span itself when it covers a bare key (unknown
/// field), otherwise the key of the `key = value` line the span starts on (bad value),
/// prefixed with the enclosing `[table]` header.
fn key_at(text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let start = span.start.min(text.len());
    let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text
        .get(start..)?
        .find('\n')
        .map_or(text.len(), |i| start + i);
    let line = text.get(line_start..line_end)?;
    let (lhs, _) = line.split_once('=')?;
    let key = lhs.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') || key.starts_with('#') {
        return None;
    }
    let table = text
        .get(..line_start)?
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_owned(),
    })
}

/// `missing field `logs`` carries no useful span: take the backticked name.
fn backticked(message: &str) -> Option<String> {
    let (_, rest) = message.split_once('`')?;
    let (name, _) = rest.split_once('`')?;
    Some(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Cfg {
        name: String,
        #[serde(default)]
        count: u32,
        #[serde(default)]
        sub: Option<Sub>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sub {
        depth: u8,
    }

    fn err(text: &str) -> InvalidConfig {
        match parse_toml::<Cfg>(Path::new("/etc/x.toml"), text) {
            Err(ConfigError::Invalid(inv)) => *inv,
            other => panic!("expected an invalid-config error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_key_is_named_with_file_and_line() {
        let e = err("name = \"a\"\ncuont = 3\n");
        assert_eq!(e.key.as_deref(), Some("cuont"));
        assert_eq!(e.position, Some((2, 1)));
        let shown = e.to_string();
        assert!(
            shown.starts_with("/etc/x.toml:2:1: key `cuont`: unknown field"),
            "{shown}"
        );
    }

    #[test]
    fn bad_value_names_its_key() {
        let e = err("name = \"a\"\ncount = \"many\"\n");
        assert_eq!(e.key.as_deref(), Some("count"));
        assert_eq!(e.position.map(|p| p.0), Some(2));
    }

    #[test]
    fn nested_key_is_dotted() {
        let e = err("name = \"a\"\n[sub]\ndepth = 300\n");
        assert_eq!(e.key.as_deref(), Some("sub.depth"));
    }

    #[test]
    fn missing_key_is_named() {
        let e = err("count = 1\n");
        assert_eq!(e.key.as_deref(), Some("name"));
    }

    #[test]
    fn unreadable_file_names_its_path() {
        let e = load_toml::<Cfg>(Path::new("/nonexistent/honeybot.toml"))
            .expect_err("a missing file is an error");
        assert!(e.to_string().contains("/nonexistent/honeybot.toml"), "{e}");
    }
}

//! Settings: defaults < the TOML config file (strict) < command-line flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use honeybot_llm::{ClientConfig, Endpoint, Provider};
use serde::Deserialize;

/// `db` unless configured: a file in the current directory, like the other programs.
pub const DEFAULT_DB: &str = "honeybot.db";

/// The test command unless configured: nginx checks a small config of the janitor's that
/// includes the new map (`{config}`) inside a temporary prefix (`{dir}`).
pub fn default_test_command() -> Vec<String> {
    [
        "nginx",
        "-t",
        "-q",
        "-p",
        "{dir}/",
        "-e",
        "{dir}/error.log",
        "-c",
        "{config}",
    ]
    .map(String::from)
    .to_vec()
}

/// The config file: every key optional, unknown keys rejected (docs/janitor.md).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<PathBuf>,
    pub site: Option<PathBuf>,
    pub map: Option<PathBuf>,
    pub days: Option<u32>,
    pub min_hits: Option<u64>,
    pub no_llm: Option<bool>,
    pub dry_run: Option<bool>,
    pub format: Option<Format>,
    pub max_entries: Option<usize>,
    pub max_key_bytes: Option<usize>,
    pub map_hash_bucket_size: Option<usize>,
    pub min_score: Option<f64>,
    pub margin: Option<f64>,
    pub llm_floor: Option<f64>,
    pub top_k: Option<usize>,
    pub test_command: Option<Vec<String>>,
    pub reload_command: Option<Vec<String>>,
    /// A git work tree that gets a copy of the map committed after each run that changes it.
    pub git_repo: Option<PathBuf>,
    /// Where the copy goes inside `git_repo` (relative; default `honeybot-redirects.map`).
    pub git_path: Option<PathBuf>,
    pub llm: Option<LlmConfig>,
}

/// `[llm]`: the model that breaks ties. Absent: lexical choices only.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    pub provider: Option<Provider>,
    pub endpoint: Option<String>,
    pub model: String,
    pub timeout_secs: Option<u64>,
    pub max_queries: Option<u64>,
    pub api_key_file: Option<PathBuf>,
}

/// Output format of `run` and `list`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Command-line values; `None` / `false` = not given.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub site: Option<PathBuf>,
    pub map: Option<PathBuf>,
    pub days: Option<u32>,
    pub min_hits: Option<u64>,
    pub no_llm: bool,
    pub dry_run: bool,
    pub format: Option<Format>,
}

/// The model settings in effect.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub client: ClientConfig,
    pub max_queries: u64,
}

/// The resolved settings of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub db: PathBuf,
    pub site: Option<PathBuf>,
    pub map: Option<PathBuf>,
    pub days: u32,
    pub min_hits: u64,
    pub dry_run: bool,
    pub format: Format,
    pub max_entries: usize,
    /// The key length limit in effect: `max_key_bytes`, lowered to what
    /// `map_hash_bucket_size` holds.
    pub max_key_bytes: usize,
    pub map_hash_bucket_size: usize,
    pub min_score: f64,
    pub margin: f64,
    pub llm_floor: f64,
    pub top_k: usize,
    pub test_command: Vec<String>,
    pub reload_command: Option<Vec<String>>,
    /// Commit a copy of the map there (`git_repo`, `git_path`).
    pub git: Option<GitTarget>,
    /// `None` with `--no-llm` or without `[llm]`.
    pub llm: Option<LlmSettings>,
}

/// Where the map's copy is committed: `path` inside the work tree `repo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitTarget {
    pub repo: PathBuf,
    /// Relative, without `..` and outside `.git`.
    pub path: PathBuf,
}

/// A setting that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    File(#[from] honeybot_daemon::ConfigError),
    #[error("{origin}: {key}: {reason}")]
    Invalid {
        origin: String,
        key: &'static str,
        reason: String,
    },
}

impl Settings {
    /// Reads the config file named in `overrides` (if any) and applies the flags.
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        match &overrides.config {
            Some(path) => Self::resolve(honeybot_daemon::load_toml(path)?, path, overrides),
            None => Self::resolve(FileConfig::default(), Path::new("<defaults>"), overrides),
        }
    }

    /// Validates the config file at `path` as a run would, without reading the files it
    /// names (`llm.api_key_file`, the database, the site): `check-config`, which the NixOS
    /// module runs at build time, where the credential paths do not exist yet.
    pub fn check(path: &Path) -> Result<Settings, ConfigError> {
        let mut file: FileConfig = honeybot_daemon::load_toml(path)?;
        let key_file = file.llm.as_mut().and_then(|l| l.api_key_file.take());
        if key_file.as_ref().is_some_and(|k| !k.is_absolute()) {
            return Err(ConfigError::Invalid {
                origin: path.display().to_string(),
                key: "llm.api_key_file",
                reason: "must be an absolute path".into(),
            });
        }
        Self::resolve(file, path, &Overrides::default())
    }

    /// `file` (read from `origin`) with the flags applied, validated.
    pub fn resolve(
        file: FileConfig,
        origin: &Path,
        o: &Overrides,
    ) -> Result<Settings, ConfigError> {
        let invalid = |key, reason: String| ConfigError::Invalid {
            origin: origin.display().to_string(),
            key,
            reason,
        };
        let bucket = file.map_hash_bucket_size.unwrap_or(128);
        if !(32..=4096).contains(&bucket) {
            return Err(invalid("map_hash_bucket_size", "must be 32..4096".into()));
        }
        // nginx needs the key plus 18 bytes of bookkeeping in one bucket (64-bit).
        let max_key = file.max_key_bytes.unwrap_or(110).min(bucket - 18);
        if max_key < 2 {
            return Err(invalid("max_key_bytes", "must be at least 2".into()));
        }
        let unit = |key, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(invalid(key, format!("{v} is not within 0..1")))
            }
        };
        let test_command = file.test_command.unwrap_or_else(default_test_command);
        if test_command.is_empty() || !test_command.iter().any(|a| a.contains("{config}")) {
            return Err(invalid(
                "test_command",
                "must be a command with a {config} argument (the config that includes the new map)"
                    .into(),
            ));
        }
        if file.reload_command.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid(
                "reload_command",
                "must not be empty (omit it instead)".into(),
            ));
        }
        let git = match (file.git_repo, file.git_path) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(invalid(
                    "git_path",
                    "needs git_repo (the work tree to commit the map to)".into(),
                ));
            }
            (Some(repo), path) => {
                let path = path.unwrap_or_else(|| "honeybot-redirects.map".into());
                let inside = path
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)));
                let in_git_dir = path
                    .components()
                    .next()
                    .is_some_and(|c| c.as_os_str() == ".git");
                if !inside || in_git_dir || path.as_os_str().is_empty() {
                    return Err(invalid(
                        "git_path",
                        format!(
                            "{} must be a relative path inside the work tree (no `..`, not in .git)",
                            path.display()
                        ),
                    ));
                }
                if !repo.is_absolute() {
                    return Err(invalid("git_repo", "must be an absolute path".into()));
                }
                Some(GitTarget { repo, path })
            }
        };
        let top_k = file.top_k.unwrap_or(5);
        if !(2..=20).contains(&top_k) {
            return Err(invalid("top_k", "must be 2..20".into()));
        }
        let llm = match (&file.llm, o.no_llm || file.no_llm == Some(true)) {
            (Some(l), false) => {
                let provider = l.provider.unwrap_or(Provider::Ollama);
                let endpoint = match &l.endpoint {
                    Some(e) => Endpoint::parse(e),
                    None => Endpoint::from_ollama_host(None),
                }
                .map_err(|e| invalid("llm.endpoint", e.to_string()))?;
                let mut client = ClientConfig::new(provider, endpoint, l.model.clone());
                client.max_tokens = 32;
                client.temperature = 0.0;
                client.timeout = Duration::from_secs(l.timeout_secs.unwrap_or(60));
                client.connect_timeout = client.connect_timeout.min(client.timeout);
                if let Some(key) = &l.api_key_file {
                    client = client
                        .api_key_file(key)
                        .map_err(|e| invalid("llm.api_key_file", e.to_string()))?;
                }
                Some(LlmSettings {
                    client,
                    max_queries: l.max_queries.unwrap_or(200),
                })
            }
            _ => None,
        };
        Ok(Settings {
            db: o
                .db
                .clone()
                .or(file.db)
                .unwrap_or_else(|| DEFAULT_DB.into()),
            site: o.site.clone().or(file.site),
            map: o.map.clone().or(file.map),
            days: o.days.or(file.days).unwrap_or(30).max(1),
            min_hits: o.min_hits.or(file.min_hits).unwrap_or(3).max(1),
            dry_run: o.dry_run || file.dry_run.unwrap_or(false),
            format: o.format.or(file.format).unwrap_or_default(),
            max_entries: file.max_entries.unwrap_or(1000),
            max_key_bytes: max_key,
            map_hash_bucket_size: bucket,
            min_score: unit("min_score", file.min_score.unwrap_or(0.5))?,
            margin: unit("margin", file.margin.unwrap_or(0.15))?,
            llm_floor: unit("llm_floor", file.llm_floor.unwrap_or(0.25))?,
            top_k,
            test_command,
            reload_command: file.reload_command,
            git,
            llm,
        })
    }
}

//! Settings: defaults < config file < environment < command-line flags.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use honeybot_llm::{ClientConfig, Endpoint, LlmError, Provider};
use serde::Deserialize;

use crate::env::{self, EnvVar};

/// The config file, every key optional. Unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    provider: Option<Provider>,
    endpoint: Option<String>,
    model: Option<String>,
    num_ctx: Option<u32>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    keep_alive: Option<String>,
    connect_timeout_secs: Option<u64>,
    timeout_secs: Option<u64>,
    stall_timeout_secs: Option<u64>,
    hook_timeout_secs: Option<u64>,
    api_key_file: Option<PathBuf>,
    conventional: Option<bool>,
    lang: Option<String>,
    structured: Option<bool>,
    exclude: Option<Vec<String>>,
}

/// Values given on the command line; `None` / `false` = not given.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub model: Option<String>,
    pub endpoint: Option<String>,
    pub conventional: bool,
    pub lang: Option<String>,
}

/// Where an effective value came from (shown by `--print-config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env(&'static str),
    Flag,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File => f.write_str("config file"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Flag => f.write_str("flag"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or an unknown key: names the file, the line and the key.
    #[error(transparent)]
    Parse(#[from] honeybot_daemon::ConfigError),
    #[error("{key} ({origin}): {reason}")]
    Invalid {
        key: &'static str,
        /// Where the value came from ("config file", "env NAME=value", ...).
        origin: String,
        reason: String,
    },
}

/// The effective settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub provider: Provider,
    pub endpoint: Endpoint,
    pub model: String,
    pub num_ctx: u32,
    pub max_tokens: u32,
    pub temperature: f32,
    pub keep_alive: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Longest silence once the answer has started streaming.
    pub stall_timeout: Duration,
    /// The total budget inside the `prepare-commit-msg` hook (a `git commit` is waiting).
    pub hook_timeout: Duration,
    pub api_key_file: Option<PathBuf>,
    pub conventional: bool,
    pub lang: String,
    pub structured: bool,
    pub exclude: Vec<glob::Pattern>,
    /// The config file looked at, and whether it existed.
    pub file: Option<(PathBuf, bool)>,
    sources: Vec<(&'static str, String, Source)>,
}

pub const DEFAULT_MODEL: &str = "gemma3:4b";
/// llama.cpp's `llama-server` default address.
pub const DEFAULT_OPENAI_ENDPOINT: &str = "http://127.0.0.1:8080";

/// The config file location: `$AI_COMMIT_CONFIG` (must exist), else
/// `$XDG_CONFIG_HOME/ai-commit/config.toml`, else `$HOME/.config/ai-commit/config.toml`;
/// when that user file does not exist, the first `ai-commit/config.toml` found in
/// `$XDG_CONFIG_DIRS` (default `/etc/xdg`: the system-wide file NixOS's `programs.ai-commit`
/// writes). The user file replaces the system one as a whole; they are not merged.
#[must_use]
pub fn config_path() -> Option<(PathBuf, bool)> {
    if let Some(p) = env::CONFIG.get() {
        return Some((PathBuf::from(p), true));
    }
    let user = env::XDG_CONFIG_HOME
        .get()
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env::HOME.get().map(|h| Path::new(&h).join(".config")))
        .map(|base| base.join(CONFIG_FILE));
    if let Some(user) = &user {
        if user.exists() {
            return Some((user.clone(), false));
        }
    }
    let dirs = env::XDG_CONFIG_DIRS
        .get()
        .unwrap_or_else(|| "/etc/xdg".to_owned());
    system_config(&dirs)
        .map(|p| (p, false))
        .or(user.map(|p| (p, false)))
}

/// `ai-commit/config.toml` below a folder of the config search path.
const CONFIG_FILE: &str = "ai-commit/config.toml";

/// The first existing config file in a `$XDG_CONFIG_DIRS` list (absolute entries only, as
/// the XDG spec says).
fn system_config(dirs: &str) -> Option<PathBuf> {
    dirs.split(':')
        .map(Path::new)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(CONFIG_FILE))
        .find(|p| p.is_file())
}

struct Resolver {
    sources: Vec<(&'static str, String, Source)>,
}

impl Resolver {
    fn pick<T: std::fmt::Debug>(
        &mut self,
        key: &'static str,
        flag: Option<T>,
        env: Option<(T, &'static str)>,
        file: Option<T>,
        default: T,
    ) -> T {
        let (value, source) = if let Some(v) = flag {
            (v, Source::Flag)
        } else if let Some((v, name)) = env {
            (v, Source::Env(name))
        } else if let Some(v) = file {
            (v, Source::File)
        } else {
            (default, Source::Default)
        };
        self.sources.push((key, format!("{value:?}"), source));
        value
    }

    fn source_of(&self, key: &str) -> String {
        self.sources
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or_else(|| "default".to_owned(), |(_, _, s)| s.to_string())
    }
}

fn env_parse<T: std::str::FromStr>(
    var: EnvVar,
    key: &'static str,
) -> Result<Option<(T, &'static str)>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var.get() {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<T>()
            .map(|t| Some((t, var.name)))
            .map_err(|e| ConfigError::Invalid {
                key,
                origin: format!("env {}={v:?}", var.name),
                reason: e.to_string(),
            }),
    }
}

impl Config {
    /// Loads the config file (if any), the environment and the flags.
    ///
    /// # Errors
    /// An unreadable or invalid file (naming file and key), an invalid environment value
    /// (naming the variable), or an invalid endpoint.
    pub fn load(flags: &Overrides) -> Result<Self, ConfigError> {
        let path = config_path();
        let (file, file_state) = match &path {
            Some((p, must_exist)) => match std::fs::read_to_string(p) {
                Ok(text) => {
                    let parsed: FileConfig = honeybot_daemon::parse_toml(p, &text)?;
                    (parsed, Some((p.clone(), true)))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                    (FileConfig::default(), Some((p.clone(), false)))
                }
                Err(source) => {
                    return Err(ConfigError::Read {
                        path: p.clone(),
                        source,
                    });
                }
            },
            None => (FileConfig::default(), None),
        };
        Self::resolve(file, file_state, flags)
    }

    fn resolve(
        file: FileConfig,
        file_state: Option<(PathBuf, bool)>,
        flags: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut r = Resolver {
            sources: Vec::new(),
        };
        let env_provider = match env::PROVIDER.get() {
            None => None,
            Some(v) => Some((
                parse_provider(&v, "provider", env::PROVIDER.name)?,
                env::PROVIDER.name,
            )),
        };
        let provider = r.pick(
            "provider",
            None,
            env_provider,
            file.provider,
            Provider::Ollama,
        );

        // Endpoint: flag > AI_COMMIT_ENDPOINT > file > OLLAMA_HOST (ollama only) > default.
        let endpoint_text = r.pick(
            "endpoint",
            flags.endpoint.clone(),
            env::ENDPOINT.get().map(|v| (v, env::ENDPOINT.name)),
            file.endpoint.clone(),
            String::new(),
        );
        let endpoint = if endpoint_text.is_empty() {
            let (ep, source) = match provider {
                Provider::Ollama => match env::OLLAMA_HOST.get() {
                    Some(v) => (
                        Endpoint::from_ollama_host(Some(&v)),
                        Source::Env(env::OLLAMA_HOST.name),
                    ),
                    None => (Endpoint::from_ollama_host(None), Source::Default),
                },
                Provider::OpenAi => (Endpoint::parse(DEFAULT_OPENAI_ENDPOINT), Source::Default),
            };
            if let Some(entry) = r.sources.iter_mut().find(|(k, _, _)| *k == "endpoint") {
                entry.2 = source;
            }
            ep
        } else {
            Endpoint::parse(&endpoint_text)
        }
        .map_err(|e: LlmError| ConfigError::Invalid {
            key: "endpoint",
            origin: r.source_of("endpoint"),
            reason: e.to_string(),
        })?;
        if let Some(entry) = r.sources.iter_mut().find(|(k, _, _)| *k == "endpoint") {
            entry.1 = format!("{:?}", endpoint.to_string());
        }

        let model = r.pick(
            "model",
            flags.model.clone(),
            env::MODEL.get().map(|v| (v, env::MODEL.name)),
            file.model,
            DEFAULT_MODEL.to_owned(),
        );
        let num_ctx = r.pick(
            "num_ctx",
            None,
            env_parse(env::NUM_CTX, "num_ctx")?,
            file.num_ctx,
            8192,
        );
        let max_tokens = r.pick("max_tokens", None, None, file.max_tokens, 512);
        let temperature = r.pick("temperature", None, None, file.temperature, 0.2);
        let keep_alive = r.pick("keep_alive", None, None, file.keep_alive, "30m".to_owned());
        let connect_timeout_secs = r.pick(
            "connect_timeout_secs",
            None,
            None,
            file.connect_timeout_secs,
            5,
        );
        let timeout_secs = r.pick(
            "timeout_secs",
            None,
            env_parse(env::TIMEOUT_SECS, "timeout_secs")?,
            file.timeout_secs,
            180,
        );
        let stall_timeout_secs = r.pick(
            "stall_timeout_secs",
            None,
            env_parse(env::STALL_TIMEOUT_SECS, "stall_timeout_secs")?,
            file.stall_timeout_secs,
            10,
        );
        let hook_timeout_secs = r.pick(
            "hook_timeout_secs",
            None,
            env_parse(env::HOOK_TIMEOUT_SECS, "hook_timeout_secs")?,
            file.hook_timeout_secs,
            30,
        );
        let api_key_file = r.pick(
            "api_key_file",
            None,
            env::API_KEY_FILE
                .get()
                .map(|v| (Some(PathBuf::from(v)), env::API_KEY_FILE.name)),
            file.api_key_file.map(Some),
            None,
        );
        let conventional = r.pick(
            "conventional",
            flags.conventional.then_some(true),
            None,
            file.conventional,
            false,
        );
        let lang = r.pick(
            "lang",
            flags.lang.clone(),
            None,
            file.lang,
            "English".to_owned(),
        );
        let structured = r.pick("structured", None, None, file.structured, true);
        let exclude_text = r.pick("exclude", None, None, file.exclude, Vec::new());

        let invalid = |r: &Resolver, key: &'static str, reason: &str| ConfigError::Invalid {
            key,
            origin: r.source_of(key),
            reason: reason.to_owned(),
        };
        if num_ctx < 1024 {
            return Err(invalid(&r, "num_ctx", "must be at least 1024 tokens"));
        }
        if max_tokens < 32 || max_tokens >= num_ctx / 2 {
            return Err(invalid(
                &r,
                "max_tokens",
                "must be at least 32 and less than half of num_ctx",
            ));
        }
        if !(0.0..=2.0).contains(&temperature) {
            return Err(invalid(&r, "temperature", "must be between 0 and 2"));
        }
        if timeout_secs == 0 || connect_timeout_secs == 0 {
            return Err(invalid(
                &r,
                "timeout_secs",
                "timeouts must be at least 1 second",
            ));
        }
        if stall_timeout_secs == 0 {
            return Err(invalid(
                &r,
                "stall_timeout_secs",
                "must be at least 1 second",
            ));
        }
        if hook_timeout_secs == 0 {
            return Err(invalid(
                &r,
                "hook_timeout_secs",
                "must be at least 1 second",
            ));
        }
        if model.trim().is_empty() {
            return Err(invalid(&r, "model", "must not be empty"));
        }
        if lang.trim().is_empty() || lang.chars().any(char::is_control) {
            return Err(invalid(
                &r,
                "lang",
                "must be a language name such as English",
            ));
        }
        let mut exclude = Vec::new();
        for p in &exclude_text {
            exclude.push(glob::Pattern::new(p).map_err(|e| ConfigError::Invalid {
                key: "exclude",
                origin: r.source_of("exclude"),
                reason: format!("pattern {p:?}: {e}"),
            })?);
        }
        Ok(Self {
            provider,
            endpoint,
            model,
            num_ctx,
            max_tokens,
            temperature,
            keep_alive,
            connect_timeout: Duration::from_secs(connect_timeout_secs),
            timeout: Duration::from_secs(timeout_secs),
            stall_timeout: Duration::from_secs(stall_timeout_secs),
            hook_timeout: Duration::from_secs(hook_timeout_secs),
            api_key_file,
            conventional,
            lang,
            structured,
            exclude,
            file: file_state,
            sources: r.sources,
        })
    }

    /// The LLM client settings these values make.
    ///
    /// # Errors
    /// When the API key file cannot be read.
    pub fn client_config(&self) -> Result<ClientConfig, LlmError> {
        let mut c = ClientConfig::new(self.provider, self.endpoint.clone(), self.model.clone());
        c.num_ctx = self.num_ctx;
        c.max_tokens = self.max_tokens;
        c.temperature = self.temperature;
        c.keep_alive = Some(self.keep_alive.clone());
        c.connect_timeout = self.connect_timeout;
        c.timeout = self.timeout;
        c.stream = true;
        c.stall_timeout = self.stall_timeout;
        match &self.api_key_file {
            Some(path) => c.api_key_file(path),
            None => Ok(c),
        }
    }

    /// The effective configuration as TOML with the source of each value, for `--print-config`.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::from("# ai-commit effective configuration\n");
        match &self.file {
            Some((p, true)) => {
                let _ = writeln!(out, "# config file: {}", p.display());
            }
            Some((p, false)) => {
                let _ = writeln!(
                    out,
                    "# config file: {} (absent, defaults used)",
                    p.display()
                );
            }
            None => out.push_str("# config file: none (neither XDG_CONFIG_HOME nor HOME is set)\n"),
        }
        for (key, value, source) in &self.sources {
            if *key == "api_key_file" && value == "None" {
                let _ = writeln!(out, "{:<48} # {source}", "# api_key_file = (none)");
                continue;
            }
            let value = toml_value(key, value);
            let line = format!("{key} = {value}");
            let _ = writeln!(out, "{line:<48} # {source}");
        }
        let chat_url = self.endpoint.chat_url(self.provider);
        let where_ = if self.endpoint.is_local() {
            "local: the diff stays on this machine"
        } else {
            "REMOTE: the diff is sent to this host"
        };
        let _ = writeln!(out, "# chat URL: {chat_url} ({where_})");
        out.push_str("# environment variables read:\n");
        for var in env::ALL {
            let state = if var.get().is_some() { "set" } else { "unset" };
            let _ = writeln!(out, "#   {:<24} {state:<6} {}", var.name, var.doc);
        }
        out
    }
}

/// Debug-formatted values as TOML values.
fn toml_value(key: &str, debug: &str) -> String {
    match key {
        "provider" => match debug {
            "OpenAi" => "\"openai\"".to_owned(),
            _ => "\"ollama\"".to_owned(),
        },
        "api_key_file" => match debug
            .strip_prefix("Some(")
            .and_then(|s| s.strip_suffix(')'))
        {
            Some(inner) => inner.to_owned(),
            None => "# (none)".to_owned(),
        },
        _ => debug.to_owned(),
    }
}

fn parse_provider(value: &str, key: &'static str, source: &str) -> Result<Provider, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "ollama" => Ok(Provider::Ollama),
        "openai" => Ok(Provider::OpenAi),
        other => Err(ConfigError::Invalid {
            key,
            origin: format!("env {source}"),
            reason: format!("{other:?} is not one of ollama, openai"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let file: FileConfig = honeybot_daemon::parse_toml(Path::new("t.toml"), text)?;
        Config::resolve(file, None, &Overrides::default())
    }

    #[test]
    fn system_config_is_the_first_existing_file_in_the_search_path() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let file = b.path().join(CONFIG_FILE);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, "model = \"x\"\n").expect("write");
        let list = format!("relative/dir:{}:{}", a.path().display(), b.path().display());
        assert_eq!(system_config(&list), Some(file));
        assert_eq!(system_config(&a.path().display().to_string()), None);
        assert_eq!(system_config("relative"), None);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = from_toml("modle = \"x\"").expect_err("unknown key");
        assert!(err.to_string().contains("modle"), "{err}");
    }

    #[test]
    fn invalid_value_names_key_and_source() {
        let err = from_toml("num_ctx = 100").expect_err("too small");
        let text = err.to_string();
        assert!(
            text.contains("num_ctx") && text.contains("config file"),
            "{text}"
        );
    }

    #[test]
    fn flags_beat_file() {
        let file: FileConfig = honeybot_daemon::parse_toml(
            Path::new("t.toml"),
            "model = \"file-model\"\nendpoint = \"http://10.1.1.1:11434\"",
        )
        .expect("toml");
        let flags = Overrides {
            model: Some("flag-model".into()),
            ..Overrides::default()
        };
        let c = Config::resolve(file, None, &flags).expect("config");
        assert_eq!(c.model, "flag-model");
        assert_eq!(c.endpoint.to_string(), "http://10.1.1.1:11434");
        assert!(!c.endpoint.is_local());
        let rendered = c.render();
        assert!(rendered.contains("model = \"flag-model\""), "{rendered}");
        assert!(rendered.contains("REMOTE"), "{rendered}");
    }

    #[test]
    fn openai_provider_defaults_to_llama_server_port() {
        let c = from_toml("provider = \"openai\"").expect("config");
        assert_eq!(
            c.endpoint.chat_url(c.provider).as_str(),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
    }
}

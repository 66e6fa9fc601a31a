//! The daemon's configuration: the TOML file (strict) plus command-line overrides.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use honeybot_daemon::config::{ConfigError, InvalidConfig};
use honeybot_db::{
    AgentsFile, Classifier, DbOptions, IpMode, IpModeError, TimeZonePolicy, TrapPaths,
};
use serde::Deserialize;

/// Default of `db`: a file in the current directory, like the `honeybot` CLI.
pub const DEFAULT_DB: &str = "honeybot.db";
pub const DEFAULT_BATCH_LINES: u64 = 5000;
pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 500;
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1000;

/// The TOML file, exactly the keys of docs/ingest.md; unknown keys are rejected.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<PathBuf>,
    pub logs: Option<Vec<PathBuf>>,
    pub batch_lines: Option<u64>,
    pub flush_interval_ms: Option<u64>,
    pub poll_interval_ms: Option<u64>,
    pub timezone: Option<TimeZonePolicy>,
    pub ip_mode: Option<IpModeName>,
    pub ip_hash_key_file: Option<PathBuf>,
    /// Rows kept in the database's ring of recent requests (`honeybot watch`).
    pub recent_requests: Option<u64>,
    /// The user's own user-agent rules (TOML), taking precedence over the built-in table.
    pub agents: Option<PathBuf>,
    /// The JavaScript trap's script path.
    pub trap_path: Option<String>,
    /// The trap's beacon path (its hits are stored without the query string).
    pub beacon_path: Option<String>,
    pub rotated_names: Option<Vec<String>>,
    /// `combined`, `common`, `honeybot`, `vhost` (all recognised per line, the default) or
    /// an nginx `log_format` definition.
    pub log_format: Option<String>,
}

/// Default of `recent_requests`.
pub const DEFAULT_RECENT_REQUESTS: u64 = DbOptions::DEFAULT_RECENT_REQUESTS as u64;

/// Config spelling of the IP privacy mode.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IpModeName {
    #[default]
    Full,
    Truncate,
    Hash,
}

impl IpModeName {
    fn as_str(self) -> &'static str {
        match self {
            IpModeName::Full => "full",
            IpModeName::Truncate => "truncate",
            IpModeName::Hash => "hash",
        }
    }
}

/// Command-line overrides (and where the config file is).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub logs: Vec<PathBuf>,
}

/// The resolved settings the daemon runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub db: PathBuf,
    pub logs: Vec<PathBuf>,
    pub batch_lines: u64,
    pub flush_interval: Duration,
    pub poll_interval: Duration,
    pub time_zone: TimeZonePolicy,
    pub ip_mode_name: IpModeName,
    pub ip_hash_key_file: Option<PathBuf>,
    pub recent_requests: usize,
    /// The user-agent table: built-in plus the rules of `agents` (read and compiled when
    /// the config is loaded, so a bad rule is a config error).
    pub classifier: Arc<Classifier>,
    pub agents: Option<PathBuf>,
    pub trap: TrapPaths,
    /// Where rotated files of a log are looked for (see [`crate::rotated`]).
    pub rotated_names: Vec<String>,
    /// How lines are parsed (the built-in formats unless set by the caller).
    pub log_format: honeybot_logparse::LogFormat,
}

impl Settings {
    /// Read the config file (if any), apply the overrides and validate. Does not read the
    /// IP hash key (see [`Settings::db_options`]), so a config can be checked where the
    /// key's credential path does not exist (`--check-config` at build time).
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let (file, origin) = match &overrides.config {
            Some(path) => (
                honeybot_daemon::load_toml::<FileConfig>(path)?,
                path.clone(),
            ),
            None => (FileConfig::default(), PathBuf::from("<command line>")),
        };
        Self::resolve(file, &origin, overrides)
    }

    /// Apply overrides to a parsed file and validate; errors name `origin` and the key.
    pub fn resolve(
        file: FileConfig,
        origin: &Path,
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        let invalid = |key: &str, message: String| {
            ConfigError::Invalid(Box::new(InvalidConfig {
                path: origin.to_owned(),
                position: None,
                key: Some(key.to_owned()),
                message,
            }))
        };
        let logs = if overrides.logs.is_empty() {
            file.logs.unwrap_or_default()
        } else {
            overrides.logs.clone()
        };
        if logs.is_empty() {
            return Err(invalid(
                "logs",
                "no access log to follow (set `logs` or pass --log FILE)".into(),
            ));
        }
        // The same file followed twice would count its lines twice.
        if let Some(dup) = logs
            .iter()
            .enumerate()
            .find_map(|(i, p)| logs[..i].contains(p).then_some(p))
        {
            return Err(invalid(
                "logs",
                format!("{} is listed twice", dup.display()),
            ));
        }
        let batch_lines = file.batch_lines.unwrap_or(DEFAULT_BATCH_LINES);
        if !(1..=1_000_000).contains(&batch_lines) {
            return Err(invalid(
                "batch_lines",
                format!("{batch_lines} is out of range (1 to 1000000)"),
            ));
        }
        let flush = file.flush_interval_ms.unwrap_or(DEFAULT_FLUSH_INTERVAL_MS);
        if !(1..=3_600_000).contains(&flush) {
            return Err(invalid(
                "flush_interval_ms",
                format!("{flush} is out of range (1 to 3600000)"),
            ));
        }
        let poll = file.poll_interval_ms.unwrap_or(DEFAULT_POLL_INTERVAL_MS);
        if !(10..=3_600_000).contains(&poll) {
            return Err(invalid(
                "poll_interval_ms",
                format!("{poll} is out of range (10 to 3600000)"),
            ));
        }
        let ip_mode_name = file.ip_mode.unwrap_or_default();
        if ip_mode_name == IpModeName::Hash && file.ip_hash_key_file.is_none() {
            return Err(invalid(
                "ip_hash_key_file",
                "ip_mode = \"hash\" needs ip_hash_key_file (a file holding the secret key)".into(),
            ));
        }
        let recent = file.recent_requests.unwrap_or(DEFAULT_RECENT_REQUESTS);
        if recent > 10_000_000 {
            return Err(invalid(
                "recent_requests",
                format!("{recent} is out of range (0 to 10000000)"),
            ));
        }
        let trap = TrapPaths::new(
            file.trap_path.as_deref().unwrap_or("/trap.js"),
            file.beacon_path.as_deref().unwrap_or("/api/beacon"),
        )
        .map_err(|message| {
            invalid(
                if file.beacon_path.is_some() {
                    "beacon_path"
                } else {
                    "trap_path"
                },
                message,
            )
        })?;
        let classifier = match &file.agents {
            None => Classifier::builtin(),
            Some(path) => {
                let rules: AgentsFile = honeybot_daemon::load_toml(path)?;
                Arc::new(
                    Classifier::new(Some(&rules))
                        .map_err(|e| invalid("agents", format!("{}: {e}", path.display())))?,
                )
            }
        };
        let log_format = match file.log_format.as_deref() {
            None => honeybot_logparse::LogFormat::auto(),
            Some(spec) => honeybot_logparse::LogFormat::from_spec(spec)
                .map_err(|e| invalid("log_format", e.to_string()))?,
        };
        let rotated_names = match file.rotated_names {
            Some(names) => names,
            None => crate::rotated::DEFAULT_ROTATED_NAMES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        };
        if let Some(bad) = rotated_names
            .iter()
            .find(|n| n.is_empty() || n.ends_with('/') || n.replace("{name}", "").contains('{'))
        {
            return Err(invalid(
                "rotated_names",
                format!(
                    "{bad:?} is not a file name pattern (`{{name}}` is the log's file name, \
                     `*` and `?` wildcards, e.g. \"{{name}}.*\")"
                ),
            ));
        }
        Ok(Settings {
            rotated_names,
            log_format,
            db: overrides
                .db
                .clone()
                .or(file.db)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
            logs,
            batch_lines,
            flush_interval: Duration::from_millis(flush),
            poll_interval: Duration::from_millis(poll),
            time_zone: file.timezone.unwrap_or_default(),
            ip_mode_name,
            ip_hash_key_file: file.ip_hash_key_file,
            recent_requests: recent as usize,
            classifier,
            agents: file.agents,
            trap,
        })
    }

    /// HoneyDB options: reads the IP hash key file when `ip_mode = "hash"`. The daemon
    /// retries a busy database itself (so signals and the watchdog stay served): short
    /// busy timeout, no retries inside the commit.
    pub fn db_options(&self) -> Result<DbOptions, IpModeError> {
        let ip_mode =
            IpMode::from_config(self.ip_mode_name.as_str(), self.ip_hash_key_file.as_deref())?;
        Ok(DbOptions {
            ip_mode,
            time_zone: self.time_zone,
            busy_timeout: Duration::from_millis(100),
            busy_retries: 0,
            recent_requests: self.recent_requests,
            classifier: self.classifier.clone(),
            trap: self.trap.clone(),
            // The daemon opens once per start and then runs for weeks: reading every page
            // at start (about 0.5 s per 100 MB) is worth it here, unlike for each
            // `honeybot ingest`.
            quick_check: true,
            ..DbOptions::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        let path = Path::new("/etc/honeybot/ingest.toml");
        let file = honeybot_daemon::parse_toml::<FileConfig>(path, text)?;
        Settings::resolve(file, path, &Overrides::default())
    }

    #[test]
    fn contract_example_parses_with_its_values() {
        let s = parse(include_str!("../ingest.example.toml")).expect("valid config");
        assert_eq!(s.db, Path::new("/var/lib/honeybot/honeybot.db"));
        assert_eq!(s.logs, vec![PathBuf::from("/var/log/nginx/access.log")]);
        assert_eq!(s.flush_interval, Duration::from_millis(500));
        assert_eq!(s.time_zone, TimeZonePolicy::LocalToLog);
        assert_eq!(s.ip_mode_name, IpModeName::Hash);
    }

    #[test]
    fn semantic_errors_name_key_and_file() {
        let e = parse("logs = [\"/a\"]\nbatch_lines = 0\n").expect_err("0 is invalid");
        assert_eq!(e.key(), Some("batch_lines"));
        assert!(
            e.to_string()
                .starts_with("/etc/honeybot/ingest.toml: key `batch_lines`"),
            "{e}"
        );
        let e = parse("logs = [\"/a\"]\nip_mode = \"hash\"\n").expect_err("hash needs a key");
        assert_eq!(e.key(), Some("ip_hash_key_file"));
        let e = parse("logs = []\n").expect_err("nothing to follow");
        assert_eq!(e.key(), Some("logs"));
        let e = parse("logs = [\"/a\", \"/b\", \"/a\"]\n").expect_err("duplicate");
        assert_eq!(e.key(), Some("logs"));
        assert!(e.to_string().contains("/a is listed twice"), "{e}");
    }

    #[test]
    fn bad_enum_value_names_key() {
        let e = parse("logs = [\"/a\"]\ntimezone = \"local\"\n").expect_err("unknown policy");
        assert_eq!(e.key(), Some("timezone"));
        let e = parse("logs = [\"/a\"]\nip_mode = \"partial\"\n").expect_err("unknown mode");
        assert_eq!(e.key(), Some("ip_mode"));
    }

    #[test]
    fn classification_keys() {
        let s = parse("logs = [\"/a\"]\n").expect("defaults");
        assert_eq!(s.recent_requests, 10_000);
        assert_eq!(s.trap, TrapPaths::default());
        assert_eq!(
            s.classifier.fingerprint(),
            Classifier::builtin().fingerprint()
        );
        let s = parse(
            "logs = [\"/a\"]\nrecent_requests = 0\ntrap_path = \"/t.js\"\nbeacon_path = \"/b\"\n",
        )
        .expect("valid");
        let options = s.db_options().expect("options");
        assert_eq!(options.recent_requests, 0);
        assert_eq!(
            (&options.trap.script[..], &options.trap.beacon[..]),
            ("/t.js", "/b")
        );
        let e = parse("logs = [\"/a\"]\nrecent_requests = 20000000\n").expect_err("range");
        assert_eq!(e.key(), Some("recent_requests"));
        let e = parse("logs = [\"/a\"]\nbeacon_path = \"api/beacon\"\n").expect_err("relative");
        assert_eq!(e.key(), Some("beacon_path"));

        let dir = tempfile::tempdir().expect("tempdir");
        let agents = dir.path().join("agents.toml");
        std::fs::write(
            &agents,
            "agent = [{ token = \"HomeCheck\", class = \"monitor\", operator = \"Me\" }]\n",
        )
        .expect("write");
        let s = parse(&format!("logs = [\"/a\"]\nagents = {:?}\n", agents)).expect("agents");
        assert_eq!(
            s.classifier.classify("HomeCheck/1.0").class,
            honeybot_db::Class::Monitor
        );
        std::fs::write(&agents, "agent = [{ token = \"x\", class = \"robot\" }]\n").expect("write");
        let e = parse(&format!("logs = [\"/a\"]\nagents = {:?}\n", agents)).expect_err("bad rule");
        assert!(e.to_string().contains("agents.toml:1:"), "{e}");
        std::fs::write(&agents, "agent = [{ pattern = \"(\", class = \"bot\" }]\n").expect("write");
        let e = parse(&format!("logs = [\"/a\"]\nagents = {:?}\n", agents)).expect_err("bad regex");
        assert_eq!(e.key(), Some("agents"));
    }

    #[test]
    fn log_format_is_a_builtin_name_or_an_nginx_definition() {
        let s = parse("logs = [\"/a\"]\n").expect("default");
        assert!(!s.log_format.is_custom());
        let s = parse("logs = [\"/a\"]\nlog_format = 'common'\n").expect("built-in");
        assert!(!s.log_format.is_custom());
        let s = parse(
            "logs = [\"/a\"]\nlog_format = '$remote_addr [$time_iso8601] \"$request\" $status'\n",
        )
        .expect("definition");
        assert!(s.log_format.is_custom());
        let e = parse("logs = [\"/a\"]\nlog_format = '$remote_addr [$time_local] \"$request\" $status $my_var'\n")
            .expect_err("unknown variable");
        assert_eq!(e.key(), Some("log_format"));
        assert!(e.to_string().contains("$my_var"), "{e}");
    }

    #[test]
    fn flags_override_the_file() {
        let path = Path::new("/etc/x.toml");
        let file = FileConfig {
            db: Some("/file.db".into()),
            logs: Some(vec!["/file.log".into()]),
            ..FileConfig::default()
        };
        let o = Overrides {
            config: None,
            db: Some("/flag.db".into()),
            logs: vec!["/flag.log".into()],
        };
        let s = Settings::resolve(file, path, &o).expect("valid");
        assert_eq!(s.db, Path::new("/flag.db"));
        assert_eq!(s.logs, vec![PathBuf::from("/flag.log")]);
    }
}

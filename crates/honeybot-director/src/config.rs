//! The director's configuration: one strict TOML file (unknown keys rejected, errors name
//! file:line:col and the key), every key optional, then command-line [`Overrides`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;

/// Placeholders an article template may use.
pub const ARTICLE_FIELDS: &[&str] = &["title", "date", "url"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The director's control socket (default `$XDG_RUNTIME_DIR/honeybot-director.sock`).
    pub socket: Option<PathBuf>,
    /// Browser profiles and the state file (default `$XDG_RUNTIME_DIR/honeybot-director`).
    pub state_dir: Option<PathBuf>,
    /// The Jekyll `_posts` folder.
    pub posts: Option<PathBuf>,
    /// The site's base URL, e.g. `https://example.org`.
    pub site_url: Option<String>,
    /// The narrator's socket (default `$XDG_RUNTIME_DIR/honeybot-narrator.sock`).
    pub narrator_socket: Option<PathBuf>,
    /// How many of the newest posts open each round, in order (the rest follow shuffled).
    pub newest: usize,
    /// A page stays on screen at least this long, even when its narration is shorter.
    pub min_show_secs: f64,
    /// Said once when the show starts ("" = nothing).
    pub intro: String,
    /// Said before each article; `{title}`, `{date}`, `{url}`.
    pub article_lines: Vec<String>,
    /// Said (cutting current speech) when a new or changed post preempts the show.
    pub breaking_line: String,
    /// Jekyll permalink pattern for posts without a `permalink` in their front matter.
    pub permalink: String,
    pub page: PageConfig,
    pub browser: BrowserConfig,
    pub watch: WatchConfig,
    pub heartbeat: HeartbeatConfig,
    pub station_id: StationIdConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            socket: None,
            state_dir: None,
            posts: None,
            site_url: None,
            narrator_socket: None,
            newest: 5,
            min_show_secs: 0.0,
            intro: "Welcome to Honeybot. Here are the latest entries.".into(),
            article_lines: vec![
                "Accessing entry from {date}.".into(),
                "Title: {title}.".into(),
            ],
            breaking_line: "Breaking news: a new entry just went live.".into(),
            permalink: "/:categories/:year/:month/:day/:title:output_ext".into(),
            page: PageConfig::default(),
            browser: BrowserConfig::default(),
            watch: WatchConfig::default(),
            heartbeat: HeartbeatConfig::default(),
            station_id: StationIdConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PageConfig {
    /// Give up on a page that has not answered 200 after this long (the item is skipped).
    pub timeout_secs: f64,
    /// Say `notice` when the page has not answered 200 after this long.
    pub notice_after_secs: f64,
    /// `{title}`, `{date}`, `{url}`.
    pub notice: String,
}

impl Default for PageConfig {
    fn default() -> Self {
        PageConfig {
            timeout_secs: 120.0,
            notice_after_secs: 3.0,
            notice: "Waiting for {title} to go live.".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BrowserKind {
    Chromium,
    Firefox,
}

impl BrowserKind {
    pub fn default_command(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromium",
            BrowserKind::Firefox => "firefox",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromium",
            BrowserKind::Firefox => "firefox",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrowserConfig {
    pub kind: BrowserKind,
    /// The executable (default `chromium` or `firefox`).
    pub command: Option<PathBuf>,
    /// Full-screen kiosk window instead of a normal one.
    pub kiosk: bool,
    /// Extra arguments, placed before the URL.
    pub extra_args: Vec<String>,
    /// How long a browser may take to show its window.
    pub window_timeout_secs: f64,
    /// How long a clean close may take before signals follow.
    pub close_timeout_secs: f64,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        BrowserConfig {
            kind: BrowserKind::Chromium,
            command: None,
            kiosk: false,
            extra_args: Vec::new(),
            window_timeout_secs: 30.0,
            close_timeout_secs: 10.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    Inotify,
    Poll,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    /// `inotify` (falls back to polling when inotify is unavailable) or `poll`.
    pub mode: WatchMode,
    /// Quiet time after the last change before the folder is read again.
    pub debounce_ms: u64,
    /// Polling interval.
    pub poll_secs: f64,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            mode: WatchMode::Inotify,
            debounce_ms: 300,
            poll_secs: 5.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeartbeatConfig {
    /// Seconds between heartbeats while a page is shown (0 = off).
    pub interval_secs: f64,
    /// Pause between two actions of one heartbeat.
    pub step_secs: f64,
    /// Commands (argv lists) run in order; `{window}` is the shown browser window's id.
    pub actions: Vec<Vec<String>>,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            interval_secs: 90.0,
            step_secs: 10.0,
            actions: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StationIdConfig {
    /// Seconds between station IDs (0 = off); spoken between items, never over them.
    pub interval_secs: f64,
    pub text: String,
}

impl Default for StationIdConfig {
    fn default() -> Self {
        StationIdConfig {
            interval_secs: 900.0,
            text: "You are watching Honeybot, live.".into(),
        }
    }
}

/// Command-line values, which win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub posts: Option<PathBuf>,
    pub site_url: Option<String>,
    pub browser: Option<BrowserKind>,
    pub narrator_socket: Option<PathBuf>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, Error> {
        let cfg: Config = honeybot_daemon::load_toml(path)?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    pub fn from_toml_str(text: &str, path: &Path) -> Result<Config, Error> {
        let cfg: Config = honeybot_daemon::parse_toml(path, text)?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    pub fn apply(&mut self, o: Overrides) {
        if let Some(p) = o.posts {
            self.posts = Some(p);
        }
        if let Some(u) = o.site_url {
            self.site_url = Some(u);
        }
        if let Some(b) = o.browser {
            self.browser.kind = b;
        }
        if let Some(s) = o.narrator_socket {
            self.narrator_socket = Some(s);
        }
    }

    fn validate(&self, path: &Path) -> Result<(), Error> {
        let bad = |key: &str, message: String| Error::Invalid {
            path: path.to_owned(),
            key: key.to_owned(),
            message,
        };
        for (key, t) in [
            ("page.notice", &self.page.notice),
            ("intro", &self.intro),
            ("breaking_line", &self.breaking_line),
        ]
        .into_iter()
        .chain(self.article_lines.iter().map(|l| ("article_lines", l)))
        {
            check_template(t).map_err(|m| bad(key, m))?;
        }
        for (key, v) in [
            ("min_show_secs", self.min_show_secs),
            ("page.timeout_secs", self.page.timeout_secs),
            ("page.notice_after_secs", self.page.notice_after_secs),
            (
                "browser.window_timeout_secs",
                self.browser.window_timeout_secs,
            ),
            (
                "browser.close_timeout_secs",
                self.browser.close_timeout_secs,
            ),
            ("watch.poll_secs", self.watch.poll_secs),
            ("heartbeat.interval_secs", self.heartbeat.interval_secs),
            ("heartbeat.step_secs", self.heartbeat.step_secs),
            ("station_id.interval_secs", self.station_id.interval_secs),
        ] {
            if !(v.is_finite() && (0.0..=86_400.0).contains(&v)) {
                return Err(bad(key, format!("{v} is not between 0 and 86400 seconds")));
            }
        }
        if self.watch.poll_secs < 0.1 {
            return Err(bad("watch.poll_secs", "must be at least 0.1".into()));
        }
        if self.heartbeat.actions.iter().any(Vec::is_empty) {
            return Err(bad(
                "heartbeat.actions",
                "an action is an empty command".into(),
            ));
        }
        if let Some(u) = &self.site_url {
            check_site_url(u).map_err(|m| bad("site_url", m))?;
        }
        Ok(())
    }
}

/// A site URL must be http(s) with a host.
pub fn check_site_url(u: &str) -> Result<(), String> {
    match reqwest::Url::parse(u) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(_) => Err(format!("{u:?} is not an http(s) URL with a host")),
        Err(e) => Err(format!("{u:?}: {e}")),
    }
}

/// Every `{name}` in `t` must be one of [`ARTICLE_FIELDS`].
fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in {t:?}"))?;
        let name = &after[..close];
        if !ARTICLE_FIELDS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}} in {t:?} (known: {})",
                ARTICLE_FIELDS.join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// Fills `{title}`, `{date}`, `{url}` (templates were checked at load).
pub fn fill(template: &str, title: &str, date: &str, url: &str) -> String {
    template
        .replace("{title}", title)
        .replace("{date}", date)
        .replace("{url}", url)
}

/// `$XDG_RUNTIME_DIR/<name>`; an error when the variable is not set.
pub fn runtime_path(name: &str) -> Result<PathBuf, Error> {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(|d| PathBuf::from(d).join(name))
        .ok_or(Error::NoRuntimeDir)
}

impl Config {
    pub fn socket_path(&self) -> Result<PathBuf, Error> {
        self.socket
            .clone()
            .map_or_else(|| runtime_path("honeybot-director.sock"), Ok)
    }
    pub fn state_path(&self) -> Result<PathBuf, Error> {
        self.state_dir
            .clone()
            .map_or_else(|| runtime_path("honeybot-director"), Ok)
    }
    pub fn narrator_path(&self) -> Result<PathBuf, Error> {
        self.narrator_socket
            .clone()
            .map_or_else(|| runtime_path("honeybot-narrator.sock"), Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_placeholders_are_refused_with_their_key() {
        let p = Path::new("director.toml");
        let e = Config::from_toml_str("[browser]\nkinds = \"firefox\"\n", p)
            .expect_err("typo")
            .to_string();
        assert!(e.contains("director.toml:2:1"), "{e}");
        assert!(e.contains("browser.kinds"), "{e}");
        let e = Config::from_toml_str("article_lines = [\"Title: {titel}\"]\n", p)
            .expect_err("placeholder")
            .to_string();
        assert!(e.contains("article_lines") && e.contains("{titel}"), "{e}");
        let e = Config::from_toml_str("site_url = \"ftp://x\"\n", p)
            .expect_err("scheme")
            .to_string();
        assert!(e.contains("site_url"), "{e}");
        let cfg = Config::from_toml_str("[browser]\nkind = \"firefox\"\nkiosk = true\n", p)
            .expect("good config");
        assert_eq!(cfg.browser.kind, BrowserKind::Firefox);
        assert_eq!(
            fill(&cfg.article_lines[1], "Bots", "March 1, 2025", "u"),
            "Title: Bots."
        );
    }
}

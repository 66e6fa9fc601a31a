//! `honeybot-director`: the live show. It walks a playlist of the site's articles, shows each
//! page in a browser with a fresh profile, has the narrator read it (waiting on the narrator's
//! real `finished` event), runs heartbeat window actions, says a station ID between items, and
//! lets a newly published post preempt everything.
//!
//! - [`config`]: the strict TOML config and command-line overrides.
//! - [`curator`]: Jekyll `_posts` front matter, URLs, the playlist.
//! - [`browser`]: one browser per article in its own process group and profile; closing it.
//! - [`procs`]: process groups read from `/proc`, signals, reaping.
//! - [`window`]: `wmctrl` / `xdotool` helpers.
//! - [`state`]: the state file that lets the next start clean up after a crash.
//! - [`watch`]: inotify (or polling) on the posts folder, debounced.
//! - [`voice`]: the narrator connection (requests and the event subscription).
//! - [`control`]: the director's own control socket (`status`, `pause`, `resume`, `next`, `stop`).
//! - [`show`]: the loop that ties it together.

use std::path::PathBuf;

pub mod browser;
pub mod config;
pub mod control;
pub mod curator;
pub mod procs;
pub mod show;
pub mod state;
pub mod voice;
pub mod watch;
pub mod window;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] honeybot_daemon::ConfigError),
    #[error("{}: key `{key}`: {message}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("XDG_RUNTIME_DIR is not set; give the path in the config")]
    NoRuntimeDir,
    #[error("{what} is not set (config key `{key}` or --{flag})")]
    Missing {
        what: &'static str,
        key: &'static str,
        flag: &'static str,
    },
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("starting {command}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("another director holds {}", path.display())]
    Locked { path: PathBuf },
    #[error("the browser showed no window within {secs} s")]
    NoWindow { secs: f64 },
    #[error(transparent)]
    Narrator(#[from] honeybot_narrator::client::ClientError),
    #[error("no posts in {}", path.display())]
    NoPosts { path: PathBuf },
    #[error("the narration of {title:?} ended: {reason}")]
    Narration { title: String, reason: String },
    #[error("the page {url} did not answer 200 within {secs} s")]
    PageTimeout { url: String, secs: f64 },
    #[error("the show was interrupted before the article was read")]
    Interrupted,
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

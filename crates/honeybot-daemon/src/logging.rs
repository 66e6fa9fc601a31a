//! Logging through the `log` facade.
//!
//! When the process' stderr is the journal stream (`JOURNAL_STREAM` names stderr's device
//! and inode, which systemd sets for `StandardError=journal`), records go to journald
//! natively and every structured key-value (`log::info!(lines = n, lag_ms = l; "...")`)
//! becomes a journal field (`LINES=`, `LAG_MS=`, visible with `journalctl -o json`).
//! Otherwise records go to stderr with the key-values appended as `key=value`.
//!
//! The level comes from `RUST_LOG` (default `info`); on stderr `RUST_LOG` also accepts
//! env_logger's per-module directives.

use log::LevelFilter;

/// Environment variable holding the log level / filter.
pub const LOG_ENV: &str = "RUST_LOG";

/// Where [`init`] sent the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Journal,
    Stderr,
}

/// Install the global logger once. `identifier` is the syslog identifier in the journal.
/// Safe to call twice (the second call keeps the first logger).
pub fn init(identifier: &str) -> Sink {
    let level = std::env::var(LOG_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::Info);
    if systemd_journal_logger::connected_to_journal() {
        if let Ok(journal) = systemd_journal_logger::JournalLog::new() {
            let installed = journal
                .with_syslog_identifier(identifier.to_owned())
                .install();
            if installed.is_ok() {
                log::set_max_level(level);
                return Sink::Journal;
            }
        }
    }
    let _ = env_logger::Builder::new()
        .filter_level(LevelFilter::Info)
        .parse_env(LOG_ENV)
        .format_timestamp_millis()
        .try_init();
    Sink::Stderr
}

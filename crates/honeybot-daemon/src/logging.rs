//! Logging through the `log` facade.
//!
//! When the process' stderr is the journal stream (`JOURNAL_STREAM` names stderr's device
//! and inode, which systemd sets for `StandardError=journal`), records go to journald
//! natively and every structured key-value (`log::info!(lines = n, lag_ms = l; "...")`)
//! becomes a journal field (`LINES=`, `LAG_MS=`, visible with `journalctl -o json`).
//! Otherwise records go to stderr with the key-values appended as `key=value`, escaped by
//! [`crate::terminal::for_terminal`] (a file name or a logged value cannot drive the
//! terminal).
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
        .format(|buf, record| {
            use std::io::Write;
            let ts = buf.timestamp_millis();
            writeln!(buf, "[{ts} {}", render(record))
        })
        .try_init();
    Sink::Stderr
}

/// `LEVEL target] message key=value ...` with every part escaped for the terminal.
fn render(record: &log::Record<'_>) -> String {
    struct Pairs(String);
    impl<'kvs> log::kv::VisitSource<'kvs> for Pairs {
        fn visit_pair(
            &mut self,
            key: log::kv::Key<'kvs>,
            value: log::kv::Value<'kvs>,
        ) -> Result<(), log::kv::Error> {
            self.0.push_str(&format!(" {key}={value}"));
            Ok(())
        }
    }
    let mut pairs = Pairs(String::new());
    let _ = record.key_values().visit(&mut pairs);
    crate::terminal::for_terminal(&format!(
        "{:<5} {}] {}{}",
        record.level(),
        record.target(),
        record.args(),
        pairs.0
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_lines_are_escaped_messages_and_values_alike() {
        let kvs: &[(&str, &str)] = &[("path", "/var/log/\u{1b}[2Jx.log")];
        let args = format_args!("cannot open {}", "a\u{202e}b.log");
        let record = log::Record::builder()
            .level(log::Level::Error)
            .target("honeybot_ingest")
            .args(args)
            .key_values(&kvs)
            .build();
        let line = render(&record);
        assert_eq!(
            line,
            "ERROR honeybot_ingest] cannot open a\\u{202e}b.log path=/var/log/\\u{1b}[2Jx.log"
        );
    }
}

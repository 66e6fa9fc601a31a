//! sd-notify: READY, STATUS, STOPPING and the watchdog, best effort.
//!
//! Without `NOTIFY_SOCKET` every call is a no-op; without `WATCHDOG_USEC` (or with a
//! `WATCHDOG_PID` that is not this process) no watchdog pings are sent. Send errors are
//! logged once at debug level and otherwise ignored: a daemon never dies because its
//! supervisor went away.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// Talks to the service manager.
#[derive(Debug)]
pub struct Notifier {
    enabled: bool,
    /// Half of `WATCHDOG_USEC`: how often the watchdog is pinged.
    watchdog_every: Option<Duration>,
    last_ping: Option<Instant>,
}

impl Notifier {
    /// Read `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the environment.
    pub fn from_env() -> Self {
        let enabled = std::env::var_os("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty());
        let mut usec = 0;
        let watchdog_every = (enabled && sd_notify::watchdog_enabled(false, &mut usec) && usec > 0)
            .then(|| Duration::from_micros(usec) / 2);
        Notifier {
            enabled,
            watchdog_every,
            last_ping: None,
        }
    }

    /// A notifier that never sends anything.
    pub fn disabled() -> Self {
        Notifier {
            enabled: false,
            watchdog_every: None,
            last_ping: None,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The watchdog ping period (half of `WATCHDOG_USEC`), if the watchdog is on.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog_every
    }

    /// `READY=1` plus a status line.
    pub fn ready(&mut self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(&one_line(status))]);
    }

    /// `STATUS=...` (newlines, which would end the field, become spaces).
    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(&one_line(status))]);
    }

    /// `RELOADING=1` (with `MONOTONIC_USEC`, which systemd >= 253 requires).
    pub fn reloading(&self) {
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[NotifyState::Reloading, now]),
            Err(_) => self.send(&[NotifyState::Reloading]),
        }
    }

    /// `STOPPING=1` plus a status line.
    pub fn stopping(&self, status: &str) {
        self.send(&[
            NotifyState::Stopping,
            NotifyState::Status(&one_line(status)),
        ]);
    }

    /// Time until the next watchdog ping is due (`None` without a watchdog).
    pub fn watchdog_due_in(&self, now: Instant) -> Option<Duration> {
        let every = self.watchdog_every?;
        Some(match self.last_ping {
            Some(last) => (last + every).saturating_duration_since(now),
            None => Duration::ZERO,
        })
    }

    /// Send `WATCHDOG=1` if half of `WATCHDOG_USEC` has passed since the last ping.
    /// Call this from the loop that does the work, so a stuck loop stops the pings.
    pub fn watchdog(&mut self, now: Instant) {
        if self.watchdog_due_in(now) == Some(Duration::ZERO) {
            self.send(&[NotifyState::Watchdog]);
            self.last_ping = Some(now);
        }
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if !self.enabled {
            return;
        }
        if let Err(err) = sd_notify::notify(false, states) {
            log::debug!(error:% = err; "sd_notify failed");
        }
    }
}

/// A notification field ends at a newline: keep a status on one line.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_stays_on_one_line() {
        assert_eq!(one_line("disk full\nWATCHDOG=1"), "disk full WATCHDOG=1");
    }

    #[test]
    fn disabled_notifier_has_no_watchdog() {
        let n = Notifier::disabled();
        assert!(!n.is_enabled());
        assert_eq!(n.watchdog_due_in(Instant::now()), None);
    }
}

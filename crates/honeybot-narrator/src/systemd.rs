//! Best-effort systemd integration: READY/STATUS/STOPPING notifications, a no-op outside
//! systemd (no `NOTIFY_SOCKET`).

use sd_notify::NotifyState;

pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!("sd-notify: {e}");
    }
}

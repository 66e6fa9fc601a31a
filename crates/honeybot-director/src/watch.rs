//! Watches the posts folder: inotify (a post written, moved in or removed), debounced so a
//! post written in several steps counts once; polling when inotify is unavailable or
//! configured. Each signal means "read the folder again"; the show compares file stamps to
//! find what is new or changed.

use std::path::Path;
use std::time::Duration;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::sync::mpsc;

use crate::config::{WatchConfig, WatchMode};

/// Debounced "the folder changed" signals.
#[derive(Debug)]
pub struct Watcher {
    rx: mpsc::Receiver<()>,
    pub mode: &'static str,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watcher {
    pub fn start(dir: &Path, cfg: &WatchConfig) -> Watcher {
        let (tx, rx) = mpsc::channel(1);
        let debounce = Duration::from_millis(cfg.debounce_ms);
        if cfg.mode == WatchMode::Inotify {
            match inotify_thread(dir) {
                Ok(raw) => {
                    let task = tokio::spawn(debounced(raw, tx, debounce));
                    return Watcher {
                        rx,
                        mode: "inotify",
                        task,
                    };
                }
                Err(e) => log::warn!(
                    "inotify on {} failed ({e}); polling every {} s",
                    dir.display(),
                    cfg.poll_secs
                ),
            }
        }
        let every = Duration::from_secs_f64(cfg.poll_secs);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if tx.send(()).await.is_err() {
                    return;
                }
            }
        });
        Watcher {
            rx,
            mode: "poll",
            task,
        }
    }

    /// The next debounced change (pending forever once the watcher is gone).
    pub async fn changed(&mut self) {
        if self.rx.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}

/// A thread blocking on inotify reads, one message per batch of events.
fn inotify_thread(dir: &Path) -> nix::Result<mpsc::UnboundedReceiver<()>> {
    let ino = Inotify::init(InitFlags::IN_CLOEXEC)?;
    ino.add_watch(
        dir,
        AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_MODIFY,
    )?;
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("posts-inotify".into())
        .spawn(move || {
            loop {
                match ino.read_events() {
                    Ok(ev) if ev.is_empty() => {}
                    Ok(_) => {
                        if tx.send(()).is_err() {
                            return;
                        }
                    }
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => {
                        log::warn!("reading inotify events: {e}");
                        return;
                    }
                }
            }
        })
        .map_err(|_| nix::errno::Errno::EAGAIN)?;
    Ok(rx)
}

/// One signal per burst: after the first raw event, wait until `quiet` passes without another.
async fn debounced(mut raw: mpsc::UnboundedReceiver<()>, tx: mpsc::Sender<()>, quiet: Duration) {
    while raw.recv().await.is_some() {
        loop {
            match tokio::time::timeout(quiet, raw.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        // A signal already pending covers this burst too.
        let _ = tx.try_send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_of_writes_is_one_signal_and_polling_works_without_inotify() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = WatchConfig {
            debounce_ms: 200,
            ..WatchConfig::default()
        };
        let mut w = Watcher::start(dir.path(), &cfg);
        assert_eq!(w.mode, "inotify");
        for i in 0..5 {
            std::fs::write(dir.path().join("2025-01-01-a.md"), format!("part {i}")).expect("write");
        }
        tokio::time::timeout(Duration::from_secs(5), w.changed())
            .await
            .expect("a change is signalled");
        let again = tokio::time::timeout(Duration::from_millis(600), w.changed()).await;
        assert!(again.is_err(), "the burst was signalled more than once");

        let cfg = WatchConfig {
            mode: WatchMode::Poll,
            poll_secs: 0.1,
            ..WatchConfig::default()
        };
        let mut p = Watcher::start(dir.path(), &cfg);
        assert_eq!(p.mode, "poll");
        tokio::time::timeout(Duration::from_secs(5), p.changed())
            .await
            .expect("polling signals");
    }
}

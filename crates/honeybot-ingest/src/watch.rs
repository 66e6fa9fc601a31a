//! Wake-ups: inotify on the directories of the followed logs, with polling as the fallback.
//!
//! The directory (not the file) is watched, so a rename, a new file under the name, a
//! deletion and every append are seen. Any event only means "look again": the follower
//! re-checks every file, so a lost or coalesced event costs nothing but latency, and the
//! poll interval bounds that latency when inotify is unavailable (or the old file was
//! moved to another directory).

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

#[derive(Debug)]
pub struct Watcher {
    inotify: Option<Inotify>,
    dirs: HashMap<PathBuf, WatchDescriptor>,
    warned: bool,
}

/// The directory a log lives in (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

impl Watcher {
    pub fn new() -> Self {
        let inotify = match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
            Ok(i) => Some(i),
            Err(err) => {
                log::warn!(error:% = err; "inotify unavailable, polling the logs instead");
                None
            }
        };
        Watcher {
            inotify,
            dirs: HashMap::new(),
            warned: false,
        }
    }

    /// A watcher that never uses inotify: the files are polled every `poll_interval_ms`
    /// (what happens where inotify is unavailable).
    pub fn polling() -> Self {
        Watcher {
            inotify: None,
            dirs: HashMap::new(),
            warned: false,
        }
    }

    /// Make sure the directory of every path is watched (directories that do not exist
    /// yet are retried on the next call). Returns whether every directory is watched.
    pub fn watch_dirs<'a>(&mut self, paths: impl IntoIterator<Item = &'a PathBuf>) -> bool {
        let Some(inotify) = &self.inotify else {
            return false;
        };
        let mut all = true;
        for path in paths {
            let dir = dir_of(path);
            if self.dirs.contains_key(&dir) {
                continue;
            }
            let flags = AddWatchFlags::IN_MODIFY
                | AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_MOVED_TO
                | AddWatchFlags::IN_MOVED_FROM
                | AddWatchFlags::IN_DELETE
                | AddWatchFlags::IN_ATTRIB
                | AddWatchFlags::IN_CLOSE_WRITE
                | AddWatchFlags::IN_DELETE_SELF
                | AddWatchFlags::IN_MOVE_SELF;
            match inotify.add_watch(&dir, flags) {
                Ok(wd) => {
                    self.dirs.insert(dir, wd);
                }
                Err(err) => {
                    all = false;
                    if !self.warned {
                        log::warn!(dir:% = dir.display(), error:% = err;
                            "cannot watch log directory, polling it until it can be watched");
                        self.warned = true;
                    }
                }
            }
        }
        all
    }

    /// The descriptor to poll, if inotify works.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.inotify.as_ref().map(|i| i.as_fd())
    }

    /// Consume pending events; forget directories whose watch ended (deleted, unmounted)
    /// so they are watched again when they come back.
    pub fn drain(&mut self) {
        let Some(inotify) = &self.inotify else {
            return;
        };
        loop {
            match inotify.read_events() {
                Ok(events) => {
                    for ev in events {
                        if ev.mask.contains(AddWatchFlags::IN_IGNORED) {
                            self.dirs.retain(|_, wd| *wd != ev.wd);
                        }
                    }
                }
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(err) => {
                    log::warn!(error:% = err; "reading inotify events failed");
                    break;
                }
            }
        }
    }
}

impl Default for Watcher {
    fn default() -> Self {
        Self::new()
    }
}

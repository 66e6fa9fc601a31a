//! The state directory: a lock (one director per directory), the browser profiles, and
//! `state.json`, which lists the running browsers (process group + profile). It is rewritten
//! whenever a browser starts or is closed, so after a SIGKILL of the director the next start
//! ends the recorded groups (only if their command line still names the profile) and removes
//! every profile left behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::{Error, procs};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub browsers: Vec<BrowserRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrowserRecord {
    pub pgid: i32,
    pub profile: PathBuf,
}

#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    record: Record,
    _lock: Flock<File>,
}

impl StateDir {
    /// Locks `dir` (created 0700 if missing) and cleans up after a previous run.
    pub async fn open(dir: &Path) -> Result<StateDir, Error> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(Error::io("creating", dir))?;
        let lock_path = dir.join("lock");
        let file = File::create(&lock_path).map_err(Error::io("creating", &lock_path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|_| Error::Locked {
                path: dir.to_owned(),
            })?;
        let mut s = StateDir {
            dir: dir.to_owned(),
            record: Record::default(),
            _lock: lock,
        };
        s.recover().await?;
        Ok(s)
    }

    pub fn profiles_dir(&self) -> PathBuf {
        self.dir.join("profiles")
    }

    fn file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    async fn recover(&mut self) -> Result<(), Error> {
        let path = self.file();
        if let Ok(text) = std::fs::read_to_string(&path) {
            match serde_json::from_str::<Record>(&text) {
                Ok(old) => {
                    for b in old.browsers {
                        if procs::group_mentions(b.pgid, &b.profile) {
                            log::warn!(pgid = b.pgid; "ending a browser left by a previous run");
                            procs::signal_group(b.pgid, Signal::SIGKILL);
                            procs::wait_group_empty(b.pgid, Duration::from_secs(5)).await;
                        }
                    }
                }
                Err(e) => log::warn!("ignoring unreadable {}: {e}", path.display()),
            }
        }
        let profiles = self.profiles_dir();
        if let Ok(entries) = std::fs::read_dir(&profiles) {
            for e in entries.flatten() {
                log::info!("removing leftover profile {}", e.path().display());
                remove_tree(&e.path());
            }
        }
        self.save()
    }

    pub fn add(&mut self, rec: BrowserRecord) -> Result<(), Error> {
        self.record.browsers.push(rec);
        self.save()
    }

    pub fn remove(&mut self, pgid: i32) -> Result<(), Error> {
        self.record.browsers.retain(|b| b.pgid != pgid);
        self.save()
    }

    fn save(&self) -> Result<(), Error> {
        let path = self.file();
        let tmp = self.dir.join("state.json.tmp");
        let text = serde_json::to_string(&self.record).unwrap_or_default();
        std::fs::write(&tmp, text).map_err(Error::io("writing", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(Error::io("writing", &path))
    }

    /// Removes the state file and the (then empty) profiles folder at a clean exit; the lock
    /// file stays (removing it would let two directors lock different files).
    pub fn finish(self) {
        let _ = std::fs::remove_file(self.file());
        let _ = std::fs::remove_dir(self.profiles_dir());
    }
}

/// Removes a directory tree, logging (not failing) on error.
pub fn remove_tree(path: &Path) {
    if let Err(e) = std::fs::remove_dir_all(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::warn!("removing {}: {e}", path.display());
    }
}

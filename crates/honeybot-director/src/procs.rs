//! Process groups, read from `/proc`: who is in a group, signalling and reaping it.
//!
//! Every browser runs in its own process group, so the director signals exactly the
//! processes it started (never by name). The director is a child subreaper, so browser
//! helpers orphaned by their parent are re-parented to it and reaped here.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// Live (not zombie) processes whose process group is `pgid`.
pub fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            stat_fields(*pid)
                .is_some_and(|(state, pgrp)| pgrp == pgid && state != 'Z' && state != 'X')
        })
        .collect()
}

/// (state, pgrp) from `/proc/PID/stat`.
fn stat_fields(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut f = rest.split(' ');
    let state = f.next()?.chars().next()?;
    let _ppid = f.next()?;
    let pgrp = f.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// The process group of `pid`.
pub fn pgid_of(pid: i32) -> Option<i32> {
    stat_fields(pid).map(|(_, g)| g)
}

/// True when some process of group `pgid` has `needle` in its command line (used to make
/// sure a group recorded in the state file is still the browser, not a reused number).
pub fn group_mentions(pgid: i32, needle: &Path) -> bool {
    let needle = needle.as_os_str().as_encoded_bytes();
    group_members(pgid).into_iter().any(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle))
    })
}

pub fn signal_group(pgid: i32, sig: Signal) {
    if pgid > 1 {
        // ESRCH (the group is gone) is the goal, not an error.
        let _ = killpg(Pid::from_raw(pgid), sig);
    }
}

/// Reaps every exited child of group `pgid` without blocking.
pub fn reap_group(pgid: i32) {
    loop {
        match waitpid(Pid::from_raw(-pgid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Waits (polling, reaping) until group `pgid` has no live process, at most `limit`.
/// True when it is empty.
pub async fn wait_group_empty(pgid: i32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        reap_group(pgid);
        if group_members(pgid).is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ends group `pgid`: `first` (if any) and up to `grace` for it to go, then SIGTERM to the
/// group, then SIGKILL. Returns how it ended, for the log.
pub async fn end_group(pgid: i32, grace: Duration) -> &'static str {
    if wait_group_empty(pgid, grace).await {
        return "closed";
    }
    signal_group(pgid, Signal::SIGTERM);
    if wait_group_empty(pgid, Duration::from_secs(5)).await {
        return "terminated";
    }
    signal_group(pgid, Signal::SIGKILL);
    wait_group_empty(pgid, Duration::from_secs(5)).await;
    "killed"
}

/// Makes orphaned descendants children of this process, so they can be reaped here.
pub fn become_subreaper() {
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        log::warn!("cannot become a child subreaper: {e}");
    }
}

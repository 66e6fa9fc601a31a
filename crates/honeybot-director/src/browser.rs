//! One browser per article: a brand-new profile directory, its own process group, a clean
//! close, the group reaped and the profile removed.
//!
//! Chromium: `--user-data-dir=DIR`, no first run, no background networking, no component
//! updates or sync, no GPU (`--no-sandbox` when running as root, where Chromium refuses to start
//! otherwise); it exits cleanly on SIGTERM. Firefox: `--profile DIR --no-remote --new-instance`
//! with a `user.js` that turns off first-run pages and session restore; it does not exit
//! cleanly on SIGTERM, so its windows are closed through the window manager (`wmctrl -i -c`)
//! and signals follow only after `close_timeout_secs`. Both get `TMPDIR` and `XDG_CACHE_HOME`
//! inside the profile, so their temporary files go with it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::config::{BrowserConfig, BrowserKind};
use crate::state::{BrowserRecord, StateDir, remove_tree};
use crate::{Error, procs, window};

/// Firefox preferences for a show window: no first-run or default-browser questions, no
/// session restore, no telemetry, no update checks.
pub const FIREFOX_USER_JS: &str = r#"user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("startup.homepage_welcome_url", "");
user_pref("startup.homepage_welcome_url.additional", "");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("trailhead.firstrun.didSeeAboutWelcome", true);
user_pref("browser.sessionstore.resume_from_crash", false);
user_pref("browser.sessionstore.max_resumed_crashes", 0);
user_pref("browser.startup.page", 0);
user_pref("browser.tabs.warnOnClose", false);
user_pref("browser.warnOnQuit", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.auto", false);
user_pref("app.update.enabled", false);
user_pref("browser.translations.automaticallyPopup", false);
"#;

/// A running browser showing one page.
#[derive(Debug)]
pub struct Browser {
    pub kind: BrowserKind,
    pub pgid: i32,
    pub profile: PathBuf,
    /// The window, once it appeared.
    pub window: Option<String>,
    pub launched: Instant,
}

/// The command line for `kind` (without the executable).
pub fn arguments(cfg: &BrowserConfig, profile: &Path, url: &str, as_root: bool) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    match cfg.kind {
        BrowserKind::Chromium => {
            a.push(format!("--user-data-dir={}", profile.display()));
            a.push(format!(
                "--disk-cache-dir={}",
                profile.join("cache").display()
            ));
            for f in [
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-gpu",
                "--disable-default-apps",
                "--disable-session-crashed-bubble",
                "--disable-features=Translate,MediaRouter",
                "--password-store=basic",
                "--noerrdialogs",
            ] {
                a.push(f.into());
            }
            if as_root {
                a.push("--no-sandbox".into());
            }
            a.push(if cfg.kiosk { "--kiosk" } else { "--new-window" }.into());
        }
        BrowserKind::Firefox => {
            a.push("--profile".into());
            a.push(profile.display().to_string());
            a.push("--no-remote".into());
            a.push("--new-instance".into());
            if cfg.kiosk {
                a.push("--kiosk".into());
            }
        }
    }
    a.extend(cfg.extra_args.iter().cloned());
    a.push(url.into());
    a
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Browser {
    /// Starts the browser on `url` with a new profile under `profiles` and records it in the
    /// state file before anything else can go wrong.
    pub fn launch(cfg: &BrowserConfig, url: &str, state: &mut StateDir) -> Result<Browser, Error> {
        use std::os::unix::fs::DirBuilderExt;
        let profiles = state.profiles_dir();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let profile = profiles.join(format!("{}-{n}", std::process::id()));
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true).mode(0o700);
        for d in [profile.join("tmp"), profile.join("cache")] {
            b.create(&d).map_err(Error::io("creating", &d))?;
        }
        if cfg.kind == BrowserKind::Firefox {
            let js = profile.join("user.js");
            std::fs::write(&js, FIREFOX_USER_JS).map_err(Error::io("writing", &js))?;
        }
        let command = cfg
            .command
            .clone()
            .unwrap_or_else(|| PathBuf::from(cfg.kind.default_command()));
        let as_root = nix::unistd::geteuid().is_root();
        let log_path = profile.join("browser.log");
        let stderr = std::fs::File::create(&log_path).map_err(Error::io("creating", &log_path))?;
        let spawned = std::process::Command::new(&command)
            .args(arguments(cfg, &profile, url, as_root))
            .env("TMPDIR", profile.join("tmp"))
            .env("XDG_CACHE_HOME", profile.join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0)
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(source) => {
                remove_tree(&profile);
                return Err(Error::Spawn {
                    command: command.display().to_string(),
                    source,
                });
            }
        };
        // The browser is reaped through its process group (procs::reap_group), so the
        // std Child handle is dropped without waiting.
        let pgid = child.id() as i32;
        drop(child);
        state.add(BrowserRecord {
            pgid,
            profile: profile.clone(),
        })?;
        log::info!(pgid = pgid, browser = cfg.kind.as_str(); "browser started on {url}");
        Ok(Browser {
            kind: cfg.kind,
            pgid,
            profile,
            window: None,
            launched: Instant::now(),
        })
    }

    /// Waits until the browser shows a window, raises it and remembers its id.
    pub async fn wait_window(&mut self, limit: Duration) -> Result<String, Error> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(w) = window::windows_of_group(self.pgid).await.into_iter().next() {
                window::activate(&w.id).await;
                self.window = Some(w.id.clone());
                return Ok(w.id);
            }
            procs::reap_group(self.pgid);
            if procs::group_members(self.pgid).is_empty() || Instant::now() >= deadline {
                let log =
                    std::fs::read_to_string(self.profile.join("browser.log")).unwrap_or_default();
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                log::warn!(pgid = self.pgid; "browser shows no window: {tail}");
                return Err(Error::NoWindow {
                    secs: limit.as_secs_f64(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Closes the browser cleanly (escalating to signals after `grace`), reaps its process
    /// group and removes its profile.
    pub async fn close(self, grace: Duration, state: &mut StateDir) {
        let how = match self.kind {
            BrowserKind::Chromium => {
                procs::signal_group(self.pgid, Signal::SIGTERM);
                procs::end_group(self.pgid, grace).await
            }
            BrowserKind::Firefox => {
                for w in window::windows_of_group(self.pgid).await {
                    window::close(&w.id).await;
                }
                procs::end_group(self.pgid, grace).await
            }
        };
        log::info!(pgid = self.pgid, how = how; "browser closed");
        remove_tree(&self.profile);
        if let Err(e) = state.remove(self.pgid) {
            log::warn!("{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_browser_gets_its_profile_and_no_first_run() {
        let mut cfg = BrowserConfig::default();
        let p = Path::new("/run/p/1");
        let a = arguments(&cfg, p, "http://h/x", true);
        assert!(a.contains(&"--user-data-dir=/run/p/1".to_owned()));
        assert!(a.contains(&"--no-first-run".to_owned()));
        assert!(a.contains(&"--disable-background-networking".to_owned()));
        assert!(a.contains(&"--no-sandbox".to_owned()));
        assert_eq!(a.last().map(String::as_str), Some("http://h/x"));
        assert!(!arguments(&cfg, p, "u", false).contains(&"--no-sandbox".to_owned()));
        cfg.kind = BrowserKind::Firefox;
        cfg.kiosk = true;
        let a = arguments(&cfg, p, "u", true);
        assert_eq!(
            a,
            [
                "--profile",
                "/run/p/1",
                "--no-remote",
                "--new-instance",
                "--kiosk",
                "u"
            ]
        );
    }
}

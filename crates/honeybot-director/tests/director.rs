//! Integration tests with real parts: the real `honeybot-director` binary under Xvfb with
//! openbox, real Chromium (and Firefox), pages from a local HTTP server on 127.0.0.1:0, and
//! a real narrator (honeybot-narrator's daemon, run in this test process on its own socket)
//! speaking with espeak-ng into its WAV sink.
//!
//! A test that needs a missing tool fails loudly under CI=true and otherwise prints
//! "SKIP: <reason>" to stderr and returns. `HONEYBOT_DIRECTOR_SOAK` sets the soak's item
//! count (default 25).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use honeybot_narrator::client::{Client, Incoming};
use honeybot_narrator::protocol::{Event, Request};

const BIN: &str = env!("CARGO_BIN_EXE_honeybot-director");

/// The X tools every show needs plus `more` (a browser, a test window); see
/// [`honeybot_testsupport::require_tools`].
fn require_tools(more: &[&str]) -> bool {
    honeybot_testsupport::require_tools(&[X_TOOLS, more].concat())
}

const X_TOOLS: &[&str] = &[
    "Xvfb",
    "openbox",
    "wmctrl",
    "xdotool",
    "import",
    "espeak-ng",
];

/// Polls `f` every 50 ms until it gives a value or `limit` passes.
fn try_wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`try_wait_for`], panicking with `what` on timeout.
fn wait_for<T>(limit: Duration, what: &str, f: impl FnMut() -> Option<T>) -> T {
    try_wait_for(limit, f).unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

// ---------------------------------------------------------------------------------------
// X: Xvfb on a free display (-displayfd) with openbox.

struct X {
    xvfb: Child,
    wm: Child,
    display: String,
    /// Xvfb's stdout, kept open: a closed pipe would kill it with SIGPIPE if it wrote again.
    _xvfb_out: BufReader<std::process::ChildStdout>,
    wm_log: tempfile::NamedTempFile,
}

impl X {
    fn start() -> X {
        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1024x768x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let mut line = String::new();
        let mut out = BufReader::new(xvfb.stdout.take().expect("stdout"));
        out.read_line(&mut line).expect("display number");
        let display = format!(":{}", line.trim());
        let wm_log = tempfile::NamedTempFile::new().expect("openbox log");
        let wm = X::openbox(&display, &wm_log);
        let mut x = X {
            xvfb,
            wm,
            display,
            _xvfb_out: out,
            wm_log,
        };
        // openbox can lose a start-up race on a busy machine; one more try, then fail with
        // what it said.
        for attempt in 0..2 {
            let up = try_wait_for(Duration::from_secs(20), || {
                x.cmd("wmctrl", &["-m"]).filter(|o| o.contains("Openbox"))
            });
            if up.is_some() {
                return x;
            }
            let said = std::fs::read_to_string(x.wm_log.path()).unwrap_or_default();
            assert!(
                attempt == 0,
                "openbox did not start on {}: {said}",
                x.display
            );
            eprintln!(
                "openbox did not come up on {} ({said}); restarting it",
                x.display
            );
            let _ = x.wm.kill();
            let _ = x.wm.wait();
            x.wm = X::openbox(&x.display, &x.wm_log);
        }
        x
    }

    fn openbox(display: &str, log: &tempfile::NamedTempFile) -> Child {
        Command::new("openbox")
            .env("DISPLAY", display)
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("log"))
            .spawn()
            .expect("start openbox")
    }

    /// Runs a tool on this display; its stdout when it succeeded.
    fn cmd(&self, tool: &str, args: &[&str]) -> Option<String> {
        let out = Command::new(tool)
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn active_title(&self) -> Option<String> {
        self.cmd("xdotool", &["getactivewindow", "getwindowname"])
    }

    /// Share of the screen in the test pages' magenta, from `import -window root`.
    fn magenta_share(&self) -> f64 {
        let out = Command::new("import")
            .args(["-window", "root", "-depth", "8", "rgb:-"])
            .env("DISPLAY", &self.display)
            .output()
            .expect("run import");
        let px = out.stdout.chunks_exact(3);
        let n = px.len().max(1);
        let hits = px.filter(|p| p[0] > 200 && p[1] < 80 && p[2] > 200).count();
        hits as f64 / n as f64
    }
}

impl Drop for X {
    fn drop(&mut self) {
        let _ = self.wm.kill();
        let _ = self.wm.wait();
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

// ---------------------------------------------------------------------------------------
// The site: a tiny HTTP server on 127.0.0.1:0; each page is a full-screen magenta page.

#[derive(Clone)]
struct Site {
    base: String,
    /// path → page title; a path not in the map answers 404.
    pages: Arc<Mutex<HashMap<String, String>>>,
}

impl Site {
    fn start() -> Site {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let pages: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let p = pages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let p = p.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(&stream);
                    let mut first = String::new();
                    if r.read_line(&mut first).is_err() {
                        return;
                    }
                    let mut line = String::new();
                    while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let path = first.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let title = p.lock().expect("pages").get(&path).cloned();
                    let (status, body) = match title {
                        Some(t) => (
                            "200 OK",
                            format!(
                                "<!doctype html><html><head><title>{t}</title></head>\
                                 <body style=\"background:#ff00ff;margin:0;height:100vh\">\
                                 <h1>{t}</h1></body></html>"
                            ),
                        ),
                        None => ("404 Not Found", "not here".to_owned()),
                    };
                    let mut w = &stream;
                    let _ = write!(
                        w,
                        "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Site { base, pages }
    }

    fn publish(&self, path: &str, title: &str) {
        self.pages
            .lock()
            .expect("pages")
            .insert(path.to_owned(), title.to_owned());
    }
}

/// Writes a post with a permalink and publishes its page; returns the file.
fn post(dir: &Path, site: &Site, name: &str, title: &str, body: &str) -> PathBuf {
    let slug = name.trim_end_matches(".md");
    let permalink = format!("/{slug}/");
    site.publish(&permalink, title);
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("---\ntitle: \"{title}\"\npermalink: {permalink}\n---\n{body}\n"),
    )
    .expect("write post");
    path
}

// ---------------------------------------------------------------------------------------
// The narrator: honeybot-narrator's daemon in this process, espeak-ng into WAV files.

struct Narrator {
    socket: PathBuf,
    wavs: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Narrator {
    fn start(dir: &Path) -> Narrator {
        let socket = dir.join("narrator.sock");
        let wavs = dir.join("wav");
        std::fs::create_dir_all(&wavs).expect("mkdir");
        let text = format!(
            "socket = {:?}\nengine = \"espeak-ng\"\nfallback = \"none\"\nsentence_gap_ms = 0\n\
             [espeak]\nspeed = 450\n[sink]\nkind = \"wav\"\ndir = {:?}\n",
            socket.display().to_string(),
            wavs.display().to_string()
        );
        let cfg = honeybot_narrator::config::Config::from_toml_str(&text, Path::new("n.toml"))
            .expect("narrator config");
        let listener_path = socket.clone();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener =
                    honeybot_narrator::daemon::bind(&listener_path).expect("bind narrator");
                let _ = honeybot_narrator::daemon::serve(
                    cfg,
                    listener,
                    async {
                        let _ = rx.await;
                    },
                    |_| {
                        let _ = ready_tx.send(());
                    },
                )
                .await;
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("narrator ready");
        Narrator {
            socket,
            wavs,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// A subscription that collects events with the time they arrived.
    fn subscribe(&self) -> Arc<Mutex<Vec<(Instant, Event)>>> {
        let seen: Arc<Mutex<Vec<(Instant, Event)>>> = Arc::default();
        let s = seen.clone();
        let socket = self.socket.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut c = Client::connect(&socket).await.expect("connect narrator");
                c.call(&Request::Subscribe, |_| {})
                    .await
                    .expect("subscribe");
                let _ = tx.send(());
                while let Ok(m) = c.next().await {
                    if let Incoming::Event(e) = m {
                        s.lock().expect("events").push((Instant::now(), e));
                    }
                }
            });
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("subscribed");
        seen
    }
}

impl Drop for Narrator {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The director.

struct Env {
    dir: tempfile::TempDir,
    posts: PathBuf,
    runtime: PathBuf,
    tmp: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let posts = dir.path().join("_posts");
        let runtime = dir.path().join("run");
        let tmp = dir.path().join("tmp");
        for d in [&posts, &runtime, &tmp] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        Env {
            dir,
            posts,
            runtime,
            tmp,
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.runtime.join("honeybot-director")
    }

    fn socket(&self) -> PathBuf {
        self.runtime.join("honeybot-director.sock")
    }

    /// A config file: no intro (tests listen for their own lines), then `extra`.
    fn config(&self, extra: &str) -> PathBuf {
        let path = self.dir.path().join("director.toml");
        std::fs::write(&path, format!("intro = \"\"\n{extra}")).expect("write config");
        path
    }

    /// Starts `honeybot-director run ARGS` with this environment; stderr to `director.log`.
    fn director(
        &self,
        x: &X,
        narrator: &Narrator,
        site: &Site,
        config: &Path,
        args: &[&str],
    ) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("director.log"))
            .expect("log");
        Command::new(BIN)
            .arg("run")
            .arg("--config")
            .arg(config)
            .arg("--posts")
            .arg(&self.posts)
            .args(["--site-url", &site.base])
            .arg("--narrator-socket")
            .arg(&narrator.socket)
            .args(args)
            .env("DISPLAY", &x.display)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("TMPDIR", &self.tmp)
            .env("RUST_LOG", "debug")
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start director")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("director.log")).unwrap_or_default()
    }

    fn ctl(&self, verb: &str) -> Option<serde_json::Value> {
        let out = Command::new(BIN)
            .arg(verb)
            .arg("--socket")
            .arg(self.socket())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        if verb == "status" {
            serde_json::from_slice(&out.stdout).ok()
        } else {
            Some(serde_json::Value::Null)
        }
    }

    fn wait_status(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        try_wait_for(limit, || self.ctl("status").filter(|s| pred(s))).unwrap_or_else(|| {
            panic!(
                "timed out waiting for {what}; status {:?}\nlog:\n{}",
                self.ctl("status"),
                self.log()
            )
        })
    }

    /// [`wait_for`] that shows the director's log on timeout.
    fn wait<T>(&self, limit: Duration, what: &str, f: impl FnMut() -> Option<T>) -> T {
        try_wait_for(limit, f)
            .unwrap_or_else(|| panic!("timed out waiting for {what}; log:\n{}", self.log()))
    }

    /// Nothing of the director's is left: no process naming its state dir, no profile, no
    /// temp file in its TMPDIR.
    fn assert_clean(&self) {
        let state = self.state_dir();
        let procs = processes_mentioning(&state);
        assert!(
            procs.is_empty(),
            "processes left: {procs:?}\n{}",
            self.log()
        );
        let profiles = state.join("profiles");
        let left: Vec<_> = std::fs::read_dir(&profiles)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "profiles left: {left:?}");
        assert!(!state.join("state.json").exists(), "state file left");
        let tmp: Vec<_> = std::fs::read_dir(&self.tmp)
            .expect("tmp")
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(tmp.is_empty(), "temp files left: {tmp:?}");
        assert!(!self.socket().exists(), "control socket left");
    }
}

/// What a show runs on: a display, the site, the director's folders, a narrator. Fields
/// drop in this order (the narrator first, the display last).
struct Stage(Narrator, Env, Site, X);

/// A [`Stage`], or `None` (SKIP, or a failure under CI) when a tool is missing.
fn stage(more_tools: &[&str]) -> Option<Stage> {
    if !require_tools(more_tools) {
        return None;
    }
    let x = X::start();
    let site = Site::start();
    let env = Env::new();
    let narrator = Narrator::start(env.dir.path());
    Some(Stage(narrator, env, site, x))
}

/// The time and job of the first sentence the narrator spoke that contains `needle`.
fn spoken(events: &Mutex<Vec<(Instant, Event)>>, needle: &str) -> Option<(Instant, u64)> {
    events
        .lock()
        .expect("events")
        .iter()
        .find_map(|(t, e)| match e {
            Event::Sentence { id, text, .. } if text.contains(needle) => Some((*t, *id)),
            _ => None,
        })
}

/// PIDs of live processes whose command line contains `needle`.
fn processes_mentioning(needle: &Path) -> Vec<(i32, String)> {
    let needle = needle.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let state = stat[stat.rfind(')')? + 2..].chars().next()?;
            if state == 'Z' {
                return None;
            }
            let c = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            c.windows(needle.len())
                .any(|w| w == needle)
                .then(|| (pid, String::from_utf8_lossy(&c).replace('\0', " ")))
        })
        .collect()
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    wait_for(limit, "the director to exit", || {
        child.try_wait().ok().flatten()
    })
}

fn long_body(sentences: usize) -> String {
    (0..sentences)
        .map(|i| format!("This is sentence number {i} of a long article about bots."))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------

#[test]
fn a_bad_config_is_refused_naming_file_line_and_key() {
    let env = Env::new();
    let cfg = env.dir.path().join("director.toml");
    std::fs::write(&cfg, "newest = 3\n[browser]\nkinds = \"firefox\"\n").expect("write");
    let out = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&cfg)
        .args([
            "--posts",
            "/nonexistent",
            "--site-url",
            "http://127.0.0.1:1",
        ])
        .env("XDG_RUNTIME_DIR", &env.runtime)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:3:1: key `browser.kinds`", cfg.display());
    assert!(err.contains(&want), "{want} not in {err}");
}

fn once_shows_and_reads(browser: &str) {
    // Debian calls it firefox-esr.
    let command = if browser == "firefox" {
        "firefox-esr"
    } else {
        "chromium"
    };
    let Some(Stage(narrator, env, site, x)) = stage(&[command]) else {
        return;
    };
    let events = narrator.subscribe();
    post(
        &env.posts,
        &site,
        "2024-05-01-older.md",
        "An older entry",
        "Old news.",
    );
    let newest = post(
        &env.posts,
        &site,
        "2025-03-14-bots-everywhere.md",
        "Bots everywhere",
        "Crawlers came. They read everything.",
    );
    let config = env.config(&format!(
        "min_show_secs = 4\n[browser]\nkind = \"{browser}\"\ncommand = \"{command}\"\n"
    ));
    let mut d = env.director(&x, &narrator, &site, &config, &["--once"]);
    // The page is on screen: screenshots until the page's magenta fills most of it.
    let share = wait_for(Duration::from_secs(60), "the page on screen", || {
        let s = x.magenta_share();
        (s > 0.4).then_some(s)
    });
    // The window's title follows the paint (a loaded machine showed "Mozilla Firefox" with
    // the page already on screen): wait for it while the page is held (min_show_secs).
    let mut title = String::new();
    let titled = try_wait_for(Duration::from_secs(20), || {
        title = x.active_title().unwrap_or_default();
        title.contains("Bots everywhere").then_some(())
    });
    assert!(titled.is_some(), "active window {title:?}");
    let status = wait_exit(&mut d, Duration::from_secs(60));
    assert!(status.success(), "exit {status:?}\n{}", env.log());
    // The narrator read the newest post to its end: a `finished` with reason done for a job
    // with sentences from it, and its WAV file.
    let ev = events.lock().expect("events").clone();
    let (_, job) = spoken(&events, "read everything")
        .unwrap_or_else(|| panic!("the post was not read: {ev:?}"));
    assert!(ev.iter().any(|(_, e)| matches!(e,
        Event::Finished { id, reason, .. } if *id == job && reason.as_str() == "done")));
    assert!(narrator.wavs.join(format!("{job}.wav")).is_file());
    assert!(
        !ev.iter()
            .any(|(_, e)| matches!(e, Event::Sentence { text, .. } if text.contains("Old news"))),
        "--once reads exactly one article"
    );
    assert!(share > 0.4);
    assert!(newest.exists());
    env.assert_clean();
}

#[test]
fn once_shows_the_newest_page_in_chromium_and_reads_it_to_the_end() {
    once_shows_and_reads("chromium");
}

#[test]
fn once_shows_the_newest_page_in_firefox_and_reads_it_to_the_end() {
    once_shows_and_reads("firefox");
}

#[test]
fn heartbeat_raises_the_dashboard_then_the_browser_again() {
    let Some(Stage(narrator, env, site, x)) = stage(&["chromium", "xmessage"]) else {
        return;
    };
    post(
        &env.posts,
        &site,
        "2025-01-01-pulse.md",
        "Pulse page",
        "Short.",
    );
    let mut dash = Command::new("xmessage")
        .args([
            "-title",
            "Honeybot dashboard",
            "-geometry",
            "300x100+0+0",
            "logs",
        ])
        .env("DISPLAY", &x.display)
        .spawn()
        .expect("xmessage");
    wait_for(Duration::from_secs(10), "the dashboard window", || {
        x.cmd("wmctrl", &["-l"])
            .filter(|l| l.contains("Honeybot dashboard"))
    });
    let config = env.config(
        "min_show_secs = 12\n[heartbeat]\ninterval_secs = 2\nstep_secs = 2\n\
         actions = [[\"wmctrl\", \"-a\", \"Honeybot dashboard\"], [\"wmctrl\", \"-i\", \"-a\", \"{window}\"]]\n",
    );
    let mut d = env.director(&x, &narrator, &site, &config, &["--once"]);
    // The active window goes: browser, dashboard (heartbeat), browser again.
    let mut seen: Vec<String> = Vec::new();
    wait_for(
        Duration::from_secs(60),
        "browser → dashboard → browser",
        || {
            let t = x.active_title()?;
            let t = if t.contains("Pulse page") {
                "browser".to_owned()
            } else if t == "Honeybot dashboard" {
                "dashboard".to_owned()
            } else {
                return None;
            };
            if seen.last() != Some(&t) {
                seen.push(t);
            }
            seen.windows(3)
                .any(|w| w == ["browser", "dashboard", "browser"])
                .then_some(())
        },
    );
    let status = wait_exit(&mut d, Duration::from_secs(60));
    assert!(status.success(), "{}", env.log());
    assert!(
        dash.try_wait().expect("dash").is_none(),
        "the dashboard was closed"
    );
    let _ = dash.kill();
    let _ = dash.wait();
    env.assert_clean();
}

#[test]
fn a_new_post_is_breaking_news_within_two_seconds_and_stop_cleans_up() {
    let Some(Stage(narrator, env, site, x)) = stage(&["chromium"]) else {
        return;
    };
    let events = narrator.subscribe();
    post(
        &env.posts,
        &site,
        "2024-01-01-long.md",
        "A long read",
        &long_body(20),
    );
    let config = env.config(
        "min_show_secs = 60\nbreaking_line = \"Breaking news.\"\n[page]\nnotice_after_secs = 0.5\n",
    );
    let mut d = env.director(&x, &narrator, &site, &config, &[]);
    env.wait_status("the first page", Duration::from_secs(60), |s| {
        s["state"] == "showing" && s["title"] == "A long read"
    });
    // A new post whose page is not served yet: breaking news at once, then the notice,
    // then the page once it answers 200.
    let written = Instant::now();
    let path = env.posts.join("2025-06-01-fresh.md");
    std::fs::write(
        &path,
        "---\ntitle: \"Fresh off the press\"\npermalink: /fresh/\n---\nIt just happened.\n",
    )
    .expect("write");
    let (said, _) = env.wait(Duration::from_secs(10), "the breaking-news line", || {
        spoken(&events, "Breaking news")
    });
    let latency = said.duration_since(written);
    assert!(
        latency < Duration::from_secs(2),
        "breaking news after {latency:?}"
    );
    env.wait(Duration::from_secs(20), "the waiting notice", || {
        spoken(&events, "Waiting for Fresh off the press")
    });
    site.publish("/fresh/", "Fresh off the press");
    env.wait_status("the news on screen", Duration::from_secs(60), |s| {
        s["state"] == "showing" && s["title"] == "Fresh off the press" && s["breaking"] == 1
    });
    env.wait(
        Duration::from_secs(20),
        "the news page in the screenshot",
        || (x.magenta_share() > 0.4).then_some(()),
    );
    assert!(env.ctl("stop").is_some());
    let status = wait_exit(&mut d, Duration::from_secs(30));
    assert!(status.success(), "{}", env.log());
    env.assert_clean();
}

#[test]
fn sigkill_leftovers_are_cleaned_on_the_next_start_and_sigterm_leaves_nothing() {
    let Some(Stage(narrator, env, site, x)) = stage(&["chromium"]) else {
        return;
    };
    post(
        &env.posts,
        &site,
        "2024-01-01-long.md",
        "Held page",
        "Short one.",
    );
    let config = env.config("min_show_secs = 60\n");
    let mut d = env.director(&x, &narrator, &site, &config, &[]);
    env.wait_status("the page", Duration::from_secs(60), |s| {
        s["state"] == "showing"
    });
    let state = env.state_dir();
    assert!(!processes_mentioning(&state).is_empty(), "no browser runs");
    d.kill().expect("SIGKILL");
    d.wait().expect("wait");
    let orphans = processes_mentioning(&state);
    assert!(
        !orphans.is_empty(),
        "the browser should outlive a SIGKILLed director"
    );
    let _ = std::fs::remove_file(env.socket());
    // The next start ends them and removes the old profile.
    let mut d = env.director(&x, &narrator, &site, &config, &[]);
    env.wait_status("the page again", Duration::from_secs(60), |s| {
        s["state"] == "showing"
    });
    let now: Vec<i32> = processes_mentioning(&state)
        .into_iter()
        .map(|p| p.0)
        .collect();
    for (pid, cmd) in &orphans {
        assert!(!now.contains(pid), "left from the killed run: {pid} {cmd}");
    }
    let profiles: Vec<_> = std::fs::read_dir(state.join("profiles"))
        .expect("profiles")
        .flatten()
        .collect();
    assert_eq!(
        profiles.len(),
        1,
        "only the new browser's profile: {profiles:?}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(d.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = wait_exit(&mut d, Duration::from_secs(30));
    assert!(status.success(), "{}", env.log());
    env.assert_clean();
}

#[test]
fn soak_of_many_short_items_leaves_nothing_and_spares_the_testers_browser() {
    let Some(Stage(narrator, env, site, x)) = stage(&["chromium"]) else {
        return;
    };
    let items: u64 = std::env::var("HONEYBOT_DIRECTOR_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    // The tester's own browser, started before the run: it must survive.
    let own_profile = env.dir.path().join("own-browser");
    let mut own = Command::new("chromium")
        .arg(format!("--user-data-dir={}", own_profile.display()))
        .args([
            "--no-first-run",
            "--no-sandbox",
            "--disable-gpu",
            "about:blank",
        ])
        .env("DISPLAY", &x.display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("own chromium");
    wait_for(
        Duration::from_secs(30),
        "the tester's browser window",
        || x.cmd("xdotool", &["search", "--pid", &own.id().to_string()]),
    );
    for i in 0..4 {
        post(
            &env.posts,
            &site,
            &format!("2025-01-0{}-item-{i}.md", i + 1),
            &format!("Item {i}"),
            "Hi.",
        );
    }
    let config = env.config("newest = 2\n[station_id]\ninterval_secs = 3\ntext = \"Honeybot.\"\n");
    let mut d = env.director(&x, &narrator, &site, &config, &[]);
    env.wait_status(
        &format!("{items} items played"),
        Duration::from_secs(items * 10 + 30),
        |s| s["played"].as_u64().is_some_and(|n| n >= items),
    );
    assert!(env.ctl("stop").is_some());
    let status = wait_exit(&mut d, Duration::from_secs(30));
    assert!(status.success(), "{}", env.log());
    env.assert_clean();
    assert!(
        own.try_wait().expect("own").is_none(),
        "the tester's browser was killed"
    );
    assert!(!processes_mentioning(&own_profile).is_empty());
    let _ = own.kill();
    let _ = own.wait();
    // Its helpers are in the same group as `own`; end them too.
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(own.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

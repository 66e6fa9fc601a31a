//! A real nginx on 127.0.0.1 (port picked at run time) writing the Honeybot extended
//! log format, driven by real HTTP requests and rotated the way logrotate does it
//! (`mv` + `nginx -s reopen`, copytruncate, and a deleted log that comes back), while
//! the ingest loop runs in-process; the database must match the requests sent.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use honeybot_daemon::{Control, Notifier};
use honeybot_db::HoneyDb;
use honeybot_ingest::config::FileConfig;
use honeybot_ingest::{IngestError, Overrides, RunSummary, Settings, Watcher};

use crate::support::{db_path_counts, db_requests, require_tool, wait_until};

const LIMIT: Duration = Duration::from_secs(30);

struct Nginx {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl Nginx {
    fn start(bin: &Path, dir: &Path) -> Nginx {
        for d in [
            dir.to_owned(),
            dir.join("html"),
            dir.join("logs"),
            dir.join("tmp"),
        ] {
            std::fs::create_dir_all(&d).expect("mkdir");
            // Workers of a root-started nginx run as nobody and reopen logs themselves.
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        std::fs::write(dir.join("html/index.html"), "<p>hello</p>\n").expect("write page");
        std::fs::set_permissions(
            dir.join("html/index.html"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("pick a port")
                .port();
            std::fs::write(dir.join("nginx.conf"), config(dir, port)).expect("write nginx.conf");
            let mut child = Command::new(bin)
                .args(Self::base_args(dir))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn nginx");
            let deadline = std::time::Instant::now() + LIMIT;
            loop {
                if let Some(status) = child.try_wait().expect("try_wait nginx") {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        e.read_to_string(&mut err).ok();
                    }
                    last_err = format!("nginx exited with {status}: {err}");
                    break; // port taken in between? try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Nginx {
                        bin: bin.to_owned(),
                        dir: dir.to_owned(),
                        port,
                        child,
                    };
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "nginx did not listen on {port}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("nginx did not start: {last_err}");
    }

    fn base_args(dir: &Path) -> Vec<String> {
        let d = dir.display();
        vec![
            "-p".into(),
            format!("{d}/"),
            "-c".into(),
            format!("{d}/nginx.conf"),
            "-e".into(),
            format!("{d}/logs/error.log"),
        ]
    }

    fn log(&self) -> PathBuf {
        self.dir.join("logs/access.log")
    }

    /// `nginx -s reopen`, what logrotate's postrotate runs.
    fn reopen(&self) {
        let status = Command::new(&self.bin)
            .args(Self::base_args(&self.dir))
            .args(["-s", "reopen"])
            .status()
            .expect("run nginx -s reopen");
        assert!(status.success(), "nginx -s reopen failed: {status}");
    }

    /// One real HTTP request; returns the status code.
    fn get(&self, target: &str) -> u16 {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to nginx");
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: honeybot-test/1.0\r\n\
             Accept: text/markdown, text/html\r\nConnection: close\r\n\r\n"
        )
        .expect("send request");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read response");
        resp.split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad response: {resp:?}"))
    }
}

impl Drop for Nginx {
    /// SIGTERM lets the master stop its workers (SIGKILL would orphan them); SIGKILL only
    /// if it does not exit in time.
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_ok() {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        r#"daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    map $http_accept $serve_markdown {{
        default 0;
        "~text/markdown" 1;
    }}
    log_format honeybot '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" Accept:"$http_accept" MarkdownServed:$serve_markdown';
    access_log {d}/logs/access.log honeybot;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {d}/html;
        location / {{ try_files $uri =404; }}
    }}
}}
"#
    )
}

/// The ingest loop in a thread of this process, as `main.rs` runs it.
fn start_ingest(db: &Path, log: &Path) -> (Control, JoinHandle<Result<RunSummary, IngestError>>) {
    start_ingest_with(db, log, Watcher::new)
}

/// The same with a chosen watcher ([`Watcher::polling`]: no inotify).
pub fn start_ingest_with(
    db: &Path,
    log: &Path,
    watcher: fn() -> Watcher,
) -> (Control, JoinHandle<Result<RunSummary, IngestError>>) {
    let file = FileConfig {
        batch_lines: Some(16),
        flush_interval_ms: Some(50),
        poll_interval_ms: Some(200),
        ..FileConfig::default()
    };
    let overrides = Overrides {
        config: None,
        db: Some(db.to_owned()),
        logs: vec![log.to_owned()],
    };
    let settings = Settings::resolve(file, Path::new("<test>"), &overrides).expect("settings");
    let honeydb = HoneyDb::open(db, &settings.db_options().expect("db options")).expect("open db");
    let control = Control::new().expect("control");
    let c = control.clone();
    let handle = std::thread::spawn(move || {
        let reloaded = settings.clone();
        honeybot_ingest::run_with_watcher(
            settings,
            honeydb,
            watcher(),
            &c,
            &mut Notifier::disabled(),
            move || Ok(reloaded.clone()),
        )
    });
    (control, handle)
}

/// Sends `n` requests of phase `phase`: even ones hit the page (200), odd ones a missing
/// path (404). Each target is unique. Returns (target, status) pairs.
fn send(nginx: &Nginx, phase: &str, n: usize, sent: &mut Vec<(String, u16)>) {
    for i in 0..n {
        let target = if i % 2 == 0 {
            format!("/index.html?{phase}-{i}")
        } else {
            format!("/missing/{phase}-{i}")
        };
        let status = nginx.get(&target);
        assert_eq!(status, if i % 2 == 0 { 200 } else { 404 }, "{target}");
        sent.push((target, status));
    }
}

#[test]
fn nginx_rotations_are_followed_without_loss_or_doubles() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let nginx = Nginx::start(&bin, &tmp.path().join("nginx"));
    let db = tmp.path().join("honeybot.db");
    let log = nginx.log();
    let (control, handle) = start_ingest(&db, &log);
    let mut sent = Vec::new();
    let want = |sent: &Vec<(String, u16)>| sent.len() as i64;

    send(&nginx, "start", 40, &mut sent);
    wait_until("the first requests in the DB", LIMIT, || {
        db_requests(&db) == want(&sent)
    });

    // logrotate `create` style: rename, nginx keeps writing the old file until reopen.
    std::fs::rename(&log, log.with_extension("log.1")).expect("mv access.log");
    send(&nginx, "before-reopen", 15, &mut sent);
    nginx.reopen();
    wait_until("nginx to create a new access.log", LIMIT, || log.exists());
    send(&nginx, "after-reopen", 15, &mut sent);
    wait_until("the renamed file's tail and the new file", LIMIT, || {
        db_requests(&db) == want(&sent)
    });
    // logrotate `copytruncate`: copy, then truncate in place (nginx keeps its fd).
    std::fs::copy(&log, log.with_extension("log.2")).expect("copy");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .expect("open for truncate")
        .set_len(0)
        .expect("truncate");
    send(&nginx, "after-truncate", 20, &mut sent);
    wait_until("lines written after copytruncate", LIMIT, || {
        db_requests(&db) == want(&sent)
    });

    // The log disappears (deleted; nginx still writes to the open file) and comes back.
    std::fs::remove_file(&log).expect("rm access.log");
    send(&nginx, "deleted", 10, &mut sent);
    nginx.reopen();
    wait_until("access.log to come back", LIMIT, || log.exists());
    send(&nginx, "back", 10, &mut sent);
    wait_until("lines of the deleted and the new file", LIMIT, || {
        db_requests(&db) == want(&sent)
    });
    // A restart resumes at the committed cursor: nothing is counted twice.
    control.request_shutdown();
    let summary = handle.join().expect("ingest thread").expect("run");
    assert_eq!(summary.lines as i64, want(&sent));
    let (control, handle) = start_ingest(&db, &log);
    send(&nginx, "restarted", 10, &mut sent);
    wait_until("lines after the restart", LIMIT, || {
        db_requests(&db) == want(&sent)
    });
    control.request_shutdown();
    let summary = handle.join().expect("ingest thread").expect("run");
    assert_eq!(
        summary.lines, 10,
        "the restarted daemon counted only the new lines"
    );

    let mut expected: Vec<(String, i64)> = sent.iter().map(|(t, _)| (t.clone(), 1)).collect();
    expected.sort();
    assert_eq!(db_path_counts(&db), expected, "every request exactly once");
    let conn = rusqlite::Connection::open(&db).expect("open db");
    let not_found: i64 = conn
        .query_row(
            "SELECT sum(count) FROM daily_logs WHERE status = 404",
            [],
            |r| r.get(0),
        )
        .expect("404 count");
    assert_eq!(
        not_found,
        sent.iter().filter(|(_, s)| *s == 404).count() as i64
    );
    // The extended format's Accept / MarkdownServed fields were read from every line.
    let markdown: i64 = conn
        .query_row(
            "SELECT coalesce(sum(count), 0) FROM daily_accepts WHERE markdown_served = '1'",
            [],
            |r| r.get(0),
        )
        .expect("accept count");
    assert_eq!(markdown, want(&sent));
}

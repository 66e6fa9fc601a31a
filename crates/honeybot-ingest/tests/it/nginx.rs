//! A real nginx on 127.0.0.1 (port picked at run time) writing the Honeybot extended
//! log format, driven by real HTTP requests and rotated the way logrotate does it
//! (`mv` + `nginx -s reopen`, copytruncate, and a deleted log that comes back), while
//! the ingest loop runs in-process; the database must match the requests sent.

use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use honeybot_daemon::{Control, Notifier};
use honeybot_db::HoneyDb;
use honeybot_ingest::config::FileConfig;
use honeybot_ingest::{IngestError, Overrides, RunSummary, Settings, Watcher};
use honeybot_testsupport::nginx::Nginx;
use honeybot_testsupport::{require_tool, wait_until, write_public};

use crate::support::{db_path_counts, db_requests};

const LIMIT: Duration = Duration::from_secs(30);

/// nginx writing the Honeybot extended log format to `logs/access.log`, serving one page.
fn start_nginx(bin: &Path, dir: &Path) -> Nginx {
    write_public(&dir.join("html/index.html"), "<p>hello</p>\n");
    let http = r#"
    map $http_accept $serve_markdown {
        default 0;
        "~text/markdown" 1;
    }
    log_format honeybot '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" Accept:"$http_accept" MarkdownServed:$serve_markdown';
    access_log logs/access.log honeybot;"#;
    Nginx::start(bin, dir, http, "location / { try_files $uri =404; }")
}

/// One real HTTP request; returns the status code.
fn get(nginx: &Nginx, target: &str) -> u16 {
    nginx
        .get(
            target,
            &[
                ("User-Agent", "honeybot-test/1.0"),
                ("Accept", "text/markdown, text/html"),
            ],
        )
        .status
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
        let status = get(nginx, &target);
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
    let nginx = start_nginx(&bin, &tmp.path().join("nginx"));
    let db = tmp.path().join("honeybot.db");
    let log = nginx.access_log();
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
    nginx.signal("reopen");
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
    nginx.signal("reopen");
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

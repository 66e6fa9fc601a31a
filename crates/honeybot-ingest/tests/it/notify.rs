//! sd-notify as systemd sees it: the test binds its own NOTIFY_SOCKET datagram socket and
//! sets WATCHDOG_USEC / WATCHDOG_PID, like systemd for `Type=notify` + `WatchdogSec=`.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::{BIN, Daemon, append, bind_notify_socket, db_requests, log_line, wait_until};

struct Socket {
    sock: UnixDatagram,
    seen: Vec<String>,
}

impl Socket {
    /// Receive messages until one satisfies `pred` (panics after `limit`).
    fn until(&mut self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 4096];
        loop {
            assert!(Instant::now() < deadline, "no {what} in {:?}", self.seen);
            match self.sock.recv(&mut buf) {
                Ok(n) => {
                    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                    self.seen.push(msg.clone());
                    if pred(&msg) {
                        return msg;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("recv on NOTIFY_SOCKET: {e}"),
            }
        }
    }
}

#[test]
fn ready_status_watchdog_and_sigterm_exit_zero() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let db = tmp.path().join("honeybot.db");
    let (sock_path, sock) = bind_notify_socket(tmp.path());
    let mut sock = Socket {
        sock,
        seen: Vec::new(),
    };
    for i in 0..100 {
        append(&log, log_line(i, &format!("/n/{i}")).as_bytes());
    }

    // systemd sets WATCHDOG_PID to the service's pid: `exec` keeps the shell's pid.
    let child = Command::new("sh")
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$0\" \"$@\"")
        .arg(BIN)
        .args([
            "--db",
            &db.display().to_string(),
            "--log",
            &log.display().to_string(),
        ])
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "300000")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn daemon");
    let daemon = Daemon { child };

    let ready = sock.until("READY=1", Duration::from_secs(20), |m| {
        m.lines().any(|l| l == "READY=1")
    });
    assert!(db.exists(), "READY=1 only after the database is open");
    assert!(
        ready.contains("STATUS="),
        "READY comes with a status: {ready}"
    );

    // The watchdog is pinged from the loop (300 ms / 2), repeatedly.
    for _ in 0..3 {
        sock.until("WATCHDOG=1", Duration::from_secs(10), |m| {
            m.lines().any(|l| l == "WATCHDOG=1")
        });
    }
    sock.until(
        "STATUS with the first lines",
        Duration::from_secs(20),
        |m| m.contains("STATUS=100 lines ingested") && m.contains("lines/s") && m.contains("lag"),
    );
    for i in 100..150 {
        append(&log, log_line(i, &format!("/n/{i}")).as_bytes());
    }
    sock.until(
        "STATUS with the appended lines",
        Duration::from_secs(20),
        |m| m.contains("STATUS=150 lines ingested"),
    );
    wait_until("150 lines in the DB", Duration::from_secs(10), || {
        db_requests(&db) == 150
    });

    daemon.signal(Signal::SIGTERM);
    let (status, stderr) = daemon.wait(Duration::from_secs(10));
    assert!(status.success(), "SIGTERM exits 0: {status}\n{stderr}");
    sock.until("STOPPING=1", Duration::from_secs(5), |m| {
        m.lines().any(|l| l == "STOPPING=1")
    });
}

#[test]
fn without_notify_socket_everything_is_a_silent_no_op() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let db = tmp.path().join("honeybot.db");
    append(&log, log_line(1, "/x").as_bytes());
    let d = Daemon::follow(&db, &log, None, &[("WATCHDOG_USEC", "1000")]);
    wait_until("the line in the DB", Duration::from_secs(20), || {
        db_requests(&db) == 1
    });
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}\n{stderr}");
    assert!(!stderr.contains("ERROR"), "{stderr}");
}

#[test]
fn sigterm_commits_the_lines_read_but_not_yet_flushed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let db = tmp.path().join("honeybot.db");
    let cfg = tmp.path().join("ingest.toml");
    // Nothing would be committed for an hour but for the shutdown.
    std::fs::write(&cfg, "batch_lines = 1000000\nflush_interval_ms = 3600000\n").expect("config");
    let (sock_path, sock) = bind_notify_socket(tmp.path());
    let mut sock = Socket {
        sock,
        seen: Vec::new(),
    };
    let d = Daemon::follow(
        &db,
        &log,
        Some(&cfg),
        &[("NOTIFY_SOCKET", &sock_path.display().to_string())],
    );
    sock.until("READY=1", Duration::from_secs(20), |m| {
        m.contains("READY=1")
    });
    for i in 0..25 {
        append(&log, log_line(i, &format!("/t/{i}")).as_bytes());
    }
    // Read (the oldest uncommitted line ages) but not committed.
    sock.until(
        "a STATUS with uncommitted lines",
        Duration::from_secs(20),
        |m| {
            m.contains("STATUS=0 lines ingested") && !m.contains("lag 0.0 s") && m.contains(" s / ")
        },
    );
    assert_eq!(db_requests(&db), 0);
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}\n{stderr}");
    assert_eq!(db_requests(&db), 25, "the shutdown committed the batch");
    sock.until("STOPPING=1", Duration::from_secs(5), |m| {
        m.contains("STOPPING=1") && m.contains("STATUS=25 lines ingested")
    });
}

/// Stopped, rotated, and the rotated file moved away before the restart: the lines
/// written to it after the stop cannot be counted; the daemon says so once, in the
/// journal and in STATUS=, and goes on with the new file.
#[test]
fn a_rotated_file_that_is_gone_is_reported_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (log, db) = (tmp.path().join("access.log"), tmp.path().join("h.db"));
    for i in 0..20 {
        append(&log, log_line(i, &format!("/gone/{i}")).as_bytes());
    }
    let d = Daemon::follow(&db, &log, None, &[]);
    wait_until("first lines", Duration::from_secs(30), || {
        db_requests(&db) >= 20
    });
    d.signal(Signal::SIGTERM);
    let (status, _) = d.wait(Duration::from_secs(10));
    assert!(status.success());
    // Written while stopped, then rotated and taken elsewhere (not a rotated name).
    for i in 20..30 {
        append(&log, log_line(i, &format!("/gone/{i}")).as_bytes());
    }
    let away = tempfile::tempdir().expect("tempdir");
    std::fs::rename(&log, away.path().join("moved.log")).expect("move away");
    append(&log, log_line(30, "/new/30").as_bytes());

    let (sock_path, sock) = bind_notify_socket(tmp.path());
    let sock_env = sock_path.display().to_string();
    let d = Daemon::follow(&db, &log, None, &[("NOTIFY_SOCKET", &sock_env)]);
    let mut socket = Socket {
        sock,
        seen: Vec::new(),
    };
    let ready = socket.until("READY", Duration::from_secs(30), |m| m.contains("READY=1"));
    assert!(
        ready.contains("UNREAD: 1 rotated file(s) not found"),
        "STATUS= says a file is missing: {ready}"
    );
    wait_until("the new file", Duration::from_secs(30), || {
        db_requests(&db) >= 21
    });
    // Another rotation makes the daemon look again: no second report.
    std::fs::rename(&log, tmp.path().join("access.log.1")).expect("rotate");
    append(&log, log_line(31, "/new/31").as_bytes());
    wait_until("after the rotation", Duration::from_secs(30), || {
        db_requests(&db) >= 22
    });
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "{stderr}");
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("read only up to byte"))
        .collect();
    assert_eq!(reports.len(), 1, "reported once: {stderr}");
    assert!(
        reports[0].contains("read only up to byte") && reports[0].contains("20 lines"),
        "{}",
        reports[0]
    );
    assert_eq!(
        db_requests(&db),
        22,
        "the 10 lines of the moved file are not counted"
    );
}

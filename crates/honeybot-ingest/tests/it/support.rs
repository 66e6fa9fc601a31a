//! Helpers shared by the integration tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use honeybot_testsupport::{require_tool, wait_until};
use rusqlite::Connection;

/// The daemon binary built by cargo for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_honeybot-ingest");

/// Bind a datagram socket in `dir` the way systemd's NOTIFY_SOCKET is bound, with a short
/// read timeout so tests can poll it; returns its path (for the daemon's environment).
pub fn bind_notify_socket(dir: &Path) -> (PathBuf, std::os::unix::net::UnixDatagram) {
    let path = dir.join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&path).expect("bind NOTIFY_SOCKET");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("set read timeout");
    (path, sock)
}

/// Total requests counted in a HoneyDB file (0 when it does not exist yet).
pub fn db_requests(db: &Path) -> i64 {
    if !db.exists() {
        return 0;
    }
    let Ok(conn) = Connection::open(db) else {
        return 0;
    };
    conn.busy_timeout(Duration::from_secs(5)).ok();
    conn.query_row("SELECT coalesce(sum(count), 0) FROM daily_logs", [], |r| {
        r.get(0)
    })
    .unwrap_or(0)
}

/// A kv_store counter.
pub fn kv(db: &Path, key: &str) -> i64 {
    let conn = Connection::open(db).expect("open db");
    conn.query_row(
        "SELECT coalesce((SELECT value FROM kv_store WHERE key = ?1), 0)",
        [key],
        |r| r.get(0),
    )
    .expect("kv query")
}

/// Count per path, sorted by path.
pub fn db_path_counts(db: &Path) -> Vec<(String, i64)> {
    let conn = Connection::open(db).expect("open db");
    let mut stmt = conn
        .prepare(
            "SELECT p.value, sum(d.count) FROM daily_logs d JOIN paths p ON p.id = d.path_id \
             GROUP BY p.value ORDER BY p.value",
        )
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Append bytes to a file (creating it), like a web server does.
pub fn append(path: &Path, data: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("open log for append");
    f.write_all(data).expect("append to log");
}

/// One line of the Honeybot extended log format for a unique path.
pub fn log_line(i: u64, path: &str) -> String {
    format!(
        "203.0.113.{} - - [29/Nov/2026:12:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" 200 {} \
         \"-\" \"test-agent/{}\" Accept:\"text/html\" MarkdownServed:0\n",
        i % 250,
        (i / 60) % 60,
        i % 60,
        100 + i % 900,
        i % 7
    )
}

/// The daemon binary as a child process; killed (SIGKILL) on drop if still running.
pub struct Daemon {
    pub child: Child,
}

impl Daemon {
    /// The daemon following `log` into `db`, with an optional config file.
    pub fn follow(db: &Path, log: &Path, config: Option<&Path>, env: &[(&str, &str)]) -> Daemon {
        let (db, log) = (db.display().to_string(), log.display().to_string());
        let config = config.map(|c| c.display().to_string());
        let mut args = vec!["--db", &db, "--log", &log];
        if let Some(c) = &config {
            args.extend(["--config", c]);
        }
        Daemon::spawn(&args, env)
    }

    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .env_remove("JOURNAL_STREAM")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Daemon {
            child: cmd.spawn().expect("spawn honeybot-ingest"),
        }
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, sig).expect("send signal");
    }

    /// Wait for exit (panics after `limit`); returns the status and stderr.
    pub fn wait(mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    use std::io::Read;
                    e.read_to_string(&mut err).ok();
                }
                return (status, err);
            }
            assert!(
                Instant::now() < deadline,
                "honeybot-ingest did not exit in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A small xorshift generator: the crash test's random points, reproducible by seed.
pub struct Rng(u64);

impl Rng {
    pub fn from_time() -> Rng {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        eprintln!("rng seed {seed}");
        Rng(seed)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

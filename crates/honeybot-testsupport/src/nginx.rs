//! A real nginx on 127.0.0.1 for integration tests: its own prefix folder (`html/`, `logs/`,
//! `tmp/`), a port picked at run time, the caller's `http` and `server` snippets, raw HTTP
//! requests, and a stop (SIGTERM, then SIGKILL) on drop.
//!
//! The config is checked with `nginx -t` first ([`test_config`]), so a refused snippet fails
//! with nginx's own words. Readiness is nginx's own signal, not a poll: the master is started with
//! `-g 'error_log stderr notice;'` and is ready once it says `start worker processes` (it has
//! bound and is listening by then, so a connection waits in the backlog for the worker). A
//! port taken between picking and binding (`Address already in use`) is retried with another.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{mkdir_public, open_up, wait_until};

/// How long nginx may take to start, reload or stop.
pub const LIMIT: Duration = Duration::from_secs(30);

/// A running nginx master with one worker; stopped on drop.
#[derive(Debug)]
pub struct Nginx {
    pub bin: PathBuf,
    /// The prefix: `nginx.conf`, `html/` (the root), `logs/access.log`, `logs/error.log`.
    pub dir: PathBuf,
    pub port: u16,
    child: Child,
}

impl Nginx {
    /// Starts `bin` in `dir` (created; what the caller put there, `html/` above all, is made
    /// readable by the workers). `http` goes inside `http { }` (log formats, maps, includes),
    /// `server` inside the one `server { listen 127.0.0.1:<port>; root <dir>/html; }`.
    /// Relative paths in the snippets are relative to `dir`.
    pub fn start(bin: &Path, dir: &Path, http: &str, server: &str) -> Nginx {
        for d in ["", "html", "logs", "tmp"] {
            mkdir_public(&dir.join(d));
        }
        open_up(dir);
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("pick a port")
                .port();
            std::fs::write(dir.join("nginx.conf"), config(dir, port, http, server))
                .expect("write nginx.conf");
            if let Err(said) = test_config(bin, dir) {
                panic!("nginx did not start: nginx -t refused the config: {said}");
            }
            let mut child = Command::new(bin)
                .args(base_args(dir))
                .args(["-g", "error_log stderr notice;"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            let stderr = child.stderr.take().expect("nginx stderr");
            match wait_ready(stderr) {
                Ok(()) => {
                    return Nginx {
                        bin: bin.to_owned(),
                        dir: dir.to_owned(),
                        port,
                        child,
                    };
                }
                Err(said) => {
                    let _ = child.kill();
                    let status = child.wait().expect("wait for nginx");
                    last_err = format!("nginx exited ({status}): {said}");
                    if !said.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        panic!("nginx did not start: {last_err}");
    }

    /// `-p <dir>/ -c <dir>/nginx.conf -e <dir>/logs/error.log`: what every `nginx` command
    /// for this instance needs (`-s reload`, `-s reopen`, `-t`).
    pub fn args(&self) -> Vec<String> {
        base_args(&self.dir)
    }

    /// The full command line of `nginx -s <signal>` for this instance (for a config file
    /// that names a reload command).
    pub fn signal_command(&self, signal: &str) -> Vec<String> {
        let mut c = vec![self.bin.display().to_string()];
        c.extend(self.args());
        c.extend(["-s".into(), signal.into()]);
        c
    }

    /// Runs `nginx -s <signal>` (`reopen` is what logrotate's postrotate runs) and checks it
    /// succeeded.
    pub fn signal(&self, signal: &str) {
        let status = Command::new(&self.bin)
            .args(self.args())
            .args(["-s", signal])
            .status()
            .unwrap_or_else(|e| panic!("run nginx -s {signal}: {e}"));
        assert!(status.success(), "nginx -s {signal} failed: {status}");
    }

    pub fn access_log(&self) -> PathBuf {
        self.dir.join("logs/access.log")
    }

    /// What nginx has logged so far (empty before the first request).
    pub fn access_log_text(&self) -> String {
        std::fs::read_to_string(self.access_log()).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Processes whose parent is the master: its workers, old ones still draining included.
    pub fn workers(&self) -> usize {
        children_of(self.child.id())
    }

    /// Waits until a reload is complete: `ready` holds and the old worker has exited, so no
    /// request can reach the old configuration any more.
    pub fn wait_reloaded(&self, mut ready: impl FnMut() -> bool) {
        wait_until(
            "nginx to run only workers of the new configuration",
            LIMIT,
            || ready() && self.workers() == 1,
        );
    }

    /// One raw HTTP/1.1 GET: see [`get`].
    pub fn get(&self, target: impl AsRef<[u8]>, headers: &[(&str, &str)]) -> Response {
        get(self.port, target, headers)
    }
}

/// How many processes have `pid` as their parent (an nginx master's workers, old ones
/// still draining included), read from `/proc`.
pub fn children_of(pid: u32) -> usize {
    let parent = pid.to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid ...
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                == Some(parent.as_str())
        })
        .count()
}

/// One raw HTTP/1.1 GET to `127.0.0.1:port` (any server, e.g. an nginx started the way a
/// systemd unit starts it): `target` is sent exactly as given, after `Host: localhost` come
/// `headers`, then `Connection: close`.
pub fn get(port: u16, target: impl AsRef<[u8]>, headers: &[(&str, &str)]) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to nginx");
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target.as_ref());
    req.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\n");
    for (name, value) in headers {
        req.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    req.extend_from_slice(b"Connection: close\r\n\r\n");
    s.write_all(&req).expect("send request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    Response::parse(&raw)
}

impl Drop for Nginx {
    /// SIGTERM lets the master stop its workers (SIGKILL would orphan them); SIGKILL only
    /// if it has not exited after [`LIMIT`].
    fn drop(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        if kill(pid, Signal::SIGTERM).is_err() {
            let _ = self.child.wait();
            return;
        }
        let (done, stopped) = mpsc::channel::<()>();
        let guard = std::thread::spawn(move || {
            if stopped.recv_timeout(LIMIT) == Err(mpsc::RecvTimeoutError::Timeout) {
                let _ = kill(pid, Signal::SIGKILL);
            }
        });
        let _ = self.child.wait();
        let _ = done.send(());
        let _ = guard.join();
    }
}

/// `nginx -t` on `dir/nginx.conf` (as [`Nginx::start`] writes it): `Err` with what nginx
/// said when it refuses the config. Nothing is bound or started.
pub fn test_config(bin: &Path, dir: &Path) -> Result<(), String> {
    let out = Command::new(bin)
        .args(["-t", "-q"])
        .args(base_args(dir))
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {} -t: {e}", bin.display()));
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Reads the master's stderr until it says it starts its workers (`Ok`), or exits first
/// (`Err` with what it said). A thread keeps draining stderr afterwards so that nginx never
/// blocks on a full pipe.
fn wait_ready(stderr: std::process::ChildStderr) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + LIMIT;
    let mut said = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("start worker processes") => return Ok(()),
            Ok(line) => {
                said.push_str(&line);
                said.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(said),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!("no 'start worker processes' in {LIMIT:?}; {said}"));
            }
        }
    }
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

fn config(dir: &Path, port: u16, http: &str, server: &str) -> String {
    let d = dir.display();
    format!(
        r#"daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
{http}
    server {{
        listen 127.0.0.1:{port};
        root {d}/html;
{server}
    }}
}}
"#
    )
}

/// An HTTP response as read from the socket.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case, values trimmed, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..split]);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad response: {head:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Response {
            status,
            headers,
            body: raw.get(split + 4..).unwrap_or_default().to_vec(),
        }
    }

    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

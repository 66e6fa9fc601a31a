//! Helpers of the janitor's integration tests: a real nginx serving a real site with the
//! janitor's map included, raw HTTP requests, site fixtures, and a HoneyDB filled by
//! importing real log lines.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use honeybot_db::{DbOptions, HoneyDb, ImportOptions};

/// The janitor binary built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_honeybot-janitor");

pub const LIMIT: Duration = Duration::from_secs(30);

/// Whether an external tool is there. Missing: with CI=true the test fails loudly,
/// otherwise it prints `SKIP: <reason>` and the caller returns.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let reason = format!(
            "{name} is not installed (apt-get install {name}; see scripts/deps/janitor.apt)"
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{reason}");
        }
        eprintln!("SKIP: {reason}");
    }
    found
}

/// Poll `cond` until it holds or [`LIMIT`] passes (then panic with `what`).
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkdir(d: &Path) {
    std::fs::create_dir_all(d).expect("mkdir");
    // Workers of a root-started nginx run as nobody.
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Writes a file readable by nginx's workers, creating its folders.
pub fn write(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        mkdir(d);
    }
    std::fs::write(path, text).expect("write file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
}

/// A page of a built site.
pub fn page(root: &Path, url: &str, title: &str) {
    let file = if url.ends_with('/') {
        root.join(url.trim_start_matches('/')).join("index.html")
    } else {
        root.join(url.trim_start_matches('/'))
    };
    write(
        &file,
        &format!(
            "<!doctype html><html><head><title>{title}</title></head><body>{title}</body></html>\n"
        ),
    );
}

/// A real nginx on 127.0.0.1 (port picked at run time) serving `html/`, logging to
/// `logs/access.log`, with the janitor's map included at http level and the redirect line
/// in the server. Stopped on drop.
pub struct Nginx {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub port: u16,
    child: Child,
}

impl Nginx {
    pub fn html(dir: &Path) -> PathBuf {
        dir.join("html")
    }

    pub fn map(dir: &Path) -> PathBuf {
        dir.join("maps/redirects.map")
    }

    /// Starts nginx in `dir` (whose `html/` holds the site). `locations`, when not empty,
    /// replaces the server's `location / { try_files ... }`.
    /// Writes an empty map first when there is none.
    pub fn start(bin: &Path, dir: &Path, locations: &str) -> Nginx {
        for d in ["", "html", "logs", "tmp", "maps"] {
            mkdir(&dir.join(d));
        }
        if !Self::map(dir).exists() {
            write(&Self::map(dir), &honeybot_janitor::map::render(&[]));
        }
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("pick a port")
                .port();
            std::fs::write(dir.join("nginx.conf"), config(dir, port, locations))
                .expect("write conf");
            let mut child = Command::new(bin)
                .args(base_args(dir))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn nginx");
            let deadline = Instant::now() + LIMIT;
            loop {
                if let Some(status) = child.try_wait().expect("try_wait nginx") {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        e.read_to_string(&mut err).ok();
                    }
                    last_err = format!("nginx exited with {status}: {err}");
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Nginx {
                        bin: bin.to_owned(),
                        dir: dir.to_owned(),
                        port,
                        child,
                    };
                }
                assert!(Instant::now() < deadline, "nginx did not listen on {port}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("nginx did not start: {last_err}");
    }

    /// The command line that reloads this nginx (`nginx -s reload`).
    pub fn reload_command(&self) -> Vec<String> {
        let mut c = vec![self.bin.display().to_string()];
        c.extend(base_args(&self.dir));
        c.extend(["-s".into(), "reload".into()]);
        c
    }

    /// The janitor's test command for this nginx binary.
    pub fn test_command(&self) -> Vec<String> {
        test_command(&self.bin)
    }

    /// Processes whose parent is the master (its workers, old ones included).
    fn workers(&self) -> usize {
        let master = self.child.id().to_string();
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                // pid (comm) state ppid ...
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    == Some(master.as_str())
            })
            .count()
    }

    /// Waits until a reload is complete: `ready` holds and the old worker has exited, so
    /// no request can reach the old configuration any more.
    pub fn wait_reloaded(&self, mut ready: impl FnMut() -> bool) {
        wait_until("nginx to run only workers of the new configuration", || {
            ready() && self.workers() == 1
        });
    }

    pub fn access_log(&self) -> PathBuf {
        self.dir.join("logs/access.log")
    }

    /// One raw HTTP/1.1 GET (the target sent exactly as given); (status, Location, body).
    pub fn get_bytes(&self, target: &[u8]) -> (u16, Option<String>, Vec<u8>) {
        get_raw(self.port, target, "honeybot-test/1.0", "192.0.2.1")
    }

    pub fn get(&self, target: &str) -> (u16, Option<String>, Vec<u8>) {
        get_raw(
            self.port,
            target.as_bytes(),
            "honeybot-test/1.0",
            "192.0.2.1",
        )
    }

    /// A request as another client (nginx takes the address from `X-Client-IP`).
    pub fn get_as(
        &self,
        target: &str,
        user_agent: &str,
        ip: &str,
    ) -> (u16, Option<String>, Vec<u8>) {
        get_raw(self.port, target.as_bytes(), user_agent, ip)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_ok() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
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

pub fn test_command(bin: &Path) -> Vec<String> {
    let mut c = honeybot_janitor::config::default_test_command();
    c[0] = bin.display().to_string();
    c
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

fn config(dir: &Path, port: u16, locations: &str) -> String {
    let d = dir.display();
    let locations = if locations.is_empty() {
        "location / { try_files $uri $uri/ =404; }"
    } else {
        locations
    };
    format!(
        r#"daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    map_hash_bucket_size 128;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Client-IP;
    include {d}/maps/redirects.map;
    log_format honeybot '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
    access_log {d}/logs/access.log honeybot;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {d}/html;
        if ($honeybot_redirect) {{ return 301 $honeybot_redirect; }}
        {locations}
    }}
}}
"#
    )
}

/// One raw HTTP/1.1 request; (status, Location, body).
pub fn get_raw(
    port: u16,
    target: &[u8],
    user_agent: &str,
    ip: &str,
) -> (u16, Option<String>, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to nginx");
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(
        format!(" HTTP/1.1\r\nHost: localhost\r\nUser-Agent: {user_agent}\r\nX-Client-IP: {ip}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    s.write_all(&req).expect("send request");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read response");
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(resp.len());
    let body = resp.get(split + 4..).unwrap_or_default().to_vec();
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad response: {head:?}"));
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .map(str::to_owned);
    (status, location, body)
}

/// Imports a log file into a HoneyDB at `db` with honeybot-db's import.
pub fn import_log(db: &Path, log: &Path) {
    let mut honey = HoneyDb::open(db, &DbOptions::default()).expect("open db");
    let file = std::fs::File::open(log).expect("open access log");
    honeybot_db::import(
        &mut honey,
        file,
        &ImportOptions::new(log.display().to_string()),
        |_| {},
    )
    .expect("import");
}

/// Log lines in the combined format, dated now, for `path` from `ip` as `ua`.
pub fn log_lines(path: &str, status: u16, ip: &str, ua: &str, n: usize) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let date = honeybot_janitor::since_date(now, 1); // today, UTC
    let (y, m, d) = (&date[..4], &date[5..7], &date[8..10]);
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][m.parse::<usize>().expect("month") - 1];
    (0..n)
        .map(|i| {
            format!(
                "{ip} - - [{d}/{month}/{y}:00:00:{:02} +0000] \"GET {path} HTTP/1.1\" {status} 153 \"-\" \"{ua}\"\n",
                i % 60
            )
        })
        .collect()
}

/// Runs the janitor binary; returns its output.
pub fn janitor(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("JOURNAL_STREAM")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("run honeybot-janitor")
}

/// The JSON a `--format json` command printed.
pub fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "janitor failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// `(from, to)` of the entries of a list in a run report.
pub fn pairs(report: &serde_json::Value, list: &str) -> Vec<(String, Option<String>)> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no list {list} in {report}"))
        .iter()
        .map(|e| {
            (
                e["from"].as_str().expect("from").to_owned(),
                e["to"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

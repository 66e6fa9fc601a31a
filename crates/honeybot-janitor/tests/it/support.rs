//! Helpers of the janitor's integration tests: a real nginx serving a real site with the
//! janitor's map included, raw HTTP requests, site fixtures, and a HoneyDB filled by
//! importing real log lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use honeybot_db::{DbOptions, HoneyDb, ImportOptions};
pub use honeybot_testsupport::require_tool;
use honeybot_testsupport::write_public;

/// The janitor binary built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_honeybot-janitor");

/// Writes a file readable by nginx's workers, creating its folders.
pub fn write(path: &Path, text: &str) {
    write_public(path, text);
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
#[derive(Debug)]
pub struct Nginx(honeybot_testsupport::nginx::Nginx);

impl std::ops::Deref for Nginx {
    type Target = honeybot_testsupport::nginx::Nginx;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
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
        if !Self::map(dir).exists() {
            write(&Self::map(dir), &honeybot_janitor::map::render(&[]));
        }
        let http = r#"
    map_hash_bucket_size 128;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Client-IP;
    include maps/redirects.map;
    log_format honeybot '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
    access_log logs/access.log honeybot;"#;
        let locations = if locations.is_empty() {
            "location / { try_files $uri $uri/ =404; }"
        } else {
            locations
        };
        let server =
            format!("if ($honeybot_redirect) {{ return 301 $honeybot_redirect; }}\n{locations}");
        Nginx(honeybot_testsupport::nginx::Nginx::start(
            bin, dir, http, &server,
        ))
    }

    /// The command line that reloads this nginx (`nginx -s reload`).
    pub fn reload_command(&self) -> Vec<String> {
        self.signal_command("reload")
    }

    /// The janitor's test command for this nginx binary.
    pub fn test_command(&self) -> Vec<String> {
        test_command(&self.bin)
    }

    /// One raw HTTP/1.1 GET (the target sent exactly as given); (status, Location, body).
    pub fn get_bytes(&self, target: &[u8]) -> (u16, Option<String>, Vec<u8>) {
        self.get_as_bytes(target, "honeybot-test/1.0", "192.0.2.1")
    }

    pub fn get(&self, target: &str) -> (u16, Option<String>, Vec<u8>) {
        self.get_bytes(target.as_bytes())
    }

    /// A request as another client (nginx takes the address from `X-Client-IP`).
    pub fn get_as(
        &self,
        target: &str,
        user_agent: &str,
        ip: &str,
    ) -> (u16, Option<String>, Vec<u8>) {
        self.get_as_bytes(target.as_bytes(), user_agent, ip)
    }

    fn get_as_bytes(
        &self,
        target: &[u8],
        user_agent: &str,
        ip: &str,
    ) -> (u16, Option<String>, Vec<u8>) {
        get_raw(self.port, target, user_agent, ip)
    }
}

/// One raw GET to nginx on `127.0.0.1:port` as the client `ip` (nginx takes the address
/// from `X-Client-IP`): status, `Location` and body.
pub fn get_raw(
    port: u16,
    target: &[u8],
    user_agent: &str,
    ip: &str,
) -> (u16, Option<String>, Vec<u8>) {
    let r = honeybot_testsupport::nginx::get(
        port,
        target,
        &[("User-Agent", user_agent), ("X-Client-IP", ip)],
    );
    let location = r.header("location").map(str::to_owned);
    (r.status, location, r.body)
}

/// Polls `cond` until it holds; panics naming `what` after 30 s.
pub fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    honeybot_testsupport::wait_until(what, std::time::Duration::from_secs(30), cond);
}

pub fn test_command(bin: &Path) -> Vec<String> {
    let mut c = honeybot_janitor::config::default_test_command();
    c[0] = bin.display().to_string();
    c
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

/// `dir/honeybot.db` holding `hits` 404s of `path` (one browser client, today), imported
/// from `dir/access.log`.
pub fn db_with_404s(dir: &Path, path: &str, hits: usize) -> PathBuf {
    let log = dir.join("access.log");
    write(
        &log,
        &log_lines(path, 404, "192.0.2.4", "Mozilla/5.0", hits),
    );
    let db = dir.join("honeybot.db");
    import_log(&db, &log);
    db
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

//! The nginx side of the bot intelligence, checked against a REAL nginx on 127.0.0.1 (port
//! picked at run time) and a real headless Chromium: the config is rendered from the same
//! `modules/nginx/*.conf` files and the same `trap.js` that `modules/nginx.nix` ships.
//!
//! - `trap.js` is served as JavaScript; the beacon answers 204 with `Cache-Control: no-store`;
//! - a browser that runs the page's script hits the beacon, with a new nonce each time; a
//!   plain HTTP fetch of the same page does not;
//! - `Accept: text/markdown` gets the page's `.md` twin (`Vary: Accept`), a page without a
//!   twin still gets its HTML.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
const TRAP_PATH: &str = "/trap.js";
const BEACON_PATH: &str = "/api/beacon";

fn modules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../modules/nginx")
}

/// `@name@` replaced by its value, the way `modules/nginx.nix` renders the file.
fn render(file: &str, vars: &[(&str, &str)]) -> String {
    let path = modules_dir().join(file);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    for (name, value) in vars {
        let placeholder = format!("@{name}@");
        assert!(text.contains(&placeholder), "{file} has no {placeholder}");
        text = text.replace(&placeholder, value);
    }
    assert!(
        !text.contains('@'),
        "{file}: a placeholder was not rendered"
    );
    text
}

/// Whether an external tool is there. Missing: with CI=true the test fails loudly,
/// otherwise it prints `SKIP: <reason>` and the caller returns.
fn require_tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let reason =
            format!("{name} is not installed (apt-get install {name}; see scripts/deps/watch.apt)");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{reason}");
        }
        eprintln!("SKIP: {reason}");
    }
    found
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write_public(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, text).expect("write file");
}

/// Everything under `dir` readable by nginx's workers (they run as nobody under root).
fn open_up(dir: &Path) {
    let mode = if dir.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            open_up(&entry.expect("dir entry").path());
        }
    }
}

struct Nginx {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl Nginx {
    /// nginx serving `dir/html` with Honeybot's http, trap and markdown snippets.
    fn start(bin: &Path, dir: &Path) -> Nginx {
        for d in ["logs", "tmp"] {
            std::fs::create_dir_all(dir.join(d)).expect("mkdir");
        }
        let d = dir.display();
        write_public(
            &dir.join("trap.js"),
            &render("trap.js", &[("beaconPath", BEACON_PATH)]),
        );
        let http = render(
            "http.conf",
            &[("accessLog", &format!("{d}/logs/access.log"))],
        );
        let server = render(
            "trap.conf",
            &[
                ("trapPath", TRAP_PATH),
                ("beaconPath", BEACON_PATH),
                ("trapFile", &format!("{d}/trap.js")),
            ],
        ) + &render("markdown.conf", &[]);
        open_up(dir);
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("pick a port")
                .port();
            let conf = format!(
                "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log;\n\
                 events {{ worker_connections 64; }}\nhttp {{\n\
                 include /etc/nginx/mime.types;\n\
                 client_body_temp_path {d}/tmp/body;\nproxy_temp_path {d}/tmp/proxy;\n\
                 fastcgi_temp_path {d}/tmp/fastcgi;\nuwsgi_temp_path {d}/tmp/uwsgi;\n\
                 scgi_temp_path {d}/tmp/scgi;\n{http}\n\
                 server {{\nlisten 127.0.0.1:{port};\nroot {d}/html;\n{server}\n}}\n}}\n"
            );
            write_public(&dir.join("nginx.conf"), &conf);
            let mut child = Command::new(bin)
                .args(Self::base_args(dir))
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
                assert!(Instant::now() < deadline, "nginx did not listen on {port}");
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

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("logs/access.log")).unwrap_or_default()
    }

    /// One real HTTP/1.1 request.
    fn get(&self, target: &str, user_agent: &str, accept: &str) -> Response {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to nginx");
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: {user_agent}\r\n\
             Accept: {accept}\r\nConnection: close\r\n\r\n"
        )
        .expect("send request");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read response");
        Response::parse(&raw)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // `nginx -s stop` (SIGTERM via the pid file) lets the master stop its workers.
        let stopped = Command::new(&self.bin)
            .args(Self::base_args(&self.dir))
            .args(["-s", "stop"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if stopped {
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

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no header end: {text:?}"));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad status line: {head:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Response {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

const PAGE: &str = "<!doctype html><html><head><title>Home</title>\
    <script src=\"/trap.js\" defer></script></head><body><p>home page</p></body></html>\n";
const PAGE_MD: &str = "# Home\n\nhome page, in Markdown\n";

fn site(dir: &Path) {
    let html = dir.join("html");
    write_public(&html.join("index.html"), PAGE);
    write_public(&html.join("index.md"), PAGE_MD);
    write_public(&html.join("docs/guide.html"), "<p>the guide</p>\n");
    write_public(&html.join("docs/guide.md"), "# The guide\n");
    write_public(&html.join("about.html"), "<p>about, no twin</p>\n");
}

#[test]
fn trap_script_and_beacon_are_served_as_promised() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    site(tmp.path());
    let nginx = Nginx::start(&bin, tmp.path());

    let js = nginx.get(TRAP_PATH, "test/1.0", "*/*");
    assert_eq!(js.status, 200, "{js:?}");
    assert_eq!(
        js.header("content-type"),
        Some("application/javascript; charset=utf-8")
    );
    assert_eq!(js.header("cache-control"), Some("no-cache"));
    assert!(
        js.body.contains(&format!("\"{BEACON_PATH}?n=\"")),
        "the served script requests the configured beacon: {}",
        js.body
    );

    let beacon = nginx.get(&format!("{BEACON_PATH}?n=abc123"), "test/1.0", "*/*");
    assert_eq!(beacon.status, 204, "{beacon:?}");
    assert_eq!(beacon.header("cache-control"), Some("no-store"));
    assert_eq!(beacon.body, "");
}

#[test]
fn markdown_twin_is_served_to_who_asks_for_it() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    site(tmp.path());
    let nginx = Nginx::start(&bin, tmp.path());
    let md = "text/markdown, text/html;q=0.9";

    for page in ["/", "/index.html"] {
        let r = nginx.get(page, "agent/1.0", md);
        assert_eq!(r.status, 200, "{page}: {r:?}");
        assert_eq!(r.body, PAGE_MD, "{page}");
        assert_eq!(
            r.header("content-type"),
            Some("text/markdown; charset=utf-8")
        );
        assert_eq!(r.header("vary"), Some("Accept"), "{page}");
    }
    let r = nginx.get("/docs/guide.html", "agent/1.0", md);
    assert_eq!((r.status, r.body.as_str()), (200, "# The guide\n"), "{r:?}");

    // The same pages for a browser: HTML, and caches are told it depends on Accept.
    let r = nginx.get("/", "browser/1.0", "text/html,*/*;q=0.8");
    assert_eq!((r.status, r.body.as_str()), (200, PAGE), "{r:?}");
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.header("vary"), Some("Accept"));

    // No twin: HTML even for a Markdown reader.
    let r = nginx.get("/about.html", "agent/1.0", md);
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "<p>about, no twin</p>\n"),
        "{r:?}"
    );
    assert_eq!(r.header("content-type"), Some("text/html"));

    // Missing pages stay missing; the internal location is not reachable from outside.
    assert_eq!(nginx.get("/nope.html", "agent/1.0", md).status, 404);
    assert_eq!(
        nginx
            .get("/.honeybot-markdown/index.md", "agent/1.0", md)
            .status,
        404
    );
    // The log records who asked for Markdown, with the path they asked for.
    let log = nginx.access_log();
    assert!(
        log.lines()
            .any(|l| l.contains("\"GET /docs/guide.html HTTP/1.1\" 200")
                && l.ends_with("MarkdownServed:1")),
        "{log}"
    );
}

/// Runs headless Chromium on `url` until it has loaded the page (`--dump-dom` exits after
/// the load event, which waits for the beacon image).
fn chromium(bin: &Path, url: &str, profile: &Path) {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            url,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            let mut dom = String::new();
            if let Some(mut out) = child.stdout.take() {
                out.read_to_string(&mut dom).ok();
            }
            assert!(status.success(), "chromium failed: {status}");
            assert!(dom.contains("home page"), "chromium loaded the page: {dom}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish loading {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn beacon_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(&format!("\"GET {BEACON_PATH}?n=")))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_browser_running_the_page_hits_the_beacon_a_plain_fetch_does_not() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let Some(browser) = require_tool("chromium") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    site(tmp.path());
    let nginx = Nginx::start(&bin, tmp.path());

    // A script that fetches the page (and even trap.js) but runs nothing.
    assert_eq!(nginx.get("/", "python-requests/2.32", "*/*").status, 200);
    assert_eq!(
        nginx.get(TRAP_PATH, "python-requests/2.32", "*/*").status,
        200
    );
    // A marker request: once it is in the log, everything before it is too (one worker).
    assert_eq!(nginx.get("/marker", "marker/1.0", "*/*").status, 404);
    wait_until("the marker in the access log", || {
        nginx.access_log().contains("GET /marker ")
    });
    assert!(
        beacon_lines(&nginx.access_log()).is_empty(),
        "a plain fetch hit the beacon: {}",
        nginx.access_log()
    );

    // A real browser, twice: two beacon hits, each with its own nonce.
    let profile = tmp.path().join("chromium-profile");
    for _ in 0..2 {
        chromium(&browser, &nginx.url("/"), &profile);
    }
    wait_until("two beacon hits", || {
        beacon_lines(&nginx.access_log()).len() == 2
    });
    let hits = beacon_lines(&nginx.access_log());
    for hit in &hits {
        assert!(hit.contains("Chrome/"), "a browser's hit: {hit}");
        assert!(hit.contains("\" 204 "), "answered 204: {hit}");
    }
    let nonce = |l: &str| {
        l.split(&format!("{BEACON_PATH}?n="))
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .map(str::to_owned)
    };
    assert_ne!(nonce(&hits[0]), nonce(&hits[1]), "a new nonce each run");
    assert!(
        nginx
            .access_log()
            .lines()
            .any(|l| l.contains(&format!("\"GET {TRAP_PATH} HTTP/1.1\"")) && l.contains("Chrome/")),
        "the browser fetched the trap script"
    );
}

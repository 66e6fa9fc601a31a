//! The nginx side of the bot intelligence, checked against a REAL nginx on 127.0.0.1 (port
//! picked at run time) and a real headless Chromium: the config is rendered from the same
//! `modules/nginx/*.conf` files and the same `trap.js` that `modules/nginx.nix` ships.
//!
//! - `trap.js` is served as JavaScript; the beacon answers 204 with `Cache-Control: no-store`;
//! - a browser that runs the page's script hits the beacon, with a new nonce each time; a
//!   plain HTTP fetch of the same page does not;
//! - `Accept: text/markdown` gets the page's `.md` twin (`Vary: Accept`), a page without a
//!   twin still gets its HTML.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use honeybot_testsupport::nginx::{Nginx, Response};
use honeybot_testsupport::{require_tool, wait_until, write_public};

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

/// nginx serving `dir/html` with Honeybot's http, trap and markdown snippets.
fn start_nginx(bin: &Path, dir: &Path) -> Nginx {
    let d = dir.display();
    write_public(
        &dir.join("trap.js"),
        render("trap.js", &[("beaconPath", BEACON_PATH)]),
    );
    let http = "include /etc/nginx/mime.types;\n".to_owned()
        + &render(
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
    Nginx::start(bin, dir, &http, &server)
}

/// One real HTTP/1.1 request.
fn get(nginx: &Nginx, target: &str, user_agent: &str, accept: &str) -> Response {
    nginx.get(target, &[("User-Agent", user_agent), ("Accept", accept)])
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
    let nginx = start_nginx(&bin, tmp.path());

    let js = get(&nginx, TRAP_PATH, "test/1.0", "*/*");
    assert_eq!(js.status, 200, "{js:?}");
    assert_eq!(
        js.header("content-type"),
        Some("application/javascript; charset=utf-8")
    );
    assert_eq!(js.header("cache-control"), Some("no-cache"));
    assert!(
        js.text().contains(&format!("\"{BEACON_PATH}?n=\"")),
        "the served script requests the configured beacon: {}",
        js.text()
    );

    let beacon = get(
        &nginx,
        &format!("{BEACON_PATH}?n=abc123"),
        "test/1.0",
        "*/*",
    );
    assert_eq!(beacon.status, 204, "{beacon:?}");
    assert_eq!(beacon.header("cache-control"), Some("no-store"));
    assert_eq!(beacon.text(), "");
}

#[test]
fn markdown_twin_is_served_to_who_asks_for_it() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    site(tmp.path());
    let nginx = start_nginx(&bin, tmp.path());
    let md = "text/markdown, text/html;q=0.9";

    for page in ["/", "/index.html"] {
        let r = get(&nginx, page, "agent/1.0", md);
        assert_eq!(r.status, 200, "{page}: {r:?}");
        assert_eq!(r.text(), PAGE_MD, "{page}");
        assert_eq!(
            r.header("content-type"),
            Some("text/markdown; charset=utf-8")
        );
        assert_eq!(r.header("vary"), Some("Accept"), "{page}");
    }
    let r = get(&nginx, "/docs/guide.html", "agent/1.0", md);
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "# The guide\n"),
        "{r:?}"
    );

    // The same pages for a browser: HTML, and caches are told it depends on Accept.
    let r = get(&nginx, "/", "browser/1.0", "text/html,*/*;q=0.8");
    assert_eq!((r.status, r.text().as_str()), (200, PAGE), "{r:?}");
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.header("vary"), Some("Accept"));

    // No twin: HTML even for a Markdown reader.
    let r = get(&nginx, "/about.html", "agent/1.0", md);
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "<p>about, no twin</p>\n"),
        "{r:?}"
    );
    assert_eq!(r.header("content-type"), Some("text/html"));

    // Missing pages stay missing; the internal location is not reachable from outside.
    assert_eq!(get(&nginx, "/nope.html", "agent/1.0", md).status, 404);
    assert_eq!(
        get(&nginx, "/.honeybot-markdown/index.md", "agent/1.0", md).status,
        404
    );
    // The log records who asked for Markdown, with the path they asked for.
    let log = nginx.access_log_text();
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
    let nginx = start_nginx(&bin, tmp.path());

    // A script that fetches the page (and even trap.js) but runs nothing.
    assert_eq!(get(&nginx, "/", "python-requests/2.32", "*/*").status, 200);
    assert_eq!(
        get(&nginx, TRAP_PATH, "python-requests/2.32", "*/*").status,
        200
    );
    // A marker request: once it is in the log, everything before it is too (one worker).
    assert_eq!(get(&nginx, "/marker", "marker/1.0", "*/*").status, 404);
    wait_until("the marker in the access log", LIMIT, || {
        nginx.access_log_text().contains("GET /marker ")
    });
    assert!(
        beacon_lines(&nginx.access_log_text()).is_empty(),
        "a plain fetch hit the beacon: {}",
        nginx.access_log_text()
    );

    // A real browser, twice: two beacon hits, each with its own nonce.
    let profile = tmp.path().join("chromium-profile");
    for _ in 0..2 {
        chromium(&browser, &nginx.url("/"), &profile);
    }
    wait_until("two beacon hits", LIMIT, || {
        beacon_lines(&nginx.access_log_text()).len() == 2
    });
    let hits = beacon_lines(&nginx.access_log_text());
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
            .access_log_text()
            .lines()
            .any(|l| l.contains(&format!("\"GET {TRAP_PATH} HTTP/1.1\"")) && l.contains("Chrome/")),
        "the browser fetched the trap script"
    );
}

//! The model as a tie-breaker, against honeybot-llm's FakeServer: a FAKE model server (no
//! model can run here) speaking Ollama's wire protocol over a real socket, with scripted
//! answers. Whatever it answers, the run succeeds, the target is one of the listed live
//! pages, and the clear lexical decisions are published with a map that passes `nginx -t`.

use std::path::{Path, PathBuf};

use honeybot_janitor::config::{FileConfig, LlmConfig, Overrides, Settings};
use honeybot_janitor::{RunReport, run};
use honeybot_llm::testing::{FakeServer, Reply};

use crate::support::{import_log, janitor, log_lines, page, require_tool, test_command, write};

struct Fixture {
    _tmp: tempfile::TempDir,
    db: PathBuf,
    site: PathBuf,
    map: PathBuf,
    nginx: PathBuf,
}

/// Two near-identical posts (so `/rust-error-handling` and `/error-handling-in-rust` are
/// ties the model must break) and a page with a clear lexical match for `/about-me`.
fn fixture(nginx: PathBuf) -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = tmp.path().join("site");
    page(&site, "/", "Home");
    page(
        &site,
        "/blog/2021/rust-error-handling/",
        "Error handling in Rust",
    );
    page(
        &site,
        "/blog/2023/rust-error-handling/",
        "Error handling in Rust",
    );
    page(&site, "/about/", "About me");
    let log = tmp.path().join("access.log");
    let mut lines = String::new();
    for path in [
        "/rust-error-handling",
        "/error-handling-in-rust",
        "/about-me",
    ] {
        lines.push_str(&log_lines(path, 404, "192.0.2.10", "Mozilla/5.0", 4));
    }
    write(&log, &lines);
    let db = tmp.path().join("honeybot.db");
    import_log(&db, &log);
    Fixture {
        db,
        site,
        map: tmp.path().join("redirects.map"),
        nginx,
        _tmp: tmp,
    }
}

fn settings(f: &Fixture, endpoint: &str, timeout_secs: u64) -> Settings {
    let file = FileConfig {
        days: Some(2),
        min_hits: Some(3),
        test_command: Some(test_command(&f.nginx)),
        llm: Some(LlmConfig {
            provider: None,
            endpoint: Some(endpoint.to_owned()),
            model: "fake-model".into(),
            timeout_secs: Some(timeout_secs),
            max_queries: None,
            api_key_file: None,
        }),
        ..FileConfig::default()
    };
    let overrides = Overrides {
        db: Some(f.db.clone()),
        site: Some(f.site.clone()),
        map: Some(f.map.clone()),
        ..Overrides::default()
    };
    Settings::resolve(file, Path::new("<test>"), &overrides).expect("settings")
}

fn find<'a>(report: &'a RunReport, list: &str, from: &str) -> Option<&'a honeybot_janitor::Entry> {
    let entries = match list {
        "active" => &report.active,
        "rejected" => &report.rejected,
        "skipped" => &report.skipped,
        _ => &report.proposed,
    };
    entries.iter().find(|e| e.from == from)
}

/// The lexical decision is there whatever the model did, and the map was published.
fn assert_lexical_part_published(f: &Fixture, report: &RunReport) {
    let about = find(report, "active", "/about-me").expect("/about-me is active");
    assert_eq!(about.to.as_deref(), Some("/about/"));
    let map = std::fs::read_to_string(&f.map).expect("map written");
    assert!(map.contains("\"/about-me\" /about/;"), "{map}");
}

/// The path listed as number `n` in the prompt of a recorded request.
fn listed(server: &FakeServer, request: usize, n: usize) -> String {
    let body = &server.requests()[request].body;
    let prompt = body["messages"][1]["content"]
        .as_str()
        .expect("user message");
    let line = prompt
        .lines()
        .find(|l| l.starts_with(&format!("{n}. ")))
        .unwrap_or_else(|| panic!("no candidate {n} in {prompt}"));
    let quoted = line[format!("{n}. ").len()..]
        .split(" (title")
        .next()
        .expect("path");
    serde_json::from_str(quoted).expect("a JSON string")
}

#[test]
fn a_chosen_index_becomes_the_target() {
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    let f = fixture(nginx);
    let server = FakeServer::start(vec![Reply::text(r#"{"page": 2}"#)]).expect("fake server");
    let report = run(&settings(&f, &server.url(), 10)).expect("run");
    assert_eq!(report.llm.queries, 2, "{report:?}");
    let requests = server.requests();
    assert_eq!(requests[0].path, "/api/chat");
    assert_eq!(requests[0].body["model"], "fake-model");
    assert!(
        requests[0].body["format"].is_object(),
        "a JSON schema answer is asked for"
    );
    for (i, from) in ["/error-handling-in-rust", "/rust-error-handling"]
        .iter()
        .enumerate()
    {
        let e = find(&report, "active", from).unwrap_or_else(|| panic!("{from}: {report:?}"));
        assert_eq!(e.source, Some(honeybot_db::redirects::Source::Llm));
        // Requests go busiest first, then by path: both have 4 hits.
        assert_eq!(
            e.to.as_deref(),
            Some(listed(&server, i, 2).as_str()),
            "{from}"
        );
    }
    assert_lexical_part_published(&f, &report);
}

#[test]
fn none_is_remembered_and_not_asked_again() {
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    let f = fixture(nginx);
    let server = FakeServer::start(vec![Reply::text(r#"{"page": "none"}"#)]).expect("fake server");
    let report = run(&settings(&f, &server.url(), 10)).expect("run");
    let e = find(&report, "rejected", "/rust-error-handling").expect("rejected");
    assert_eq!(e.to, None);
    assert_lexical_part_published(&f, &report);
    let again = run(&settings(&f, &server.url(), 10)).expect("second run");
    assert_eq!(again.llm.queries, 0, "decided paths are not asked again");
    assert_eq!(server.requests().len(), 2);
}

/// Answers that leave the paths undecided (not stored) without breaking the run.
fn undecided(script: Vec<Reply>, timeout_secs: u64, queries: u64, stopped: bool, reason: &str) {
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    let f = fixture(nginx);
    let server = FakeServer::start(script).expect("fake server");
    let report = run(&settings(&f, &server.url(), timeout_secs)).expect("the run succeeds");
    assert_eq!(report.llm.queries, queries, "{report:?}");
    assert_eq!(report.llm.stopped.is_some(), stopped, "{report:?}");
    for from in ["/rust-error-handling", "/error-handling-in-rust"] {
        let e = find(&report, "skipped", from).unwrap_or_else(|| panic!("{from}: {report:?}"));
        assert!(e.reason.contains(reason), "{from}: {}", e.reason);
        assert!(find(&report, "active", from).is_none());
    }
    assert!(
        report.rejected.is_empty() && report.proposed.is_empty(),
        "{report:?}"
    );
    assert_lexical_part_published(&f, &report);
}

#[test]
fn an_index_off_the_list_is_not_used() {
    undecided(
        vec![Reply::text(r#"{"page": 7}"#)],
        10,
        2,
        false,
        "not on the list",
    );
}

#[test]
fn malformed_json_is_not_used() {
    undecided(
        vec![Reply::text("the second one, I think")],
        10,
        2,
        false,
        "no usable answer",
    );
}

#[test]
fn a_server_error_leaves_the_path_undecided() {
    undecided(
        vec![Reply::Error(500, "out of memory".into())],
        10,
        2,
        false,
        "no usable answer",
    );
}

#[test]
fn a_missing_model_stops_the_questions() {
    undecided(
        vec![Reply::Error(404, "model \"fake-model\" not found".into())],
        10,
        1,
        true,
        "",
    );
}

#[test]
fn a_model_slower_than_the_timeout_stops_the_questions() {
    undecided(vec![Reply::Hang], 1, 1, true, "");
}

#[test]
fn a_refused_connection_stops_the_questions() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // Nothing listens there any more.
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    let f = fixture(nginx);
    let report = run(&settings(&f, &format!("http://127.0.0.1:{port}"), 10)).expect("run");
    assert_eq!(report.llm.queries, 1);
    assert!(
        report
            .llm
            .stopped
            .as_deref()
            .is_some_and(|s| s.contains("unavailable")),
        "{report:?}"
    );
    let e = find(&report, "skipped", "/rust-error-handling").expect("skipped");
    assert!(
        e.reason.contains("unavailable") || e.reason.contains("no usable answer"),
        "{}",
        e.reason
    );
    assert_lexical_part_published(&f, &report);
}

/// A model server whose error text carries a clear-screen, an OSC 0 title change, an OSC 52
/// clipboard write and a bidi override: the run goes on without the model, and what the
/// janitor prints about it is inert (escaped, still readable).
#[test]
fn a_hostile_model_server_error_is_printed_inert() {
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    let f = fixture(nginx);
    let hostile = "boom\x1b[2J\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\u{202e}gnp.exe\nnext";
    let server = FakeServer::start(vec![Reply::Error(500, hostile.into())]).expect("server");
    let cfg = f.db.with_file_name("janitor.toml");
    write(
        &cfg,
        &format!(
            "days = 2\nmin_hits = 3\ntest_command = {}\n[llm]\nendpoint = {:?}\nmodel = \"fake-model\"\n",
            serde_json::to_string(&test_command(&f.nginx)).expect("json"),
            server.url()
        ),
    );
    let path = |p: &Path| p.display().to_string();
    let out = janitor(&[
        "run",
        "--config",
        &path(&cfg),
        "--db",
        &path(&f.db),
        "--site",
        &path(&f.site),
        "--map",
        &path(&f.map),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!server.requests().is_empty(), "the model was asked");
    let live = err.lines().any(|l| {
        l.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
    });
    assert!(!live, "{err:?}");
    assert!(
        err.contains("HTTP 500")
            && err.contains("boom\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{1b}]52;")
            && err.contains("\\u{202e}gnp.exe\\u{a}next"),
        "the server's words, escaped: {err}"
    );
}

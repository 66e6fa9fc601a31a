//! `honeybot report`, run as a user runs it, on DBs filled by `honeybot ingest` from real
//! log lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample-access.log");
const REPORTS: &[&str] = &[
    "summary", "agents", "ai", "js", "markdown", "robots", "404", "hostile", "new", "trends",
];

fn honeybot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_honeybot"))
        .args(args)
        .output()
        .expect("run honeybot")
}

fn ok(args: &[&str]) -> String {
    let out = honeybot(args);
    assert!(
        out.status.success(),
        "honeybot {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A DB holding `logs`, imported by `honeybot ingest`.
fn ingested(dir: &Path, logs: &[&Path]) -> PathBuf {
    let db = dir.join("honeybot.db");
    let mut args = vec![
        "ingest".to_owned(),
        "--db".to_owned(),
        db.display().to_string(),
    ];
    args.extend(logs.iter().map(|p| p.display().to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&argv);
    db
}

fn report_json(db: &Path, name: &str, extra: &[&str]) -> Value {
    let db = db.to_str().expect("utf-8");
    let mut args = vec!["report", name, "--db", db, "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&args)).expect("JSON")
}

fn sample_db(dir: &Path) -> PathBuf {
    ingested(dir, &[Path::new(SAMPLE)])
}

fn has_fields(rows: &Value, fields: &[&str]) {
    let rows = rows.as_array().expect("an array");
    assert!(!rows.is_empty());
    for row in rows {
        for f in fields {
            assert!(row.get(f).is_some(), "{f} missing in {row}");
        }
    }
}

#[test]
fn json_contracts_of_agents_ai_and_js() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sample_db(dir.path());
    let agents = report_json(&db, "agents", &["--limit", "0"]);
    has_fields(&agents, &["user_agent", "class", "operator", "hits"]);
    // operator is null when none, a string when known.
    let rows = agents.as_array().expect("array");
    assert!(
        rows.iter()
            .any(|r| r["operator"].is_null() && r["class"] == "browser")
    );
    assert!(
        rows.iter()
            .any(|r| r["operator"] == "OpenAI" && r["class"] == "ai-crawler")
    );
    let total: u64 = rows.iter().map(|r| r["hits"].as_u64().expect("hits")).sum();
    let summary = report_json(&db, "summary", &[]);
    assert_eq!(Some(total), summary["requests"].as_u64());

    let ai = report_json(&db, "ai", &[]);
    has_fields(
        &ai,
        &["operator", "user_agent", "class", "hits", "robots_txt_hits"],
    );
    for r in ai.as_array().expect("array") {
        assert!(
            r["class"] == "ai-crawler" || r["class"] == "ai-assistant",
            "{r}"
        );
    }
    assert!(
        ai.as_array()
            .expect("array")
            .iter()
            .any(|r| r["robots_txt_hits"].as_u64() > Some(0))
    );

    let js = report_json(&db, "js", &[]);
    has_fields(
        &js,
        &["user_agent", "page_hits", "trap_hits", "beacon_hits"],
    );
    let js = js.as_array().expect("array");
    // Page readers that never ran the trap are listed with beacon_hits 0 (a LEFT JOIN).
    assert!(
        js.iter().any(|r| r["beacon_hits"] == 0
            && r["page_hits"].as_u64() > Some(0)
            && r["class"] == "ai-crawler"),
        "{js:?}"
    );
    assert!(
        js.iter()
            .any(|r| r["beacon_hits"].as_u64() > Some(0) && r["class"] == "browser")
    );
}

#[test]
fn since_and_until_are_inclusive_in_every_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sample_db(dir.path());
    let day = |d: &str| {
        report_json(&db, "summary", &["--since", d, "--until", d])["requests"]
            .as_u64()
            .expect("n")
    };
    let days = [
        "2026-11-16",
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
        "2026-11-21",
        "2026-11-22",
    ];
    let per_day: Vec<u64> = days.iter().map(|d| day(d)).collect();
    let all = report_json(&db, "summary", &[])["requests"]
        .as_u64()
        .expect("n");
    assert_eq!(per_day.iter().sum::<u64>(), all);
    assert!(per_day.iter().all(|&n| n > 0));
    let first_two = report_json(
        &db,
        "summary",
        &["--since", "2026-11-16", "--until", "2026-11-17"],
    )["requests"]
        .as_u64();
    assert_eq!(first_two, Some(per_day[0] + per_day[1]));
    // Each report: the window of one day holds only that day's rows.
    let trends = report_json(
        &db,
        "trends",
        &["--since", "2026-11-18", "--until", "2026-11-18"],
    );
    let trends = trends.as_array().expect("array");
    assert!(trends.iter().all(|t| t["date"] == "2026-11-18"));
    assert_eq!(
        trends
            .iter()
            .map(|t| t["hits"].as_u64().expect("n"))
            .sum::<u64>(),
        per_day[2]
    );
    let agents = report_json(
        &db,
        "agents",
        &[
            "--since",
            "2026-11-18",
            "--until",
            "2026-11-18",
            "--limit",
            "0",
        ],
    );
    let agents = agents.as_array().expect("array");
    assert_eq!(
        agents
            .iter()
            .map(|a| a["hits"].as_u64().expect("n"))
            .sum::<u64>(),
        per_day[2]
    );
    assert!(
        agents
            .iter()
            .all(|a| a["first_date"] == "2026-11-18" && a["last_date"] == "2026-11-18")
    );
    for name in ["ai", "js", "markdown", "robots", "404", "hostile"] {
        let rows = report_json(&db, name, &["--since", "2027-01-01"]);
        assert_eq!(rows, Value::Array(vec![]), "{name} outside the data");
    }
    // A window after the data is empty, not an error; a bad date is an error that says why.
    let out = honeybot(&[
        "report",
        "agents",
        "--db",
        db.to_str().expect("utf-8"),
        "--since",
        "2026-02-30",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2026-02-30") && err.contains("YYYY-MM-DD"),
        "{err}"
    );
    let out = honeybot(&[
        "report",
        "agents",
        "--db",
        db.to_str().expect("utf-8"),
        "--days",
        "3",
        "--since",
        "2026-11-16",
    ]);
    assert!(!out.status.success(), "--days with --since is refused");
    let reversed = honeybot(&[
        "report",
        "ai",
        "--db",
        db.to_str().expect("utf-8"),
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-19",
    ]);
    assert!(
        String::from_utf8_lossy(&reversed.stderr).contains("after"),
        "{reversed:?}"
    );
}

#[test]
fn hostile_strings_are_inert_in_tables_and_raw_in_json_and_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    // nginx writes control bytes as \xNN; HoneyDB stores them unescaped (real ESC bytes).
    let evil_ua = r"evil\x1B]0;owned\x07\x1B[2J\xE2\x80\xAEbot";
    let mut log = String::new();
    for (path, status) in [("/wp-login.php", 404), ("/\\x1B[31mred", 404), ("/", 200)] {
        log += &format!(
            "203.0.113.5 - - [16/Nov/2026:10:00:00 +0000] \"GET {path} HTTP/1.1\" {status} 0 \"-\" \"{evil_ua}\"\n"
        );
    }
    let file = dir.path().join("hostile.log");
    std::fs::write(&file, log).expect("write");
    let db = ingested(dir.path(), &[&file]);
    let dbs = db.to_str().expect("utf-8");
    for name in REPORTS {
        let text = ok(&["report", name, "--db", dbs]);
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{name}: raw control or bidi character in:\n{text:?}"
        );
    }
    let agents = ok(&["report", "agents", "--db", dbs]);
    assert!(agents.contains(r"evil\u{1b}]0;owned\u{7}"), "{agents}");
    // JSON and CSV carry the raw values.
    let json = report_json(&db, "agents", &[]);
    let raw = json[0]["user_agent"].as_str().expect("string");
    assert_eq!(raw, "evil\x1b]0;owned\x07\x1b[2J\u{202e}bot");
    let csv = ok(&["report", "404", "--db", dbs, "--format", "csv"]);
    assert!(
        csv.starts_with("category,hits,probe_kind,last_date,path,first_date\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("missing,1,,2026-11-16,/\x1b[31mred,2026-11-16\r\n"),
        "{csv:?}"
    );
    assert!(
        csv.contains("probe,1,word-press,2026-11-16,/wp-login.php,2026-11-16\r\n"),
        "{csv:?}"
    );
    let hostile = report_json(&db, "hostile", &[]);
    assert_eq!(hostile[0]["client"], "203.0.113.5");
    assert_eq!(hostile[0]["user_agents"][0], raw);
}

#[test]
fn every_report_in_every_format_on_the_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sample_db(dir.path());
    let dbs = db.to_str().expect("utf-8");
    for name in REPORTS {
        let table = ok(&["report", name, "--db", dbs]);
        assert!(table.lines().count() > 2, "{name}:\n{table}");
        let json: Value =
            serde_json::from_str(&ok(&["report", name, "--db", dbs, "--format", "json"]))
                .expect("json");
        let csv = ok(&["report", name, "--db", dbs, "--format", "csv"]);
        if let Some(rows) = json.as_array() {
            // Every JSON field has a CSV column, and the CSV has one line per row.
            let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
            for row in rows {
                for key in row.as_object().expect("object").keys() {
                    assert!(
                        header.contains(&key.as_str()),
                        "{name}: {key} not in CSV {header:?}"
                    );
                }
            }
            assert!(!rows.is_empty(), "{name} is empty on the sample");
        }
    }
    let new = report_json(&db, "new", &["--since", "2026-11-22"]);
    assert!(
        new.as_array()
            .expect("array")
            .iter()
            .all(|r| r["first_date"] == "2026-11-22")
    );
    let md = report_json(&db, "markdown", &[]);
    assert!(
        md.as_array()
            .expect("array")
            .iter()
            .any(|r| r["class"] == "ai-assistant" && r["md_url_hits"].as_u64() > Some(0))
    );
    let notfound = report_json(&db, "404", &[]);
    let cats: std::collections::BTreeSet<&str> = notfound
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["category"].as_str())
        .collect();
    assert_eq!(cats.into_iter().collect::<Vec<_>>(), ["missing", "probe"]);
}

#[test]
fn reports_on_the_shared_real_logs() {
    let Some(logs) = honeybot_testsupport::shared_data("logs") else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&logs)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let dir = tempfile::tempdir().expect("tempdir");
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let db = ingested(dir.path(), &refs);
    let dbs = db.to_str().expect("utf-8");
    let summary = report_json(&db, "summary", &[]);
    let requests = summary["requests"].as_u64().expect("requests");
    assert!(requests > 10_000, "{summary}");
    let agents = report_json(&db, "agents", &["--limit", "0"]);
    let sum: u64 = agents
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["hits"].as_u64().expect("n"))
        .sum();
    assert_eq!(sum, requests, "every request belongs to one user agent");
    let trends = report_json(&db, "trends", &[]);
    let sum: u64 = trends
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["hits"].as_u64().expect("n"))
        .sum();
    assert_eq!(sum, requests, "every request is in one day and class");
    let classes: std::collections::BTreeSet<&str> = agents
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["class"].as_str())
        .collect();
    for c in ["browser", "search", "script"] {
        assert!(classes.contains(c), "{c} in {classes:?}");
    }
    let notfound = report_json(&db, "404", &["--limit", "0"]);
    assert!(
        notfound
            .as_array()
            .expect("array")
            .iter()
            .any(|r| r["category"] == "probe")
    );
    assert!(
        notfound
            .as_array()
            .expect("array")
            .iter()
            .any(|r| r["category"] == "missing")
    );
    assert!(
        !report_json(&db, "hostile", &[])
            .as_array()
            .expect("array")
            .is_empty()
    );
    for name in REPORTS {
        let text = ok(&["report", name, "--db", dbs]);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{name}");
    }
}

//! The real `honeybot` binary, run as a user runs it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample-access.log");

fn honeybot(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_honeybot"));
    cmd.args(args).current_dir(cwd);
    honeybot_testsupport::output_with_stdin(cmd, stdin)
}

/// `honeybot ingest --format json ...`: checks success, one JSON object, the line invariant.
fn ingest_json(cwd: &Path, db: &Path, files: &[&str], stdin: Option<&[u8]>) -> Value {
    let db = db.to_str().expect("utf-8 path");
    let mut args = vec!["ingest", "--db", db, "--format", "json"];
    args.extend_from_slice(files);
    let out = honeybot(cwd, &args, stdin);
    assert!(
        out.status.success(),
        "honeybot {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "one JSON object: {text}"
    );
    let v: Value = serde_json::from_str(&text).expect("JSON");
    let n = |k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("{k} missing in {v}"))
    };
    assert_eq!(
        n("lines_total"),
        n("lines_parsed") + n("lines_malformed") + n("lines_skipped_duplicate"),
        "{v}"
    );
    let by_status: u64 = v["requests_by_status"]
        .as_object()
        .expect("requests_by_status object")
        .values()
        .map(|c| c.as_u64().expect("count"))
        .sum();
    assert_eq!(by_status, n("lines_parsed"), "{v}");
    assert!(v["seconds"].as_f64().is_some(), "{v}");
    v
}

fn n(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn lines_in(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64 + u64::from(!bytes.ends_with(b"\n"))
}

fn shared_logs() -> Option<Vec<PathBuf>> {
    let dir = honeybot_testsupport::shared_data("logs")?;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    Some(files)
}

#[test]
fn ingest_of_the_shared_logs_accounts_for_every_line_once() {
    let Some(files) = shared_logs() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("h.db");
    // Archives: final files (two end without a newline; that line counts).
    let names: Vec<&str> = std::iter::once("--final")
        .chain(files.iter().map(|p| p.to_str().expect("utf-8")))
        .collect();
    let total_lines: u64 = files
        .iter()
        .map(|f| lines_in(&std::fs::read(f).expect("read log")))
        .sum();
    let first = ingest_json(tmp.path(), &db, &names, None);
    assert_eq!(n(&first, "lines_total"), total_lines);
    assert_eq!(n(&first, "lines_skipped_duplicate"), 0);
    assert!(n(&first, "lines_parsed") > n(&first, "lines_malformed"));
    assert_eq!(first["files"].as_array().expect("files").len(), files.len());
    assert!(n(&first, "db_bytes") > 0);
    eprintln!(
        "shared logs: {} raw bytes -> {} DB bytes ({:.1} %)",
        n(&first, "bytes"),
        n(&first, "db_bytes"),
        100.0 * n(&first, "db_bytes") as f64 / n(&first, "bytes") as f64
    );

    let again = ingest_json(tmp.path(), &db, &names, None);
    assert_eq!(n(&again, "lines_skipped_duplicate"), total_lines);
    assert_eq!(n(&again, "lines_parsed") + n(&again, "lines_malformed"), 0);
}

#[test]
fn reimport_renamed_copy_and_grown_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("h.db");
    let sample = std::fs::read(SAMPLE).expect("sample log");
    let lines = lines_in(&sample);
    let log = tmp.path().join("access.log");
    std::fs::write(&log, &sample).expect("write log");

    let first = ingest_json(tmp.path(), &db, &["access.log"], None);
    assert_eq!(n(&first, "lines_total"), lines);
    assert_eq!(n(&first, "lines_skipped_duplicate"), 0);

    let again = ingest_json(tmp.path(), &db, &["access.log"], None);
    assert_eq!(n(&again, "lines_skipped_duplicate"), lines);

    std::fs::rename(&log, tmp.path().join("access.log.1")).expect("rotate");
    let renamed = ingest_json(tmp.path(), &db, &["access.log.1"], None);
    assert_eq!(n(&renamed, "lines_skipped_duplicate"), lines);

    let mut grown = sample.clone();
    grown.extend_from_slice(
        b"192.0.2.50 - - [23/Nov/2026:08:00:00 +0100] \"GET /new-post/ HTTP/1.1\" 200 99 \"-\" \"curl/8.5.0\"\n\
          192.0.2.51 - - [23/Nov/2026:08:00:01 +0100] \"GET /missing HTTP/1.1\" 404 9 \"-\" \"curl/8.5.0\"\n",
    );
    std::fs::write(tmp.path().join("access.log.1"), &grown).expect("grow");
    let more = ingest_json(tmp.path(), &db, &["access.log.1"], None);
    assert_eq!(n(&more, "lines_skipped_duplicate"), lines);
    assert_eq!(n(&more, "lines_parsed"), 2);
    assert_eq!(more["requests_by_status"]["404"], 1);
    assert_eq!(more["requests_by_status"]["200"], 1);
}

#[test]
fn gzip_by_content_and_stdin() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = std::fs::read(SAMPLE).expect("sample log");
    let lines = lines_in(&sample);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&sample).expect("gzip");
    let gz = gz.finish().expect("gzip");
    // Named without .gz: recognised by its magic bytes.
    std::fs::write(tmp.path().join("rotated.log"), &gz).expect("write gz");

    let db = tmp.path().join("gz.db");
    let v = ingest_json(tmp.path(), &db, &["rotated.log"], None);
    assert_eq!(n(&v, "lines_total"), lines);
    assert_eq!(n(&v, "lines_skipped_duplicate"), 0);
    assert_eq!(v["files"][0]["gzip"], true);
    let parsed = n(&v, "lines_parsed");

    // The same content on stdin, plain and compressed, is already counted.
    let plain = ingest_json(tmp.path(), &db, &["-"], Some(&sample));
    assert_eq!(n(&plain, "lines_skipped_duplicate"), lines);
    let packed = ingest_json(tmp.path(), &db, &["-"], Some(&gz));
    assert_eq!(n(&packed, "lines_skipped_duplicate"), lines);

    // Into a fresh database, stdin imports the same counts as the file.
    let fresh = tmp.path().join("stdin.db");
    let s = ingest_json(tmp.path(), &fresh, &["-"], Some(&sample));
    assert_eq!(n(&s, "lines_parsed"), parsed);
    assert_eq!(s["requests_by_status"], v["requests_by_status"]);
}

#[test]
fn demo_imports_the_bundled_sample_into_the_current_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = std::fs::read(SAMPLE).expect("sample log");
    // Reference figures from the sample itself, through the ingest path.
    let reference = ingest_json(tmp.path(), &tmp.path().join("ref.db"), &[SAMPLE], None);
    let days: std::collections::BTreeSet<String> = String::from_utf8_lossy(&sample)
        .lines()
        .filter_map(|l| Some(l.split_once(" - - [")?.1.split_once(':')?.0.to_owned()))
        .collect();

    let out = honeybot(tmp.path(), &["demo"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(tmp.path().join("honeybot-demo.db").exists(), "{text}");
    let field = |name: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in:\n{text}"));
        line.trim_start()[name.len()..]
            .split_whitespace()
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no number in {line:?}"))
    };
    assert_eq!(field("requests"), n(&reference, "lines_parsed"));
    assert_eq!(field("days"), days.len() as u64);
    for status in reference["requests_by_status"]
        .as_object()
        .expect("statuses")
        .keys()
    {
        assert!(
            text.contains(&format!("    {status}  ")),
            "status {status} in:\n{text}"
        );
    }
    assert!(text.contains("top paths"), "{text}");

    // Running it again counts nothing twice.
    let again = honeybot(tmp.path(), &["demo"], None);
    let again = String::from_utf8(again.stdout).expect("utf-8");
    assert!(again.contains("already imported"), "{again}");
    assert!(
        again.contains(&format!("requests     {}", field("requests"))),
        "{again}"
    );
}

#[test]
fn hostile_user_agents_and_paths_never_reach_the_terminal_raw() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // nginx writes control bytes as \xNN; HoneyDB stores them unescaped (real ESC bytes).
    let hostile = "192.0.2.66 - - [16/Nov/2026:10:00:00 +0000] \
                   \"GET /\\x1B[2J\\x1B]0;owned\\x07 HTTP/1.1\" 404 0 \"-\" \
                   \"evil\\x1B[31mred\\x1B[0m\\xC2\\x9Bbot\\x0D\"\n"
        .repeat(5000);
    std::fs::write(tmp.path().join("hostile.log"), hostile).expect("write");
    let db = tmp.path().join("h.db");
    let v = ingest_json(tmp.path(), &db, &["hostile.log"], None);
    assert_eq!(n(&v, "lines_parsed"), 5000, "{v}");

    let out = honeybot(
        tmp.path(),
        &["demo", "--db", db.to_str().expect("utf-8")],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\r'),
        "raw control characters in:\n{text:?}"
    );
    // C1 CSI (U+009B, valid UTF-8) is a control character too.
    assert!(
        text.contains("evil\\u{1b}[31mred\\u{1b}[0m\\u{9b}bot\\u{d}"),
        "hostile UA shown escaped:\n{text}"
    );
    assert!(
        text.contains("/\\u{1b}[2J"),
        "hostile path shown escaped:\n{text}"
    );
}

#[test]
fn errors_are_one_line_with_a_failing_exit_code() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = honeybot(tmp.path(), &["ingest", "no-such.log"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no-such.log") && err.contains("No such file"),
        "{err}"
    );

    let out = honeybot(tmp.path(), &["ingest", "--timezone", "mars", "x.log"], None);
    assert_eq!(out.status.code(), Some(2), "usage error");

    let out = honeybot(tmp.path(), &["ingest", "--ip-mode", "hash", "x.log"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ip-key-file"));
}

#[test]
fn ip_mode_and_time_zone_flags_reach_the_database() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("a.log"),
        "203.0.113.77 - - [16/Nov/2026:23:30:00 -0500] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n",
    )
    .expect("write");
    std::fs::write(tmp.path().join("key"), "sixteen-plus-bytes-of-key\n").expect("key");
    for (mode, key, tz, want_ip, want_date) in [
        ("truncate", None, "utc", "203.0.113.0", "2026-11-17"),
        ("full", None, "local-to-log", "203.0.113.77", "2026-11-16"),
        ("hash", Some("key"), "local-to-log", "h:", "2026-11-16"),
    ] {
        let db = tmp.path().join(format!("{mode}.db"));
        let mut args = vec![
            "ingest",
            "--db",
            db.to_str().expect("utf-8"),
            "--ip-mode",
            mode,
        ];
        if let Some(k) = key {
            args.extend(["--ip-key-file", k]);
        }
        args.extend(["--timezone", tz, "a.log"]);
        let out = honeybot(tmp.path(), &args, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let conn = rusqlite::Connection::open(&db).expect("open db");
        let ip: String = conn
            .query_row("SELECT value FROM ips", [], |r| r.get(0))
            .expect("one client");
        let date: String = conn
            .query_row("SELECT date FROM daily_logs", [], |r| r.get(0))
            .expect("one fact");
        assert!(ip.starts_with(want_ip), "{mode}: stored {ip}");
        assert_eq!(date, want_date, "{mode}");
    }
}

/// `honeybot ingest --format json` expected to fail: exit 1, still exactly one JSON object.
fn ingest_json_failing(cwd: &Path, db: &Path, files: &[&str]) -> Value {
    let db = db.to_str().expect("utf-8 path");
    let mut args = vec!["ingest", "--db", db, "--format", "json"];
    args.extend_from_slice(files);
    let out = honeybot(cwd, &args, None);
    assert_eq!(out.status.code(), Some(1), "{args:?} fails");
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "one JSON object: {text}"
    );
    let v: Value = serde_json::from_str(&text).expect("valid JSON even on failure");
    assert_eq!(v["ok"], false, "{v}");
    v
}

#[test]
fn a_missing_file_does_not_stop_the_others_and_every_failure_is_reported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = std::fs::read(SAMPLE).expect("sample");
    let (half, rest) = sample.split_at(sample.len() / 2);
    let cut = half.iter().rposition(|b| *b == b'\n').expect("a line") + 1;
    std::fs::write(tmp.path().join("good.log"), &sample[..cut]).expect("write");
    std::fs::write(
        tmp.path().join("good2.log"),
        [&sample[cut..sample.len() / 2], rest].concat(),
    )
    .expect("write");
    // A gzip file cut short (a copy interrupted, a disk that filled up).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&sample).expect("gzip");
    let gz = gz.finish().expect("gzip");
    std::fs::write(tmp.path().join("cut.log.gz"), &gz[..gz.len() / 2]).expect("write");

    let db = tmp.path().join("h.db");
    let v = ingest_json_failing(
        tmp.path(),
        &db,
        &["good.log", "missing.log", "cut.log.gz", "good2.log"],
    );
    let files = v["files"].as_array().expect("files");
    assert_eq!(files.len(), 4, "{v}");
    assert_eq!(files[0]["ok"], true);
    assert_eq!(files[1]["ok"], false);
    assert_eq!(files[1]["error_kind"], "not_found", "{v}");
    assert!(
        files[1]["error"]
            .as_str()
            .expect("error")
            .contains("missing.log")
    );
    assert_eq!(files[2]["ok"], false);
    assert_eq!(files[2]["error_kind"], "gzip_error", "{v}");
    assert_eq!(
        files[3]["ok"], true,
        "the file after the failures is imported: {v}"
    );
    assert_eq!(v["files_failed"], 2);
    assert_eq!(
        n(&v, "lines_total"),
        lines_in(&sample),
        "both good files: {v}"
    );

    // Text: one line per file (failures included), the reason on stderr, exit 1.
    let out = honeybot(
        tmp.path(),
        &[
            "ingest",
            "--db",
            "t.db",
            "good.log",
            "missing.log",
            "good2.log",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("missing.log: FAILED: cannot open missing.log"),
        "{text}"
    );
    assert!(text.contains("good2.log:"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("1 of 3 file(s) not imported"), "{err}");
}

#[test]
fn a_database_that_cannot_be_used_is_reported_in_the_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let too_new = tmp.path().join("new.db");
    // A HoneyDB that a future release raised to compatibility level 999.
    ingest_json(tmp.path(), &too_new, &[SAMPLE], None);
    {
        let conn = rusqlite::Connection::open(&too_new).expect("open");
        conn.execute_batch("PRAGMA user_version = 999;")
            .expect("make it too new");
    }
    let v = ingest_json_failing(tmp.path(), &too_new, &[SAMPLE]);
    assert_eq!(v["error_kind"], "db_too_new", "{v}");
    assert!(v["error"].as_str().expect("error").contains("999"), "{v}");
    assert_eq!(n(&v, "lines_total"), 0);

    let busy = tmp.path().join("busy.db");
    ingest_json(tmp.path(), &busy, &[SAMPLE], None);
    let locker = rusqlite::Connection::open(&busy).expect("open");
    locker.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let sample = std::fs::read(SAMPLE).expect("sample");
    std::fs::write(
        tmp.path().join("more.log"),
        [&sample[..], &sample[..]].concat(),
    )
    .expect("write");
    let v = ingest_json_failing(tmp.path(), &busy, &["more.log"]);
    assert!(
        v["error_kind"] == "db_busy" || v["files"][0]["error_kind"] == "db_busy",
        "{v}"
    );
}

#[test]
fn an_unterminated_last_line_waits_unless_the_file_is_final() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = std::fs::read(SAMPLE).expect("sample");
    let total = lines_in(&sample);
    // nginx is writing the last line: half of it is on disk.
    let cut = sample.len() - 30;
    let log = tmp.path().join("access.log");
    std::fs::write(&log, &sample[..cut]).expect("write");
    let db = tmp.path().join("h.db");
    let whole = ingest_json(tmp.path(), &tmp.path().join("ref.db"), &[SAMPLE], None);
    let v = ingest_json(tmp.path(), &db, &["access.log"], None);
    assert_eq!(n(&v, "lines_total"), total - 1, "{v}");
    assert_eq!(n(&v, "lines_held_back"), 1, "{v}");
    assert_eq!(
        n(&v, "lines_malformed"),
        n(&whole, "lines_malformed"),
        "no fragment counted: {v}"
    );
    // The rest of the line arrives: counted once, whole.
    std::fs::write(&log, &sample).expect("write");
    let v = ingest_json(tmp.path(), &db, &["access.log"], None);
    assert_eq!(n(&v, "lines_parsed") + n(&v, "lines_malformed"), 1, "{v}");
    assert_eq!(n(&v, "lines_malformed"), 0, "the line is whole: {v}");
    assert_eq!(n(&v, "lines_held_back"), 0, "{v}");
    assert_eq!(n(&v, "lines_skipped_duplicate"), total - 1, "{v}");

    // --final: a rotated file whose last line will never be finished counts it.
    let other = tmp.path().join("final.log");
    std::fs::write(&other, b"no newline at the end").expect("write");
    let v = ingest_json(tmp.path(), &db, &["--final", "final.log"], None);
    assert_eq!(n(&v, "lines_total"), 1, "{v}");
    assert_eq!(n(&v, "lines_held_back"), 0, "{v}");
}

#[test]
fn a_short_older_copy_of_an_imported_log_is_recognised_as_covered() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = std::fs::read(SAMPLE).expect("sample");
    std::fs::write(tmp.path().join("access.log"), &sample).expect("write");
    // Older copies, shorter than the 1024 bytes an identity covers: ending on a line,
    // and ending inside one (nginx was writing it when the copy was taken).
    let lines_end = sample[..900]
        .iter()
        .rposition(|b| *b == b'\n')
        .expect("a line")
        + 1;
    assert!(
        lines_end >= 512,
        "a copy of at least 512 bytes is recognised"
    );
    std::fs::write(tmp.path().join("old.log"), &sample[..lines_end]).expect("write");
    std::fs::write(tmp.path().join("older.log"), &sample[..lines_end + 17]).expect("write");
    let db = tmp.path().join("h.db");
    ingest_json(tmp.path(), &db, &["access.log"], None);
    for copy in ["old.log", "older.log"] {
        let v = ingest_json(tmp.path(), &db, &[copy], None);
        assert_eq!(
            n(&v, "lines_parsed") + n(&v, "lines_malformed"),
            0,
            "{copy} counted again: {v}"
        );
        assert_eq!(
            n(&v, "lines_skipped_duplicate"),
            lines_in(&sample[..lines_end]),
            "{v}"
        );
    }
}

/// A server that logs ISO-8601 times, the host and upstream timings: `--log-format` with its
/// nginx definition reads every line; without it every line is malformed.
#[test]
fn custom_log_format_from_the_command_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = "[2026-11-30T23:59:58+01:00] blog.example 203.0.113.5 \"GET /a/ HTTP/1.1\" 200 512 \"-\" \"GPTBot/1.2\" rt=0.004 ua=\"127.0.0.1:8080\"\n\
               [2026-12-01T00:00:01+01:00] blog.example [2001:db8::5] \"GET /b/ HTTP/2.0\" 404 0 \"-\" \"curl/8.5\" rt=0.001 ua=\"-\"\n";
    std::fs::write(tmp.path().join("proxy.log"), log).expect("write");
    let def = r#"[$time_iso8601] $host $remote_addr "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time ua="$upstream_addr""#;
    let db = tmp.path().join("t.db");
    let db_s = db.to_str().expect("utf-8");
    let out = honeybot(
        tmp.path(),
        &[
            "ingest",
            "--db",
            db_s,
            "--format",
            "json",
            "--log-format",
            def,
            "proxy.log",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["lines_parsed"], 2, "{v}");
    assert_eq!(v["lines_malformed"], 0, "{v}");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let days: Vec<(String, i64)> = conn
        .prepare("SELECT date, sum(count) FROM daily_logs GROUP BY date ORDER BY date")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        days,
        [("2026-11-30".to_owned(), 1), ("2026-12-01".to_owned(), 1)]
    );
    let ip: String = conn
        .query_row("SELECT value FROM ips ORDER BY value LIMIT 1", [], |r| {
            r.get(0)
        })
        .expect("ip");
    assert_eq!(ip, "2001:db8::5", "brackets dropped");

    // The same log read as the default formats: nothing parses.
    let other = tmp.path().join("other.db");
    let v = ingest_json(tmp.path(), &other, &["proxy.log"], None);
    assert_eq!(v["lines_parsed"], 0, "{v}");

    // A definition with an unknown variable is a usage error naming it.
    let out = honeybot(
        tmp.path(),
        &[
            "ingest",
            "--db",
            db_s,
            "--log-format",
            "$remote_addr [$time_local] \"$request\" $status $nope",
            "proxy.log",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("$nope"));
}

#[test]
fn check_reads_the_whole_file_and_names_a_damaged_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("site.db");
    ingest_json(tmp.path(), &db, &[SAMPLE], None);
    let dbs = db.to_str().expect("utf-8 path");
    let out = honeybot(tmp.path(), &["check", "--db", dbs], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("{dbs}: ok (every page read in ")),
        "{stdout}"
    );

    // Damage the first page of the daily counts.
    let (root, _) = honeybot_testsupport::damage::root_and_last_leaf(&db, "daily_logs");
    honeybot_testsupport::damage::damage_page(&db, root);
    let bytes = std::fs::read(&db).expect("read");
    let out = honeybot(tmp.path(), &["check", "--db", dbs], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("honeybot: database {dbs} is damaged")),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&db).expect("read"),
        bytes,
        "check changed nothing"
    );

    let out = honeybot(tmp.path(), &["check", "--db", "missing.db"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "honeybot: database missing.db does not exist\n"
    );
}

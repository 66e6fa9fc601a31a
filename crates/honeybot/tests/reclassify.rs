//! `honeybot reclassify`, `--agents`, and error messages that name hostile files, with the
//! real binary.

use std::path::Path;
use std::process::{Command, Output};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample-access.log");

fn honeybot(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_honeybot"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run honeybot")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

#[test]
fn reclassify_applies_the_users_rules_and_says_what_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    ok(&honeybot(cwd, &["ingest", "--db", "h.db", SAMPLE]));
    let classes = |db: &str| -> Vec<(String, Option<String>)> {
        let conn = rusqlite::Connection::open(cwd.join(db)).expect("open");
        let mut stmt = conn
            .prepare("SELECT value, class FROM user_agents WHERE value LIKE '%curl%' ORDER BY 1")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let before = classes("h.db");
    assert!(!before.is_empty(), "the sample has curl");
    assert!(before.iter().all(|(_, c)| c.as_deref() == Some("script")));

    std::fs::write(
        cwd.join("agents.toml"),
        "agent = [\n  { token = \"curl\", class = \"monitor\", operator = \"Me\", note = \"my checks\" },\n]\n",
    )
    .expect("write agents");
    let text = ok(&honeybot(
        cwd,
        &["reclassify", "--db", "h.db", "--agents", "agents.toml"],
    ));
    let first = text.lines().next().expect("summary line");
    assert!(
        first.contains(&format!("{} user agents", before.len())) && first.contains("changed"),
        "{text}"
    );
    assert!(
        text.contains("script -> monitor  operator (none) -> Me  by curl"),
        "{text}"
    );
    assert!(
        classes("h.db")
            .iter()
            .all(|(_, c)| c.as_deref() == Some("monitor"))
    );

    // Same rules again: nothing to change; JSON says so.
    let json = ok(&honeybot(
        cwd,
        &[
            "reclassify",
            "--db",
            "h.db",
            "--agents",
            "agents.toml",
            "--format",
            "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["user_agents"].as_array().map(Vec::len), Some(0), "{v}");
    assert!(v["user_agents_checked"].as_u64() > Some(0), "{v}");

    // Back to the built-in table.
    let text = ok(&honeybot(cwd, &["reclassify", "--db", "h.db"]));
    assert!(text.contains("monitor -> script"), "{text}");
}

#[test]
fn a_bad_agents_file_or_a_missing_database_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    std::fs::write(
        cwd.join("agents.toml"),
        "agent = [\n  { token = \"x\", class = \"robot\" },\n]\n",
    )
    .expect("write");
    let out = honeybot(
        cwd,
        &["ingest", "--db", "h.db", "--agents", "agents.toml", SAMPLE],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("agents.toml") && err.contains("2"), "{err}");
    assert!(
        !cwd.join("h.db").exists(),
        "nothing written on a config error"
    );

    let out = honeybot(cwd, &["reclassify", "--db", "missing.db"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.db does not exist"), "{err}");
    assert!(!cwd.join("missing.db").exists());

    let out = honeybot(
        cwd,
        &["ingest", "--db", "h.db", "--beacon-path", "beacon", SAMPLE],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("beacon path \"beacon\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn errors_naming_a_hostile_file_name_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let name = "evil\u{1b}]0;pwned\u{7}\u{202e}.db";
    // Another application's database: refused with a message naming the file.
    rusqlite::Connection::open(cwd.join(name))
        .expect("create")
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .expect("init");
    let before = std::fs::read(cwd.join(name)).expect("read");
    let out = honeybot(cwd, &["ingest", "--db", name, SAMPLE]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert!(err.contains("is not a HoneyDB database"), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}') && !err.contains('\u{202e}'),
        "raw escape bytes on stderr: {err:?}"
    );
    assert!(
        err.contains("evil\\u{1b}]0;pwned\\u{7}\\u{202e}.db"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert_eq!(
        std::fs::read(cwd.join(name)).expect("read"),
        before,
        "unchanged"
    );
}

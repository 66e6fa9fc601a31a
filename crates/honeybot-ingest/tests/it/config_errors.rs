//! Config errors name the key and the file; SIGHUP re-reads the config (a broken one is
//! reported and the running configuration kept).

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::{BIN, Daemon, append, db_requests, log_line, wait_until};

fn check(config_text: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = tmp.path().join("ingest.toml");
    std::fs::write(&cfg, config_text).expect("write config");
    let out = std::process::Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .args(extra)
        .env_remove("JOURNAL_STREAM")
        .output()
        .expect("run honeybot-ingest");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        cfg.display().to_string(),
    )
}

#[test]
fn unknown_key_is_named_with_its_file_and_line() {
    let (code, stderr, cfg) = check(
        "logs = [\"/tmp/a.log\"]\nbatch_line = 10\n",
        &["--check-config"],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{cfg}:2:1: key `batch_line`")),
        "{stderr}"
    );
}

#[test]
fn bad_value_is_named_with_its_key() {
    let (code, stderr, cfg) = check("logs = [\"/tmp/a.log\"]\nip_mode = \"anonymous\"\n", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&cfg) && stderr.contains("key `ip_mode`"),
        "{stderr}"
    );
    let (code, stderr, _) = check("logs = [\"/tmp/a.log\"]\nflush_interval_ms = 0\n", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("key `flush_interval_ms`"), "{stderr}");
}

#[test]
fn check_config_accepts_the_documented_example_without_reading_the_key() {
    let example = include_str!("../../ingest.example.toml");
    let (code, stderr, _) = check(example, &["--check-config"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn missing_hash_key_file_stops_the_start_naming_the_file() {
    let (code, stderr, _) = check(
        "logs = [\"/tmp/a.log\"]\nip_mode = \"hash\"\nip_hash_key_file = \"/nonexistent/ip-key\"\n",
        &["--db", "/nonexistent-dir-for-test/x.db"],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/ip-key"), "{stderr}");
}

#[test]
fn sighup_rereads_the_config_and_keeps_it_when_broken() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a.log"), tmp.path().join("b.log"));
    let db = tmp.path().join("honeybot.db");
    let cfg = tmp.path().join("ingest.toml");
    let write_cfg = |logs: &[&std::path::Path], extra: &str| {
        let list: Vec<String> = logs
            .iter()
            .map(|p| format!("{:?}", p.display().to_string()))
            .collect();
        std::fs::write(
            &cfg,
            format!(
                "db = {:?}\nlogs = [{}]\nflush_interval_ms = 20\n{extra}",
                db.display().to_string(),
                list.join(", ")
            ),
        )
        .expect("write config");
    };
    write_cfg(&[&a], "");
    append(&a, log_line(0, "/a/0").as_bytes());
    let d = Daemon::spawn(&["--config", &cfg.display().to_string()], &[]);
    wait_until("a.log's line", Duration::from_secs(20), || {
        db_requests(&db) == 1
    });

    write_cfg(&[&a, &b], "");
    append(&b, log_line(1, "/b/1").as_bytes());
    d.signal(Signal::SIGHUP);
    wait_until(
        "b.log followed after SIGHUP",
        Duration::from_secs(20),
        || db_requests(&db) == 2,
    );

    write_cfg(&[&a, &b], "bogus_key = 1\n");
    d.signal(Signal::SIGHUP);
    append(&a, log_line(2, "/a/2").as_bytes());
    append(&b, log_line(3, "/b/3").as_bytes());
    wait_until("both logs still followed", Duration::from_secs(20), || {
        db_requests(&db) == 4
    });

    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}\n{stderr}");
    assert!(
        stderr.contains("reload failed") && stderr.contains("key `bogus_key`"),
        "{stderr}"
    );
}

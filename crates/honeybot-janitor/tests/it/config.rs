//! The strict config: unknown keys and bad values are named with file:line:col (exit 2);
//! flags win over the file.

use crate::support::{import_log, janitor, json_of, log_lines, page, write};

#[test]
fn an_unknown_key_is_named_with_its_position() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = tmp.path().join("janitor.toml");
    write(&cfg, "days = 7\nmin_hit = 3\n");
    let out = janitor(&["run", "--config", &cfg.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2:1: key `min_hit`", cfg.display())),
        "{stderr}"
    );

    write(&cfg, "[llm]\nmodel = \"m\"\nendpoint = \"ftp://x\"\n");
    let out = janitor(&["run", "--config", &cfg.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("llm.endpoint"), "{stderr}");

    write(&cfg, "test_command = [\"nginx\", \"-t\"]\n");
    let out = janitor(&["run", "--config", &cfg.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("{config}"));
}

#[test]
fn flags_win_over_the_config_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    for (site, pages) in [("small", 1), ("large", 3)] {
        for i in 0..pages {
            page(&dir.join(site), &format!("/page-{i}/"), "A page");
        }
    }
    write(
        &dir.join("access.log"),
        &log_lines("/page-two", 404, "192.0.2.8", "curl/8", 2),
    );
    let db = dir.join("honeybot.db");
    import_log(&db, &dir.join("access.log"));
    let cfg = dir.join("janitor.toml");
    write(
        &cfg,
        &format!(
            "db = {:?}\nsite = {:?}\nmap = {:?}\nmin_hits = 5\nformat = \"text\"\ndry_run = true\n",
            "/nonexistent/honeybot.db",
            dir.join("small").display().to_string(),
            dir.join("m.map").display().to_string()
        ),
    );
    let report = json_of(&janitor(&[
        "run",
        "--config",
        &cfg.display().to_string(),
        "--db",
        &db.display().to_string(),
        "--site",
        &dir.join("large").display().to_string(),
        "--min-hits",
        "2",
        "--format",
        "json",
    ]));
    assert_eq!(report["live_pages"], 3);
    assert_eq!(
        report["dead_paths"], 1,
        "--min-hits 2 won over min_hits = 5"
    );
    assert_eq!(report["dry_run"], true, "dry_run from the file applies");
}

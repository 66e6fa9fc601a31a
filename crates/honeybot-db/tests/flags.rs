//! Behaviour flags and the read-only handle, on a real SQLite file.

use honeybot_db::{DbError, DbOptions, HoneyDb, ImportOptions, flags, import};

fn line(ip: &str, day: u32, path: &str, status: u16, ua: &str) -> String {
    format!(
        "{ip} - - [{day:02}/Nov/2026:10:00:00 +0000] \"GET {path} HTTP/1.1\" {status} 512 \"-\" \"{ua}\"\n"
    )
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const GPTBOT: &str = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
const SCANNER: &str = "Mozilla/5.0 zgrab/0.x";

#[test]
fn flags_come_from_path_kinds_within_the_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("honeybot.db");
    let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("open");
    let mut log = String::new();
    // A person: page, stylesheet, trap script, beacon.
    for p in ["/", "/style.css", "/trap.js", "/api/beacon?n=77aa"] {
        log += &line("192.0.2.1", 16, p, 200, FIREFOX);
    }
    // GPTBot: robots.txt, two pages, no assets, no beacon; a Markdown twin on the 17th.
    for p in ["/robots.txt", "/", "/about"] {
        log += &line("192.0.2.2", 16, p, 200, GPTBOT);
    }
    log += &line("192.0.2.2", 17, "/about.md", 200, GPTBOT);
    // A scanner: probes only.
    for p in ["/wp-login.php", "/.env", "/.git/config"] {
        log += &line("192.0.2.3", 16, p, 404, SCANNER);
    }
    import(
        &mut db,
        log.as_bytes(),
        &ImportOptions::new("a.log"),
        |_| {},
    )
    .expect("import");
    drop(db);

    let db = HoneyDb::open_read_only(&path, &DbOptions::default()).expect("read-only open");
    let agents = flags::agents(&db, None, None).expect("flags");
    let by = |ua: &str| {
        agents
            .iter()
            .find(|b| b.value == ua)
            .unwrap_or_else(|| panic!("{ua} missing from {agents:?}"))
            .clone()
    };
    let person = by(FIREFOX);
    assert_eq!(person.class.as_deref(), Some("browser"));
    assert!(person.runs_javascript() && !person.never_loads_assets());
    assert_eq!((person.trap_hits, person.beacon_hits), (1, 1));
    let gpt = by(GPTBOT);
    assert_eq!(
        (gpt.class.as_deref(), gpt.operator.as_deref()),
        (Some("ai-crawler"), Some("OpenAI"))
    );
    assert!(gpt.fetched_robots_txt() && gpt.never_loads_assets() && !gpt.runs_javascript());
    assert_eq!((gpt.hits, gpt.page_hits, gpt.markdown_hits), (4, 2, 1));
    let scan = by(SCANNER);
    assert_eq!(scan.class.as_deref(), Some("scanner"));
    assert!(scan.hit_probes() && !scan.fetched_robots_txt());
    assert_eq!(scan.probe_hits, 3);

    // The window: only the 17th.
    let day = flags::agents(&db, Some("2026-11-17"), Some("2026-11-17")).expect("flags");
    assert_eq!(day.len(), 1);
    assert_eq!((day[0].value.as_str(), day[0].markdown_hits), (GPTBOT, 1));

    let clients = flags::clients(&db, None, Some("2026-11-16")).expect("flags");
    let c3 = clients
        .iter()
        .find(|b| b.value == "192.0.2.3")
        .expect("client");
    assert_eq!((c3.class.as_deref(), c3.probe_hits), (Some("scanner"), 3));
    assert_eq!(clients[0].hits, 4, "busiest first");
}

#[test]
fn a_read_only_handle_never_writes_and_refuses_an_outdated_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v1.db");
    // An un-upgraded file of the first release: user_version 1, its tables, no revision log.
    {
        let conn = rusqlite::Connection::open(&path).expect("create");
        for t in [
            "ips",
            "user_agents",
            "paths",
            "referrers",
            "accept_values",
            "daily_logs",
            "daily_referrers",
            "daily_accepts",
            "kv_store",
            "import_cursors",
            "redirects",
        ] {
            conn.execute_batch(&format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY);"))
                .expect("table");
        }
        conn.execute_batch("PRAGMA user_version = 1")
            .expect("version");
    }
    let before = std::fs::read(&path).expect("read");
    match HoneyDb::open_read_only(&path, &DbOptions::default()) {
        Err(err @ DbError::Outdated { found: 1, .. }) => {
            assert!(err.to_string().contains("honeybot reclassify"), "{err}");
        }
        other => panic!("expected Outdated, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).expect("read"), before);
    assert!(HoneyDb::open_read_only(dir.path().join("missing.db"), &DbOptions::default()).is_err());
    assert!(!dir.path().join("missing.db").exists(), "nothing created");
}

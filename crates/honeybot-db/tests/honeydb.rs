//! HoneyDB against real SQLite files in temporary directories.

use std::path::{Path, PathBuf};
use std::time::Duration;

use honeybot_db::{
    Cursor, DbError, DbOptions, FileIdentity, HoneyDb, ImportOptions, ImportStats, IpMode,
    SCHEMA_VERSION, TimeZonePolicy, import, report,
};
use honeybot_logparse::parse_line;
use proptest::prelude::*;
use rusqlite::Connection;

/// A combined-format line.
fn line(ip: &str, time: &str, path: &str, status: u16, ua: &str) -> String {
    format!("{ip} - - [{time}] \"GET {path} HTTP/1.1\" {status} 512 \"-\" \"{ua}\"\n")
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("honeybot.db");
    (dir, path)
}

fn open(path: &Path) -> HoneyDb {
    HoneyDb::open(path, &DbOptions::default()).expect("open HoneyDB")
}

fn import_bytes(db: &mut HoneyDb, bytes: &[u8], name: &str) -> ImportStats {
    let stats = import(db, bytes, &ImportOptions::new(name), |_| {}).expect("import");
    assert_eq!(
        stats.lines_total,
        stats.lines_parsed + stats.lines_malformed + stats.lines_skipped_duplicate,
        "{stats:?}"
    );
    stats
}

fn query_i64(path: &Path, sql: &str) -> i64 {
    Connection::open(path)
        .expect("open")
        .query_row(sql, [], |r| r.get(0))
        .expect(sql)
}

/// Every fact with its dimension values, in key order.
fn facts(path: &Path) -> Vec<(String, String, String, String, i64, i64)> {
    let conn = Connection::open(path).expect("open");
    let mut stmt = conn
        .prepare(
            "SELECT d.date, i.value, u.value, p.value, d.status, d.count FROM daily_logs d \
             JOIN ips i ON i.id = d.ip_id JOIN user_agents u ON u.id = d.ua_id \
             JOIN paths p ON p.id = d.path_id ORDER BY 1, 2, 3, 4, 5",
        )
        .expect("prepare");
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

fn strings(path: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(path).expect("open");
    let mut stmt = conn.prepare(sql).expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn requests(path: &Path) -> i64 {
    query_i64(path, "SELECT coalesce(sum(count), 0) FROM daily_logs")
}

/// Ten distinct lines, ~1.3 KB: longer than the identity prefix.
fn ten_lines() -> String {
    (0..10)
        .map(|i| {
            line(
                &format!("198.51.100.{i}"),
                &format!("16/Nov/2026:10:00:{i:02} +0000"),
                &format!("/page/{}", i % 3),
                if i % 4 == 0 { 404 } else { 200 },
                "Mozilla/5.0 (X11; Linux x86_64) honeybot-test",
            )
        })
        .collect()
}

#[test]
fn migrates_an_empty_version_0_file_and_reopens() {
    let (_dir, path) = temp_db();
    // A database file SQLite created but nothing wrote to: user_version 0.
    Connection::open(&path)
        .expect("create")
        .execute_batch("PRAGMA user_version = 0; VACUUM;")
        .expect("init");
    assert_eq!(query_i64(&path, "PRAGMA user_version"), 0);
    drop(open(&path));
    assert_eq!(query_i64(&path, "PRAGMA user_version"), SCHEMA_VERSION);
    let tables = strings(
        &path,
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
    );
    for t in [
        "accept_values",
        "daily_accepts",
        "daily_logs",
        "daily_referrers",
        "import_cursors",
        "ips",
        "kv_store",
        "paths",
        "redirects",
        "referrers",
        "user_agents",
    ] {
        assert!(
            tables.iter().any(|n| n == t),
            "missing table {t}: {tables:?}"
        );
    }
    assert_eq!(
        strings(&path, "PRAGMA journal_mode"),
        vec!["wal".to_owned()]
    );
    // Reopening an up-to-date database changes nothing and keeps the data.
    let mut db = open(&path);
    import_bytes(&mut db, ten_lines().as_bytes(), "a.log");
    drop(db);
    let db = open(&path);
    drop(db);
    assert_eq!(requests(&path), 10);
    assert_eq!(query_i64(&path, "PRAGMA user_version"), SCHEMA_VERSION);
}

#[test]
fn refuses_a_database_from_a_newer_version() {
    let (_dir, path) = temp_db();
    Connection::open(&path)
        .expect("create")
        .execute_batch("PRAGMA user_version = 999")
        .expect("set version");
    match HoneyDb::open(&path, &DbOptions::default()) {
        Err(err @ DbError::TooNew { found: 999, .. }) => {
            assert!(err.to_string().contains("honeybot.db"), "{err}");
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn reimport_renamed_copy_and_growth_count_each_line_once() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    let log = ten_lines();
    let first = import_bytes(&mut db, log.as_bytes(), "access.log");
    assert_eq!((first.lines_total, first.lines_parsed), (10, 10));
    assert_eq!(first.requests_by_status.get(&404), Some(&3));
    let before = facts(&path);

    let again = import_bytes(&mut db, log.as_bytes(), "access.log");
    assert_eq!((again.lines_total, again.lines_skipped_duplicate), (10, 10));
    // The same content under another name, through a fresh handle (no caches).
    drop(db);
    let mut db = open(&path);
    let copy = import_bytes(&mut db, log.as_bytes(), "access.log.1");
    assert_eq!((copy.lines_total, copy.lines_skipped_duplicate), (10, 10));
    assert_eq!(facts(&path), before);

    let mut grown = log.clone();
    grown.push_str(&line(
        "2001:db8::7",
        "16/Nov/2026:11:00:00 +0000",
        "/new",
        200,
        "curl/8.5.0",
    ));
    grown.push_str("2026/11/16 11:00:01 [error] 12#12: *3 open() failed\n");
    let more = import_bytes(&mut db, grown.as_bytes(), "access.log");
    assert_eq!(
        (
            more.lines_total,
            more.lines_skipped_duplicate,
            more.lines_parsed,
            more.lines_malformed
        ),
        (12, 10, 1, 1)
    );
    assert_eq!(more.malformed_by_kind.get("not_access_log"), Some(&1));
    assert_eq!(requests(&path), 11);
    assert_eq!(
        query_i64(
            &path,
            "SELECT value FROM kv_store WHERE key = 'lines_parsed'"
        ),
        11
    );
    assert_eq!(
        query_i64(
            &path,
            "SELECT value FROM kv_store WHERE key = 'malformed.not_access_log'"
        ),
        1
    );
    assert_eq!(
        query_i64(
            &path,
            "SELECT count(*) FROM import_cursors WHERE path IS NOT NULL"
        ),
        1
    );
}

#[test]
fn a_short_file_that_grows_keeps_its_cursor() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    let log = ten_lines();
    let short = &log[..log.match_indices('\n').nth(1).expect("two lines").0 + 1];
    assert!(short.len() < FileIdentity::PREFIX_LEN);
    assert_eq!(
        import_bytes(&mut db, short.as_bytes(), "a.log").lines_parsed,
        2
    );
    let rest = import_bytes(&mut db, log.as_bytes(), "a.log");
    assert_eq!((rest.lines_skipped_duplicate, rest.lines_parsed), (2, 8));
    assert_eq!(requests(&path), 10);
    // The provisional cursor was re-keyed to the full prefix, not duplicated (rows
    // without a path are the line checkpoints of shorter copies).
    assert_eq!(
        query_i64(
            &path,
            "SELECT count(*) FROM import_cursors WHERE path IS NOT NULL"
        ),
        1
    );
    assert_eq!(
        query_i64(
            &path,
            "SELECT prefix_len FROM import_cursors WHERE path IS NOT NULL"
        ),
        FileIdentity::PREFIX_LEN as i64
    );
}

#[test]
fn a_last_line_without_newline_is_counted_once() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    let log = ten_lines();
    let unterminated = log.trim_end_matches('\n');
    assert_eq!(
        import_bytes(&mut db, unterminated.as_bytes(), "a.log").lines_parsed,
        10
    );
    let again = import_bytes(&mut db, unterminated.as_bytes(), "a.log");
    assert_eq!((again.lines_total, again.lines_skipped_duplicate), (10, 10));
    assert_eq!(requests(&path), 10);
}

#[test]
fn a_cursor_moved_by_another_importer_refuses_the_commit() {
    let (_dir, path) = temp_db();
    let log = ten_lines();
    let identity = FileIdentity::from_prefix(log.as_bytes());
    let mut a = open(&path);
    let mut b = open(&path);
    assert_eq!(a.cursor(&identity).expect("cursor"), None);
    assert_eq!(b.cursor(&identity).expect("cursor"), None);
    let batch_of = |db: &HoneyDb| {
        let mut batch = db.batch();
        for l in log.lines() {
            batch.add(&parse_line(l.as_bytes()).expect("parse"));
        }
        batch
    };
    let end = Cursor {
        offset: log.len() as u64,
        lines: 10,
    };
    let batch = batch_of(&a);
    a.commit(batch, Some((&identity, end)))
        .expect("first importer");
    let batch = batch_of(&b);
    let failed = b
        .commit(batch, Some((&identity, end)))
        .expect_err("second importer must not count the file again");
    assert!(
        matches!(failed.error, DbError::CursorConflict { .. }),
        "{failed}"
    );
    assert_eq!(failed.batch.lines(), 10, "the batch is handed back");
    assert_eq!(requests(&path), 10);
}

#[test]
fn readers_never_block_the_writer() {
    let (_dir, path) = temp_db();
    let options = DbOptions {
        busy_timeout: Duration::from_millis(200),
        busy_retries: 0,
        ..DbOptions::default()
    };
    let mut db = HoneyDb::open(&path, &options).expect("open");
    let log = ten_lines();
    let half = log.match_indices('\n').nth(4).expect("5 lines").0 + 1;
    import_bytes(&mut db, &log.as_bytes()[..half], "a.log");

    let reader = Connection::open(&path).expect("reader");
    reader.execute_batch("BEGIN").expect("begin");
    let seen: i64 = reader
        .query_row("SELECT sum(count) FROM daily_logs", [], |r| r.get(0))
        .expect("read");
    assert_eq!(seen, 5);
    // The reader holds its snapshot open while the writer commits.
    import_bytes(&mut db, log.as_bytes(), "a.log");
    let still: i64 = reader
        .query_row("SELECT sum(count) FROM daily_logs", [], |r| r.get(0))
        .expect("read");
    assert_eq!(still, 5, "the reader keeps its snapshot");
    reader.execute_batch("COMMIT").expect("end read");
    let now: i64 = reader
        .query_row("SELECT sum(count) FROM daily_logs", [], |r| r.get(0))
        .expect("read");
    assert_eq!(now, 10);
}

#[test]
fn a_busy_database_hands_the_batch_back_for_a_retry() {
    let (_dir, path) = temp_db();
    let options = DbOptions {
        busy_timeout: Duration::from_millis(20),
        busy_retries: 2,
        ..DbOptions::default()
    };
    let mut db = HoneyDb::open(&path, &options).expect("open");
    let log = ten_lines();
    let identity = FileIdentity::from_prefix(log.as_bytes());
    assert_eq!(db.cursor(&identity).expect("cursor"), None);
    let mut batch = db.batch();
    for l in log.lines() {
        batch.add(&parse_line(l.as_bytes()).expect("parse"));
    }
    let end = Cursor {
        offset: log.len() as u64,
        lines: 10,
    };

    let other = Connection::open(&path).expect("other writer");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let failed = db
        .commit(batch, Some((&identity, end)))
        .expect_err("locked database");
    assert!(matches!(failed.error, DbError::Busy { .. }), "{failed}");
    other.execute_batch("COMMIT").expect("unlock");
    assert_eq!(requests(&path), 0);
    assert_eq!(db.cursor(&identity).expect("cursor"), None);

    db.commit(*failed.batch, Some((&identity, end)))
        .expect("retry after the lock is gone");
    assert_eq!(requests(&path), 10);
    assert_eq!(db.cursor(&identity).expect("cursor"), Some(end));
}

#[test]
fn a_full_disk_writes_nothing_and_keeps_the_batch() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    import_bytes(&mut db, ten_lines().as_bytes(), "small.log");
    let pages = query_i64(&path, "PRAGMA page_count");
    // Cap the file at its current size: the next big commit hits SQLITE_FULL.
    db.connection()
        .execute_batch(&format!("PRAGMA max_page_count = {pages}"))
        .expect("cap");
    let big: String = (0..2000)
        .map(|i| {
            line(
                &format!("10.0.{}.{}", i / 256, i % 256),
                "17/Nov/2026:10:00:00 +0000",
                &format!("/a/long/path/to/page/number/{i}/with/padding/to/fill/pages"),
                200,
                "Mozilla/5.0",
            )
        })
        .collect();
    let identity = FileIdentity::from_prefix(big.as_bytes());
    assert_eq!(db.cursor(&identity).expect("cursor"), None);
    let mut batch = db.batch();
    for l in big.lines() {
        batch.add(&parse_line(l.as_bytes()).expect("parse"));
    }
    let end = Cursor {
        offset: big.len() as u64,
        lines: 2000,
    };
    let failed = db
        .commit(batch, Some((&identity, end)))
        .expect_err("the database is full");
    assert!(matches!(failed.error, DbError::DiskFull { .. }), "{failed}");
    assert_eq!(
        requests(&path),
        10,
        "nothing of the failed batch was written"
    );
    assert_eq!(db.cursor(&identity).expect("cursor"), None);

    db.connection()
        .execute_batch("PRAGMA max_page_count = 1000000")
        .expect("uncap");
    db.commit(*failed.batch, Some((&identity, end)))
        .expect("space is back");
    assert_eq!(requests(&path), 2010);
}

#[test]
fn ip_modes_full_truncate_and_hash() {
    let log = [
        line("203.0.113.77", "16/Nov/2026:10:00:00 +0000", "/", 200, "a"),
        line("203.0.113.200", "16/Nov/2026:10:00:01 +0000", "/", 200, "a"),
        line(
            "2001:db8:abcd:12::1",
            "16/Nov/2026:10:00:02 +0000",
            "/",
            200,
            "a",
        ),
        line(
            "crawl.example.com",
            "16/Nov/2026:10:00:03 +0000",
            "/",
            200,
            "a",
        ),
    ]
    .concat();
    let stored = |mode: IpMode| {
        let (_dir, path) = temp_db();
        let options = DbOptions {
            ip_mode: mode,
            ..DbOptions::default()
        };
        let mut db = HoneyDb::open(&path, &options).expect("open");
        import_bytes(&mut db, log.as_bytes(), "a.log");
        assert_eq!(requests(&path), 4);
        strings(&path, "SELECT value FROM ips ORDER BY value")
    };
    assert_eq!(
        stored(IpMode::Full),
        [
            "2001:db8:abcd:12::1",
            "203.0.113.200",
            "203.0.113.77",
            "crawl.example.com"
        ]
    );
    assert_eq!(
        stored(IpMode::Truncate),
        ["2001:db8:abcd::", "203.0.113.0", "crawl.example.com"]
    );
    let key = b"a key of at least sixteen bytes".to_vec();
    let hashed = stored(IpMode::Hash { key: key.clone() });
    assert_eq!(hashed.len(), 4);
    for h in &hashed {
        assert!(h.starts_with("h:") && h.len() == 34, "{h}");
        assert!(!h.contains("203.0.113") && !h.contains("example"), "{h}");
    }
    assert_eq!(stored(IpMode::Hash { key }), hashed, "stable under one key");
    assert_ne!(
        stored(IpMode::Hash {
            key: b"another key of sixteen bytes".to_vec()
        }),
        hashed
    );
}

#[test]
fn time_zone_policy_dates_lines_near_midnight() {
    let log = [
        // 23:59:59 at -0800 is 07:59:59 UTC the next day.
        line("192.0.2.1", "31/Dec/2026:23:59:59 -0800", "/a", 200, "x"),
        // 00:00:00 at +0530 is 18:30 UTC the day before.
        line("192.0.2.2", "01/Jan/2027:00:00:00 +0530", "/b", 200, "x"),
        // 23:30 at +0000 is the same day either way.
        line("192.0.2.3", "31/Dec/2026:23:30:00 +0000", "/c", 200, "x"),
        // 00:15 at +1400 is 10:15 UTC the day before.
        line("192.0.2.4", "01/Jan/2027:00:15:00 +1400", "/d", 200, "x"),
    ]
    .concat();
    let dates = |policy: TimeZonePolicy| {
        let (_dir, path) = temp_db();
        let options = DbOptions {
            time_zone: policy,
            ..DbOptions::default()
        };
        let mut db = HoneyDb::open(&path, &options).expect("open");
        import_bytes(&mut db, log.as_bytes(), "a.log");
        strings(
            &path,
            "SELECT d.date || ' ' || p.value FROM daily_logs d JOIN paths p ON p.id = d.path_id \
             ORDER BY p.value",
        )
    };
    assert_eq!(
        dates(TimeZonePolicy::LocalToLog),
        [
            "2026-12-31 /a",
            "2027-01-01 /b",
            "2026-12-31 /c",
            "2027-01-01 /d"
        ]
    );
    assert_eq!(
        dates(TimeZonePolicy::Utc),
        [
            "2027-01-01 /a",
            "2026-12-31 /b",
            "2026-12-31 /c",
            "2026-12-31 /d"
        ]
    );
}

#[test]
fn first_seen_is_the_earliest_log_time_even_out_of_order() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    let late = line("192.0.2.9", "16/Nov/2026:12:00:00 +0000", "/p", 200, "ua");
    let early = line("192.0.2.9", "16/Nov/2026:09:00:00 +0100", "/p", 200, "ua");
    import_bytes(&mut db, late.as_bytes(), "late.log");
    // 09:00 +0100 = 08:00 UTC, earlier than the first import's 12:00 UTC.
    import_bytes(&mut db, early.as_bytes(), "early.log");
    let expected = 1_794_816_000; // 2026-11-16T08:00:00Z
    for table in ["ips", "paths", "user_agents"] {
        assert_eq!(
            query_i64(&path, &format!("SELECT first_seen FROM {table}")),
            expected,
            "{table}"
        );
    }
    assert_eq!(requests(&path), 2);
}

#[test]
fn values_are_stored_unescaped_or_losslessly_escaped() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    let log = [
        line(
            "192.0.2.1",
            "16/Nov/2026:10:00:00 +0000",
            "/caf\\xC3\\xA9",
            200,
            "say \\\"hi\\\"",
        ),
        line(
            "192.0.2.1",
            "16/Nov/2026:10:00:01 +0000",
            "/bad\\xFF",
            200,
            "ua",
        ),
    ]
    .concat();
    import_bytes(&mut db, log.as_bytes(), "a.log");
    assert_eq!(
        strings(&path, "SELECT value FROM paths ORDER BY value"),
        ["/bad\\xFF", "/café"]
    );
    assert!(strings(&path, "SELECT value FROM user_agents").contains(&"say \"hi\"".to_owned()));
    assert_eq!(
        query_i64(
            &path,
            "SELECT value FROM kv_store WHERE key = 'values_kept_escaped'"
        ),
        1
    );
}

#[test]
fn referrers_and_accept_values_land_in_side_tables() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    let log = "192.0.2.1 - - [16/Nov/2026:10:00:00 +0100] \"GET /post/ HTTP/1.1\" 200 10 \
               \"https://example.org/\" \"ClaudeBot/1.0\" Accept:\"text/markdown\" MarkdownServed:1\n"
        .repeat(3);
    import_bytes(&mut db, log.as_bytes(), "a.log");
    assert_eq!(
        strings(
            &path,
            "SELECT d.date || ' ' || r.value || ' ' || d.count FROM daily_referrers d \
             JOIN referrers r ON r.id = d.referrer_id"
        ),
        ["2026-11-16 https://example.org/ 3"]
    );
    assert_eq!(
        strings(
            &path,
            "SELECT a.value || ' ' || d.markdown_served || ' ' || d.count FROM daily_accepts d \
             JOIN accept_values a ON a.id = d.accept_id"
        ),
        ["text/markdown 1 3"]
    );
}

#[test]
fn summary_reports_what_was_imported() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    import_bytes(&mut db, ten_lines().as_bytes(), "a.log");
    let s = report::summary(&db, 2).expect("summary");
    assert_eq!(
        (s.requests, s.days, s.clients, s.user_agents, s.paths),
        (10, 1, 10, 1, 3)
    );
    assert_eq!(s.first_date.as_deref(), Some("2026-11-16"));
    let mix: Vec<_> = s
        .status_mix
        .iter()
        .map(|c| (c.status, c.requests))
        .collect();
    assert_eq!(mix, [(200, 7), (404, 3)]);
    let top: Vec<_> = s
        .top_paths
        .iter()
        .map(|p| (p.path.as_str(), p.requests))
        .collect();
    assert_eq!(top, [("/page/0", 4), ("/page/1", 3)]);
}

/// The shared real logs (`../shared/data/logs`): every line is accounted for, and a second
/// import counts nothing.
#[test]
fn shared_logs_import_exactly_once() {
    let Some(dir) = honeybot_testsupport::shared_data("logs") else {
        return;
    };
    let entries = std::fs::read_dir(&dir).expect("read shared logs");
    let (_tmp, path) = temp_db();
    let mut db = open(&path);
    let mut files: Vec<_> = entries.map(|e| e.expect("entry").path()).collect();
    files.sort();
    let mut parsed = 0;
    for file in &files {
        let bytes = std::fs::read(file).expect("read log");
        let lines = bytes.split(|b| *b == b'\n').count() as u64 - u64::from(bytes.ends_with(b"\n"));
        let name = file.display().to_string();
        let first = import_bytes(&mut db, &bytes, &name);
        assert_eq!(first.lines_total, lines, "{name}");
        parsed += first.lines_parsed;
        let second = import_bytes(&mut db, &bytes, &name);
        assert_eq!(second.lines_skipped_duplicate, lines, "{name}");
    }
    assert_eq!(requests(&path), parsed as i64);
    assert!(parsed > 10_000, "the shared logs hold real traffic");
}

fn arb_log() -> impl Strategy<Value = Vec<String>> {
    let ok = (0u8..6, 0u8..4, 0u8..3, 0u32..86_400, prop::bool::ANY).prop_map(
        |(ip, path, ua, second, not_found)| {
            line(
                &format!("192.0.2.{ip}"),
                &format!(
                    "{:02}/Nov/2026:{:02}:{:02}:{:02} +0100",
                    16 + second % 3,
                    second / 3600,
                    second / 60 % 60,
                    second % 60
                ),
                &format!("/p{path}"),
                if not_found { 404 } else { 200 },
                &format!("ua{ua}"),
            )
        },
    );
    let bad = prop_oneof![
        Just("\n".to_owned()),
        Just("2026/11/16 10:00:00 [error] 1#1: boom\n".to_owned()),
        Just("192.0.2.1 - - [garbage] \"GET / HTTP/1.1\" 200 1\n".to_owned()),
    ];
    prop::collection::vec(prop_oneof![8 => ok, 1 => bad], 1..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Importing a log after each of several appended chunks gives exactly what one import
    /// of the whole log gives.
    #[test]
    fn chunked_appends_equal_one_import(
        lines in arb_log(),
        cuts in prop::collection::vec(0usize..60, 0..5),
        batch_lines in 1u64..20,
    ) {
        let whole = lines.concat();
        let (_d1, once) = temp_db();
        let mut db = open(&once);
        let single = import_bytes(&mut db, whole.as_bytes(), "a.log");

        let (_d2, chunked) = temp_db();
        let mut cut_points: Vec<usize> = cuts.into_iter().map(|c| c.min(lines.len())).collect();
        cut_points.push(lines.len());
        cut_points.sort_unstable();
        let mut parsed = 0;
        let mut malformed = 0;
        for cut in cut_points {
            // A fresh handle each time: nothing carried in memory between imports.
            let mut db = open(&chunked);
            let prefix = lines[..cut].concat();
            let mut options = ImportOptions::new("a.log");
            options.batch_lines = batch_lines;
            let stats = import(&mut db, prefix.as_bytes(), &options, |_| {}).expect("import");
            prop_assert_eq!(stats.lines_total, cut as u64);
            prop_assert_eq!(
                stats.lines_total,
                stats.lines_parsed + stats.lines_malformed + stats.lines_skipped_duplicate
            );
            parsed += stats.lines_parsed;
            malformed += stats.lines_malformed;
        }
        prop_assert_eq!(parsed, single.lines_parsed);
        prop_assert_eq!(malformed, single.lines_malformed);
        prop_assert_eq!(facts(&chunked), facts(&once));
        let dims = "SELECT value || ' ' || first_seen FROM ips UNION ALL \
                    SELECT value || ' ' || first_seen FROM paths ORDER BY 1";
        prop_assert_eq!(strings(&chunked, dims), strings(&once, dims));
        let kv = "SELECT key || '=' || value FROM kv_store ORDER BY key";
        prop_assert_eq!(strings(&chunked, kv), strings(&once, kv));
    }
}

#[test]
fn a_database_keeps_the_ip_mode_it_was_first_written_with() {
    let (_dir, path) = temp_db();
    let import_with = |ip_mode: IpMode, log: &str| {
        let mut db = HoneyDb::open(
            &path,
            &DbOptions {
                ip_mode,
                ..DbOptions::default()
            },
        )
        .expect("open: readers need not know the IP mode");
        import(
            &mut db,
            log.as_bytes(),
            &ImportOptions::new("a.log"),
            |_| {},
        )
    };
    let key = b"a key of at least sixteen bytes".to_vec();
    let first = ten_lines();
    let grown = format!(
        "{first}{}",
        line("192.0.2.1", "17/Nov/2026:10:00:00 +0000", "/", 200, "x")
    );
    import_with(IpMode::Hash { key: key.clone() }, &first).expect("first import");
    match import_with(IpMode::Full, &grown) {
        Err(honeybot_db::ImportError::Db(err @ DbError::IpModeMismatch { .. })) => {
            assert!(err.to_string().contains("hash"), "{err}");
        }
        other => panic!("expected IpModeMismatch, got {other:?}"),
    }
    assert_eq!(requests(&path), 10, "nothing written under the wrong mode");
    import_with(IpMode::Hash { key }, &grown).expect("same mode and key");
    assert_eq!(requests(&path), 11);
}

#[test]
fn overlong_lines_are_counted_once_as_malformed() {
    let (_dir, path) = temp_db();
    let mut db = open(&path);
    let ok = line("192.0.2.1", "16/Nov/2026:10:00:00 +0000", "/", 200, "ua");
    // One line longer than the parser's limit, one longer than the importer's buffer.
    let long = format!("{}\n", "x".repeat(honeybot_logparse::MAX_LINE_LEN + 10));
    let huge = format!("{}\n", "y".repeat(3 << 20));
    let log = [ok.as_str(), &long, &ok, &huge, &ok, &huge[..huge.len() - 1]].concat();
    let stats = import_bytes(&mut db, log.as_bytes(), "long.log");
    assert_eq!(
        (stats.lines_total, stats.lines_parsed, stats.lines_malformed),
        (6, 3, 3)
    );
    assert_eq!(stats.malformed_by_kind.get("too_long"), Some(&3));
    let again = import_bytes(&mut db, log.as_bytes(), "long.log");
    assert_eq!(again.lines_skipped_duplicate, 6);
    assert_eq!(requests(&path), 3);
}

#[test]
fn truncated_addresses_of_one_network_merge_into_one_fact() {
    let (_dir, path) = temp_db();
    let options = DbOptions {
        ip_mode: IpMode::Truncate,
        ..DbOptions::default()
    };
    let mut db = HoneyDb::open(&path, &options).expect("open");
    // More rows than one multi-row statement takes, all one fact once truncated.
    let log: String = (0..200)
        .map(|i| {
            line(
                &format!("203.0.113.{i}"),
                "16/Nov/2026:10:00:00 +0000",
                "/",
                200,
                "ua",
            )
        })
        .collect();
    import_bytes(&mut db, log.as_bytes(), "a.log");
    assert_eq!(
        facts(&path),
        [(
            "2026-11-16".to_owned(),
            "203.0.113.0".to_owned(),
            "ua".to_owned(),
            "/".to_owned(),
            200,
            200
        )]
    );
}

#[test]
fn many_known_and_new_values_through_a_cold_cache() {
    let (_dir, path) = temp_db();
    let a: String = (0..300)
        .map(|i| {
            line(
                &format!("10.1.{}.{}", i / 256, i % 256),
                "16/Nov/2026:10:00:00 +0000",
                "/a",
                200,
                "ua",
            )
        })
        .collect();
    let b: String = (0..400)
        .map(|i| {
            let time = if i % 2 == 0 {
                "16/Nov/2026:09:00:00 +0000"
            } else {
                "16/Nov/2026:11:00:00 +0000"
            };
            line(
                &format!("10.1.{}.{}", i / 256, i % 256),
                time,
                "/b",
                200,
                "ua",
            )
        })
        .collect();
    import_bytes(&mut open(&path), a.as_bytes(), "a.log");
    // A new handle knows no ids: 300 of b's 400 clients exist, 100 are new.
    import_bytes(&mut open(&path), b.as_bytes(), "b.log");
    assert_eq!(query_i64(&path, "SELECT count(*) FROM ips"), 400);
    let with_first_seen = |hour: i64| {
        query_i64(
            &path,
            &format!("SELECT count(*) FROM ips WHERE first_seen = 1794787200 + {hour} * 3600"),
        )
    };
    // 1794787200 is 2026-11-16T00:00:00Z.
    assert_eq!(
        (with_first_seen(9), with_first_seen(10), with_first_seen(11)),
        (200, 150, 50)
    );
    let per_client = query_i64(
        &path,
        "SELECT count(*) FROM (SELECT ip_id FROM daily_logs GROUP BY ip_id \
         HAVING sum(count) = 2 AND count(DISTINCT path_id) = 2)",
    );
    assert_eq!(per_client, 300, "the known clients kept their ids");
    assert_eq!(requests(&path), 700);
}

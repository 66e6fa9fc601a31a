//! Schema revisions, rollback to the previous release, refusals that change nothing, the
//! recent-requests ring and the beacon path, against real SQLite files.
//!
//! The previous release is represented by its own code: `tests/v1/schema.rs` is the
//! released revision-1 `schema.rs` byte for byte (`git show c10fb3a..25ebba5`), and
//! [`v1_open`] and the `V1_*` statements are its `HoneyDb::open` and the statements its
//! commit runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use honeybot_db::{
    AgentsFile, Classifier, DbError, DbOptions, HoneyDb, ImportOptions, SCHEMA_REVISION,
    SCHEMA_VERSION, TrapPaths, import,
};
use honeybot_testsupport::damage;
use rusqlite::{Connection, OptionalExtension, params};

#[allow(dead_code, unused_imports)]
#[path = "v1/schema.rs"]
mod v1;

/// The released v1 `HoneyDb::open`: WAL, pragmas, then its migrate (which refuses
/// `user_version > 1`).
fn v1_open(path: &Path) -> Result<Connection, String> {
    let mut conn = Connection::open(path).map_err(|e| e.to_string())?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;",
    )
    .map_err(|e| e.to_string())?;
    match v1::migrate(&mut conn) {
        Ok(_) => Ok(conn),
        Err(v1::MigrateError::TooNew(found)) => Err(format!("TooNew {found}")),
        Err(v1::MigrateError::Sqlite(e)) => Err(e.to_string()),
    }
}

/// The v1 commit's statements (dimension insert-or-find, fact upsert).
const V1_INSERT_UA: &str =
    "INSERT INTO user_agents (value, first_seen) VALUES (?1, ?2) ON CONFLICT (value) DO NOTHING";
const V1_INSERT_PATH: &str =
    "INSERT INTO paths (value, first_seen) VALUES (?1, ?2) ON CONFLICT (value) DO NOTHING";
const V1_INSERT_IP: &str =
    "INSERT INTO ips (value, first_seen) VALUES (?1, ?2) ON CONFLICT (value) DO NOTHING";
const V1_UPSERT_FACT: &str = "INSERT INTO daily_logs (date, ip_id, ua_id, path_id, status, count) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (date, ip_id, ua_id, path_id, status) DO UPDATE SET count = count + excluded.count";

/// One request written the way the v1 binary writes it.
fn v1_write(conn: &mut Connection, ip: &str, ua: &str, path: &str, status: u16) {
    let tx = conn.transaction().expect("v1 transaction");
    let id = |insert: &str, table: &str, value: &str| -> i64 {
        tx.execute(insert, params![value, 1_763_287_200i64])
            .expect(insert);
        tx.query_row(
            &format!("SELECT id FROM {table} WHERE value = ?1"),
            [value],
            |r| r.get(0),
        )
        .expect("find")
    };
    let ip = id(V1_INSERT_IP, "ips", ip);
    let ua = id(V1_INSERT_UA, "user_agents", ua);
    let path = id(V1_INSERT_PATH, "paths", path);
    tx.execute(
        V1_UPSERT_FACT,
        params!["2026-11-16", ip, ua, path, status, 1],
    )
    .expect("v1 fact upsert");
    tx.commit().expect("v1 commit");
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("honeybot.db");
    (dir, path)
}

fn line(ip: &str, path: &str, status: u16, ua: &str) -> String {
    format!(
        "{ip} - - [16/Nov/2026:10:00:00 +0000] \"GET {path} HTTP/1.1\" {status} 512 \"https://example.org/from\" \"{ua}\"\n"
    )
}

fn import_text(db: &mut HoneyDb, text: &str, name: &str) {
    import(db, text.as_bytes(), &ImportOptions::new(name), |_| {}).expect("import");
}

fn query<T: rusqlite::types::FromSql>(path: &Path, sql: &str) -> T {
    Connection::open(path)
        .expect("open")
        .query_row(sql, [], |r| r.get(0))
        .expect(sql)
}

fn ua_row(path: &Path, ua: &str) -> (Option<String>, Option<String>) {
    Connection::open(path)
        .expect("open")
        .query_row(
            "SELECT class, operator FROM user_agents WHERE value = ?1",
            [ua],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("user agent row")
}

fn kind(path: &Path, value: &str) -> Option<String> {
    Connection::open(path)
        .expect("open")
        .query_row("SELECT kind FROM paths WHERE value = ?1", [value], |r| {
            r.get(0)
        })
        .optional()
        .expect("query")
        .flatten()
}

const GPTBOT: &str = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
const CLAUDEBOT: &str = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[test]
fn this_build_keeps_the_compatibility_level_and_records_revisions() {
    assert_eq!(SCHEMA_VERSION, 1, "additive revisions keep level 1");
    let (_dir, path) = temp_db();
    drop(HoneyDb::open(&path, &DbOptions::default()).expect("create"));
    assert_eq!(query::<i64>(&path, "PRAGMA user_version"), 1);
    assert_eq!(
        query::<i64>(&path, "PRAGMA application_id"),
        i64::from(honeybot_db::APPLICATION_ID)
    );
    assert_eq!(
        query::<i64>(&path, "SELECT max(revision) FROM schema_revisions"),
        SCHEMA_REVISION
    );
    assert_eq!(
        query::<String>(
            &path,
            "SELECT group_concat(revision, ' ') FROM schema_revisions"
        ),
        honeybot_db::schema_revisions()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
}

#[test]
fn previous_release_runs_on_a_migrated_database_and_the_next_writer_classifies_its_rows() {
    let (_dir, path) = temp_db();
    let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("open");
    import_text(
        &mut db,
        &(line("198.51.100.1", "/", 200, GPTBOT) + &line("198.51.100.2", "/about", 200, FIREFOX)),
        "a.log",
    );
    drop(db);
    assert_eq!(ua_row(&path, GPTBOT).0.as_deref(), Some("ai-crawler"));

    // `nixos-rebuild switch --rollback`: the v1 binary opens the migrated file...
    let mut old = v1_open(&path).expect("the previous release opens a migrated database");
    // ... and writes as it always did: a new agent and path, and an existing fact.
    v1_write(&mut old, "198.51.100.3", CLAUDEBOT, "/new-page", 200);
    v1_write(&mut old, "198.51.100.1", GPTBOT, "/", 200);
    let total: i64 = old
        .query_row("SELECT sum(count) FROM daily_logs", [], |r| r.get(0))
        .expect("v1 reads");
    assert_eq!(total, 4);
    drop(old);
    // Revision 4's summaries follow the old writer's facts (they are kept by triggers):
    // requests per day and agent, and the three clients' day (16 November: bit 15).
    assert_eq!(
        query::<i64>(&path, "SELECT sum(count) FROM daily_agents"),
        4
    );
    assert_eq!(
        query::<i64>(
            &path,
            "SELECT count(*) FROM yearly_clients WHERE year = 2026 AND m11 = 1 << 15"
        ),
        3
    );
    // What the old writer could not know stays NULL...
    assert_eq!(ua_row(&path, CLAUDEBOT), (None, None));
    assert_eq!(kind(&path, "/new-page"), None);

    // ... until this build writes again (upgrade after the rollback).
    let db = HoneyDb::open(&path, &DbOptions::default()).expect("reopen");
    assert_eq!(db.opened().user_agents.len(), 1, "{:?}", db.opened());
    assert_eq!(db.opened().user_agents[0].user_agent, CLAUDEBOT);
    assert_eq!(db.opened().user_agents[0].old_class, None);
    drop(db);
    assert_eq!(
        ua_row(&path, CLAUDEBOT),
        (Some("ai-crawler".into()), Some("Anthropic".into()))
    );
    assert_eq!(kind(&path, "/new-page").as_deref(), Some("page"));
    assert_eq!(query::<i64>(&path, "SELECT sum(count) FROM daily_logs"), 4);
    assert_eq!(query::<i64>(&path, "PRAGMA user_version"), 1);
}

#[test]
fn migrates_a_version_1_database_with_data() {
    let (_dir, path) = temp_db();
    let mut old = v1_open(&path).expect("v1 creates its schema");
    for (ip, ua, p, status) in [
        ("203.0.113.1", GPTBOT, "/robots.txt", 200),
        ("203.0.113.2", FIREFOX, "/", 200),
        ("203.0.113.3", "", "/wp-login.php", 404),
        ("203.0.113.4", "curl/8.5.0", "/api/beacon?n=1a2b", 204),
    ] {
        v1_write(&mut old, ip, ua, p, status);
    }
    drop(old);
    assert_eq!(query::<i64>(&path, "PRAGMA application_id"), 0);
    let facts_before: String = query(
        &path,
        "SELECT group_concat(date || ip_id || ua_id || path_id || status || count, ',') FROM daily_logs",
    );

    let db = HoneyDb::open(&path, &DbOptions::default()).expect("a v1 file is recognised");
    assert_eq!(db.opened().user_agents.len(), 4);
    assert_eq!(db.opened().paths_checked, 4);
    drop(db);
    assert_eq!(
        query::<String>(
            &path,
            "SELECT group_concat(date || ip_id || ua_id || path_id || status || count, ',') FROM daily_logs"
        ),
        facts_before,
        "every fact survives"
    );
    assert_eq!(ua_row(&path, GPTBOT).0.as_deref(), Some("ai-crawler"));
    assert_eq!(ua_row(&path, FIREFOX).0.as_deref(), Some("browser"));
    assert_eq!(ua_row(&path, "").0.as_deref(), Some("unknown"));
    assert_eq!(ua_row(&path, "curl/8.5.0").0.as_deref(), Some("script"));
    assert_eq!(kind(&path, "/robots.txt").as_deref(), Some("robots"));
    assert_eq!(kind(&path, "/wp-login.php").as_deref(), Some("probe"));
    // A v1 beacon row keeps its nonce (history is not rewritten) but is known as a beacon.
    assert_eq!(kind(&path, "/api/beacon?n=1a2b").as_deref(), Some("beacon"));
    assert_eq!(
        query::<String>(
            &path,
            "SELECT group_concat(revision || ':' || program, ' ') FROM schema_revisions"
        ),
        std::iter::once("1:earlier release".to_owned())
            .chain(
                honeybot_db::schema_revisions()
                    .skip(1)
                    .map(|r| format!("{r}:honeybot-db {}", env!("CARGO_PKG_VERSION")))
            )
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Revision 3's report summaries were built from the migrated facts.
    assert_eq!(
        query::<i64>(&path, "SELECT sum(count) FROM daily_agent_kinds"),
        query::<i64>(&path, "SELECT sum(count) FROM daily_logs")
    );
    assert_eq!(
        query::<i64>(
            &path,
            "SELECT count(*) FROM daily_agent_kinds WHERE kind = ''"
        ),
        0,
        "summaries rebuilt with the kinds set on upgrade"
    );
    assert_eq!(query::<i64>(&path, "PRAGMA user_version"), 1);
    assert_eq!(
        query::<i64>(&path, "PRAGMA application_id"),
        i64::from(honeybot_db::APPLICATION_ID)
    );
}

#[test]
fn an_additive_revision_of_a_newer_release_is_left_alone() {
    let (_dir, path) = temp_db();
    drop(HoneyDb::open(&path, &DbOptions::default()).expect("create"));
    Connection::open(&path)
        .expect("open")
        .execute_batch(
            "CREATE TABLE future_things (id INTEGER PRIMARY KEY); \
             INSERT INTO schema_revisions VALUES (99, 1, '2030-01-01T00:00:00Z', 'honeybot-db 9.0');",
        )
        .expect("a newer release's additive step");
    let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("same level: opens");
    import_text(&mut db, &line("192.0.2.1", "/", 200, FIREFOX), "a.log");
    drop(db);
    assert_eq!(
        query::<i64>(&path, "SELECT max(revision) FROM schema_revisions"),
        99
    );
    assert_eq!(query::<i64>(&path, "SELECT sum(count) FROM daily_logs"), 1);
}

/// The file's bytes (main file; WAL and shm must not exist either).
fn snapshot(path: &Path) -> (Vec<u8>, bool, bool) {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let shm = PathBuf::from(format!("{}-shm", path.display()));
    (
        std::fs::read(path).expect("read db"),
        wal.exists(),
        shm.exists(),
    )
}

fn expect_refusal(path: &Path) -> DbError {
    let before = snapshot(path);
    let err = HoneyDb::open(path, &DbOptions::default()).expect_err("must be refused");
    assert_eq!(snapshot(path), before, "refusing changed the file: {err}");
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    err
}

#[test]
fn a_newer_compatibility_level_is_refused_before_anything_changes() {
    let (_dir, path) = temp_db();
    // A HoneyDB of a future release whose level is 2, in rollback-journal mode.
    let conn = Connection::open(&path).expect("create");
    conn.execute_batch(&format!(
        "CREATE TABLE x (a); PRAGMA application_id = {}; PRAGMA user_version = 2;",
        honeybot_db::APPLICATION_ID
    ))
    .expect("init");
    drop(conn);
    let err = expect_refusal(&path);
    assert!(matches!(err, DbError::TooNew { found: 2, .. }), "{err:?}");
    assert_eq!(query::<String>(&path, "PRAGMA journal_mode"), "delete");
    // And the previous release refuses it the same way it always did.
    assert_eq!(v1_open(&path).err().as_deref(), Some("TooNew 2"));
}

#[test]
fn foreign_sqlite_files_are_refused_unchanged() {
    let (dir, _) = temp_db();
    let cases: &[(&str, &str)] = &[
        (
            "notes.db",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'keep me');",
        ),
        (
            "clash.db",
            "CREATE TABLE paths (id INTEGER PRIMARY KEY, value TEXT, first_seen INTEGER); PRAGMA user_version = 3;",
        ),
        (
            "fossil.db",
            "PRAGMA application_id = 252006673; CREATE TABLE blob (rid INTEGER PRIMARY KEY);",
        ),
    ];
    for (name, sql) in cases {
        let path = dir.path().join(name);
        Connection::open(&path)
            .expect("create")
            .execute_batch(sql)
            .expect("init");
        let err = expect_refusal(&path);
        assert!(matches!(err, DbError::Foreign { .. }), "{name}: {err:?}");
        assert!(
            err.to_string().contains("is not a HoneyDB database"),
            "{err}"
        );
    }
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are my notes, not a database\n".repeat(200)).expect("write");
    let err = expect_refusal(&text);
    assert!(matches!(err, DbError::Foreign { .. }), "{err:?}");
    assert!(err.to_string().contains("not an SQLite database"), "{err}");
}

#[test]
fn a_damaged_database_is_refused_with_a_clear_message() {
    let (_dir, path) = temp_db();
    let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("open");
    let log: String = (0..200)
        .map(|i| {
            line(
                &format!("10.0.{}.{}", i / 250, i % 250),
                &format!("/p/{i}"),
                200,
                FIREFOX,
            )
        })
        .collect();
    import_text(&mut db, &log, "a.log");
    drop(db);
    let (root, _) = damage::root_and_last_leaf(&path, "daily_logs");
    damage::damage_page(&path, root);
    let err = expect_refusal(&path);
    assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("is damaged"), "{err}");
}

/// id, ts, ip, user agent, path, method, status, bytes, referrer
type RingRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
);

#[test]
fn the_ring_keeps_the_newest_requests_and_beacon_queries_are_dropped() {
    let (_dir, path) = temp_db();
    let options = DbOptions {
        recent_requests: 5,
        ..DbOptions::default()
    };
    let mut db = HoneyDb::open(&path, &options).expect("open");
    let mut log = String::new();
    for i in 0..8 {
        log += &line(
            &format!("192.0.2.{i}"),
            &format!("/api/beacon?n={i:04x}"),
            204,
            FIREFOX,
        );
    }
    import_text(&mut db, &log, "a.log");
    let tail = "192.0.2.99 - - [16/Nov/2026:10:00:09 +0000] \"POST /form HTTP/1.1\" 303 - \"-\" \"curl/8.5.0\"\n\
                192.0.2.98 - - [16/Nov/2026:10:00:10 +0000] \"\\x16\\x03\\x01\" 400 157 \"-\" \"-\"\n";
    import_text(&mut db, &(log.clone() + tail), "a.log");
    drop(db);

    // Eight beacon hits are one path, stored without the nonce.
    assert_eq!(
        query::<i64>(
            &path,
            "SELECT count(*) FROM paths WHERE value LIKE '/api/beacon%'"
        ),
        1
    );
    assert_eq!(kind(&path, "/api/beacon").as_deref(), Some("beacon"));
    assert_eq!(
        query::<i64>(
            &path,
            "SELECT sum(count) FROM daily_logs JOIN paths p ON p.id = path_id WHERE p.value = '/api/beacon'"
        ),
        8
    );
    let conn = Connection::open(&path).expect("open");
    let rows: Vec<RingRow> = conn
        .prepare(
            "SELECT r.id, r.ts, r.ip, u.value, p.value, r.method, r.status, r.bytes, r.referrer \
             FROM recent_requests r JOIN user_agents u ON u.id = r.ua_id \
             JOIN paths p ON p.id = r.path_id ORDER BY r.id",
        )
        .expect("prepare")
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "ids grow");
    let last = &rows[4];
    assert_eq!(
        (
            &last.2[..],
            &last.3[..],
            last.5.as_deref(),
            last.6,
            last.7,
            last.8.as_deref()
        ),
        ("192.0.2.98", "", None, 400, Some(157), None)
    );
    let post = &rows[3];
    assert_eq!(
        (&post.2[..], &post.4[..], post.5.as_deref(), post.6, post.7),
        ("192.0.2.99", "/form", Some("POST"), 303, None)
    );
    assert_eq!(post.1, 1_794_823_209, "unix seconds of the line");
    assert_eq!(rows[2].4, "/api/beacon");
    assert_eq!(rows[2].8.as_deref(), Some("https://example.org/from"));
}

#[test]
fn a_changed_table_reclassifies_stored_agents_on_the_next_open() {
    let (_dir, path) = temp_db();
    let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("open");
    import_text(
        &mut db,
        &(line("192.0.2.1", "/", 200, "HoneyWatch/2.0 (home)")
            + &line("192.0.2.2", "/", 200, FIREFOX)),
        "a.log",
    );
    drop(db);
    assert_eq!(
        ua_row(&path, "HoneyWatch/2.0 (home)").0.as_deref(),
        Some("unknown")
    );
    let user: AgentsFile = toml::from_str(
        r#"agent = [{ token = "HoneyWatch", class = "monitor", operator = "Me", note = "my uptime check" }]"#,
    )
    .expect("agents file");
    let options = DbOptions {
        classifier: Arc::new(Classifier::new(Some(&user)).expect("compiles")),
        ..DbOptions::default()
    };
    let db = HoneyDb::open(&path, &options).expect("reopen with the user's table");
    let changes = &db.opened().user_agents;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (changes[0].old_class.as_deref(), &changes[0].new_class[..]),
        (Some("unknown"), "monitor")
    );
    drop(db);
    assert_eq!(
        ua_row(&path, "HoneyWatch/2.0 (home)"),
        (Some("monitor".into()), Some("Me".into()))
    );
    // Same table again: nothing to do.
    let db = HoneyDb::open(&path, &options).expect("reopen");
    assert!(db.opened().is_empty(), "{:?}", db.opened());
    drop(db);
    // Other trap paths re-kind the stored paths.
    let moved = DbOptions {
        trap: TrapPaths {
            script: "/".into(),
            beacon: "/b".into(),
        },
        ..options
    };
    let db = HoneyDb::open(&path, &moved).expect("reopen");
    assert_eq!(db.opened().paths.iter().map(|c| c.paths).sum::<u64>(), 1);
    drop(db);
    assert_eq!(kind(&path, "/").as_deref(), Some("trap"));
}

/// Rows where a report summary differs from the sums of the facts (the contract of
/// revisions 3 and 4), over all eight summary tables; 0 when they agree. Zero-count rows left by deletions are
/// ignored, as the reports ignore them.
fn summaries_disagree(path: &Path) -> i64 {
    let both_ways = |facts: &str, summary: &str| {
        format!(
            "SELECT (SELECT count(*) FROM ({facts} EXCEPT {summary})) \
                  + (SELECT count(*) FROM ({summary} EXCEPT {facts}))"
        )
    };
    let checks = [
        both_ways(
            "SELECT d.date, d.ua_id, coalesce(p.kind, ''), d.status, sum(d.count) \
             FROM daily_logs d JOIN paths p ON p.id = d.path_id GROUP BY 1, 2, 3, 4",
            "SELECT date, ua_id, kind, status, count FROM daily_agent_kinds WHERE count <> 0",
        ),
        both_ways(
            "SELECT status, date, path_id, sum(count) FROM daily_logs GROUP BY 1, 2, 3",
            "SELECT status, date, path_id, count FROM daily_paths WHERE count <> 0",
        ),
        both_ways(
            "SELECT d.date, d.ip_id, sum(d.count) FROM daily_logs d \
             JOIN paths p ON p.id = d.path_id WHERE p.kind = 'probe' GROUP BY 1, 2",
            "SELECT date, ip_id, count FROM daily_client_probes WHERE count <> 0",
        ),
        both_ways(
            "SELECT substr(date, 1, 7), ua_id, kind, status, sum(count), min(date), max(date) \
             FROM daily_agent_kinds GROUP BY 1, 2, 3, 4",
            "SELECT month, ua_id, kind, status, count, first_date, last_date FROM monthly_agent_kinds",
        ),
        both_ways(
            "SELECT status, substr(date, 1, 7), path_id, sum(count), min(date), max(date) \
             FROM daily_paths GROUP BY 1, 2, 3",
            "SELECT status, month, path_id, count, first_date, last_date FROM monthly_paths",
        ),
        both_ways(
            "SELECT substr(date, 1, 7), ip_id, sum(count), min(date), max(date) \
             FROM daily_client_probes GROUP BY 1, 2",
            "SELECT month, ip_id, count, first_date, last_date FROM monthly_client_probes",
        ),
        // Revision 4's days per client, one bit per day in its month's column.
        both_ways(
            "SELECT CAST(substr(date, 1, 4) AS INTEGER), ip_id, CAST(substr(date, 6, 2) AS INTEGER), \
             sum(DISTINCT 1 << (CAST(substr(date, 9, 2) AS INTEGER) - 1)) FROM daily_logs \
             GROUP BY 1, 2, 3",
            "SELECT * FROM (SELECT year, ip_id, 1, m01 FROM yearly_clients WHERE m01 <> 0 UNION ALL \
             SELECT year, ip_id, 2, m02 FROM yearly_clients WHERE m02 <> 0 UNION ALL \
             SELECT year, ip_id, 3, m03 FROM yearly_clients WHERE m03 <> 0 UNION ALL \
             SELECT year, ip_id, 4, m04 FROM yearly_clients WHERE m04 <> 0 UNION ALL \
             SELECT year, ip_id, 5, m05 FROM yearly_clients WHERE m05 <> 0 UNION ALL \
             SELECT year, ip_id, 6, m06 FROM yearly_clients WHERE m06 <> 0 UNION ALL \
             SELECT year, ip_id, 7, m07 FROM yearly_clients WHERE m07 <> 0 UNION ALL \
             SELECT year, ip_id, 8, m08 FROM yearly_clients WHERE m08 <> 0 UNION ALL \
             SELECT year, ip_id, 9, m09 FROM yearly_clients WHERE m09 <> 0 UNION ALL \
             SELECT year, ip_id, 10, m10 FROM yearly_clients WHERE m10 <> 0 UNION ALL \
             SELECT year, ip_id, 11, m11 FROM yearly_clients WHERE m11 <> 0 UNION ALL \
             SELECT year, ip_id, 12, m12 FROM yearly_clients WHERE m12 <> 0)",
        ),
        both_ways(
            "SELECT date, ua_id, sum(count) FROM daily_logs GROUP BY 1, 2",
            "SELECT date, ua_id, count FROM daily_agents WHERE count <> 0",
        ),
    ];
    checks.iter().map(|sql| query::<i64>(path, sql)).sum()
}

/// Lines over two months, repeated facts, a probe path and a beacon.
fn two_months(prefix: &str) -> String {
    let mut log = String::new();
    for (day, month) in [("30", "Nov"), ("01", "Dec"), ("02", "Dec")] {
        for (ip, p, status, ua) in [
            ("192.0.2.1", "/", 200, FIREFOX),
            ("192.0.2.1", "/api/beacon?n=7", 204, FIREFOX),
            ("198.51.100.7", "/robots.txt", 200, GPTBOT),
            ("203.0.113.9", "/.env", 404, "curl/8.5.0"),
            ("203.0.113.9", "/wp-login.php", 404, "curl/8.5.0"),
        ] {
            log += &format!(
                "{ip} - - [{day}/{month}/2026:10:00:00 +0000] \"GET {p}{prefix} HTTP/1.1\" \
                 {status} 1 \"-\" \"{ua}\"\n"
            );
        }
    }
    log
}

#[test]
fn summaries_stay_exact_when_this_release_and_the_previous_one_take_turns() {
    let (_dir, path) = temp_db();
    let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("open");
    // Tiny batches: every fact key is inserted once and then added to by later commits.
    let mut options = ImportOptions::new("a.log");
    options.batch_lines = 4;
    let log = two_months("") + &two_months("") + &two_months("?x");
    import(&mut db, log.as_bytes(), &options, |_| {}).expect("import");
    drop(db);
    assert_eq!(summaries_disagree(&path), 0, "after this release");
    assert!(query::<i64>(&path, "SELECT sum(count) FROM daily_client_probes") > 0);

    // Rollback: the previous release adds to facts this release wrote, and new ones.
    let mut old = v1_open(&path).expect("previous release");
    v1_write(&mut old, "192.0.2.1", FIREFOX, "/", 200);
    v1_write(&mut old, "203.0.113.9", "curl/8.5.0", "/.env", 404);
    v1_write(&mut old, "203.0.113.10", "curl/8.5.0", "/.git/config", 404);
    v1_write(&mut old, "198.51.100.8", CLAUDEBOT, "/rolled-back", 200);
    drop(old);
    assert_eq!(summaries_disagree(&path), 0, "after the previous release");

    // Upgrade again: this release adds to the previous release's facts.
    let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("reopen");
    import_text(
        &mut db,
        &(line("198.51.100.8", "/rolled-back", 200, CLAUDEBOT)
            + &line("203.0.113.10", "/.git/config", 404, "curl/8.5.0")
            + &line("192.0.2.1", "/", 200, FIREFOX)),
        "b.log",
    );
    drop(db);
    assert_eq!(summaries_disagree(&path), 0, "after this release again");
    let facts: i64 = query(&path, "SELECT sum(count) FROM daily_logs");
    assert_eq!(facts, log.lines().count() as i64 + 4 + 3);
    assert_eq!(
        query::<i64>(&path, "SELECT sum(count) FROM monthly_paths"),
        facts
    );
    // The flag that makes the triggers stand aside never outlives a commit.
    assert_eq!(
        query::<i64>(
            &path,
            "SELECT count(*) FROM kv_store WHERE key = 'summaries_kept_by_commit'"
        ),
        0
    );
}

#[test]
fn a_writer_uses_the_kinds_another_writer_stored_meanwhile() {
    let (_dir, path) = temp_db();
    let mut daemon = HoneyDb::open(&path, &DbOptions::default()).expect("open");
    let css = line("192.0.2.1", "/assets/main.css", 200, FIREFOX);
    import_text(&mut daemon, &css, "a.log");
    assert_eq!(kind(&path, "/assets/main.css").as_deref(), Some("asset"));

    // Another writer moves the trap script onto that path: the stored kind changes while
    // the first writer holds the path (and its kind) in its cache.
    let moved = DbOptions {
        trap: TrapPaths {
            script: "/assets/main.css".to_owned(),
            beacon: "/api/beacon".to_owned(),
        },
        ..DbOptions::default()
    };
    drop(HoneyDb::open(&path, &moved).expect("other writer"));
    assert_eq!(kind(&path, "/assets/main.css").as_deref(), Some("trap"));

    let again = line("192.0.2.2", "/assets/main.css", 200, FIREFOX);
    import_text(&mut daemon, &(again.clone() + &again), "b.log");
    drop(daemon);
    assert_eq!(summaries_disagree(&path), 0);
    assert_eq!(
        query::<i64>(
            &path,
            "SELECT sum(count) FROM daily_agent_kinds WHERE kind = 'trap'"
        ),
        3
    );
}

#[test]
fn a_bulk_import_in_many_batches_ends_the_ring_with_its_newest_lines_in_order() {
    let (_dir, path) = temp_db();
    let options = DbOptions {
        recent_requests: 5,
        ..DbOptions::default()
    };
    let mut db = HoneyDb::open(&path, &options).expect("open");
    let log: String = (1..=9)
        .map(|i| line(&format!("192.0.2.{i}"), &format!("/p{i}"), 200, FIREFOX))
        .collect();
    // Batches of 4, 4 and 1 lines: the last one alone is smaller than the ring.
    let mut import_options = ImportOptions::new("a.log");
    import_options.batch_lines = 4;
    import(&mut db, log.as_bytes(), &import_options, |_| {}).expect("import");
    drop(db);
    let conn = Connection::open(&path).expect("open");
    let ring: Vec<(String, String)> = conn
        .prepare(
            "SELECT r.ip, p.value FROM recent_requests r JOIN paths p ON p.id = r.path_id \
             ORDER BY r.id",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let want: Vec<(String, String)> = (5..=9)
        .map(|i| (format!("192.0.2.{i}"), format!("/p{i}")))
        .collect();
    assert_eq!(ring, want);
    assert_eq!(query::<i64>(&path, "SELECT sum(count) FROM daily_logs"), 9);
}

/// An ordinary open reads only the header, the schema and each b-tree's root; damage deeper
/// in the file is what the full check is for: `check_file` (`honeybot check`) and an open
/// with `quick_check` (the ingest daemon's) refuse it, name the file, change nothing.
#[test]
fn damage_past_the_roots_is_found_by_the_full_check() {
    let (_dir, path) = temp_db();
    let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("open");
    let log: String = (0..5000)
        .map(|i| line("192.0.2.1", &format!("/page/{i}/x"), 200, FIREFOX))
        .collect();
    import_text(&mut db, &log, "a.log");
    drop(db);
    honeybot_db::check_file(&path).expect("an undamaged file passes");

    let (root, last_leaf) = damage::root_and_last_leaf(&path, "daily_logs");
    assert_ne!(last_leaf, root, "daily_logs spans more than one page");
    damage::damage_page(&path, last_leaf);

    let err = honeybot_db::check_file(&path).expect_err("the full check finds it");
    assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("is damaged") && text.contains(&path.display().to_string()),
        "{text}"
    );
    let before = std::fs::read(&path).expect("read");
    let full = DbOptions {
        quick_check: true,
        ..DbOptions::default()
    };
    let err = HoneyDb::open(&path, &full).expect_err("refused");
    assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "nothing changed"
    );
}

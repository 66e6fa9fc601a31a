//! The reports on real SQLite files filled by the real importer from real log lines.

use honeybot_db::report::{self, Window};
use honeybot_db::{DbOptions, HoneyDb, ImportOptions, TrapPaths, import};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const GPTBOT: &str = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
const CLAUDE_USER: &str = "Claude-User/1.0 (+https://www.anthropic.com)";
const SCANNER: &str = "Mozilla/5.0 zgrab/0.x";
const NEWBOT: &str = "NewBot/0.1 (+https://new.example/bot)";
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../honeybot/data/sample-access.log"
);

/// One line in the Honeybot extended format.
fn line(ip: &str, day: u32, path: &str, status: u16, ua: &str, accept: &str, md: u8) -> String {
    format!(
        "{ip} - - [{day:02}/Nov/2026:10:00:00 +0000] \"GET {path} HTTP/1.1\" {status} 512 \"-\" \
         \"{ua}\" Accept:\"{accept}\" MarkdownServed:{md}\n"
    )
}

/// Three days of a small site: a person running the trap, GPTBot reading pages without
/// JavaScript, Claude-User asking for Markdown, a scanner probing, a bot new on the 18th.
fn site_log() -> String {
    let mut log = String::new();
    for day in 16..=18 {
        for p in ["/", "/style.css", "/trap.js"] {
            log += &line("192.0.2.1", day, p, 200, FIREFOX, "text/html", 0);
        }
        // Every execution has its own nonce; all count under one beacon path.
        log += &line(
            "192.0.2.1",
            day,
            &format!("/api/beacon?n={day}ab{day}"),
            204,
            FIREFOX,
            "*/*",
            0,
        );
        for p in ["/robots.txt", "/", "/about/"] {
            log += &line("198.51.100.7", day, p, 200, GPTBOT, "*/*", 0);
        }
        log += &line("198.51.100.7", day, "/gone/", 404, GPTBOT, "*/*", 0);
    }
    log += &line(
        "2001:db8::c1",
        17,
        "/about/",
        200,
        CLAUDE_USER,
        "text/markdown, text/html;q=0.9",
        1,
    );
    log += &line(
        "2001:db8::c1",
        17,
        "/about.md",
        200,
        CLAUDE_USER,
        "text/markdown",
        0,
    );
    log += &line(
        "2001:db8::c1",
        17,
        "/llms.txt",
        200,
        CLAUDE_USER,
        "text/plain",
        0,
    );
    for p in ["/wp-login.php", "/.env", "/.git/config"] {
        log += &line("203.0.113.9", 17, p, 404, SCANNER, "*/*", 0);
    }
    log += &line("203.0.113.9", 17, "/about/", 200, SCANNER, "*/*", 0);
    log += &line("192.0.2.99", 18, "/", 200, NEWBOT, "*/*", 0);
    log
}

fn import_into(path: &std::path::Path, log: &str, options: &ImportOptions) {
    let mut db = HoneyDb::open(path, &DbOptions::default()).expect("open");
    import(&mut db, log.as_bytes(), options, |_| {}).expect("import");
}

fn site_db() -> (tempfile::TempDir, HoneyDb) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("honeybot.db");
    import_into(&path, &site_log(), &ImportOptions::new("site.log"));
    let db = HoneyDb::open_read_only(&path, &DbOptions::default()).expect("read-only");
    (dir, db)
}

fn window(since: Option<&str>, until: Option<&str>) -> Window {
    Window::new(since, until).expect("window")
}

#[test]
fn agents_carry_class_operator_and_hits_by_kind() {
    let (_dir, db) = site_db();
    let agents = report::agents(&db, &Window::all(), None).expect("agents");
    let by = |ua: &str| {
        agents
            .iter()
            .find(|a| a.user_agent == ua)
            .expect(ua)
            .clone()
    };
    let gpt = by(GPTBOT);
    assert_eq!(gpt.class.as_deref(), Some("ai-crawler"));
    assert_eq!(gpt.operator.as_deref(), Some("OpenAI"));
    // `/gone/` is a page too (its kind), answered 404.
    assert_eq!((gpt.hits, gpt.page_hits, gpt.robots_txt_hits), (12, 9, 3));
    assert_eq!(gpt.not_found_hits, 3);
    let person = by(FIREFOX);
    assert_eq!(person.class.as_deref(), Some("browser"));
    assert_eq!(person.operator, None);
    assert_eq!(
        (person.asset_hits, person.trap_hits, person.beacon_hits),
        (3, 3, 3)
    );
    // Busiest first.
    assert!(
        agents.windows(2).all(|w| w[0].hits >= w[1].hits),
        "{agents:?}"
    );
    let total: u64 = agents.iter().map(|a| a.hits).sum();
    assert_eq!(total, site_log().lines().count() as u64);
    // --limit
    assert_eq!(
        report::agents(&db, &Window::all(), Some(2))
            .expect("agents")
            .len(),
        2
    );
}

#[test]
fn js_keeps_agents_without_a_beacon_and_ai_lists_only_ai_agents() {
    let (_dir, db) = site_db();
    let js = report::js(&db, &Window::all(), None).expect("js");
    let gpt = js
        .iter()
        .find(|j| j.user_agent == GPTBOT)
        .expect("GPTBot listed with no beacon");
    assert_eq!(
        (gpt.page_hits, gpt.beacon_hits, gpt.runs_javascript),
        (9, 0, false)
    );
    let person = js.iter().find(|j| j.user_agent == FIREFOX).expect("person");
    assert_eq!(
        (person.page_hits, person.trap_hits, person.beacon_hits),
        (3, 3, 3)
    );
    assert_eq!(person.beacons_per_page, Some(1.0));
    // The nonces did not make three beacon paths.
    let beacons: i64 = db
        .connection()
        .query_row(
            "SELECT count(*) FROM paths WHERE value LIKE '/api/beacon%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(beacons, 1);

    let ai = report::ai(&db, &Window::all(), None).expect("ai");
    let names: Vec<_> = ai
        .iter()
        .map(|a| (a.user_agent.as_str(), a.class.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            (GPTBOT, Some("ai-crawler")),
            (CLAUDE_USER, Some("ai-assistant"))
        ],
        "{ai:?}"
    );
    assert_eq!(ai[0].robots_txt_hits, 3);
    assert_eq!(ai[1].operator.as_deref(), Some("Anthropic"));
}

#[test]
fn markdown_counts_accept_headers_twins_md_urls_and_llms_txt() {
    let (_dir, db) = site_db();
    let md = report::markdown(&db, &Window::all(), None).expect("markdown");
    assert_eq!(md.len(), 1, "{md:?}");
    let c = &md[0];
    assert_eq!(c.user_agent, CLAUDE_USER);
    assert_eq!(
        (
            c.accept_markdown,
            c.markdown_served,
            c.md_url_hits,
            c.llms_txt_hits
        ),
        (2, 1, 1, 1)
    );
}

#[test]
fn not_found_splits_probe_noise_from_missing_pages() {
    let (_dir, db) = site_db();
    let rows = report::not_found(&db, &Window::all(), None).expect("404");
    let missing: Vec<_> = rows.iter().filter(|r| r.category == "missing").collect();
    assert_eq!(missing.len(), 1);
    assert_eq!((missing[0].path.as_str(), missing[0].hits), ("/gone/", 3));
    assert_eq!(
        (
            missing[0].first_date.as_str(),
            missing[0].last_date.as_str()
        ),
        ("2026-11-16", "2026-11-18")
    );
    let mut probes: Vec<_> = rows
        .iter()
        .filter(|r| r.category == "probe")
        .map(|r| (r.path.as_str(), r.probe_kind))
        .collect();
    probes.sort();
    assert_eq!(
        probes,
        [
            ("/.env", Some("secrets")),
            ("/.git/config", Some("secrets")),
            ("/wp-login.php", Some("word-press"))
        ]
    );
    // The limit applies per category: the janitor's input is never crowded out by probes.
    let one = report::not_found(&db, &Window::all(), Some(1)).expect("404");
    assert_eq!(
        one.iter().map(|r| r.category).collect::<Vec<_>>(),
        ["missing", "probe"]
    );
}

#[test]
fn hostile_lists_probing_clients_and_what_else_they_asked_for() {
    let (_dir, db) = site_db();
    let rows = report::hostile(&db, &Window::all(), None).expect("hostile");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let h = &rows[0];
    assert_eq!(h.client, "203.0.113.9");
    assert_eq!((h.hits, h.probe_hits, h.other_hits), (4, 3, 1));
    assert_eq!(h.other_paths, ["/about/"]);
    assert_eq!(h.probe_paths.len(), 3);
    assert_eq!(h.user_agents, [SCANNER]);
    // Outside the scanner's day, nobody probed.
    let w = window(Some("2026-11-18"), None);
    assert!(report::hostile(&db, &w, None).expect("hostile").is_empty());
}

#[test]
fn windows_are_inclusive_at_both_ends() {
    let (_dir, db) = site_db();
    let day = |d: &str| report::summary_in(&db, &window(Some(d), Some(d)), 5).expect("summary");
    let (d16, d17, d18) = (day("2026-11-16"), day("2026-11-17"), day("2026-11-18"));
    assert_eq!((d16.requests, d17.requests, d18.requests), (8, 15, 9));
    assert_eq!(d17.days, 1);
    assert_eq!(d17.clients, 4);
    let two = report::summary_in(&db, &window(Some("2026-11-17"), Some("2026-11-18")), 5)
        .expect("summary");
    assert_eq!(two.requests, 24);
    assert_eq!(two.first_date.as_deref(), Some("2026-11-17"));
    let open_end = report::summary_in(&db, &window(Some("2026-11-17"), None), 5).expect("summary");
    assert_eq!(open_end.requests, 24);
    let open_start =
        report::summary_in(&db, &window(None, Some("2026-11-16")), 5).expect("summary");
    assert_eq!(open_start.requests, 8);
    let all = report::summary(&db, 5).expect("summary");
    assert_eq!(all.requests, 32);
    assert_eq!(all.clients, 5);
    // Every row report honours the window.
    let w16 = window(Some("2026-11-16"), Some("2026-11-16"));
    let gpt16 = report::agents(&db, &w16, None).expect("agents");
    assert_eq!(
        gpt16
            .iter()
            .find(|a| a.user_agent == GPTBOT)
            .map(|a| a.hits),
        Some(4)
    );
    assert!(report::markdown(&db, &w16, None).expect("md").is_empty());
    assert_eq!(
        report::not_found(&db, &w16, None)
            .expect("404")
            .iter()
            .map(|r| r.hits)
            .sum::<u64>(),
        1
    );
    let trends = report::trends(&db, &w16).expect("trends");
    assert!(trends.iter().all(|t| t.date == "2026-11-16"), "{trends:?}");
    assert_eq!(trends.iter().map(|t| t.hits).sum::<u64>(), 8);
}

#[test]
fn new_lists_what_was_first_seen_in_the_window() {
    let (_dir, db) = site_db();
    let w = window(Some("2026-11-18"), Some("2026-11-18"));
    let rows = report::new(&db, &w, None).expect("new");
    let uas: Vec<_> = rows
        .iter()
        .filter(|r| r.what == "user_agent")
        .map(|r| r.value.as_str())
        .collect();
    assert_eq!(uas, [NEWBOT]);
    let clients: Vec<_> = rows
        .iter()
        .filter(|r| r.what == "client")
        .map(|r| r.value.as_str())
        .collect();
    assert_eq!(clients, ["192.0.2.99"]);
    assert!(
        rows.iter().all(|r| r.what != "path"),
        "no new path on the 18th: {rows:?}"
    );
    let before = window(None, Some("2026-11-17"));
    let rows = report::new(&db, &before, None).expect("new");
    assert!(rows.iter().all(|r| r.value != NEWBOT), "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.what == "path" && r.value == "/llms.txt"),
        "{rows:?}"
    );
}

#[test]
fn trends_sum_to_the_total_per_class() {
    let (_dir, db) = site_db();
    let trends = report::trends(&db, &Window::all()).expect("trends");
    let browser: u64 = trends
        .iter()
        .filter(|t| t.class == "browser")
        .map(|t| t.hits)
        .sum();
    assert_eq!(browser, 12);
    assert_eq!(trends.iter().map(|t| t.hits).sum::<u64>(), 32);
    assert!(trends.windows(2).all(|w| w[0].date <= w[1].date));
}

/// Per-summary sums recomputed from the fact table; must equal the trigger-kept tables.
fn summaries_match_facts(db: &HoneyDb) {
    let conn = db.connection();
    let diff = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(
        diff(
            "SELECT count(*) FROM (SELECT d.date, d.ua_id, coalesce(p.kind, '') AS kind, d.status, \
               sum(d.count) AS n FROM daily_logs d JOIN paths p ON p.id = d.path_id \
               GROUP BY 1, 2, 3, 4 \
             EXCEPT SELECT date, ua_id, kind, status, count FROM daily_agent_kinds WHERE count <> 0)"
        ),
        0
    );
    assert_eq!(
        diff(
            "SELECT count(*) FROM (SELECT date, ua_id, kind, status, count FROM daily_agent_kinds \
               WHERE count <> 0 EXCEPT SELECT d.date, d.ua_id, coalesce(p.kind, ''), d.status, \
               sum(d.count) FROM daily_logs d JOIN paths p ON p.id = d.path_id GROUP BY 1, 2, 3, 4)"
        ),
        0
    );
    assert_eq!(
        diff(
            "SELECT count(*) FROM (SELECT status, date, path_id, sum(count) FROM daily_logs \
               GROUP BY 1, 2, 3 EXCEPT SELECT status, date, path_id, count FROM daily_paths)"
        ),
        0
    );
    assert_eq!(
        diff(
            "SELECT count(*) FROM (SELECT d.date, d.ip_id, sum(d.count) FROM daily_logs d \
               JOIN paths p ON p.id = d.path_id WHERE p.kind = 'probe' GROUP BY 1, 2 \
             EXCEPT SELECT date, ip_id, count FROM daily_client_probes)"
        ),
        0
    );
    // Revision 4: requests per day and agent, and each client's days as month bit masks.
    assert_eq!(
        diff(
            "SELECT count(*) FROM (SELECT date, ua_id, sum(count) FROM daily_logs GROUP BY 1, 2 \
             EXCEPT SELECT date, ua_id, count FROM daily_agents)"
        ),
        0
    );
    assert_eq!(
        diff(
            "SELECT count(*) FROM (SELECT date, ua_id, count FROM daily_agents WHERE count <> 0 \
             EXCEPT SELECT date, ua_id, sum(count) FROM daily_logs GROUP BY 1, 2)"
        ),
        0
    );
    assert_eq!(client_days_from_masks(db), client_days_from_facts(db));
    let totals = |t: &str| diff(&format!("SELECT coalesce(sum(count), 0) FROM {t}"));
    assert_eq!(totals("daily_logs"), totals("daily_agent_kinds"));
    assert_eq!(totals("daily_logs"), totals("daily_paths"));
    assert_eq!(totals("daily_logs"), totals("daily_agents"));
}

/// `(client, date)` of every day a client made a request, from the facts.
fn client_days_from_facts(db: &HoneyDb) -> Vec<(i64, String)> {
    db.connection()
        .prepare("SELECT DISTINCT ip_id, date FROM daily_logs ORDER BY 1, 2")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// The same, decoded from `yearly_clients` (bit `d - 1` of column `mMM` = day `d`).
fn client_days_from_masks(db: &HoneyDb) -> Vec<(i64, String)> {
    let mut stmt = db
        .connection()
        .prepare(
            "SELECT ip_id, year, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12 \
             FROM yearly_clients",
        )
        .expect("prepare");
    let mut days = Vec::new();
    let mut rows = stmt.query([]).expect("query");
    while let Some(r) = rows.next().expect("row") {
        let (ip, year): (i64, i64) = (r.get(0).expect("ip"), r.get(1).expect("year"));
        for month in 1..=12_usize {
            let mask: i64 = r.get(1 + month).expect("mask");
            for day in 1..=31 {
                if mask & (1 << (day - 1)) != 0 {
                    days.push((ip, format!("{year:04}-{month:02}-{day:02}")));
                }
            }
        }
    }
    days.sort();
    days
}

#[test]
fn summary_tables_follow_the_facts_through_small_batches_and_reclassification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("honeybot.db");
    let sample = std::fs::read_to_string(SAMPLE).expect("sample log");
    // Tiny batches: the same fact key is inserted once and then updated many times.
    let mut options = ImportOptions::new("sample.log");
    options.batch_lines = 37;
    import_into(&path, &sample, &options);
    let db = HoneyDb::open_read_only(&path, &DbOptions::default()).expect("open");
    summaries_match_facts(&db);
    let facts: i64 = db
        .connection()
        .query_row("SELECT sum(count) FROM daily_logs", [], |r| r.get(0))
        .expect("sum");
    assert_eq!(
        report::summary(&db, 5).expect("summary").requests,
        facts as u64
    );
    drop(db);

    // A new trap path changes path kinds: the writer rebuilds the summaries on open.
    let moved = DbOptions {
        trap: TrapPaths {
            script: "/assets/main.css".to_owned(),
            beacon: "/api/beacon".to_owned(),
        },
        ..DbOptions::default()
    };
    let mut db = HoneyDb::open(&path, &moved).expect("open with other trap paths");
    db.reclassify().expect("reclassify");
    drop(db);
    let db = HoneyDb::open_read_only(&path, &moved).expect("open");
    summaries_match_facts(&db);
    monthly_match_daily(&db);
    let agents = report::agents(&db, &Window::all(), None).expect("agents");
    let css: i64 = db
        .connection()
        .query_row(
            "SELECT sum(d.count) FROM daily_logs d JOIN paths p ON p.id = d.path_id \
             WHERE p.value = '/assets/main.css'",
            [],
            |r| r.get(0),
        )
        .expect("sum");
    assert!(css > 0);
    assert_eq!(agents.iter().map(|a| a.trap_hits).sum::<u64>(), css as u64);
}

#[test]
fn views_answer_like_the_reports_over_the_whole_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("honeybot.db");
    import_into(
        &path,
        &std::fs::read_to_string(SAMPLE).expect("sample"),
        &ImportOptions::new("s"),
    );
    let db = HoneyDb::open_read_only(&path, &DbOptions::default()).expect("open");
    let conn = db.connection();
    let all = Window::all();
    let agents = report::agents(&db, &all, None).expect("agents");
    let mut stmt = conn
        .prepare(
            "SELECT user_agent, hits, beacon_hits FROM v_agents ORDER BY hits DESC, user_agent",
        )
        .expect("v_agents");
    let view: Vec<(String, u64, u64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let from_report: Vec<_> = agents
        .iter()
        .map(|a| (a.user_agent.clone(), a.hits, a.beacon_hits))
        .collect();
    assert_eq!(view, from_report);
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(
        count("SELECT count(*) FROM v_ai"),
        report::ai(&db, &all, None).expect("ai").len() as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM v_js"),
        report::js(&db, &all, None).expect("js").len() as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM v_js WHERE beacon_hits = 0 AND page_hits > 0"),
        report::js(&db, &all, None)
            .expect("js")
            .iter()
            .filter(|j| !j.runs_javascript && j.page_hits > 0)
            .count() as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM v_robots"),
        report::robots(&db, &all, None).expect("r").len() as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM v_markdown"),
        report::markdown(&db, &all, None).expect("m").len() as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM v_404"),
        report::not_found(&db, &all, None).expect("404").len() as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM v_hostile"),
        report::hostile(&db, &all, None).expect("h").len() as i64
    );
    assert_eq!(
        count("SELECT sum(hits) FROM v_trends"),
        report::summary(&db, 1).expect("s").requests as i64
    );
    assert!(count("SELECT count(*) FROM v_first_seen WHERE what = 'user_agent'") > 0);
}

/// Three months of traffic (2026-10-20 to 2026-12-10), facts repeated across batches.
fn months_log() -> String {
    let mut log = String::new();
    let start = 20_i64; // day of October
    for n in 0..52 {
        let (month, day) = match start + n {
            d @ 1..=31 => ("Oct", d),
            d @ 32..=61 => ("Nov", d - 31),
            d => ("Dec", d - 61),
        };
        for (ip, path, status, ua) in [
            ("192.0.2.1", "/", 200, FIREFOX),
            ("192.0.2.1", "/api/beacon?n=1", 204, FIREFOX),
            ("198.51.100.7", "/robots.txt", 200, GPTBOT),
            ("198.51.100.7", "/gone/", 404, GPTBOT),
            ("203.0.113.9", "/.env", 404, SCANNER),
        ] {
            for _ in 0..=(n % 3) {
                log += &format!(
                    "{ip} - - [{day:02}/{month}/2026:10:00:00 +0000] \"GET {path} HTTP/1.1\" \
                     {status} 1 \"-\" \"{ua}\"\n"
                );
            }
        }
    }
    log
}

#[test]
fn windows_across_months_agree_with_the_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("honeybot.db");
    let mut options = ImportOptions::new("months.log");
    options.batch_lines = 50;
    import_into(&path, &months_log(), &options);
    let db = HoneyDb::open_read_only(&path, &DbOptions::default()).expect("open");
    summaries_match_facts(&db);
    let conn = db.connection();
    let facts = |ua: &str, since: &str, until: &str| -> (u64, Option<String>, Option<String>) {
        conn.query_row(
            "SELECT coalesce(sum(d.count), 0), min(d.date), max(d.date) FROM daily_logs d \
             JOIN user_agents u ON u.id = d.ua_id WHERE u.value = ?1 AND d.date BETWEEN ?2 AND ?3",
            rusqlite::params![ua, since, until],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)),
        )
        .expect("facts")
    };
    for (since, until) in [
        ("2026-10-25", "2026-12-03"), // partial, whole November, partial
        ("2026-10-01", "2026-11-30"), // whole months only
        ("2026-11-01", "2026-11-15"), // within one month
        ("2026-10-31", "2026-11-01"), // across a month boundary, no whole month
        ("2026-12-10", "2026-12-10"), // the last day
        ("2026-09-01", "2027-01-31"), // beyond the data at both ends
    ] {
        let w = window(Some(since), Some(until));
        let agents = report::agents(&db, &w, None).expect("agents");
        for ua in [FIREFOX, GPTBOT, SCANNER] {
            let (hits, first, last) = facts(ua, since, until);
            let row = agents.iter().find(|a| a.user_agent == ua);
            assert_eq!(row.map_or(0, |a| a.hits), hits, "{ua} {since}..{until}");
            if let Some(a) = row {
                assert_eq!(
                    (Some(a.first_date.clone()), Some(a.last_date.clone())),
                    (first, last)
                );
            }
        }
        let summary = report::summary_in(&db, &w, 10).expect("summary");
        let total: u64 = [FIREFOX, GPTBOT, SCANNER]
            .iter()
            .map(|ua| facts(ua, since, until).0)
            .sum();
        assert_eq!(summary.requests, total, "{since}..{until}");
        let days: i64 = conn
            .query_row(
                "SELECT count(DISTINCT date) FROM daily_logs WHERE date BETWEEN ?1 AND ?2",
                [since, until],
                |r| r.get(0),
            )
            .expect("days");
        assert_eq!(summary.days, days as u64, "{since}..{until}");
        let gone = report::not_found(&db, &w, None).expect("404");
        let gone_hits = gone
            .iter()
            .find(|r| r.path == "/gone/")
            .map_or(0, |r| r.hits);
        assert_eq!(
            gone_hits,
            facts(GPTBOT, since, until).0 / 2,
            "{since}..{until}"
        );
        let hostile = report::hostile(&db, &w, None).expect("hostile");
        assert_eq!(
            hostile.first().map_or(0, |h| h.probe_hits),
            facts(SCANNER, since, until).0
        );
    }
    monthly_match_daily(&db);
}

/// Monthly roll-ups equal the daily summaries they are made of.
fn monthly_match_daily(db: &HoneyDb) {
    let conn = db.connection();
    let diff: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT substr(date, 1, 7), ua_id, kind, status, sum(count), \
               min(date), max(date) FROM daily_agent_kinds GROUP BY 1, 2, 3, 4 \
             EXCEPT SELECT month, ua_id, kind, status, count, first_date, last_date \
               FROM monthly_agent_kinds)",
            [],
            |r| r.get(0),
        )
        .expect("diff");
    assert_eq!(diff, 0);
    let diff: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT status, substr(date, 1, 7), path_id, sum(count) \
               FROM daily_paths GROUP BY 1, 2, 3 \
             EXCEPT SELECT status, month, path_id, count FROM monthly_paths)",
            [],
            |r| r.get(0),
        )
        .expect("diff");
    assert_eq!(diff, 0);
    let diff: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT substr(date, 1, 7), ip_id, sum(count) \
               FROM daily_client_probes GROUP BY 1, 2 \
             EXCEPT SELECT month, ip_id, count FROM monthly_client_probes)",
            [],
            |r| r.get(0),
        )
        .expect("diff");
    assert_eq!(diff, 0);
}

/// Clients on scattered days from 2025-12-30 to 2027-01-02: month ends, leap day, the turn
/// of both years.
fn clients_log() -> String {
    let days = [
        "30/Dec/2025",
        "31/Dec/2025",
        "01/Jan/2026",
        "31/Jan/2026",
        "01/Feb/2026",
        "28/Feb/2026",
        "15/Jun/2026",
        "30/Nov/2026",
        "01/Dec/2026",
        "31/Dec/2026",
        "01/Jan/2027",
        "02/Jan/2027",
    ];
    let mut log = String::new();
    for (n, day) in days.iter().enumerate() {
        // Client k comes on the days whose index is a multiple of k (client 1 every day).
        for k in 1..=7 {
            if n % k == 0 {
                for _ in 0..(1 + n % 2) {
                    log += &format!(
                        "192.0.2.{k} - - [{day}:12:00:00 +0000] \"GET /p{n} HTTP/1.1\" 200 1 \"-\" \"{FIREFOX}\"\n"
                    );
                }
            }
        }
    }
    log
}

#[test]
fn distinct_clients_of_any_window_equal_the_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("honeybot.db");
    let mut options = ImportOptions::new("clients.log");
    options.batch_lines = 5;
    import_into(&path, &clients_log(), &options);
    let db = HoneyDb::open_read_only(&path, &DbOptions::default()).expect("open");
    summaries_match_facts(&db);
    let dates = [
        "2025-12-01",
        "2025-12-30",
        "2025-12-31",
        "2026-01-01",
        "2026-01-02",
        "2026-01-31",
        "2026-02-01",
        "2026-02-28",
        "2026-03-01",
        "2026-06-15",
        "2026-11-30",
        "2026-12-01",
        "2026-12-31",
        "2027-01-01",
        "2027-01-02",
        "2027-03-01",
    ];
    let facts = |since: Option<&str>, until: Option<&str>| -> u64 {
        db.connection()
            .query_row(
                "SELECT count(DISTINCT ip_id) FROM daily_logs \
                 WHERE date >= coalesce(?1, '') AND date <= coalesce(?2, '9')",
                rusqlite::params![since, until],
                |r| r.get::<_, i64>(0),
            )
            .expect("facts") as u64
    };
    let mut checked = 0;
    for (i, since) in dates.iter().enumerate() {
        for until in &dates[i..] {
            let w = window(Some(since), Some(until));
            let got = report::summary_in(&db, &w, 1).expect("summary").clients;
            assert_eq!(got, facts(Some(since), Some(until)), "{since}..{until}");
            checked += 1;
        }
        let open_end = report::summary_in(&db, &window(Some(since), None), 1).expect("summary");
        assert_eq!(open_end.clients, facts(Some(since), None), "{since}..");
        let open_start = report::summary_in(&db, &window(None, Some(since)), 1).expect("summary");
        assert_eq!(open_start.clients, facts(None, Some(since)), "..{since}");
    }
    assert_eq!(checked, dates.len() * (dates.len() + 1) / 2);
    // The windows differ: all seven clients, or only those of 31 January (day 3: 1 and 3).
    assert_eq!(facts(None, None), 7);
    assert_eq!(facts(Some("2026-01-02"), Some("2026-01-31")), 2);
}

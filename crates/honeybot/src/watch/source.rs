//! Reads the dashboard's data from HoneyDB, read-only: the `recent_requests` ring the
//! ingester writes in the same transaction as its counts (polled by `id > last_seen`, and
//! only when `PRAGMA data_version` says another connection committed), and the day's
//! panels from the daily tables. Raw strings leave here; [`super::state`] escapes them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use honeybot_db::{DbError, DbOptions, HoneyDb};
use rusqlite::{Connection, OptionalExtension, params};

use super::state::{MarkdownReader, Panels, Request, Tally};

/// Why the dashboard cannot read a database.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("no HoneyDB at {0} (create it with `honeybot ingest` or the honeybot-ingest service)")]
    Missing(PathBuf),
    /// Refused by [`HoneyDb::open_read_only`]: not a HoneyDB, too new, not yet upgraded.
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot read {path}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// How many rows a panel lists.
pub const PANEL_ROWS: usize = 8;

/// How a panel names a user agent: the token its class was decided by (`GPTBot`), or the
/// whole string when a heuristic decided it (browsers) or it is not classified yet.
const AGENT_LABEL: &str = "CASE WHEN u.class_rule IS NOT NULL AND u.class_rule NOT LIKE 'heuristic:%' \
     THEN u.class_rule ELSE u.value END";

/// The token a user agent was classified by, when it was a token of the table (not a
/// heuristic such as `heuristic:browser`).
fn agent_name(class_rule: Option<String>) -> Option<String> {
    class_rule.filter(|r| !r.starts_with("heuristic:") && !r.is_empty())
}

const RING_COLUMNS: &str = "SELECT r.id, r.ts, coalesce(r.ip, ''), coalesce(r.method, ''), r.status, \
      coalesce(u.value, ''), u.class, u.operator, \
     coalesce(p.value, ''), p.kind, u.class_rule \
     FROM recent_requests r \
     LEFT JOIN user_agents u ON u.id = r.ua_id \
     LEFT JOIN paths p ON p.id = r.path_id";

/// A read-only handle on one HoneyDB.
#[derive(Debug)]
pub struct Source {
    db: HoneyDb,
    data_version: Option<i64>,
}

impl Source {
    /// Opens `path` read-only (a member of the honeybot group may read but not write it);
    /// refuses a file that is not a HoneyDB or that no writer has brought to this
    /// program's schema revision (which has the ring) yet.
    pub fn open(path: &Path) -> Result<Source, SourceError> {
        if !path.exists() {
            return Err(SourceError::Missing(path.to_owned()));
        }
        let options = DbOptions {
            busy_timeout: Duration::from_secs(2),
            ..DbOptions::default()
        };
        Ok(Source {
            db: HoneyDb::open_read_only(path, &options)?,
            data_version: None,
        })
    }

    fn conn(&self) -> &Connection {
        self.db.connection()
    }

    fn err(&self, source: rusqlite::Error) -> SourceError {
        SourceError::Sqlite {
            path: self.db.path().to_owned(),
            source,
        }
    }

    /// Whether another connection committed since the last call (true the first time).
    /// One cheap pragma; no table is read.
    pub fn changed(&mut self) -> Result<bool, SourceError> {
        let v: i64 = self
            .conn()
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let changed = self.data_version != Some(v);
        self.data_version = Some(v);
        Ok(changed)
    }

    /// The newest `limit` requests of the ring, oldest first.
    pub fn newest(&self, limit: usize) -> Result<Vec<Request>, SourceError> {
        let sql = format!("SELECT * FROM ({RING_COLUMNS} ORDER BY r.id DESC LIMIT ?1) ORDER BY 1");
        self.rows(&sql, params![limit as i64])
    }

    /// Requests with a ring id above `last_seen`, oldest first, at most `limit`.
    pub fn after(&self, last_seen: i64, limit: usize) -> Result<Vec<Request>, SourceError> {
        let sql = format!("{RING_COLUMNS} WHERE r.id > ?1 ORDER BY r.id LIMIT ?2");
        self.rows(&sql, params![last_seen, limit as i64])
    }

    fn rows(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Request>, SourceError> {
        let run = || -> rusqlite::Result<Vec<Request>> {
            let mut stmt = self.conn().prepare_cached(sql)?;
            let rows = stmt.query_map(args, |r| {
                Ok(Request {
                    id: r.get(0)?,
                    ts: r.get(1)?,
                    client: r.get(2)?,
                    method: r.get(3)?,
                    status: r
                        .get::<_, Option<i64>>(4)?
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(0),
                    user_agent: r.get(5)?,
                    class: r.get(6)?,
                    operator: r.get(7)?,
                    path: r.get(8)?,
                    path_kind: r.get(9)?,
                    agent: agent_name(r.get(10)?),
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The figures of the newest day in the history; `now` (Unix seconds) sets the window
    /// of the requests-per-minute figure.
    pub fn panels(&self, now: i64) -> Result<Panels, SourceError> {
        self.panels_inner(now).map_err(|e| self.err(e))
    }

    fn panels_inner(&self, now: i64) -> rusqlite::Result<Panels> {
        let c = self.conn();
        let ip_mode: Option<String> = c
            .query_row(
                "SELECT CAST(value AS TEXT) FROM kv_store WHERE key = 'ip_mode'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let requests_total: i64 = c
            .query_row(
                "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM kv_store WHERE key = 'lines_parsed'), 0)",
                [],
                |r| r.get(0),
            )?;
        let per_minute: i64 = c
            .prepare_cached("SELECT count(*) FROM recent_requests WHERE ts > ?1")?
            .query_row([now - 60], |r| r.get(0))?;
        // The primary key of daily_logs starts with the date: max() is one index step.
        let day: Option<String> =
            c.query_row("SELECT max(date) FROM daily_logs", [], |r| r.get(0))?;
        let Some(day) = day else {
            return Ok(Panels {
                requests_total: requests_total as u64,
                per_minute: per_minute as u64,
                ip_mode,
                ..Panels::default()
            });
        };
        let (requests_today, clients_today): (i64, i64) = c
            .prepare_cached(
                "SELECT coalesce(sum(count), 0), count(DISTINCT ip_id) FROM daily_logs WHERE date = ?1",
            )?
            .query_row([&day], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let tallies = |sql: &str| -> rusqlite::Result<Vec<Tally>> {
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params![day, PANEL_ROWS as i64], |r| {
                Ok(Tally {
                    name: r.get(0)?,
                    hits: r.get::<_, i64>(1)? as u64,
                })
            })?;
            rows.collect()
        };
        let js_executors = tallies(&format!(
            "SELECT {AGENT_LABEL}, sum(d.count) AS n FROM daily_logs d \
             JOIN paths p ON p.id = d.path_id JOIN user_agents u ON u.id = d.ua_id \
             WHERE d.date = ?1 AND p.kind = 'beacon' \
             GROUP BY d.ua_id ORDER BY n DESC, u.value LIMIT ?2"
        ))?;
        let ai_operators = tallies(
            "SELECT coalesce(u.operator, 'unknown operator'), sum(d.count) AS n FROM daily_logs d \
             JOIN user_agents u ON u.id = d.ua_id \
             WHERE d.date = ?1 AND u.class IN ('ai-crawler', 'ai-assistant') \
             GROUP BY u.operator ORDER BY n DESC, 1 LIMIT ?2",
        )?;
        let markdown_readers = {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {AGENT_LABEL}, sum(a) AS by_accept, sum(p) AS by_path FROM ( \
                   SELECT ua_id, count AS a, 0 AS p FROM daily_accepts \
                    WHERE date = ?1 AND markdown_served = '1' \
                   UNION ALL \
                   SELECT d.ua_id, 0, d.count FROM daily_logs d JOIN paths p ON p.id = d.path_id \
                    WHERE d.date = ?1 AND p.kind IN ('markdown', 'llms') \
                 ) JOIN user_agents u ON u.id = ua_id \
                 GROUP BY ua_id ORDER BY by_accept + by_path DESC, u.value LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![day, PANEL_ROWS as i64], |r| {
                Ok(MarkdownReader {
                    user_agent: r.get(0)?,
                    by_accept: r.get::<_, i64>(1)? as u64,
                    by_path: r.get::<_, i64>(2)? as u64,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        Ok(Panels {
            day: Some(day),
            requests_total: requests_total as u64,
            requests_today: requests_today as u64,
            clients_today: clients_today as u64,
            per_minute: per_minute as u64,
            ip_mode,
            js_executors,
            markdown_readers,
            ai_operators,
        })
    }
}

#[cfg(test)]
mod tests {
    use honeybot_db::{DbOptions, HoneyDb, ImportOptions, import};

    use super::*;

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0";
    const GPTBOT: &str = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
    const CLAUDE: &str = "Mozilla/5.0 (compatible; ClaudeBot/1.0; +claudebot@anthropic.com)";

    fn line(ip: &str, sec: u32, path: &str, status: u16, ua: &str, accept: &str) -> String {
        let md = u8::from(accept.contains("text/markdown"));
        format!(
            "{ip} - - [05/Dec/2026:12:00:{sec:02} +0000] \"GET {path} HTTP/1.1\" {status} 100 \"-\" \
             \"{ua}\" Accept:\"{accept}\" MarkdownServed:{md}\n"
        )
    }

    /// A real HoneyDB written by the real importer (which fills the ring and the kinds).
    fn db(dir: &Path, lines: &[String]) -> PathBuf {
        let path = dir.join("honeybot.db");
        let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("open db");
        import(
            &mut db,
            lines.concat().as_bytes(),
            &ImportOptions::new(format!("test-{}", lines.len())),
            |_| {},
        )
        .expect("import");
        path
    }

    fn day() -> Vec<String> {
        vec![
            line("192.0.2.1", 0, "/", 200, FIREFOX, "text/html"),
            line("192.0.2.1", 1, "/trap.js", 200, FIREFOX, "*/*"),
            line("192.0.2.1", 2, "/api/beacon?n=abc", 204, FIREFOX, "image/*"),
            line("192.0.2.1", 3, "/api/beacon?n=def", 204, FIREFOX, "image/*"),
            line(
                "198.51.100.2",
                4,
                "/",
                200,
                GPTBOT,
                "text/markdown, text/html",
            ),
            line(
                "198.51.100.2",
                5,
                "/post.html",
                200,
                GPTBOT,
                "text/markdown",
            ),
            line("198.51.100.3", 6, "/llms.txt", 200, CLAUDE, "*/*"),
            line("198.51.100.3", 7, "/post.md", 200, CLAUDE, "*/*"),
            line("203.0.113.9", 8, "/.env", 404, "curl/8.11.0", "*/*"),
        ]
    }

    #[test]
    fn panels_count_the_day_from_the_real_tables() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut lines =
            vec![line("192.0.2.99", 0, "/", 200, GPTBOT, "*/*").replace("05/Dec", "04/Dec")];
        lines.extend(day());
        let path = db(tmp.path(), &lines);
        let source = Source::open(&path).expect("open source");
        let ts_last = 1_796_472_008; // 2026-12-05 12:00:08 UTC
        let p = source.panels(ts_last).expect("panels");
        assert_eq!(p.day.as_deref(), Some("2026-12-05"));
        assert_eq!((p.requests_today, p.clients_today), (9, 4));
        assert_eq!(p.requests_total, 10, "the day before counts in all");
        assert_eq!(p.ip_mode.as_deref(), Some("full"));
        assert_eq!(p.per_minute, 9, "all nine in the minute before {ts_last}");
        assert_eq!(source.panels(ts_last + 3600).expect("panels").per_minute, 0);
        assert_eq!(
            p.js_executors,
            [Tally {
                name: FIREFOX.into(),
                hits: 2
            }],
            "beacon hits, nonces stripped into one path"
        );
        assert_eq!(
            p.markdown_readers,
            [
                MarkdownReader {
                    user_agent: "ClaudeBot".into(),
                    by_accept: 0,
                    by_path: 2
                },
                MarkdownReader {
                    user_agent: "GPTBot".into(),
                    by_accept: 2,
                    by_path: 0
                },
            ]
        );
        let ops: Vec<(&str, u64)> = p
            .ai_operators
            .iter()
            .map(|t| (t.name.as_str(), t.hits))
            .collect();
        assert_eq!(ops, [("Anthropic", 2), ("OpenAI", 2)]);
    }

    #[test]
    fn ring_is_read_in_order_and_polled_by_id() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = db(tmp.path(), &day());
        let mut source = Source::open(&path).expect("open source");
        assert!(source.changed().expect("data_version"), "first call");
        assert!(
            !source.changed().expect("data_version"),
            "nothing committed"
        );

        let newest = source.newest(3).expect("newest");
        let paths: Vec<&str> = newest.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/llms.txt", "/post.md", "/.env"], "oldest first");
        let last = newest[2].clone();
        assert_eq!(
            (last.status, last.client.as_str(), last.class.as_deref()),
            (404, "203.0.113.9", Some("script"))
        );
        assert_eq!(last.path_kind.as_deref(), Some("probe"));
        assert_eq!(last.agent.as_deref(), Some("curl"));
        let beacon = source.after(0, 100).expect("after")[2].clone();
        assert_eq!(
            (beacon.path.as_str(), beacon.path_kind.as_deref()),
            ("/api/beacon", Some("beacon"))
        );
        assert!(source.after(last.id, 100).expect("after").is_empty());

        // Another connection commits: the version moves, and only the new rows come.
        let more = [line("192.0.2.7", 9, "/new", 200, FIREFOX, "text/html")];
        let mut db = HoneyDb::open(&path, &DbOptions::default()).expect("open db");
        import(
            &mut db,
            more.concat().as_bytes(),
            &ImportOptions::new("more"),
            |_| {},
        )
        .expect("import");
        assert!(source.changed().expect("data_version"));
        let new = source.after(last.id, 100).expect("after");
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].path, "/new");
        assert_eq!(new[0].agent, None, "a browser has no token: shown whole");
    }

    #[test]
    fn missing_file_and_old_schema_are_clear_errors() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let missing = tmp.path().join("nope.db");
        let err = Source::open(&missing).expect_err("missing");
        assert!(err.to_string().contains("no HoneyDB at"), "{err}");
        assert!(!missing.exists(), "not created");

        let foreign = tmp.path().join("other.db");
        Connection::open(&foreign)
            .and_then(|c| c.execute_batch("CREATE TABLE notes (text TEXT)"))
            .expect("another application's db");
        let err = Source::open(&foreign).expect_err("foreign");
        assert!(
            err.to_string().contains("is not a HoneyDB database"),
            "{err}"
        );
    }
}

//! Paths that answered 404, and who asked for them: the input of the 404 janitor.
//!
//! A client that requested any exploit-probe path ([`crate::probe`], the one list) in the
//! window is a *probing client*; its 404s are scanner noise. Each 404 path comes with its
//! hits and the hits from clients that are not probing, so a caller can drop paths only
//! scanners asked for.

use rusqlite::{Connection, params};

use crate::db::classify;
use crate::probe::is_probe_path;
use crate::{DbError, HoneyDb};

/// One path that answered 404 in the window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotFoundPath {
    /// The request target as stored (query string included, not decoded).
    pub path: String,
    /// 404 answers for it.
    pub hits: u64,
    /// 404 answers for it to clients that requested no exploit-probe path in the window.
    pub clean_hits: u64,
    /// Whether the path itself is an exploit probe ([`crate::probe::is_probe_path`]).
    pub probe: bool,
}

/// Every path that answered 404 on a date `>= since` (`YYYY-MM-DD`), busiest first.
pub fn not_found_paths(db: &HoneyDb, since: &str) -> Result<Vec<NotFoundPath>, DbError> {
    query(db.connection(), since).map_err(|e| classify(e, db.path()))
}

fn query(conn: &Connection, since: &str) -> rusqlite::Result<Vec<NotFoundPath>> {
    // Probe paths requested in the window (any status), then the clients that asked for one.
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS janitor_probe_paths (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE IF NOT EXISTS janitor_probers (id INTEGER PRIMARY KEY);
         DELETE FROM temp.janitor_probe_paths; DELETE FROM temp.janitor_probers;",
    )?;
    {
        let mut paths = conn.prepare(
            "SELECT p.id, p.value FROM paths AS p \
             WHERE p.id IN (SELECT DISTINCT path_id FROM daily_logs WHERE date >= ?1)",
        )?;
        let mut insert =
            conn.prepare("INSERT OR IGNORE INTO temp.janitor_probe_paths (id) VALUES (?1)")?;
        let mut rows = paths.query(params![since])?;
        while let Some(row) = rows.next()? {
            let value: String = row.get(1)?;
            if is_probe_path(&value) {
                insert.execute(params![row.get::<_, i64>(0)?])?;
            }
        }
    }
    conn.execute(
        "INSERT OR IGNORE INTO temp.janitor_probers (id) \
         SELECT DISTINCT ip_id FROM daily_logs \
         WHERE date >= ?1 AND path_id IN (SELECT id FROM temp.janitor_probe_paths)",
        params![since],
    )?;
    let out = conn
        .prepare(
            "SELECT p.value, t.hits, t.clean, \
                    p.id IN (SELECT id FROM temp.janitor_probe_paths) \
             FROM (SELECT path_id, sum(count) AS hits, \
                          sum(CASE WHEN ip_id IN (SELECT id FROM temp.janitor_probers) \
                                   THEN 0 ELSE count END) AS clean \
                   FROM daily_logs WHERE date >= ?1 AND status = 404 GROUP BY path_id) AS t \
             JOIN paths AS p ON p.id = t.path_id \
             ORDER BY t.hits DESC, p.value",
        )?
        .query_map(params![since], |r| {
            Ok(NotFoundPath {
                path: r.get(0)?,
                hits: r.get::<_, i64>(1)? as u64,
                clean_hits: r.get::<_, i64>(2)? as u64,
                probe: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    conn.execute_batch("DELETE FROM temp.janitor_probe_paths; DELETE FROM temp.janitor_probers;")?;
    Ok(out)
}

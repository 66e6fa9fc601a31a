//! Summary queries over HoneyDB (used by `honeybot demo` and reports).

use rusqlite::params;

use crate::db::classify;
use crate::{DbError, HoneyDb};

/// Requests per status code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusCount {
    pub status: u16,
    pub requests: u64,
}

/// Requests per path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathCount {
    pub path: String,
    pub requests: u64,
}

/// Requests per user agent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserAgentCount {
    pub user_agent: String,
    pub requests: u64,
}

/// What the history holds, in a few numbers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub requests: u64,
    pub days: u64,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// Distinct client addresses (as stored: truncated or hashed per IP mode).
    pub clients: u64,
    pub user_agents: u64,
    pub paths: u64,
    pub status_mix: Vec<StatusCount>,
    pub top_paths: Vec<PathCount>,
    pub top_user_agents: Vec<UserAgentCount>,
    /// Lines that were not access-log lines, over all imports.
    pub lines_malformed: u64,
}

/// The summary of the whole history, with the `top` most requested paths and the `top`
/// busiest user agents.
pub fn summary(db: &HoneyDb, top: usize) -> Result<Summary, DbError> {
    summary_inner(db, top).map_err(|e| classify(e, db.path()))
}

fn summary_inner(db: &HoneyDb, top: usize) -> rusqlite::Result<Summary> {
    let conn = db.connection();
    let (requests, days, first_date, last_date): (i64, i64, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT coalesce(sum(count), 0), count(DISTINCT date), min(date), max(date) \
             FROM daily_logs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
    let count = |sql: &str| -> rusqlite::Result<u64> {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
    };
    let clients = count("SELECT count(DISTINCT ip_id) FROM daily_logs")?;
    let user_agents = count("SELECT count(DISTINCT ua_id) FROM daily_logs")?;
    let paths = count("SELECT count(DISTINCT path_id) FROM daily_logs")?;
    let lines_malformed =
        count("SELECT coalesce((SELECT value FROM kv_store WHERE key = 'lines_malformed'), 0)")?;
    let status_mix = conn
        .prepare("SELECT status, sum(count) FROM daily_logs GROUP BY status ORDER BY status")?
        .query_map([], |r| {
            Ok(StatusCount {
                status: r.get(0)?,
                requests: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    let top_paths = conn
        .prepare(
            "SELECT p.value, t.n FROM \
               (SELECT path_id, sum(count) AS n FROM daily_logs GROUP BY path_id \
                ORDER BY n DESC, path_id LIMIT ?1) AS t \
             JOIN paths AS p ON p.id = t.path_id ORDER BY t.n DESC, p.value",
        )?
        .query_map(params![top as i64], |r| {
            Ok(PathCount {
                path: r.get(0)?,
                requests: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    let top_user_agents = conn
        .prepare(
            "SELECT u.value, t.n FROM \
               (SELECT ua_id, sum(count) AS n FROM daily_logs GROUP BY ua_id \
                ORDER BY n DESC, ua_id LIMIT ?1) AS t \
             JOIN user_agents AS u ON u.id = t.ua_id ORDER BY t.n DESC, u.value",
        )?
        .query_map(params![top as i64], |r| {
            Ok(UserAgentCount {
                user_agent: r.get(0)?,
                requests: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Summary {
        requests: requests as u64,
        days: days as u64,
        first_date,
        last_date,
        clients,
        user_agents,
        paths,
        status_mix,
        top_paths,
        top_user_agents,
        lines_malformed,
    })
}

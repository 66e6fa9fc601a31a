//! The reports of `honeybot report` (and `honeybot demo`): typed rows from SQL over HoneyDB.
//!
//! Every report takes a [`Window`] of dates (`YYYY-MM-DD`, inclusive). The queries live in
//! `report/sql.rs`, written once for the reports (windowed) and for the schema's views
//! (`v_agents`, `v_ai`, `v_js`, ... over the whole history). Rows hold raw stored values:
//! whoever prints them to a terminal escapes them.

mod rows;
pub(crate) mod sql;
pub(crate) mod summaries;
mod window;

pub use rows::*;
pub use window::{Window, WindowError, today_utc};

use rusqlite::params;

use crate::db::classify;
use crate::{DbError, HoneyDb};

/// Requests per status code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusCount {
    pub status: u16,
    pub requests: u64,
}

/// Requests per user-agent class.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClassCount {
    pub class: String,
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
    /// Requests per user-agent class (`unclassified`: rows an older release wrote).
    pub classes: Vec<ClassCount>,
    pub top_paths: Vec<PathCount>,
    pub top_user_agents: Vec<UserAgentCount>,
    /// Lines that were not access-log lines, over all imports.
    pub lines_malformed: u64,
}

/// The summary of the whole history, with the `top` most requested paths and the `top`
/// busiest user agents.
pub fn summary(db: &HoneyDb, top: usize) -> Result<Summary, DbError> {
    summary_in(db, &Window::all(), top)
}

/// The summary of the dates in `window`.
pub fn summary_in(db: &HoneyDb, window: &Window, top: usize) -> Result<Summary, DbError> {
    summary_inner(db, window, top).map_err(|e| classify(e, db.path()))
}

fn summary_inner(db: &HoneyDb, window: &Window, top: usize) -> rusqlite::Result<Summary> {
    let conn = db.connection();
    let (since, until) = window.bounds();
    // One scan of the fact table for every total.
    let (requests, days, first_date, last_date, clients, user_agents, paths): (
        i64,
        i64,
        Option<String>,
        Option<String>,
        i64,
        i64,
        i64,
    ) = conn.query_row(
        "SELECT coalesce(sum(count), 0), count(DISTINCT date), min(date), max(date), \
           CASE WHEN ?1 = '0000-00-00' AND ?2 = '9999-99-99' \
             THEN (SELECT count(*) FROM ips) \
             ELSE (SELECT count(*) FROM ips AS i WHERE EXISTS (SELECT 1 FROM daily_logs AS d \
                   WHERE d.ip_id = i.id AND d.date BETWEEN ?1 AND ?2)) END, \
           count(DISTINCT ua_id), \
           (SELECT count(DISTINCT path_id) FROM daily_paths WHERE date BETWEEN ?1 AND ?2) \
         FROM daily_agent_kinds WHERE date BETWEEN ?1 AND ?2",
        params![since, until],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        },
    )?;
    let lines_malformed: i64 = conn.query_row(
        "SELECT coalesce((SELECT value FROM kv_store WHERE key = 'lines_malformed'), 0)",
        [],
        |r| r.get(0),
    )?;
    let status_mix = conn
        .prepare(
            "SELECT status, sum(count) FROM daily_agent_kinds WHERE date BETWEEN ?1 AND ?2 \
             GROUP BY status ORDER BY status",
        )?
        .query_map(params![since, until], |r| {
            Ok(StatusCount {
                status: r.get(0)?,
                requests: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    let classes = conn
        .prepare(
            "SELECT coalesce(u.class, 'unclassified'), sum(s.n) FROM \
               (SELECT ua_id, sum(count) AS n FROM daily_agent_kinds WHERE date BETWEEN ?1 AND ?2 \
                GROUP BY ua_id) AS s JOIN user_agents u ON u.id = s.ua_id \
             GROUP BY 1 ORDER BY 2 DESC, 1",
        )?
        .query_map(params![since, until], |r| {
            Ok(ClassCount {
                class: r.get(0)?,
                requests: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    let top_paths = top_values(conn, window, "path_id", "daily_paths", "paths", top)?
        .into_iter()
        .map(|(path, requests)| PathCount { path, requests })
        .collect();
    let top_user_agents = top_values(
        conn,
        window,
        "ua_id",
        "daily_agent_kinds",
        "user_agents",
        top,
    )?
    .into_iter()
    .map(|(user_agent, requests)| UserAgentCount {
        user_agent,
        requests,
    })
    .collect();
    Ok(Summary {
        requests: requests as u64,
        days: days as u64,
        first_date,
        last_date,
        clients: clients as u64,
        user_agents: user_agents as u64,
        paths: paths as u64,
        status_mix,
        classes,
        top_paths,
        top_user_agents,
        lines_malformed: lines_malformed as u64,
    })
}

/// The `top` values of one dimension by requests, busiest first (ties by value).
/// `id_column`, `summary` and `table` are compile-time names from this module, never input.
fn top_values(
    conn: &rusqlite::Connection,
    window: &Window,
    id_column: &'static str,
    summary: &'static str,
    table: &'static str,
    top: usize,
) -> rusqlite::Result<Vec<(String, u64)>> {
    conn.prepare(&format!(
        "SELECT d.value, t.n FROM \
           (SELECT {id_column} AS id, sum(count) AS n FROM {summary} \
            WHERE date BETWEEN ?2 AND ?3 GROUP BY {id_column} \
            ORDER BY n DESC, {id_column} LIMIT ?1) AS t \
         JOIN {table} AS d ON d.id = t.id ORDER BY t.n DESC, d.value"
    ))?
    .query_map(
        params![top as i64, window.bounds().0, window.bounds().1],
        |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)),
    )?
    .collect()
}

//! The reports of `honeybot report` (and `honeybot demo`): typed rows from SQL over HoneyDB.
//!
//! Every report takes a [`Window`] of dates (`YYYY-MM-DD`, inclusive). The queries live in
//! `report/sql.rs`, written once for the reports (windowed) and for the schema's views
//! (`v_agents`, `v_ai`, `v_js`, ... over the whole history). Rows hold raw stored values:
//! whoever prints them to a terminal escapes them.

mod clients;
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
    let split = window.month_split();
    let bind = || rusqlite::params_from_iter(split.iter());
    let agent_kinds = sql::AGENT_KINDS_WINDOW;
    let (requests, first_date, last_date, user_agents): (i64, Option<String>, Option<String>, i64) =
        conn.query_row(
            &format!(
                "SELECT coalesce(sum(count), 0), min(first_date), max(last_date), \
                   count(DISTINCT ua_id) FROM ({agent_kinds}) WHERE count <> 0"
            ),
            bind(),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
    // Days with requests: one index seek per day.
    let mut days = 0_u64;
    let mut first = conn.prepare_cached(
        "SELECT min(date) FROM daily_agent_kinds WHERE date >= ?1 AND date <= ?2",
    )?;
    let mut next = conn
        .prepare_cached("SELECT min(date) FROM daily_agent_kinds WHERE date > ?1 AND date <= ?2")?;
    let mut day: Option<String> = first.query_row(params![since, until], |r| r.get(0))?;
    while let Some(d) = day {
        days += 1;
        day = next.query_row(params![d, until], |r| r.get(0))?;
    }
    let clients: i64 = if window.since().is_none() && window.until().is_none() {
        conn.query_row("SELECT count(*) FROM ips", [], |r| r.get(0))?
    } else {
        clients::distinct_clients(conn, window)?
    };
    let (paths, top_paths) = paths_in(conn, &split, top)?;
    let lines_malformed: i64 = conn.query_row(
        "SELECT coalesce((SELECT value FROM kv_store WHERE key = 'lines_malformed'), 0)",
        [],
        |r| r.get(0),
    )?;
    let status_mix = conn
        .prepare(&format!(
            "SELECT status, sum(count) AS n FROM ({agent_kinds}) \
             GROUP BY status HAVING n <> 0 ORDER BY status"
        ))?
        .query_map(bind(), |r| {
            Ok(StatusCount {
                status: r.get(0)?,
                requests: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    let by_agent: Vec<(i64, u64)> = conn
        .prepare(&format!(
            "SELECT ua_id, sum(count) AS n FROM ({agent_kinds}) GROUP BY ua_id HAVING n <> 0"
        ))?
        .query_map(bind(), |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
        .collect::<Result<_, _>>()?;
    let mut agent = conn.prepare_cached("SELECT value, class FROM user_agents WHERE id = ?1")?;
    let mut classes: Vec<ClassCount> = Vec::new();
    let mut agents: Vec<(String, u64)> = Vec::with_capacity(by_agent.len());
    for (id, n) in by_agent {
        let (value, class): (String, Option<String>) =
            agent.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let class = class.unwrap_or_else(|| "unclassified".to_owned());
        match classes.iter_mut().find(|c| c.class == class) {
            Some(c) => c.requests += n,
            None => classes.push(ClassCount { class, requests: n }),
        }
        agents.push((value, n));
    }
    classes.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.class.cmp(&b.class))
    });
    agents.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    agents.truncate(top);
    let top_user_agents = agents
        .into_iter()
        .map(|(user_agent, requests)| UserAgentCount {
            user_agent,
            requests,
        })
        .collect();
    Ok(Summary {
        requests: requests as u64,
        days,
        first_date,
        last_date,
        clients: clients as u64,
        user_agents: user_agents as u64,
        paths,
        status_mix,
        classes,
        top_paths,
        top_user_agents,
        lines_malformed: lines_malformed as u64,
    })
}

/// Distinct paths with requests in the window and the `top` most requested (ties: the
/// lower path id is kept, equal counts are listed by path). One pass over the window's
/// `(path, status)` rows, summed per path here: SQLite would sort them twice.
fn paths_in(
    conn: &rusqlite::Connection,
    split: &[String; 6],
    top: usize,
) -> rusqlite::Result<(u64, Vec<PathCount>)> {
    let mut per_path: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    let mut stmt = conn.prepare_cached(sql::PATHS_WINDOW)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(split.iter()))?;
    while let Some(r) = rows.next()? {
        *per_path.entry(r.get(0)?).or_default() += r.get::<_, i64>(2)?;
    }
    let mut ranked: Vec<(i64, i64)> = per_path.into_iter().filter(|p| p.1 != 0).collect();
    let paths = ranked.len() as u64;
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(top);
    let mut value = conn.prepare_cached("SELECT value FROM paths WHERE id = ?1")?;
    let mut top_paths = Vec::with_capacity(ranked.len());
    for (id, n) in ranked {
        top_paths.push(PathCount {
            path: value.query_row([id], |r| r.get(0))?,
            requests: n.max(0) as u64,
        });
    }
    top_paths.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok((paths, top_paths))
}

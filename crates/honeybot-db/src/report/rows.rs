//! The per-row reports: agents, ai, js, markdown, robots, 404, hostile, new, trends.

use std::collections::HashMap;

use rusqlite::{Connection, Row, params};

use super::Window;
use super::sql;
use crate::db::classify;
use crate::probe::probe_kind;
use crate::{DbError, HoneyDb};

/// One user agent's requests in the window (`report agents`; the view `v_agents`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AgentRow {
    pub user_agent: String,
    /// `ai-crawler`, `search`, `browser`, ... (None: written by an older release, not yet
    /// classified).
    pub class: Option<String>,
    pub operator: Option<String>,
    pub hits: u64,
    pub page_hits: u64,
    pub asset_hits: u64,
    pub robots_txt_hits: u64,
    pub llms_txt_hits: u64,
    pub markdown_hits: u64,
    pub feed_hits: u64,
    pub trap_hits: u64,
    pub beacon_hits: u64,
    pub probe_hits: u64,
    pub not_found_hits: u64,
    pub first_date: String,
    pub last_date: String,
}

/// An AI agent's requests (`report ai`; the view `v_ai`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AiRow {
    pub operator: Option<String>,
    pub user_agent: String,
    pub class: Option<String>,
    pub hits: u64,
    pub robots_txt_hits: u64,
    pub llms_txt_hits: u64,
    pub markdown_hits: u64,
    pub page_hits: u64,
    pub trap_hits: u64,
    pub beacon_hits: u64,
    pub first_date: String,
    pub last_date: String,
}

/// Who runs the JavaScript trap (`report js`; the view `v_js`). An agent with page hits and
/// no beacon is listed with `beacon_hits: 0`: evidence that it does not execute JavaScript.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JsRow {
    pub user_agent: String,
    pub class: Option<String>,
    pub operator: Option<String>,
    pub page_hits: u64,
    pub trap_hits: u64,
    pub beacon_hits: u64,
    /// Beacon hits per page hit (None without page hits).
    pub beacons_per_page: Option<f64>,
    /// At least one beacon hit: the agent executed the trap script.
    pub runs_javascript: bool,
}

/// Who asks for Markdown (`report markdown`; the view `v_markdown`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MarkdownRow {
    pub user_agent: String,
    pub class: Option<String>,
    pub operator: Option<String>,
    /// Requests whose `Accept` header named `text/markdown`.
    pub accept_markdown: u64,
    /// Requests nginx answered with a page's Markdown twin (`MarkdownServed:1`).
    pub markdown_served: u64,
    /// Requests for `.md` / `.markdown` URLs.
    pub md_url_hits: u64,
    pub llms_txt_hits: u64,
    pub hits: u64,
}

/// Who reads `robots.txt` (`report robots`; the view `v_robots`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RobotsRow {
    pub user_agent: String,
    pub class: Option<String>,
    pub operator: Option<String>,
    pub robots_txt_hits: u64,
    pub hits: u64,
    pub page_hits: u64,
    pub first_date: String,
    pub last_date: String,
}

/// A path answered 404 (`report 404`; the view `v_404`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotFoundRow {
    /// `probe` (exploit-probe noise, never worth a redirect) or `missing` (a real missing
    /// page: the janitor's input).
    pub category: &'static str,
    pub path: String,
    /// What the probe is after (`word-press`, `secrets`, ...), for probes.
    pub probe_kind: Option<&'static str>,
    pub hits: u64,
    pub first_date: String,
    pub last_date: String,
}

/// A client that asked for exploit-probe paths, and what else it asked for (`report
/// hostile`; the view `v_hostile` has the probe counts). `first_date`/`last_date` are those
/// of its probes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostileRow {
    /// The client address as stored (per the DB's IP mode).
    pub client: String,
    pub hits: u64,
    pub probe_hits: u64,
    pub other_hits: u64,
    /// Its busiest user agents (at most 3), busiest first.
    pub user_agents: Vec<String>,
    /// Its most requested probe paths (at most 5).
    pub probe_paths: Vec<String>,
    /// Its most requested paths that are not probes (at most 5).
    pub other_paths: Vec<String>,
    pub first_date: String,
    pub last_date: String,
}

/// A user agent, path or client first seen in the window (`report new`; the view
/// `v_first_seen`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewRow {
    /// `user_agent`, `path` or `client`.
    pub what: &'static str,
    pub value: String,
    /// The UTC date of its first request.
    pub first_date: String,
    /// For user agents its class, for paths its kind.
    pub class: Option<String>,
}

/// Requests of one class on one day (`report trends`; the view `v_trends`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TrendRow {
    pub date: String,
    pub class: String,
    pub hits: u64,
}

fn count(r: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(r.get::<_, Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
}

fn run<T>(db: &HoneyDb, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, DbError> {
    f(db.connection()).map_err(|e| classify(e, db.path()))
}

fn take<T>(mut rows: Vec<T>, limit: Option<usize>) -> Vec<T> {
    if let Some(n) = limit {
        rows.truncate(n);
    }
    rows
}

/// Every user agent with requests in the window, busiest first (`(ua_id, row)`).
fn all_agents(conn: &Connection, window: &Window) -> rusqlite::Result<Vec<(i64, AgentRow)>> {
    let split = window.month_split();
    conn.prepare_cached(sql::AGENTS)?
        .query_map(rusqlite::params_from_iter(split.iter()), |r| {
            Ok((
                r.get(16)?,
                AgentRow {
                    user_agent: r.get(0)?,
                    class: r.get(1)?,
                    operator: r.get(2)?,
                    hits: count(r, 3)?,
                    page_hits: count(r, 4)?,
                    asset_hits: count(r, 5)?,
                    robots_txt_hits: count(r, 6)?,
                    llms_txt_hits: count(r, 7)?,
                    markdown_hits: count(r, 8)?,
                    feed_hits: count(r, 9)?,
                    trap_hits: count(r, 10)?,
                    beacon_hits: count(r, 11)?,
                    probe_hits: count(r, 12)?,
                    not_found_hits: count(r, 13)?,
                    first_date: r.get(14)?,
                    last_date: r.get(15)?,
                },
            ))
        })?
        .collect()
}

/// User agents by requests in the window, busiest first.
pub fn agents(
    db: &HoneyDb,
    window: &Window,
    limit: Option<usize>,
) -> Result<Vec<AgentRow>, DbError> {
    run(db, |conn| {
        let rows = all_agents(conn, window)?
            .into_iter()
            .map(|(_, a)| a)
            .collect();
        Ok(take(rows, limit))
    })
}

fn is_ai(class: Option<&str>) -> bool {
    matches!(class, Some("ai-crawler" | "ai-assistant"))
}

/// AI crawlers and assistants, busiest first.
pub fn ai(db: &HoneyDb, window: &Window, limit: Option<usize>) -> Result<Vec<AiRow>, DbError> {
    run(db, |conn| {
        let rows = all_agents(conn, window)?
            .into_iter()
            .filter(|(_, a)| is_ai(a.class.as_deref()))
            .map(|(_, a)| AiRow {
                operator: a.operator,
                user_agent: a.user_agent,
                class: a.class,
                hits: a.hits,
                robots_txt_hits: a.robots_txt_hits,
                llms_txt_hits: a.llms_txt_hits,
                markdown_hits: a.markdown_hits,
                page_hits: a.page_hits,
                trap_hits: a.trap_hits,
                beacon_hits: a.beacon_hits,
                first_date: a.first_date,
                last_date: a.last_date,
            })
            .collect();
        Ok(take(rows, limit))
    })
}

/// Every agent that loaded pages, the trap or the beacon, by page hits; those without a
/// beacon hit included (`beacon_hits: 0`).
pub fn js(db: &HoneyDb, window: &Window, limit: Option<usize>) -> Result<Vec<JsRow>, DbError> {
    run(db, |conn| {
        let mut rows: Vec<JsRow> = all_agents(conn, window)?
            .into_iter()
            .filter(|(_, a)| a.page_hits > 0 || a.trap_hits > 0 || a.beacon_hits > 0)
            .map(|(_, a)| JsRow {
                beacons_per_page: (a.page_hits > 0)
                    .then(|| (a.beacon_hits as f64 / a.page_hits as f64 * 1000.0).round() / 1000.0),
                runs_javascript: a.beacon_hits > 0,
                user_agent: a.user_agent,
                class: a.class,
                operator: a.operator,
                page_hits: a.page_hits,
                trap_hits: a.trap_hits,
                beacon_hits: a.beacon_hits,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.page_hits
                .cmp(&a.page_hits)
                .then(b.beacon_hits.cmp(&a.beacon_hits))
                .then_with(|| a.user_agent.cmp(&b.user_agent))
        });
        Ok(take(rows, limit))
    })
}

/// Agents that asked for Markdown (by `Accept`, `.md` URLs or `llms.txt`), most Markdown
/// requests first.
pub fn markdown(
    db: &HoneyDb,
    window: &Window,
    limit: Option<usize>,
) -> Result<Vec<MarkdownRow>, DbError> {
    run(db, |conn| {
        let (since, until) = window.bounds();
        let accepts: std::collections::HashMap<i64, (u64, u64)> = conn
            .prepare_cached(sql::ACCEPTS)?
            .query_map(params![since, until], |r| {
                Ok((r.get(0)?, (count(r, 1)?, count(r, 2)?)))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut rows: Vec<MarkdownRow> = all_agents(conn, window)?
            .into_iter()
            .filter_map(|(id, a)| {
                let (accept_markdown, markdown_served) =
                    accepts.get(&id).copied().unwrap_or((0, 0));
                (accept_markdown > 0 || a.markdown_hits > 0 || a.llms_txt_hits > 0).then_some(
                    MarkdownRow {
                        user_agent: a.user_agent,
                        class: a.class,
                        operator: a.operator,
                        accept_markdown,
                        markdown_served,
                        md_url_hits: a.markdown_hits,
                        llms_txt_hits: a.llms_txt_hits,
                        hits: a.hits,
                    },
                )
            })
            .collect();
        let weight = |m: &MarkdownRow| m.accept_markdown + m.md_url_hits + m.llms_txt_hits;
        rows.sort_by(|a, b| {
            weight(b)
                .cmp(&weight(a))
                .then_with(|| a.user_agent.cmp(&b.user_agent))
        });
        Ok(take(rows, limit))
    })
}

/// Agents that fetched `robots.txt`, most fetches first.
pub fn robots(
    db: &HoneyDb,
    window: &Window,
    limit: Option<usize>,
) -> Result<Vec<RobotsRow>, DbError> {
    run(db, |conn| {
        let mut rows: Vec<RobotsRow> = all_agents(conn, window)?
            .into_iter()
            .filter(|(_, a)| a.robots_txt_hits > 0)
            .map(|(_, a)| RobotsRow {
                user_agent: a.user_agent,
                class: a.class,
                operator: a.operator,
                robots_txt_hits: a.robots_txt_hits,
                hits: a.hits,
                page_hits: a.page_hits,
                first_date: a.first_date,
                last_date: a.last_date,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.robots_txt_hits
                .cmp(&a.robots_txt_hits)
                .then_with(|| a.user_agent.cmp(&b.user_agent))
        });
        Ok(take(rows, limit))
    })
}

/// Paths answered 404, split into probe noise and real missing pages; `limit` applies to
/// each category. Missing pages first, each category by hits.
pub fn not_found(
    db: &HoneyDb,
    window: &Window,
    limit: Option<usize>,
) -> Result<Vec<NotFoundRow>, DbError> {
    run(db, |conn| {
        let split = window.month_split();
        let all: Vec<(String, Option<String>, u64, String, String)> = conn
            .prepare_cached(sql::NOT_FOUND)?
            .query_map(rusqlite::params_from_iter(split.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?, count(r, 2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let (mut missing, mut probes) = (Vec::new(), Vec::new());
        for (path, kind, hits, first_date, last_date) in all {
            // The one probe list decides; a stored kind of `probe` agrees with it.
            let probe = probe_kind(&path).map(|k| k.as_str());
            let is_probe = probe.is_some() || kind.as_deref() == Some("probe");
            let row = NotFoundRow {
                category: if is_probe { "probe" } else { "missing" },
                path,
                probe_kind: probe,
                hits,
                first_date,
                last_date,
            };
            if is_probe {
                probes.push(row)
            } else {
                missing.push(row)
            }
        }
        let mut rows = take(missing, limit);
        rows.extend(take(probes, limit));
        Ok(rows)
    })
}

/// Probe requests of one client in a window.
struct Probes {
    /// A sum of counts (a row of a deleted fact may hold a negative correction).
    hits: i64,
    first_date: String,
    last_date: String,
}

/// The clients with the most probe requests in the window (at most `limit`, ties by
/// address), most first: `(ip_id, row)` with the probe counts and dates filled in.
fn probing_clients(
    conn: &Connection,
    window: &Window,
    limit: Option<usize>,
) -> rusqlite::Result<Vec<(i64, HostileRow)>> {
    let split = window.month_split();
    let mut per_client: HashMap<i64, Probes> = HashMap::new();
    let mut stmt = conn.prepare_cached(sql::PROBES_WINDOW)?;
    let mut q = stmt.query(rusqlite::params_from_iter(split.iter()))?;
    while let Some(r) = q.next()? {
        let n = r.get::<_, i64>(1)?;
        let (first, last) = (r.get_ref(2)?.as_str()?, r.get_ref(3)?.as_str()?);
        match per_client.entry(r.get(0)?) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let p = e.get_mut();
                p.hits += n;
                if first < p.first_date.as_str() {
                    p.first_date = first.to_owned();
                }
                if last > p.last_date.as_str() {
                    p.last_date = last.to_owned();
                }
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Probes {
                    hits: n,
                    first_date: first.to_owned(),
                    last_date: last.to_owned(),
                });
            }
        }
    }
    let mut ranked: Vec<(i64, Probes)> =
        per_client.into_iter().filter(|(_, p)| p.hits > 0).collect();
    ranked.sort_by_key(|c| std::cmp::Reverse(c.1.hits));
    // Keep every client tied with the last one listed: the address breaks ties.
    if let Some(n) = limit {
        if let Some(cut) = ranked.get(n.saturating_sub(1)).map(|c| c.1.hits) {
            ranked.retain(|c| c.1.hits >= cut);
        }
        if n == 0 {
            ranked.clear();
        }
    }
    let mut value = conn.prepare_cached("SELECT value FROM ips WHERE id = ?1")?;
    let mut clients = Vec::with_capacity(ranked.len());
    for (ip_id, p) in ranked {
        clients.push((
            ip_id,
            HostileRow {
                client: value.query_row([ip_id], |r| r.get(0))?,
                hits: 0,
                probe_hits: p.hits as u64,
                other_hits: 0,
                user_agents: Vec::new(),
                probe_paths: Vec::new(),
                other_paths: Vec::new(),
                first_date: p.first_date,
                last_date: p.last_date,
            },
        ));
    }
    clients.sort_by(|a, b| {
        b.1.probe_hits
            .cmp(&a.1.probe_hits)
            .then_with(|| a.1.client.cmp(&b.1.client))
    });
    Ok(take(clients, limit))
}

/// Clients that asked for exploit-probe paths, most probes first, with their user agents
/// and what else they asked for.
pub fn hostile(
    db: &HoneyDb,
    window: &Window,
    limit: Option<usize>,
) -> Result<Vec<HostileRow>, DbError> {
    run(db, |conn| {
        let (since, until) = window.bounds();
        let clients = probing_clients(conn, window, limit)?;
        // One pass over each listed client's facts (`daily_logs_ip (ip_id, date)`; every
        // row costs a seek into the fact table for its count), grouped by path and agent;
        // paths and agents are looked up once each.
        let mut facts = conn.prepare_cached(
            "SELECT path_id, ua_id, sum(count) FROM daily_logs \
             WHERE ip_id = ?3 AND date BETWEEN ?1 AND ?2 GROUP BY path_id, ua_id",
        )?;
        let mut path_stmt = conn.prepare_cached("SELECT value, kind FROM paths WHERE id = ?1")?;
        let mut agent_stmt = conn.prepare_cached("SELECT value FROM user_agents WHERE id = ?1")?;
        let mut path_cache: HashMap<i64, (String, bool)> = HashMap::new();
        let mut agent_cache: HashMap<i64, String> = HashMap::new();
        let mut rows = Vec::with_capacity(clients.len());
        for (ip_id, mut row) in clients {
            let mut by_path: HashMap<i64, u64> = HashMap::new();
            let mut by_agent: HashMap<i64, u64> = HashMap::new();
            let mut q = facts.query(params![since, until, ip_id])?;
            while let Some(r) = q.next()? {
                let n = count(r, 2)?;
                *by_path.entry(r.get(0)?).or_default() += n;
                *by_agent.entry(r.get(1)?).or_default() += n;
            }
            let mut paths: Vec<(u64, &str, bool)> = Vec::with_capacity(by_path.len());
            for &id in by_path.keys() {
                if let std::collections::hash_map::Entry::Vacant(e) = path_cache.entry(id) {
                    let (value, kind): (String, Option<String>) =
                        path_stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    e.insert((value, kind.as_deref() == Some("probe")));
                }
            }
            for (id, n) in by_path {
                let (value, probe) = &path_cache[&id];
                paths.push((n, value, *probe));
            }
            // Most requested first, then by path (as the report always listed them).
            paths.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            for (n, value, probe) in paths {
                row.hits += n;
                if !probe {
                    row.other_hits += n;
                }
                let list = if probe {
                    &mut row.probe_paths
                } else {
                    &mut row.other_paths
                };
                if list.len() < 5 {
                    list.push(value.to_owned());
                }
            }
            let mut agents: Vec<(u64, &str)> = Vec::with_capacity(by_agent.len());
            for &id in by_agent.keys() {
                if let std::collections::hash_map::Entry::Vacant(e) = agent_cache.entry(id) {
                    e.insert(agent_stmt.query_row([id], |r| r.get(0))?);
                }
            }
            for (id, n) in by_agent {
                agents.push((n, &agent_cache[&id]));
            }
            agents.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            row.user_agents = agents.iter().take(3).map(|a| a.1.to_owned()).collect();
            rows.push(row);
        }
        Ok(rows)
    })
}

/// User agents, paths and clients whose first request falls in the window (UTC dates),
/// newest first; `limit` applies to each of the three.
pub fn new(db: &HoneyDb, window: &Window, limit: Option<usize>) -> Result<Vec<NewRow>, DbError> {
    run(db, |conn| {
        let (start, end) = window.unix_bounds();
        let (start, end) = (start.unwrap_or(i64::MIN), end.unwrap_or(i64::MAX));
        let limit_sql = limit.map_or(-1, |n| n as i64);
        let mut rows = Vec::new();
        for (what, sql) in [
            (
                "user_agent",
                "SELECT value, first_seen, class FROM user_agents \
                 WHERE first_seen >= ?1 AND first_seen < ?2 \
                 ORDER BY first_seen DESC, value LIMIT ?3",
            ),
            (
                "path",
                "SELECT value, first_seen, kind FROM paths \
                 WHERE first_seen >= ?1 AND first_seen < ?2 \
                 ORDER BY first_seen DESC, value LIMIT ?3",
            ),
            (
                "client",
                "SELECT value, first_seen, NULL FROM ips \
                 WHERE first_seen >= ?1 AND first_seen < ?2 \
                 ORDER BY first_seen DESC, value LIMIT ?3",
            ),
        ] {
            let mut stmt = conn.prepare_cached(sql)?;
            let found = stmt.query_map(params![start, end, limit_sql], |r| {
                Ok(NewRow {
                    what,
                    value: r.get(0)?,
                    first_date: super::window::date_of_unix(r.get(1)?),
                    class: r.get(2)?,
                })
            })?;
            for row in found {
                rows.push(row?);
            }
        }
        Ok(rows)
    })
}

/// Requests per day and user-agent class, oldest day first (classes by name).
pub fn trends(db: &HoneyDb, window: &Window) -> Result<Vec<TrendRow>, DbError> {
    run(db, |conn| {
        let (since, until) = window.bounds();
        // Agents are few beside their (day, agent) rows: each agent's class is looked up
        // once, and the rows of one day are summed per class before the next day starts.
        let mut class_of = conn.prepare_cached(
            "SELECT coalesce(class, 'unclassified') FROM user_agents WHERE id = ?1",
        )?;
        let mut class_index: HashMap<i64, usize> = HashMap::new();
        let mut classes: Vec<String> = Vec::new();
        let mut day: Option<String> = None;
        let mut hits: Vec<i64> = Vec::new();
        let mut out = Vec::new();
        let flush =
            |day: &str, hits: &mut Vec<i64>, classes: &[String], out: &mut Vec<TrendRow>| {
                let mut rows: Vec<TrendRow> = hits
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n != 0)
                    .map(|(i, n)| TrendRow {
                        date: day.to_owned(),
                        class: classes[i].clone(),
                        hits: (*n).max(0) as u64,
                    })
                    .collect();
                rows.sort_by(|a, b| a.class.cmp(&b.class));
                out.extend(rows);
                hits.iter_mut().for_each(|n| *n = 0);
            };
        let mut stmt = conn.prepare_cached(sql::TRENDS)?;
        let mut q = stmt.query(params![since, until])?;
        while let Some(r) = q.next()? {
            let date = r.get_ref(0)?.as_str()?;
            if day.as_deref() != Some(date) {
                if let Some(d) = &day {
                    flush(d, &mut hits, &classes, &mut out);
                }
                day = Some(date.to_owned());
            }
            let ua_id: i64 = r.get(1)?;
            let index = match class_index.get(&ua_id) {
                Some(&i) => i,
                None => {
                    let class: String = class_of.query_row([ua_id], |r| r.get(0))?;
                    let i = match classes.iter().position(|c| *c == class) {
                        Some(i) => i,
                        None => {
                            classes.push(class);
                            hits.push(0);
                            classes.len() - 1
                        }
                    };
                    class_index.insert(ua_id, i);
                    i
                }
            };
            hits[index] += r.get::<_, i64>(2)?;
        }
        if let Some(d) = &day {
            flush(d, &mut hits, &classes, &mut out);
        }
        Ok(out)
    })
}

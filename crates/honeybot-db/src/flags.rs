//! Behaviour flags beside the class: what a user agent (or a client address) did, computed
//! from the stored path kinds by one grouped scan of `daily_logs` — joins, no string scans.
//!
//! - fetched `robots.txt` (`robots_txt_hits > 0`);
//! - hit exploit probes (`probe_hits > 0`, paths of [`crate::probe`]);
//! - never loads an asset (page hits but no asset hit: no stylesheet, image or script);
//! - ran the JavaScript trap (`beacon_hits > 0`).
//!
//! Not computed yet (an idea noted for a verified-bot check): a client that claims a known
//! crawler's name (`class` from the table, e.g. `Googlebot`) from an address range that is not
//! its operator's. That needs the operators' published ranges or reverse DNS, and `full` IP
//! mode.

use rusqlite::params;

use crate::db::classify;
use crate::{DbError, HoneyDb};

/// Requests of one user agent (or client) by path kind, within a date window.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Behaviour {
    /// `user_agents.id` or `ips.id`.
    pub id: i64,
    /// The user agent or the client address, as stored.
    pub value: String,
    /// The user agent's class and operator (for a client: those of its busiest user agent).
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
}

impl Behaviour {
    /// Asked for `/robots.txt`.
    pub fn fetched_robots_txt(&self) -> bool {
        self.robots_txt_hits > 0
    }

    /// Asked for at least one exploit-probe path.
    pub fn hit_probes(&self) -> bool {
        self.probe_hits > 0
    }

    /// Loaded pages but never an asset (stylesheet, image, script, font).
    pub fn never_loads_assets(&self) -> bool {
        self.page_hits > 0 && self.asset_hits == 0 && self.trap_hits == 0
    }

    /// Requested the trap's beacon: it executed the trap script.
    pub fn runs_javascript(&self) -> bool {
        self.beacon_hits > 0
    }
}

/// The per-kind sums; `{key}` is `ua_id` or `ip_id` (compile-time constants only).
macro_rules! behaviour_sql {
    ($key:literal, $table:literal, $class:literal) => {
        concat!(
            "SELECT t.id, t.value, ",
            $class,
            ", \
               s.hits, s.page, s.asset, s.robots, s.llms, s.markdown, s.feed, s.trap, s.beacon, s.probe \
             FROM (SELECT d.",
            $key,
            " AS id, sum(d.count) AS hits, \
                 sum(CASE p.kind WHEN 'page' THEN d.count ELSE 0 END) AS page, \
                 sum(CASE p.kind WHEN 'asset' THEN d.count ELSE 0 END) AS asset, \
                 sum(CASE p.kind WHEN 'robots' THEN d.count ELSE 0 END) AS robots, \
                 sum(CASE p.kind WHEN 'llms' THEN d.count ELSE 0 END) AS llms, \
                 sum(CASE p.kind WHEN 'markdown' THEN d.count ELSE 0 END) AS markdown, \
                 sum(CASE p.kind WHEN 'feed' THEN d.count ELSE 0 END) AS feed, \
                 sum(CASE p.kind WHEN 'trap' THEN d.count ELSE 0 END) AS trap, \
                 sum(CASE p.kind WHEN 'beacon' THEN d.count ELSE 0 END) AS beacon, \
                 sum(CASE p.kind WHEN 'probe' THEN d.count ELSE 0 END) AS probe \
               FROM daily_logs d JOIN paths p ON p.id = d.path_id \
               WHERE (?1 IS NULL OR d.date >= ?1) AND (?2 IS NULL OR d.date <= ?2) \
               GROUP BY d.",
            $key,
            ") AS s JOIN ",
            $table,
            " AS t ON t.id = s.id ORDER BY s.hits DESC, t.value"
        )
    };
}

/// Per user agent: SQL with `?1` = first date or NULL, `?2` = last date or NULL
/// (`YYYY-MM-DD`, inclusive). Columns as in [`Behaviour`].
pub const AGENT_BEHAVIOUR_SQL: &str = behaviour_sql!("ua_id", "user_agents", "t.class, t.operator");

/// Per client address, with the class and operator of its busiest user agent.
pub const CLIENT_BEHAVIOUR_SQL: &str = behaviour_sql!(
    "ip_id",
    "ips",
    "(SELECT u.class FROM daily_logs d2 JOIN user_agents u ON u.id = d2.ua_id \
       WHERE d2.ip_id = t.id GROUP BY d2.ua_id ORDER BY sum(d2.count) DESC LIMIT 1), \
     (SELECT u.operator FROM daily_logs d2 JOIN user_agents u ON u.id = d2.ua_id \
       WHERE d2.ip_id = t.id GROUP BY d2.ua_id ORDER BY sum(d2.count) DESC LIMIT 1)"
);

/// What every user agent did between `since` and `until` (inclusive `YYYY-MM-DD`, `None` =
/// open), busiest first.
pub fn agents(
    db: &HoneyDb,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<Vec<Behaviour>, DbError> {
    query(db, AGENT_BEHAVIOUR_SQL, since, until)
}

/// What every client address did between `since` and `until`, busiest first.
pub fn clients(
    db: &HoneyDb,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<Vec<Behaviour>, DbError> {
    query(db, CLIENT_BEHAVIOUR_SQL, since, until)
}

fn query(
    db: &HoneyDb,
    sql: &str,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<Vec<Behaviour>, DbError> {
    let run = || -> rusqlite::Result<Vec<Behaviour>> {
        let n = |r: &rusqlite::Row<'_>, i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
        db.connection()
            .prepare_cached(sql)?
            .query_map(params![since, until], |r| {
                Ok(Behaviour {
                    id: r.get(0)?,
                    value: r.get(1)?,
                    class: r.get(2)?,
                    operator: r.get(3)?,
                    hits: n(r, 4)?,
                    page_hits: n(r, 5)?,
                    asset_hits: n(r, 6)?,
                    robots_txt_hits: n(r, 7)?,
                    llms_txt_hits: n(r, 8)?,
                    markdown_hits: n(r, 9)?,
                    feed_hits: n(r, 10)?,
                    trap_hits: n(r, 11)?,
                    beacon_hits: n(r, 12)?,
                    probe_hits: n(r, 13)?,
                })
            })?
            .collect()
    };
    run().map_err(|e| classify(e, db.path()))
}

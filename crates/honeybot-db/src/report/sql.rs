//! The report queries, written once as macros over a date filter: the reports bind a window
//! (`date BETWEEN ?1 AND ?2`, a range of the summary tables' primary keys), the schema's
//! views (`v_agents`, `v_ai`, ...) are the same text over the whole history (filter `1`).
//! They read the summary tables of [`super::summaries`], never the per-client fact table,
//! except `hostile`'s per-client details. Only compile-time literals go into these macros;
//! values are always bound.

/// Per user agent: requests by path kind and 404s.
/// Columns: user_agent, class, operator, hits, page_hits, asset_hits, robots_txt_hits,
/// llms_txt_hits, markdown_hits, feed_hits, trap_hits, beacon_hits, probe_hits,
/// not_found_hits, first_date, last_date, ua_id.
macro_rules! agents_sql {
    ($source:expr) => {
        concat!(
            "SELECT u.value AS user_agent, u.class AS class, u.operator AS operator, \
               s.hits AS hits, s.page AS page_hits, s.asset AS asset_hits, \
               s.robots AS robots_txt_hits, s.llms AS llms_txt_hits, \
               s.markdown AS markdown_hits, s.feed AS feed_hits, s.trap AS trap_hits, \
               s.beacon AS beacon_hits, s.probe AS probe_hits, s.nf AS not_found_hits, \
               s.first_date AS first_date, s.last_date AS last_date, u.id AS ua_id \
             FROM (SELECT k.ua_id AS ua_id, sum(k.count) AS hits, \
                 sum(CASE k.kind WHEN 'page' THEN k.count ELSE 0 END) AS page, \
                 sum(CASE k.kind WHEN 'asset' THEN k.count ELSE 0 END) AS asset, \
                 sum(CASE k.kind WHEN 'robots' THEN k.count ELSE 0 END) AS robots, \
                 sum(CASE k.kind WHEN 'llms' THEN k.count ELSE 0 END) AS llms, \
                 sum(CASE k.kind WHEN 'markdown' THEN k.count ELSE 0 END) AS markdown, \
                 sum(CASE k.kind WHEN 'feed' THEN k.count ELSE 0 END) AS feed, \
                 sum(CASE k.kind WHEN 'trap' THEN k.count ELSE 0 END) AS trap, \
                 sum(CASE k.kind WHEN 'beacon' THEN k.count ELSE 0 END) AS beacon, \
                 sum(CASE k.kind WHEN 'probe' THEN k.count ELSE 0 END) AS probe, \
                 sum(CASE k.status WHEN 404 THEN k.count ELSE 0 END) AS nf, \
                 min(k.first_date) AS first_date, max(k.last_date) AS last_date \
               FROM (",
            $source,
            ") AS k GROUP BY k.ua_id) AS s \
             JOIN user_agents u ON u.id = s.ua_id"
        )
    };
}

/// Per user agent: requests whose `Accept` asked for Markdown, and how many of them nginx
/// answered with a Markdown twin (`MarkdownServed:1`; nginx serves a twin only to those). Columns: ua_id, accept_markdown,
/// markdown_served.
macro_rules! accepts_sql {
    ($filter:literal) => {
        concat!(
            "SELECT a.ua_id AS ua_id, sum(a.count) AS accept_markdown, \
               sum(CASE WHEN a.markdown_served = '1' THEN a.count ELSE 0 END) AS markdown_served \
             FROM accept_values v JOIN daily_accepts a ON a.accept_id = v.id \
             WHERE v.value LIKE '%text/markdown%' AND ",
            $filter,
            " GROUP BY a.ua_id"
        )
    };
}

/// As [`accepts_sql`], in the shape that lets SQLite seek `daily_accepts_accept (accept_id,
/// date)` for the few `Accept` values that name Markdown (the join form scans every
/// `daily_accepts` row of the window: 450 k on the benchmark's year). Revision 4's
/// `v_accepts` and the `markdown` report.
macro_rules! accepts_indexed_sql {
    ($filter:literal) => {
        concat!(
            "SELECT a.ua_id AS ua_id, sum(a.count) AS accept_markdown, \
               sum(CASE WHEN a.markdown_served = '1' THEN a.count ELSE 0 END) AS markdown_served \
             FROM daily_accepts a \
             WHERE a.accept_id IN \
               (SELECT id FROM accept_values WHERE value LIKE '%text/markdown%') AND ",
            $filter,
            " GROUP BY a.ua_id"
        )
    };
}

/// Per path answered 404: hits, first and last date. Columns: path, kind, hits,
/// first_date, last_date.
macro_rules! not_found_sql {
    ($source:expr) => {
        concat!(
            "SELECT p.value AS path, p.kind AS kind, s.hits AS hits, \
               s.first_date AS first_date, s.last_date AS last_date \
             FROM (SELECT n.path_id AS path_id, sum(n.count) AS hits, \
                 min(n.first_date) AS first_date, max(n.last_date) AS last_date \
               FROM (",
            $source,
            ") AS n GROUP BY n.path_id) AS s \
             JOIN paths p ON p.id = s.path_id"
        )
    };
}

/// Per client that asked for exploit-probe paths: probe hits, first and last probe date.
/// Columns: client, probe_hits, first_date, last_date, ip_id.
macro_rules! hostile_sql {
    ($source:expr) => {
        concat!(
            "SELECT i.value AS client, s.probe AS probe_hits, \
               s.first_date AS first_date, s.last_date AS last_date, i.id AS ip_id \
             FROM (SELECT c.ip_id AS ip_id, sum(c.count) AS probe, \
                 min(c.first_date) AS first_date, max(c.last_date) AS last_date \
               FROM (",
            $source,
            ") AS c GROUP BY c.ip_id HAVING probe > 0) AS s \
             JOIN ips i ON i.id = s.ip_id"
        )
    };
}

/// Requests per day and user-agent class (`unclassified`: written by an older release).
/// Columns: date, class, hits.
macro_rules! trends_sql {
    ($filter:literal) => {
        concat!(
            "SELECT k.date AS date, coalesce(u.class, 'unclassified') AS class, \
               sum(k.n) AS hits \
             FROM (SELECT date, ua_id, sum(count) AS n FROM daily_agent_kinds WHERE ",
            $filter,
            " GROUP BY date, ua_id) AS k JOIN user_agents u ON u.id = k.ua_id \
             GROUP BY k.date, coalesce(u.class, 'unclassified')"
        )
    };
}

/// Requests per day and user-agent class from `daily_agents` (revision 4: one row per day
/// and agent, where [`trends_sql`] sums `daily_agent_kinds`, one row per day, agent, kind
/// and status). Columns: date, class, hits.
macro_rules! trends_daily_agents_sql {
    ($filter:literal) => {
        concat!(
            "SELECT k.date AS date, coalesce(u.class, 'unclassified') AS class, \
               sum(k.count) AS hits \
             FROM daily_agents k JOIN user_agents u ON u.id = k.ua_id WHERE ",
            $filter,
            " GROUP BY k.date, coalesce(u.class, 'unclassified') HAVING sum(k.count) <> 0"
        )
    };
}

/// Rows `(ua_id, kind, status, count, first_date, last_date)` of a window: its whole months
/// (`?5`..`?6`, `YYYY-MM`) from `monthly_agent_kinds`, its partial edge months day by day
/// (`?1`..`?2` and `?3`..`?4`); see `Window::month_split`.
macro_rules! agent_kinds_window {
    () => {
        "SELECT ua_id, kind, status, count, date AS first_date, date AS last_date \
           FROM daily_agent_kinds WHERE date BETWEEN ?1 AND ?2 \
         UNION ALL SELECT ua_id, kind, status, count, date, date \
           FROM daily_agent_kinds WHERE date BETWEEN ?3 AND ?4 \
         UNION ALL SELECT ua_id, kind, status, count, first_date, last_date \
           FROM monthly_agent_kinds WHERE month BETWEEN ?5 AND ?6"
    };
}
/// As a constant, for the summary.
pub(crate) const AGENT_KINDS_WINDOW: &str = agent_kinds_window!();

pub(crate) const AGENTS: &str = concat!(
    agents_sql!(agent_kinds_window!()),
    " ORDER BY s.hits DESC, u.value"
);
pub(crate) const ACCEPTS: &str = accepts_indexed_sql!("a.date BETWEEN ?1 AND ?2");
/// `(path_id, count, first_date, last_date)` of 404 answers in a window (as above).
macro_rules! not_found_window {
    () => {
        "SELECT path_id, count, date AS first_date, date AS last_date \
           FROM daily_paths WHERE status = 404 AND date BETWEEN ?1 AND ?2 \
         UNION ALL SELECT path_id, count, date, date \
           FROM daily_paths WHERE status = 404 AND date BETWEEN ?3 AND ?4 \
         UNION ALL SELECT path_id, count, first_date, last_date \
           FROM monthly_paths WHERE status = 404 AND month BETWEEN ?5 AND ?6"
    };
}

/// `(ip_id, count, first_date, last_date)` of probe requests in a window (as above).
macro_rules! probes_window {
    () => {
        "SELECT ip_id, count, date AS first_date, date AS last_date \
           FROM daily_client_probes WHERE date BETWEEN ?1 AND ?2 \
         UNION ALL SELECT ip_id, count, date, date \
           FROM daily_client_probes WHERE date BETWEEN ?3 AND ?4 \
         UNION ALL SELECT ip_id, count, first_date, last_date \
           FROM monthly_client_probes WHERE month BETWEEN ?5 AND ?6"
    };
}

/// `(path_id, status, count)` of every request in a window (as above).
/// (The statuses come first in the keys: `status IN (...)` lets the day ranges seek.)
pub(crate) const PATHS_WINDOW: &str = "SELECT path_id, status, count FROM daily_paths \
       WHERE status IN (SELECT DISTINCT status FROM monthly_paths) AND date BETWEEN ?1 AND ?2 \
     UNION ALL SELECT path_id, status, count FROM daily_paths \
       WHERE status IN (SELECT DISTINCT status FROM monthly_paths) AND date BETWEEN ?3 AND ?4 \
     UNION ALL SELECT path_id, status, count FROM monthly_paths \
       WHERE month BETWEEN ?5 AND ?6";

pub(crate) const NOT_FOUND: &str = concat!(
    not_found_sql!(not_found_window!()),
    " ORDER BY s.hits DESC, p.value"
);
/// The probe rows of a window, summed per client by the `hostile` report itself (a hash
/// map over ~100 k rows a year is several times faster than SQLite's sorter for the
/// `GROUP BY` and `ORDER BY` of [`hostile_sql`]).
pub(crate) const PROBES_WINDOW: &str = probes_window!();
/// The rows of `trends` in key order; the report maps agents to classes (the view
/// `v_trends` does the same in SQL).
pub(crate) const TRENDS: &str =
    "SELECT date, ua_id, count FROM daily_agents WHERE date BETWEEN ?1 AND ?2";

/// Schema revision 3's views: the report queries over the whole history (released: this
/// text is never edited; revision 4 replaces `v_trends` and `v_accepts`, see
/// [`views_v4_sql`]).
macro_rules! views_sql {
    () => {
        concat!(
            "CREATE VIEW v_agents AS ",
            $crate::report::sql::agents_sql!(
                "SELECT ua_id, kind, status, count, first_date, last_date FROM monthly_agent_kinds"
            ),
            ";\n",
            "CREATE VIEW v_ai AS SELECT operator, user_agent, class, hits, robots_txt_hits, \
               llms_txt_hits, markdown_hits, page_hits, trap_hits, beacon_hits, first_date, \
               last_date FROM v_agents WHERE class IN ('ai-crawler', 'ai-assistant');\n",
            "CREATE VIEW v_js AS SELECT user_agent, class, operator, page_hits, trap_hits, \
               beacon_hits, round(CAST(beacon_hits AS REAL) / nullif(page_hits, 0), 3) \
                 AS beacons_per_page \
             FROM v_agents WHERE page_hits > 0 OR trap_hits > 0 OR beacon_hits > 0;\n",
            "CREATE VIEW v_robots AS SELECT user_agent, class, operator, robots_txt_hits, hits, \
               page_hits, first_date, last_date FROM v_agents WHERE robots_txt_hits > 0;\n",
            "CREATE VIEW v_accepts AS ",
            $crate::report::sql::accepts_sql!("1"),
            ";\n",
            "CREATE VIEW v_markdown AS SELECT g.user_agent, g.class, g.operator, \
               coalesce(a.accept_markdown, 0) AS accept_markdown, \
               coalesce(a.markdown_served, 0) AS markdown_served, \
               g.markdown_hits AS md_url_hits, g.llms_txt_hits, g.hits \
             FROM v_agents g LEFT JOIN v_accepts a ON a.ua_id = g.ua_id \
             WHERE a.accept_markdown > 0 OR g.markdown_hits > 0 OR g.llms_txt_hits > 0;\n",
            "CREATE VIEW v_404 AS SELECT CASE kind WHEN 'probe' THEN 'probe' ELSE 'missing' END \
               AS category, * FROM (",
            $crate::report::sql::not_found_sql!(
                "SELECT path_id, count, first_date, last_date FROM monthly_paths WHERE status = 404"
            ),
            ");\n",
            "CREATE VIEW v_hostile AS ",
            $crate::report::sql::hostile_sql!(
                "SELECT ip_id, count, first_date, last_date FROM monthly_client_probes"
            ),
            ";\n",
            "CREATE VIEW v_trends AS ",
            $crate::report::sql::trends_sql!("1"),
            ";\n",
            "CREATE VIEW v_first_seen AS \
               SELECT 'user_agent' AS what, value, date(first_seen, 'unixepoch') AS first_date \
                 FROM user_agents \
               UNION ALL SELECT 'path', value, date(first_seen, 'unixepoch') FROM paths \
               UNION ALL SELECT 'client', value, date(first_seen, 'unixepoch') FROM ips;\n",
        )
    };
}
/// Revision 4's views: `v_trends` and `v_accepts` in the reports' new shapes (revision 3's
/// text stays as it was released, above).
macro_rules! views_v4_sql {
    () => {
        concat!(
            "DROP VIEW v_trends;\n",
            "CREATE VIEW v_trends AS ",
            $crate::report::sql::trends_daily_agents_sql!("1"),
            ";\n",
            "DROP VIEW v_accepts;\n",
            "CREATE VIEW v_accepts AS ",
            $crate::report::sql::accepts_indexed_sql!("1"),
            ";\n",
        )
    };
}
pub(crate) use {
    accepts_indexed_sql, accepts_sql, agents_sql, hostile_sql, not_found_sql,
    trends_daily_agents_sql, trends_sql, views_sql, views_v4_sql,
};

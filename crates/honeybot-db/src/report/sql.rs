//! The report queries, written once as macros over a date filter: the reports bind a window
//! (`d.date BETWEEN ?1 AND ?2`, which the primary key of `daily_logs` serves as a range), the
//! schema's views (`v_agents`, `v_ai`, ...) are the same text over the whole history.
//! Only compile-time literals go into these macros; values are always bound.

/// Per user agent: requests by path kind, 404s and distinct clients.
/// Columns: user_agent, class, operator, hits, page_hits, asset_hits, robots_txt_hits,
/// llms_txt_hits, markdown_hits, feed_hits, trap_hits, beacon_hits, probe_hits,
/// not_found_hits, clients, first_date, last_date, ua_id.
macro_rules! agents_sql {
    ($filter:literal) => {
        concat!(
            "SELECT u.value AS user_agent, u.class AS class, u.operator AS operator, \
               s.hits AS hits, s.page AS page_hits, s.asset AS asset_hits, \
               s.robots AS robots_txt_hits, s.llms AS llms_txt_hits, \
               s.markdown AS markdown_hits, s.feed AS feed_hits, s.trap AS trap_hits, \
               s.beacon AS beacon_hits, s.probe AS probe_hits, s.nf AS not_found_hits, \
               s.clients AS clients, s.first_date AS first_date, s.last_date AS last_date, \
               u.id AS ua_id \
             FROM (SELECT d.ua_id AS ua_id, sum(d.count) AS hits, \
                 sum(CASE p.kind WHEN 'page' THEN d.count ELSE 0 END) AS page, \
                 sum(CASE p.kind WHEN 'asset' THEN d.count ELSE 0 END) AS asset, \
                 sum(CASE p.kind WHEN 'robots' THEN d.count ELSE 0 END) AS robots, \
                 sum(CASE p.kind WHEN 'llms' THEN d.count ELSE 0 END) AS llms, \
                 sum(CASE p.kind WHEN 'markdown' THEN d.count ELSE 0 END) AS markdown, \
                 sum(CASE p.kind WHEN 'feed' THEN d.count ELSE 0 END) AS feed, \
                 sum(CASE p.kind WHEN 'trap' THEN d.count ELSE 0 END) AS trap, \
                 sum(CASE p.kind WHEN 'beacon' THEN d.count ELSE 0 END) AS beacon, \
                 sum(CASE p.kind WHEN 'probe' THEN d.count ELSE 0 END) AS probe, \
                 sum(CASE d.status WHEN 404 THEN d.count ELSE 0 END) AS nf, \
                 count(DISTINCT d.ip_id) AS clients, min(d.date) AS first_date, \
                 max(d.date) AS last_date \
               FROM daily_logs d JOIN paths p ON p.id = d.path_id \
               WHERE ",
            $filter,
            " GROUP BY d.ua_id) AS s \
             JOIN user_agents u ON u.id = s.ua_id"
        )
    };
}

/// Per user agent: requests whose `Accept` asked for Markdown, and how many of them nginx
/// answered with a Markdown twin (`MarkdownServed:1`). Columns: ua_id, accept_markdown,
/// markdown_served.
macro_rules! accepts_sql {
    ($filter:literal) => {
        concat!(
            "SELECT a.ua_id AS ua_id, \
               sum(CASE WHEN v.value LIKE '%text/markdown%' THEN a.count ELSE 0 END) \
                 AS accept_markdown, \
               sum(CASE WHEN a.markdown_served = '1' THEN a.count ELSE 0 END) AS markdown_served \
             FROM daily_accepts a JOIN accept_values v ON v.id = a.accept_id \
             WHERE ",
            $filter,
            " GROUP BY a.ua_id"
        )
    };
}

/// Per path answered 404: hits, distinct clients, first and last date.
/// Columns: path, kind, hits, clients, first_date, last_date.
macro_rules! not_found_sql {
    ($filter:literal) => {
        concat!(
            "SELECT p.value AS path, p.kind AS kind, s.hits AS hits, s.clients AS clients, \
               s.first_date AS first_date, s.last_date AS last_date \
             FROM (SELECT d.path_id AS path_id, sum(d.count) AS hits, \
                 count(DISTINCT d.ip_id) AS clients, min(d.date) AS first_date, \
                 max(d.date) AS last_date \
               FROM daily_logs d WHERE d.status = 404 AND ",
            $filter,
            " GROUP BY d.path_id) AS s \
             JOIN paths p ON p.id = s.path_id"
        )
    };
}

/// Per client that asked for at least one exploit-probe path: hits, probe hits, other
/// hits, distinct user agents and paths. Columns: client, hits, probe_hits, other_hits,
/// user_agents, paths, first_date, last_date, ip_id.
macro_rules! hostile_sql {
    ($filter:literal) => {
        concat!(
            "SELECT i.value AS client, s.hits AS hits, s.probe AS probe_hits, \
               s.hits - s.probe AS other_hits, s.uas AS user_agents, s.paths AS paths, \
               s.first_date AS first_date, s.last_date AS last_date, i.id AS ip_id \
             FROM (SELECT d.ip_id AS ip_id, sum(d.count) AS hits, \
                 sum(CASE p.kind WHEN 'probe' THEN d.count ELSE 0 END) AS probe, \
                 count(DISTINCT d.ua_id) AS uas, count(DISTINCT d.path_id) AS paths, \
                 min(d.date) AS first_date, max(d.date) AS last_date \
               FROM daily_logs d JOIN paths p ON p.id = d.path_id \
               WHERE ",
            $filter,
            " GROUP BY d.ip_id HAVING probe > 0) AS s \
             JOIN ips i ON i.id = s.ip_id"
        )
    };
}

/// Requests per day and user-agent class (NULL class = not yet classified).
/// Columns: date, class, hits, clients.
macro_rules! trends_sql {
    ($filter:literal) => {
        concat!(
            "SELECT d.date AS date, coalesce(u.class, 'unclassified') AS class, \
               sum(d.count) AS hits \
             FROM daily_logs d JOIN user_agents u ON u.id = d.ua_id \
             WHERE ",
            $filter,
            " GROUP BY d.date, u.class"
        )
    };
}

pub(crate) const AGENTS: &str = concat!(
    agents_sql!("d.date BETWEEN ?1 AND ?2"),
    " ORDER BY s.hits DESC, u.value"
);
pub(crate) const ACCEPTS: &str = accepts_sql!("a.date BETWEEN ?1 AND ?2");
pub(crate) const NOT_FOUND: &str = concat!(
    not_found_sql!("d.date BETWEEN ?1 AND ?2"),
    " ORDER BY s.hits DESC, p.value"
);
pub(crate) const HOSTILE: &str = concat!(
    hostile_sql!("d.date BETWEEN ?1 AND ?2"),
    " ORDER BY s.probe DESC, s.hits DESC, i.value LIMIT ?3"
);
pub(crate) const TRENDS: &str = concat!(
    trends_sql!("d.date BETWEEN ?1 AND ?2"),
    " ORDER BY d.date, u.class"
);

/// Schema revision 3: the report views, over the whole history. Additive (views only), so
/// an older program keeps running on the file.
macro_rules! views_sql {
    () => {
        concat!(
    "CREATE VIEW v_agents AS ",
    $crate::report::sql::agents_sql!("1"),
    ";\n",
    "CREATE VIEW v_ai AS SELECT operator, user_agent, class, hits, robots_txt_hits, \
       llms_txt_hits, markdown_hits, page_hits, trap_hits, beacon_hits, first_date, last_date \
     FROM v_agents WHERE class IN ('ai-crawler', 'ai-assistant');\n",
    "CREATE VIEW v_js AS SELECT user_agent, class, operator, page_hits, trap_hits, beacon_hits, \
       round(CAST(beacon_hits AS REAL) / nullif(page_hits, 0), 3) AS beacons_per_page \
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
    $crate::report::sql::not_found_sql!("1"),
    ");\n",
    "CREATE VIEW v_hostile AS ",
    $crate::report::sql::hostile_sql!("1"),
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
pub(crate) use {accepts_sql, agents_sql, hostile_sql, not_found_sql, trends_sql, views_sql};

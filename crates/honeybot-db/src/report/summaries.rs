//! Summary tables of the reports, kept by triggers on `daily_logs` (so every writer keeps
//! them, the previous release included):
//!
//! - `daily_agent_kinds (date, ua_id, kind, status, count)`: requests per day, user agent,
//!   path kind (`''` while a path is unclassified) and status; the agent reports, `trends`
//!   and the summary's mixes read it instead of the fact table (a few thousand rows a day
//!   instead of one per client and path);
//! - `monthly_agent_kinds (month, ua_id, kind, status, count, first_date, last_date)`: the
//!   same per month, kept by triggers on `daily_agent_kinds`; a window reads whole months
//!   here and only its partial edge months day by day;
//! - `daily_paths (status, date, path_id, count)`: requests per status, day and path; the
//!   `404` report and the summary's top paths;
//! - `daily_client_probes (date, ip_id, count)`: exploit-probe requests per day and client;
//!   the `hostile` report;
//! - `monthly_paths`, `monthly_client_probes`: the monthly roll-ups of the two above.
//!
//! Revision 4 adds two more (`summaries_v4_sql!`):
//!
//! - `daily_agents (date, ua_id, count)`: requests per day and user agent, kept by triggers
//!   on `daily_agent_kinds` (its roll-up over kinds and statuses); `trends` reads it (one
//!   row per day and agent instead of one per day, agent, kind and status);
//! - `yearly_clients (year, ip_id, m01 .. m12)`: the days each client made a request, one
//!   row per year and client, one bit per day in the column of its month (bit 0 = the 1st),
//!   kept by triggers on `daily_logs` (the insert trigger runs only for a client's first
//!   fact of a day, found by a seek beside the row just written); the summary's distinct
//!   `clients` of a bounded window read it (one row per client of the years the window
//!   touches, whatever its length: a count of distinct addresses cannot be added up from
//!   per-day counts). See [`super::clients`].
//!
//! A path's kind lives in `paths`, so when a kind changes (reclassification, a new trap
//! path) a trigger marks the summaries stale (`kv_store` key [`STALE_KEY`]); the next
//! writer that brings the file up to date rebuilds them in the same transaction
//! ([`refresh_if_stale`]), and until then the reports read the fact table (correct, slower).

use rusqlite::{Connection, OptionalExtension};

/// `kv_store` key present while the summary tables must be rebuilt.
pub const STALE_KEY: &str = "report_summaries_stale";

macro_rules! summaries_sql {
    () => {
        "CREATE TABLE daily_agent_kinds (
    date   TEXT    NOT NULL,
    ua_id  INTEGER NOT NULL REFERENCES user_agents(id),
    kind   TEXT    NOT NULL,
    status INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (date, ua_id, kind, status)
) WITHOUT ROWID;
CREATE TABLE monthly_agent_kinds (
    month      TEXT    NOT NULL,
    ua_id      INTEGER NOT NULL REFERENCES user_agents(id),
    kind       TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    first_date TEXT    NOT NULL,
    last_date  TEXT    NOT NULL,
    PRIMARY KEY (month, ua_id, kind, status)
) WITHOUT ROWID;
CREATE TRIGGER daily_agent_kinds_monthly_insert AFTER INSERT ON daily_agent_kinds BEGIN
    INSERT INTO monthly_agent_kinds (month, ua_id, kind, status, count, first_date, last_date)
    VALUES (substr(NEW.date, 1, 7), NEW.ua_id, NEW.kind, NEW.status, NEW.count, NEW.date, NEW.date)
    ON CONFLICT (month, ua_id, kind, status) DO UPDATE SET count = count + excluded.count,
        first_date = min(first_date, excluded.first_date),
        last_date = max(last_date, excluded.last_date);
END;
CREATE TRIGGER daily_agent_kinds_monthly_update AFTER UPDATE OF count ON daily_agent_kinds BEGIN
    UPDATE monthly_agent_kinds SET count = count + NEW.count - OLD.count
     WHERE month = substr(NEW.date, 1, 7) AND ua_id = NEW.ua_id AND kind = NEW.kind
       AND status = NEW.status;
END;
CREATE TRIGGER daily_agent_kinds_monthly_delete AFTER DELETE ON daily_agent_kinds BEGIN
    UPDATE monthly_agent_kinds SET count = count - OLD.count
     WHERE month = substr(OLD.date, 1, 7) AND ua_id = OLD.ua_id AND kind = OLD.kind
       AND status = OLD.status;
END;
CREATE TABLE daily_paths (
    status  INTEGER NOT NULL,
    date    TEXT    NOT NULL,
    path_id INTEGER NOT NULL REFERENCES paths(id),
    count   INTEGER NOT NULL,
    PRIMARY KEY (status, date, path_id)
) WITHOUT ROWID;
CREATE TABLE daily_client_probes (
    date  TEXT    NOT NULL,
    ip_id INTEGER NOT NULL REFERENCES ips(id),
    count INTEGER NOT NULL,
    PRIMARY KEY (date, ip_id)
) WITHOUT ROWID;
CREATE TABLE monthly_paths (
    status  INTEGER NOT NULL,
    month   TEXT    NOT NULL,
    path_id INTEGER NOT NULL REFERENCES paths(id),
    count   INTEGER NOT NULL,
    first_date TEXT NOT NULL,
    last_date  TEXT NOT NULL,
    PRIMARY KEY (status, month, path_id)
) WITHOUT ROWID;
CREATE TRIGGER daily_paths_monthly_insert AFTER INSERT ON daily_paths BEGIN
    INSERT INTO monthly_paths (status, month, path_id, count, first_date, last_date)
    VALUES (NEW.status, substr(NEW.date, 1, 7), NEW.path_id, NEW.count, NEW.date, NEW.date)
    ON CONFLICT (status, month, path_id) DO UPDATE SET count = count + excluded.count,
        first_date = min(first_date, excluded.first_date),
        last_date = max(last_date, excluded.last_date);
END;
CREATE TRIGGER daily_paths_monthly_update AFTER UPDATE OF count ON daily_paths BEGIN
    UPDATE monthly_paths SET count = count + NEW.count - OLD.count
     WHERE status = NEW.status AND month = substr(NEW.date, 1, 7) AND path_id = NEW.path_id;
END;
CREATE TRIGGER daily_paths_monthly_delete AFTER DELETE ON daily_paths BEGIN
    UPDATE monthly_paths SET count = count - OLD.count
     WHERE status = OLD.status AND month = substr(OLD.date, 1, 7) AND path_id = OLD.path_id;
END;
CREATE TABLE monthly_client_probes (
    month      TEXT    NOT NULL,
    ip_id      INTEGER NOT NULL REFERENCES ips(id),
    count      INTEGER NOT NULL,
    first_date TEXT    NOT NULL,
    last_date  TEXT    NOT NULL,
    PRIMARY KEY (month, ip_id)
) WITHOUT ROWID;
CREATE TRIGGER daily_client_probes_monthly_insert AFTER INSERT ON daily_client_probes BEGIN
    INSERT INTO monthly_client_probes (month, ip_id, count, first_date, last_date)
    VALUES (substr(NEW.date, 1, 7), NEW.ip_id, NEW.count, NEW.date, NEW.date)
    ON CONFLICT (month, ip_id) DO UPDATE SET count = count + excluded.count,
        first_date = min(first_date, excluded.first_date),
        last_date = max(last_date, excluded.last_date);
END;
CREATE TRIGGER daily_client_probes_monthly_update AFTER UPDATE OF count ON daily_client_probes BEGIN
    UPDATE monthly_client_probes SET count = count + NEW.count - OLD.count
     WHERE month = substr(NEW.date, 1, 7) AND ip_id = NEW.ip_id;
END;
CREATE TRIGGER daily_client_probes_monthly_delete AFTER DELETE ON daily_client_probes BEGIN
    UPDATE monthly_client_probes SET count = count - OLD.count
     WHERE month = substr(OLD.date, 1, 7) AND ip_id = OLD.ip_id;
END;
CREATE INDEX daily_accepts_accept ON daily_accepts (accept_id, date);
CREATE TRIGGER daily_logs_summaries_insert AFTER INSERT ON daily_logs BEGIN
    INSERT INTO daily_agent_kinds (date, ua_id, kind, status, count)
    VALUES (NEW.date, NEW.ua_id,
            coalesce((SELECT kind FROM paths WHERE id = NEW.path_id), ''), NEW.status, NEW.count)
    ON CONFLICT (date, ua_id, kind, status) DO UPDATE SET count = count + excluded.count;
    INSERT INTO daily_paths (date, path_id, status, count)
    VALUES (NEW.date, NEW.path_id, NEW.status, NEW.count)
    ON CONFLICT (status, date, path_id) DO UPDATE SET count = count + excluded.count;
END;
CREATE TRIGGER daily_logs_probes_insert AFTER INSERT ON daily_logs
WHEN (SELECT kind FROM paths WHERE id = NEW.path_id) = 'probe' BEGIN
    INSERT INTO daily_client_probes (date, ip_id, count) VALUES (NEW.date, NEW.ip_id, NEW.count)
    ON CONFLICT (date, ip_id) DO UPDATE SET count = count + excluded.count;
END;
CREATE TRIGGER daily_logs_probes_update AFTER UPDATE OF count ON daily_logs
WHEN (SELECT kind FROM paths WHERE id = NEW.path_id) = 'probe' BEGIN
    INSERT INTO daily_client_probes (date, ip_id, count)
    VALUES (NEW.date, NEW.ip_id, NEW.count - OLD.count)
    ON CONFLICT (date, ip_id) DO UPDATE SET count = count + excluded.count;
END;
CREATE TRIGGER daily_logs_probes_delete AFTER DELETE ON daily_logs
WHEN (SELECT kind FROM paths WHERE id = OLD.path_id) = 'probe' BEGIN
    UPDATE daily_client_probes SET count = count - OLD.count
     WHERE date = OLD.date AND ip_id = OLD.ip_id;
END;
CREATE TRIGGER daily_logs_summaries_update AFTER UPDATE OF count ON daily_logs BEGIN
    INSERT INTO daily_agent_kinds (date, ua_id, kind, status, count)
    VALUES (NEW.date, NEW.ua_id,
            coalesce((SELECT kind FROM paths WHERE id = NEW.path_id), ''), NEW.status,
            NEW.count - OLD.count)
    ON CONFLICT (date, ua_id, kind, status) DO UPDATE SET count = count + excluded.count;
    INSERT INTO daily_paths (date, path_id, status, count)
    VALUES (NEW.date, NEW.path_id, NEW.status, NEW.count - OLD.count)
    ON CONFLICT (status, date, path_id) DO UPDATE SET count = count + excluded.count;
END;
CREATE TRIGGER daily_logs_summaries_delete AFTER DELETE ON daily_logs BEGIN
    UPDATE daily_agent_kinds SET count = count - OLD.count
     WHERE date = OLD.date AND ua_id = OLD.ua_id AND status = OLD.status
       AND kind = coalesce((SELECT kind FROM paths WHERE id = OLD.path_id), '');
    UPDATE daily_paths SET count = count - OLD.count
     WHERE date = OLD.date AND path_id = OLD.path_id AND status = OLD.status;
END;
CREATE TRIGGER paths_kind_summaries_stale AFTER UPDATE OF kind ON paths
WHEN OLD.kind IS NOT NEW.kind BEGIN
    INSERT INTO kv_store (key, value, updated_at)
    VALUES ('report_summaries_stale', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    ON CONFLICT (key) DO NOTHING;
END;
INSERT INTO kv_store (key, value, updated_at)
VALUES ('report_summaries_stale', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
ON CONFLICT (key) DO NOTHING;
"
    };
}
pub(crate) use summaries_sql;

/// Revision 4's summaries (see the module documentation) and their backfill.
macro_rules! summaries_v4_sql {
    () => {
        "CREATE TABLE daily_agents (
    date  TEXT    NOT NULL,
    ua_id INTEGER NOT NULL REFERENCES user_agents(id),
    count INTEGER NOT NULL,
    PRIMARY KEY (date, ua_id)
) WITHOUT ROWID;
CREATE TRIGGER daily_agent_kinds_agents_insert AFTER INSERT ON daily_agent_kinds BEGIN
    INSERT INTO daily_agents (date, ua_id, count) VALUES (NEW.date, NEW.ua_id, NEW.count)
    ON CONFLICT (date, ua_id) DO UPDATE SET count = count + excluded.count;
END;
CREATE TRIGGER daily_agent_kinds_agents_update AFTER UPDATE OF count ON daily_agent_kinds BEGIN
    UPDATE daily_agents SET count = count + NEW.count - OLD.count
     WHERE date = NEW.date AND ua_id = NEW.ua_id;
END;
CREATE TRIGGER daily_agent_kinds_agents_delete AFTER DELETE ON daily_agent_kinds BEGIN
    UPDATE daily_agents SET count = count - OLD.count WHERE date = OLD.date AND ua_id = OLD.ua_id;
END;
INSERT INTO daily_agents (date, ua_id, count)
    SELECT date, ua_id, sum(count) FROM daily_agent_kinds GROUP BY date, ua_id;
CREATE TABLE yearly_clients (
    year  INTEGER NOT NULL,
    ip_id INTEGER NOT NULL REFERENCES ips(id),
    m01 INTEGER NOT NULL DEFAULT 0,
    m02 INTEGER NOT NULL DEFAULT 0,
    m03 INTEGER NOT NULL DEFAULT 0,
    m04 INTEGER NOT NULL DEFAULT 0,
    m05 INTEGER NOT NULL DEFAULT 0,
    m06 INTEGER NOT NULL DEFAULT 0,
    m07 INTEGER NOT NULL DEFAULT 0,
    m08 INTEGER NOT NULL DEFAULT 0,
    m09 INTEGER NOT NULL DEFAULT 0,
    m10 INTEGER NOT NULL DEFAULT 0,
    m11 INTEGER NOT NULL DEFAULT 0,
    m12 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (year, ip_id)
) WITHOUT ROWID;
CREATE TRIGGER daily_logs_clients_insert AFTER INSERT ON daily_logs
WHEN NOT EXISTS (SELECT 1 FROM daily_logs WHERE date = NEW.date AND ip_id = NEW.ip_id
                   AND (ua_id, path_id, status) <> (NEW.ua_id, NEW.path_id, NEW.status)) BEGIN
    INSERT INTO yearly_clients (year, ip_id, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10,
                                m11, m12)
    SELECT y, NEW.ip_id, (m = 1) * b, (m = 2) * b, (m = 3) * b, (m = 4) * b, (m = 5) * b,
           (m = 6) * b, (m = 7) * b, (m = 8) * b, (m = 9) * b, (m = 10) * b, (m = 11) * b,
           (m = 12) * b
      FROM (SELECT CAST(substr(NEW.date, 1, 4) AS INTEGER) AS y,
                   CAST(substr(NEW.date, 6, 2) AS INTEGER) AS m,
                   1 << (CAST(substr(NEW.date, 9, 2) AS INTEGER) - 1) AS b)
     WHERE true
    ON CONFLICT (year, ip_id) DO UPDATE SET
        m01 = m01 | excluded.m01, m02 = m02 | excluded.m02, m03 = m03 | excluded.m03,
        m04 = m04 | excluded.m04, m05 = m05 | excluded.m05, m06 = m06 | excluded.m06,
        m07 = m07 | excluded.m07, m08 = m08 | excluded.m08, m09 = m09 | excluded.m09,
        m10 = m10 | excluded.m10, m11 = m11 | excluded.m11, m12 = m12 | excluded.m12
     WHERE ((m01 & excluded.m01) | (m02 & excluded.m02) | (m03 & excluded.m03)
          | (m04 & excluded.m04) | (m05 & excluded.m05) | (m06 & excluded.m06)
          | (m07 & excluded.m07) | (m08 & excluded.m08) | (m09 & excluded.m09)
          | (m10 & excluded.m10) | (m11 & excluded.m11) | (m12 & excluded.m12)) = 0;
END;
CREATE TRIGGER daily_logs_clients_delete AFTER DELETE ON daily_logs
WHEN NOT EXISTS (SELECT 1 FROM daily_logs WHERE date = OLD.date AND ip_id = OLD.ip_id) BEGIN
    UPDATE yearly_clients SET
        m01 = m01 & ~((k.m = 1) * k.b), m02 = m02 & ~((k.m = 2) * k.b),
        m03 = m03 & ~((k.m = 3) * k.b), m04 = m04 & ~((k.m = 4) * k.b),
        m05 = m05 & ~((k.m = 5) * k.b), m06 = m06 & ~((k.m = 6) * k.b),
        m07 = m07 & ~((k.m = 7) * k.b), m08 = m08 & ~((k.m = 8) * k.b),
        m09 = m09 & ~((k.m = 9) * k.b), m10 = m10 & ~((k.m = 10) * k.b),
        m11 = m11 & ~((k.m = 11) * k.b), m12 = m12 & ~((k.m = 12) * k.b)
      FROM (SELECT CAST(substr(OLD.date, 6, 2) AS INTEGER) AS m,
                   1 << (CAST(substr(OLD.date, 9, 2) AS INTEGER) - 1) AS b) AS k
     WHERE year = CAST(substr(OLD.date, 1, 4) AS INTEGER) AND ip_id = OLD.ip_id;
END;
INSERT INTO yearly_clients (year, ip_id, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11,
                            m12)
    SELECT CAST(substr(date, 1, 4) AS INTEGER), ip_id, (m = 1) * b, (m = 2) * b, (m = 3) * b,
           (m = 4) * b, (m = 5) * b, (m = 6) * b, (m = 7) * b, (m = 8) * b, (m = 9) * b,
           (m = 10) * b, (m = 11) * b, (m = 12) * b
      FROM (SELECT ip_id, date, CAST(substr(date, 6, 2) AS INTEGER) AS m,
                   1 << (CAST(substr(date, 9, 2) AS INTEGER) - 1) AS b
              FROM (SELECT DISTINCT ip_id, date FROM daily_logs))
     WHERE true
    ON CONFLICT (year, ip_id) DO UPDATE SET
        m01 = m01 | excluded.m01, m02 = m02 | excluded.m02, m03 = m03 | excluded.m03,
        m04 = m04 | excluded.m04, m05 = m05 | excluded.m05, m06 = m06 | excluded.m06,
        m07 = m07 | excluded.m07, m08 = m08 | excluded.m08, m09 = m09 | excluded.m09,
        m10 = m10 | excluded.m10, m11 = m11 | excluded.m11, m12 = m12 | excluded.m12;
"
    };
}
pub(crate) use summaries_v4_sql;

/// Whether the summary tables match the fact table (else the reports read `daily_logs`).
pub(crate) fn fresh(conn: &Connection) -> rusqlite::Result<bool> {
    let stale: Option<i64> = conn
        .query_row("SELECT 1 FROM kv_store WHERE key = ?1", [STALE_KEY], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(stale.is_none())
}

/// Rebuilds the summary tables from `daily_logs` when they are marked stale (inside the
/// writer's transaction). Returns whether it rebuilt them.
pub(crate) fn refresh_if_stale(conn: &Connection) -> rusqlite::Result<bool> {
    if fresh(conn)? {
        return Ok(false);
    }
    // The roll-ups of `daily_agent_kinds` (monthly, per agent) follow it through their own
    // triggers. `yearly_clients` depends on the facts alone: it is never stale.
    conn.execute_batch(
        "DELETE FROM daily_agents;
         DELETE FROM monthly_agent_kinds;
         DELETE FROM monthly_paths;
         DELETE FROM monthly_client_probes;
         DELETE FROM daily_agent_kinds;
         DELETE FROM daily_paths;
         DELETE FROM daily_client_probes;
         INSERT INTO daily_agent_kinds (date, ua_id, kind, status, count)
           SELECT d.date, d.ua_id, coalesce(p.kind, ''), d.status, sum(d.count)
           FROM daily_logs d JOIN paths p ON p.id = d.path_id
           GROUP BY d.date, d.ua_id, coalesce(p.kind, ''), d.status;
         INSERT INTO daily_paths (status, date, path_id, count)
           SELECT status, date, path_id, sum(count) FROM daily_logs
           GROUP BY status, date, path_id;
         INSERT INTO daily_client_probes (date, ip_id, count)
           SELECT d.date, d.ip_id, sum(d.count)
           FROM daily_logs d JOIN paths p ON p.id = d.path_id WHERE p.kind = 'probe'
           GROUP BY d.date, d.ip_id;",
    )?;
    conn.execute("DELETE FROM kv_store WHERE key = ?1", [STALE_KEY])?;
    Ok(true)
}

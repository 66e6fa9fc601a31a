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
    // The monthly roll-up follows `daily_agent_kinds` through its own triggers.
    conn.execute_batch(
        "DELETE FROM monthly_agent_kinds;
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

//! Schema and rollback-safe migrations.
//!
//! Two numbers describe a database:
//! - its **revision**: which steps of [`REVISIONS`] were applied (recorded, one row each, in
//!   `schema_revisions`; a file without that table but with `user_version = 1` is at revision 1);
//! - its **compatibility level**, kept in `PRAGMA user_version`: the lowest level a program must
//!   support to read AND write the file. Additive steps (new tables, new nullable columns,
//!   indexes) keep the level, so the previous release, which only checks `user_version`, keeps
//!   running on a migrated file (`nixos-rebuild switch --rollback`). A step that an older
//!   program could not write correctly raises it.
//!
//! A program refuses only a file whose level is above its own [`SCHEMA_VERSION`]; it applies
//! the steps it knows and the file lacks, and leaves steps of a newer program alone.
//! Released steps are never edited (see docs/schema.md).

use rusqlite::{Connection, OptionalExtension};

/// The compatibility level this build reads and writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// The newest schema revision this build applies.
pub const SCHEMA_REVISION: i64 = REVISIONS[REVISIONS.len() - 1].revision;

/// The revisions this build applies, in order (numbers may skip one that another branch
/// of development reserved).
pub fn schema_revisions() -> impl Iterator<Item = i64> {
    REVISIONS.iter().map(|r| r.revision)
}

/// `PRAGMA application_id` of a HoneyDB file (ASCII `HnyB`). Files written before revision 2
/// have 0 and are recognised by their tables.
pub const APPLICATION_ID: i32 = 0x486E_7942;

/// One migration step.
#[derive(Debug)]
pub(crate) struct Revision {
    pub(crate) revision: i64,
    /// The compatibility level a program needs once this step is applied.
    pub(crate) compat: i64,
    pub(crate) sql: &'static str,
}

pub(crate) const REVISIONS: &[Revision] = &[
    // 1: the first schema (released as `user_version = 1`).
    Revision {
        revision: 1,
        compat: 1,
        sql: V1,
    },
    // 2: classification, path kinds, the recent-requests ring, the revision log. Additive:
    // the revision-1 program inserts rows without the new columns (left NULL, filled in by
    // the next writer of this revision) and never writes the ring.
    Revision {
        revision: 2,
        compat: 1,
        sql: V2,
    },
    // 3: the report views (`v_agents`, `v_ai`, `v_js`, ...; the text is the reports' own
    // queries, see report/sql.rs), the summary tables and triggers of report/summaries.rs, and
    // the index the per-client reports need. Additive: the triggers keep the summaries
    // whichever release writes.
    Revision {
        revision: 3,
        compat: 1,
        sql: V3,
    },
    // 4: two more report summaries (report/summaries.rs: `daily_agents` for `trends`,
    // `yearly_clients` for the distinct clients of a window), backfilled here, and the views
    // `v_trends` and `v_accepts` in the reports' new shapes. Additive: the triggers keep the
    // new tables whichever release writes.
    Revision {
        revision: 4,
        compat: 1,
        sql: V4,
    },
    // 5: the summary triggers on `daily_logs` stand aside for a commit that writes the
    // summaries itself, once per batch (see rollup.rs); kind changes are counted. Additive:
    // every other writer, the revision-1 program included, still fires the triggers.
    Revision {
        revision: 5,
        compat: 1,
        sql: crate::rollup::V5,
    },
];

const V3: &str = concat!(
    "CREATE INDEX daily_logs_ip ON daily_logs (ip_id, date);\n",
    crate::report::summaries::summaries_sql!(),
    crate::report::sql::views_sql!()
);

const V4: &str = concat!(
    crate::report::summaries::summaries_v4_sql!(),
    crate::report::sql::views_v4_sql!()
);
/// Tables every HoneyDB file has since revision 1: how a file without an application id is
/// recognised.
pub(crate) const V1_TABLES: &[&str] = &[
    "ips",
    "user_agents",
    "paths",
    "referrers",
    "accept_values",
    "daily_logs",
    "daily_referrers",
    "daily_accepts",
    "kv_store",
    "import_cursors",
    "redirects",
];

const V1: &str = r#"
CREATE TABLE ips (
    id         INTEGER PRIMARY KEY,
    value      TEXT NOT NULL UNIQUE,
    first_seen INTEGER NOT NULL
);
CREATE TABLE user_agents (
    id         INTEGER PRIMARY KEY,
    value      TEXT NOT NULL UNIQUE,
    first_seen INTEGER NOT NULL
);
CREATE TABLE paths (
    id         INTEGER PRIMARY KEY,
    value      TEXT NOT NULL UNIQUE,
    first_seen INTEGER NOT NULL
);
CREATE TABLE referrers (
    id         INTEGER PRIMARY KEY,
    value      TEXT NOT NULL UNIQUE,
    first_seen INTEGER NOT NULL
);
CREATE TABLE accept_values (
    id         INTEGER PRIMARY KEY,
    value      TEXT NOT NULL UNIQUE,
    first_seen INTEGER NOT NULL
);
CREATE TABLE daily_logs (
    date    TEXT    NOT NULL,
    ip_id   INTEGER NOT NULL REFERENCES ips(id),
    ua_id   INTEGER NOT NULL REFERENCES user_agents(id),
    path_id INTEGER NOT NULL REFERENCES paths(id),
    status  INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (date, ip_id, ua_id, path_id, status)
) WITHOUT ROWID;
CREATE TABLE daily_referrers (
    date        TEXT    NOT NULL,
    path_id     INTEGER NOT NULL REFERENCES paths(id),
    referrer_id INTEGER NOT NULL REFERENCES referrers(id),
    count       INTEGER NOT NULL,
    PRIMARY KEY (date, path_id, referrer_id)
) WITHOUT ROWID;
CREATE TABLE daily_accepts (
    date            TEXT    NOT NULL,
    ua_id           INTEGER NOT NULL REFERENCES user_agents(id),
    accept_id       INTEGER NOT NULL REFERENCES accept_values(id),
    markdown_served TEXT    NOT NULL,
    count           INTEGER NOT NULL,
    PRIMARY KEY (date, ua_id, accept_id, markdown_served)
) WITHOUT ROWID;
CREATE TABLE kv_store (
    key        TEXT PRIMARY KEY,
    value      NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE import_cursors (
    fingerprint TEXT PRIMARY KEY,
    prefix_len  INTEGER NOT NULL,
    offset      INTEGER NOT NULL,
    lines       INTEGER NOT NULL,
    path        TEXT,
    dev         INTEGER,
    inode       INTEGER,
    updated_at  TEXT NOT NULL
);
CREATE TABLE redirects (
    id         INTEGER PRIMARY KEY,
    from_path  TEXT NOT NULL UNIQUE,
    to_path    TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('lexical', 'llm', 'manual')),
    state      TEXT NOT NULL CHECK (state IN ('proposed', 'active', 'rejected', 'retired')),
    score      REAL,
    note       TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"#;

const V2: &str = r#"
CREATE TABLE schema_revisions (
    revision   INTEGER PRIMARY KEY,
    compat     INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    program    TEXT NOT NULL
);
ALTER TABLE user_agents ADD COLUMN class TEXT;
ALTER TABLE user_agents ADD COLUMN operator TEXT;
ALTER TABLE user_agents ADD COLUMN class_rule TEXT;
ALTER TABLE paths ADD COLUMN kind TEXT;
CREATE INDEX user_agents_unclassified ON user_agents (id) WHERE class IS NULL;
CREATE INDEX paths_unkinded ON paths (id) WHERE kind IS NULL;
CREATE TABLE recent_requests (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    ts       INTEGER NOT NULL,
    ip       TEXT    NOT NULL,
    ua_id    INTEGER NOT NULL REFERENCES user_agents(id),
    path_id  INTEGER NOT NULL REFERENCES paths(id),
    method   TEXT,
    status   INTEGER NOT NULL,
    bytes    INTEGER,
    referrer TEXT
);
"#;

/// What [`inspect`] found in a file before anything is written to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// No table at all (a new or empty file).
    Empty { user_version: i64 },
    /// A HoneyDB file (by application id, or by its tables).
    HoneyDb { user_version: i64 },
}

/// Why a file is not opened.
#[derive(Debug)]
pub(crate) enum MigrateError {
    /// Its compatibility level is above [`SCHEMA_VERSION`].
    TooNew(i64),
    /// It is an SQLite file of another application (the reason, one line).
    Foreign(String),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// Reads (never writes) what the file is: refuses another application's file and a file
/// whose compatibility level is above this build's, before anything is changed.
pub(crate) fn inspect(conn: &Connection) -> Result<Found, MigrateError> {
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )?;
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let found = if application_id == APPLICATION_ID {
        Found::HoneyDb { user_version }
    } else if application_id != 0 {
        return Err(MigrateError::Foreign(format!(
            "it belongs to another application (application_id {application_id:#010x})"
        )));
    } else if tables.is_empty() {
        Found::Empty { user_version }
    } else if user_version >= 1 && V1_TABLES.iter().all(|t| tables.iter().any(|n| n == t)) {
        Found::HoneyDb { user_version }
    } else {
        return Err(MigrateError::Foreign(format!(
            "it holds {} table(s) of another application",
            tables.len()
        )));
    };
    let (Found::Empty { user_version } | Found::HoneyDb { user_version }) = found;
    if user_version > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(user_version));
    }
    Ok(found)
}

/// The revision a file is at: the newest recorded one, 1 for a file of the first release,
/// 0 for an empty file.
pub(crate) fn revision(conn: &Connection) -> rusqlite::Result<i64> {
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if user_version == 0 {
        return Ok(0);
    }
    let has_log: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_revisions')",
        [],
        |r| r.get(0),
    )?;
    if !has_log {
        return Ok(1);
    }
    Ok(conn
        .query_row("SELECT max(revision) FROM schema_revisions", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .optional()?
        .flatten()
        .unwrap_or(1))
}

/// Applies, inside `tx`, every step this build knows that the file lacks, records them, sets
/// the compatibility level (never lowers it) and the application id. Returns the revision
/// found. The caller has [`inspect`]ed the file; the level is checked again inside the
/// transaction (another program may have migrated it meanwhile).
pub(crate) fn migrate(tx: &rusqlite::Transaction<'_>) -> Result<i64, MigrateError> {
    let user_version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if user_version > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(user_version));
    }
    let found = revision(tx)?;
    let mut level = user_version;
    for step in REVISIONS.iter().filter(|s| s.revision > found) {
        tx.execute_batch(step.sql)?;
        level = level.max(step.compat);
    }
    if found < SCHEMA_REVISION {
        let program = concat!("honeybot-db ", env!("CARGO_PKG_VERSION"));
        let mut record = tx.prepare(
            "INSERT INTO schema_revisions (revision, compat, applied_at, program) \
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?3) \
             ON CONFLICT (revision) DO NOTHING",
        )?;
        for step in REVISIONS {
            // Steps applied before the log existed are recorded as found.
            let by = if step.revision > found {
                program
            } else {
                "earlier release"
            };
            record.execute(rusqlite::params![step.revision, step.compat, by])?;
        }
    }
    if level != user_version {
        // PRAGMA takes no bound parameters; the value is our own constant.
        tx.execute_batch(&format!("PRAGMA user_version = {level}"))?;
    }
    let application_id: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if application_id != APPLICATION_ID {
        tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file at revision 3 (this build's first three steps, as released), with facts the
    /// previous release wrote: the revision-3 triggers kept its summaries.
    fn revision_3_file() -> Connection {
        let mut conn = Connection::open_in_memory().expect("open");
        let tx = conn.transaction().expect("tx");
        for step in &REVISIONS[..3] {
            tx.execute_batch(step.sql).expect("step");
        }
        // Recorded as a writer of revision 3 leaves it (its summaries rebuilt: not stale).
        tx.execute_batch(
            "INSERT INTO schema_revisions VALUES (1, 1, '2026-12-01T00:00:00Z', 'earlier release'),
               (2, 1, '2026-12-01T00:00:00Z', 'earlier release'),
               (3, 1, '2026-12-01T00:00:00Z', 'earlier release');
             PRAGMA user_version = 1;
             DELETE FROM kv_store;
             INSERT INTO ips VALUES (1, '192.0.2.1', 0), (2, '192.0.2.2', 0);
             INSERT INTO user_agents (id, value, first_seen, class) VALUES
               (1, 'curl/8', 0, 'script'), (2, 'GPTBot', 0, 'ai-crawler');
             INSERT INTO paths (id, value, first_seen, kind) VALUES (1, '/', 0, 'page'),
               (2, '/.env', 0, 'probe');
             INSERT INTO daily_logs VALUES
               ('2025-12-31', 1, 1, 1, 200, 2), ('2026-01-01', 1, 1, 1, 200, 1),
               ('2026-01-01', 1, 2, 2, 404, 4), ('2026-01-01', 2, 2, 1, 200, 3),
               ('2026-02-28', 2, 1, 1, 200, 1), ('2026-03-31', 2, 2, 1, 200, 5);",
        )
        .expect("revision-3 data");
        tx.commit().expect("commit");
        assert_eq!(revision(&conn).expect("revision"), 3);
        conn
    }

    fn rows(conn: &Connection, sql: &str) -> Vec<String> {
        conn.prepare(sql)
            .expect(sql)
            .query_map([], |r| r.get(0))
            .expect(sql)
            .collect::<Result<_, _>>()
            .expect(sql)
    }

    #[test]
    fn revision_4_backfills_its_summaries_from_a_revision_3_file_and_keeps_them() {
        let mut conn = revision_3_file();
        let tx = conn.transaction().expect("tx");
        assert_eq!(migrate(&tx).expect("migrate"), 3);
        tx.commit().expect("commit");
        assert_eq!(revision(&conn).expect("revision"), SCHEMA_REVISION);
        let agents = "SELECT date || ' ' || ua_id || ' ' || count FROM daily_agents ORDER BY 1";
        assert_eq!(
            rows(&conn, agents),
            [
                "2025-12-31 1 2",
                "2026-01-01 1 1",
                "2026-01-01 2 7",
                "2026-02-28 1 1",
                "2026-03-31 2 5"
            ]
        );
        let clients = "SELECT year || ' ' || ip_id || ' ' || m01 || ' ' || m02 || ' ' || m03 \
                       || ' ' || m12 FROM yearly_clients ORDER BY 1";
        // Bit d-1 = day d: 31 December is 1 << 30, 28 February 1 << 27.
        assert_eq!(
            rows(&conn, clients),
            [
                "2025 1 0 0 0 1073741824",
                "2026 1 1 0 0 0",
                "2026 2 1 134217728 1073741824 0"
            ]
        );
        // The triggers keep them from now on, whichever release writes.
        conn.execute_batch(
            "INSERT INTO daily_logs VALUES ('2026-02-01', 1, 1, 1, 200, 1);
             UPDATE daily_logs SET count = count + 10 WHERE date = '2026-01-01' AND ip_id = 2;
             DELETE FROM daily_logs WHERE date = '2026-03-31';",
        )
        .expect("writes");
        // (The revision-3 triggers keep daily_agent_kinds; daily_agents follows it.)
        assert_eq!(
            rows(&conn, agents),
            [
                "2025-12-31 1 2",
                "2026-01-01 1 1",
                "2026-01-01 2 17",
                "2026-02-01 1 1",
                "2026-02-28 1 1",
                "2026-03-31 2 0"
            ]
        );
        assert_eq!(
            rows(&conn, clients),
            [
                "2025 1 0 0 0 1073741824",
                "2026 1 1 1 0 0",
                "2026 2 1 134217728 0 0"
            ]
        );
        // The views of revision 4 answer.
        let trends: i64 = conn
            .query_row("SELECT sum(hits) FROM v_trends", [], |r| r.get(0))
            .expect("v_trends");
        assert_eq!(trends, 22);
        let accepts: i64 = conn
            .query_row("SELECT count(*) FROM v_accepts", [], |r| r.get(0))
            .expect("v_accepts");
        assert_eq!(accepts, 0);
    }
}

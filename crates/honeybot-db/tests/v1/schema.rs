//! Schema and migrations. `PRAGMA user_version` holds the version; `MIGRATIONS[n]` takes a
//! database from version `n` to `n + 1`. Migrations only ever append: a released step is
//! never edited (see docs/schema.md).

use rusqlite::{Connection, TransactionBehavior};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    r#"
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
"#,
];

/// Brings the database to [`SCHEMA_VERSION`] in one transaction. Returns the version found.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64, MigrateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(found));
    }
    for step in &MIGRATIONS[found.max(0) as usize..] {
        tx.execute_batch(step)?;
    }
    if found != SCHEMA_VERSION {
        // PRAGMA takes no bound parameters; the value is our own constant.
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
    }
    tx.commit()?;
    Ok(found)
}

#[derive(Debug)]
pub(crate) enum MigrateError {
    TooNew(i64),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

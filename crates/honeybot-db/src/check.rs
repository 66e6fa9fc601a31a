//! How much of a HoneyDB file is read before a writer changes it.
//!
//! SQLite's `PRAGMA quick_check` reads every page (about 0.5 s per 100 MB here, whatever its
//! row limit), so it is not run at every open. Every writer open checks cheaply what any
//! damage would make unreadable at once: the header, the schema ([`crate::schema::inspect`])
//! and the root page of every table and index ([`roots`]). The full check runs where it
//! pays: before a migration rewrites the file, in long-running processes that open once
//! ([`crate::DbOptions::quick_check`]), and on request ([`check_file`], `honeybot check`).
//! Damage deeper in the file is refused by SQLite when a statement reaches it
//! (`SQLITE_CORRUPT`, reported as [`DbError::Corrupt`] naming the file; that transaction
//! writes nothing).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::db::classify;
use crate::schema::{self, MigrateError};
use crate::{DbError, SCHEMA_VERSION};

/// Before a writer touches an existing HoneyDB: the full check when `full` is set or a
/// migration is due, else [`roots`].
pub(crate) fn before_write(conn: &Connection, path: &Path, full: bool) -> Result<(), DbError> {
    let migrating = schema::revision(conn).map_err(|e| classify(e, path))? < crate::SCHEMA_REVISION;
    if full || migrating {
        quick_check(conn, path)
    } else {
        roots(conn, path)
    }
}

/// Reads the first entry of every table and index: each b-tree's root page, and the path
/// to its first leaf, must parse. A few pages per b-tree, whatever the file's size.
fn roots(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema \
             WHERE type IN ('table', 'index') AND rootpage > 0",
        )
        .map_err(|e| classify(e, path))?;
    let btrees: Vec<(String, String, String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .and_then(|rows| rows.collect())
        .map_err(|e| classify(e, path))?;
    for (kind, name, table, sql) in btrees {
        let read = if kind == "index" {
            // A partial index serves only queries with its own WHERE clause.
            let filter = sql
                .as_deref()
                .and_then(|s| s.rfind(" WHERE ").map(|at| &s[at..]))
                .unwrap_or("");
            format!(
                "SELECT 1 FROM {} INDEXED BY {}{filter} LIMIT 1",
                quote(&table),
                quote(&name)
            )
        } else {
            // The table's own b-tree, not a smaller covering index: NOT INDEXED for a rowid
            // table, every column for a WITHOUT ROWID one (its indexes hold only some).
            format!("SELECT * FROM {} NOT INDEXED LIMIT 1", quote(&name))
        };
        match conn.query_row(&read, [], |_| Ok(())) {
            Ok(()) | Err(rusqlite::Error::QueryReturnedNoRows) => {}
            Err(e) => return Err(classify(e, path)),
        }
    }
    Ok(())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `PRAGMA quick_check`: every page of the file, read once.
pub(crate) fn quick_check(conn: &Connection, path: &Path) -> Result<(), DbError> {
    // The limit bounds the error rows, not the pages read (measured: no faster than the
    // unlimited check); one row is all the error message needs.
    let first: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| classify(e, path))?;
    if first == "ok" {
        Ok(())
    } else {
        Err(DbError::Corrupt {
            path: path.to_owned(),
            detail: first.split_whitespace().collect::<Vec<_>>().join(" "),
        })
    }
}

/// The full check of an existing HoneyDB file of any revision, read-only (`honeybot check`):
/// refuses what [`crate::HoneyDb::open`] refuses (another application's file, a newer
/// level, damaged pages), changes nothing.
pub fn check_file(path: &Path) -> Result<(), DbError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| classify(e, path))?;
    match schema::inspect(&conn) {
        Ok(_) => quick_check(&conn, path),
        Err(MigrateError::TooNew(found)) => Err(DbError::TooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        }),
        Err(MigrateError::Foreign(reason)) => Err(DbError::Foreign {
            path: path.to_owned(),
            reason,
        }),
        Err(MigrateError::Sqlite(e)) => Err(classify(e, path)),
    }
}

//! The `redirects` table: the 404 janitor's decisions and a person's overrides.
//!
//! One row per dead path (`from_path`, in the form the janitor's nginx map compares).
//! `state` is `proposed` (waiting for a person), `active` (in the map), `rejected` (never
//! redirect this path) or `retired`; `source` is `lexical`, `llm` or `manual`. A run of the
//! janitor writes through [`save_run`], which never changes a row that is not `proposed`
//! or that a person made (`manual`): human decisions survive every later run.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::db::classify;
use crate::{DbError, HoneyDb};

/// Who chose the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Lexical,
    Llm,
    Manual,
}

/// Where a decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Proposed,
    Active,
    Rejected,
    Retired,
}

macro_rules! text_enum {
    ($ty:ident { $($v:ident = $s:literal),* $(,)? }) => {
        impl $ty {
            /// The name stored in the table.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$v => $s),* }
            }
            fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($ty::$v),)* _ => None }
            }
        }
    };
}
text_enum!(Source { Lexical = "lexical", Llm = "llm", Manual = "manual" });
text_enum!(State { Proposed = "proposed", Active = "active", Rejected = "rejected", Retired = "retired" });

/// One row of `redirects`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Redirect {
    pub from: String,
    /// The target path; `None` for a rejection without a target.
    pub to: Option<String>,
    pub source: Source,
    pub state: State,
    pub score: Option<f64>,
    pub note: Option<String>,
    /// `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    pub created_at: String,
    pub updated_at: String,
}

/// A row to write (timestamps are set by the database).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRedirect {
    pub from: String,
    pub to: Option<String>,
    pub source: Source,
    pub state: State,
    pub score: Option<f64>,
    pub note: Option<String>,
}

const COLUMNS: &str = "from_path, to_path, source, state, score, note, created_at, updated_at";
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

fn read_row(r: &Row<'_>) -> rusqlite::Result<Redirect> {
    let bad = |i: usize, v: String| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unexpected value {v:?}").into(),
        )
    };
    let source: String = r.get(2)?;
    let state: String = r.get(3)?;
    let to: String = r.get(1)?;
    Ok(Redirect {
        from: r.get(0)?,
        to: (!to.is_empty()).then_some(to),
        source: Source::parse(&source).ok_or_else(|| bad(2, source.clone()))?,
        state: State::parse(&state).ok_or_else(|| bad(3, state.clone()))?,
        score: r.get(4)?,
        note: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// Every row, ordered by `from_path`.
pub fn all(db: &HoneyDb) -> Result<Vec<Redirect>, DbError> {
    all_in(db.connection()).map_err(|e| classify(e, db.path()))
}

fn all_in(conn: &Connection) -> rusqlite::Result<Vec<Redirect>> {
    conn.prepare(&format!(
        "SELECT {COLUMNS} FROM redirects ORDER BY from_path"
    ))?
    .query_map([], read_row)?
    .collect()
}

/// The row of `from`, if any.
pub fn get(db: &HoneyDb, from: &str) -> Result<Option<Redirect>, DbError> {
    db.connection()
        .query_row(
            &format!("SELECT {COLUMNS} FROM redirects WHERE from_path = ?1"),
            params![from],
            read_row,
        )
        .optional()
        .map_err(|e| classify(e, db.path()))
}

/// Writes `row` whatever the row of its path was (a person's decision).
pub fn set(db: &HoneyDb, row: &NewRedirect) -> Result<(), DbError> {
    upsert(db.connection(), row, false)
        .map(drop)
        .map_err(|e| classify(e, db.path()))
}

/// Deletes the row of `from`; returns whether there was one.
pub fn delete(db: &HoneyDb, from: &str) -> Result<bool, DbError> {
    db.connection()
        .execute("DELETE FROM redirects WHERE from_path = ?1", params![from])
        .map(|n| n > 0)
        .map_err(|e| classify(e, db.path()))
}

/// `update_only_proposed`: change an existing row only when it is `proposed` and not
/// `manual`. Returns whether a row was written.
fn upsert(
    conn: &Connection,
    row: &NewRedirect,
    update_only_proposed: bool,
) -> rusqlite::Result<bool> {
    let guard = if update_only_proposed {
        "WHERE redirects.state = 'proposed' AND redirects.source <> 'manual'"
    } else {
        ""
    };
    conn.prepare_cached(&format!(
        "INSERT INTO redirects (from_path, to_path, source, state, score, note, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, {NOW}, {NOW}) \
         ON CONFLICT (from_path) DO UPDATE SET to_path = excluded.to_path, \
           source = excluded.source, state = excluded.state, score = excluded.score, \
           note = excluded.note, updated_at = excluded.updated_at {guard}"
    ))?
    .execute(params![
        row.from,
        row.to.as_deref().unwrap_or(""),
        row.source.as_str(),
        row.state.as_str(),
        row.score,
        row.note,
    ])
    .map(|n| n > 0)
}

/// Why [`save_run`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SaveError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Db(#[from] DbError),
    /// `publish` failed; nothing was written.
    #[error(transparent)]
    Publish(E),
}

/// Writes the decisions of a janitor run and publishes the result, all or nothing: in one
/// transaction, writes each row of `rows` (an existing row only when it is `proposed` and
/// not `manual`), reads every row back, calls `publish` with them (the janitor writes and
/// validates its nginx map there) and commits only when `publish` succeeds.
pub fn save_run<T, E: std::error::Error + 'static>(
    db: &HoneyDb,
    rows: &[NewRedirect],
    publish: impl FnOnce(&[Redirect]) -> Result<T, E>,
) -> Result<T, SaveError<E>> {
    let sql = |e| SaveError::Db(classify(e, db.path()));
    let tx = rusqlite::Transaction::new_unchecked(db.connection(), TransactionBehavior::Immediate)
        .map_err(sql)?;
    for row in rows {
        upsert(&tx, row, true).map_err(sql)?;
    }
    let all = all_in(&tx).map_err(sql)?;
    let out = publish(&all).map_err(SaveError::Publish)?;
    tx.commit().map_err(sql)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DbOptions;

    fn row(from: &str, to: &str, source: Source, state: State) -> NewRedirect {
        NewRedirect {
            from: from.into(),
            to: Some(to.into()),
            source,
            state,
            score: Some(0.5),
            note: None,
        }
    }

    #[test]
    fn a_run_never_overwrites_a_persons_decision() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = HoneyDb::open(dir.path().join("h.db"), &DbOptions::default()).expect("open");
        set(&db, &row("/a", "/manual/", Source::Manual, State::Active)).expect("set");
        set(&db, &row("/b", "/x/", Source::Lexical, State::Rejected)).expect("set");
        set(&db, &row("/c", "/old/", Source::Lexical, State::Proposed)).expect("set");
        let written: Vec<Redirect> = save_run(
            &db,
            &[
                row("/a", "/auto/", Source::Lexical, State::Active),
                row("/b", "/auto/", Source::Lexical, State::Active),
                row("/c", "/new/", Source::Llm, State::Active),
                row("/d", "/new/", Source::Lexical, State::Proposed),
            ],
            |all| Ok::<_, std::io::Error>(all.to_vec()),
        )
        .expect("save");
        let to = |f: &str| {
            written
                .iter()
                .find(|r| r.from == f)
                .and_then(|r| r.to.clone())
        };
        assert_eq!(to("/a").as_deref(), Some("/manual/"));
        assert_eq!(to("/b").as_deref(), Some("/x/"));
        assert_eq!(to("/c").as_deref(), Some("/new/"));
        assert_eq!(to("/d").as_deref(), Some("/new/"));
        assert_eq!(all(&db).expect("all"), written);
    }

    #[test]
    fn a_failed_publish_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = HoneyDb::open(dir.path().join("h.db"), &DbOptions::default()).expect("open");
        let err = save_run(
            &db,
            &[row("/a", "/b/", Source::Lexical, State::Active)],
            |_| Err::<(), _>(std::io::Error::other("nginx -t failed")),
        )
        .expect_err("publish failed");
        assert!(matches!(err, SaveError::Publish(_)));
        assert!(all(&db).expect("all").is_empty());
    }
}

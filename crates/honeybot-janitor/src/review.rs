//! A person's review: `list`, `accept`, `reject`, `set`, `unset`. Decisions are rows of
//! `redirects` that later runs never change; the map follows at the next run.

use std::path::Path;

use honeybot_db::redirects::{self, NewRedirect, Redirect, Source, State};
use honeybot_db::{DbError, HoneyDb};

use crate::key;
use crate::site::{self, SiteError};

/// Why a review command failed.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("{path:?} cannot be redirected: {why}")]
    BadFrom { path: String, why: key::Refused },
    #[error("{0:?} is not a path of this site (give /path, decoded or %-encoded)")]
    BadTo(String),
    #[error("{0} is not a live page of the site; redirects go only to pages that exist")]
    NotLive(String),
    #[error("{0} is a live page itself; a redirect from it would hide it")]
    FromIsLive(String),
    #[error("no decision for {0}")]
    NotFound(String),
    #[error("{0} has no target to accept; use `set {0} TO`")]
    NoTarget(String),
    #[error("database {0} does not exist")]
    NoDatabase(std::path::PathBuf),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Site(#[from] SiteError),
}

impl ReviewError {
    /// 2 for a wrong argument or a missing database, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            ReviewError::Db(_) | ReviewError::Site(_) => 1,
            _ => 2,
        }
    }
}

/// The key `FROM` is stored under.
pub fn from_key(from: &str, max_key_bytes: usize) -> Result<String, ReviewError> {
    key::map_key(from, max_key_bytes).map_err(|why| ReviewError::BadFrom {
        path: honeybot_daemon::terminal::for_terminal(from),
        why,
    })
}

/// Opens an existing database.
pub fn open(db: &Path) -> Result<HoneyDb, ReviewError> {
    if !db.exists() {
        return Err(ReviewError::NoDatabase(db.to_owned()));
    }
    Ok(HoneyDb::open(db, &honeybot_db::DbOptions::default())?)
}

pub fn list(db: &HoneyDb) -> Result<Vec<Redirect>, ReviewError> {
    Ok(redirects::all(db)?)
}

/// Makes a proposal (or any stored target) active.
pub fn accept(db: &HoneyDb, from: &str) -> Result<Redirect, ReviewError> {
    let row = redirects::get(db, from)?.ok_or_else(|| ReviewError::NotFound(from.into()))?;
    let to = row
        .to
        .clone()
        .ok_or_else(|| ReviewError::NoTarget(from.into()))?;
    redirects::set(
        db,
        &NewRedirect {
            from: row.from.clone(),
            to: Some(to),
            source: row.source,
            state: State::Active,
            score: row.score,
            note: Some("accepted by a person".into()),
        },
    )?;
    Ok(redirects::get(db, from)?.unwrap_or(row))
}

/// Never redirect `from` (also when no run has seen it yet).
pub fn reject(db: &HoneyDb, from: &str) -> Result<Redirect, ReviewError> {
    let row = redirects::get(db, from)?;
    redirects::set(
        db,
        &NewRedirect {
            from: from.into(),
            to: row.as_ref().and_then(|r| r.to.clone()),
            source: Source::Manual,
            state: State::Rejected,
            score: row.as_ref().and_then(|r| r.score),
            note: Some("rejected by a person".into()),
        },
    )?;
    redirects::get(db, from)?.ok_or_else(|| ReviewError::NotFound(from.into()))
}

/// Redirect `from` to `to` (a live page when `site` is given).
pub fn set(
    db: &HoneyDb,
    from: &str,
    to: &str,
    site: Option<&Path>,
) -> Result<Redirect, ReviewError> {
    let to_uri = key::uri_bytes(to)
        .ok()
        .filter(|_| !to.starts_with("//"))
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ReviewError::BadTo(honeybot_daemon::terminal::for_terminal(to)))?;
    let mut target = to_uri.clone();
    if let Some(site) = site {
        let pages = site::load(site)?;
        let lower = |s: &str| s.to_ascii_lowercase();
        if pages.iter().any(|p| lower(&p.path) == from) {
            return Err(ReviewError::FromIsLive(from.into()));
        }
        target = pages
            .iter()
            .find(|p| lower(&p.path) == lower(&to_uri))
            .map(|p| p.path.clone())
            .ok_or_else(|| {
                ReviewError::NotLive(honeybot_daemon::terminal::for_terminal(&to_uri))
            })?;
    }
    redirects::set(
        db,
        &NewRedirect {
            from: from.into(),
            to: Some(target),
            source: Source::Manual,
            state: State::Active,
            score: None,
            note: Some("set by a person".into()),
        },
    )?;
    redirects::get(db, from)?.ok_or_else(|| ReviewError::NotFound(from.into()))
}

/// Forgets the decision about `from`: the next run decides it afresh.
pub fn unset(db: &HoneyDb, from: &str) -> Result<(), ReviewError> {
    if redirects::delete(db, from)? {
        Ok(())
    } else {
        Err(ReviewError::NotFound(from.into()))
    }
}

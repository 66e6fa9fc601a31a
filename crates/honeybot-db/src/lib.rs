//! HoneyDB: the SQLite request history of Honeybot.
//!
//! - [`HoneyDb::open`] creates or migrates a database (schema versioned with
//!   `PRAGMA user_version`, WAL, `synchronous=NORMAL`, a busy timeout).
//! - [`Batch`] aggregates parsed log entries in memory; [`HoneyDb::commit`] writes a batch,
//!   its counters and the import cursor that covers it in ONE transaction, so a crash never
//!   loses or double-counts a line.
//! - [`FileIdentity`] recognises a log file by the content of its first bytes, so the same
//!   content under a new name or inode is the same file, and a grown file keeps its identity.
//! - [`import()`] reads a whole log stream (plain, decoded gz, stdin) exactly once.
//! - [`report`] holds the summary queries; [`probe`] recognises exploit-probe paths.
//! - [`not_found`] lists 404 paths and who asked for them; [`redirects`] holds the 404
//!   janitor's decisions and a person's overrides.
//!
//! The schema is described in `docs/schema.md`.

mod batch;
mod check;
pub mod classify;
mod cursors;
mod db;
pub mod flags;
mod identity;
mod import;
mod ip;
pub mod not_found;
pub mod probe;
pub mod redirects;
pub mod report;
mod rollup;
mod schema;
mod timefmt;

pub use batch::Batch;
pub use check::check_file;
pub use classify::{AgentsFile, Class, Classifier, PathKind, TrapPaths};
pub use cursors::StoredCursor;
pub use db::{AgentChange, CommitFailed, CommitStats, Cursor, HoneyDb, KindChange, Reclassified};
pub use identity::FileIdentity;
pub use import::{
    ImportError, ImportOptions, ImportStats, count_line, count_too_long, import, import_until,
};
pub use ip::{IpMode, IpModeError};
pub use schema::{APPLICATION_ID, SCHEMA_REVISION, SCHEMA_VERSION, schema_revisions};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Which calendar date a log line is counted under.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeZonePolicy {
    /// The date as written in the line (the web server's local date). The default.
    #[default]
    LocalToLog,
    /// The UTC date of the request.
    Utc,
}

impl std::str::FromStr for TimeZonePolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local-to-log" => Ok(Self::LocalToLog),
            "utc" => Ok(Self::Utc),
            other => Err(format!(
                "unknown time zone policy {other:?} (expected \"local-to-log\" or \"utc\")"
            )),
        }
    }
}

/// How a database is opened and how entries are recorded.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// How client addresses are stored.
    pub ip_mode: IpMode,
    /// Which date a line is counted under.
    pub time_zone: TimeZonePolicy,
    /// How long one SQLite statement waits for a lock before [`HoneyDb::commit`] retries.
    pub busy_timeout: Duration,
    /// How many times [`HoneyDb::commit`] retries a busy database (with growing pauses)
    /// before it gives up with [`DbError::Busy`].
    pub busy_retries: u32,
    /// How many values per dimension (IPs, user agents, paths, ...) have their row ids
    /// remembered (two generations of this size at most); keeps a long-running importer's
    /// memory flat.
    pub id_cache_entries: usize,
    /// Rows kept in `recent_requests`, the ring of the latest requests that `honeybot watch`
    /// reads (0 keeps none).
    pub recent_requests: usize,
    /// The user-agent table new `user_agents` rows are classified with.
    pub classifier: Arc<Classifier>,
    /// The JavaScript trap's script and beacon paths (path kinds; beacon queries dropped).
    pub trap: TrapPaths,
    /// Run SQLite's full `PRAGMA quick_check` (reads every page, about 0.5 s per 100 MB)
    /// at every writer open: for long-running processes that open once. Off, an open checks
    /// the header, the schema and every b-tree's root page, and the full check runs only
    /// before a migration (see `check.rs`; [`check_file`] runs it on request).
    pub quick_check: bool,
}

impl DbOptions {
    /// Default size of the `recent_requests` ring.
    pub const DEFAULT_RECENT_REQUESTS: usize = 10_000;
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            ip_mode: IpMode::Full,
            time_zone: TimeZonePolicy::LocalToLog,
            busy_timeout: Duration::from_secs(5),
            busy_retries: 5,
            id_cache_entries: 20_000,
            recent_requests: Self::DEFAULT_RECENT_REQUESTS,
            classifier: Classifier::builtin(),
            trap: TrapPaths::default(),
            quick_check: false,
        }
    }
}

/// Everything that can go wrong in HoneyDB.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database stayed locked by another connection through every retry.
    #[error("database {path} is busy (locked by another writer)")]
    Busy { path: PathBuf },
    /// The disk (or the database size limit) is full; nothing of the batch was written.
    #[error("disk full while writing database {path}")]
    DiskFull { path: PathBuf },
    /// Another importer moved the file's cursor since this one read it; nothing of the
    /// batch was written (it would have counted lines twice).
    #[error(
        "import cursor of {file} in database {path} was moved by another importer; \
         run one importer per log file"
    )]
    CursorConflict { path: PathBuf, file: String },
    /// The database already holds client addresses stored under another IP mode (or hash
    /// key); mixing them would count one client as two.
    #[error(
        "database {path} stores client addresses as {stored}, not {requested}; \
         use the same IP mode (and key) or a new database"
    )]
    IpModeMismatch {
        path: PathBuf,
        stored: String,
        requested: String,
    },
    /// The file was written by a newer Honeybot that changed the schema in a way this
    /// program cannot write correctly (its compatibility level is above this program's).
    /// Nothing was changed.
    #[error(
        "database {path} has schema version {found}, newer than this program's {supported}; \
         use a newer honeybot"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// The file is not a HoneyDB database (another application's SQLite file, or not SQLite
    /// at all). Nothing was changed.
    #[error("{path} is not a HoneyDB database: {reason}; refusing to touch it")]
    Foreign { path: PathBuf, reason: String },
    /// SQLite found damaged pages. Nothing more is written.
    #[error(
        "database {path} is damaged ({detail}); restore it from a backup, or try \
         `sqlite3 DB .recover`"
    )]
    Corrupt { path: PathBuf, detail: String },
    /// A read-only handle found a file this program's writers have not upgraded yet.
    #[error(
        "database {path} is at schema revision {found}, this program reads revision {needed}; \
         let a writer upgrade it first (`honeybot reclassify --db {path}` or the ingester)"
    )]
    Outdated {
        path: PathBuf,
        found: i64,
        needed: i64,
    },
    /// The user-agent table (built-in or a user's file) is invalid.
    #[error(transparent)]
    Agents(#[from] classify::AgentsError),
    /// Any other SQLite error.
    #[error("database {path}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The directory of the database could not be prepared.
    #[error("cannot create directory for database {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

//! The database handle: open + migrate, cursors, and the one-transaction commit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::batch::{Batch, Interner, Map};
use crate::classify::{Classifier, TrapPaths, path_kind};
use crate::identity::FileIdentity;
use crate::rollup::{self, KindCode, Kinds};
use crate::schema::{self, MigrateError};
use crate::timefmt::{DateKey, date_text};
use crate::{DbError, DbOptions, IpMode, SCHEMA_VERSION};

/// How far into a log file the database has counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Bytes from the start of the file covered by committed counts (always at a line end,
    /// or at the end of a finished file whose last line has no newline).
    pub offset: u64,
    /// Lines in those bytes.
    pub lines: u64,
}

/// What one commit wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub lines_parsed: u64,
    pub lines_malformed: u64,
    /// Rows of `daily_logs` inserted or incremented.
    pub facts: u64,
    /// New rows in the dimension tables.
    pub new_values: u64,
    pub requests_by_status: BTreeMap<u16, u64>,
    pub malformed_by_kind: BTreeMap<&'static str, u64>,
}

/// A failed [`HoneyDb::commit`]: nothing was written, and the batch is handed back so the
/// caller can retry it later with the same cursor.
#[derive(Debug)]
pub struct CommitFailed {
    pub error: DbError,
    pub batch: Box<Batch>,
}

impl std::fmt::Display for CommitFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for CommitFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl From<CommitFailed> for DbError {
    fn from(failed: CommitFailed) -> Self {
        failed.error
    }
}

/// The five dimension tables. Table names are constants, never built from data.
#[derive(Debug, Clone, Copy)]
enum Dim {
    Ip,
    UserAgent,
    Path,
    Referrer,
    Accept,
}

impl Dim {
    const ALL: [Dim; 5] = [
        Dim::Ip,
        Dim::UserAgent,
        Dim::Path,
        Dim::Referrer,
        Dim::Accept,
    ];

    fn sql(self) -> &'static DimSql {
        match self {
            Dim::Ip => &IPS,
            Dim::UserAgent => &USER_AGENTS,
            Dim::Path => &PATHS,
            Dim::Referrer => &REFERRERS,
            Dim::Accept => &ACCEPT_VALUES,
        }
    }

    fn of(self, batch: &Batch) -> &Interner {
        match self {
            Dim::Ip => &batch.ips,
            Dim::UserAgent => &batch.user_agents,
            Dim::Path => &batch.paths,
            Dim::Referrer => &batch.referrers,
            Dim::Accept => &batch.accepts,
        }
    }
}

/// The statements of one dimension table.
#[derive(Debug)]
struct DimSql {
    find: &'static str,
    insert: &'static str,
    lower: &'static str,
}

macro_rules! dim_sql {
    ($table:literal) => {
        DimSql {
            find: concat!(
                "SELECT id, first_seen, NULL FROM ",
                $table,
                " WHERE value = ?1"
            ),
            insert: concat!(
                "INSERT INTO ",
                $table,
                " (value, first_seen) VALUES (?1, ?2) ON CONFLICT (value) DO NOTHING"
            ),
            lower: concat!(
                "UPDATE ",
                $table,
                " SET first_seen = ?2 WHERE id = ?1 AND first_seen > ?2"
            ),
        }
    };
}
const IPS: DimSql = dim_sql!("ips");
/// New user agents are stored with their class (see [`crate::classify`]).
const USER_AGENTS: DimSql = DimSql {
    insert: "INSERT INTO user_agents (value, first_seen, class, operator, class_rule) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (value) DO NOTHING",
    ..dim_sql!("user_agents")
};
/// New paths are stored with their kind; the summaries need the kind of known ones.
const PATHS: DimSql = DimSql {
    find: "SELECT id, first_seen, kind FROM paths WHERE value = ?1",
    insert: "INSERT INTO paths (value, first_seen, kind) VALUES (?1, ?2, ?3) \
             ON CONFLICT (value) DO NOTHING",
    ..dim_sql!("paths")
};
const REFERRERS: DimSql = dim_sql!("referrers");
const ACCEPT_VALUES: DimSql = dim_sql!("accept_values");

const UPSERT_FACT: &str = "INSERT INTO daily_logs (date, ip_id, ua_id, path_id, status, count) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (date, ip_id, ua_id, path_id, status) DO UPDATE SET count = count + excluded.count";
/// Rows per multi-row fact upsert (6 parameters each, far below SQLite's limit).
const FACTS_PER_STATEMENT: usize = 64;

/// [`UPSERT_FACT`] for [`FACTS_PER_STATEMENT`] rows at once: fewer statement executions.
static UPSERT_FACTS_MULTI: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let rows = vec!["(?, ?, ?, ?, ?, ?)"; FACTS_PER_STATEMENT].join(", ");
    format!(
        "INSERT INTO daily_logs (date, ip_id, ua_id, path_id, status, count) VALUES {rows} \
         ON CONFLICT (date, ip_id, ua_id, path_id, status) DO UPDATE SET count = count + excluded.count"
    )
});

const UPSERT_ACCEPT_FACT: &str = "INSERT INTO daily_accepts (date, ua_id, accept_id, markdown_served, count) \
     VALUES (?1, ?2, ?3, ?4, ?5) \
     ON CONFLICT (date, ua_id, accept_id, markdown_served) DO UPDATE SET count = count + excluded.count";
/// One ring row: the client and referrer texts are read from their rows by id.
const RECENT_ROW: &str = "(?, (SELECT value FROM ips WHERE id = ?), ?, ?, ?, ?, ?, \
     (SELECT value FROM referrers WHERE id = ?))";
const INSERT_RECENT_HEAD: &str = "INSERT INTO recent_requests \
     (ts, ip, ua_id, path_id, method, status, bytes, referrer) VALUES ";
/// Ring rows per multi-row insert (8 parameters each).
const RECENT_PER_STATEMENT: usize = 64;
static INSERT_RECENT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{INSERT_RECENT_HEAD}{RECENT_ROW}"));
static INSERT_RECENT_MULTI: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let rows = vec![RECENT_ROW; RECENT_PER_STATEMENT].join(", ");
    format!("{INSERT_RECENT_HEAD}{rows}")
});
/// Keeps the newest `?1` rows (ids only grow: `AUTOINCREMENT`).
const TRIM_RECENT: &str = "DELETE FROM recent_requests \
     WHERE id <= (SELECT max(id) FROM recent_requests) - ?1";

/// `kv_store` keys of the fingerprints the stored classes and kinds were computed with.
const AGENTS_FINGERPRINT: &str = "agents_fingerprint";
const PATH_KINDS_FINGERPRINT: &str = "path_kinds_fingerprint";

/// Sets a flag in `kv_store` (deleted again before the transaction commits).
const SET_FLAG: &str = "INSERT INTO kv_store (key, value, updated_at) VALUES (?1, 1, '') \
     ON CONFLICT (key) DO NOTHING";

const ADD_COUNTER: &str = "INSERT INTO kv_store (key, value, updated_at) \
     VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) \
     ON CONFLICT (key) DO UPDATE SET value = value + excluded.value, updated_at = excluded.updated_at";

/// What the writer knows of one stored dimension value.
#[derive(Debug, Clone, Copy)]
struct Known {
    id: i64,
    /// An upper bound of its stored `first_seen` (Unix time).
    seen: i64,
    /// Its stored kind (paths only).
    kind: KindCode,
}

/// Bounded map from stored dimension value to what is known of its row. Two generations:
/// when the young one is full it becomes the old one and the previous old one is dropped,
/// so memory stays flat and hot values stay.
#[derive(Debug, Default)]
struct IdCache {
    young: Map<Box<str>, Known>,
    old: Map<Box<str>, Known>,
}

impl IdCache {
    /// The entry, and whether it is in the young generation.
    fn get(&self, value: &str) -> Option<(Known, bool)> {
        match self.young.get(value) {
            Some(&known) => Some((known, true)),
            None => self.old.get(value).map(|&known| (known, false)),
        }
    }

    fn insert(&mut self, value: Box<str>, known: Known, cap: usize) {
        if self.young.len() >= cap.max(1) {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(value, known);
    }

    fn clear(&mut self) {
        self.young.clear();
        self.old.clear();
    }
}

/// A row of `recent_requests` with its stored ids (no heap: a commit may leave up to the
/// ring's size of them for a later one, [`Batch::leave_ring_for_later`]).
#[derive(Debug, Clone, Copy)]
struct StoredRecent {
    ts: i64,
    ip: i64,
    ua: i64,
    path: i64,
    /// Code in [`HoneyDb::methods`].
    method: Option<KindCode>,
    status: u16,
    bytes: Option<i64>,
    referrer: Option<i64>,
}

/// Cache changes of a commit, applied only once it succeeded (ids of a rolled-back
/// transaction are not real).
type PendingIds = Vec<(usize, Box<str>, Known)>;

/// An open HoneyDB.
#[derive(Debug)]
pub struct HoneyDb {
    conn: Connection,
    path: PathBuf,
    options: DbOptions,
    caches: [IdCache; 5],
    /// Codes of the stored path kinds in the path cache.
    kinds: Kinds,
    /// `kv_store.path_kinds_generation` when the path cache was last checked: when it
    /// moves, another writer changed stored kinds and the cached kinds are forgotten.
    kinds_generation: Option<i64>,
    /// The newest ring rows of commits that left the ring for later (at most the ring's
    /// size), written by the next commit that writes the ring.
    ring_later: std::collections::VecDeque<StoredRecent>,
    /// Request methods of the ring rows, by code.
    methods: Kinds,
    /// The cursor this handle last read or wrote per file fingerprint: a commit whose
    /// stored cursor differs was raced by another importer and is refused.
    observed: Map<String, Cursor>,
    /// Whether this handle's IP mode was checked against (or recorded in) the database.
    ip_mode_checked: bool,
    /// What opening the database brought up to date.
    opened: Reclassified,
}

/// Stored classes and kinds that were (re)computed: by [`HoneyDb::open`] (rows a previous
/// release left unclassified, or everything after the table changed) or by
/// [`HoneyDb::reclassify`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reclassified {
    /// User agents looked at.
    pub user_agents_checked: u64,
    /// Paths looked at.
    pub paths_checked: u64,
    /// User agents whose class, operator or rule changed (NULL → a class included).
    pub user_agents: Vec<AgentChange>,
    /// Paths whose kind changed, counted per (old kind, new kind).
    pub paths: Vec<KindChange>,
}

/// How many paths went from one kind to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct KindChange {
    pub old_kind: Option<String>,
    pub new_kind: String,
    pub paths: u64,
}

/// One user agent whose stored classification changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgentChange {
    pub user_agent: String,
    pub old_class: Option<String>,
    pub new_class: String,
    pub old_operator: Option<String>,
    pub new_operator: Option<String>,
    pub rule: String,
}

impl Reclassified {
    /// Adds a later pass over the same database: the rows it looked at are the same, the
    /// changes add up.
    pub fn merge(&mut self, later: Reclassified) {
        self.user_agents_checked = self.user_agents_checked.max(later.user_agents_checked);
        self.paths_checked = self.paths_checked.max(later.paths_checked);
        self.user_agents.extend(later.user_agents);
        for change in later.paths {
            match self
                .paths
                .iter_mut()
                .find(|c| c.old_kind == change.old_kind && c.new_kind == change.new_kind)
            {
                Some(c) => c.paths += change.paths,
                None => self.paths.push(change),
            }
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.user_agents.is_empty() && self.paths.is_empty()
    }
}

impl HoneyDb {
    /// Opens (creating if needed) and migrates the database at `path`: WAL journal,
    /// `synchronous=NORMAL`, the configured busy timeout.
    pub fn open(path: impl AsRef<Path>, options: &DbOptions) -> Result<Self, DbError> {
        let path = path.as_ref().to_owned();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let mut conn = Connection::open(&path).map_err(|e| classify(e, &path))?;
        conn.busy_timeout(options.busy_timeout)
            .map_err(|e| classify(e, &path))?;
        let migrate_error = |e| match e {
            MigrateError::TooNew(found) => DbError::TooNew {
                path: path.clone(),
                found,
                supported: SCHEMA_VERSION,
            },
            MigrateError::Foreign(reason) => DbError::Foreign {
                path: path.clone(),
                reason,
            },
            MigrateError::Sqlite(e) => classify(e, &path),
        };
        // Read-only checks first: a refused file is left exactly as it was (no WAL switch).
        let found = schema::inspect(&conn).map_err(migrate_error)?;
        if matches!(found, schema::Found::HoneyDb { .. }) {
            crate::check::before_write(&conn, &path, options.quick_check)?;
        }
        // Returns the mode in effect; a file system without shared memory keeps the
        // rollback journal, which is still correct (only reader concurrency is lost).
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| classify(e, &path))?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;",
        )
        .map_err(|e| classify(e, &path))?;
        conn.set_prepared_statement_cache_capacity(32);
        let opened = {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| classify(e, &path))?;
            schema::migrate(&tx).map_err(migrate_error)?;
            let opened = bring_up_to_date(&tx, &options.classifier, &options.trap, false)
                .map_err(|e| classify(e, &path))?;
            tx.commit().map_err(|e| classify(e, &path))?;
            opened
        };
        Ok(Self::with(conn, path, options, opened))
    }

    /// What opening brought up to date: user agents and paths a previous release stored
    /// without class or kind, or every row when the table or trap paths changed.
    pub fn opened(&self) -> &Reclassified {
        &self.opened
    }

    /// Recomputes the class of every user agent and the kind of every path with this
    /// handle's table and trap paths, in one transaction; returns what changed.
    pub fn reclassify(&mut self) -> Result<Reclassified, DbError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(e, &path))?;
        let done = bring_up_to_date(&tx, &self.options.classifier, &self.options.trap, true)
            .map_err(|e| classify(e, &path))?;
        tx.commit().map_err(|e| classify(e, &path))?;
        Ok(done)
    }

    /// Opens an existing database for reading only (reports, `honeybot watch`): no journal
    /// switch, no migration, no write; refuses what [`Self::open`] refuses, and a file a
    /// writer has not yet brought to this build's revision ([`DbError::Outdated`]). Rows a
    /// previous release left unclassified read as NULL class or kind.
    pub fn open_read_only(path: impl AsRef<Path>, options: &DbOptions) -> Result<Self, DbError> {
        let path = path.as_ref().to_owned();
        let conn = Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(e, &path))?;
        conn.busy_timeout(options.busy_timeout)
            .map_err(|e| classify(e, &path))?;
        match schema::inspect(&conn) {
            Ok(_) => {}
            Err(MigrateError::TooNew(found)) => {
                return Err(DbError::TooNew {
                    path,
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Err(MigrateError::Foreign(reason)) => return Err(DbError::Foreign { path, reason }),
            Err(MigrateError::Sqlite(e)) => return Err(classify(e, &path)),
        }
        let found = schema::revision(&conn).map_err(|e| classify(e, &path))?;
        if found < crate::SCHEMA_REVISION {
            return Err(DbError::Outdated {
                path,
                found,
                needed: crate::SCHEMA_REVISION,
            });
        }
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Self::with(conn, path, options, Reclassified::default()))
    }

    /// A handle on an opened connection, its in-memory state empty.
    fn with(conn: Connection, path: PathBuf, options: &DbOptions, opened: Reclassified) -> Self {
        Self {
            conn,
            path,
            options: options.clone(),
            caches: Default::default(),
            kinds: Kinds::default(),
            kinds_generation: None,
            ring_later: Default::default(),
            methods: Kinds::default(),
            observed: Map::default(),
            ip_mode_checked: false,
            opened,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options the database was opened with.
    pub fn options(&self) -> &DbOptions {
        &self.options
    }

    /// The underlying connection, for read queries (reports). Write through [`Self::commit`].
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// An empty batch dated by this database's time zone policy.
    pub fn batch(&self) -> Batch {
        Batch::with_options(&self.options)
    }

    /// The committed cursor of a file, if any part of it was imported before. The handle
    /// remembers it: a later [`Self::commit`] for the same file whose stored cursor has
    /// moved meanwhile (another importer) is refused with [`DbError::CursorConflict`].
    pub fn cursor(&mut self, identity: &FileIdentity) -> Result<Option<Cursor>, DbError> {
        let found = find_cursor(&self.conn, identity)
            .map(|found| found.map(|(_, c)| c))
            .map_err(|e| classify(e, &self.path))?;
        self.observed
            .insert(identity.fingerprint_hex(), found.unwrap_or_default());
        Ok(found)
    }

    /// Writes the batch, its kv counters and (when given) the file cursor that covers it
    /// in ONE transaction. A busy database is retried with growing pauses
    /// ([`DbOptions::busy_retries`]); on any error nothing is written and the batch is
    /// handed back in [`CommitFailed`].
    pub fn commit(
        &mut self,
        batch: Batch,
        cursor: Option<(&FileIdentity, Cursor)>,
    ) -> Result<CommitStats, CommitFailed> {
        let mut attempt = 0;
        loop {
            let expected =
                cursor.and_then(|(id, _)| self.observed.get(&id.fingerprint_hex()).copied());
            match self.try_commit(&batch, cursor, expected) {
                Ok((stats, pending, ring)) => {
                    if batch.ring_later {
                        self.ring_later.extend(ring);
                        let excess = self
                            .ring_later
                            .len()
                            .saturating_sub(self.options.recent_requests);
                        self.ring_later.drain(..excess);
                    } else {
                        self.ring_later.clear();
                    }
                    self.ip_mode_checked = true;
                    if let Some((identity, to)) = cursor {
                        self.observed.insert(identity.fingerprint_hex(), to);
                    }
                    let cap = self.options.id_cache_entries;
                    for (dim, value, known) in pending {
                        self.caches[dim].insert(value, known, cap);
                    }
                    return Ok(stats);
                }
                Err(e) => {
                    let error = match e {
                        TxError::Sqlite(e) => classify(e, &self.path),
                        TxError::IpMode(stored) => DbError::IpModeMismatch {
                            path: self.path.clone(),
                            stored,
                            requested: self.options.ip_mode.stored_label(),
                        },
                        TxError::CursorMoved => DbError::CursorConflict {
                            path: self.path.clone(),
                            file: cursor
                                .and_then(|(id, _)| id.path.clone())
                                .unwrap_or_else(|| "a log".to_owned()),
                        },
                    };
                    if matches!(error, DbError::Busy { .. }) && attempt < self.options.busy_retries
                    {
                        std::thread::sleep(backoff(attempt));
                        attempt += 1;
                        continue;
                    }
                    // Another writer may have changed what the caches describe.
                    self.caches.iter_mut().for_each(IdCache::clear);
                    return Err(CommitFailed {
                        error,
                        batch: Box::new(batch),
                    });
                }
            }
        }
    }

    fn try_commit(
        &mut self,
        batch: &Batch,
        cursor: Option<(&FileIdentity, Cursor)>,
        expected: Option<Cursor>,
    ) -> Result<(CommitStats, PendingIds, Vec<StoredRecent>), TxError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !self.ip_mode_checked {
            check_ip_mode(&tx, &self.options.ip_mode)?;
        }
        let generation: Option<i64> = tx
            .prepare_cached("SELECT value FROM kv_store WHERE key = ?1")?
            .query_row([rollup::KINDS_GENERATION], |r| r.get(0))
            .optional()?;
        if generation != self.kinds_generation {
            // Another writer changed stored kinds: the cached ones may be stale.
            self.caches[Dim::Path as usize].clear();
            self.kinds_generation = generation;
        }
        let mut stats = CommitStats {
            lines_parsed: batch.lines_parsed,
            lines_malformed: batch.lines_malformed,
            ..CommitStats::default()
        };
        let mut pending = PendingIds::new();
        let mut escaped_values = 0u64;
        let mut ids: [Vec<i64>; 5] = Default::default();
        let mut path_kinds = Vec::new();
        let ring_cap = self.options.recent_requests.min(batch.recent_cap);
        let ring = batch
            .recent
            .range(batch.recent.len().saturating_sub(ring_cap)..);
        for (i, dim) in Dim::ALL.into_iter().enumerate() {
            let extra = match dim {
                Dim::Ip => Extra::IpMode(&self.options.ip_mode),
                Dim::UserAgent => Extra::Classify(&self.options.classifier),
                Dim::Path => Extra::Kind(&self.options.trap),
                Dim::Referrer | Dim::Accept => Extra::None,
            };
            let resolved = resolve_dim(
                &tx,
                dim,
                dim.of(batch),
                extra,
                (&self.caches[i], i),
                &mut self.kinds,
                &mut pending,
            )?;
            ids[i] = resolved.ids;
            if let Dim::Path = dim {
                path_kinds = resolved.kinds;
            }
            stats.new_values += resolved.new_values;
            escaped_values += resolved.new_escaped;
        }
        let [ip_ids, ua_ids, path_ids, referrer_ids, accept_ids] = &ids;
        let mut dates = DateTexts::default();

        let mut facts: Vec<rollup::Fact> = batch
            .facts
            .iter()
            .map(|(k, &count)| rollup::Fact {
                date: k.date,
                ip: ip_ids[k.ip as usize],
                ua: ua_ids[k.ua as usize],
                path: path_ids[k.path as usize],
                kind: path_kinds[k.path as usize],
                status: k.status,
                count,
            })
            .collect();
        // Key order = B-tree order: each page is visited once.
        facts.sort_unstable_by_key(|f| (f.date, f.ip, f.ua, f.path, f.status));
        // Merge keys that became equal (addresses of one truncated network): each row is
        // then written once.
        facts.dedup_by(|next, kept| {
            let same = (next.date, next.ip, next.ua, next.path, next.status)
                == (kept.date, kept.ip, kept.ua, kept.path, kept.status);
            if same {
                kept.count += next.count;
            }
            same
        });
        // This commit adds to the report summaries itself (rollup.rs): the triggers on
        // `daily_logs` stand aside while the flag exists, inside this transaction only.
        tx.prepare_cached(SET_FLAG)?
            .execute([rollup::WRITER_FLAG])?;
        {
            let mut single = tx.prepare_cached(UPSERT_FACT)?;
            let mut multi = tx.prepare_cached(&UPSERT_FACTS_MULTI)?;
            for chunk in facts.chunks(FACTS_PER_STATEMENT) {
                for f in chunk {
                    *stats.requests_by_status.entry(f.status).or_insert(0) += f.count;
                    stats.facts += 1;
                }
                if chunk.len() == FACTS_PER_STATEMENT {
                    for (j, f) in chunk.iter().enumerate() {
                        let at = j * 6;
                        multi.raw_bind_parameter(at + 1, dates.get(f.date))?;
                        multi.raw_bind_parameter(at + 2, f.ip)?;
                        multi.raw_bind_parameter(at + 3, f.ua)?;
                        multi.raw_bind_parameter(at + 4, f.path)?;
                        multi.raw_bind_parameter(at + 5, f.status)?;
                        multi.raw_bind_parameter(at + 6, f.count as i64)?;
                    }
                    multi.raw_execute()?;
                } else {
                    for f in chunk {
                        single.execute(params![
                            dates.get(f.date),
                            f.ip,
                            f.ua,
                            f.path,
                            f.status,
                            f.count as i64
                        ])?;
                    }
                }
            }
        }
        rollup::write(&tx, &facts, &self.kinds, &mut dates)?;
        drop(facts);
        tx.prepare_cached("DELETE FROM kv_store WHERE key = ?1")?
            .execute([rollup::WRITER_FLAG])?;
        {
            let mut rows: Vec<_> = batch
                .referrer_facts
                .iter()
                .map(|(&(d, p, r), &n)| ((d, path_ids[p as usize], referrer_ids[r as usize]), n))
                .collect();
            rows.sort_unstable();
            rollup::upsert(
                &tx,
                "INSERT INTO daily_referrers (date, path_id, referrer_id, count) VALUES ",
                "ON CONFLICT (date, path_id, referrer_id) DO UPDATE SET count = count + excluded.count",
                4,
                &rows,
                |stmt, at, &((date, path, referrer), n)| {
                    stmt.raw_bind_parameter(at, dates.get(date))?;
                    stmt.raw_bind_parameter(at + 1, path)?;
                    stmt.raw_bind_parameter(at + 2, referrer)?;
                    stmt.raw_bind_parameter(at + 3, n as i64)
                },
            )?;
        }
        {
            let markdown: Vec<String> = {
                let mut v = vec![String::new(); batch.markdown.len()];
                for (raw, &(local, _)) in &batch.markdown.map {
                    v[local as usize] = stored_text(raw).0;
                }
                v
            };
            let mut rows: Vec<_> = batch
                .accept_facts
                .iter()
                .map(|(&(d, u, a, m), &n)| {
                    (
                        (d, ua_ids[u as usize], accept_ids[a as usize], m as usize),
                        n,
                    )
                })
                .collect();
            rows.sort_unstable();
            let mut stmt = tx.prepare_cached(UPSERT_ACCEPT_FACT)?;
            for ((date, ua, accept, md), n) in rows {
                stmt.execute(params![dates.get(date), ua, accept, markdown[md], n as i64])?;
            }
        }
        {
            let mut stmt = tx.prepare_cached(ADD_COUNTER)?;
            let mut add = |key: &str, n: u64| -> rusqlite::Result<()> {
                if n > 0 {
                    stmt.execute(params![key, n as i64])?;
                }
                Ok(())
            };
            add("lines_parsed", batch.lines_parsed)?;
            add("lines_malformed", batch.lines_malformed)?;
            add("values_kept_escaped", escaped_values)?;
            for (error, &n) in &batch.malformed {
                add(&format!("malformed.{}", error.kind()), n)?;
                *stats.malformed_by_kind.entry(error.kind()).or_insert(0) += n;
            }
        }
        let ring: Vec<StoredRecent> = {
            let mut methods = vec![0; batch.methods.len()];
            for (raw, &(local, _)) in &batch.methods.map {
                methods[local as usize] = self.methods.code(Some(&stored_text(raw).0));
            }
            ring.map(|row| StoredRecent {
                ts: row.ts,
                ip: ip_ids[row.ip as usize],
                ua: ua_ids[row.ua as usize],
                path: path_ids[row.path as usize],
                method: row.method.map(|m| methods[m as usize]),
                status: row.status,
                bytes: row.bytes.map(|b| b.min(i64::MAX as u64) as i64),
                referrer: row.referrer.map(|r| referrer_ids[r as usize]),
            })
            .collect()
        };
        if !batch.ring_later {
            // The rows left for later, then this batch's: the newest that fit the ring.
            let waiting = self.ring_later.len() + ring.len();
            let rows: Vec<&StoredRecent> = self
                .ring_later
                .iter()
                .chain(&ring)
                .skip(waiting.saturating_sub(self.options.recent_requests))
                .collect();
            let method_names = &self.methods;
            let bind = |stmt: &mut rusqlite::CachedStatement<'_>,
                        base: usize,
                        row: &StoredRecent|
             -> rusqlite::Result<()> {
                stmt.raw_bind_parameter(base + 1, row.ts)?;
                stmt.raw_bind_parameter(base + 2, row.ip)?;
                stmt.raw_bind_parameter(base + 3, row.ua)?;
                stmt.raw_bind_parameter(base + 4, row.path)?;
                stmt.raw_bind_parameter(base + 5, row.method.map(|m| method_names.name(m)))?;
                stmt.raw_bind_parameter(base + 6, row.status)?;
                stmt.raw_bind_parameter(base + 7, row.bytes)?;
                stmt.raw_bind_parameter(base + 8, row.referrer)
            };
            let mut single = tx.prepare_cached(&INSERT_RECENT)?;
            let mut multi = tx.prepare_cached(&INSERT_RECENT_MULTI)?;
            for chunk in rows.chunks(RECENT_PER_STATEMENT) {
                if chunk.len() == RECENT_PER_STATEMENT {
                    for (j, row) in chunk.iter().enumerate() {
                        bind(&mut multi, j * 8, row)?;
                    }
                    multi.raw_execute()?;
                } else {
                    for row in chunk {
                        bind(&mut single, 0, row)?;
                        single.raw_execute()?;
                    }
                }
            }
            tx.prepare_cached(TRIM_RECENT)?
                .execute([self.options.recent_requests as i64])?;
        }
        if let Some((identity, to)) = cursor {
            let stored = find_cursor(&tx, identity)?;
            if let Some(expected) = expected
                && stored.as_ref().map_or(Cursor::default(), |(_, c)| *c) != expected
            {
                return Err(TxError::CursorMoved);
            }
            write_cursor(&tx, identity, stored.map(|(fp, _)| fp), to)?;
            crate::cursors::write_checkpoints(&tx, identity, to)?;
        }
        tx.commit()?;
        Ok((stats, pending, ring))
    }
}

/// Why one commit attempt failed.
enum TxError {
    Sqlite(rusqlite::Error),
    CursorMoved,
    /// The database records another IP mode (the stored label).
    IpMode(String),
}

impl From<rusqlite::Error> for TxError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// `YYYY-MM-DD` texts of the few dates in a batch.
#[derive(Default)]
pub(crate) struct DateTexts(Vec<(DateKey, String)>);

impl DateTexts {
    pub(crate) fn get(&mut self, key: DateKey) -> &str {
        let i = match self.0.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.0.push((key, date_text(key)));
                self.0.len() - 1
            }
        };
        &self.0[i].1
    }
}

struct Resolved {
    /// Row id per batch-local id.
    ids: Vec<i64>,
    /// Stored kind per batch-local id (paths only; empty for the other tables).
    kinds: Vec<KindCode>,
    new_values: u64,
    new_escaped: u64,
}

/// What a dimension's values need besides their text.
#[derive(Clone, Copy)]
enum Extra<'a> {
    None,
    /// Client addresses are stored per the IP mode.
    IpMode(&'a IpMode),
    /// New user agents are stored with their class.
    Classify(&'a Classifier),
    /// New paths are stored with their kind.
    Kind(&'a TrapPaths),
}

/// Finds or inserts the rows of one dimension's batch values; lowers `first_seen` where the
/// batch saw a value earlier than the database did.
fn resolve_dim(
    tx: &rusqlite::Transaction<'_>,
    dim: Dim,
    interner: &Interner,
    extra: Extra<'_>,
    (cache, cache_index): (&IdCache, usize),
    kinds: &mut Kinds,
    pending: &mut PendingIds,
) -> rusqlite::Result<Resolved> {
    let mut out = Resolved {
        ids: vec![0; interner.len()],
        kinds: match dim {
            Dim::Path => vec![0; interner.len()],
            _ => Vec::new(),
        },
        new_values: 0,
        new_escaped: 0,
    };
    if interner.len() == 0 {
        return Ok(out);
    }
    let mut values: Vec<(String, bool, u32, i64)> = interner
        .map
        .iter()
        .map(|(raw, &(local, seen))| {
            let (mut text, escaped) = stored_text(raw);
            if let Extra::IpMode(mode) = extra
                && *mode != IpMode::Full
            {
                text = mode.apply(&text);
            }
            (text, escaped, local, seen)
        })
        .collect();
    // Index order: inserting sorted keys touches each index page once.
    values.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let sql = dim.sql();
    let mut find = tx.prepare_cached(sql.find)?;
    let mut insert = tx.prepare_cached(sql.insert)?;
    let mut lower = tx.prepare_cached(sql.lower)?;
    for (text, escaped, local, seen) in values {
        let mut young = false;
        let known = match cache.get(&text) {
            Some((known, in_young)) => {
                young = in_young;
                known
            }
            // Try the insert first: in a growing history most uncached values are new.
            None => match insert_value(&mut insert, extra, &text, seen)? {
                Some(kind) => {
                    out.new_values += 1;
                    out.new_escaped += u64::from(escaped);
                    Known {
                        id: tx.last_insert_rowid(),
                        seen,
                        kind: kinds.code(kind),
                    }
                }
                None => find.query_row(params![text], |r| {
                    Ok(Known {
                        id: r.get(0)?,
                        seen: r.get(1)?,
                        kind: kinds.code(r.get_ref(2)?.as_str_or_null()?),
                    })
                })?,
            },
        };
        if seen < known.seen {
            lower.execute(params![known.id, seen])?;
        }
        out.ids[local as usize] = known.id;
        if let Some(k) = out.kinds.get_mut(local as usize) {
            *k = known.kind;
        }
        // A young entry that stays right needs no update; others are added or promoted.
        if !young || seen < known.seen {
            pending.push((
                cache_index,
                text.into_boxed_str(),
                Known {
                    seen: seen.min(known.seen),
                    ..known
                },
            ));
        }
    }
    Ok(out)
}

/// Inserts one new dimension value (with its class or kind where the table has one).
/// Returns `None` when the value is already stored, else `Some` of the stored kind (`None`
/// for the tables without one).
fn insert_value(
    insert: &mut rusqlite::CachedStatement<'_>,
    extra: Extra<'_>,
    text: &str,
    seen: i64,
) -> rusqlite::Result<Option<Option<&'static str>>> {
    let (inserted, kind) = match extra {
        Extra::Classify(classifier) => {
            let v = classifier.classify(text);
            (
                insert.execute(params![text, seen, v.class.as_str(), v.operator, v.rule])?,
                None,
            )
        }
        Extra::Kind(trap) => {
            let kind = path_kind(text, trap).as_str();
            (insert.execute(params![text, seen, kind])?, Some(kind))
        }
        Extra::None | Extra::IpMode(_) => (insert.execute(params![text, seen])?, None),
    };
    Ok((inserted == 1).then_some(kind))
}

/// Classifies the user agents and paths that need it, inside a writer's transaction: rows
/// without class or kind (written by a previous release), or every row when `all` or when
/// the stored fingerprint of the table (or trap paths) differs from the current one.
fn bring_up_to_date(
    tx: &rusqlite::Transaction<'_>,
    classifier: &Classifier,
    trap: &TrapPaths,
    all: bool,
) -> rusqlite::Result<Reclassified> {
    let mut out = Reclassified::default();
    let get_kv = |key: &str| -> rusqlite::Result<Option<String>> {
        tx.query_row("SELECT value FROM kv_store WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()
    };
    let set_kv = |key: &str, value: &str| -> rusqlite::Result<()> {
        tx.execute(
            "INSERT INTO kv_store (key, value, updated_at) \
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![key, value],
        )?;
        Ok(())
    };

    let agents_all =
        all || get_kv(AGENTS_FINGERPRINT)?.as_deref() != Some(classifier.fingerprint());
    {
        let mut select = tx.prepare(if agents_all {
            "SELECT id, value, class, operator, class_rule FROM user_agents"
        } else {
            "SELECT id, value, class, operator, class_rule FROM user_agents WHERE class IS NULL"
        })?;
        let mut update = tx.prepare(
            "UPDATE user_agents SET class = ?2, operator = ?3, class_rule = ?4 WHERE id = ?1",
        )?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            out.user_agents_checked += 1;
            let (id, value): (i64, String) = (row.get(0)?, row.get(1)?);
            let (class, operator, rule): (Option<String>, Option<String>, Option<String>) =
                (row.get(2)?, row.get(3)?, row.get(4)?);
            let v = classifier.classify(&value);
            if class.as_deref() != Some(v.class.as_str())
                || operator.as_deref() != v.operator
                || rule.as_deref() != Some(v.rule)
            {
                update.execute(params![id, v.class.as_str(), v.operator, v.rule])?;
                out.user_agents.push(AgentChange {
                    user_agent: value,
                    old_class: class,
                    new_class: v.class.as_str().to_owned(),
                    old_operator: operator,
                    new_operator: v.operator.map(str::to_owned),
                    rule: v.rule.to_owned(),
                });
            }
        }
    }
    if agents_all {
        set_kv(AGENTS_FINGERPRINT, classifier.fingerprint())?;
    }

    let trap_fingerprint = trap.fingerprint();
    let paths_all = all || get_kv(PATH_KINDS_FINGERPRINT)?.as_deref() != Some(&trap_fingerprint);
    {
        let mut select = tx.prepare(if paths_all {
            "SELECT id, value, kind FROM paths"
        } else {
            "SELECT id, value, kind FROM paths WHERE kind IS NULL"
        })?;
        let mut update = tx.prepare("UPDATE paths SET kind = ?2 WHERE id = ?1")?;
        let mut counts = BTreeMap::<(Option<String>, &'static str), u64>::new();
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            out.paths_checked += 1;
            let (id, value, kind): (i64, String, Option<String>) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            let new = path_kind(&value, trap).as_str();
            if kind.as_deref() != Some(new) {
                update.execute(params![id, new])?;
                *counts.entry((kind, new)).or_insert(0) += 1;
            }
        }
        out.paths = counts
            .into_iter()
            .map(|((old_kind, new_kind), paths)| KindChange {
                old_kind,
                new_kind: new_kind.to_owned(),
                paths,
            })
            .collect();
    }
    if paths_all {
        set_kv(PATH_KINDS_FINGERPRINT, &trap_fingerprint)?;
    }
    // Changed kinds mark the report summaries stale (a trigger); rebuild them here.
    crate::report::summaries::refresh_if_stale(tx)?;
    Ok(out)
}

/// How a raw log field is stored: unescaped when that is valid UTF-8; otherwise the
/// unescaped bytes re-escaped as printable ASCII (`\\`, `\xNN`), which is lossless.
/// Returns the text and whether it had to be kept escaped.
pub(crate) fn stored_text(raw: &[u8]) -> (String, bool) {
    let bytes = honeybot_logparse::unescape(raw);
    match std::str::from_utf8(&bytes) {
        Ok(s) => (s.to_owned(), false),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 16);
            for &b in bytes.iter() {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => out.push_str(&format!("\\x{b:02X}")),
                }
            }
            (out, true)
        }
    }
}

/// The stored cursor of `identity`: by its full fingerprint, else by the longest shorter
/// prefix of it that was stored while the file was still short. Returns the row key too.
fn find_cursor(
    conn: &Connection,
    identity: &FileIdentity,
) -> rusqlite::Result<Option<(String, Cursor)>> {
    let mut by_fp =
        conn.prepare_cached("SELECT offset, lines FROM import_cursors WHERE fingerprint = ?1")?;
    let read = |fp: &str, stmt: &mut rusqlite::CachedStatement<'_>| {
        stmt.query_row([fp], |r| {
            Ok(Cursor {
                offset: r.get::<_, i64>(0)? as u64,
                lines: r.get::<_, i64>(1)? as u64,
            })
        })
        .optional()
    };
    let fp = identity.fingerprint_hex();
    if let Some(c) = read(&fp, &mut by_fp)? {
        return Ok(Some((fp, c)));
    }
    let mut shorter = conn.prepare_cached(
        "SELECT DISTINCT prefix_len FROM import_cursors WHERE prefix_len < ?1 \
         ORDER BY prefix_len DESC",
    )?;
    let lens: Vec<i64> = shorter
        .query_map([identity.prefix_len() as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for len in lens {
        if let Some(fp) = identity.fingerprint_of_first(len as usize)
            && let Some(c) = read(&fp, &mut by_fp)?
        {
            return Ok(Some((fp, c)));
        }
    }
    Ok(None)
}

fn write_cursor(
    tx: &rusqlite::Transaction<'_>,
    identity: &FileIdentity,
    stored_fp: Option<String>,
    to: Cursor,
) -> rusqlite::Result<()> {
    let fp = identity.fingerprint_hex();
    if let Some(old_fp) = stored_fp
        && old_fp != fp
    {
        // The file grew past the prefix it was known by: re-key its cursor.
        tx.execute(
            "DELETE FROM import_cursors WHERE fingerprint = ?1",
            [old_fp],
        )?;
    }
    let (dev, inode) = identity
        .dev_inode
        .map_or((None, None), |(d, i)| (Some(d as i64), Some(i as i64)));
    tx.prepare_cached(
        "INSERT INTO import_cursors (fingerprint, prefix_len, offset, lines, path, dev, inode, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) \
         ON CONFLICT (fingerprint) DO UPDATE SET prefix_len = excluded.prefix_len, \
           offset = excluded.offset, lines = excluded.lines, \
           path = coalesce(excluded.path, path), dev = excluded.dev, inode = excluded.inode, \
           updated_at = excluded.updated_at",
    )?
    .execute(params![
        fp,
        identity.prefix_len() as i64,
        to.offset as i64,
        to.lines as i64,
        identity.path.as_deref(),
        dev,
        inode
    ])?;
    Ok(())
}

/// Records the IP mode in a database written for the first time; refuses to write client
/// addresses under a different one. Readers never need to know the mode.
fn check_ip_mode(conn: &Connection, mode: &IpMode) -> Result<(), TxError> {
    let label = mode.stored_label();
    conn.execute(
        "INSERT INTO kv_store (key, value, updated_at) \
         VALUES ('ip_mode', ?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) \
         ON CONFLICT (key) DO NOTHING",
        [&label],
    )?;
    let stored: String = conn.query_row(
        "SELECT value FROM kv_store WHERE key = 'ip_mode'",
        [],
        |r| r.get(0),
    )?;
    if stored == label {
        Ok(())
    } else {
        Err(TxError::IpMode(stored))
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64 << attempt.min(5)).min(Duration::from_secs(1))
}

/// Maps SQLite's error codes onto the cases callers handle differently.
pub(crate) fn classify(e: rusqlite::Error, path: &Path) -> DbError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DbError::Busy {
            path: path.to_owned(),
        },
        Some(ErrorCode::DiskFull) => DbError::DiskFull {
            path: path.to_owned(),
        },
        Some(ErrorCode::DatabaseCorrupt) => DbError::Corrupt {
            path: path.to_owned(),
            detail: e.to_string(),
        },
        Some(ErrorCode::NotADatabase) => DbError::Foreign {
            path: path.to_owned(),
            reason: "it is not an SQLite database".to_owned(),
        },
        _ => DbError::Sqlite {
            path: path.to_owned(),
            source: e,
        },
    }
}

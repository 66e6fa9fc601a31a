//! Reading the stored import cursors back by what they describe (for followers that look
//! for files they did not read to the end).

use std::path::Path;
use std::time::Duration;

use crate::db::classify;
use crate::{Cursor, DbError, FileIdentity, HoneyDb};

/// With the cursor of a complete identity, record every line-boundary prefix of its first
/// bytes that the cursor covers as imported (rows without a path, never overwritten): a
/// shorter, older copy of the file (shorter than the identity's 1024 bytes, so with an
/// identity of its own) is then found covered instead of counted again.
pub(crate) fn write_checkpoints(
    tx: &rusqlite::Transaction<'_>,
    identity: &FileIdentity,
    to: Cursor,
) -> rusqlite::Result<()> {
    if !identity.is_complete() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO import_cursors (fingerprint, prefix_len, offset, lines, updated_at) \
         VALUES (?1, ?2, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) \
         ON CONFLICT (fingerprint) DO NOTHING",
    )?;
    for (fp, len, lines) in identity.line_checkpoints(to.offset) {
        stmt.execute(rusqlite::params![fp, len as i64, lines as i64])?;
    }
    Ok(())
}

/// One row of `import_cursors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCursor {
    pub fingerprint: String,
    pub prefix_len: usize,
    pub offset: u64,
    pub lines: u64,
    pub path: Option<String>,
    pub dev_inode: Option<(u64, u64)>,
    /// `YYYY-MM-DDTHH:MM:SSZ` of the last commit.
    pub updated_at: String,
}

impl HoneyDb {
    /// The cursors last written under `path` within `window` of the newest one written
    /// under it: the files an importer of `path` had open when it last committed.
    pub fn latest_cursors_of(
        &self,
        path: &Path,
        window: Duration,
    ) -> Result<Vec<StoredCursor>, DbError> {
        let query = || -> rusqlite::Result<Vec<StoredCursor>> {
            let mut stmt = self.connection().prepare_cached(
                "SELECT fingerprint, prefix_len, offset, lines, path, dev, inode, updated_at \
                 FROM import_cursors WHERE path = ?1 AND julianday(updated_at) >= \
                   (SELECT julianday(max(updated_at)) - ?2 / 86400.0 \
                    FROM import_cursors WHERE path = ?1) \
                 ORDER BY updated_at DESC, fingerprint",
            )?;
            stmt.query_map(
                rusqlite::params![path.to_string_lossy(), window.as_secs_f64()],
                |r| {
                    let dev: Option<i64> = r.get(5)?;
                    let inode: Option<i64> = r.get(6)?;
                    Ok(StoredCursor {
                        fingerprint: r.get(0)?,
                        prefix_len: r.get::<_, i64>(1)? as usize,
                        offset: r.get::<_, i64>(2)? as u64,
                        lines: r.get::<_, i64>(3)? as u64,
                        path: r.get(4)?,
                        dev_inode: dev.zip(inode).map(|(d, i)| (d as u64, i as u64)),
                        updated_at: r.get(7)?,
                    })
                },
            )?
            .collect()
        };
        query().map_err(|e| classify(e, self.path()))
    }
}

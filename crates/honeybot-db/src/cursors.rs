//! Reading the stored import cursors back by what they describe (for followers that look
//! for files they did not read to the end).

use std::path::Path;
use std::time::Duration;

use crate::db::classify;
use crate::{DbError, HoneyDb};

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

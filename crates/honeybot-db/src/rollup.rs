//! The report summaries (see `report/summaries.rs`), written by [`crate::HoneyDb::commit`]
//! once per batch instead of by the per-row triggers on `daily_logs`.
//!
//! Revision 3 keeps the summaries with triggers that fire for every fact row, whichever
//! release writes (the previous release knows nothing of them). They cost more than half of
//! a high-cardinality import. Revision 5 gives those triggers a `WHEN` clause: they stand
//! aside while `kv_store` holds the key [`WRITER_FLAG`]. A commit of this release sets the key
//! inside its transaction, writes the batch's facts, adds the same sums the triggers would
//! have added (aggregated per day and key, in key order) and deletes the key before it
//! commits, so no other connection ever sees it: every other writer, the previous release
//! after a rollback included, still fires the triggers.
//!
//! The sums need each path's stored kind (`paths.kind`, as the triggers read it). The
//! writer keeps it beside the path's id; the trigger added in revision 5 counts kind changes
//! in `kv_store` ([`KINDS_GENERATION`]), and a writer that sees the count move forgets the
//! kinds it holds.

use rusqlite::Transaction;

use crate::db::DateTexts;
use crate::timefmt::DateKey;

/// `kv_store` key that exists only inside a commit that writes the summaries itself.
pub(crate) const WRITER_FLAG: &str = "summaries_kept_by_commit";
/// `kv_store` key counting changes of `paths.kind` (reclassification by any writer).
pub(crate) const KINDS_GENERATION: &str = "path_kinds_generation";

/// Revision 5: the revision-3 triggers on `daily_logs` that add to the summaries, with a
/// `WHEN` clause that lets a commit of this release write the sums itself; the delete
/// triggers are unchanged (no commit deletes facts). Bodies as in revision 3.
pub(crate) const V5: &str = "
DROP TRIGGER daily_logs_summaries_insert;
DROP TRIGGER daily_logs_probes_insert;
DROP TRIGGER daily_logs_probes_update;
DROP TRIGGER daily_logs_summaries_update;
CREATE TRIGGER daily_logs_summaries_insert AFTER INSERT ON daily_logs
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit') BEGIN
    INSERT INTO daily_agent_kinds (date, ua_id, kind, status, count)
    VALUES (NEW.date, NEW.ua_id,
            coalesce((SELECT kind FROM paths WHERE id = NEW.path_id), ''), NEW.status, NEW.count)
    ON CONFLICT (date, ua_id, kind, status) DO UPDATE SET count = count + excluded.count;
    INSERT INTO daily_paths (date, path_id, status, count)
    VALUES (NEW.date, NEW.path_id, NEW.status, NEW.count)
    ON CONFLICT (status, date, path_id) DO UPDATE SET count = count + excluded.count;
END;
CREATE TRIGGER daily_logs_probes_insert AFTER INSERT ON daily_logs
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit')
 AND (SELECT kind FROM paths WHERE id = NEW.path_id) = 'probe' BEGIN
    INSERT INTO daily_client_probes (date, ip_id, count) VALUES (NEW.date, NEW.ip_id, NEW.count)
    ON CONFLICT (date, ip_id) DO UPDATE SET count = count + excluded.count;
END;
CREATE TRIGGER daily_logs_probes_update AFTER UPDATE OF count ON daily_logs
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit')
 AND (SELECT kind FROM paths WHERE id = NEW.path_id) = 'probe' BEGIN
    INSERT INTO daily_client_probes (date, ip_id, count)
    VALUES (NEW.date, NEW.ip_id, NEW.count - OLD.count)
    ON CONFLICT (date, ip_id) DO UPDATE SET count = count + excluded.count;
END;
CREATE TRIGGER daily_logs_summaries_update AFTER UPDATE OF count ON daily_logs
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit') BEGIN
    INSERT INTO daily_agent_kinds (date, ua_id, kind, status, count)
    VALUES (NEW.date, NEW.ua_id,
            coalesce((SELECT kind FROM paths WHERE id = NEW.path_id), ''), NEW.status,
            NEW.count - OLD.count)
    ON CONFLICT (date, ua_id, kind, status) DO UPDATE SET count = count + excluded.count;
    INSERT INTO daily_paths (date, path_id, status, count)
    VALUES (NEW.date, NEW.path_id, NEW.status, NEW.count - OLD.count)
    ON CONFLICT (status, date, path_id) DO UPDATE SET count = count + excluded.count;
END;
DROP TRIGGER daily_agent_kinds_monthly_insert;
DROP TRIGGER daily_agent_kinds_monthly_update;
DROP TRIGGER daily_paths_monthly_insert;
DROP TRIGGER daily_paths_monthly_update;
DROP TRIGGER daily_client_probes_monthly_insert;
DROP TRIGGER daily_client_probes_monthly_update;
CREATE TRIGGER daily_agent_kinds_monthly_insert AFTER INSERT ON daily_agent_kinds
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit') BEGIN
    INSERT INTO monthly_agent_kinds (month, ua_id, kind, status, count, first_date, last_date)
    VALUES (substr(NEW.date, 1, 7), NEW.ua_id, NEW.kind, NEW.status, NEW.count, NEW.date, NEW.date)
    ON CONFLICT (month, ua_id, kind, status) DO UPDATE SET count = count + excluded.count,
        first_date = min(first_date, excluded.first_date),
        last_date = max(last_date, excluded.last_date);
END;
CREATE TRIGGER daily_agent_kinds_monthly_update AFTER UPDATE OF count ON daily_agent_kinds
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit') BEGIN
    UPDATE monthly_agent_kinds SET count = count + NEW.count - OLD.count
     WHERE month = substr(NEW.date, 1, 7) AND ua_id = NEW.ua_id AND kind = NEW.kind
       AND status = NEW.status;
END;
CREATE TRIGGER daily_paths_monthly_insert AFTER INSERT ON daily_paths
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit') BEGIN
    INSERT INTO monthly_paths (status, month, path_id, count, first_date, last_date)
    VALUES (NEW.status, substr(NEW.date, 1, 7), NEW.path_id, NEW.count, NEW.date, NEW.date)
    ON CONFLICT (status, month, path_id) DO UPDATE SET count = count + excluded.count,
        first_date = min(first_date, excluded.first_date),
        last_date = max(last_date, excluded.last_date);
END;
CREATE TRIGGER daily_paths_monthly_update AFTER UPDATE OF count ON daily_paths
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit') BEGIN
    UPDATE monthly_paths SET count = count + NEW.count - OLD.count
     WHERE status = NEW.status AND month = substr(NEW.date, 1, 7) AND path_id = NEW.path_id;
END;
CREATE TRIGGER daily_client_probes_monthly_insert AFTER INSERT ON daily_client_probes
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit') BEGIN
    INSERT INTO monthly_client_probes (month, ip_id, count, first_date, last_date)
    VALUES (substr(NEW.date, 1, 7), NEW.ip_id, NEW.count, NEW.date, NEW.date)
    ON CONFLICT (month, ip_id) DO UPDATE SET count = count + excluded.count,
        first_date = min(first_date, excluded.first_date),
        last_date = max(last_date, excluded.last_date);
END;
CREATE TRIGGER daily_client_probes_monthly_update AFTER UPDATE OF count ON daily_client_probes
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit') BEGIN
    UPDATE monthly_client_probes SET count = count + NEW.count - OLD.count
     WHERE month = substr(NEW.date, 1, 7) AND ip_id = NEW.ip_id;
END;
DROP TRIGGER daily_logs_clients_insert;
CREATE TRIGGER daily_logs_clients_insert AFTER INSERT ON daily_logs
WHEN NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit')
 AND NOT EXISTS (SELECT 1 FROM daily_logs WHERE date = NEW.date AND ip_id = NEW.ip_id
                   AND (ua_id, path_id, status) <> (NEW.ua_id, NEW.path_id, NEW.status)) BEGIN
    INSERT INTO yearly_clients (year, ip_id, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10,
                                m11, m12)
    SELECT y, NEW.ip_id, (m = 1) * b, (m = 2) * b, (m = 3) * b, (m = 4) * b, (m = 5) * b,
           (m = 6) * b, (m = 7) * b, (m = 8) * b, (m = 9) * b, (m = 10) * b, (m = 11) * b,
           (m = 12) * b
      FROM (SELECT CAST(substr(NEW.date, 1, 4) AS INTEGER) AS y,
                   CAST(substr(NEW.date, 6, 2) AS INTEGER) AS m,
                   1 << (CAST(substr(NEW.date, 9, 2) AS INTEGER) - 1) AS b)
     WHERE true
    ON CONFLICT (year, ip_id) DO UPDATE SET
        m01 = m01 | excluded.m01, m02 = m02 | excluded.m02, m03 = m03 | excluded.m03,
        m04 = m04 | excluded.m04, m05 = m05 | excluded.m05, m06 = m06 | excluded.m06,
        m07 = m07 | excluded.m07, m08 = m08 | excluded.m08, m09 = m09 | excluded.m09,
        m10 = m10 | excluded.m10, m11 = m11 | excluded.m11, m12 = m12 | excluded.m12
     WHERE ((m01 & excluded.m01) | (m02 & excluded.m02) | (m03 & excluded.m03)
          | (m04 & excluded.m04) | (m05 & excluded.m05) | (m06 & excluded.m06)
          | (m07 & excluded.m07) | (m08 & excluded.m08) | (m09 & excluded.m09)
          | (m10 & excluded.m10) | (m11 & excluded.m11) | (m12 & excluded.m12)) = 0;
END;
CREATE TRIGGER paths_kind_generation AFTER UPDATE OF kind ON paths
WHEN OLD.kind IS NOT NEW.kind BEGIN
    INSERT INTO kv_store (key, value, updated_at)
    VALUES ('path_kinds_generation', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    ON CONFLICT (key) DO UPDATE SET value = value + 1, updated_at = excluded.updated_at;
END;
";

/// Stored names by a small code (path kinds; the ring's request methods): 0 is NULL or `''` (the
/// triggers' `coalesce(kind, '')`),
/// the others index the texts seen so far (a kind written by another release is kept as
/// it is stored).
#[derive(Debug)]
pub(crate) struct Kinds {
    names: Vec<Box<str>>,
}

impl Default for Kinds {
    fn default() -> Self {
        Self {
            names: vec!["".into()],
        }
    }
}

pub(crate) type KindCode = u16;

impl Kinds {
    pub(crate) fn code(&mut self, kind: Option<&str>) -> KindCode {
        let kind = kind.unwrap_or_default();
        match self.names.iter().position(|n| &**n == kind) {
            Some(i) => i as KindCode,
            None => {
                self.names.push(kind.into());
                (self.names.len() - 1) as KindCode
            }
        }
    }

    pub(crate) fn name(&self, code: KindCode) -> &str {
        &self.names[usize::from(code)]
    }
}

/// One fact of the batch with its stored ids and its path's kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fact {
    pub(crate) date: DateKey,
    pub(crate) ip: i64,
    pub(crate) ua: i64,
    pub(crate) path: i64,
    pub(crate) kind: KindCode,
    pub(crate) status: u16,
    pub(crate) count: u64,
}

/// Sorts by key and adds up equal keys (with the first and last day of each).
fn summed<K: Ord + Copy>(rows: impl Iterator<Item = (K, u64, DateKey)>) -> Vec<Sum<K>> {
    let mut rows: Vec<Sum<K>> = rows
        .map(|(key, count, date)| Sum {
            key,
            count,
            first: date,
            last: date,
        })
        .collect();
    rows.sort_unstable_by_key(|r| r.key);
    rows.dedup_by(|next, kept| {
        let same = next.key == kept.key;
        if same {
            kept.count += next.count;
            kept.first = kept.first.min(next.first);
            kept.last = kept.last.max(next.last);
        }
        same
    });
    rows
}

/// A summary row to add: its key, the requests, and the days they fell on.
#[derive(Debug, Clone, Copy)]
struct Sum<K> {
    key: K,
    count: u64,
    first: DateKey,
    last: DateKey,
}

/// Parameters per multi-row upsert statement at most (SQLite allows 32 766).
const PARAMS_PER_STATEMENT: usize = 768;

/// Upserts `rows` into a summary: `head` is `INSERT INTO t (columns) VALUES `, `tail` the
/// `ON CONFLICT ...` clause; `bind` binds one row's `n` parameters from the given index.
/// Full chunks go through one multi-row statement (fewer statement runs).
pub(crate) fn upsert<R>(
    tx: &Transaction<'_>,
    head: &str,
    tail: &str,
    n: usize,
    rows: &[R],
    mut bind: impl FnMut(&mut rusqlite::CachedStatement<'_>, usize, &R) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let per = PARAMS_PER_STATEMENT / n;
    let one = format!("({})", vec!["?"; n].join(", "));
    let mut single = tx.prepare_cached(&format!("{head}{one} {tail}"))?;
    let mut multi = None;
    for chunk in rows.chunks(per) {
        if chunk.len() == per {
            let stmt = match &mut multi {
                Some(stmt) => stmt,
                None => multi.insert(tx.prepare_cached(&format!(
                    "{head}{} {tail}",
                    vec![one.as_str(); per].join(", ")
                ))?),
            };
            for (j, row) in chunk.iter().enumerate() {
                bind(stmt, j * n + 1, row)?;
            }
            stmt.raw_execute()?;
        } else {
            for row in chunk {
                bind(&mut single, 1, row)?;
                single.raw_execute()?;
            }
        }
    }
    Ok(())
}

/// Month (`YYYY-MM`) of a stored day.
fn month(day: &str) -> &str {
    &day[..7]
}

/// Adds `rows` to the daily summary `table` (key columns `keys`, one of them `date`) or,
/// when `monthly`, to its roll-up (`monthly_*`: `month` in place of `date`, and the first and
/// last day of the rows' requests, widened as the triggers widen them). `bind_key` binds a
/// row's key columns from the given parameter index; `day` is the text of a day's rank.
fn add_sums<'d, K>(
    tx: &Transaction<'_>,
    table: &str,
    keys: &[&str],
    monthly: bool,
    rows: &[Sum<K>],
    day: impl Fn(usize) -> &'d str,
    mut bind_key: impl FnMut(&mut rusqlite::CachedStatement<'_>, usize, &K) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let (table, columns, set) = if monthly {
        (
            table.replacen("daily_", "monthly_", 1),
            keys.iter()
                .map(|&k| if k == "date" { "month" } else { k })
                .collect::<Vec<_>>(),
            "count = count + excluded.count, first_date = min(first_date, excluded.first_date), \
             last_date = max(last_date, excluded.last_date)",
        )
    } else {
        (
            table.to_owned(),
            keys.to_vec(),
            "count = count + excluded.count",
        )
    };
    let key_list = columns.join(", ");
    let values = if monthly {
        "count, first_date, last_date"
    } else {
        "count"
    };
    upsert(
        tx,
        &format!("INSERT INTO {table} ({key_list}, {values}) VALUES "),
        &format!("ON CONFLICT ({key_list}) DO UPDATE SET {set}"),
        keys.len() + if monthly { 3 } else { 1 },
        rows,
        |stmt, at, s| {
            bind_key(stmt, at, &s.key)?;
            let at = at + keys.len();
            stmt.raw_bind_parameter(at, s.count as i64)?;
            if monthly {
                stmt.raw_bind_parameter(at + 1, day(s.first as usize))?;
                stmt.raw_bind_parameter(at + 2, day(s.last as usize))?;
            }
            Ok(())
        },
    )
}

/// Adds the batch's facts to the six report summaries of revision 3 and to revision 4's
/// `yearly_clients` (`daily_agents` follows `daily_agent_kinds` through its triggers) as the
/// triggers would have, one upsert per distinct key: the daily tables per (day, key), the monthly ones per
/// (month, key) with the first and last day of the batch's requests in that month (the
/// triggers widen `first_date`/`last_date` by the day of each new daily row; a daily row
/// that already existed lies within them).
pub(crate) fn write(
    tx: &Transaction<'_>,
    facts: &[Fact],
    kinds: &Kinds,
    dates: &mut DateTexts,
) -> rusqlite::Result<()> {
    let probe = kinds.names.iter().position(|n| &**n == "probe");
    // Months sort like their days: a month key is the key of its first day's text.
    let mut day_texts: Vec<(DateKey, String)> = Vec::new();
    for f in facts {
        if !day_texts.iter().any(|(k, _)| *k == f.date) {
            day_texts.push((f.date, dates.get(f.date).to_owned()));
        }
    }
    day_texts.sort_unstable_by(|a, b| a.1.cmp(&b.1));
    // Day order index (sorted by text), and the index of the month each day opens.
    let rank = |key: DateKey| day_texts.iter().position(|(k, _)| *k == key).unwrap_or(0);
    let month_rank: Vec<usize> = (0..day_texts.len())
        .map(|i| {
            day_texts
                .iter()
                .position(|(_, t)| month(t) == month(&day_texts[i].1))
                .unwrap_or(i)
        })
        .collect();
    let day = |i: usize| day_texts[i].1.as_str();
    let ranked = || facts.iter().map(|f| (rank(f.date), f));
    // Sum rows carry the day's rank as their date (`DateKey` is only an order here).
    let by_day = |r: usize| r as DateKey;
    let probes = |f: &(usize, &Fact)| probe == Some(usize::from(f.1.kind));

    // The date column of a daily row, or of its monthly roll-up.
    let period = |d: DateKey, monthly: bool| {
        let text = day(d as usize);
        if monthly { month(text) } else { text }
    };
    for monthly in [false, true] {
        let rank_of = |r: usize| by_day(if monthly { month_rank[r] } else { r });

        let rows = summed(
            ranked().map(|(r, f)| ((rank_of(r), f.ua, f.kind, f.status), f.count, by_day(r))),
        );
        add_sums(
            tx,
            "daily_agent_kinds",
            &["date", "ua_id", "kind", "status"],
            monthly,
            &rows,
            day,
            |stmt, at, &(d, ua, kind, status)| {
                stmt.raw_bind_parameter(at, period(d, monthly))?;
                stmt.raw_bind_parameter(at + 1, ua)?;
                stmt.raw_bind_parameter(at + 2, kinds.name(kind))?;
                stmt.raw_bind_parameter(at + 3, status)
            },
        )?;

        let rows =
            summed(ranked().map(|(r, f)| ((f.status, rank_of(r), f.path), f.count, by_day(r))));
        add_sums(
            tx,
            "daily_paths",
            &["status", "date", "path_id"],
            monthly,
            &rows,
            day,
            |stmt, at, &(status, d, path)| {
                stmt.raw_bind_parameter(at, status)?;
                stmt.raw_bind_parameter(at + 1, period(d, monthly))?;
                stmt.raw_bind_parameter(at + 2, path)
            },
        )?;

        // Probe paths only.
        if probe.is_some() {
            let rows = summed(
                ranked()
                    .filter(probes)
                    .map(|(r, f)| ((rank_of(r), f.ip), f.count, by_day(r))),
            );
            add_sums(
                tx,
                "daily_client_probes",
                &["date", "ip_id"],
                monthly,
                &rows,
                day,
                |stmt, at, &(d, ip)| {
                    stmt.raw_bind_parameter(at, period(d, monthly))?;
                    stmt.raw_bind_parameter(at + 1, ip)
                },
            )?;
        }
    }

    // yearly_clients (year, ip_id): the days each client made a request, one bit per day in
    // the column of its month, OR-ed in (a row is only written when a bit is new).
    let mut clients: Vec<((i64, i64), [i64; 12])> = facts
        .iter()
        .map(|f| {
            let d = day(rank(f.date));
            let field = |r: std::ops::Range<usize>| d[r].parse::<i64>().unwrap_or(1);
            let (year, month, dom) = (field(0..4), field(5..7), field(8..10));
            let mut bits = [0; 12];
            bits[(month.clamp(1, 12) - 1) as usize] = 1 << (dom.clamp(1, 31) - 1);
            ((year, f.ip), bits)
        })
        .collect();
    clients.sort_unstable_by_key(|c| c.0);
    clients.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            for (k, n) in kept.1.iter_mut().zip(next.1) {
                *k |= n;
            }
        }
        same
    });
    let months =
        |f: &dyn Fn(usize) -> String, sep: &str| (1..=12).map(f).collect::<Vec<_>>().join(sep);
    upsert(
        tx,
        &format!(
            "INSERT INTO yearly_clients (year, ip_id, {}) VALUES ",
            months(&|m| format!("m{m:02}"), ", ")
        ),
        &format!(
            "ON CONFLICT (year, ip_id) DO UPDATE SET {} WHERE ({}) <> 0",
            months(&|m| format!("m{m:02} = m{m:02} | excluded.m{m:02}"), ", "),
            months(&|m| format!("(excluded.m{m:02} & ~m{m:02})"), " | ")
        ),
        14,
        &clients,
        |stmt, at, ((year, ip), bits)| {
            stmt.raw_bind_parameter(at, year)?;
            stmt.raw_bind_parameter(at + 1, ip)?;
            for (i, b) in bits.iter().enumerate() {
                stmt.raw_bind_parameter(at + 2 + i, b)?;
            }
            Ok(())
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// `CREATE TRIGGER` statements of a script by name, whitespace collapsed.
    fn triggers(sql: &str) -> BTreeMap<String, String> {
        let words: Vec<&str> = sql.split_whitespace().collect();
        let text = words.join(" ");
        text.split("CREATE TRIGGER ")
            .skip(1)
            .map(|t| {
                let body = &t[..t.find(" END;").expect("END") + 5];
                (
                    body.split(' ').next().expect("name").to_owned(),
                    format!("CREATE TRIGGER {body}"),
                )
            })
            .collect()
    }

    #[test]
    fn revision_5_triggers_are_revision_3_s_with_only_the_flag_added() {
        let mut v3 = triggers(crate::report::summaries::summaries_sql!());
        v3.extend(triggers(crate::report::summaries::summaries_v4_sql!()));
        let v5 = triggers(super::V5);
        let flag = "NOT EXISTS (SELECT 1 FROM kv_store WHERE key = 'summaries_kept_by_commit')";
        let mut replaced = 0;
        for (name, text) in &v5 {
            if name == "paths_kind_generation" {
                continue;
            }
            let without = text
                .replace(&format!("WHEN {flag} AND "), "WHEN ")
                .replace(&format!(" WHEN {flag} BEGIN"), " BEGIN");
            assert_ne!(&without, text, "{name} has no flag");
            assert_eq!(Some(&without), v3.get(name), "{name}");
            assert!(
                super::V5.contains(&format!("DROP TRIGGER {name};")),
                "{name} replaced"
            );
            replaced += 1;
        }
        // Every trigger that adds to a summary from `daily_logs` or a daily summary; the
        // delete triggers (and revision 4's roll-up to `daily_agents`) stay as they were.
        assert_eq!(replaced, 11);
        assert_eq!(
            v3.keys().filter(|n| !v5.contains_key(*n)).count(),
            v3.len() - replaced
        );
        assert!(
            v3.keys()
                .filter(|n| !v5.contains_key(*n))
                .all(|n| n.ends_with("_delete")
                    || n.starts_with("daily_agent_kinds_agents_")
                    || n == "paths_kind_summaries_stale")
        );
    }
}

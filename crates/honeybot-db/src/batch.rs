//! In-memory aggregation of parsed log entries between two commits.

use std::collections::{HashMap, VecDeque};

use honeybot_logparse::{Entry, ParseError};

use crate::timefmt::{DateKey, date_key};
use crate::{DbOptions, TimeZonePolicy};

/// Hash maps keyed by attacker-controlled bytes: fast, but seeded per process so colliding
/// keys cannot be precomputed.
pub(crate) type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Distinct raw values (as written in the log) of one dimension within a batch, each with a
/// batch-local id and the earliest Unix time it was seen.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    pub(crate) map: Map<Box<[u8]>, (u32, i64)>,
}

impl Interner {
    #[inline]
    fn intern(&mut self, raw: &[u8], seen: i64) -> u32 {
        if let Some(entry) = self.map.get_mut(raw) {
            if seen < entry.1 {
                entry.1 = seen;
            }
            return entry.0;
        }
        let id = self.map.len() as u32;
        self.map.insert(raw.into(), (id, seen));
        id
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// Key of one row of `daily_logs`, with batch-local dimension ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FactKey {
    pub(crate) date: DateKey,
    pub(crate) ip: u32,
    pub(crate) ua: u32,
    pub(crate) path: u32,
    pub(crate) status: u16,
}

/// One request of the `recent_requests` ring, with batch-local dimension ids.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecentRow {
    pub(crate) ts: i64,
    pub(crate) ip: u32,
    pub(crate) ua: u32,
    pub(crate) path: u32,
    /// Local id in `Batch::methods`; `None` for a request without `METHOD TARGET` shape.
    pub(crate) method: Option<u32>,
    pub(crate) status: u16,
    pub(crate) bytes: Option<u64>,
    pub(crate) referrer: Option<u32>,
}

/// Parsed entries aggregated in memory: counts per (date, ip, user agent, path, status),
/// referrer and Accept side facts, the earliest timestamp of every dimension value, and
/// malformed lines by kind. Written by [`crate::HoneyDb::commit`] in one transaction.
///
/// Memory grows with the number of DISTINCT values, not lines; callers bound it by
/// committing every N lines.
#[derive(Debug)]
pub struct Batch {
    time_zone: TimeZonePolicy,
    pub(crate) ips: Interner,
    pub(crate) user_agents: Interner,
    pub(crate) paths: Interner,
    pub(crate) referrers: Interner,
    pub(crate) accepts: Interner,
    pub(crate) facts: Map<FactKey, u64>,
    /// (date, path, referrer) -> count
    pub(crate) referrer_facts: Map<(DateKey, u32, u32), u64>,
    /// (date, user agent, accept value, markdown_served value as interned in `markdown`)
    pub(crate) accept_facts: Map<(DateKey, u32, u32, u32), u64>,
    pub(crate) markdown: Interner,
    pub(crate) malformed: Map<ParseError, u64>,
    pub(crate) lines_parsed: u64,
    pub(crate) lines_malformed: u64,
    /// The latest requests, in log order, at most `recent_cap` of them.
    pub(crate) recent: VecDeque<RecentRow>,
    pub(crate) recent_cap: usize,
    pub(crate) methods: Interner,
    /// Whether the commit leaves this batch's ring rows to the handle's next commit that
    /// writes the ring (see [`Batch::leave_ring_for_later`]).
    pub(crate) ring_later: bool,
    /// Requests for this path with a query are counted under the bare path.
    beacon: Box<[u8]>,
}

impl Batch {
    /// An empty batch that dates lines by `time_zone` (and the other options at their
    /// defaults).
    pub fn new(time_zone: TimeZonePolicy) -> Self {
        Self::with_options(&DbOptions {
            time_zone,
            ..DbOptions::default()
        })
    }

    /// An empty batch for a database opened with `options`: its time zone policy, ring
    /// size and beacon path.
    pub fn with_options(options: &DbOptions) -> Self {
        Self {
            recent: VecDeque::new(),
            recent_cap: options.recent_requests,
            ring_later: false,
            methods: Interner::default(),
            beacon: options.trap.beacon.as_bytes().into(),
            time_zone: options.time_zone,
            ips: Interner::default(),
            user_agents: Interner::default(),
            paths: Interner::default(),
            referrers: Interner::default(),
            accepts: Interner::default(),
            facts: Map::default(),
            referrer_facts: Map::default(),
            accept_facts: Map::default(),
            markdown: Interner::default(),
            malformed: Map::default(),
            lines_parsed: 0,
            lines_malformed: 0,
        }
    }

    /// Counts one parsed line.
    #[inline]
    pub fn add(&mut self, entry: &Entry<'_>) {
        let seen = entry.time.unix_seconds();
        let date = date_key(&entry.time, self.time_zone);
        let ip = self.ips.intern(entry.remote_addr, seen);
        let ua = self
            .user_agents
            .intern(entry.user_agent.unwrap_or_default(), seen);
        let mut target = entry.request.path();
        // The beacon's unique query defeats caches; it must not make a path per hit.
        if target.len() > self.beacon.len()
            && target[self.beacon.len()] == b'?'
            && target.starts_with(&self.beacon)
            && entry.request.method().is_some()
        {
            target = &target[..self.beacon.len()];
        }
        let path = self.paths.intern(target, seen);
        *self
            .facts
            .entry(FactKey {
                date,
                ip,
                ua,
                path,
                status: entry.status,
            })
            .or_insert(0) += 1;
        let referrer = entry.referer.map(|referer| {
            let r = self.referrers.intern(referer, seen);
            *self.referrer_facts.entry((date, path, r)).or_insert(0) += 1;
            r
        });
        if self.recent_cap > 0 {
            if self.recent.len() == self.recent_cap {
                self.recent.pop_front();
            }
            let method = entry.request.method().map(|m| self.methods.intern(m, 0));
            self.recent.push_back(RecentRow {
                ts: seen,
                ip,
                ua,
                path,
                method,
                status: entry.status,
                bytes: entry.bytes,
                referrer,
            });
        }
        if let Some(accept) = entry.accept {
            let a = self.accepts.intern(accept, seen);
            let md = self
                .markdown
                .intern(entry.markdown_served.unwrap_or_default(), 0);
            *self.accept_facts.entry((date, ua, a, md)).or_insert(0) += 1;
        }
        self.lines_parsed += 1;
    }

    /// Lets the commit of this batch leave its `recent_requests` rows to the next commit of
    /// the same handle that writes the ring (they are kept in memory, at most the ring's
    /// size): a bulk import writes the ring at most about once a second instead of at
    /// every batch. Rows left for later are lost if no later commit writes the ring (the
    /// counts are not affected).
    pub fn leave_ring_for_later(&mut self) {
        self.ring_later = true;
    }

    /// Counts one line the parser rejected.
    pub fn add_malformed(&mut self, error: &ParseError) {
        *self.malformed.entry(*error).or_insert(0) += 1;
        self.lines_malformed += 1;
    }

    /// Lines counted so far (parsed + malformed).
    pub fn lines(&self) -> u64 {
        self.lines_parsed + self.lines_malformed
    }

    /// Distinct entries held (facts plus dimension values): what the batch's memory grows
    /// with. Importers commit when it passes a bound.
    pub fn footprint(&self) -> usize {
        self.facts.len()
            + self.referrer_facts.len()
            + self.accept_facts.len()
            + self.ips.len()
            + self.user_agents.len()
            + self.paths.len()
            + self.referrers.len()
            + self.accepts.len()
    }

    /// Whether no line has been counted.
    pub fn is_empty(&self) -> bool {
        self.lines() == 0
    }

    /// The time zone policy lines are dated by.
    pub fn time_zone(&self) -> TimeZonePolicy {
        self.time_zone
    }
}

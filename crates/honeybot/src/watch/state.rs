//! What the dashboard shows, as plain data: the newest requests (a bounded ring) and the
//! day's panels. Every string that came from the network is made inert here, once, when it
//! enters the state ([`Request::from_raw`], [`Panels::sanitized`]); rendering only lays out.

use std::collections::VecDeque;

use crate::sanitize::for_terminal;

/// One row of HoneyDB's `recent_requests` ring, joined with its user agent and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The ring's row id (grows with every request).
    pub id: i64,
    /// Unix seconds.
    pub ts: i64,
    /// The client as stored (full, truncated or hashed, per the DB's IP mode).
    pub client: String,
    pub method: String,
    pub path: String,
    /// `paths.kind` (page, asset, trap, beacon, markdown, ...); `None` when not classified.
    pub path_kind: Option<String>,
    pub status: u16,
    pub user_agent: String,
    /// `user_agents.class`; `None` when not classified yet.
    pub class: Option<String>,
    pub operator: Option<String>,
    /// The token the class was decided by (`GPTBot`), when a token of the table decided it.
    pub agent: Option<String>,
}

impl Request {
    /// A request whose network strings (client, method, path, user agent, class and
    /// operator, which a user's pattern file may set) are escaped for the terminal.
    pub fn from_raw(raw: Request) -> Request {
        let clean = |s: &str| for_terminal(s);
        Request {
            client: clean(&raw.client),
            method: clean(&raw.method),
            path: clean(&raw.path),
            path_kind: raw.path_kind.as_deref().map(clean),
            user_agent: clean(&raw.user_agent),
            class: raw.class.as_deref().map(clean),
            operator: raw.operator.as_deref().map(clean),
            agent: raw.agent.as_deref().map(clean),
            ..raw
        }
    }

    /// An AI crawler or an assistant fetching for a person.
    pub fn is_ai(&self) -> bool {
        self.class.as_deref().is_some_and(|c| c.starts_with("ai-"))
    }

    /// A fetch of the trap script or a hit on its beacon.
    pub fn is_trap(&self) -> bool {
        matches!(self.path_kind.as_deref(), Some("trap" | "beacon"))
    }
}

/// A name and how many requests it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub name: String,
    pub hits: u64,
}

/// A user agent that asked for Markdown: by `Accept: text/markdown`, or by fetching `.md`
/// files and `llms.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownReader {
    pub user_agent: String,
    pub by_accept: u64,
    pub by_path: u64,
}

/// The day's figures beside the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Panels {
    /// The day the panels cover (`YYYY-MM-DD`, the newest date in the history).
    pub day: Option<String>,
    /// Requests in the whole history (`kv_store.lines_parsed`, kept by every import).
    pub requests_total: u64,
    pub requests_today: u64,
    pub clients_today: u64,
    /// Requests in the last 60 seconds (wall clock) in the ring.
    pub per_minute: u64,
    /// `kv_store.ip_mode`: how clients are stored.
    pub ip_mode: Option<String>,
    /// User agents that hit the beacon today (they ran the trap script).
    pub js_executors: Vec<Tally>,
    pub markdown_readers: Vec<MarkdownReader>,
    /// AI operators today, by requests.
    pub ai_operators: Vec<Tally>,
}

impl Panels {
    /// The same figures with every user agent and operator name escaped for the terminal.
    pub fn sanitized(self) -> Panels {
        let tally = |v: Vec<Tally>| {
            v.into_iter()
                .map(|t| Tally {
                    name: for_terminal(&t.name),
                    hits: t.hits,
                })
                .collect()
        };
        Panels {
            day: self.day.as_deref().map(for_terminal),
            ip_mode: self.ip_mode.as_deref().map(for_terminal),
            js_executors: tally(self.js_executors),
            ai_operators: tally(self.ai_operators),
            markdown_readers: self
                .markdown_readers
                .into_iter()
                .map(|m| MarkdownReader {
                    user_agent: for_terminal(&m.user_agent),
                    ..m
                })
                .collect(),
            ..self
        }
    }
}

/// The dashboard's state.
#[derive(Debug, Clone)]
pub struct State {
    /// Shown in the header (already escaped).
    pub db_label: String,
    rows: VecDeque<Request>,
    capacity: usize,
    /// The newest ring id seen: the next poll asks for `id > last_seen`.
    pub last_seen: i64,
    /// Requests that arrived while this dashboard ran.
    pub seen_since_start: u64,
    pub panels: Panels,
}

impl State {
    /// An empty state keeping at most `capacity` requests.
    pub fn new(db_label: &str, capacity: usize) -> State {
        State {
            db_label: for_terminal(db_label),
            rows: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            last_seen: 0,
            seen_since_start: 0,
            panels: Panels::default(),
        }
    }

    /// Appends requests read from the ring (in id order), sanitising them; the oldest fall
    /// off past the capacity. Rows at or below `last_seen` are ignored (a repeated poll
    /// adds nothing). Returns how many were new.
    pub fn push(&mut self, raw: impl IntoIterator<Item = Request>) -> usize {
        let mut added = 0;
        for r in raw {
            if r.id <= self.last_seen {
                continue;
            }
            self.last_seen = r.id;
            self.rows.push_back(Request::from_raw(r));
            added += 1;
            if self.rows.len() > self.capacity {
                self.rows.pop_front();
            }
        }
        added
    }

    /// Like [`State::push`], for rows that were already in the ring when the dashboard
    /// started (not counted as seen since start).
    pub fn backfill(&mut self, raw: impl IntoIterator<Item = Request>) {
        self.push(raw);
    }

    /// Records rows that arrived live.
    pub fn arrived(&mut self, raw: impl IntoIterator<Item = Request>) -> usize {
        let n = self.push(raw);
        self.seen_since_start += n as u64;
        n
    }

    /// The newest `n` requests, oldest first (the stream's bottom line is the newest).
    pub fn newest(&self, n: usize) -> impl Iterator<Item = &Request> {
        self.rows.iter().skip(self.rows.len().saturating_sub(n))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn req(id: i64, ua: &str) -> Request {
        Request {
            id,
            ts: 1_764_900_000 + id,
            client: "203.0.113.7".into(),
            method: "GET".into(),
            path: format!("/p/{id}"),
            path_kind: Some("page".into()),
            status: 200,
            user_agent: ua.into(),
            class: Some("browser".into()),
            operator: None,
            agent: None,
        }
    }

    #[test]
    fn ring_keeps_the_newest_and_ignores_repeats() {
        let mut s = State::new("db", 3);
        s.backfill((1..=2).map(|i| req(i, "a")));
        assert_eq!(
            s.arrived((1..=5).map(|i| req(i, "a"))),
            3,
            "1 and 2 were there"
        );
        assert_eq!(s.seen_since_start, 3);
        assert_eq!(s.last_seen, 5);
        let ids: Vec<i64> = s.newest(10).map(|r| r.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        let ids: Vec<i64> = s.newest(2).map(|r| r.id).collect();
        assert_eq!(ids, [4, 5]);
    }

    #[test]
    fn network_strings_are_inert_once_in_the_state() {
        let mut s = State::new("db\x1b[2J", 10);
        let mut r = req(1, "evil\x1b]52;c;cHduZWQ=\x07\u{202e}gnp.exe\u{9b}31m");
        r.path = "/\x1b[2Jx".into();
        r.client = "\x1b[31m1.2.3.4".into();
        r.operator = Some("Op\x07".into());
        s.push([r]);
        let got = s.newest(1).next().expect("a row");
        for text in [&got.user_agent, &got.path, &got.client, &s.db_label] {
            assert!(
                !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{text:?}"
            );
        }
        assert_eq!(
            got.user_agent,
            "evil\\u{1b}]52;c;cHduZWQ=\\u{7}\\u{202e}gnp.exe\\u{9b}31m"
        );
        assert_eq!(got.operator.as_deref(), Some("Op\\u{7}"));
    }

    #[test]
    fn ai_and_trap_rows_are_recognised() {
        let mut r = req(1, "GPTBot/1.2");
        assert!(!r.is_ai() && !r.is_trap());
        r.class = Some("ai-crawler".into());
        r.path_kind = Some("beacon".into());
        assert!(r.is_ai() && r.is_trap());
        r.class = None;
        r.path_kind = None;
        assert!(!r.is_ai() && !r.is_trap(), "unclassified rows are plain");
    }
}

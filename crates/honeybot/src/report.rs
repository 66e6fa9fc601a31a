//! `honeybot report NAME`: the reports of `honeybot_db::report` as a table (sanitised for
//! the terminal), JSON or CSV (raw stored values).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use honeybot_db::report::{self, Window};
use honeybot_db::{DbOptions, HoneyDb};
use serde_json::Value;

use crate::emit;
use crate::sanitize::for_terminal;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub name: ReportName,
    /// The HoneyDB file (opened read-only).
    #[arg(long, default_value = "honeybot.db")]
    pub db: PathBuf,
    /// First date counted (YYYY-MM-DD, inclusive).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last date counted (YYYY-MM-DD, inclusive).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// The last N days, today (UTC) included; instead of --since/--until.
    #[arg(long, value_name = "N", conflicts_with_all = ["since", "until"])]
    pub days: Option<u32>,
    /// At most this many rows (per section for `404` and `new`); 0 = all.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format: an aligned table for people, JSON or CSV for programs.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportName {
    /// Totals, status and class mix, top paths and user agents.
    Summary,
    /// Every user agent: class, operator, requests by path kind.
    Agents,
    /// AI crawlers and assistants.
    Ai,
    /// Who runs the JavaScript trap (page hits vs trap.js vs beacon).
    Js,
    /// Who asks for Markdown (Accept, .md URLs, llms.txt).
    Markdown,
    /// Who reads robots.txt.
    Robots,
    /// Dead paths: real missing pages and probe noise.
    #[value(name = "404")]
    NotFound,
    /// Clients that probe for exploits, and what else they asked for.
    Hostile,
    /// User agents, paths and clients first seen in the window.
    New,
    /// Requests per day per class.
    Trends,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
}

/// A column: JSON field, table heading, widest table cell (characters).
type Column = (&'static str, &'static str, usize);

const AGENTS: &[Column] = &[
    ("hits", "hits", 9),
    ("class", "class", 12),
    ("operator", "operator", 14),
    ("page_hits", "pages", 8),
    ("asset_hits", "assets", 8),
    ("robots_txt_hits", "robots", 6),
    ("beacon_hits", "beacon", 6),
    ("probe_hits", "probes", 6),
    ("not_found_hits", "404", 6),
    ("user_agent", "user agent", 70),
    ("llms_txt_hits", "llms.txt", 0),
    ("markdown_hits", ".md", 0),
    ("feed_hits", "feed", 0),
    ("trap_hits", "trap.js", 0),
    ("first_date", "first", 0),
    ("last_date", "last", 0),
];
const AI: &[Column] = &[
    ("operator", "operator", 14),
    ("class", "class", 12),
    ("hits", "hits", 9),
    ("robots_txt_hits", "robots", 6),
    ("llms_txt_hits", "llms.txt", 8),
    ("markdown_hits", ".md", 6),
    ("page_hits", "pages", 8),
    ("beacon_hits", "beacon", 6),
    ("user_agent", "user agent", 70),
    ("trap_hits", "trap.js", 0),
    ("first_date", "first", 0),
    ("last_date", "last", 0),
];
const JS: &[Column] = &[
    ("page_hits", "pages", 8),
    ("trap_hits", "trap.js", 7),
    ("beacon_hits", "beacon", 7),
    ("beacons_per_page", "per page", 8),
    ("runs_javascript", "runs JS", 7),
    ("class", "class", 12),
    ("user_agent", "user agent", 70),
    ("operator", "operator", 0),
];
const MARKDOWN: &[Column] = &[
    ("accept_markdown", "Accept md", 9),
    ("markdown_served", "served", 6),
    ("md_url_hits", ".md", 6),
    ("llms_txt_hits", "llms.txt", 8),
    ("hits", "hits", 8),
    ("class", "class", 12),
    ("operator", "operator", 12),
    ("user_agent", "user agent", 70),
];
const ROBOTS: &[Column] = &[
    ("robots_txt_hits", "robots", 7),
    ("hits", "hits", 8),
    ("page_hits", "pages", 8),
    ("class", "class", 12),
    ("operator", "operator", 12),
    ("user_agent", "user agent", 70),
    ("first_date", "first", 0),
    ("last_date", "last", 0),
];
const NOT_FOUND: &[Column] = &[
    ("category", "category", 8),
    ("hits", "hits", 8),
    ("probe_kind", "probe", 10),
    ("last_date", "last", 10),
    ("path", "path", 80),
    ("first_date", "first", 0),
];
const HOSTILE: &[Column] = &[
    ("client", "client", 39),
    ("hits", "hits", 6),
    ("probe_hits", "probes", 6),
    ("other_hits", "other", 6),
    ("probe_paths", "probe paths", 50),
    ("other_paths", "also asked for", 50),
    ("user_agents", "user agents", 60),
    ("first_date", "first", 0),
    ("last_date", "last", 0),
];
const NEW: &[Column] = &[
    ("what", "what", 10),
    ("first_date", "first seen", 10),
    ("class", "class/kind", 12),
    ("value", "value", 90),
];
const TRENDS: &[Column] = &[
    ("date", "date", 10),
    ("class", "class", 14),
    ("hits", "hits", 9),
];

/// The JSON field names of every table report, in output order (CSV header; the docs).
pub fn columns(name: ReportName) -> Option<Vec<&'static str>> {
    let cols = match name {
        ReportName::Summary => return None,
        ReportName::Agents => AGENTS,
        ReportName::Ai => AI,
        ReportName::Js => JS,
        ReportName::Markdown => MARKDOWN,
        ReportName::Robots => ROBOTS,
        ReportName::NotFound => NOT_FOUND,
        ReportName::Hostile => HOSTILE,
        ReportName::New => NEW,
        ReportName::Trends => TRENDS,
    };
    Some(cols.iter().map(|c| c.0).collect())
}

pub(crate) fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let window = match args.days {
        Some(days) => Window::last_days(days, &report::today_utc())?,
        None => Window::new(args.since.as_deref(), args.until.as_deref())?,
    };
    let db = HoneyDb::open_read_only(&args.db, &DbOptions::default())
        .with_context(|| format!("cannot open {}", args.db.display()))?;
    let limit = (args.limit > 0).then_some(args.limit);
    let text = render(&db, args.name, &window, limit, args.format)?;
    emit(&text)
}

/// One report in one format.
pub(crate) fn render(
    db: &HoneyDb,
    name: ReportName,
    window: &Window,
    limit: Option<usize>,
    format: ReportFormat,
) -> anyhow::Result<String> {
    let (rows, cols): (Value, &[Column]) = match name {
        ReportName::Summary => {
            let summary = report::summary_in(db, window, limit.unwrap_or(usize::MAX >> 1))?;
            return Ok(match format {
                ReportFormat::Json => json_text(&serde_json::to_value(&summary)?)?,
                ReportFormat::Csv => summary_csv(&summary),
                ReportFormat::Table => summary_table(&summary, window)?,
            });
        }
        ReportName::Agents => (
            serde_json::to_value(report::agents(db, window, limit)?)?,
            AGENTS,
        ),
        ReportName::Ai => (serde_json::to_value(report::ai(db, window, limit)?)?, AI),
        ReportName::Js => (serde_json::to_value(report::js(db, window, limit)?)?, JS),
        ReportName::Markdown => (
            serde_json::to_value(report::markdown(db, window, limit)?)?,
            MARKDOWN,
        ),
        ReportName::Robots => (
            serde_json::to_value(report::robots(db, window, limit)?)?,
            ROBOTS,
        ),
        ReportName::NotFound => (
            serde_json::to_value(report::not_found(db, window, limit)?)?,
            NOT_FOUND,
        ),
        ReportName::Hostile => (
            serde_json::to_value(report::hostile(db, window, limit)?)?,
            HOSTILE,
        ),
        ReportName::New => (serde_json::to_value(report::new(db, window, limit)?)?, NEW),
        ReportName::Trends => (serde_json::to_value(report::trends(db, window)?)?, TRENDS),
    };
    let rows = match rows {
        Value::Array(rows) => rows,
        _ => Vec::new(),
    };
    Ok(match format {
        ReportFormat::Json => json_text(&Value::Array(rows))?,
        ReportFormat::Csv => csv(&rows, cols),
        ReportFormat::Table if name == ReportName::Trends => trends_table(&rows),
        ReportFormat::Table => table(&rows, cols),
    })
}

fn json_text(value: &Value) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

/// A raw cell: strings as stored, arrays as JSON text, null as nothing.
fn raw(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// RFC 4180 CSV of every column, raw values (quoted when they hold a comma, quote or line
/// break).
fn csv(rows: &[Value], cols: &[Column]) -> String {
    let mut out = String::new();
    let line = |out: &mut String, cells: Vec<String>| {
        let cells: Vec<String> = cells.into_iter().map(|c| csv_cell(&c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(&mut out, cols.iter().map(|c| c.0.to_owned()).collect());
    for row in rows {
        line(&mut out, cols.iter().map(|c| raw(row.get(c.0))).collect());
    }
    out
}

fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// A terminal cell: sanitised, arrays joined, null as `-`, cut to `width` characters.
fn cell(value: Option<&Value>, width: usize) -> String {
    let text = match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "(none)".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| raw(Some(v)))
            .collect::<Vec<_>>()
            .join(" "),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.to_owned(),
        Some(other) => other.to_string(),
    };
    shorten(&for_terminal(&text), width)
}

/// At most `max` characters of `text`, with `…` when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if text.chars().count() > max => format!("{}…", &text[..cut]),
        _ => text.to_owned(),
    }
}

/// An aligned table of the columns with a width (numbers right-aligned); every string goes
/// through [`for_terminal`].
pub(crate) fn table(rows: &[Value], cols: &[Column]) -> String {
    let shown: Vec<&Column> = cols.iter().filter(|c| c.2 > 0).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| shown.iter().map(|c| cell(row.get(c.0), c.2)).collect())
        .collect();
    let numeric: Vec<bool> = shown
        .iter()
        .map(|c| {
            rows.iter()
                .all(|r| matches!(r.get(c.0), Some(Value::Number(_)) | None))
        })
        .collect();
    let widths: Vec<usize> = shown
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.1.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |values: Vec<&str>| {
        let mut text = String::new();
        for (i, v) in values.iter().enumerate() {
            let last = i + 1 == values.len();
            let pad = widths[i].saturating_sub(v.chars().count());
            if numeric[i] {
                text.push_str(&" ".repeat(pad));
                text.push_str(v);
            } else {
                text.push_str(v);
                if !last {
                    text.push_str(&" ".repeat(pad));
                }
            }
            if !last {
                text.push_str("  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(shown.iter().map(|c| c.1).collect());
    for row in &cells {
        line(row.iter().map(String::as_str).collect());
    }
    if rows.is_empty() {
        out.push_str("(no rows in this window)\n");
    }
    out
}

/// Trends as one line per day, one column per class.
fn trends_table(rows: &[Value]) -> String {
    let mut classes: Vec<String> = rows.iter().map(|r| raw(r.get("class"))).collect();
    classes.sort();
    classes.dedup();
    let mut days: Vec<(String, Vec<u64>)> = Vec::new();
    for r in rows {
        let date = raw(r.get("date"));
        if days.last().is_none_or(|d| d.0 != date) {
            days.push((date, vec![0; classes.len()]));
        }
        let i = classes
            .iter()
            .position(|c| *c == raw(r.get("class")))
            .unwrap_or(0);
        if let Some(day) = days.last_mut() {
            day.1[i] += r.get("hits").and_then(Value::as_u64).unwrap_or(0);
        }
    }
    let mut out = String::new();
    let _ = write!(out, "{:<10}", "date");
    for c in &classes {
        let _ = write!(out, "  {:>w$}", for_terminal(c), w = c.len().max(7));
    }
    let _ = writeln!(out, "  {:>8}", "total");
    for (date, hits) in &days {
        let _ = write!(out, "{date:<10}");
        for (c, n) in classes.iter().zip(hits) {
            let _ = write!(out, "  {n:>w$}", w = c.len().max(7));
        }
        let _ = writeln!(out, "  {:>8}", hits.iter().sum::<u64>());
    }
    if days.is_empty() {
        out.push_str("(no rows in this window)\n");
    }
    out
}

fn summary_csv(s: &report::Summary) -> String {
    let mut out = String::from("metric,value\r\n");
    let mut put = |k: &str, v: String| {
        out.push_str(&format!("{},{}\r\n", csv_cell(k), csv_cell(&v)));
    };
    put("requests", s.requests.to_string());
    put("days", s.days.to_string());
    put("first_date", s.first_date.clone().unwrap_or_default());
    put("last_date", s.last_date.clone().unwrap_or_default());
    put("clients", s.clients.to_string());
    put("user_agents", s.user_agents.to_string());
    put("paths", s.paths.to_string());
    put("lines_malformed", s.lines_malformed.to_string());
    for st in &s.status_mix {
        put(&format!("status_{}", st.status), st.requests.to_string());
    }
    for c in &s.classes {
        put(&format!("class_{}", c.class), c.requests.to_string());
    }
    out
}

/// The summary for people (also what `honeybot demo` prints).
pub(crate) fn summary_table(summary: &report::Summary, window: &Window) -> anyhow::Result<String> {
    let mut out = String::new();
    let range = match (&summary.first_date, &summary.last_date) {
        (Some(first), Some(last)) => format!(" ({first} to {last})"),
        _ => String::new(),
    };
    if window.since().is_some() || window.until().is_some() {
        writeln!(
            out,
            "  window       {} to {}",
            window.since().unwrap_or("the beginning"),
            window.until().unwrap_or("the end")
        )?;
    }
    writeln!(out, "  requests     {}", summary.requests)?;
    writeln!(out, "  days         {}{range}", summary.days)?;
    writeln!(out, "  clients      {}", summary.clients)?;
    writeln!(out, "  user agents  {}", summary.user_agents)?;
    writeln!(out, "  paths        {}", summary.paths)?;
    let share = |n: u64| 100.0 * n as f64 / summary.requests.max(1) as f64;
    writeln!(out, "  status mix")?;
    for s in &summary.status_mix {
        writeln!(
            out,
            "    {}  {:>9}  {:5.1} %",
            s.status,
            s.requests,
            share(s.requests)
        )?;
    }
    writeln!(out, "  classes")?;
    for c in &summary.classes {
        writeln!(
            out,
            "    {:<13} {:>9}  {:5.1} %",
            for_terminal(&c.class),
            c.requests,
            share(c.requests)
        )?;
    }
    writeln!(out, "  top paths")?;
    for p in &summary.top_paths {
        writeln!(
            out,
            "    {:>9}  {}",
            p.requests,
            shorten(&for_terminal(&p.path), 100)
        )?;
    }
    writeln!(out, "  top user agents")?;
    for u in &summary.top_user_agents {
        let ua = if u.user_agent.is_empty() {
            "(none)"
        } else {
            &u.user_agent
        };
        writeln!(
            out,
            "    {:>9}  {}",
            u.requests,
            shorten(&for_terminal(ua), 100)
        )?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it_and_keeps_raw_bytes() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\"\r\n"), "\"say \"\"hi\"\"\r\n\"");
        assert_eq!(csv_cell("\x1b[31mred"), "\x1b[31mred");
    }

    #[test]
    fn table_cells_are_inert_and_cut() {
        let row =
            serde_json::json!({"user_agent": "evil\x1b]0;title\x07\u{202e}txt.exe", "hits": 3});
        let text = table(&[row], &[("hits", "hits", 5), ("user_agent", "ua", 20)]);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(!text.contains('\u{202e}'), "{text:?}");
        assert!(text.contains("…"), "{text:?}");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abcd", 4), "abcd");
    }
}

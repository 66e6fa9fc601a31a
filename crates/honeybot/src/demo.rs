//! `honeybot demo`: the bundled sample log, imported and summarised.

use honeybot_db::{DbOptions, HoneyDb, ImportOptions, import, report};

use std::fmt::Write as _;

use crate::sanitize::for_terminal;
use crate::{DemoArgs, emit};

/// One synthetic week of a small site in the Honeybot extended log format.
const SAMPLE_LOG: &[u8] = include_bytes!("../data/sample-access.log");

/// How many paths and user agents the summary lists.
const TOP: usize = 10;

pub(crate) fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let mut db = HoneyDb::open(&args.db, &DbOptions::default())?;
    let stats = import(
        &mut db,
        SAMPLE_LOG,
        &ImportOptions::new("sample-access.log (bundled)"),
        |_| {},
    )?;
    let summary = report::summary(&db, TOP)?;
    let mut out = String::new();
    let db_path = for_terminal(&args.db.display().to_string());
    if stats.lines_skipped_duplicate == stats.lines_total {
        writeln!(
            out,
            "The bundled sample log ({} lines) was already imported into {db_path}; nothing counted twice.",
            stats.lines_total
        )?;
    } else {
        writeln!(
            out,
            "Imported the bundled sample log into {db_path}: {} lines, {} parsed, {} malformed.",
            stats.lines_total, stats.lines_parsed, stats.lines_malformed
        )?;
    }
    writeln!(out)?;
    let range = match (&summary.first_date, &summary.last_date) {
        (Some(first), Some(last)) => format!(" ({first} to {last})"),
        _ => String::new(),
    };
    writeln!(out, "  requests     {}", summary.requests)?;
    writeln!(out, "  days         {}{range}", summary.days)?;
    writeln!(out, "  clients      {}", summary.clients)?;
    writeln!(out, "  user agents  {}", summary.user_agents)?;
    writeln!(out, "  paths        {}", summary.paths)?;
    writeln!(out, "  status mix")?;
    for s in &summary.status_mix {
        let share = 100.0 * s.requests as f64 / summary.requests.max(1) as f64;
        writeln!(out, "    {}  {:>7}  {share:5.1} %", s.status, s.requests)?;
    }
    writeln!(out, "  top paths")?;
    for p in &summary.top_paths {
        writeln!(out, "    {:>7}  {}", p.requests, for_terminal(&p.path))?;
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
            "    {:>7}  {}",
            u.requests,
            for_terminal(&shorten(ua, 100))
        )?;
    }
    emit(&out)
}

/// At most `max` characters of `text`, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

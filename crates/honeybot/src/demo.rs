//! `honeybot demo`: the bundled sample log, imported and summarised.

use honeybot_db::report::Window;
use honeybot_db::{DbOptions, HoneyDb, ImportOptions, import};

use std::fmt::Write as _;

use crate::report::{ReportFormat, ReportName, render};
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
    let all = Window::all();
    out.push_str(&render(
        &db,
        ReportName::Summary,
        &all,
        Some(TOP),
        ReportFormat::Table,
    )?);
    for (title, name, rows) in [
        (
            "AI crawlers and assistants (honeybot report ai)",
            ReportName::Ai,
            8,
        ),
        (
            "Who runs the JavaScript trap (honeybot report js)",
            ReportName::Js,
            8,
        ),
        (
            "Who asks for Markdown (honeybot report markdown)",
            ReportName::Markdown,
            6,
        ),
        (
            "Dead links and probe noise (honeybot report 404)",
            ReportName::NotFound,
            4,
        ),
        (
            "Probing clients (honeybot report hostile)",
            ReportName::Hostile,
            3,
        ),
    ] {
        writeln!(out, "\n{title}")?;
        out.push_str(&render(&db, name, &all, Some(rows), ReportFormat::Table)?);
    }
    writeln!(
        out,
        "\nMore: honeybot report --db {db_path} NAME [--since DATE] [--until DATE] [--format json|csv]\n\
         (NAME: summary agents ai js markdown robots 404 hostile new trends)"
    )?;
    emit(&out)
}

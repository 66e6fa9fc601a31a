//! `honeybot ingest`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use honeybot_db::{DbOptions, HoneyDb, ImportError, ImportOptions, ImportStats, IpMode, import};
use indicatif::{ProgressBar, ProgressStyle};

use crate::sanitize::for_terminal;
use crate::{IngestArgs, IpModeArg, OutputFormat, emit};
use std::fmt::Write as _;

/// The JSON summary of one `honeybot ingest` run (one object on stdout).
#[derive(Debug, serde::Serialize)]
struct Report<'a> {
    db_path: String,
    #[serde(flatten)]
    totals: &'a ImportStats,
    db_bytes: u64,
    files: Vec<FileReport<'a>>,
}

#[derive(Debug, serde::Serialize)]
struct FileReport<'a> {
    file: String,
    gzip: bool,
    #[serde(flatten)]
    stats: &'a ImportStats,
}

pub(crate) fn run(args: &IngestArgs) -> anyhow::Result<()> {
    let mut options = DbOptions {
        ip_mode: ip_mode(args)?,
        time_zone: args.timezone,
        ..DbOptions::default()
    };
    args.apply_classify(&mut options)?;
    let started = Instant::now();
    let mut db = HoneyDb::open(&args.db, &options)?;
    let show_progress = std::io::stdout().is_terminal();
    let mut per_file = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let (stats, gzip) = import_one(&mut db, file, args.batch_lines, show_progress)?;
        per_file.push((file.display().to_string(), gzip, stats));
    }
    drop(db); // checkpoints the WAL, so the file size below is the database's size
    let mut totals = ImportStats::default();
    for (_, _, stats) in &per_file {
        totals.merge(stats);
    }
    totals.seconds = started.elapsed().as_secs_f64();
    let db_bytes = std::fs::metadata(&args.db)
        .with_context(|| format!("cannot stat database {}", args.db.display()))?
        .len();
    let mut out = String::new();
    match args.format {
        OutputFormat::Json => {
            let report = Report {
                db_path: args.db.display().to_string(),
                totals: &totals,
                db_bytes,
                files: per_file
                    .iter()
                    .map(|(file, gzip, stats)| FileReport {
                        file: file.clone(),
                        gzip: *gzip,
                        stats,
                    })
                    .collect(),
            };
            writeln!(out, "{}", serde_json::to_string(&report)?)?;
        }
        OutputFormat::Text => print_text(&mut out, args, &per_file, &totals, db_bytes)?,
    }
    emit(&out)
}

fn ip_mode(args: &IngestArgs) -> anyhow::Result<IpMode> {
    let name = match args.ip_mode {
        IpModeArg::Full => "full",
        IpModeArg::Truncate => "truncate",
        IpModeArg::Hash => "hash",
    };
    if args.ip_mode == IpModeArg::Hash && args.ip_key_file.is_none() {
        anyhow::bail!("--ip-mode hash needs --ip-key-file FILE");
    }
    if args.ip_key_file.is_some() && args.ip_mode != IpModeArg::Hash {
        anyhow::bail!("--ip-key-file is only used with --ip-mode hash");
    }
    Ok(IpMode::from_config(name, args.ip_key_file.as_deref())?)
}

/// Imports one file (or stdin for `-`); returns its stats and whether it was gzip.
fn import_one(
    db: &mut HoneyDb,
    file: &Path,
    batch_lines: u64,
    show_progress: bool,
) -> anyhow::Result<(ImportStats, bool)> {
    let name = file.display().to_string();
    let mut options = ImportOptions::new(name.clone());
    options.batch_lines = batch_lines;
    let (reader, size): (Box<dyn Read>, Option<u64>) = if file.as_os_str() == "-" {
        options.name = "<stdin>".to_owned();
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let f = File::open(file).with_context(|| format!("cannot open {name}"))?;
        let meta = f
            .metadata()
            .with_context(|| format!("cannot stat {name}"))?;
        options.dev_inode = Some((meta.dev(), meta.ino()));
        (Box::new(f), Some(meta.len()))
    };
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let head = reader
        .fill_buf()
        .with_context(|| format!("cannot read {}", options.name))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        // The (dev, inode) hint describes the compressed file, not the decoded stream.
        options.dev_inode = None;
        Box::new(flate2::bufread::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };

    let bar = show_progress.then(|| progress_bar(&options.name, if gzip { None } else { size }));
    let stats = import(db, reader, &options, |bytes| {
        if let Some(bar) = &bar {
            bar.set_position(bytes);
        }
    })
    .map_err(|e| match e {
        // Already names the file.
        ImportError::Read { .. } => anyhow::Error::new(e),
        ImportError::Db(_) => anyhow::Error::new(e).context(format!("importing {}", options.name)),
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok((stats, gzip))
}

fn progress_bar(name: &str, size: Option<u64>) -> ProgressBar {
    let bar = match size {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.set_message(for_terminal(name));
    bar
}

fn print_text(
    out: &mut String,
    args: &IngestArgs,
    per_file: &[(String, bool, ImportStats)],
    totals: &ImportStats,
    db_bytes: u64,
) -> std::fmt::Result {
    for (file, gzip, s) in per_file {
        writeln!(
            out,
            "{}{}: {} lines, {} parsed, {} malformed, {} already imported",
            for_terminal(file),
            if *gzip { " (gzip)" } else { "" },
            s.lines_total,
            s.lines_parsed,
            s.lines_malformed,
            s.lines_skipped_duplicate
        )?;
    }
    writeln!(
        out,
        "total: {} lines in {:.2} s ({:.0} lines/s): {} parsed, {} malformed, {} already imported",
        totals.lines_total,
        totals.seconds,
        totals.lines_total as f64 / totals.seconds.max(1e-9),
        totals.lines_parsed,
        totals.lines_malformed,
        totals.lines_skipped_duplicate
    )?;
    if !totals.requests_by_status.is_empty() {
        writeln!(
            out,
            "requests by status: {}",
            join_counts(&totals.requests_by_status)
        )?;
    }
    if !totals.malformed_by_kind.is_empty() {
        writeln!(
            out,
            "malformed lines by kind: {}",
            join_counts(&totals.malformed_by_kind)
        )?;
    }
    writeln!(
        out,
        "database: {} ({})",
        for_terminal(&args.db.display().to_string()),
        human_bytes(db_bytes)
    )?;
    Ok(())
}

fn join_counts<K: std::fmt::Display>(counts: &BTreeMap<K, u64>) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

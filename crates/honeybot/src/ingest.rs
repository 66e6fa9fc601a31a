//! `honeybot ingest`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

use honeybot_db::{
    DbError, DbOptions, HoneyDb, ImportError, ImportOptions, ImportStats, IpMode, import,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::sanitize::for_terminal;
use crate::{IngestArgs, IpModeArg, OutputFormat, emit};
use std::fmt::Write as _;

/// The JSON summary of one `honeybot ingest` run (one object on stdout, always, also
/// when some or all files failed: then `ok` is false and the failures are named).
#[derive(Debug, serde::Serialize)]
struct Report<'a> {
    db_path: String,
    #[serde(flatten)]
    totals: &'a ImportStats,
    db_bytes: u64,
    files: Vec<FileReport<'a>>,
    /// Every file imported and the database usable.
    ok: bool,
    /// Files that failed.
    files_failed: usize,
    /// A failure of the database itself (cannot open it: busy, too new, ...).
    error: Option<String>,
    error_kind: Option<&'static str>,
}

#[derive(Debug, serde::Serialize)]
struct FileReport<'a> {
    file: String,
    gzip: bool,
    #[serde(flatten)]
    stats: &'a ImportStats,
    ok: bool,
    error: Option<String>,
    error_kind: Option<&'static str>,
}

/// What happened to one file.
struct Outcome {
    file: String,
    gzip: bool,
    stats: ImportStats,
    error: Option<(String, &'static str)>,
}

pub(crate) fn run(args: &IngestArgs) -> anyhow::Result<()> {
    let mut options = DbOptions {
        ip_mode: ip_mode(args)?,
        time_zone: args.timezone,
        ..DbOptions::default()
    };
    args.apply_classify(&mut options)?;
    let started = Instant::now();
    let mut per_file: Vec<Outcome> = Vec::with_capacity(args.files.len());
    let mut db_error = None;
    match HoneyDb::open(&args.db, &options) {
        Ok(mut db) => {
            let show_progress = std::io::stdout().is_terminal();
            for file in &args.files {
                let name = file.display().to_string();
                match import_one(&mut db, file, args, show_progress) {
                    Ok((stats, gzip)) => per_file.push(Outcome {
                        file: name,
                        gzip,
                        stats,
                        error: None,
                    }),
                    Err(failed) => per_file.push(Outcome {
                        file: name,
                        gzip: failed.gzip,
                        stats: ImportStats::default(),
                        error: Some((format!("{:#}", failed.error), failed.kind)),
                    }),
                }
            }
            drop(db); // checkpoints the WAL, so the file size below is the database's size
        }
        Err(err) => {
            let kind = db_error_kind(&err);
            db_error = Some((format!("{:#}", anyhow::Error::new(err)), kind));
        }
    }
    let mut totals = ImportStats::default();
    for o in &per_file {
        totals.merge(&o.stats);
    }
    totals.seconds = started.elapsed().as_secs_f64();
    let db_bytes = std::fs::metadata(&args.db).map_or(0, |m| m.len());
    let failed: Vec<&Outcome> = per_file.iter().filter(|o| o.error.is_some()).collect();
    let mut out = String::new();
    match args.format {
        OutputFormat::Json => {
            let report = Report {
                db_path: args.db.display().to_string(),
                totals: &totals,
                db_bytes,
                files: per_file
                    .iter()
                    .map(|o| FileReport {
                        file: o.file.clone(),
                        gzip: o.gzip,
                        stats: &o.stats,
                        ok: o.error.is_none(),
                        error: o.error.as_ref().map(|(e, _)| e.clone()),
                        error_kind: o.error.as_ref().map(|(_, k)| *k),
                    })
                    .collect(),
                ok: db_error.is_none() && failed.is_empty(),
                files_failed: failed.len(),
                error: db_error.as_ref().map(|(e, _)| e.clone()),
                error_kind: db_error.as_ref().map(|(_, k)| *k),
            };
            writeln!(out, "{}", serde_json::to_string(&report)?)?;
        }
        OutputFormat::Text => {
            if db_error.is_none() {
                print_text(&mut out, args, &per_file, &totals, db_bytes)?;
            }
        }
    }
    emit(&out)?;
    if let Some((err, _)) = db_error {
        anyhow::bail!("{err}");
    }
    if !failed.is_empty() {
        let list: Vec<String> = failed
            .iter()
            .map(|o| o.error.as_ref().map_or(String::new(), |(e, _)| e.clone()))
            .collect();
        anyhow::bail!(
            "{} of {} file(s) not imported: {}",
            failed.len(),
            per_file.len(),
            list.join("; ")
        );
    }
    Ok(())
}

/// A stable name for what went wrong with the database (the JSON `error_kind`).
fn db_error_kind(err: &DbError) -> &'static str {
    match err {
        DbError::Busy { .. } => "db_busy",
        DbError::DiskFull { .. } => "disk_full",
        DbError::CursorConflict { .. } => "cursor_conflict",
        DbError::IpModeMismatch { .. } => "ip_mode_mismatch",
        DbError::TooNew { .. } => "db_too_new",
        _ => "db_error",
    }
}

/// Why one file was not (fully) imported. What was committed before stays committed.
struct Failed {
    error: anyhow::Error,
    kind: &'static str,
    gzip: bool,
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
    args: &IngestArgs,
    show_progress: bool,
) -> Result<(ImportStats, bool), Failed> {
    let fail = |error: anyhow::Error, kind, gzip| Failed { error, kind, gzip };
    let io_kind = |e: &std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => "not_found",
        std::io::ErrorKind::PermissionDenied => "permission_denied",
        _ => "read_error",
    };
    let name = file.display().to_string();
    let mut options = ImportOptions::new(name.clone());
    options.batch_lines = args.batch_lines;
    options.format = args.log_format.clone();
    let (reader, size): (Box<dyn Read>, Option<u64>) = if file.as_os_str() == "-" {
        options.name = "<stdin>".to_owned();
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let f = File::open(file).map_err(|e| {
            let kind = io_kind(&e);
            fail(
                anyhow::Error::new(e).context(format!("cannot open {name}")),
                kind,
                false,
            )
        })?;
        let meta = f.metadata().map_err(|e| {
            let kind = io_kind(&e);
            fail(
                anyhow::Error::new(e).context(format!("cannot stat {name}")),
                kind,
                false,
            )
        })?;
        options.dev_inode = Some((meta.dev(), meta.ino()));
        (Box::new(f), Some(meta.len()))
    };
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let head = reader.fill_buf().map_err(|e| {
        let kind = io_kind(&e);
        fail(
            anyhow::Error::new(e).context(format!("cannot read {}", options.name)),
            kind,
            false,
        )
    })?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    // A plain file may still be written (nginx): its unterminated last line waits for
    // the next import, unless the file is declared final. gzip and stdin are final.
    options.complete = gzip || file.as_os_str() == "-" || args.r#final;
    let reader: Box<dyn Read> = if gzip {
        // The (dev, inode) hint describes the compressed file, not the decoded stream.
        options.dev_inode = None;
        Box::new(flate2::bufread::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };

    let bar = show_progress.then(|| progress_bar(&options.name, if gzip { None } else { size }));
    let result = import(db, reader, &options, |bytes| {
        if let Some(bar) = &bar {
            bar.set_position(bytes);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let stats = result.map_err(|e| match e {
        // Already names the file.
        ImportError::Read { ref source, .. } => {
            let kind = if gzip { "gzip_error" } else { io_kind(source) };
            fail(anyhow::Error::new(e), kind, gzip)
        }
        ImportError::Db(ref db_err) => {
            let kind = db_error_kind(db_err);
            fail(
                anyhow::Error::new(e).context(format!("importing {}", options.name)),
                kind,
                gzip,
            )
        }
        ImportError::Stopped { .. } => fail(anyhow::Error::new(e), "stopped", gzip),
    })?;
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
    per_file: &[Outcome],
    totals: &ImportStats,
    db_bytes: u64,
) -> std::fmt::Result {
    for o in per_file {
        let s = &o.stats;
        if let Some((err, _)) = &o.error {
            writeln!(
                out,
                "{}: FAILED: {}",
                for_terminal(&o.file),
                for_terminal(err)
            )?;
            continue;
        }
        write!(
            out,
            "{}{}: {} lines, {} parsed, {} malformed, {} already imported",
            for_terminal(&o.file),
            if o.gzip { " (gzip)" } else { "" },
            s.lines_total,
            s.lines_parsed,
            s.lines_malformed,
            s.lines_skipped_duplicate
        )?;
        if s.lines_held_back > 0 {
            write!(
                out,
                ", 1 unterminated last line ({} bytes) left for the next import (--final counts it)",
                s.bytes_held_back
            )?;
        }
        writeln!(out)?;
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

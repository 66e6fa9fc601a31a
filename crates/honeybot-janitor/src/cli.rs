//! The command line: `run` (the timer's oneshot) and the review commands.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use honeybot_db::redirects::Redirect;

use crate::config::{ConfigError, Format, Overrides, Settings};
use crate::review::{self, ReviewError};
use honeybot_daemon::terminal::for_terminal;

use crate::run::{Entry, RunError, RunReport};

/// Turn the 404s in HoneyDB into validated nginx 301 redirects to live pages.
#[derive(Debug, Parser)]
#[command(name = "honeybot-janitor", version)]
pub struct Cli {
    /// TOML config file (keys: docs/janitor.md); flags override it.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// HoneyDB SQLite file (default: ./honeybot.db).
    #[arg(long, value_name = "PATH", global = true)]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One run: decide new dead paths, write, validate and activate the map.
    Run {
        /// Live pages: a built site folder, a sitemap.xml, or a Jekyll folder with _posts/.
        #[arg(long, value_name = "PATH")]
        site: Option<PathBuf>,
        /// The nginx map file to write (included at http level).
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// Look at 404s of the last N days (default 30).
        #[arg(long, value_name = "N")]
        days: Option<u32>,
        /// Only paths with at least N 404s from non-probing clients (default 3).
        #[arg(long, value_name = "N")]
        min_hits: Option<u64>,
        /// Lexical choices only; never ask the model.
        #[arg(long)]
        no_llm: bool,
        /// Write nothing (neither map nor database); print what would change.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Every decision in the database.
    List {
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Make the proposed target of FROM active.
    Accept { from: String },
    /// Never redirect FROM.
    Reject { from: String },
    /// Redirect FROM to the live page TO (checked against --site or the config's site).
    Set {
        from: String,
        to: String,
        #[arg(long, value_name = "PATH")]
        site: Option<PathBuf>,
    },
    /// Forget the decision about FROM; the next run decides it again.
    Unset { from: String },
    /// Validate the --config file and exit (reads no database, site or key file).
    CheckConfig,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error("cannot write the output")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// 2: fix the command or the config; 3: the map was not published; 1: anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => 2,
            CliError::Run(e) => e.exit_code(),
            CliError::Review(e) => e.exit_code(),
            CliError::Output(_) => 1,
        }
    }
}

/// Runs the command, printing its result to `out`.
pub fn execute(cli: Cli, out: &mut impl Write) -> Result<(), CliError> {
    if let Command::CheckConfig = cli.command {
        return check_config(cli.config.as_deref(), out);
    }
    let mut overrides = Overrides {
        config: cli.config,
        db: cli.db,
        ..Overrides::default()
    };
    if let Command::Run {
        site,
        map,
        days,
        min_hits,
        no_llm,
        dry_run,
        format,
    } = &cli.command
    {
        overrides.site.clone_from(site);
        overrides.map.clone_from(map);
        overrides.days = *days;
        overrides.min_hits = *min_hits;
        overrides.no_llm = *no_llm;
        overrides.dry_run = *dry_run;
        overrides.format = *format;
    }
    if let Command::List { format } = &cli.command {
        overrides.format = *format;
    }
    let settings = Settings::load(&overrides)?;
    let key = |from: &str| review::from_key(from, settings.max_key_bytes);
    match cli.command {
        Command::Run { .. } => {
            let report = crate::run(&settings)?;
            match settings.format {
                Format::Json => writeln!(out, "{}", json(&report))?,
                Format::Text => write_report(out, &report)?,
            }
        }
        Command::List { .. } => {
            let db = review::open(&settings.db)?;
            let rows = review::list(&db)?;
            match settings.format {
                Format::Json => writeln!(out, "{}", json(&rows))?,
                Format::Text => {
                    for r in &rows {
                        write_row(out, r)?;
                    }
                    if rows.is_empty() {
                        writeln!(out, "no decisions yet")?;
                    }
                }
            }
        }
        Command::Accept { from } => {
            let db = review::open(&settings.db)?;
            let row = review::accept(&db, &key(&from)?)?;
            write_row(out, &row)?;
        }
        Command::Reject { from } => {
            let db = review::open(&settings.db)?;
            let row = review::reject(&db, &key(&from)?)?;
            write_row(out, &row)?;
        }
        Command::Set { from, to, site } => {
            let db = review::open(&settings.db)?;
            let site = site.or(settings.site.clone());
            let row = review::set(&db, &key(&from)?, &to, site.as_deref())?;
            write_row(out, &row)?;
        }
        // Answered above, before anything the config names is touched.
        Command::CheckConfig => {}
        Command::Unset { from } => {
            let db = review::open(&settings.db)?;
            let from = key(&from)?;
            review::unset(&db, &from)?;
            writeln!(
                out,
                "{}: decision removed; the next run decides it again",
                for_terminal(&from)
            )?;
        }
    }
    Ok(())
}

/// `check-config`: the file validated as a run would, nothing it names read.
fn check_config(config: Option<&Path>, out: &mut impl Write) -> Result<(), CliError> {
    let Some(path) = config else {
        return Err(ConfigError::Invalid {
            origin: "<command line>".into(),
            key: "--config",
            reason: "check-config needs --config FILE".into(),
        }
        .into());
    };
    let s = Settings::check(path)?;
    let shown = |p: Option<&Path>| {
        p.map_or_else(
            || "(not set)".into(),
            |p| for_terminal(&p.display().to_string()),
        )
    };
    writeln!(
        out,
        "config OK: db {}, site {}, map {}, model {}",
        shown(Some(&s.db)),
        shown(s.site.as_deref()),
        shown(s.map.as_deref()),
        if s.llm.is_some() { "on" } else { "off" }
    )?;
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn write_row(out: &mut impl Write, r: &Redirect) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<9} {} -> {}  [{}{}] {}",
        r.state.as_str(),
        for_terminal(&r.from),
        r.to.as_deref().map_or_else(|| "-".into(), for_terminal),
        r.source.as_str(),
        r.score.map(|s| format!(" {s:.2}")).unwrap_or_default(),
        for_terminal(r.note.as_deref().unwrap_or(""))
    )
}

fn write_entries(
    out: &mut impl Write,
    title: &str,
    entries: &[Entry],
    limit: usize,
) -> std::io::Result<()> {
    writeln!(out, "{title} ({}):", entries.len())?;
    for e in entries.iter().take(limit) {
        writeln!(
            out,
            "  {} -> {}  [{}{}] {}",
            e.from,
            e.to.as_deref().unwrap_or("-"),
            e.source.map_or("-", |s| s.as_str()),
            e.score.map(|s| format!(" {s:.2}")).unwrap_or_default(),
            e.reason
        )?;
    }
    if entries.len() > limit {
        writeln!(
            out,
            "  ... {} more (--format json lists all)",
            entries.len() - limit
        )?;
    }
    Ok(())
}

fn write_report(out: &mut impl Write, r: &RunReport) -> std::io::Result<()> {
    writeln!(
        out,
        "dead paths: {}; live pages: {}; map {}: {}",
        r.dead_paths,
        r.live_pages,
        for_terminal(&r.map.display().to_string()),
        match r.outcome {
            None => "dry run, nothing written",
            Some(crate::map::Outcome::Unchanged) => "unchanged",
            Some(crate::map::Outcome::Written) => "written",
        }
    )?;
    write_entries(out, "active", &r.active, 200)?;
    write_entries(out, "proposed", &r.proposed, 200)?;
    write_entries(out, "rejected", &r.rejected, 50)?;
    write_entries(out, "skipped", &r.skipped, 50)?;
    for line in &r.changes.added {
        writeln!(out, "+ {line}")?;
    }
    for line in &r.changes.removed {
        writeln!(out, "- {line}")?;
    }
    if let Some(id) = &r.git_commit {
        writeln!(out, "git: committed the map as {id}")?;
    }
    if r.llm.enabled {
        writeln!(
            out,
            "model: {} question(s), {:.2} s{}",
            r.llm.queries,
            r.llm.seconds,
            r.llm
                .stopped
                .as_deref()
                .map(|s| format!("; {s}"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "took {:.2} s", r.seconds)
}

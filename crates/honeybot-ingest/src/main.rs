//! `honeybot-ingest`: wiring only (see lib.rs and docs/ingest.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use honeybot_daemon::{Control, Notifier};
use honeybot_ingest::{IngestError, Overrides, Settings};

/// Follow nginx access logs into HoneyDB, exactly once (a systemd Type=notify service).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TOML config file (keys: docs/ingest.md); the flags below override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// HoneyDB SQLite file (default: ./honeybot.db).
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Access log to follow; repeat for several (replaces `logs` of the config).
    #[arg(long = "log", value_name = "FILE")]
    logs: Vec<PathBuf>,
    /// Validate the config and exit (does not open the database or read the IP key).
    #[arg(long)]
    check_config: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    honeybot_daemon::logging::init("honeybot-ingest");
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err
                .downcast_ref::<IngestError>()
                .map_or(1, IngestError::exit_code);
            log::error!("{err:#}");
            ExitCode::from(code)
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let overrides = Overrides {
        config: args.config,
        db: args.db,
        logs: args.logs,
    };
    let settings = Settings::load(&overrides).map_err(IngestError::from)?;
    if args.check_config {
        println!(
            "config OK: {} log(s) into {}",
            settings.logs.len(),
            settings.db.display()
        );
        return Ok(());
    }
    let control = Control::new().context("cannot create the signal wake-up socket")?;
    control
        .install_signal_handlers()
        .context("cannot install signal handlers")?;
    let mut notifier = Notifier::from_env();
    let Some(db) = honeybot_ingest::open_db(&settings, &control, &notifier)? else {
        return Ok(());
    };
    honeybot_ingest::run(settings, db, &control, &mut notifier, || {
        Settings::load(&overrides).map_err(IngestError::from)
    })?;
    Ok(())
}

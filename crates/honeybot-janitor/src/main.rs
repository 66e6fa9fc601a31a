//! `honeybot-janitor`: wiring only (see lib.rs and docs/janitor.md).

use std::process::ExitCode;

use clap::Parser;
use honeybot_janitor::cli::{Cli, execute};

fn main() -> ExitCode {
    let cli = Cli::parse();
    honeybot_daemon::logging::init("honeybot-janitor");
    match execute(cli, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err.exit_code();
            let text =
                honeybot_daemon::terminal::for_terminal(&format!("{:#}", anyhow::Error::from(err)));
            log::error!("{text}");
            ExitCode::from(code)
        }
    }
}

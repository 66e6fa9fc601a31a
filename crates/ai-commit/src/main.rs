use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = ai_commit::cli::Cli::parse();
    match ai_commit::run(&cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            // The chain may quote a server's error text or a file name: escaped once, here.
            let text = format!("{:#}", anyhow::Error::from(e));
            eprintln!(
                "ai-commit: error: {}",
                honeybot_daemon::terminal::for_terminal(&text)
            );
            ExitCode::from(ai_commit::Exit::Error.code())
        }
    }
}

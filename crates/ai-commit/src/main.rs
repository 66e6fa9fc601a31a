use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = ai_commit::cli::Cli::parse();
    match ai_commit::run(&cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("ai-commit: error: {:#}", anyhow::Error::from(e));
            ExitCode::from(ai_commit::Exit::Error.code())
        }
    }
}

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = honeybot::Cli::parse();
    match honeybot::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the cause chain once, on one line.
            eprintln!("honeybot: {err:#}");
            ExitCode::FAILURE
        }
    }
}

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = honeybot::Cli::parse();
    match honeybot::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the cause chain once, on one line; file names and values in it
            // may hold escape bytes, which must not reach the terminal.
            let text = honeybot::sanitize::for_terminal(&format!("{err:#}"));
            eprintln!("honeybot: {text}");
            ExitCode::FAILURE
        }
    }
}

//! The `honeybot` command line: `honeybot ingest` imports access logs into HoneyDB exactly
//! once, `honeybot demo` imports the bundled sample log and prints what it found,
//! `honeybot watch` shows the requests live as the ingester records them.

mod demo;
mod ingest;
pub mod sanitize;
mod watch;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use honeybot_db::TimeZonePolicy;

/// Honeybot: a web head that watches itself.
#[derive(Debug, Parser)]
#[command(name = "honeybot", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import access logs (plain, gzip or `-` for stdin) into HoneyDB, each line exactly once.
    Ingest(IngestArgs),
    /// Import the bundled sample log and print a summary of what it holds.
    Demo(DemoArgs),
    /// A live terminal dashboard of the requests HoneyDB records (`q` quits).
    Watch(WatchArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The HoneyDB file (created when missing).
    #[arg(long, default_value = "honeybot.db")]
    pub db: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// How client addresses are stored: whole, truncated to /24 and /48, or keyed-hashed.
    #[arg(long, value_enum, default_value_t = IpModeArg::Full)]
    pub ip_mode: IpModeArg,
    /// File holding the key for `--ip-mode hash` (at least 16 bytes).
    #[arg(long, value_name = "FILE")]
    pub ip_key_file: Option<PathBuf>,
    /// Which date a line counts under: the date written in the line, or its UTC date.
    #[arg(long, default_value = "local-to-log", value_parser = parse_time_zone)]
    pub timezone: TimeZonePolicy,
    /// At most this many lines per transaction (a batch is also committed when it holds
    /// many distinct entries, which bounds memory).
    #[arg(long, default_value_t = honeybot_db::ImportOptions::DEFAULT_BATCH_LINES, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_lines: u64,
    /// Log files: plain or gzip (recognised by content), `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The HoneyDB file the sample is imported into.
    #[arg(long, default_value = "honeybot-demo.db")]
    pub db: PathBuf,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The HoneyDB file (read only; the ingester fills it).
    #[arg(long, default_value = "honeybot.db")]
    pub db: PathBuf,
    /// Panics after the first frame: how the tests check that the terminal is restored.
    #[arg(long, hide = true)]
    pub panic_after_draw: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IpModeArg {
    Full,
    Truncate,
    Hash,
}

fn parse_time_zone(s: &str) -> Result<TimeZonePolicy, String> {
    s.parse()
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Watch(args) => watch::run(&args),
    }
}

/// Writes a command's output to stdout; a closed pipe (`honeybot ... | head`) is not an error.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(anyhow::Context::context(
            result,
            "cannot write to standard output",
        )?),
    }
}

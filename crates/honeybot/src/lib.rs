//! The `honeybot` command line: `honeybot ingest` imports access logs into HoneyDB exactly
//! once, `honeybot demo` imports the bundled sample log and prints what it found,
//! `honeybot reclassify` recomputes the stored user-agent classes and path kinds,
//! `honeybot watch` shows the requests live as the ingester records them, `honeybot check`
//! reads every page of a HoneyDB file for damage.

mod check;
mod demo;
mod ingest;
mod reclassify;
pub mod report;
pub mod sanitize;
mod watch;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use honeybot_db::{AgentsFile, Classifier, DbOptions, TimeZonePolicy, TrapPaths};

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
    /// Reports over HoneyDB: summary, agents, ai, js, markdown, robots, 404, hostile, new, trends.
    Report(report::ReportArgs),
    /// Recompute every stored user agent's class and operator and every path's kind (with
    /// your `--agents` rules and trap paths), and print what changed.
    Reclassify(ReclassifyArgs),
    /// A live terminal dashboard of the requests HoneyDB records (`q` quits).
    Watch(WatchArgs),
    /// Read every page of a HoneyDB file for damage (read-only; ordinary opens check only
    /// the header, the schema and each table's and index's root page).
    Check(CheckArgs),
}

/// How new user agents and paths are classified (the same options for every command that
/// writes HoneyDB: a database classified with other rules is re-classified on open).
#[derive(Debug, Clone, Args)]
pub struct ClassifyArgs {
    /// Your own user-agent rules (TOML: `agent = [{ token = "...", class = "...",
    /// operator = "...", note = "..." }]`); they take precedence over the built-in table.
    #[arg(long, value_name = "FILE")]
    pub agents: Option<PathBuf>,
    /// The JavaScript trap's script path (its requests are the `trap` kind).
    #[arg(long, value_name = "PATH", default_value = "/trap.js")]
    pub trap_path: String,
    /// The trap's beacon path: requests for it are stored without their query string.
    #[arg(long, value_name = "PATH", default_value = "/api/beacon")]
    pub beacon_path: String,
}

impl ClassifyArgs {
    /// Sets the classifier and trap paths of `options`.
    pub fn apply(&self, options: &mut DbOptions) -> anyhow::Result<()> {
        if let Some(file) = &self.agents {
            let rules: AgentsFile = honeybot_daemon::load_toml(file)?;
            options.classifier = std::sync::Arc::new(
                Classifier::new(Some(&rules)).with_context(|| format!("in {}", file.display()))?,
            );
        }
        options.trap =
            TrapPaths::new(&self.trap_path, &self.beacon_path).map_err(anyhow::Error::msg)?;
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct ReclassifyArgs {
    /// The HoneyDB file (must exist).
    #[arg(long, default_value = "honeybot.db")]
    pub db: PathBuf,
    /// Output format: what changed as text, or one JSON object.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub classify: ClassifyArgs,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The HoneyDB file (created when missing).
    #[arg(long, default_value = "honeybot.db")]
    pub db: PathBuf,
    /// How lines are read: `combined`, `common`, `honeybot`, `vhost` (all recognised per
    /// line, the default) or an nginx `log_format` definition, e.g.
    /// '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent'.
    #[arg(long, value_name = "FORMAT", default_value = "combined", value_parser = parse_log_format)]
    pub log_format: honeybot_logparse::LogFormat,
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
    /// Rows kept in the database's ring of recent requests (what `honeybot watch` shows);
    /// 0 keeps none.
    #[arg(long, value_name = "N", default_value_t = DbOptions::DEFAULT_RECENT_REQUESTS as u64, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub recent_requests: u64,
    #[command(flatten)]
    pub classify: ClassifyArgs,
    /// The plain files are complete (rotated, nothing writes to them): count an
    /// unterminated last line instead of leaving it for the next import. gzip files and
    /// standard input are always complete.
    #[arg(long = "final")]
    pub r#final: bool,
    /// Log files: plain or gzip (recognised by content), `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The HoneyDB file (must exist; opened read-only).
    #[arg(long, default_value = "honeybot.db")]
    pub db: PathBuf,
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

impl IngestArgs {
    /// Applies the ring size, the classifier and the trap paths to `options`.
    pub fn apply_classify(&self, options: &mut DbOptions) -> anyhow::Result<()> {
        options.recent_requests = usize::try_from(self.recent_requests)?;
        self.classify.apply(options)
    }
}

fn parse_log_format(s: &str) -> Result<honeybot_logparse::LogFormat, String> {
    honeybot_logparse::LogFormat::from_spec(s).map_err(|e| e.to_string())
}

fn parse_time_zone(s: &str) -> Result<TimeZonePolicy, String> {
    s.parse()
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Reclassify(args) => reclassify::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Check(args) => check::run(&args),
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

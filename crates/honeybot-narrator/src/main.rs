//! `honeybot-narrator`: serve | say | speak | stop | skip | pause | resume | status.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use honeybot_daemon::Notifier;
use honeybot_daemon::terminal::for_terminal as printable;
use honeybot_narrator::client::Client;
use honeybot_narrator::config::Config;
use honeybot_narrator::engine::EngineKind;
use honeybot_narrator::markdown::markdown_to_script;
use honeybot_narrator::protocol::{EndReason, Event, Priority, Request, TextFormat};
use honeybot_narrator::{daemon, input, speak};

#[derive(Parser)]
#[command(
    version,
    about = "Reads articles and events aloud with a local TTS voice"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the daemon with its control socket.
    Serve {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Ask the daemon to say TEXT or a Markdown file.
    Say {
        /// Markdown file to read.
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
        /// Wait until the speech has finished playing.
        #[arg(long)]
        wait: bool,
        /// Cut current speech and drop the queue.
        #[arg(long)]
        interrupt: bool,
        /// TEXT is Markdown.
        #[arg(long)]
        markdown: bool,
        /// With --wait: print the job's events as JSON lines.
        #[arg(long, requires = "wait")]
        json: bool,
        #[command(flatten)]
        conn: Conn,
        #[arg(required_unless_present = "file")]
        text: Vec<String>,
    },
    /// Render to a WAV file without a daemon.
    Speak {
        #[arg(long, value_enum)]
        engine: EngineKind,
        #[arg(long)]
        output: PathBuf,
        /// Piper voice model (overrides the config).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Markdown file, or - for stdin.
        input: PathBuf,
    },
    /// Stop speaking and drop the queue.
    Stop(Conn),
    /// Skip the current text.
    Skip(Conn),
    Pause(Conn),
    Resume(Conn),
    /// Print the daemon's state as JSON.
    Status(Conn),
    /// Check a config file (keys, types, values) without starting anything; exit 0 when
    /// `serve --config FILE` would accept it (the NixOS module runs this at build time).
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(clap::Args)]
struct Conn {
    /// Control socket (default: from --config, else $XDG_RUNTIME_DIR/honeybot-narrator.sock).
    #[arg(long)]
    socket: Option<PathBuf>,
    #[arg(long)]
    config: Option<PathBuf>,
}

impl Conn {
    fn socket(&self) -> anyhow::Result<PathBuf> {
        if let Some(s) = &self.socket {
            return Ok(s.clone());
        }
        let cfg = load_config(self.config.as_deref())?;
        Ok(cfg.socket_path()?)
    }
}

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::from_toml_str("", Path::new("<defaults>"))?,
    })
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    honeybot_daemon::logging::init("honeybot-narrator");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", printable(&format!("{e:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let ok = std::process::ExitCode::SUCCESS;
    match cli.command {
        Cmd::Serve { config } => {
            let cfg = load_config(config.as_deref())?;
            let path = cfg.socket_path()?;
            let listener = daemon::bind(&path)?;
            log::info!("listening on {}", path.display());
            let mut notifier = Notifier::from_env();
            let result =
                daemon::serve(cfg, listener, shutdown_signal(), |s| notifier.ready(s)).await;
            notifier.stopping("shutting down");
            if let Err(e) = std::fs::remove_file(&path) {
                log::warn!("removing {}: {e}", path.display());
            }
            result?;
            Ok(ok)
        }
        Cmd::Say {
            file,
            wait,
            interrupt,
            markdown,
            json,
            conn,
            text,
        } => {
            let file = file
                .map(std::path::absolute)
                .transpose()
                .context("resolving --file")?;
            let text = (!text.is_empty()).then(|| text.join(" "));
            let format = if markdown {
                TextFormat::Markdown
            } else {
                TextFormat::Text
            };
            let priority = if interrupt {
                Priority::Interrupt
            } else {
                Priority::Normal
            };
            let mut client = Client::connect(&conn.socket()?).await?;
            if wait {
                client.call(&Request::Subscribe, |_| {}).await?;
            }
            let reply = client
                .call(
                    &Request::Say {
                        text,
                        file,
                        format,
                        priority,
                    },
                    |_| {},
                )
                .await?;
            let id = reply.id.context("the narrator gave no job id")?;
            println!("job {id}: {} sentences", reply.sentences.unwrap_or(0));
            if !wait {
                return Ok(ok);
            }
            let (reason, had_error) = client.follow(id, |e| print_event(e, json)).await?;
            let failed = had_error || reason != EndReason::Done;
            Ok(if failed {
                std::process::ExitCode::FAILURE
            } else {
                ok
            })
        }
        Cmd::Speak {
            engine,
            output,
            model,
            config,
            input,
        } => {
            let mut cfg = load_config(config.as_deref())?;
            if model.is_some() {
                cfg.piper.model = model;
            }
            let limit = cfg.limits.max_text_bytes;
            let md = if input == Path::new("-") {
                input::read_capped(std::io::stdin().lock(), limit, Path::new("standard input"))?
            } else {
                input::read_file_capped(&input, limit)?
            };
            let script = markdown_to_script(&md, &cfg.text_options());
            if script.sentences.is_empty() {
                bail!("{}: nothing to say", input.display());
            }
            let rendered = speak::render_with(engine, &cfg, &script, &output)?;
            println!("{}: {}", output.display(), rendered.summary());
            Ok(ok)
        }
        Cmd::CheckConfig { config } => {
            Config::load(&config)?;
            println!("{}: ok", printable(&config.display().to_string()));
            Ok(ok)
        }
        Cmd::Stop(c) => simple(c, Request::Stop).await,
        Cmd::Skip(c) => simple(c, Request::Skip).await,
        Cmd::Pause(c) => simple(c, Request::Pause).await,
        Cmd::Resume(c) => simple(c, Request::Resume).await,
        Cmd::Status(c) => {
            let mut client = Client::connect(&c.socket()?).await?;
            let reply = client.call(&Request::Status, |_| {}).await?;
            println!("{}", serde_json::to_string_pretty(&reply.status)?);
            Ok(ok)
        }
    }
}

/// One event of `say --wait`: JSON, or a line for people.
fn print_event(event: &Event, json: bool) {
    if json {
        if let Ok(line) = serde_json::to_string(event) {
            println!("{}", honeybot_narrator::protocol::json_for_terminal(&line));
        }
        return;
    }
    match event {
        Event::Sentence { index, text, .. } => println!("sentence {index}: {}", printable(text)),
        Event::Error { message, .. } => eprintln!("error: {}", printable(message)),
        Event::Finished { reason, .. } => println!("finished: {}", reason.as_str()),
        _ => {}
    }
}

async fn simple(conn: Conn, req: Request) -> anyhow::Result<std::process::ExitCode> {
    let mut client = Client::connect(&conn.socket()?).await?;
    client.call(&req, |_| {}).await?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// SIGTERM or SIGINT. The daemon is a tokio program that waits in `select!`, so it takes
/// tokio's signal streams as its shutdown future rather than `honeybot_daemon::Control`,
/// whose wake-up fd is made for `poll()` loops.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            log::warn!("cannot watch SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

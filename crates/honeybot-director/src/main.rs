//! `honeybot-director`: run | status | pause | resume | next | stop.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::{Parser, Subcommand};
use honeybot_daemon::Notifier;
use honeybot_director::config::{BrowserKind, Config, Overrides};
use honeybot_director::control::{self, Command, Status};
use honeybot_director::show::{self, Setup};
use honeybot_director::state::StateDir;
use honeybot_director::{Error, procs};

#[derive(Parser)]
#[command(
    version,
    about = "Runs the live show: articles on screen, read by the narrator"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the show.
    Run {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The Jekyll `_posts` folder.
        #[arg(long)]
        posts: Option<PathBuf>,
        /// The site's base URL.
        #[arg(long)]
        site_url: Option<String>,
        #[arg(long, value_enum)]
        browser: Option<BrowserKind>,
        #[arg(long)]
        narrator_socket: Option<PathBuf>,
        /// Play the newest article start to finish, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Check a config file (unknown keys, bad values) and exit: 0 good, 2 bad.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
    #[command(flatten)]
    Control(ControlCmd),
}

#[derive(Subcommand)]
enum ControlCmd {
    /// Print what is on screen and being read, as JSON.
    Status(Conn),
    /// Hold the show and the narration.
    Pause(Conn),
    /// Continue after pause.
    Resume(Conn),
    /// End the current item and go to the next.
    Next(Conn),
    /// End the show (browser closed, narration stopped) and exit.
    Stop(Conn),
}

#[derive(clap::Args)]
struct Conn {
    /// The director's control socket (default: from --config, else
    /// $XDG_RUNTIME_DIR/honeybot-director.sock).
    #[arg(long)]
    socket: Option<PathBuf>,
    #[arg(long)]
    config: Option<PathBuf>,
}

fn load(path: Option<&Path>) -> Result<Config, Error> {
    match path {
        Some(p) => Config::load(p),
        None => Config::from_toml_str("", Path::new("<defaults>")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    honeybot_daemon::logging::init("honeybot-director");
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("honeybot-director: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let usage = e.downcast_ref::<Error>().is_some_and(|e| {
                matches!(
                    e,
                    Error::Config(_) | Error::Invalid { .. } | Error::Missing { .. }
                )
            });
            let text = format!("{e:#}");
            let clean: String = text.chars().filter(|c| !c.is_control()).collect();
            eprintln!("honeybot-director: {clean}");
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (config, overrides, once) = match cli.command {
        Cmd::Control(c) => return control_verb(c).await,
        Cmd::CheckConfig { config } => {
            Config::load(&config)?;
            println!("{}: ok", config.display());
            return Ok(());
        }
        Cmd::Run {
            config,
            posts,
            site_url,
            browser,
            narrator_socket,
            once,
        } => (
            config,
            Overrides {
                posts,
                site_url,
                browser,
                narrator_socket,
            },
            once,
        ),
    };
    let mut cfg = load(config.as_deref())?;
    cfg.apply(overrides);
    let posts = cfg.posts.clone().ok_or(Error::Missing {
        what: "the posts folder",
        key: "posts",
        flag: "posts",
    })?;
    let site_url = cfg.site_url.clone().ok_or(Error::Missing {
        what: "the site URL",
        key: "site_url",
        flag: "site-url",
    })?;
    honeybot_director::config::check_site_url(&site_url).map_err(|message| Error::Invalid {
        path: "--site-url".into(),
        key: "site_url".into(),
        message,
    })?;
    let socket = cfg.socket_path()?;
    let narrator_socket = cfg.narrator_path()?;
    procs::become_subreaper();
    let state = StateDir::open(&cfg.state_path()?).await?;
    let listener = control::bind(&socket).await?;
    let shared = Arc::new(Mutex::new(Status::default()));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(control::serve(listener, shared.clone(), tx.clone()));
    let signals = tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        log::info!("signal received, stopping");
        let _ = tx.send(Command::Stop);
    });
    log::info!("control socket {}", socket.display());
    let setup = Setup {
        cfg,
        posts,
        site_url,
        narrator_socket,
        once,
    };
    let result = show::run(setup, state, shared, rx, Notifier::from_env()).await;
    server.abort();
    signals.abort();
    let _ = std::fs::remove_file(&socket);
    result.context("the show")
}

async fn control_verb(c: ControlCmd) -> anyhow::Result<()> {
    let (cmd, conn) = match c {
        ControlCmd::Status(c) => (Command::Status, c),
        ControlCmd::Pause(c) => (Command::Pause, c),
        ControlCmd::Resume(c) => (Command::Resume, c),
        ControlCmd::Next(c) => (Command::Next, c),
        ControlCmd::Stop(c) => (Command::Stop, c),
    };
    let socket = match conn.socket {
        Some(s) => s,
        None => load(conn.config.as_deref())?.socket_path()?,
    };
    let reply = control::call(&socket, cmd).await?;
    if let Some(status) = reply.status {
        println!("{}", serde_json::to_string_pretty(&status)?);
    }
    Ok(())
}

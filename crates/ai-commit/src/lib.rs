//! `ai-commit`: git commit messages from a local LLM that never commit an error.
//!
//! diff → prompt that fits the model's context → model → cleaned message; and when the model
//! is unreachable, slow, missing or talks nonsense, a deterministic message built from the
//! file list, a one-line warning and an exit code that says what happened ([`Exit`]).

pub mod clean;
pub mod cli;
pub mod config;
pub mod diff;
pub mod env;
pub mod fallback;
pub mod gate;
pub mod git;
pub mod hook;
pub mod prompt;

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::Path;

use honeybot_daemon::terminal::for_terminal;
use honeybot_llm::{Client, ErrorKind, LlmError};

use crate::clean::CommitMessage;
use crate::cli::{Cli, Command, HookCommand};
use crate::config::{Config, ConfigError};
use crate::diff::FileDiff;
use crate::git::{Git, GitError};
use crate::hook::HookError;

/// Exit codes (documented in docs/ai-commit.md). With a fallback message (10–14) the message
/// was still printed or committed, unless `--no-fallback` was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the model wrote the message.
    Ok,
    /// 1: an error; nothing was printed or committed.
    Error,
    /// 3: no change to describe.
    NothingToCommit,
    /// 4: committed, but `git push` failed.
    PushFailed,
    /// 10: fallback: the model server could not be reached (refused, no route, dropped).
    Unreachable,
    /// 11: fallback: the model did not answer in time.
    Timeout,
    /// 12: fallback: the server does not have the model (HTTP 404).
    ModelMissing,
    /// 13: fallback: the server answered with an HTTP error (5xx, 4xx other than 404).
    ServerError,
    /// 14: fallback: the answer was unusable (malformed, empty, nothing left after cleaning).
    Unusable,
    /// 15: fallback: the answer was turned down: an error text or a refusal sent as an
    /// answer, or a message that shares no word with the change.
    Rejected,
}

impl Exit {
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::NothingToCommit => 3,
            Exit::PushFailed => 4,
            Exit::Unreachable => 10,
            Exit::Timeout => 11,
            Exit::ModelMissing => 12,
            Exit::ServerError => 13,
            Exit::Unusable => 14,
            Exit::Rejected => 15,
        }
    }

    fn from_llm(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Refused | ErrorKind::Connect | ErrorKind::Transport | ErrorKind::Config => {
                Exit::Unreachable
            }
            ErrorKind::Timeout => Exit::Timeout,
            ErrorKind::ModelMissing => Exit::ModelMissing,
            ErrorKind::Server | ErrorKind::Rejected => Exit::ServerError,
            ErrorKind::BadBody | ErrorKind::Empty => Exit::Unusable,
        }
    }
}

/// Failures that stop ai-commit before anything is printed or committed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error("cannot set up the model client")]
    Client(#[source] LlmError),
    #[error(
        "standard input is not a diff (pipe `git diff` output, or run in a repository without input)"
    )]
    NotADiff,
    #[error("cannot read the diff from standard input")]
    Stdin(#[source] std::io::Error),
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
    #[error("cannot find the current folder or this program's path")]
    Cwd(#[source] std::io::Error),
}

/// The message and, when it is a fallback, why.
#[derive(Debug, Clone)]
pub struct Generated {
    pub message: CommitMessage,
    /// `None` when the model wrote it; else the exit code and a one-line reason.
    pub fallback: Option<(Exit, String)>,
}

/// Asks the model for a message for `files`; falls back to [`fallback::message`] on any
/// failure. Never returns an error text as the message.
///
/// # Errors
/// Only when the client cannot be set up (unreadable API key file): a configuration error
/// the user must fix.
pub fn generate(config: &Config, files: &[FileDiff]) -> Result<Generated, LlmError> {
    let prompt = build_prompt(config, files);
    let client = Client::new(config.client_config()?)?;
    let schema = config.structured.then(prompt::answer_schema);
    let fallback = |exit: Exit, why: String| Generated {
        message: fallback::message(files, config.conventional),
        fallback: Some((exit, why)),
    };
    match client.chat(&prompt.messages, schema.as_ref()) {
        Err(e) if e.kind() == ErrorKind::Config => Err(e),
        Err(e) => Ok(fallback(Exit::from_llm(e.kind()), e.to_string())),
        Ok(answer) => match clean::clean(&answer.content) {
            Some(message) if gate::check(&message, files).is_err() => {
                let why = gate::check(&message, files).err().map(|r| r.to_string());
                Ok(fallback(
                    Exit::Rejected,
                    format!(
                        "the answer of model {:?} {}",
                        config.model,
                        why.unwrap_or_default()
                    ),
                ))
            }
            Some(mut message) => {
                if config.conventional {
                    clean::ensure_conventional(&mut message, fallback::conventional_type(files));
                }
                Ok(Generated {
                    message,
                    fallback: None,
                })
            }
            None => Ok(fallback(
                Exit::Unusable,
                format!(
                    "the answer of model {:?} had no usable commit message",
                    config.model
                ),
            )),
        },
    }
}

fn build_prompt(config: &Config, files: &[FileDiff]) -> prompt::Prompt {
    let style = prompt::Style {
        conventional: config.conventional,
        lang: config.lang.clone(),
        structured: config.structured,
    };
    prompt::build(files, &style, config.num_ctx, config.max_tokens)
}

/// `ai-commit: warning: ...` on stderr; the text may quote a model server's error body or a
/// file name, so it goes through the one terminal escaper.
fn warn(what: &str) {
    eprintln!("ai-commit: warning: {}", for_terminal(what));
}

/// Runs the command line. Errors are returned for the caller to print (exit code 1).
///
/// # Errors
/// See [`Error`].
pub fn run(cli: &Cli) -> Result<Exit, Error> {
    let config = Config::load(&cli.overrides())?;
    if cli.print_config {
        write_stdout(&config.render())?;
        return Ok(Exit::Ok);
    }
    let cwd = std::env::current_dir().map_err(Error::Cwd)?;
    let git = Git::new(&cwd);
    match &cli.command {
        Some(Command::Hook {
            command: HookCommand::Install { force },
        }) => {
            let exe = std::env::current_exe().map_err(Error::Cwd)?;
            let path = hook::install(&git, &exe, *force)?;
            eprintln!(
                "ai-commit: installed {}",
                for_terminal(&path.display().to_string())
            );
            return Ok(Exit::Ok);
        }
        Some(Command::Hook {
            command: HookCommand::Run { file, source, .. },
        }) => {
            return Ok(run_hook(&config, &git, file, source.as_deref()));
        }
        None => {}
    }

    let diff = if cli.commit {
        if cli.all {
            git.add_all()?;
        }
        git.staged_diff()?
    } else if cli.all {
        git.all_diff()?
    } else if !cli.staged && !std::io::stdin().is_terminal() {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(Error::Stdin)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            git.staged_diff()?
        } else {
            let diff = git::Diff {
                text: git::into_text(bytes),
                names: Vec::new(),
            };
            if diff::parse(&diff.text, &[]).is_empty() {
                return Err(Error::NotADiff);
            }
            diff
        }
    } else {
        git.staged_diff()?
    };
    let files = diff::parse_with_names(&diff.text, &diff.names, &config.exclude);
    if files.is_empty() {
        eprintln!(
            "ai-commit: nothing to commit: no staged changes (stage with git add, or use --all)"
        );
        return Ok(Exit::NothingToCommit);
    }
    if cli.show_prompt {
        let p = build_prompt(&config, &files);
        let mut out = String::new();
        for m in &p.messages {
            out.push_str(&format!("=== {:?} ===\n{}\n", m.role, m.content));
        }
        out.push_str(&format!(
            "=== {} characters, about {} tokens of num_ctx {} ===\n",
            p.chars,
            p.chars / prompt::CHARS_PER_TOKEN,
            config.num_ctx
        ));
        write_stdout(&out)?;
        return Ok(Exit::Ok);
    }

    let generated = generate(&config, &files).map_err(Error::Client)?;
    let exit = match &generated.fallback {
        None => Exit::Ok,
        Some((exit, why)) if cli.no_fallback => {
            eprintln!(
                "ai-commit: error: {} (--no-fallback: nothing {})",
                for_terminal(why),
                if cli.commit { "committed" } else { "printed" }
            );
            return Ok(*exit);
        }
        Some((exit, why)) => {
            warn(&format!(
                "{why}; used a fallback message (exit code {})",
                exit.code()
            ));
            *exit
        }
    };
    let text = generated.message.to_string();
    if cli.commit {
        git.commit(&text)?;
        eprintln!(
            "ai-commit: committed: {}",
            for_terminal(&generated.message.subject)
        );
        if cli.push {
            if let Err(e) = git.push() {
                warn(&format!("committed, but push failed: {e}"));
                return Ok(Exit::PushFailed);
            }
            eprintln!("ai-commit: pushed");
        }
    } else {
        write_stdout(&text)?;
    }
    Ok(exit)
}

/// The hook never blocks a commit: every failure is a warning and the exit is 0.
fn run_hook(config: &Config, git: &Git, file: &Path, source: Option<&str>) -> Exit {
    // A `git commit` is waiting on the hook: its budget is the shorter one.
    let mut config = config.clone();
    config.timeout = config.timeout.min(config.hook_timeout);
    let config = &config;
    if hook::skip_reason(git, source).is_some() {
        return Exit::Ok; // silent: the user chose their own message
    }
    let files = match git.staged_diff() {
        Ok(d) => diff::parse_with_names(&d.text, &d.names, &config.exclude),
        Err(e) => {
            warn(&format!("hook: {e}"));
            return Exit::Ok;
        }
    };
    if files.is_empty() {
        return Exit::Ok;
    }
    let generated = match generate(config, &files) {
        Ok(g) => g,
        Err(e) => {
            warn(&format!("hook: {e}; used a fallback message"));
            Generated {
                message: fallback::message(&files, config.conventional),
                fallback: None,
            }
        }
    };
    if let Some((_, why)) = &generated.fallback {
        warn(&format!("{why}; used a fallback message"));
    }
    if let Err(e) = hook::write_message(file, &generated.message) {
        warn(&format!("hook: {e}"));
    }
    Exit::Ok
}

fn write_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Error::Stdout),
    }
}

//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Overrides;

/// Writes a git commit message for the staged change with a local LLM (Ollama or an
/// OpenAI-compatible server). When the model cannot answer, prints a plain message built from
/// the file list and exits with a code saying why (10-14); see docs/ai-commit.md.
#[derive(Debug, Parser)]
#[command(name = "ai-commit", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Describe the staged change (the default; also ignores a diff on standard input).
    #[arg(long, conflicts_with = "all")]
    pub staged: bool,
    /// Describe all changes, untracked files included (with --commit: stage them first).
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Model name, e.g. gemma3:4b.
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Server base URL, e.g. http://127.0.0.1:11434.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Ask for a Conventional Commits subject (type(scope): ...).
    #[arg(long)]
    pub conventional: bool,
    /// Language of the message, e.g. English, German.
    #[arg(long, value_name = "L")]
    pub lang: Option<String>,
    /// Commit with the message instead of printing it.
    #[arg(long)]
    pub commit: bool,
    /// Push after committing.
    #[arg(long, requires = "commit")]
    pub push: bool,
    /// Fail (exit 10-14, nothing printed or committed) instead of using a fallback message.
    #[arg(long)]
    pub no_fallback: bool,
    /// Print the effective configuration with the source of each value, and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Print the prompt that would be sent (no model is asked), and exit.
    #[arg(long)]
    pub show_prompt: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Git hook management.
    Hook {
        #[command(subcommand)]
        command: HookCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install a prepare-commit-msg hook in this repository.
    Install {
        /// Replace a prepare-commit-msg hook that ai-commit did not install.
        #[arg(long)]
        force: bool,
    },
    /// Run as the prepare-commit-msg hook (called by git).
    #[command(hide = true)]
    Run {
        file: PathBuf,
        source: Option<String>,
        sha: Option<String>,
    },
}

impl Cli {
    /// The flags that override configuration values.
    #[must_use]
    pub fn overrides(&self) -> Overrides {
        Overrides {
            model: self.model.clone(),
            endpoint: self.endpoint.clone(),
            conventional: self.conventional,
            lang: self.lang.clone(),
        }
    }
}

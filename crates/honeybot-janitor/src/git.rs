//! A copy of the published map committed to a git work tree (`git_repo`, `git_path`), so the
//! site's history shows every change of its redirects.
//!
//! The commit holds that one file only (other staged changes stay staged and out of it), is
//! authored by `honeybot-janitor`, runs no hook of the repository (`core.hooksPath` is
//! pointed at nothing: hooks are the repository owner's code) and is not signed. Nothing is
//! committed when the copy already has the map's content.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::GitTarget;
use crate::run::diff;
use honeybot_daemon::terminal::for_terminal;

/// Lines of added and removed entries listed in a commit message at most.
const MESSAGE_LINES: usize = 50;

/// Why the map could not be committed (the map itself is published; see [`commit_map`]).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`git {args}` in {repo} failed ({status}): {output}")]
    Git {
        repo: PathBuf,
        args: String,
        status: String,
        output: String,
    },
}

/// Writes `content` to the target path of the work tree and commits it; returns the new
/// commit id, or `None` when the copy was already up to date.
pub fn commit_map(target: &GitTarget, content: &str) -> Result<Option<String>, GitError> {
    let file = target.repo.join(&target.path);
    let old = std::fs::read_to_string(&file).unwrap_or_default();
    if old != content {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| GitError::Write {
                path: dir.to_owned(),
                source,
            })?;
        }
        std::fs::write(&file, content).map_err(|source| GitError::Write {
            path: file.clone(),
            source,
        })?;
    }
    let path = target.path.to_string_lossy().into_owned();
    git(&target.repo, &["add", "--", &path])?;
    // Exit 0: the index holds the same content as HEAD for this path.
    if git(&target.repo, &["diff", "--cached", "--quiet", "--", &path]).is_ok() {
        return Ok(None);
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    let message = message(&head_content(&target.repo, &path), &committed);
    git(
        &target.repo,
        &[
            "commit",
            "--quiet",
            "--no-verify",
            "--only",
            "-m",
            &message,
            "--",
            &path,
        ],
    )?;
    let id = git(&target.repo, &["rev-parse", "HEAD"])?;
    Ok(Some(id.trim().to_owned()))
}

/// The file as HEAD has it ("" when there is no HEAD or no such file yet).
fn head_content(repo: &Path, path: &str) -> String {
    git(repo, &["show", &format!("HEAD:./{path}")]).unwrap_or_default()
}

/// "honeybot-janitor: N redirect(s) (+A -R)" and the changed entries.
fn message(old: &str, new: &str) -> String {
    let changes = diff(old, new);
    let total = new
        .lines()
        .filter(|l| l.trim_start().starts_with('"'))
        .count();
    let mut text = format!(
        "honeybot-janitor: {total} redirect(s) (+{} -{})\n\n\
         The nginx map published by honeybot-janitor run (docs/janitor.md).\n",
        changes.added.len(),
        changes.removed.len()
    );
    let lines = changes
        .added
        .iter()
        .map(|l| format!("+ {}", for_terminal(l)))
        .chain(
            changes
                .removed
                .iter()
                .map(|l| format!("- {}", for_terminal(l))),
        );
    let all: Vec<String> = lines.collect();
    if !all.is_empty() {
        text.push('\n');
    }
    for line in all.iter().take(MESSAGE_LINES) {
        text.push_str(line);
        text.push('\n');
    }
    if all.len() > MESSAGE_LINES {
        text.push_str(&format!("... and {} more\n", all.len() - MESSAGE_LINES));
    }
    text
}

/// Runs git in `repo` as the janitor: its own identity, no hooks, no signing, no prompt.
fn git(repo: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "commit.gpgSign=false",
        ])
        .args(args)
        .env("GIT_AUTHOR_NAME", "honeybot-janitor")
        .env("GIT_AUTHOR_EMAIL", "honeybot-janitor@localhost")
        .env("GIT_COMMITTER_NAME", "honeybot-janitor")
        .env("GIT_COMMITTER_EMAIL", "honeybot-janitor@localhost")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| GitError::Git {
            repo: repo.to_owned(),
            args: args.join(" "),
            status: "not started".into(),
            output: e.to_string(),
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    Err(GitError::Git {
        repo: repo.to_owned(),
        args: args
            .iter()
            .map(|a| if a.contains('\n') { "<message>" } else { a })
            .collect::<Vec<_>>()
            .join(" "),
        status: out.status.to_string(),
        output: for_terminal(text.trim()).chars().take(600).collect(),
    })
}

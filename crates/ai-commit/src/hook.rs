//! The `prepare-commit-msg` hook: installing it, and deciding when to leave a commit alone.

use std::path::{Path, PathBuf};

use crate::clean::CommitMessage;
use crate::git::{Git, GitError};

/// First lines of the hook script; also how an existing hook is recognised as ours.
pub const MARKER: &str = "# installed by ai-commit hook install";

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{} exists and was not installed by ai-commit; move it away or use --force", path.display())]
    Foreign { path: PathBuf },
    #[error("cannot write hook {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read or write commit message file {}", path.display())]
    MessageFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The hook script calling `exe`.
#[must_use]
pub fn script(exe: &Path) -> String {
    let quoted = exe.display().to_string().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n\
         {MARKER}\n\
         # Fills in the commit message from a local LLM when none was given. Leaves -m/-F\n\
         # messages, templates, merges, squashes, amends and rebases alone, and never blocks a\n\
         # commit: when the model is unreachable a plain message from the file list is used.\n\
         exe='{quoted}'\n\
         [ -x \"$exe\" ] || exe=ai-commit\n\
         \"$exe\" hook run \"$@\" || true\n\
         exit 0\n"
    )
}

/// Installs the hook into the repository's hooks folder (honouring `core.hooksPath`).
///
/// # Errors
/// When a hook not installed by ai-commit is there (unless `force`), or on I/O failure.
pub fn install(git: &Git, exe: &Path, force: bool) -> Result<PathBuf, HookError> {
    let dir = git.git_path("hooks")?;
    let path = dir.join("prepare-commit-msg");
    let write_err = |source| HookError::Write {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(existing) if !force && !existing.contains(MARKER) => {
            return Err(HookError::Foreign { path });
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // Unreadable (binary hook...): only replaced with --force.
        Err(_) if !force => return Err(HookError::Foreign { path }),
        Err(_) => {}
    }
    std::fs::create_dir_all(&dir).map_err(write_err)?;
    std::fs::write(&path, script(exe)).map_err(write_err)?;
    set_executable(&path).map_err(write_err)?;
    Ok(path)
}

#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Why the hook leaves a commit alone, or `None` to write a message.
///
/// `source` is git's second hook argument: `message` (-m/-F), `template` (-t or
/// commit.template), `merge`, `squash`, `commit` (-c/-C/--amend); absent for a plain
/// `git commit`.
#[must_use]
pub fn skip_reason(git: &Git, source: Option<&str>) -> Option<&'static str> {
    match source {
        Some("message") => return Some("a message was given with -m or -F"),
        Some("template") => return Some("a commit template is in use"),
        Some("merge") => return Some("merge commit"),
        Some("squash") => return Some("squash commit"),
        Some("commit") => return Some("amend or reuse of a commit message"),
        Some(_) | None => {}
    }
    for (name, why) in [
        ("rebase-merge", "a rebase is in progress"),
        ("rebase-apply", "a rebase is in progress"),
        ("CHERRY_PICK_HEAD", "a cherry-pick is in progress"),
        ("REVERT_HEAD", "a revert is in progress"),
        ("MERGE_HEAD", "a merge is in progress"),
    ] {
        if git.git_path(name).is_ok_and(|p| p.exists()) {
            return Some(why);
        }
    }
    None
}

/// Puts the message at the top of git's message file, keeping git's comment lines below.
/// Leaves the file alone when it already has a message (non-comment text).
///
/// # Errors
/// When the file cannot be read or written.
pub fn write_message(path: &Path, message: &CommitMessage) -> Result<bool, HookError> {
    let err = |source| HookError::MessageFile {
        path: path.to_owned(),
        source,
    };
    let existing = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(err(e)),
    };
    let has_text = existing
        .lines()
        .take_while(|l| !l.starts_with("# ------------------------ >8"))
        .any(|l| !l.trim().is_empty() && !l.starts_with('#'));
    if has_text {
        return Ok(false);
    }
    let content = format!(
        "{message}{}",
        if existing.starts_with('\n') { "" } else { "\n" }
    ) + &existing;
    std::fs::write(path, content).map_err(err)?;
    Ok(true)
}

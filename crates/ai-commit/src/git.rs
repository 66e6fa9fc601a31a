//! Running `git`: diffs, commit, push, repository paths.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git in {}", dir.display())]
    Spawn {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`git {args}` failed ({status}): {stderr}")]
    Failed {
        args: String,
        status: String,
        stderr: String,
    },
    #[error("{}: not a git repository (run ai-commit inside one, or pipe a diff to it)", dir.display())]
    NotARepository { dir: PathBuf },
    #[error("cannot prepare temporary index {}", path.display())]
    TempIndex {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Arguments that make `git diff` output parseable whatever the user's configuration
/// (external diff drivers, `diff.noprefix`, `diff.relative`, colour, quoted paths).
const DIFF_ARGS: &[&str] = &[
    "diff",
    "--no-color",
    "--no-ext-diff",
    "--no-relative",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--find-renames",
    "--submodule=short",
    "-U3",
];

/// A git repository (or any folder: commands that need a repository fail with git's message).
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
}

impl Git {
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("git");
        c.current_dir(&self.dir)
            .args(["-c", "core.quotePath=false"])
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn run(
        &self,
        mut cmd: Command,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<Vec<u8>, GitError> {
        let spawn_err = |source| GitError::Spawn {
            dir: self.dir.clone(),
            source,
        };
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_err)?;
        if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(data).map_err(spawn_err)?;
        }
        let out = child.wait_with_output().map_err(spawn_err)?;
        if out.status.success() {
            return Ok(out.stdout);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr: String = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" / ")
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(400)
            .collect();
        Err(GitError::Failed {
            args: args.join(" "),
            status: out.status.to_string(),
            stderr,
        })
    }

    fn output(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        self.run(self.command(args), args, None)
    }

    fn text(&self, args: &[&str]) -> Result<String, GitError> {
        Ok(into_text(self.output(args)?))
    }

    /// A path inside the repository's git folder (`git rev-parse --git-path NAME`), which
    /// honours `core.hooksPath` for `hooks` and linked worktrees.
    ///
    /// # Errors
    /// When this is not a repository.
    pub fn git_path(&self, name: &str) -> Result<PathBuf, GitError> {
        let out = self.text(&["rev-parse", "--git-path", name])?;
        Ok(self.dir.join(out.trim_end_matches(['\n', '\r'])))
    }

    /// The staged change (what `git commit` would record). Honours `GIT_INDEX_FILE`, which
    /// git sets for hooks of `git commit -a` and `git commit FILE`.
    ///
    /// # Errors
    /// When git fails (not a repository...).
    pub fn staged_diff(&self) -> Result<Diff, GitError> {
        self.require_repository()?;
        let mut args = DIFF_ARGS.to_vec();
        args.push("--cached");
        let text = self.text(&args)?;
        let names = parse_name_status_z(&self.output(&name_args())?);
        Ok(Diff { text, names })
    }

    /// Fails with [`GitError::NotARepository`] outside a repository (where `git diff` would
    /// turn into `git diff --no-index` and print its usage).
    ///
    /// # Errors
    /// Outside a repository, or when git cannot run.
    pub fn require_repository(&self) -> Result<(), GitError> {
        let args = ["rev-parse", "--git-dir"];
        match self.output(&args) {
            Ok(_) => Ok(()),
            Err(GitError::Failed { .. }) => Err(GitError::NotARepository {
                dir: self.dir.clone(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Everything `git add -A && git commit` would record, without touching the index: the
    /// same diff computed against a temporary copy of it.
    ///
    /// # Errors
    /// When git fails or the temporary index cannot be written.
    pub fn all_diff(&self) -> Result<Diff, GitError> {
        self.require_repository()?;
        let index = self.git_path("index")?;
        let tmp = self.git_path(&format!("ai-commit-index.{}", std::process::id()))?;
        let _guard = RemoveOnDrop(tmp.clone());
        match std::fs::copy(&index, &tmp) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {} // no index yet
            Err(source) => return Err(GitError::TempIndex { path: tmp, source }),
        }
        let with_index = |args: &[&str]| {
            let mut c = self.command(args);
            c.env("GIT_INDEX_FILE", &tmp);
            c
        };
        self.run(with_index(&["add", "-A"]), &["add", "-A"], None)?;
        let mut args = DIFF_ARGS.to_vec();
        args.push("--cached");
        let out = self.run(with_index(&args), &args, None)?;
        let name_args = name_args();
        let names = self.run(with_index(&name_args), &name_args, None)?;
        Ok(Diff {
            text: into_text(out),
            names: parse_name_status_z(&names),
        })
    }

    /// `git add -A`
    ///
    /// # Errors
    /// When git fails.
    pub fn add_all(&self) -> Result<(), GitError> {
        self.output(&["add", "-A"]).map(drop)
    }

    /// `git commit -F -` with the message on stdin (hooks run; a `prepare-commit-msg` hook
    /// from ai-commit sees source `message` and leaves it alone).
    ///
    /// # Errors
    /// When git fails.
    pub fn commit(&self, message: &str) -> Result<(), GitError> {
        let args = ["commit", "--quiet", "-F", "-"];
        self.run(self.command(&args), &args, Some(message.as_bytes()))
            .map(drop)
    }

    /// `git push` to the branch's upstream.
    ///
    /// # Errors
    /// When git fails (no upstream, rejected...).
    pub fn push(&self) -> Result<(), GitError> {
        self.output(&["push", "--quiet"]).map(drop)
    }

    /// The folder git runs in.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A diff and its file names as git stores them (from `--name-status -z`, so no quoting to
/// undo), in the same order as the files of the diff.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    pub text: String,
    pub names: Vec<Name>,
}

/// One file of `git diff --name-status -z`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The status letter (`A`, `M`, `D`, `R`, `C`, `T`...).
    pub status: char,
    pub path: String,
    /// The old name of a rename or copy.
    pub old_path: Option<String>,
}

fn name_args() -> Vec<&'static str> {
    let mut args: Vec<&str> = DIFF_ARGS
        .iter()
        .copied()
        .filter(|a| !a.starts_with("-U") && !a.ends_with("prefix=a/") && !a.ends_with("prefix=b/"))
        .collect();
    args.extend(["--cached", "--name-status", "-z"]);
    args
}

/// Parses NUL-separated `--name-status -z` output.
#[must_use]
pub fn parse_name_status_z(bytes: &[u8]) -> Vec<Name> {
    let mut fields = bytes
        .split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let mut names = Vec::new();
    while let Some(status) = fields.next() {
        let Some(letter) = status.chars().next() else {
            break;
        };
        let Some(first) = fields.next() else { break };
        if matches!(letter, 'R' | 'C') {
            let Some(second) = fields.next() else { break };
            names.push(Name {
                status: letter,
                path: second,
                old_path: Some(first),
            });
        } else {
            names.push(Name {
                status: letter,
                path: first,
                old_path: None,
            });
        }
    }
    names
}

/// Bytes as text without a copy when they are UTF-8 (the usual case), lossily otherwise.
#[must_use]
pub fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

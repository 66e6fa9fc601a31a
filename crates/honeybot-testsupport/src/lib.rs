//! What Honeybot's integration tests share, so that each rule is written once:
//!
//! - [`require_tool`] / [`shared_data`]: a test that needs a missing tool or the team's
//!   shared data (`../shared/` beside the checkout) FAILS under `CI=true` and otherwise prints
//!   `SKIP: <reason>` and returns ([`skip_or_fail`]);
//! - [`wait_for`] / [`wait_until`]: poll a condition of the system under test with a deadline;
//! - [`nginx::Nginx`]: a real nginx on 127.0.0.1 with a port picked at run time, in a temp dir;
//! - [`damage`]: SQLite files with a damaged page, for what HoneyDB must refuse.
//!
//! A dev-dependency only (`publish = false`); nothing in here is used by a shipped binary.

pub mod damage;
pub mod nginx;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The workspace root (where `Cargo.toml` with `[workspace]` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether tests run under CI (`CI=true`): there, a missing tool or missing shared data is
/// a failure, not a skip.
pub fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The one rule for what a test cannot run without: panics with `reason` under `CI=true`,
/// otherwise prints `SKIP: <reason>` to stderr and returns `false` (the caller returns).
pub fn skip_or_fail(reason: &str) -> bool {
    if ci() {
        panic!("CI=true and {reason}");
    }
    eprintln!("SKIP: {reason}");
    false
}

/// `name` as an executable file on `PATH` (and in `/usr/sbin`, `/sbin`, where Debian puts
/// nginx), without running it.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The path of a tool the test needs; missing: see [`skip_or_fail`] (the reason names the
/// `scripts/deps/*.apt` files that list it).
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let found = find_tool(name);
    if found.is_none() {
        skip_or_fail(&format!("{name} is not installed ({})", where_listed(name)));
    }
    found
}

/// [`require_tool`] for each name; `false` at the first one missing.
pub fn require_tools(names: &[&str]) -> bool {
    names.iter().all(|name| require_tool(name).is_some())
}

/// Which `scripts/deps/*.apt` files name the package `name`, for the skip reason.
fn where_listed(name: &str) -> String {
    let dir = workspace_root().join("scripts/deps");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "apt"))
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|text| {
                text.lines().any(|l| {
                    l.split('#')
                        .next()
                        .is_some_and(|l| l.split_whitespace().any(|w| w == name))
                })
            })
        })
        .filter_map(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .collect();
    files.sort();
    if files.is_empty() {
        "its package is listed in scripts/deps/".to_owned()
    } else {
        format!(
            "apt-get install {name}; listed in scripts/deps/{}",
            files.join(", ")
        )
    }
}

/// `../shared/data/<sub>` beside the checkout (the team's real logs and bot lists), when it
/// is there; missing: see [`skip_or_fail`].
pub fn shared_data(sub: &str) -> Option<PathBuf> {
    let path = workspace_root().join("../shared/data").join(sub);
    if path.exists() {
        Some(path)
    } else {
        skip_or_fail(&format!("shared data not found at {}", path.display()));
        None
    }
}

/// Polls `probe` until it gives a value; panics with `what` when `limit` passes first.
/// For conditions of the system under test (rows in a DB, a file back after rotation), not
/// for a server's readiness (wait for its own signal instead, as [`nginx::Nginx`] does).
pub fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`wait_for`] a condition.
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    wait_for(what, limit, || cond().then_some(()));
}

/// Writes `text` to `path` readable by anyone (nginx's workers run as nobody when the tests
/// run as root), creating its folders (mode 0755).
pub fn write_public(path: &Path, text: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        mkdir_public(dir);
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// `mkdir -p` with mode 0755 on the folder itself.
pub fn mkdir_public(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", dir.display()));
}

/// Everything under `path` readable by anyone (folders 0755, files 0644).
pub fn open_up(path: &Path) {
    let mode = if path.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read_dir") {
            open_up(&entry.expect("dir entry").path());
        }
    }
}

/// Runs `cmd` to its end with `stdin` as its standard input (none: `/dev/null`), capturing
/// stdout and stderr. The input is written from a thread, so a program that answers before
/// it has read everything cannot deadlock the test.
pub fn output_with_stdin(
    mut cmd: std::process::Command,
    stdin: Option<&[u8]>,
) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
    let writer = stdin.zip(child.stdin.take()).map(|(bytes, mut pipe)| {
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            use std::io::Write;
            // A program that exits without reading all of it closes the pipe: not an error.
            let _ = pipe.write_all(&bytes);
        })
    });
    let out = child.wait_with_output().expect("wait for the program");
    if let Some(w) = writer {
        w.join().expect("stdin writer");
    }
    out
}

//! The nginx map file: rendered, validated with `nginx -t`, renamed into place, reloaded.
//!
//! 1. The new map goes to a temporary file beside the map (same file system).
//! 2. The test command checks a small nginx config of the janitor's that includes that
//!    file (and uses `$honeybot_redirect` the way a server does). If it fails, the temporary
//!    file is removed, the old map stays, and the run fails.
//! 3. The old map is kept as `<map>.previous`; the new one is renamed over the map
//!    (atomic: nginx reads either the old or the new file, never half of one).
//! 4. The reload command runs (the NixOS module lets `systemctl reload nginx` do it, which
//!    runs `nginx -t` on the real config first). If it fails, the old map is put back.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable the map sets; a server redirects with
/// `if ($honeybot_redirect) { return 301 $honeybot_redirect; }`.
pub const VARIABLE: &str = "$honeybot_redirect";

/// One line of the map; both parts already safe to write (see [`crate::key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The quoted key token.
    pub key_token: String,
    /// The percent-encoded target.
    pub location: String,
}

/// The whole map file for `lines`.
pub fn render(lines: &[Line]) -> String {
    let mut out = format!(
        "# Written by honeybot-janitor: {} redirect(s). Keys are nginx's $uri, lowercased.\n\
         # Do not edit: use `honeybot-janitor set FROM TO`, `reject FROM` or `unset FROM`\n\
         # and run it again (docs/janitor.md).\n\
         map $uri {VARIABLE} {{\n    default \"\";\n",
        lines.len()
    );
    for line in lines {
        out.push_str(&format!("    {} {};\n", line.key_token, line.location));
    }
    out.push_str("}\n");
    out
}

/// What [`publish`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The map already had this content: nothing written, nothing reloaded.
    Unchanged,
    /// Written and (when configured) reloaded.
    Written,
}

/// Why the map was not published. In every case the old map is in place.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the new map failed validation ({command} exited with {status}): {output}; the old map stays"
    )]
    Invalid {
        command: String,
        status: String,
        output: String,
    },
    #[error("the reload command {command} exited with {status}: {output}; {}", if *restored { "the old map was put back" } else { "no old map to put back" })]
    Reload {
        command: String,
        status: String,
        output: String,
        restored: bool,
    },
}

/// How to check and activate a map.
#[derive(Debug, Clone)]
pub struct Publisher<'a> {
    pub map: &'a Path,
    pub test_command: &'a [String],
    pub reload_command: Option<&'a [String]>,
    pub map_hash_bucket_size: usize,
}

impl Publisher<'_> {
    /// Validates `content` and puts it in place (see the module documentation).
    pub fn publish(&self, content: &str) -> Result<Outcome, MapError> {
        let old = std::fs::read(self.map).ok();
        if old.as_deref() == Some(content.as_bytes()) {
            return Ok(Outcome::Unchanged);
        }
        let dir = self
            .map
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let write_err = |path: &Path| {
            let path = path.to_owned();
            move |source| MapError::Write { path, source }
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".honeybot-janitor.")
            .suffix(".map.tmp")
            .tempfile_in(dir)
            .map_err(write_err(dir))?;
        tmp.write_all(content.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(write_err(tmp.path()))?;
        // Readable by nginx's workers like the map it replaces.
        set_mode(tmp.path(), 0o644).map_err(write_err(tmp.path()))?;
        self.validate(tmp.path())?;
        if let Some(old) = &old {
            replace(&self.map.with_file_name(previous_name(self.map)), old)
                .map_err(write_err(self.map))?;
        }
        tmp.persist(self.map)
            .map_err(|e| write_err(self.map)(e.error))?;
        sync_dir(dir);
        if let Some(reload) = self.reload_command {
            if let Err((command, status, output)) = run(reload, &[]) {
                let restored = match &old {
                    Some(old) => replace(self.map, old).is_ok(),
                    None => {
                        let _ = std::fs::remove_file(self.map);
                        false
                    }
                };
                return Err(MapError::Reload {
                    command,
                    status,
                    output,
                    restored,
                });
            }
        }
        Ok(Outcome::Written)
    }

    /// Runs the test command on a config that includes `candidate`.
    pub fn validate(&self, candidate: &Path) -> Result<(), MapError> {
        let dir = tempfile::Builder::new()
            .prefix("honeybot-janitor-nginx-t.")
            .tempdir()
            .map_err(write_err_tmp)?;
        let d = dir.path().display().to_string();
        let config = dir.path().join("nginx.conf");
        let include = quote_path(candidate).ok_or_else(|| MapError::Write {
            path: candidate.to_owned(),
            source: std::io::Error::other("the map's path holds a control character"),
        })?;
        let dq = |p: &str| quote_path(Path::new(p)).unwrap_or_default();
        let text = format!(
            "pid {pid};\nerror_log {err};\nevents {{ worker_connections 8; }}\nhttp {{\n\
             map_hash_bucket_size {bucket};\naccess_log off;\n\
             client_body_temp_path {t1};\nproxy_temp_path {t2};\nfastcgi_temp_path {t3};\n\
             uwsgi_temp_path {t4};\nscgi_temp_path {t5};\n\
             include {include};\n\
             server {{\n listen {listen};\n if ({VARIABLE}) {{ return 301 {VARIABLE}; }}\n}}\n}}\n",
            // `nginx -t` binds the listening sockets: a TCP port below 1024 needs root, and
            // the janitor's sandbox allows Unix sockets only. A socket in the temporary
            // folder works for any user.
            listen = dq(&format!("unix:{d}/test.sock")),
            pid = dq(&format!("{d}/nginx.pid")),
            err = dq(&format!("{d}/error.log")),
            bucket = self.map_hash_bucket_size,
            t1 = dq(&format!("{d}/body")),
            t2 = dq(&format!("{d}/proxy")),
            t3 = dq(&format!("{d}/fastcgi")),
            t4 = dq(&format!("{d}/uwsgi")),
            t5 = dq(&format!("{d}/scgi")),
        );
        std::fs::write(&config, text).map_err(|source| MapError::Write {
            path: config.clone(),
            source,
        })?;
        let config_s = config.display().to_string();
        run(self.test_command, &[("{config}", &config_s), ("{dir}", &d)]).map_err(
            |(command, status, output)| MapError::Invalid {
                command,
                status,
                output,
            },
        )
    }
}

fn write_err_tmp(source: std::io::Error) -> MapError {
    MapError::Write {
        path: std::env::temp_dir(),
        source,
    }
}

fn previous_name(map: &Path) -> String {
    let name = map
        .file_name()
        .map_or_else(|| "map".into(), |n| n.to_string_lossy().into_owned());
    format!("{name}.previous")
}

/// A path as a double-quoted nginx token; `None` when it holds a control character.
fn quote_path(path: &Path) -> Option<String> {
    let s = path.to_str()?;
    if s.chars().any(char::is_control) {
        return None;
    }
    Some(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// Writes `content` to `path` by a temporary file and a rename.
fn replace(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".honeybot-janitor.")
        .tempfile_in(dir)?;
    tmp.write_all(content)?;
    tmp.as_file().sync_all()?;
    set_mode(tmp.path(), 0o644)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Runs `command` with `{placeholder}`s replaced; on failure returns
/// (command line, exit status, the last lines of its output).
fn run(command: &[String], vars: &[(&str, &str)]) -> Result<(), (String, String, String)> {
    let args: Vec<String> = command
        .iter()
        .map(|a| {
            vars.iter()
                .fold(a.clone(), |a, (name, value)| a.replace(name, value))
        })
        .collect();
    let shown = args.join(" ");
    let Some((program, rest)) = args.split_first() else {
        return Err((shown, "no command".into(), String::new()));
    };
    match Command::new(program)
        .args(rest)
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stdout));
            let text: String = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" | ")
                .chars()
                .filter(|c| !c.is_control())
                .take(600)
                .collect();
            Err((shown, out.status.to_string(), text))
        }
        Err(e) => Err((shown, "not started".into(), e.to_string())),
    }
}

//! Window-manager helpers over `wmctrl` (EWMH): list windows with their process ids, raise
//! one, ask one to close.

use std::time::Duration;

use tokio::process::Command;

use crate::procs;

/// One line of `wmctrl -lp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// `0x03e00003`
    pub id: String,
    pub pid: i32,
    pub title: String,
}

/// Parses `wmctrl -lp`: `ID DESKTOP PID HOST TITLE…`.
pub fn parse_list(out: &str) -> Vec<Window> {
    out.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let id = f.next()?.to_owned();
            let _desk = f.next()?;
            let pid = f.next()?.parse().ok()?;
            let _host = f.next();
            let title = f.collect::<Vec<_>>().join(" ");
            Some(Window { id, pid, title })
        })
        .collect()
}

async fn run(args: &[&str]) -> Option<String> {
    let out = Command::new("wmctrl")
        .args(args)
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(5), out).await {
        Ok(Ok(o)) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(Ok(o)) => {
            log::debug!(
                "wmctrl {args:?}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Ok(Err(e)) => {
            log::warn!("running wmctrl: {e}");
            None
        }
        Err(_) => None,
    }
}

/// Top-level windows owned by a process of group `pgid`.
pub async fn windows_of_group(pgid: i32) -> Vec<Window> {
    let Some(out) = run(&["-lp"]).await else {
        return Vec::new();
    };
    parse_list(&out)
        .into_iter()
        .filter(|w| w.pid > 0 && procs::pgid_of(w.pid) == Some(pgid))
        .collect()
}

/// Raises and focuses window `id`.
pub async fn activate(id: &str) -> bool {
    run(&["-i", "-a", id]).await.is_some()
}

/// Asks window `id` to close (as its close button would).
pub async fn close(id: &str) -> bool {
    run(&["-i", "-c", id]).await.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wmctrl_lines_parse_with_spaces_in_titles() {
        let w = parse_list("0x00400002  0 26221  vm hello - Chromium\n0x00c00003 -1 0 N/A \n");
        assert_eq!(
            w[0],
            Window {
                id: "0x00400002".into(),
                pid: 26221,
                title: "hello - Chromium".into()
            }
        );
        assert_eq!(w[1].pid, 0);
    }
}

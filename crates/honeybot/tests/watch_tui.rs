//! `honeybot watch` in a real terminal: tmux runs the real binary on a HoneyDB that the real
//! `honeybot ingest` keeps filling with requests from hostile user agents (ESC sequences,
//! OSC 0 and OSC 52, a bidi override, C1 controls). `tmux capture-pane` shows the rows
//! arrive, escaped; tmux's own state shows that nothing reached the terminal (no clipboard
//! buffer, no title change, no mouse mode); `q`, Ctrl-C and a panic all leave the terminal
//! as it was (main screen, cooked mode, cursor shown).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use honeybot_testsupport::{require_tool, wait_for};

const BIN: &str = env!("CARGO_BIN_EXE_honeybot");
const LIMIT: Duration = Duration::from_secs(30);

/// A private tmux server (own socket, own config), killed on drop.
struct Tmux {
    bin: PathBuf,
    socket: PathBuf,
}

impl Tmux {
    fn start(bin: PathBuf, dir: &Path) -> Tmux {
        let conf = dir.join("tmux.conf");
        // set-clipboard on: an OSC 52 that reached the terminal would become a tmux buffer.
        std::fs::write(&conf, "set -g set-clipboard on\n").expect("write tmux.conf");
        let tmux = Tmux {
            bin,
            socket: dir.join("tmux.sock"),
        };
        tmux.ok(&[
            "-f",
            conf.to_str().expect("utf-8"),
            "start-server",
            ";",
            "new-session",
            "-d",
            "-s",
            "keep",
            "sleep 600",
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A window `name` of `w`×`h` running `command` under `sh -c`. The command prints a
    /// marker and waits for a line; the marker is seen on the screen before Enter is sent,
    /// so it is on the main screen when the program starts.
    fn window(&self, name: &str, w: u16, h: u16, command: &str) {
        self.ok(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
            command,
        ]);
        let marker = format!("before-watch-{name}");
        wait_for("the shell's marker", LIMIT, || {
            plain(&self.capture(name)).contains(&marker).then_some(())
        });
        self.ok(&["send-keys", "-t", name, "Enter"]);
    }

    fn format(&self, target: &str, fmt: &str) -> String {
        self.ok(&["display-message", "-p", "-t", target, fmt])
            .trim_end()
            .to_owned()
    }

    /// The visible screen as text, with tmux's own escapes for styling (`-e`).
    fn capture(&self, target: &str) -> String {
        self.ok(&["capture-pane", "-p", "-e", "-t", target])
    }

    /// The same with the pane's scrollback (lines that scrolled off the top).
    fn capture_all(&self, target: &str) -> String {
        self.ok(&["capture-pane", "-p", "-e", "-S", "-", "-t", target])
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// `capture` without its styling escapes; panics on any escape sequence other than SGR
/// styling (tmux re-emits only those for `-e`), so nothing else was on the screen.
fn plain(captured: &str) -> String {
    let mut out = String::new();
    let mut chars = captured.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            assert_eq!(
                chars.next(),
                Some('['),
                "a non-CSI escape on screen: {captured:?}"
            );
            let mut params = String::new();
            loop {
                match chars.next() {
                    Some('m') => break,
                    Some(p @ ('0'..='9' | ';' | ':')) => params.push(p),
                    other => panic!("a non-SGR sequence ({params}{other:?}) on screen"),
                }
            }
            continue;
        }
        assert!(
            c == '\n' || !(c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "a raw control or bidi character {c:?} on screen: {captured:?}"
        );
        out.push(c);
    }
    out
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// `05/Dec/2026:14:40:00 +0000` of Unix seconds (UTC).
fn log_time(ts: i64) -> String {
    let (days, secs) = (ts.div_euclid(86_400), ts.rem_euclid(86_400));
    // Days to civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A line as nginx writes it: bytes outside printable ASCII in the user agent and path are
/// `\xNN` escapes (honeybot-logparse decodes them back into the raw bytes).
fn line(ip: &str, path: &str, status: u16, ua: &str) -> String {
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" {status} 512 \"-\" \"{ua}\" \
         Accept:\"text/html\" MarkdownServed:0\n",
        log_time(now())
    )
}

fn append(log: &Path, text: &str) {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open log")
        .write_all(text.as_bytes())
        .expect("append to log");
}

fn ingest(db: &Path, log: &Path) {
    let out = Command::new(BIN)
        .args(["ingest", "--db"])
        .arg(db)
        .arg(log)
        .output()
        .expect("run honeybot ingest");
    assert!(
        out.status.success(),
        "honeybot ingest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shell command of a watch window: a marker on the main screen first, the exit status
/// and the terminal modes after; then the shell waits, so the pane stays alive to inspect.
fn watch_command(db: &Path, dir: &Path, name: &str, extra: &str) -> String {
    format!(
        "printf 'before-watch-{name}\\n'; read go; {BIN} watch --db {db} {extra}; \
         echo \"watch-exit={name}:$?\"; stty -a > {stty}; read done",
        db = db.display(),
        stty = dir.join(format!("stty-{name}")).display(),
    )
}

/// The program exited, and the terminal is as it was before it started.
fn assert_restored(tmux: &Tmux, dir: &Path, name: &str, status: i32) {
    let screen = wait_for("the watch to exit", LIMIT, || {
        let s = plain(&tmux.capture_all(name));
        s.contains(&format!("watch-exit={name}:")).then_some(s)
    });
    assert!(
        screen.contains(&format!("watch-exit={name}:{status}")),
        "exit status {status}:\n{screen}"
    );
    assert!(
        screen.contains(&format!("before-watch-{name}")),
        "the main screen is back:\n{screen}"
    );
    assert!(
        !screen.contains("requests (newest"),
        "the dashboard is gone:\n{screen}"
    );
    assert_eq!(
        tmux.format(name, "#{alternate_on} #{cursor_flag}"),
        "0 1",
        "main screen, cursor shown"
    );
    let stty = wait_for("stty output", LIMIT, || {
        std::fs::read_to_string(dir.join(format!("stty-{name}")))
            .ok()
            .filter(|s| s.contains("icanon") && s.contains("isig"))
    });
    let modes: Vec<&str> = stty.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(
            modes.contains(&mode),
            "cooked mode ({mode}) restored: {stty}"
        );
    }
}

const HOSTILE: &[(&str, &str)] = &[
    // (what nginx writes, what the dashboard must show)
    (r"h-clear\x1B[2J\x1B[H", r"h-clear\u{1b}[2J\u{1b}[H"),
    (
        r"h-title\x1B]0;pwned-title\x07",
        r"h-title\u{1b}]0;pwned-title\u{7}",
    ),
    (
        r"h-osc52\x1B]52;c;cHduZWQ=\x07",
        r"h-osc52\u{1b}]52;c;cHduZWQ=\u{7}",
    ),
    (r"h-bidi\xE2\x80\xAEtxt.exe", r"h-bidi\u{202e}txt.exe"),
    (
        r"h-c1\xC2\x9B31m\xC2\x9D0;c1\x07",
        r"h-c1\u{9b}31m\u{9d}0;c1\u{7}",
    ),
];

#[test]
fn live_rows_appear_escaped_and_the_terminal_is_restored() {
    let Some(tmux_bin) = require_tool("tmux") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (db, log) = (dir.join("honeybot.db"), dir.join("access.log"));
    append(
        &log,
        &line(
            "192.0.2.10",
            "/already-there",
            200,
            "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
        ),
    );
    ingest(&db, &log);

    let tmux = Tmux::start(tmux_bin, dir);
    tmux.window("w", 150, 40, &watch_command(&db, dir, "w", ""));
    let screen = wait_for("the dashboard", LIMIT, || {
        let s = plain(&tmux.capture("w"));
        s.contains("/already-there").then_some(s)
    });
    assert!(screen.contains("honeybot watch"), "{screen}");
    assert!(screen.contains("JS executors today"), "{screen}");
    assert_eq!(
        tmux.format(
            "w",
            "#{alternate_on} #{mouse_any_flag}#{mouse_button_flag}#{mouse_all_flag}\
             #{mouse_standard_flag}#{mouse_sgr_flag}#{mouse_utf8_flag}"
        ),
        "1 000000",
        "alternate screen on, no mouse mode of any kind"
    );
    let title_before = tmux.format("w", "#{pane_title}");

    // Live: the ingester commits hostile requests while the dashboard runs.
    let mut text = String::new();
    for (i, (ua, _)) in HOSTILE.iter().enumerate() {
        text += &line(&format!("203.0.113.{i}"), "/wp-login.php", 404, ua);
    }
    text += &line(
        "198.51.100.9",
        r"/p\x1B[31m-red\xE2\x80\xAEpath",
        404,
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)",
    );
    append(&log, &text);
    ingest(&db, &log);
    let screen = wait_for("the hostile rows", LIMIT, || {
        let s = plain(&tmux.capture("w"));
        HOSTILE
            .iter()
            .all(|(_, shown)| s.contains(shown))
            .then_some(s)
    });
    assert!(
        screen.contains(r"/p\u{1b}[31m-red\u{202e}"),
        "the hostile path, escaped:\n{screen}"
    );
    assert!(
        screen.contains("AI-C") && screen.contains("GPTBot"),
        "{screen}"
    );
    assert!(screen.contains("6 new since start"), "{screen}");
    // The header and panels follow within a second or so.
    let screen = wait_for("the day's totals and the AI panel", LIMIT, || {
        let s = plain(&tmux.capture("w"));
        (s.contains(": 7 requests, 7 clients") && s.contains("OpenAI")).then_some(s)
    });
    assert!(
        screen.contains("honeybot watch"),
        "nothing cleared the screen:\n{screen}"
    );
    let buffers = tmux.ok(&["list-buffers"]);
    assert_eq!(buffers, "", "an OSC 52 reached the terminal's clipboard");
    assert_eq!(
        tmux.format("w", "#{pane_title}"),
        title_before,
        "title unchanged"
    );
    assert!(!tmux.format("w", "#{pane_title}").contains("pwned"));

    // Resize: narrow, the panels give way; wide again, they come back.
    tmux.ok(&["resize-window", "-t", "w", "-x", "90", "-y", "24"]);
    let screen = wait_for("the narrow layout", LIMIT, || {
        let s = plain(&tmux.capture("w"));
        (!s.contains("JS executors") && s.contains("h-osc52")).then_some(s)
    });
    assert!(screen.lines().all(|l| l.chars().count() <= 90), "{screen}");
    tmux.ok(&["resize-window", "-t", "w", "-x", "150", "-y", "40"]);
    wait_for("the wide layout", LIMIT, || {
        let s = plain(&tmux.capture("w"));
        s.contains("JS executors today").then_some(())
    });

    tmux.ok(&["send-keys", "-t", "w", "q"]);
    assert_restored(&tmux, dir, "w", 0);
    assert_eq!(tmux.ok(&["list-buffers"]), "");
}

#[test]
fn ctrl_c_and_a_panic_restore_the_terminal_too() {
    let Some(tmux_bin) = require_tool("tmux") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (db, log) = (dir.join("honeybot.db"), dir.join("access.log"));
    append(&log, &line("192.0.2.10", "/page", 200, "curl/8.11.0"));
    ingest(&db, &log);
    let tmux = Tmux::start(tmux_bin, dir);

    tmux.window("c", 120, 30, &watch_command(&db, dir, "c", ""));
    wait_for("the dashboard", LIMIT, || {
        plain(&tmux.capture("c")).contains("/page").then_some(())
    });
    tmux.ok(&["send-keys", "-t", "c", "C-c"]);
    assert_restored(&tmux, dir, "c", 0);

    tmux.window(
        "p",
        120,
        30,
        &watch_command(&db, dir, "p", "--panic-after-draw"),
    );
    assert_restored(&tmux, dir, "p", 101);
    let screen = plain(&tmux.capture_all("p"));
    assert!(
        screen.contains("--panic-after-draw"),
        "the panic message is readable on the main screen:\n{screen}"
    );
}

#[test]
fn a_missing_database_is_a_clear_error_before_the_terminal_is_touched() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("nope.db");
    let out = Command::new(BIN)
        .args(["watch", "--db"])
        .arg(&db)
        .output()
        .expect("run honeybot watch");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no HoneyDB at") && err.contains("nope.db"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing drawn: {:?}", out.stdout);
    assert!(!db.exists(), "watch never creates a database");
}

/// Kills a process that is still running when the test ends (a failed test must not leave
/// a spinning dashboard behind).
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if !ended(self.0) {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

/// Whether process `pid` has ended (gone, or a zombie its parent has not reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

#[test]
fn a_closed_terminal_or_sigterm_ends_the_dashboard() {
    let Some(tmux_bin) = require_tool("tmux") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (db, log) = (dir.join("honeybot.db"), dir.join("access.log"));
    append(&log, &line("192.0.2.10", "/page", 200, "curl/8.11.0"));
    ingest(&db, &log);
    let tmux = Tmux::start(tmux_bin, dir);
    let status_file = dir.join("exit-status");
    let db_arg = db.to_str().expect("utf-8");
    for (name, how) in [("hup", "the pane closed"), ("term", "SIGTERM")] {
        // After SIGTERM the exit status is what counts. tmux fills in `pane_dead_status` only
        // once it has reaped the process, and now and then it leaves it a zombie for good
        // (seen with tmux 3.3a, about one run in six): a shell around the dashboard records
        // the status instead, and the signal goes to the dashboard itself.
        let (command, shell): (Vec<&str>, bool) = if name == "hup" {
            (vec![BIN, "watch", "--db", db_arg], false)
        } else {
            let script = r#""$0" watch --db "$1"; echo $? > "$2""#;
            let status = status_file.to_str().expect("utf-8");
            (vec!["sh", "-c", script, BIN, db_arg, status], true)
        };
        let mut args = vec!["new-session", "-d", "-s", name, "-x", "100", "-y", "20"];
        args.extend(&command);
        tmux.ok(&args);
        tmux.ok(&["set-option", "-t", name, "remain-on-exit", "on"]);
        wait_for("the dashboard", LIMIT, || {
            plain(&tmux.capture(name)).contains("/page").then_some(())
        });
        let pane: u32 = tmux.format(name, "#{pane_pid}").parse().expect("pane pid");
        let pid = if shell {
            wait_for("the dashboard's pid", LIMIT, || {
                std::fs::read_to_string(format!("/proc/{pane}/task/{pane}/children"))
                    .ok()?
                    .split_whitespace()
                    .next()?
                    .parse::<u32>()
                    .ok()
            })
        } else {
            pane
        };
        let _reaper = KillOnDrop(pid);
        if name == "hup" {
            // The terminal goes away under the program (as when an SSH connection drops).
            tmux.ok(&["kill-session", "-t", name]);
        } else {
            let status = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .expect("run kill");
            assert!(status.success());
            let code = wait_for("the exit status", LIMIT, || {
                let text = std::fs::read_to_string(&status_file).ok()?;
                text.ends_with('\n').then(|| text.trim().to_owned())
            });
            wait_for("the pane to die", LIMIT, || {
                (tmux.format(name, "#{pane_dead}") == "1").then_some(())
            });
            assert_eq!(
                format!("{code} {}", tmux.format(name, "#{alternate_on}")),
                "0 0",
                "a clean exit, main screen back"
            );
        }
        wait_for(&format!("honeybot watch to end after {how}"), LIMIT, || {
            ended(pid).then_some(())
        });
    }
}

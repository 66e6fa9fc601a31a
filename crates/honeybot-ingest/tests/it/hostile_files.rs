//! Whatever a log path points to: the follower opens regular files only (no symlink, FIFO
//! or device), never blocks on one, never stores a fingerprint of one, and reads one file
//! under two configured names once.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::{Daemon, append, db_path_counts, db_requests, log_line, wait_until};

fn config(dir: &std::path::Path, logs: &[&str]) -> String {
    let cfg = dir.join("ingest.toml");
    let logs: Vec<String> = logs
        .iter()
        .map(|l| format!("{:?}", dir.join(l).display().to_string()))
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "db = {:?}\nlogs = [{}]\nflush_interval_ms = 20\npoll_interval_ms = 50\n",
            dir.join("honeybot.db").display().to_string(),
            logs.join(", ")
        ),
    )
    .expect("write config");
    cfg.display().to_string()
}

fn cursor_rows(db: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).expect("open db");
    let mut stmt = conn
        // Rows without a path are the good log's own line checkpoints.
        .prepare("SELECT path FROM import_cursors WHERE path IS NOT NULL ORDER BY path")
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn symlinks_fifos_and_devices_are_refused_without_blocking_or_fingerprinting() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let secret = dir.join("secret.txt");
    std::fs::write(&secret, "root:$6$hash:19000:0:99999:7:::\n".repeat(40)).expect("secret");
    std::os::unix::fs::symlink(&secret, dir.join("shadow.log")).expect("symlink");
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.log")).expect("symlink");
    nix::unistd::mkfifo(
        &dir.join("fifo.log"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("mkfifo");
    let good = dir.join("good.log");
    for i in 0..50 {
        append(&good, log_line(i, &format!("/good/{i}")).as_bytes());
    }
    let cfg = config(dir, &["fifo.log", "shadow.log", "zero.log", "good.log"]);
    let db = dir.join("honeybot.db");
    let d = Daemon::spawn(&["--config", &cfg], &[]);
    wait_until("the good log counted", Duration::from_secs(30), || {
        db_requests(&db) >= 50
    });
    // Let the loop come round many times: a refusal must not repeat or stall anything.
    std::thread::sleep(Duration::from_millis(500));
    append(&good, log_line(50, "/good/50").as_bytes());
    wait_until("a later line counted", Duration::from_secs(30), || {
        db_requests(&db) >= 51
    });
    // The first SIGTERM is honoured.
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(5));
    assert!(status.success(), "SIGTERM exits 0: {status}\n{stderr}");

    assert_eq!(db_requests(&db), 51, "only the good log: {stderr}");
    assert_eq!(
        cursor_rows(&db),
        [good.display().to_string()],
        "no fingerprint of anything but the good log is stored"
    );
    for (name, why) in [
        ("shadow.log", "refusing to follow a symbolic link"),
        ("zero.log", "refusing to follow a symbolic link"),
        ("fifo.log", "it is a FIFO"),
    ] {
        let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(name)).collect();
        assert_eq!(lines.len(), 1, "{name} reported exactly once: {stderr}");
        assert!(lines[0].contains(why), "{name}: {why}: {}", lines[0]);
    }
    assert!(
        db_path_counts(&db)
            .iter()
            .all(|(p, _)| p.starts_with("/good/")),
        "nothing of the secret file was read"
    );
}

#[test]
fn one_file_under_two_names_is_counted_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // A hard link: same inode, two names.
    let a = dir.join("a.log");
    for i in 0..40 {
        append(&a, log_line(i, &format!("/a/{i}")).as_bytes());
    }
    std::fs::hard_link(&a, dir.join("alink.log")).expect("hard link");
    // A log and its rotated name both listed, across a rotation.
    let live = dir.join("access.log");
    for i in 0..30 {
        append(&live, log_line(i, &format!("/live/{i}")).as_bytes());
    }
    let cfg = config(dir, &["a.log", "alink.log", "access.log", "access.log.1"]);
    let db = dir.join("honeybot.db");
    let d = Daemon::spawn(&["--config", &cfg], &[]);
    wait_until("both logs counted", Duration::from_secs(30), || {
        db_requests(&db) >= 70
    });
    std::fs::rename(&live, dir.join("access.log.1")).expect("rotate");
    for i in 30..45 {
        // nginx writes to the rotated file before it reopens
        append(
            &dir.join("access.log.1"),
            log_line(i, &format!("/live/{i}")).as_bytes(),
        );
    }
    for i in 45..60 {
        append(&live, log_line(i, &format!("/live/{i}")).as_bytes());
    }
    wait_until(
        "the rotated and the new file counted",
        Duration::from_secs(30),
        || db_requests(&db) >= 100,
    );
    std::thread::sleep(Duration::from_millis(500));
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "SIGTERM exits 0: {status}\n{stderr}");
    let counts = db_path_counts(&db);
    assert_eq!(counts.len(), 100, "every line: {stderr}");
    assert!(
        counts.iter().all(|(_, c)| *c == 1),
        "every line once: {:?}\n{stderr}",
        counts
            .iter()
            .filter(|(_, c)| *c != 1)
            .take(3)
            .collect::<Vec<_>>()
    );
    assert!(
        stderr.contains("alink.log is the same file as"),
        "the config is warned about: {stderr}"
    );
    assert!(
        stderr.contains("access.log.1 is a rotated name of"),
        "the config is warned about: {stderr}"
    );
}

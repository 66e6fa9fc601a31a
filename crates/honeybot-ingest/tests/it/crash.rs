//! Exactly once through SIGKILL: a log grows (with lines split across writes) while the
//! real daemon binary is killed at random points and restarted; at the end every line
//! is counted exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::{Daemon, Rng, append, db_path_counts, db_requests, kv, log_line, wait_until};

const LINES: u64 = 6000;
const KILLS: usize = 12;

#[test]
fn sigkill_at_random_points_loses_and_doubles_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let db = tmp.path().join("honeybot.db");
    let cfg = tmp.path().join("ingest.toml");
    std::fs::write(
        &cfg,
        format!(
            "db = {:?}\nlogs = [{:?}]\nbatch_lines = 40\nflush_interval_ms = 10\npoll_interval_ms = 50\n",
            db.display().to_string(),
            log.display().to_string()
        ),
    )
    .expect("write config");

    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let log = log.clone();
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut rng = Rng::from_time();
            let mut i = 0;
            while i < LINES {
                let n = (1 + rng.below(60)).min(LINES - i);
                let mut chunk = String::new();
                for k in i..i + n {
                    chunk.push_str(&log_line(k, &format!("/crash/{k}")));
                }
                i += n;
                // Sometimes the last line arrives in two writes: a partial line on disk.
                let cut = chunk.len() - 1 - rng.below(40) as usize;
                append(&log, &chunk.as_bytes()[..cut]);
                std::thread::sleep(Duration::from_micros(rng.below(3000)));
                append(&log, &chunk.as_bytes()[cut..]);
                std::thread::sleep(Duration::from_micros(rng.below(6000)));
            }
            done.store(true, Ordering::SeqCst);
        })
    };

    let mut rng = Rng::from_time();
    let config = cfg.display().to_string();
    for _ in 0..KILLS {
        let d = Daemon::spawn(&["--config", &config], &[]);
        // The random point: anywhere from before the DB is open to mid-commit.
        std::thread::sleep(Duration::from_millis(5 + rng.below(300)));
        d.signal(Signal::SIGKILL);
        let (status, _) = d.wait(Duration::from_secs(10));
        assert!(!status.success(), "killed, not exited");
    }
    writer.join().expect("writer thread");
    assert!(done.load(Ordering::SeqCst));

    let d = Daemon::spawn(&["--config", &config], &[]);
    wait_until("all lines in the DB", Duration::from_secs(60), || {
        db_requests(&db) >= LINES as i64
    });
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "SIGTERM exits 0: {status}\n{stderr}");

    assert_eq!(db_requests(&db), LINES as i64, "no line counted twice");
    assert_eq!(kv(&db, "lines_parsed"), LINES as i64);
    assert_eq!(kv(&db, "lines_malformed"), 0, "no partial line was parsed");
    let counts = db_path_counts(&db);
    assert_eq!(counts.len() as u64, LINES, "no line lost");
    assert!(
        counts.iter().all(|(_, c)| *c == 1),
        "every line exactly once"
    );
}

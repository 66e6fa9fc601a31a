//! `honeybot ingest` run by hand on the log the daemon follows: HoneyDB's cursor
//! compare-and-swap refuses the loser's commit (`CursorConflict`); the daemon then drops
//! its batch and continues at the stored cursor, so nothing is lost or counted twice.
//!
//! The other importer is `honeybot_db::import` — the function the `honeybot ingest` CLI
//! runs — on its own HoneyDB connection (cargo builds only this package's binaries for
//! these tests). It gets the complete lines of the file: the CLI counts a last line
//! without newline as the end of the stream, which would split a line being written.

use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use honeybot_db::{DbError, DbOptions, HoneyDb, ImportError, ImportOptions, ImportStats, import};
use nix::sys::signal::Signal;

use crate::support::{
    Daemon, append, bind_notify_socket, db_path_counts, db_requests, log_line, wait_until,
};

const CONFLICT: &str = "was committed by another importer";

/// One `honeybot ingest` run on `log` (its complete lines) through a new connection.
fn import_by_hand(db: &Path, log: &Path) -> Result<ImportStats, ImportError> {
    let mut honeydb = HoneyDb::open(db, &DbOptions::default()).expect("open db for import");
    let data = std::fs::read(log).expect("read log");
    let end = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let meta = std::fs::metadata(log).expect("stat log");
    let mut options = ImportOptions::new(log.display().to_string());
    options.dev_inode = Some((meta.dev(), meta.ino()));
    import(&mut honeydb, &data[..end], &options, |_| {})
}

fn append_lines(log: &Path, from: u64, to: u64) {
    let text: String = (from..to)
        .map(|i| log_line(i, &format!("/c/{i}")))
        .collect();
    append(log, text.as_bytes());
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("ingest.toml");
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

fn assert_each_line_once(db: &Path, lines: u64) {
    let counts = db_path_counts(db);
    let doubled: Vec<_> = counts.iter().filter(|(_, c)| *c != 1).collect();
    assert!(doubled.is_empty(), "counted more than once: {doubled:?}");
    assert_eq!(counts.len() as u64, lines, "every line written is counted");
    assert_eq!(db_requests(db) as u64, lines);
}

/// Wait for a STATUS= saying lines are read and held (lag in seconds above zero).
fn wait_for_held_lines(sock: &UnixDatagram) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = vec![0u8; 4096];
    loop {
        assert!(Instant::now() < deadline, "the daemon never held lines");
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]);
            let held = msg
                .split_once("lag ")
                .and_then(|(_, rest)| rest.split_once(" s"))
                .and_then(|(secs, _)| secs.parse::<f64>().ok())
                .is_some_and(|s| s > 0.0);
            if held {
                return;
            }
        }
    }
}

#[test]
fn import_by_hand_while_following_drops_the_held_batch_and_continues() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let db = tmp.path().join("honeybot.db");
    let (sock_path, sock) = bind_notify_socket(tmp.path());
    // The daemon commits only full batches of 100 (or on SIGTERM), so the test knows
    // which lines it holds when the other importer commits.
    let config = write_config(
        tmp.path(),
        "batch_lines = 100\nflush_interval_ms = 3600000\n",
    );
    append_lines(&log, 0, 50);
    let d = Daemon::follow(
        &db,
        &log,
        Some(Path::new(&config)),
        &[("NOTIFY_SOCKET", &sock_path.display().to_string())],
    );
    wait_for_held_lines(&sock);
    assert_eq!(db_requests(&db), 0, "the daemon holds its 50 lines");

    // By hand: counts the 50 lines the daemon holds.
    let stats = import_by_hand(&db, &log).expect("import by hand");
    assert_eq!(stats.lines_parsed, 50);

    // 50 more fill the daemon's batch; its commit conflicts, it drops the batch and reads
    // on from line 50 (lines 50..150 make its next full batch).
    append_lines(&log, 50, 150);
    wait_until("lines after the conflict", Duration::from_secs(30), || {
        db_requests(&db) == 150
    });

    // The same during the shutdown flush: 30 lines held, counted by hand, then SIGTERM.
    append_lines(&log, 150, 180);
    wait_for_held_lines(&sock);
    let stats = import_by_hand(&db, &log).expect("second import by hand");
    assert_eq!(
        (stats.lines_skipped_duplicate, stats.lines_parsed),
        (150, 30)
    );
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}\n{stderr}");
    assert_eq!(stderr.matches(CONFLICT).count(), 2, "{stderr}");
    assert!(!stderr.contains("cannot commit"), "not a fault: {stderr}");
    assert_each_line_once(&db, 180);
}

#[test]
fn concurrent_imports_while_following_lose_and_double_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let db = tmp.path().join("honeybot.db");
    let config = write_config(tmp.path(), "flush_interval_ms = 50\n");
    append_lines(&log, 0, 20);
    let d = Daemon::follow(&db, &log, Some(Path::new(&config)), &[]);
    wait_until("the first lines", Duration::from_secs(20), || {
        db_requests(&db) == 20
    });

    const WRITTEN: u64 = 3000;
    let (imported, conflicts) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for chunk in (20..WRITTEN).step_by(20) {
                append_lines(&log, chunk, (chunk + 20).min(WRITTEN));
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let importers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let (mut imported, mut conflicts) = (0, 0);
                    for _ in 0..4 {
                        match import_by_hand(&db, &log) {
                            Ok(stats) => imported += stats.lines_parsed,
                            Err(ImportError::Db(DbError::CursorConflict { .. })) => {
                                conflicts += 1;
                            }
                            Err(err) => panic!("import by hand: {err}"),
                        }
                    }
                    (imported, conflicts)
                })
            })
            .collect();
        writer.join().expect("writer");
        importers
            .into_iter()
            .map(|h| h.join().expect("importer"))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    });
    eprintln!("imported by hand: {imported} lines; {conflicts} imports refused");
    wait_until("every line written", Duration::from_secs(60), || {
        db_requests(&db) as u64 >= WRITTEN
    });

    // Still following: new lines arrive.
    append_lines(&log, WRITTEN, WRITTEN + 100);
    wait_until("lines appended afterwards", Duration::from_secs(30), || {
        db_requests(&db) as u64 >= WRITTEN + 100
    });
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}\n{stderr}");
    assert_each_line_once(&db, WRITTEN + 100);
}

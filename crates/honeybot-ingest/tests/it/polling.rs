//! Without inotify (network file systems, exhausted watches) the loop polls every
//! `poll_interval_ms`: appends and a rename-and-create rotation are still followed.

use std::time::Duration;

use honeybot_ingest::Watcher;

use crate::nginx::start_ingest_with;
use crate::support::{append, db_path_counts, db_requests, log_line, wait_until};

#[test]
fn polling_fallback_follows_appends_and_rotation() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let db = tmp.path().join("honeybot.db");
    let (control, handle) = start_ingest_with(&db, &log, Watcher::polling);
    // The log appears after the start.
    for i in 0..30 {
        append(&log, log_line(i, &format!("/p/{i}")).as_bytes());
    }
    wait_until("lines of the new file", Duration::from_secs(20), || {
        db_requests(&db) == 30
    });
    std::fs::rename(&log, tmp.path().join("access.log.1")).expect("rotate");
    append(
        &tmp.path().join("access.log.1"),
        log_line(30, "/p/30").as_bytes(),
    );
    for i in 31..60 {
        append(&log, log_line(i, &format!("/p/{i}")).as_bytes());
    }
    wait_until("old tail and new file", Duration::from_secs(20), || {
        db_requests(&db) == 60
    });
    control.request_shutdown();
    handle.join().expect("thread").expect("run");
    let counts = db_path_counts(&db);
    assert_eq!(counts.len(), 60);
    assert!(counts.iter().all(|(_, c)| *c == 1));
}

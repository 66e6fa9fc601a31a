//! A database locked by another writer delays ingestion, reports it in STATUS=, and loses
//! nothing once the lock is released.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::{
    Daemon, append, bind_notify_socket, db_path_counts, db_requests, log_line, wait_until,
};

#[test]
fn locked_database_delays_but_loses_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("access.log");
    let db = tmp.path().join("honeybot.db");
    let (sock_path, sock) = bind_notify_socket(tmp.path());
    append(&log, log_line(0, "/locked/0").as_bytes());

    let d = Daemon::follow(
        &db,
        &log,
        None,
        &[("NOTIFY_SOCKET", &sock_path.display().to_string())],
    );
    wait_until("the first line", Duration::from_secs(20), || {
        db_requests(&db) == 1
    });

    // Another connection takes the write lock and keeps it.
    let locker = rusqlite::Connection::open(&db).expect("open db");
    locker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    for i in 1..200 {
        append(&log, log_line(i, &format!("/locked/{i}")).as_bytes());
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = vec![0u8; 4096];
    loop {
        assert!(Instant::now() < deadline, "no busy STATUS");
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]);
            if msg.contains("STATUS=ERROR") && msg.contains("busy") {
                break;
            }
        }
    }
    assert_eq!(db_requests(&db), 1, "nothing committed while locked");

    locker.execute_batch("COMMIT").expect("release the lock");
    wait_until("the held lines", Duration::from_secs(30), || {
        db_requests(&db) == 200
    });
    d.signal(Signal::SIGTERM);
    let (status, stderr) = d.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}\n{stderr}");
    assert!(stderr.contains("database busy"), "{stderr}");
    let counts = db_path_counts(&db);
    assert_eq!(counts.len(), 200);
    assert!(
        counts.iter().all(|(_, c)| *c == 1),
        "every line exactly once"
    );
}

//! The daemon opens its database once per start and runs for weeks, so it reads every page
//! first (`PRAGMA quick_check`): a file damaged past its b-tree roots (which `honeybot
//! ingest`'s cheaper open does not read) is refused at start, named, and left as it was.

use std::time::Duration;

use honeybot_db::{DbOptions, HoneyDb, ImportOptions};
use honeybot_testsupport::damage;

use crate::support::{Daemon, append, log_line};

#[test]
fn a_database_damaged_past_its_roots_is_refused_at_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (db, log) = (
        tmp.path().join("honeybot.db"),
        tmp.path().join("access.log"),
    );
    let lines: String = (0..5000)
        .map(|i| log_line(i, &format!("/page/{i}")))
        .collect();
    let mut honey = HoneyDb::open(&db, &DbOptions::default()).expect("open");
    honeybot_db::import(
        &mut honey,
        lines.as_bytes(),
        &ImportOptions::new("old.log"),
        |_| {},
    )
    .expect("import");
    drop(honey);
    let (root, last_leaf) = damage::root_and_last_leaf(&db, "daily_logs");
    assert_ne!(root, last_leaf, "daily_logs spans more than one page");
    damage::damage_page(&db, last_leaf);
    let before = std::fs::read(&db).expect("read db");
    append(&log, log_line(1, "/new").as_bytes());

    let (status, stderr) = Daemon::follow(&db, &log, None, &[]).wait(Duration::from_secs(30));
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("database {} is damaged", db.display())),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&db).expect("read db"),
        before,
        "nothing written"
    );
}

//! A person's review with the real binary: `list`, `accept`, `reject`, `set`, `unset`; their
//! decisions survive every later run, and bad arguments are refused with exit code 2.

use crate::support::{
    import_log, janitor, json_of, log_lines, page, pairs, require_tool, test_command, write,
};

#[test]
fn decisions_of_a_person_survive_later_runs() {
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let site = dir.join("site");
    page(&site, "/", "Home");
    page(&site, "/about/", "About me");
    page(&site, "/projects/honeybot/", "Honeybot");
    page(
        &site,
        "/blog/2021/rust-error-handling/",
        "Error handling in Rust",
    );
    page(
        &site,
        "/blog/2023/rust-error-handling/",
        "Error handling in Rust",
    );
    let log = dir.join("access.log");
    let mut lines = String::new();
    for path in [
        "/honeybot",
        "/rust-error-handling",
        "/Whoami/",
        "/unrelated-thing",
    ] {
        lines.push_str(&log_lines(path, 404, "192.0.2.4", "Mozilla/5.0", 3));
    }
    write(&log, &lines);
    let db = dir.join("honeybot.db");
    import_log(&db, &log);
    let config = dir.join("janitor.toml");
    write(
        &config,
        &format!(
            "db = {:?}\nsite = {:?}\nmap = {:?}\ndays = 2\nmin_hits = 3\nno_llm = true\ntest_command = {}\n",
            db.display().to_string(),
            site.display().to_string(),
            dir.join("redirects.map").display().to_string(),
            serde_json::to_string(&test_command(&nginx)).expect("json")
        ),
    );
    let cfg = config.display().to_string();
    let run = || json_of(&janitor(&["run", "--config", &cfg, "--format", "json"]));
    let cli = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str()];
        all.extend(args);
        janitor(&all)
    };

    let first = run();
    assert_eq!(
        pairs(&first, "active"),
        [("/honeybot".into(), Some("/projects/honeybot/".into()))]
    );
    assert_eq!(pairs(&first, "proposed").len(), 1, "{first:#}");
    assert_eq!(pairs(&first, "proposed")[0].0, "/rust-error-handling");

    // Review.
    assert!(cli(&["accept", "/rust-error-handling"]).status.success());
    let out = cli(&["reject", "/honeybot"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("rejected"),
        "{out:?}"
    );
    assert!(cli(&["set", "/whoami", "/about/"]).status.success());
    // `/Whoami/` is another key than `/whoami`: set the one that is requested.
    assert!(
        cli(&["set", "/Whoami/?from=mail", "/About/"])
            .status
            .success()
    );
    for (args, message) in [
        (vec!["set", "/x", "/no-such-page/"], "not a live page"),
        (
            vec!["set", "/x", "https://evil.example/"],
            "not a path of this site",
        ),
        (
            vec!["set", "/x", "//evil.example/"],
            "not a path of this site",
        ),
        (vec!["set", "/about/", "/"], "is a live page itself"),
        (
            vec!["set", "/x\u{202e}", "/about/"],
            "control or bidi character",
        ),
        (vec!["accept", "/never-seen"], "no decision for /never-seen"),
        (vec!["unset", "/never-seen"], "no decision for /never-seen"),
    ] {
        let out = cli(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(
            !stderr.contains('\u{202e}'),
            "a bidi control reached the terminal"
        );
    }

    // More 404s arrive; the next runs keep every decision.
    write(
        &log,
        &log_lines("/honeybot", 404, "192.0.2.5", "Mozilla/5.0", 10),
    );
    import_log(&db, &log);
    for _ in 0..2 {
        let report = run();
        let mut active = pairs(&report, "active");
        active.sort();
        assert_eq!(
            active,
            [
                (
                    "/rust-error-handling".into(),
                    Some("/blog/2021/rust-error-handling/".into())
                ),
                ("/whoami".into(), Some("/about/".into())),
                ("/whoami/".into(), Some("/about/".into())),
            ],
            "{report:#}"
        );
        let rejected = &report["rejected"][0];
        assert_eq!(
            (rejected["from"].as_str(), rejected["reason"].as_str()),
            (Some("/honeybot"), Some("rejected by a person"))
        );
        assert_eq!(rejected["source"], "manual");
    }
    let map = std::fs::read_to_string(dir.join("redirects.map")).expect("map");
    assert!(!map.contains("/honeybot"), "{map}");
    assert!(map.contains("\"/whoami/\" /about/;"), "{map}");

    // unset: the next run decides again.
    assert!(cli(&["unset", "/honeybot"]).status.success());
    let report = run();
    assert!(
        pairs(&report, "active")
            .contains(&("/honeybot".into(), Some("/projects/honeybot/".into())))
    );
    let list = String::from_utf8_lossy(&cli(&["list"]).stdout).into_owned();
    assert!(
        list.contains("active    /honeybot -> /projects/honeybot/  [lexical"),
        "{list}"
    );
    assert!(list.contains("[manual] set by a person"), "{list}");
}

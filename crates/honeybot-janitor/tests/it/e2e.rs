//! The whole loop with real parts: a real nginx serves a built site and logs real 404s,
//! honeybot-db imports its access.log into a real SQLite file, the janitor binary writes
//! the map, validates it with `nginx -t` and reloads nginx, and real HTTP requests then get
//! 301 with the right Location for good dead paths and 404 for everything hostile.

use std::path::Path;

use crate::support::{Nginx, import_log, janitor, json_of, page, pairs, require_tool, write};

/// The site: a few posts and pages, one with a non-ASCII path.
fn build_site(html: &Path) {
    page(html, "/", "Home");
    page(
        html,
        "/blog/2019/03/nginx-redirect-maps/",
        "Redirect maps in nginx",
    );
    page(
        html,
        "/blog/2021/07/rust-error-handling/",
        "Error handling in Rust",
    );
    page(html, "/projects/honeybot/", "Honeybot: a bot trap");
    page(html, "/about/", "About me");
    page(html, "/notes/café-crème/", "Café crème");
}

/// Dead paths a real visitor follows, as sent on the wire, and where they must land.
const GOOD: &[(&str, &str)] = &[
    (
        "/2019/03/nginx-redirect-maps.html",
        "/blog/2019/03/nginx-redirect-maps/",
    ),
    ("//projects//honeybots/", "/projects/honeybot/"),
    (
        "/Blog/Rust-Error-Handling/?utm_source=feed",
        "/blog/2021/07/rust-error-handling/",
    ),
    ("/notes/cafe-creme", "/notes/caf%C3%A9-cr%C3%A8me/"),
    // Attacker-written, but the words match a real page: the payload stays a key.
    (
        "/nginx-redirect-maps%22;%23%7D",
        "/blog/2019/03/nginx-redirect-maps/",
    ),
    ("/about%7B%7D$host%5C%27", "/about/"),
];

/// Exploit probes, from a scanner's address.
const PROBES: &[&str] = &[
    "/wp-login.php",
    "/.env",
    "/blog/wp-includes/wlwmanifest.xml",
];

/// Requested just as often, never redirected.
const HOSTILE: &[&str] = &[
    "/x%22;return%20301%20https://evil.example;%23", // the issue's injection
    "/about%0a",                                     // a newline after decoding
    "/about%1b%5b31m",                               // an ANSI escape
    "/honeybot%E2%80%AE",                            // a bidi override
    "/honeybot%ff",                                  // not UTF-8
    "/%2e%2e/%2e%2e/etc/passwd",                     // traversal (nginx: 400)
];

#[test]
fn dead_paths_become_301s_and_hostile_paths_stay_404() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("nginx");
    build_site(&Nginx::html(&dir));
    let nginx = Nginx::start(&bin, &dir, "");
    let long = format!("/nginx-redirect-maps-{}", "a".repeat(3000));

    // Real traffic: each dead path three times, from a reader's address.
    for _ in 0..3 {
        for (target, _) in GOOD {
            assert_eq!(nginx.get(target).0, 404, "{target} before the run");
        }
        for target in HOSTILE.iter().copied().chain([long.as_str()]) {
            let status = nginx.get(target).0;
            assert!(status == 404 || status == 400, "{target}: {status}");
        }
    }
    // A scanner's address asks for probes and for a plausible path only it asks for.
    for _ in 0..3 {
        for target in PROBES {
            assert_eq!(nginx.get_as(target, "scanner/1.0", "198.51.100.7").0, 404);
        }
    }
    for _ in 0..5 {
        nginx.get_as("/projects/honeybot-old", "scanner/1.0", "198.51.100.7");
    }
    // A page that was missing and exists by the time of the run.
    for _ in 0..3 {
        assert_eq!(nginx.get("/Talks/2026/").0, 404);
    }
    page(&Nginx::html(&dir), "/talks/2026/", "Talks 2026");
    let db = tmp.path().join("honeybot.db");
    import_log(&db, &nginx.access_log());

    let config = tmp.path().join("janitor.toml");
    let toml_list = |v: Vec<String>| {
        format!(
            "[{}]",
            v.iter()
                .map(|a| serde_json::Value::from(a.as_str()).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    write(
        &config,
        &format!(
            "days = 2\nmin_hits = 3\ntest_command = {}\nreload_command = {}\n",
            toml_list(nginx.test_command()),
            toml_list(nginx.reload_command())
        ),
    );
    let map = Nginx::map(&dir);
    let (db_s, site_s, map_s, config_s) = (
        db.display().to_string(),
        Nginx::html(&dir).display().to_string(),
        map.display().to_string(),
        config.display().to_string(),
    );
    let args = [
        "run", "--config", &config_s, "--db", &db_s, "--site", &site_s, "--map", &map_s,
        "--no-llm", "--format", "json",
    ];

    // A dry run writes nothing but shows what would change.
    let before = std::fs::read_to_string(&map).expect("map");
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let report = json_of(&janitor(&dry));
    assert_eq!(
        report["changes"]["added"].as_array().map(Vec::len),
        Some(GOOD.len()),
        "{report}"
    );
    assert_eq!(
        std::fs::read_to_string(&map).expect("map"),
        before,
        "dry run wrote the map"
    );
    let out = janitor(&["list", "--db", &db_s, "--format", "json"]);
    assert_eq!(
        json_of(&out),
        serde_json::json!([]),
        "dry run wrote the database"
    );

    let report = json_of(&janitor(&args));
    assert_eq!(report["outcome"], "written", "{report}");
    let active = pairs(&report, "active");
    assert_eq!(active.len(), GOOD.len(), "{report:#}");
    for e in report["active"].as_array().expect("active") {
        assert_eq!(e["source"], "lexical");
        assert!(e["score"].as_f64().expect("score") > 0.5);
    }
    let skipped = report["skipped"].to_string();
    for reason in [
        "exploit probe",
        "asked only by probing clients",
        "control or bidi character",
        "not UTF-8",
        "longer than max_key_bytes",
        "a live page now",
    ] {
        assert!(
            skipped.contains(reason),
            "no skipped path for {reason:?}: {skipped}"
        );
    }
    // The good ones, the injection (no page shares its words), the page that came back.
    assert_eq!(report["dead_paths"], GOOD.len() + 2, "{report:#}");

    // nginx reloads asynchronously: wait for the first redirect, then check them all.
    let expected = |to: &str| format!("http://localhost:{}{to}", nginx.port);
    nginx.wait_reloaded(|| nginx.get(GOOD[0].0).0 == 301);
    for (target, to) in GOOD {
        let (status, location, _) = nginx.get(target);
        assert_eq!(
            (status, location.as_deref()),
            (301, Some(expected(to).as_str())),
            "{target}"
        );
    }
    // Other spellings of the same dead path: encoded, doubled slashes, dot segments.
    for target in [
        "/2019/03/%6Eginx-redirect-maps.html",
        "/2019//03/./nginx-redirect-maps.html?x=1",
        "/NOTES/CAFE-CREME",
    ] {
        assert_eq!(nginx.get(target).0, 301, "{target}");
    }
    for target in HOSTILE
        .iter()
        .chain(PROBES)
        .copied()
        .chain([long.as_str(), "/projects/honeybot-old"])
    {
        let (status, location, _) = nginx.get(target);
        assert!(location.is_none(), "{target} redirected to {location:?}");
        assert!(
            status == 404 || status == 400 || status == 200,
            "{target}: {status}"
        );
    }
    // Live pages are untouched, and every Location stays on this server.
    for (_, to) in GOOD {
        assert_eq!(nginx.get(to).0, 200, "{to}");
    }
    let text = std::fs::read_to_string(&map).expect("map");
    assert!(
        text.contains(r#"    "/nginx-redirect-maps\";#}" /blog/2019/03/nginx-redirect-maps/;"#),
        "{text}"
    );
    assert!(!text.contains("evil"), "{text}");

    // The next run changes nothing: no rewrite, no reload.
    let report = json_of(&janitor(&args));
    assert_eq!(report["outcome"], "unchanged", "{report}");
    assert_eq!(pairs(&report, "active").len(), GOOD.len());
}

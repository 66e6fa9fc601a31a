//! A map that fails validation, or a reload that fails, leaves the old map in place and
//! fails the run loudly (exit code 3 and the error in the log).

use std::path::{Path, PathBuf};

use crate::support::{import_log, janitor, log_lines, page, require_tool, test_command, write};

struct Setup {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    db: String,
    site: String,
    map: PathBuf,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_owned();
    page(&dir.join("site"), "/", "Home");
    page(&dir.join("site"), "/projects/honeybot/", "Honeybot");
    write(
        &dir.join("access.log"),
        &log_lines("/honeybot", 404, "192.0.2.3", "Mozilla/5.0", 5),
    );
    import_log(&dir.join("honeybot.db"), &dir.join("access.log"));
    let map = dir.join("redirects.map");
    write(
        &map,
        "# the map before the run\nmap $uri $honeybot_redirect { default \"\"; }\n",
    );
    Setup {
        db: dir.join("honeybot.db").display().to_string(),
        site: dir.join("site").display().to_string(),
        map,
        dir,
        _tmp: tmp,
    }
}

fn config(dir: &Path, name: &str, test: &[String], reload: Option<&[String]>) -> String {
    let list = |v: &[String]| serde_json::to_string(v).expect("json list");
    let mut text = format!("days = 2\nmin_hits = 3\ntest_command = {}\n", list(test));
    if let Some(r) = reload {
        text.push_str(&format!("reload_command = {}\n", list(r)));
    }
    let path = dir.join(name);
    write(&path, &text);
    path.display().to_string()
}

#[test]
fn a_map_that_fails_nginx_t_is_not_installed() {
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    let s = setup();
    let before = std::fs::read_to_string(&s.map).expect("map");
    let cfg = config(&s.dir, "good.toml", &test_command(&nginx), None);
    // A config whose own check cannot pass: nginx -t on a config with an unknown directive.
    let bad = s.dir.join("bad-test.sh");
    write(
        &bad,
        &format!(
            "#!/bin/sh\nexec {} -t -q -c \"$1\" -g 'no_such_directive on;'\n",
            nginx.display()
        ),
    );
    let cfg_bad = config(
        &s.dir,
        "bad.toml",
        &["sh".into(), bad.display().to_string(), "{config}".into()],
        None,
    );
    let out = janitor(&[
        "run",
        "--config",
        &cfg_bad,
        "--db",
        &s.db,
        "--site",
        &s.site,
        "--map",
        &s.map.display().to_string(),
        "--no-llm",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("failed validation") && stderr.contains("the old map stays"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no_such_directive"),
        "nginx's own message is in the log: {stderr}"
    );
    assert_eq!(std::fs::read_to_string(&s.map).expect("map"), before);
    let leftovers: Vec<_> = std::fs::read_dir(&s.dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // Nothing was recorded either: the decision is made again next time.
    let list = janitor(&["list", "--db", &s.db]);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).trim(),
        "no decisions yet"
    );

    // With the working check the same run succeeds.
    let out = janitor(&[
        "run",
        "--config",
        &cfg,
        "--db",
        &s.db,
        "--site",
        &s.site,
        "--map",
        &s.map.display().to_string(),
        "--no-llm",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&s.map).expect("map");
    assert!(
        after.contains("\"/honeybot\" /projects/honeybot/;"),
        "{after}"
    );
    assert_eq!(
        std::fs::read_to_string(s.dir.join("redirects.map.previous")).expect("previous"),
        before
    );
}

#[test]
fn a_failed_reload_puts_the_old_map_back() {
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    let s = setup();
    let before = std::fs::read_to_string(&s.map).expect("map");
    // `nginx -s reload` for an nginx that is not running fails (no pid file).
    let reload = vec![
        nginx.display().to_string(),
        "-p".into(),
        format!("{}/", s.dir.display()),
        "-e".into(),
        format!("{}/error.log", s.dir.display()),
        "-s".into(),
        "reload".into(),
    ];
    let cfg = config(&s.dir, "janitor.toml", &test_command(&nginx), Some(&reload));
    let out = janitor(&[
        "run",
        "--config",
        &cfg,
        "--db",
        &s.db,
        "--site",
        &s.site,
        "--map",
        &s.map.display().to_string(),
        "--no-llm",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the old map was put back"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&s.map).expect("map"), before);
}

//! `check-config`: what the NixOS module runs on the rendered TOML at build time. It must
//! accept a good file without reading the files it names (the API key is a credential that
//! exists only at run time, the database and the site only on the machine), and refuse a bad
//! one with exit 2 and the file:line:col of the key, as `run` would.

use crate::support::{janitor, write};

#[test]
fn a_good_config_passes_without_touching_what_it_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let cfg = dir.join("janitor.toml");
    let db = dir.join("state/honeybot.db");
    let key = dir.join("credentials/llm-api-key");
    write(
        &cfg,
        &format!(
            "db = {db:?}\nsite = \"/nonexistent/site\"\nmap = \"/nonexistent/redirects.map\"\n\
             days = 14\nmin_hits = 2\nmap_hash_bucket_size = 128\n\
             test_command = [\"/nix/store/x-nginx/bin/nginx\", \"-t\", \"-c\", \"{{config}}\"]\n\
             [llm]\nmodel = \"qwen2.5:3b\"\nendpoint = \"http://127.0.0.1:11434\"\napi_key_file = {key:?}\n",
            db = db.display().to_string(),
            key = key.display().to_string(),
        ),
    );
    let out = janitor(&["--config", &cfg.display().to_string(), "check-config"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("config OK: "), "{stdout}");
    assert!(stdout.contains("/nonexistent/redirects.map"), "{stdout}");
    assert!(stdout.contains("model on"), "{stdout}");
    assert!(
        !db.exists() && !dir.join("state").exists(),
        "check-config created the database"
    );

    // The same file is refused by `run`, which does read the key: check-config really
    // skipped it rather than the key being optional.
    let out = janitor(&["run", "--config", &cfg.display().to_string(), "--dry-run"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("llm.api_key_file"), "{stderr}");
}

#[test]
fn a_bad_config_is_refused_with_its_position() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = tmp.path().join("janitor.toml");
    let check = |text: &str| {
        write(&cfg, text);
        let out = janitor(&["check-config", "--config", &cfg.display().to_string()]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, stderr) = check("days = 7\nmin_hit = 3\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2:1: key `min_hit`", cfg.display())),
        "{stderr}"
    );

    let (code, stderr) = check("min_score = 1.5\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("min_score"), "{stderr}");

    let (code, stderr) = check("test_command = [\"nginx\", \"-t\"]\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("{config}"), "{stderr}");

    let (code, stderr) = check("[llm]\nmodel = \"m\"\napi_key_file = \"relative/key\"\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("llm.api_key_file"), "{stderr}");

    let out = janitor(&["check-config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
}

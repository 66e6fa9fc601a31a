//! The system-wide config file (`/etc/xdg/ai-commit/config.toml`, written by NixOS's
//! `programs.ai-commit`): read when the user has none, replaced as a whole by the user's, and
//! checked by `--print-config` (the module's build-time check runs exactly that).

use std::path::Path;
use std::process::{Command, Output};

fn print_config(home: &Path, xdg_dirs: &Path, config: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ai-commit"));
    c.arg("--print-config")
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_CONFIG_DIRS", xdg_dirs)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("AI_COMMIT_MODEL")
        .env_remove("AI_COMMIT_ENDPOINT")
        .env_remove("OLLAMA_HOST");
    match config {
        Some(p) => c.env("AI_COMMIT_CONFIG", p),
        None => c.env_remove("AI_COMMIT_CONFIG"),
    };
    c.output().expect("run ai-commit")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn system_file_is_used_until_the_user_writes_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (home, etc) = (tmp.path().join("home"), tmp.path().join("etc/xdg"));
    std::fs::create_dir_all(&home).expect("mkdir");
    let system = etc.join("ai-commit/config.toml");
    write(
        &system,
        "model = \"system-model\"\nendpoint = \"http://127.0.0.1:11500\"\n",
    );

    let out = print_config(&home, &etc, None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("model = \"system-model\""), "{text}");
    assert!(text.contains("http://127.0.0.1:11500"), "{text}");
    assert!(
        text.contains(&format!("# config file: {}", system.display())),
        "{text}"
    );

    write(
        &home.join(".config/ai-commit/config.toml"),
        "model = \"mine\"\n",
    );
    let out = print_config(&home, &etc, None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("model = \"mine\""), "{text}");
    // Not merged: the system endpoint is gone with the system file.
    assert!(!text.contains("11500"), "{text}");
}

#[test]
fn print_config_rejects_a_bad_file_naming_key_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = tmp.path().join("config.toml");
    write(&cfg, "model = \"m\"\nnum_ctxx = 4096\n");
    let out = print_config(tmp.path(), tmp.path(), Some(&cfg));
    assert!(!out.status.success(), "accepted an unknown key");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("num_ctxx") && err.contains(":2:"), "{err}");
    write(&cfg, "num_ctx = 10\n");
    let out = print_config(tmp.path(), tmp.path(), Some(&cfg));
    assert!(!out.status.success(), "accepted num_ctx = 10");
    assert!(String::from_utf8_lossy(&out.stderr).contains("num_ctx"));
}

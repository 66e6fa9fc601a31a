//! The janitor as it runs on NixOS: not root. `nginx -t` binds the listening sockets of the
//! config it checks, so the janitor's own validation config must not listen on a privileged
//! TCP port (it listened on 127.0.0.1:9, and every unprivileged run failed with
//! `bind() to 127.0.0.1:9 failed (13: Permission denied)`; the NixOS sandbox also allows
//! Unix sockets only). Run as root, the test drops to `nobody` with setpriv.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::support::{BIN, db_with_404s, json_of, page, require_tool, test_command, write};

fn open_up(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_janitor_that_is_not_root_validates_and_publishes_its_map() {
    let Some(nginx) = require_tool("nginx") else {
        return;
    };
    // The owner of /proc/self is this process's effective user.
    let root =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc/self"))
            == 0;
    let setpriv = if root { require_tool("setpriv") } else { None };
    if root && setpriv.is_none() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let site = dir.join("site");
    page(&site, "/", "Home");
    page(
        &site,
        "/blog/2019/03/nginx-redirect-maps/",
        "Redirect maps in nginx",
    );
    page(&site, "/about/", "About me");
    let db = db_with_404s(dir, "/2019/03/nginx-redirect-maps.html", 3);
    for entry in std::fs::read_dir(dir).expect("ls").flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("honeybot.db")
        {
            open_up(&entry.path(), 0o666);
        }
    }
    let maps = dir.join("maps");
    std::fs::create_dir(&maps).expect("mkdir");
    open_up(&maps, 0o777);
    let config = dir.join("janitor.toml");
    write(
        &config,
        &format!(
            "db = {:?}\nsite = {:?}\nmap = {:?}\ndays = 2\nmin_hits = 3\nno_llm = true\ntest_command = {}\n",
            db.display().to_string(),
            site.display().to_string(),
            maps.join("redirects.map").display().to_string(),
            serde_json::to_string(&test_command(&nginx)).expect("json"),
        ),
    );

    // Last: support::write makes the folders of what it writes 0755.
    open_up(dir, 0o777);
    let mut cmd = match &setpriv {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
            c
        }
        None => Command::new(BIN),
    };
    let out = cmd
        .args([
            "--config",
            &config.display().to_string(),
            "run",
            "--format",
            "json",
        ])
        .env_remove("JOURNAL_STREAM")
        .current_dir(dir)
        .output()
        .expect("run the janitor");
    let report = json_of(&out);
    assert_eq!(report["outcome"], "written", "{report}");
    let map = std::fs::read_to_string(maps.join("redirects.map")).expect("map");
    assert!(
        map.contains("\"/2019/03/nginx-redirect-maps.html\" /blog/2019/03/nginx-redirect-maps/;"),
        "{map}"
    );
}

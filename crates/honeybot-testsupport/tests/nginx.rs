//! The harness itself, on a real nginx: it serves the caller's snippets, says why when nginx
//! refuses the config, and leaves nothing running after drop.

use std::net::TcpStream;

use honeybot_testsupport::nginx::Nginx;
use honeybot_testsupport::{require_tool, write_public};

#[test]
fn serves_the_snippets_and_stops_on_drop() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    write_public(&tmp.path().join("html/a.txt"), "a\n");
    let nginx = Nginx::start(
        &bin,
        tmp.path(),
        "log_format t '$request_uri $status';\naccess_log logs/access.log t;",
        "location = /teapot { return 418; }",
    );
    assert_eq!(nginx.get("/a.txt", &[]).text(), "a\n");
    assert_eq!(nginx.get("/teapot", &[]).status, 418);
    assert_eq!(nginx.get("/nope", &[("User-Agent", "t")]).status, 404);
    // The log line of a request is written before its response is sent.
    assert_eq!(
        nginx.access_log_text(),
        "/a.txt 200\n/teapot 418\n/nope 404\n"
    );
    let (port, master) = (nginx.port, tmp.path().join("nginx.pid"));
    let pid = std::fs::read_to_string(&master).expect("pid file");
    drop(nginx);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens on {port} after drop"
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the master {pid} is gone"
    );
}

#[test]
fn a_refused_config_fails_with_nginx_s_own_words() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let err =
        std::panic::catch_unwind(|| Nginx::start(&bin, tmp.path(), "", "no_such_directive on;"))
            .expect_err("nginx must refuse the config");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("nginx did not start: nginx -t refused the config")
            && msg.contains("unknown directive \"no_such_directive\""),
        "{msg}"
    );
}

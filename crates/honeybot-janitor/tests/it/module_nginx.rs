//! The NixOS module's nginx text (`modules/nginx/redirects-*.conf`, the empty map of
//! `redirects-empty.map`) in a real nginx, driven the way the module drives it: the empty
//! map is in place before nginx starts, the janitor checks its new map with the module's
//! `test_command` and writes it, then what `honeybot-janitor-reload.service` runs
//! (`nginx -t` on the complete config, then `nginx -s reload`) makes the dead path a 301.
//! A map nginx refuses fails that `nginx -t`, and putting `<map>.previous` back (what
//! `honeybot-janitor-restore.service` does) makes it pass again.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::support::{
    get_raw, import_log, janitor, json_of, page, require_tool, wait_until, write,
};

const DEAD: &str = "/2019/03/nginx-redirect-maps.html";
const LIVE: &str = "/blog/2019/03/nginx-redirect-maps/";

fn module_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../modules/nginx")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A config shaped like the one nixpkgs renders: `map_hash_bucket_size` (the module sets
/// services.nginx.mapHashBucketSize = 128) before the module's http text, and the module's
/// server text at the top of the virtual host.
fn nginx_conf(dir: &Path, port: u16, map: &Path) -> String {
    let d = dir.display();
    let http = module_file("redirects-http.conf").replace("@map@", &map.display().to_string());
    let server = module_file("redirects-server.conf");
    format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log;\n\
         events {{ worker_connections 64; }}\nhttp {{\n\
         access_log {d}/logs/access.log combined;\n\
         client_body_temp_path {d}/tmp/body;\nproxy_temp_path {d}/tmp/proxy;\n\
         fastcgi_temp_path {d}/tmp/fastcgi;\nuwsgi_temp_path {d}/tmp/uwsgi;\nscgi_temp_path {d}/tmp/scgi;\n\
         map_hash_bucket_size 128;\n{http}\n\
         server {{\nlisten 127.0.0.1:{port};\nserver_name localhost;\nroot {d}/html;\n{server}\n\
         location / {{ try_files $uri $uri/ =404; }}\n}}\n}}\n"
    )
}

struct Nginx {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Child,
}

/// `-p DIR/ -e DIR/logs/error.log -c DIR/nginx.conf`
fn args(dir: &Path) -> Vec<String> {
    let d = dir.display();
    vec![
        "-p".into(),
        format!("{d}/"),
        "-e".into(),
        format!("{d}/logs/error.log"),
        "-c".into(),
        format!("{d}/nginx.conf"),
    ]
}

/// `prefix` (e.g. a setpriv command line) running `bin`.
fn command(prefix: &[String], bin: &Path) -> Command {
    match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(bin);
            c
        }
        None => Command::new(bin),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("pick a port")
        .port()
}

impl Nginx {
    fn start(bin: &Path, dir: &Path, map: &Path) -> Nginx {
        Self::start_as(&[], bin, dir, map, free_port)
    }

    /// nginx started by `prefix` (its user and capabilities), on a port from `port`.
    fn start_as(
        prefix: &[String],
        bin: &Path,
        dir: &Path,
        map: &Path,
        port: impl Fn() -> u16,
    ) -> Nginx {
        for _ in 0..5 {
            let port = port();
            // Not support::write, which would make `dir` 0755 again.
            std::fs::write(dir.join("nginx.conf"), nginx_conf(dir, port, map))
                .expect("write nginx.conf");
            let mut nginx = Nginx {
                bin: bin.to_owned(),
                dir: dir.to_owned(),
                port,
                child: command(prefix, bin)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .args(args(dir))
                    .spawn()
                    .expect("spawn nginx"),
            };
            let mut exited = false;
            wait_until("nginx to listen or exit", || {
                exited = matches!(nginx.child.try_wait(), Ok(Some(_)));
                exited || TcpStream::connect(("127.0.0.1", port)).is_ok()
            });
            if !exited {
                return nginx;
            }
            let _ = nginx.child.wait();
        }
        panic!("nginx did not start (port taken 5 times?)");
    }

    /// `nginx -t` on this nginx's config, run by `prefix`.
    fn test_as(&self, prefix: &[String]) -> Output {
        command(prefix, &self.bin)
            .args(args(&self.dir))
            .arg("-t")
            .output()
            .expect("run nginx -t")
    }

    /// What honeybot-janitor-reload.service runs: `nginx -t`, then `nginx -s reload`.
    fn test(&self) -> Output {
        self.test_as(&[])
    }

    fn reload(&self) {
        let t = self.test();
        assert!(
            t.status.success(),
            "nginx -t: {}",
            String::from_utf8_lossy(&t.stderr)
        );
        let out = Command::new(&self.bin)
            .args(args(&self.dir))
            .args(["-s", "reload"])
            .output()
            .expect("run nginx -s reload");
        assert!(
            out.status.success(),
            "nginx -s reload: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Processes whose parent is the master: its workers, old ones included.
    fn workers(&self) -> usize {
        honeybot_testsupport::nginx::children_of(self.child.id())
    }

    /// Reloads and waits until only the new configuration's worker answers.
    fn reload_and_settle(&self) {
        self.reload();
        // The master starts the new worker before the old one leaves: until then a request
        // may reach either.
        wait_until("the old worker to leave", || self.workers() == 1);
    }

    fn get(&self, target: &str) -> (u16, Option<String>) {
        let (status, location, _) =
            get_raw(self.port, target.as_bytes(), "curl/8.11.0", "127.0.0.1");
        (status, location)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_err() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[test]
fn the_modules_nginx_text_serves_the_janitors_301_after_the_reload_units_steps() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("nginx");
    let html = dir.join("html");
    for (url, title) in [
        ("/", "Home"),
        (LIVE, "Redirect maps in nginx"),
        (
            "/blog/2021/07/rust-error-handling/",
            "Error handling in Rust",
        ),
        ("/projects/honeybot/", "Honeybot: a bot trap"),
        ("/about/", "About me"),
    ] {
        page(&html, url, title);
    }
    for d in ["logs", "tmp"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }
    // The module's tmpfiles rule: the empty map is there before nginx starts.
    let map = dir.join("maps/redirects.map");
    write(&map, &module_file("redirects-empty.map"));

    let nginx = Nginx::start(&bin, &dir, &map);
    for _ in 0..3 {
        assert_eq!(nginx.get(DEAD).0, 404);
    }
    assert_eq!(nginx.get(LIVE).0, 200);
    let db = tmp.path().join("honeybot.db");
    import_log(&db, &nginx.dir.join("logs/access.log"));

    // The config the module renders (its test_command: this nginx binary, the crate's
    // arguments), a timer-like run.
    let cfg = tmp.path().join("janitor.toml");
    let test_command = crate::support::test_command(&bin)
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    write(
        &cfg,
        &format!(
            "db = {:?}\nsite = {:?}\nmap = {:?}\nmin_hits = 3\nmap_hash_bucket_size = 128\n\
             test_command = [{test_command}]\nno_llm = true\n",
            db.display().to_string(),
            html.display().to_string(),
            map.display().to_string(),
        ),
    );
    let check = janitor(&["check-config", "--config", &cfg.display().to_string()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let report = json_of(&janitor(&[
        "--config",
        &cfg.display().to_string(),
        "run",
        "--format",
        "json",
    ]));
    assert_eq!(report["outcome"], "written", "{report}");
    assert_eq!(report["active"][0]["from"], DEAD, "{report}");
    assert_eq!(report["active"][0]["to"], LIVE, "{report}");
    assert!(
        dir.join("maps/redirects.map.previous").exists(),
        "no previous map kept"
    );
    assert_eq!(
        nginx.get(DEAD).0,
        404,
        "nginx changed its answer before the reload (the janitor has no reload command here)"
    );

    // honeybot-janitor-reload.service: the complete config is tested, then nginx reloads.
    nginx.reload();
    wait_until("the dead path to answer 301", || nginx.get(DEAD).0 == 301);
    wait_until("the old worker to leave", || nginx.workers() == 1);
    let (_, location) = nginx.get(DEAD);
    let location = location.expect("a Location header");
    assert!(location.ends_with(LIVE), "{location}");
    assert_eq!(nginx.get(LIVE).0, 200);
    assert_eq!(nginx.get("/never-asked-before").0, 404);

    // A map nginx refuses fails the reload unit's `nginx -t` ...
    let good = std::fs::read_to_string(&map).expect("read map");
    std::fs::copy(&map, dir.join("maps/redirects.map.previous")).expect("keep previous");
    write(&map, "map $uri $honeybot_redirect {\n    default \"\";\n");
    let refused = nginx.test();
    assert!(!refused.status.success(), "nginx -t accepted a broken map");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("test failed"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // ... and the restore unit's `mv -fT <map>.previous <map>` makes the config good again.
    std::fs::rename(dir.join("maps/redirects.map.previous"), &map).expect("restore");
    assert_eq!(std::fs::read_to_string(&map).expect("read map"), good);
    nginx.reload_and_settle();
    assert_eq!(nginx.get(DEAD).0, 301);
}

/// The premise of honeybot-janitor-reload.service: nginx's user can run nixpkgs' `nginx -t`
/// and `nginx -s reload` on a running nginx when it has nginx's CAP_NET_BIND_SERVICE
/// (`nginx -t` binds the listening sockets; a port in use is accepted in test mode), and
/// cannot without it, which is why the unit carries nginx's capabilities.
#[test]
fn nginx_user_with_nginx_capability_can_test_and_reload_a_running_nginx() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let root =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc/self"))
            == 0;
    if !root {
        eprintln!("SKIP: needs root to start nginx as another user with a capability");
        return;
    }
    let Some(setpriv) = require_tool("setpriv") else {
        return;
    };
    let user: Vec<String> = [
        setpriv.display().to_string(),
        "--reuid=65534".into(),
        "--regid=65534".into(),
        "--clear-groups".into(),
    ]
    .into();
    let mut with_cap = user.clone();
    with_cap.extend([
        "--inh-caps=+net_bind_service".into(),
        "--ambient-caps=+net_bind_service".into(),
    ]);

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("nginx");
    page(&dir.join("html"), "/", "Home");
    for d in ["logs", "tmp", "maps"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }
    let map = dir.join("maps/redirects.map");
    write(&map, &module_file("redirects-empty.map"));
    // nobody runs this nginx (as nginx's user runs nixpkgs'): it writes its logs and pid.
    for d in [
        tmp.path().to_owned(),
        dir.clone(),
        dir.join("logs"),
        dir.join("tmp"),
    ] {
        std::fs::set_permissions(
            &d,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o777),
        )
        .expect("chmod");
    }
    // A privileged port nobody uses now (tried as root, released at once).
    let privileged = || {
        (600..1024)
            .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .expect("a free port below 1024")
    };
    let nginx = Nginx::start_as(&with_cap, &bin, &dir, &map, privileged);
    assert_eq!(nginx.get("/").0, 200);

    let with = nginx.test_as(&with_cap);
    assert!(
        with.status.success(),
        "nginx -t with the capability: {}",
        String::from_utf8_lossy(&with.stderr)
    );
    let without = nginx.test_as(&user);
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(
        !without.status.success(),
        "nginx -t without the capability passed"
    );
    assert!(stderr.contains("Permission denied"), "{stderr}");

    let reload = command(&with_cap, &bin)
        .args(args(&dir))
        .args(["-s", "reload"])
        .output()
        .expect("nginx -s reload");
    assert!(
        reload.status.success(),
        "{}",
        String::from_utf8_lossy(&reload.stderr)
    );
    wait_until("the reloaded nginx to answer", || nginx.get("/").0 == 200);
}

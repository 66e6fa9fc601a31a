//! The map's keys are nginx's `$uri`: the janitor's normalisation must give exactly the
//! bytes nginx compares, for encoded, doubled-slash and dot-segment paths. A real nginx
//! echoes `$uri` for hand-picked and random request targets.

use honeybot_janitor::key;

use crate::support::{Nginx, require_tool};

/// A small xorshift generator, reproducible by seed (printed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A random request target built from the pieces that make normalisation hard.
fn random_target(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "/",
        "//",
        "/./",
        "/../",
        ".",
        "..",
        "a",
        "B",
        "post",
        "%2F",
        "%2f",
        "%2e",
        "%2E%2E",
        "%25",
        "%41",
        "%7E",
        "~",
        "%20",
        "+",
        ";",
        "%3B",
        "'",
        "%22",
        "%C3%A9",
        "é",
        "%E2%80%AE",
        "%0a",
        "%00",
        "%zz",
        "%4",
        "?",
        "?a=b/../c",
        "#",
        "$",
        "{",
        "}",
        "\\",
        "%5C",
        "index.html",
    ];
    let mut t = String::from("/");
    for _ in 0..rng.below(8) + 1 {
        t.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
    }
    t
}

#[test]
fn keys_are_exactly_what_nginx_compares() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let nginx = Nginx::start(
        &bin,
        &tmp.path().join("nginx"),
        r#"location / { return 200 "$uri"; }"#,
    );
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("rng seed {seed}");
    let mut rng = Rng(seed);
    let fixed = [
        "/old/",
        "/old/?utm_source=x",
        "//old//page",
        "/%6Fld/",
        "/a/./b/../c",
        "/a/b/..",
        "/a/.",
        "/caf%C3%A9",
        "/a%2Fb",
        "/a%2F%2Fb",
        "/a%20b",
        "/A/B",
        "/x%22;return%20301",
        "/a/%2e%2e/b",
        "/a/%2e/b",
    ];
    let mut compared = 0;
    for target in fixed
        .iter()
        .map(|s| s.to_string())
        .chain((0..400).map(|_| random_target(&mut rng)))
    {
        if target.contains(['#', ' ']) {
            continue; // not sendable as is in a request line
        }
        let (status, _, body) = nginx.get_bytes(target.as_bytes());
        let ours = key::uri_bytes(&target);
        match status {
            200 => {
                assert_eq!(
                    ours.as_deref(),
                    Ok(body.as_slice()),
                    "{target}: nginx's $uri is {:?}",
                    String::from_utf8_lossy(&body)
                );
                compared += 1;
            }
            400 => assert!(
                ours.is_err(),
                "{target}: nginx says 400, the janitor made {ours:?}"
            ),
            other => panic!("{target}: unexpected status {other}"),
        }
    }
    assert!(compared > 200, "only {compared} targets compared");
}

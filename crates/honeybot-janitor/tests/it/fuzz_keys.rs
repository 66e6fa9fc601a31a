//! Random bytes thrown at the key escaper, and a sample of the keys it accepts written into
//! one map: the real `nginx -t` accepts it, and a real request for every key's path gets
//! exactly its 301 (no key changed the meaning of another, or of the config).

use std::collections::HashSet;

use honeybot_janitor::{key, map};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::support::{Nginx, page, require_tool};

const MAX_KEY: usize = 110;

/// The request target whose `$uri` is `key`: every byte but `/` percent-encoded.
fn encoded(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in key {
        if b == b'/' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

#[test]
fn random_keys_pass_nginx_t_and_redirect_exactly() {
    let Some(bin) = require_tool("nginx") else {
        return;
    };
    // Keys: random pieces after a '/': printable ASCII, the bytes nginx's syntax cares
    // about, any byte at all, whole non-ASCII characters.
    let piece = proptest::prop_oneof![
        6 => (0x20u8..0x7f).prop_map(|b| vec![b]),
        3 => proptest::sample::select(b"\"'\\;{}$#~ %/.*^()[]|".to_vec()).prop_map(|b| vec![b]),
        1 => proptest::num::u8::ANY.prop_map(|b| vec![b]),
        1 => proptest::sample::select(vec!['é', 'ß', '€', '🦀', '\u{202e}', '\u{85}'])
            .prop_map(|c| c.to_string().into_bytes()),
    ];
    let strategy = proptest::collection::vec(piece, 0..40).prop_map(|pieces| {
        let mut v = vec![b'/'];
        v.extend(pieces.concat());
        v
    });
    let mut runner = TestRunner::deterministic();
    let (mut accepted, mut refused) = (Vec::new(), 0);
    let mut seen = HashSet::new();
    for _ in 0..3000 {
        let bytes = strategy.new_tree(&mut runner).expect("value").current();
        match key::quote_key(&bytes, MAX_KEY) {
            Ok(token) => {
                // Keys as the janitor stores them: one per lowercase form, no dot segments
                // or doubled slashes (nginx's $uri never has them, so no request matches).
                let text = String::from_utf8(bytes.clone()).expect("accepted keys are UTF-8");
                let Ok(k) =
                    key::map_key(&String::from_utf8(encoded(&bytes)).expect("ascii"), MAX_KEY)
                else {
                    continue;
                };
                if k != text.to_ascii_lowercase() || !seen.insert(k.clone()) {
                    continue;
                }
                accepted.push((k, token));
            }
            Err(_) => refused += 1,
        }
    }
    assert!(
        accepted.len() > 300 && refused > 300,
        "{} accepted, {refused} refused",
        accepted.len()
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("nginx");
    let html = Nginx::html(&dir);
    page(&html, "/", "Home");
    let nginx = Nginx::start(&bin, &dir, "");
    let sample: Vec<&(String, String)> = accepted.iter().take(400).collect();
    let lines: Vec<map::Line> = sample
        .iter()
        .enumerate()
        .map(|(i, (_, token))| {
            let to = format!("/target-{i}/");
            page(&html, &to, "target");
            map::Line {
                key_token: token.clone(),
                location: key::location(&to).expect("location"),
            }
        })
        .collect();
    let reload = nginx.reload_command();
    let test = nginx.test_command();
    let publisher = map::Publisher {
        map: &Nginx::map(&dir),
        test_command: &test,
        reload_command: Some(&reload),
        map_hash_bucket_size: 128,
    };
    let outcome = publisher
        .publish(&map::render(&lines))
        .expect("nginx -t accepts the map");
    assert_eq!(outcome, map::Outcome::Written);
    let probe = encoded(sample[0].0.as_bytes());
    nginx.wait_reloaded(|| nginx.get_bytes(&probe).0 == 301);
    for (i, (k, _)) in sample.iter().enumerate() {
        let (status, location, _) = nginx.get_bytes(&encoded(k.as_bytes()));
        let want = format!("http://localhost:{}/target-{i}/", nginx.port);
        assert_eq!(
            (status, location.as_deref()),
            (301, Some(want.as_str())),
            "key {k:?}"
        );
    }
    // And nothing else redirects.
    for target in ["/", "/target-0/", "/not-a-key", "/%22", "/%3B"] {
        let (status, location, _) = nginx.get(target);
        if sample
            .iter()
            .any(|(k, _)| k.as_bytes() == key::uri_bytes(target).expect("uri"))
        {
            continue;
        }
        assert!(
            location.is_none() && status != 301,
            "{target}: {status} {location:?}"
        );
    }
}

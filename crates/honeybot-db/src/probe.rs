//! Exploit probes: requests for software a static personal site does not run (WordPress,
//! PHP admin tools, leaked dotfiles, CGI scripts, ...). A client that asks for these is
//! scanning, and a 404 for such a path is noise, not a dead link.
//!
//! One list, used by the reports (the `hostile` report, the "hit exploit probes" flag) and by
//! the janitor (probe 404s are never redirected). Matching is on the path as nginx would
//! compare it: query string and fragment dropped, `%XX` decoded, ASCII lowercased, repeated
//! slashes folded.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

/// What a probe path is after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    /// WordPress and its plugins (`/wp-login.php`, `/wp-admin/`, `/xmlrpc.php`, ...).
    WordPress,
    /// Secrets and repositories left in the web root (`/.env`, `/.git/`, `/.aws/`, ...).
    Secrets,
    /// Database admin tools and backups (`/phpmyadmin/`, `/backup.sql`, ...).
    Admin,
    /// Server-side scripts a static site has none of (`*.php`, `/cgi-bin/`, `*.asp`, ...).
    Script,
    /// Known appliance and framework exploit paths (`/HNAP1`, `/boaform/`, `/actuator/`, ...).
    Exploit,
    /// Escaping the web root (`../`, `/etc/passwd`).
    Traversal,
}

impl ProbeKind {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WordPress => "word-press",
            Self::Secrets => "secrets",
            Self::Admin => "admin",
            Self::Script => "script",
            Self::Exploit => "exploit",
            Self::Traversal => "traversal",
        }
    }
}

/// Path prefixes (after normalisation) and what they probe for.
const PREFIXES: &[(&str, ProbeKind)] = &[
    ("/wp-admin", ProbeKind::WordPress),
    ("/wp-content", ProbeKind::WordPress),
    ("/wp-includes", ProbeKind::WordPress),
    ("/wp-login", ProbeKind::WordPress),
    ("/wp-config", ProbeKind::WordPress),
    ("/wp-json", ProbeKind::WordPress),
    ("/wp-cron", ProbeKind::WordPress),
    ("/wp-load", ProbeKind::WordPress),
    ("/wp-signup", ProbeKind::WordPress),
    ("/wp-trackback", ProbeKind::WordPress),
    ("/wordpress", ProbeKind::WordPress),
    ("/xmlrpc.php", ProbeKind::WordPress),
    ("/.env", ProbeKind::Secrets),
    ("/.git", ProbeKind::Secrets),
    ("/.svn", ProbeKind::Secrets),
    ("/.hg/", ProbeKind::Secrets),
    ("/.aws", ProbeKind::Secrets),
    ("/.ssh", ProbeKind::Secrets),
    ("/.docker", ProbeKind::Secrets),
    ("/.vscode", ProbeKind::Secrets),
    ("/.idea", ProbeKind::Secrets),
    ("/.ds_store", ProbeKind::Secrets),
    ("/.htaccess", ProbeKind::Secrets),
    ("/.htpasswd", ProbeKind::Secrets),
    ("/.npmrc", ProbeKind::Secrets),
    ("/.travis.yml", ProbeKind::Secrets),
    ("/sftp-config.json", ProbeKind::Secrets),
    ("/config.json", ProbeKind::Secrets),
    ("/credentials", ProbeKind::Secrets),
    ("/phpmyadmin", ProbeKind::Admin),
    ("/pma/", ProbeKind::Admin),
    ("/myadmin", ProbeKind::Admin),
    ("/adminer", ProbeKind::Admin),
    ("/mysql", ProbeKind::Admin),
    ("/manager/html", ProbeKind::Admin),
    ("/server-status", ProbeKind::Admin),
    ("/jenkins", ProbeKind::Admin),
    ("/solr", ProbeKind::Admin),
    ("/cgi-bin/", ProbeKind::Script),
    ("/cgi/", ProbeKind::Script),
    ("/vendor/phpunit", ProbeKind::Exploit),
    ("/hnap1", ProbeKind::Exploit),
    ("/boaform", ProbeKind::Exploit),
    ("/actuator", ProbeKind::Exploit),
    ("/_ignition", ProbeKind::Exploit),
    ("/telescope", ProbeKind::Exploit),
    ("/owa/", ProbeKind::Exploit),
    ("/autodiscover", ProbeKind::Exploit),
    ("/remote/login", ProbeKind::Exploit),
    ("/remote/fgt_lang", ProbeKind::Exploit),
    ("/geoserver", ProbeKind::Exploit),
    ("/containers/json", ProbeKind::Exploit),
    ("/druid/", ProbeKind::Exploit),
    ("/nacos", ProbeKind::Exploit),
    ("/console", ProbeKind::Exploit),
    ("/shell", ProbeKind::Exploit),
    ("/setup.cgi", ProbeKind::Exploit),
    ("/login.action", ProbeKind::Exploit),
    ("/etc/passwd", ProbeKind::Traversal),
    ("/proc/self", ProbeKind::Traversal),
];

/// Indices into [`PREFIXES`] of the kinds matched under any folder.
static ANYWHERE_PREFIXES: LazyLock<Vec<usize>> = LazyLock::new(|| {
    (0..PREFIXES.len())
        .filter(|&i| matches!(PREFIXES[i].1, ProbeKind::WordPress | ProbeKind::Secrets))
        .collect()
});

/// Those prefixes as one automaton (they are lowercase, like the normalised path).
static ANYWHERE: LazyLock<AhoCorasick> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .build(ANYWHERE_PREFIXES.iter().map(|&i| PREFIXES[i].0))
        .expect("a few dozen short literals compile")
});

/// File endings of server-side scripts and dumps: a static site serves none of them.
const SUFFIXES: &[(&str, ProbeKind)] = &[
    (".php", ProbeKind::Script),
    (".php7", ProbeKind::Script),
    (".phtml", ProbeKind::Script),
    (".asp", ProbeKind::Script),
    (".aspx", ProbeKind::Script),
    (".jsp", ProbeKind::Script),
    (".cgi", ProbeKind::Script),
    (".env", ProbeKind::Secrets),
    (".sql", ProbeKind::Admin),
    (".bak", ProbeKind::Admin),
];

/// What `path` (a request target as logged, query string included) probes for, if it is an
/// exploit probe.
///
/// ```
/// use honeybot_db::probe::{probe_kind, ProbeKind};
/// assert_eq!(probe_kind("/wp-login.php?redirect_to=x"), Some(ProbeKind::WordPress));
/// assert_eq!(probe_kind("/%2egit/config"), Some(ProbeKind::Secrets));
/// assert_eq!(probe_kind("/blog/2024/hello-world/"), None);
/// ```
pub fn probe_kind(path: &str) -> Option<ProbeKind> {
    let path = normalise(path);
    if path.contains("/../") || path.ends_with("/..") {
        return Some(ProbeKind::Traversal);
    }
    // WordPress files and leaked secrets count under any folder (`/blog/wp-login.php`,
    // `/old/.git/config`); the other kinds only at the root. One automaton pass finds every
    // such prefix below the root (one scan instead of one per prefix).
    let mut below_root = [false; PREFIXES.len()];
    for m in ANYWHERE.find_overlapping_iter(&path) {
        let i = ANYWHERE_PREFIXES[m.pattern().as_usize()];
        if m.start() > 0 && matches_prefix(&path[m.start()..], PREFIXES[i].0) {
            below_root[i] = true;
        }
    }
    for (i, (prefix, kind)) in PREFIXES.iter().enumerate() {
        if below_root[i] || matches_prefix(&path, prefix) {
            return Some(*kind);
        }
    }
    if let Some(kind) = path.split('/').find_map(|segment| {
        SUFFIXES
            .iter()
            .find(|(suffix, _)| segment.len() > suffix.len() && segment.ends_with(suffix))
            .map(|(_, kind)| *kind)
    }) {
        return Some(kind);
    }
    None
}

/// `prefix` starts `path` and ends at a boundary: prefixes ending in `/` or `-` match any
/// continuation; others only the whole segment or a file extension after it, so that
/// `/shell` matches `/shell.php` and `/shell/x` but not `/shellcheck-tips/`.
fn matches_prefix(path: &str, prefix: &str) -> bool {
    let Some(rest) = path.strip_prefix(prefix) else {
        return false;
    };
    prefix.ends_with(['/', '-']) || rest.is_empty() || rest.starts_with(['/', '.', '_'])
}

/// Whether `path` is an exploit probe (see [`probe_kind`]).
pub fn is_probe_path(path: &str) -> bool {
    probe_kind(path).is_some()
}

/// The path as matched: no query or fragment, `%XX` decoded (invalid escapes kept),
/// ASCII lowercase, runs of `/` folded to one, always starting with `/`.
fn normalise(path: &str) -> String {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    let decoded = percent_decode(&path[..end]);
    let mut out = String::with_capacity(decoded.len() + 1);
    if !decoded.starts_with('/') {
        out.push('/');
    }
    let mut last_slash = false;
    for c in decoded.chars() {
        let c = if c == '\\' {
            '/'
        } else {
            c.to_ascii_lowercase()
        };
        if c == '/' && last_slash {
            continue;
        }
        last_slash = c == '/';
        out.push(c);
    }
    out
}

fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_probes_are_recognised() {
        for (path, kind) in [
            ("/wp-login.php", ProbeKind::WordPress),
            ("/wp-admin/setup-config.php?step=1", ProbeKind::WordPress),
            ("/xmlrpc.php", ProbeKind::WordPress),
            ("/blog/wp-includes/wlwmanifest.xml", ProbeKind::WordPress),
            ("/.env", ProbeKind::Secrets),
            ("/api/.env", ProbeKind::Secrets),
            ("/.git/config", ProbeKind::Secrets),
            ("/.GIT/HEAD", ProbeKind::Secrets),
            ("//.git//config", ProbeKind::Secrets),
            ("/%2Eenv", ProbeKind::Secrets),
            ("/cgi-bin/luci", ProbeKind::Script),
            ("/index.php", ProbeKind::Script),
            ("/phpmyadmin/index.php", ProbeKind::Admin),
            ("/backup.sql", ProbeKind::Admin),
            ("/HNAP1/", ProbeKind::Exploit),
            (
                "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
                ProbeKind::Exploit,
            ),
            ("/static/../../etc/passwd", ProbeKind::Traversal),
            ("/%2e%2e/%2e%2e/etc/passwd", ProbeKind::Traversal),
        ] {
            assert_eq!(probe_kind(path), Some(kind), "{path}");
        }
    }

    #[test]
    fn site_pages_are_not_probes() {
        for path in [
            "/",
            "/index.html",
            "/blog/2024/05/01/hello-world/",
            "/feed.xml",
            "/robots.txt",
            "/llms.txt",
            "/trap.js",
            "/api/beacon?n=1234",
            "/.well-known/security.txt",
            "/posts/why-i-left-wordpress/",
            "/posts/php-is-fine.html",
            "/assets/env.css",
            "/shellcheck-tips/",
            "/environment/",
            "",
        ] {
            assert_eq!(probe_kind(path), None, "{path}");
        }
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        for path in [
            "%",
            "%4",
            "%zz",
            "/%ff%fe",
            "/\u{202e}.env",
            "?/.env",
            "#/.git",
        ] {
            let _ = probe_kind(path);
        }
        assert_eq!(probe_kind("?/.env"), None);
    }
}

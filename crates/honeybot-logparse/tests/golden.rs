//! Golden tests on the real logs in `<workspace>/../shared/data/logs/` (see its SOURCES.md):
//! for every file the parsed/malformed split (and malformed lines by kind) is pinned, and a
//! handful of lines per file are checked field by field against what the file says.
//!
//! The shared data is not part of the repository: when it is missing these tests print
//! `SKIP: …` and pass, except under `CI=true`, where they fail loudly.

use std::collections::BTreeMap;
use std::path::PathBuf;

use honeybot_logparse::{Entry, Format, ParseError, Request, parse_line, unescape};

fn logs_dir() -> PathBuf {
    honeybot_testsupport::workspace_root().join("../shared/data/logs")
}

/// The bytes of a shared log file, or `None` (after printing why) when the shared data is
/// absent outside CI ([`honeybot_testsupport::shared_data`]).
fn shared_log(name: &str) -> Option<Vec<u8>> {
    let path = honeybot_testsupport::shared_data(&format!("logs/{name}"))?;
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// Lines as an importer sees them: split after each `\n`; a final line without newline
/// is a line too.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split_inclusive(|&b| b == b'\n')
}

/// Line `n` (1-based, as `sed -n Np` numbers them).
fn line(data: &[u8], n: usize) -> &[u8] {
    lines(data).nth(n - 1).expect("line number within the file")
}

fn parsed(data: &[u8], n: usize) -> Entry<'_> {
    let l = line(data, n);
    parse_line(l)
        .unwrap_or_else(|e| panic!("line {n} rejected ({e:?}): {}", String::from_utf8_lossy(l)))
}

fn rejected(data: &[u8], n: usize) -> ParseError {
    let l = line(data, n);
    match parse_line(l) {
        Ok(e) => panic!("line {n} accepted as {e:?}"),
        Err(e) => e,
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Split {
    parsed: u64,
    malformed: u64,
    malformed_by_kind: BTreeMap<&'static str, u64>,
    parsed_by_format: BTreeMap<String, u64>,
}

fn split(data: &[u8]) -> Split {
    let mut s = Split {
        parsed: 0,
        malformed: 0,
        malformed_by_kind: BTreeMap::new(),
        parsed_by_format: BTreeMap::new(),
    };
    for l in lines(data) {
        match parse_line(l) {
            Ok(e) => {
                s.parsed += 1;
                *s.parsed_by_format
                    .entry(format!("{:?}", e.format))
                    .or_default() += 1;
            }
            Err(e) => {
                s.malformed += 1;
                *s.malformed_by_kind.entry(e.kind()).or_default() += 1;
            }
        }
    }
    s
}

fn expect(parsed: u64, formats: &[(&str, u64)], kinds: &[(&'static str, u64)]) -> Split {
    Split {
        parsed,
        malformed: kinds.iter().map(|(_, n)| n).sum(),
        malformed_by_kind: kinds.iter().copied().collect(),
        parsed_by_format: formats.iter().map(|(f, n)| (f.to_string(), *n)).collect(),
    }
}

fn count_status(data: &[u8], status: u16) -> usize {
    lines(data)
        .filter_map(|l| parse_line(l).ok())
        .filter(|e| e.status == status)
        .count()
}

fn time_of(e: &Entry<'_>) -> (String, u8, u8, u8, i16) {
    let t = e.time;
    (
        t.date_as_written().to_string(),
        t.hour,
        t.minute,
        t.second,
        t.offset_minutes,
    )
}

/// The split is pinned for every file in the directory: a new file without a test fails here.
#[test]
fn every_shared_log_has_a_golden_split() {
    let Some(_) = shared_log("SOURCES.md") else {
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(logs_dir())
        .expect("listing the shared logs")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n != "SOURCES.md")
        .collect();
    names.sort();
    let golden: Vec<&str> = GOLDEN.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, golden, "files in {}", logs_dir().display());
    for (name, want) in GOLDEN {
        let data = shared_log(name).expect("listed above");
        assert_eq!(split(&data), want(), "{name}");
    }
}

type Golden = (&'static str, fn() -> Split);

const GOLDEN: &[Golden] = &[
    // One line is cut short inside the user agent (line 8899): no closing quote.
    ("elastic-examples_apache_logs.log", || {
        expect(9_999, &[("Combined", 9_999)], &[("bad_quoted_field", 1)])
    }),
    // 28,020 newline-terminated lines + a final one without newline.
    ("elastic-examples_nginx_logs_partial.log", || {
        expect(28_021, &[("Combined", 28_021)], &[])
    }),
    // 8 log lines (with `$http_x_forwarded_for`), 8 `#` annotations, 7 blank lines.
    ("fail2ban_nginx-bad-request.fixture", || {
        expect(
            8,
            &[("CombinedExtra", 8)],
            &[("empty", 7), ("not_access_log", 8)],
        )
    }),
    // 8 access lines; 15 annotations + 6 error-log lines; 14 blank lines.
    ("fail2ban_nginx-botsearch.fixture", || {
        expect(
            8,
            &[("CombinedExtra", 8)],
            &[("empty", 14), ("not_access_log", 21)],
        )
    }),
    ("lab_apache_2025-05-13.log", || {
        expect(2_105, &[("Combined", 2_105)], &[])
    }),
    ("lnav_bad_access_log.log", || {
        expect(2, &[("Combined", 2)], &[("missing_ident", 1)])
    }),
    ("matomo_common_encoding_big5.log", || {
        expect(1, &[("Combined", 1)], &[])
    }),
    ("nasa_jul95_first4000.log", || {
        expect(4_000, &[("Common", 4_000)], &[])
    }),
    ("secrepo_access-2018-12-15.log", || {
        expect(4_961, &[("Combined", 4_961)], &[])
    }),
    ("secrepo_access-2021-10-22_to_27.log", || {
        expect(5_854, &[("Combined", 5_854)], &[])
    }),
    ("zanbil_first1000_via_lnav.log", || {
        expect(1_000, &[("CombinedExtra", 1_000)], &[])
    }),
];

#[test]
fn elastic_apache() {
    let Some(d) = shared_log("elastic-examples_apache_logs.log") else {
        return;
    };
    let e = parsed(&d, 1);
    assert_eq!(e.remote_addr, b"83.149.9.216");
    assert_eq!(time_of(&e), ("2015-05-17".into(), 10, 5, 3, 0));
    assert_eq!(
        e.request,
        Request::Http {
            method: b"GET",
            target: b"/presentations/logstash-monitorama-2013/images/kibana-search.png",
            protocol: Some(b"HTTP/1.1"),
        }
    );
    assert_eq!((e.status, e.bytes), (200, Some(203_023)));
    assert_eq!(
        e.referer,
        Some(&b"http://semicomplete.com/presentations/logstash-monitorama-2013/"[..])
    );
    assert_eq!(
        e.user_agent,
        Some(&b"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"[..])
    );
    // A cp1251 referer written with \xNN escapes.
    let e = parsed(&d, 5_851);
    assert_eq!(
        &*unescape(e.referer.expect("referer")),
        b"http://\xe4\xe5\xe3\xf2\xff\xf0\xed\xee\xe5-\xec\xfb\xeb\xee.\xf0\xf4/"
    );
    assert_eq!(rejected(&d, 8_899), ParseError::BadQuotedField);
    let e = parsed(&d, 10_000);
    assert_eq!(
        e.user_agent,
        Some(&b"UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/"[..])
    );
    // SOURCES.md: 213 404s.
    assert_eq!(count_status(&d, 404), 213);
}

#[test]
fn elastic_nginx_partial() {
    let Some(d) = shared_log("elastic-examples_nginx_logs_partial.log") else {
        return;
    };
    let e = parsed(&d, 3_894);
    assert_eq!(e.remote_addr, b"2001:4801:7824:102:8bee:6e66:ff10:6aa2");
    assert_eq!(e.bytes, Some(85_619_205));
    let e = parsed(&d, 3_896);
    assert_eq!(e.remote_addr, b"2a01:7e00::f03c:91ff:fe70:a4cc");
    assert_eq!(e.user_agent, Some(&b"Wget/1.15 (linux-gnu)"[..]));
    assert_eq!(e.referer, None);
    // The final line has no newline and is still a full record.
    let last = parsed(&d, 28_021);
    assert_eq!(last.remote_addr, b"194.254.145.253");
    assert_eq!(time_of(&last), ("2015-05-27".into(), 2, 5, 38, 0));
    assert_eq!((last.status, last.bytes), (404, Some(335)));
    assert_eq!(
        last.user_agent,
        Some(&b"Debian APT-HTTP/1.3 (0.8.10.3)"[..])
    );
    // SOURCES.md: 29 IPv6 clients.
    let v6 = lines(&d)
        .filter_map(|l| parse_line(l).ok())
        .filter(|e| e.remote_addr.contains(&b':'))
        .count();
    assert_eq!(v6, 29);
}

#[test]
fn fail2ban_bad_request() {
    let Some(d) = shared_log("fail2ban_nginx-bad-request.fixture") else {
        return;
    };
    assert_eq!(rejected(&d, 1), ParseError::NotAccessLog);
    assert_eq!(rejected(&d, 3), ParseError::Empty);
    let e = parsed(&d, 2);
    assert_eq!(e.request, Request::Raw(b""));
    assert_eq!(time_of(&e), ("2015-01-20".into(), 19, 53, 28, 60));
    assert_eq!(e.time.date_utc().to_string(), "2015-01-20");
    assert_eq!((e.status, e.bytes, e.user_agent), (400, Some(47), None));
    assert_eq!(e.format, Format::CombinedExtra);
    assert_eq!(parsed(&d, 5).remote_user, Some(&b"root"[..]));
    let e = parsed(&d, 8);
    assert_eq!(
        e.request,
        Request::Raw(br"\x03\x00\x00/*\xE0\x00\x00\x00\x00\x00Cookie: mstshash=Administr")
    );
    assert_eq!(&unescape(e.request.path())[..4], b"\x03\x00\x00/");
    assert_eq!(parsed(&d, 14).request, Request::Raw(b"HELP"));
    assert_eq!(parsed(&d, 17).request, Request::Raw(b"batman"));
    let e = parsed(&d, 20);
    assert_eq!(
        (e.request.method(), e.request.path()),
        (Some(&b"CONNECT"[..]), &b"123.123.123.123"[..])
    );
    // Line 23 has no trailing newline.
    let e = parsed(&d, 23);
    assert_eq!(
        (e.remote_addr, e.remote_user),
        (&b"2.5.2.5"[..], Some(&b"tomcat"[..]))
    );
    assert_eq!(time_of(&e), ("2014-12-12".into(), 22, 59, 2, 60));
}

#[test]
fn fail2ban_botsearch() {
    let Some(d) = shared_log("fail2ban_nginx-botsearch.fixture") else {
        return;
    };
    let e = parsed(&d, 2);
    assert_eq!(e.request.path(), b"//phpMyAdmin-2.8.2.3/scripts/setup.php");
    assert_eq!(e.status, 404);
    assert_eq!(parsed(&d, 14).request.method(), Some(&b"POST"[..]));
    assert_eq!(parsed(&d, 17).request.method(), Some(&b"HEAD"[..]));
    // nginx error-log lines, plain and with a journal prefix.
    for n in [26, 29, 32, 35, 40, 43] {
        assert_eq!(rejected(&d, n), ParseError::NotAccessLog, "line {n}");
    }
}

#[test]
fn lab_apache() {
    let Some(d) = shared_log("lab_apache_2025-05-13.log") else {
        return;
    };
    let e = parsed(&d, 1);
    assert_eq!(e.remote_addr, b"192.168.139.30");
    assert_eq!(e.request.path(), b"/zabbix");
    assert_eq!((e.status, e.bytes), (301, Some(583)));
    let e = parsed(&d, 20);
    assert_eq!(e.remote_addr, b"::1");
    assert_eq!(
        e.request,
        Request::Http {
            method: b"OPTIONS",
            target: b"*",
            protocol: Some(b"HTTP/1.0")
        }
    );
    assert_eq!(
        e.user_agent,
        Some(&b"Apache/2.4.58 (Ubuntu) (internal dummy connection)"[..])
    );
    // Apache writes `"-"` as the request of a 408 (no request arrived).
    let e = parsed(&d, 220);
    assert_eq!(
        (e.request, e.status, e.bytes),
        (Request::Raw(b"-"), 408, Some(0))
    );
    assert_eq!((e.referer, e.user_agent), (None, None));
    let v6 = lines(&d)
        .filter_map(|l| parse_line(l).ok())
        .filter(|e| e.remote_addr == b"::1")
        .count();
    assert_eq!(v6, 13);
}

#[test]
fn lnav_bad_access_log() {
    let Some(d) = shared_log("lnav_bad_access_log.log") else {
        return;
    };
    assert_eq!(parsed(&d, 1).request.path(), b"/vmw/cgi/tramp");
    assert_eq!(rejected(&d, 2), ParseError::MissingIdent);
    let e = parsed(&d, 3);
    assert_eq!(e.request.path(), b"/vmw/vSphere/default/vmkernel.gz");
    assert_eq!((e.status, e.bytes), (200, Some(78_929)));
    assert_eq!(e.user_agent, Some(&b"gPXE/0.9.7"[..]));
}

#[test]
fn matomo_vhost_big5() {
    let Some(d) = shared_log("matomo_common_encoding_big5.log") else {
        return;
    };
    let e = parsed(&d, 1);
    assert_eq!(e.vhost, Some(&b"www.example.com"[..]));
    assert_eq!(e.remote_addr, b"1.2.3.4");
    assert_eq!(e.remote_user, Some(&b"theuser"[..]));
    assert_eq!(time_of(&e), ("2012-02-10".into(), 16, 42, 7, -300));
    assert_eq!(e.time.date_utc().to_string(), "2012-02-10");
    assert_eq!(
        e.request.path(),
        b"/\xac\xb0\xa8\xe4\xad\xdd\xa6\xe6\xb4c\xb9D"
    );
    assert!(std::str::from_utf8(e.request.path()).is_err());
    assert_eq!((e.status, e.bytes), (301, Some(368)));
}

#[test]
fn nasa_common_with_hostnames() {
    let Some(d) = shared_log("nasa_jul95_first4000.log") else {
        return;
    };
    let e = parsed(&d, 1);
    assert_eq!(e.remote_addr, b"199.72.81.55");
    assert_eq!(time_of(&e), ("1995-07-01".into(), 0, 0, 1, -240));
    assert_eq!(e.time.unix_seconds(), 804_571_201); // date -u -d '1995-07-01T04:00:01Z' +%s
    assert_eq!(e.format, Format::Common);
    assert_eq!((e.referer, e.user_agent), (None, None));
    let e = parsed(&d, 2);
    assert_eq!(e.remote_addr, b"unicomp6.unicomp.net");
    assert_eq!(e.request.path(), b"/shuttle/countdown/");
    assert_eq!(e.bytes, Some(3_985));
    let e = parsed(&d, 4_000);
    assert_eq!(e.remote_addr, b"204.244.4.10");
    assert_eq!(e.request.path(), b"/images/launch-logo.gif");
}

#[test]
fn secrepo_2018() {
    let Some(d) = shared_log("secrepo_access-2018-12-15.log") else {
        return;
    };
    // Lines end in a blank before the newline.
    let e = parsed(&d, 1);
    assert_eq!(e.request.path(), b"/robots.txt");
    assert_eq!(time_of(&e), ("2018-12-15".into(), 2, 18, 31, -480));
    assert_eq!(
        e.user_agent,
        Some(&b"Mozilla/5.0 (compatible; SeznamBot/3.2; +http://napoveda.seznam.cz/en/seznambot-intro/)"[..])
    );
    let e = parsed(&d, 24);
    assert_eq!((e.status, e.request.path()), (418, &b"/wp-login.php"[..]));
    // A user agent wrapped in escaped quotes.
    let e = parsed(&d, 192);
    let ua = unescape(e.user_agent.expect("ua")).into_owned();
    assert!(ua.starts_with(b"\"Mozilla/5.0 (iPhone;") && ua.ends_with(b"Safari/604.1\""));
    // SOURCES.md: 2,860 404s.
    assert_eq!(count_status(&d, 404), 2_860);
}

#[test]
fn secrepo_2021() {
    let Some(d) = shared_log("secrepo_access-2021-10-22_to_27.log") else {
        return;
    };
    let e = parsed(&d, 1);
    assert_eq!(e.remote_addr, b"51.222.253.14");
    assert_eq!(
        e.request.path(),
        b"/Datasets%20Description/Network/ftp.html"
    );
    assert_eq!(time_of(&e), ("2021-10-22".into(), 2, 28, 56, -420));
    // A PHP-injection referer full of `\"`: the user agent after it is found intact.
    let e = parsed(&d, 327);
    let referer = unescape(e.referer.expect("referer")).into_owned();
    assert!(referer.starts_with(b"554fcae493e564ee0dc75bdf2ebf94caads|a:2:{s:3:\"num\";"));
    assert!(referer.ends_with(b"s:3:\"'/*\";}"));
    assert_eq!(
        e.user_agent,
        Some(&b"Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2)"[..])
    );
    assert_eq!((e.status, e.bytes), (404, Some(305)));
}

#[test]
fn zanbil_extra_field() {
    let Some(d) = shared_log("zanbil_first1000_via_lnav.log") else {
        return;
    };
    let e = parsed(&d, 1);
    assert_eq!(e.remote_addr, b"54.36.149.41");
    assert_eq!(time_of(&e), ("2019-01-22".into(), 3, 56, 14, 210));
    assert_eq!(e.time.date_utc().to_string(), "2019-01-22");
    assert!(e.request.path().starts_with(b"/filter/27|13%20%D9%85"));
    assert_eq!(
        e.user_agent,
        Some(&b"Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)"[..])
    );
    assert_eq!(e.format, Format::CombinedExtra);
    let e = parsed(&d, 2);
    assert_eq!(e.referer, Some(&b"https://www.zanbil.ir/m/filter/b113"[..]));
    assert_eq!((e.status, e.bytes), (200, Some(5_667)));
    let e = parsed(&d, 1_000);
    assert_eq!(e.remote_addr, b"89.47.79.75");
    assert_eq!(
        e.request.path(),
        b"/static/images/search-category-arrow.png"
    );
}

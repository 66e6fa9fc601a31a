//! Edge cases of `parse_line`, each on a line written for the case, and properties over
//! generated input (arbitrary bytes never panic; generated valid lines parse back).

use crate::{Entry, Format, MAX_LINE_LEN, ParseError, Request, parse_line, unescape};
use proptest::prelude::*;

fn ok(line: &[u8]) -> Entry<'_> {
    match parse_line(line) {
        Ok(e) => e,
        Err(e) => panic!("{:?} rejected: {e:?}", String::from_utf8_lossy(line)),
    }
}

fn err(line: &[u8]) -> ParseError {
    match parse_line(line) {
        Ok(e) => panic!("{:?} accepted as {e:?}", String::from_utf8_lossy(line)),
        Err(e) => e,
    }
}

const COMBINED: &[u8] = br#"203.0.113.7 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;

#[test]
fn combined_line_field_by_field() {
    let e = ok(COMBINED);
    assert_eq!(e.vhost, None);
    assert_eq!(e.remote_addr, b"203.0.113.7");
    assert_eq!(e.remote_user, None);
    assert_eq!(e.time.date_as_written().to_string(), "2000-10-10");
    assert_eq!((e.time.hour, e.time.minute, e.time.second), (13, 55, 36));
    assert_eq!(e.time.offset_minutes, -420);
    assert_eq!(
        e.request,
        Request::Http {
            method: b"GET",
            target: b"/apache_pb.gif?a=1",
            protocol: Some(b"HTTP/1.0"),
        }
    );
    assert_eq!(e.request.path(), b"/apache_pb.gif?a=1");
    assert_eq!(e.request.method(), Some(&b"GET"[..]));
    assert_eq!(e.status, 200);
    assert_eq!(e.bytes, Some(2326));
    assert_eq!(e.referer, Some(&b"http://www.example.com/start.html"[..]));
    assert_eq!(
        e.user_agent,
        Some(&b"Mozilla/4.08 [en] (Win98; I ;Nav)"[..])
    );
    assert_eq!(
        (e.accept, e.markdown_served, e.host, e.request_time),
        (None, None, None, None)
    );
    assert_eq!(e.format, Format::Combined);
}

#[test]
fn line_endings_and_trailing_blanks_do_not_matter() {
    let bare = ok(COMBINED);
    for ending in [&b"\n"[..], b"\r\n", b" \n", b" ", b"\t\r\n"] {
        let line = [COMBINED, ending].concat();
        assert_eq!(ok(&line), bare, "ending {ending:?}");
    }
}

#[test]
fn ipv6_clients_are_kept() {
    let e = ok(br#"::1 - - [13/May/2025:03:27:20 +0000] "OPTIONS * HTTP/1.0" 200 126 "-" "Apache/2.4.58 (Ubuntu) (internal dummy connection)""#);
    assert_eq!(e.remote_addr, b"::1");
    assert_eq!(e.request.path(), b"*");
    assert_eq!(e.referer, None);
    let e = ok(br#"2a01:7e00::f03c:91ff:fe70:a4cc - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3""#);
    assert_eq!(e.remote_addr, b"2a01:7e00::f03c:91ff:fe70:a4cc");
    let e = ok(br#"fe80::1%eth0 - - [17/May/2015:08:05:32 +0000] "GET / HTTP/1.1" 200 1 "-" "x""#);
    assert_eq!(e.remote_addr, b"fe80::1%eth0");
    let e =
        ok(br#"::ffff:192.0.2.1 - - [17/May/2015:08:05:32 +0000] "GET / HTTP/1.1" 200 1 "-" "x""#);
    assert_eq!(e.remote_addr, b"::ffff:192.0.2.1");
}

#[test]
fn hostnames_and_common_format() {
    let e = ok(b"unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] \"GET /shuttle/countdown/ HTTP/1.0\" 200 3985\n");
    assert_eq!(e.remote_addr, b"unicomp6.unicomp.net");
    assert_eq!(e.format, Format::Common);
    assert_eq!((e.referer, e.user_agent), (None, None));
    assert_eq!(e.bytes, Some(3985));
}

#[test]
fn remote_user_set_and_with_spaces() {
    let e = ok(br#"7.8.9.10 - root [20/Jan/2015:01:17:07 +0100] "GET /cgi-bin/recent.cgi HTTP/1.1" 404 162 "-" "-" "-""#);
    assert_eq!(e.remote_user, Some(&b"root"[..]));
    assert_eq!(e.user_agent, None);
    let e = ok(br#"7.8.9.10 - John Smith [20/Jan/2015:01:17:07 +0100] "GET / HTTP/1.1" 200 1"#);
    assert_eq!(e.remote_user, Some(&b"John Smith"[..]));
    assert_eq!(e.vhost, None);
    let e = ok(br#"7.8.9.10 identd-user bob [20/Jan/2015:01:17:07 +0100] "GET / HTTP/1.1" 200 1"#);
    assert_eq!(
        (e.remote_addr, e.remote_user),
        (&b"7.8.9.10"[..], Some(&b"bob"[..]))
    );
}

#[test]
fn escaped_quotes_stay_inside_their_field() {
    // Apache escapes `"` as `\"`; nginx as `\x22`.
    let e = ok(br#"1.2.3.4 - - [22/Oct/2021:02:28:56 -0700] "GET /?q=\"x\" HTTP/1.1" 404 1 "http://a/\"><script>\\" "UA \"quoted\"""#);
    assert_eq!(e.request.path(), br#"/?q=\"x\""#);
    assert_eq!(e.referer, Some(&br#"http://a/\"><script>\\"#[..]));
    assert_eq!(
        &*unescape(e.referer.unwrap_or_default()),
        br#"http://a/"><script>\"#
    );
    assert_eq!(
        &*unescape(e.user_agent.unwrap_or_default()),
        br#"UA "quoted""#
    );
    let e =
        ok(br#"1.2.3.4 - - [22/Oct/2021:02:28:56 -0700] "GET /\x22a HTTP/1.1" 404 1 "-" "b\x22c""#);
    assert_eq!(&*unescape(e.request.path()), b"/\"a");
    assert_eq!(&*unescape(e.user_agent.unwrap_or_default()), b"b\"c");
}

#[test]
fn non_utf8_bytes_are_kept_verbatim() {
    let line = b"1.2.3.4 - - [10/Feb/2012:16:42:07 -0500] \"GET /\xa4\xa4\xa4\xe5\xff HTTP/1.0\" 301 368 \"-\" \"\xc0\xc1\"";
    let e = ok(line);
    assert_eq!(e.request.path(), b"/\xa4\xa4\xa4\xe5\xff");
    assert_eq!(e.user_agent, Some(&b"\xc0\xc1"[..]));
}

#[test]
fn malformed_requests_are_raw_but_parsed() {
    let tail = br#" 400 47 "-" "-" "-""#;
    let head = &b"12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] "[..];
    for (req, raw) in [
        (&br#""""#[..], &b""[..]),
        (br#""HELP""#, b"HELP"),
        (br#""batman""#, b"batman"),
        (
            br#""\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03""#,
            br"\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03",
        ),
        (
            br#""\x03\x00\x00/*\xE0\x00\x00\x00\x00\x00Cookie: mstshash=Administr""#,
            br"\x03\x00\x00/*\xE0\x00\x00\x00\x00\x00Cookie: mstshash=Administr",
        ),
        (br#""GET  HTTP/1.1""#, b"GET  HTTP/1.1"),
        (br#""GET ""#, b"GET "),
    ] {
        let line = [head, req, tail].concat();
        let e = ok(&line);
        assert_eq!(
            e.request,
            Request::Raw(raw),
            "{:?}",
            String::from_utf8_lossy(req)
        );
        assert_eq!(e.request.path(), raw);
        assert_eq!(e.request.method(), None);
        assert_eq!(e.status, 400);
    }
}

#[test]
fn odd_but_http_shaped_requests() {
    let e = ok(br#"1.2.3.4 - - [20/Jan/2015:19:53:28 +0100] "GET /index.html" 200 1"#);
    assert_eq!(
        e.request,
        Request::Http {
            method: b"GET",
            target: b"/index.html",
            protocol: None
        }
    );
    let e = ok(br#"1.2.3.4 - - [20/Jan/2015:19:53:28 +0100] "GET /a b c HTTP/1.1" 400 1"#);
    assert_eq!(e.request.path(), b"/a b c");
    let e =
        ok(br#"1.2.3.4 - - [20/Jan/2015:19:53:28 +0100] "CONNECT 123.123.123.123 HTTP/1.1" 400 1"#);
    assert_eq!(e.request.method(), Some(&b"CONNECT"[..]));
    assert_eq!(e.request.path(), b"123.123.123.123");
}

#[test]
fn utc_offsets_from_all_over() {
    for (time, offset, utc_date) in [
        ("22/Jan/2019:03:56:14 +0330", 210, "2019-01-22"),
        ("22/Jan/2019:02:56:14 +0330", 210, "2019-01-21"),
        ("31/Dec/2018:20:00:00 -0800", -480, "2019-01-01"),
        ("01/Jan/2020:10:00:00 +1400", 840, "2019-12-31"),
        ("01/Jan/2020:13:00:00 -1200", -720, "2020-01-02"),
        ("15/Jun/2021:12:00:00 +0545", 345, "2021-06-15"),
        ("15/Jun/2021:12:00:00 -0000", 0, "2021-06-15"),
    ] {
        let line = format!(r#"1.2.3.4 - - [{time}] "GET / HTTP/1.1" 200 1"#);
        let e = ok(line.as_bytes());
        assert_eq!(e.time.offset_minutes, offset, "{time}");
        assert_eq!(e.time.date_utc().to_string(), utc_date, "{time}");
    }
}

#[test]
fn out_of_order_lines_keep_their_own_time() {
    let a = ok(br#"1.2.3.4 - - [17/May/2015:08:05:32 +0000] "GET / HTTP/1.1" 200 1"#);
    let b = ok(br#"1.2.3.4 - - [17/May/2015:08:05:23 +0000] "GET / HTTP/1.1" 200 1"#);
    assert_eq!(a.time.unix_seconds() - b.time.unix_seconds(), 9);
}

#[test]
fn extra_trailing_quoted_fields() {
    let e = ok(br#"1.2.3.4 - - [22/Jan/2019:03:56:14 +0330] "GET / HTTP/1.1" 200 1 "-" "ua" "-""#);
    assert_eq!(e.format, Format::CombinedExtra);
    assert_eq!(e.user_agent, Some(&b"ua"[..]));
    let e = ok(br#"1.2.3.4 - - [22/Jan/2019:03:56:14 +0330] "GET / HTTP/1.1" 200 1 "-" "ua" "10.0.0.1, 10.0.0.2" "x y""#);
    assert_eq!(e.format, Format::CombinedExtra);
}

#[test]
fn other_trailing_fields_are_tolerated() {
    // nginx `... "$http_user_agent" $request_time $upstream_response_time`, Apache `%D`,
    // and `Name:value` fields this parser does not know.
    for tail in [
        &b" 0.004 0.003"[..],
        b" 1234",
        b" rt=0.004 uct=\"0.001\"",
        b" Via:\"1.1 proxy\" \"10.0.0.1\" cache:HIT",
    ] {
        let line = [
            &br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1 "-" "ua""#[..],
            tail,
        ]
        .concat();
        let e = ok(&line);
        assert_eq!(
            e.format,
            Format::CombinedExtra,
            "{:?}",
            String::from_utf8_lossy(tail)
        );
        assert_eq!((e.status, e.user_agent), (200, Some(&b"ua"[..])));
    }
    // Known extended fields among unknown ones still land in their slots.
    let e = ok(br#"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" Accept:"text/html" MarkdownServed:0 Upstream:"a b" 0.5"#);
    assert_eq!(e.format, Format::HoneybotExtended);
    assert_eq!(
        (e.accept, e.markdown_served),
        (Some(&b"text/html"[..]), Some(&b"0"[..]))
    );
}

#[test]
fn honeybot_extended_format() {
    let e = ok(br#"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET /post/ HTTP/2.0" 200 512 "-" "ClaudeBot/1.0" Accept:"text/markdown, text/html;q=0.9" MarkdownServed:1"#);
    assert_eq!(e.format, Format::HoneybotExtended);
    assert_eq!(e.accept, Some(&b"text/markdown, text/html;q=0.9"[..]));
    assert_eq!(e.markdown_served, Some(&b"1"[..]));
    assert_eq!((e.host, e.request_time), (None, None));

    let e = ok(b"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\" Accept:\"-\" MarkdownServed:- Host:\"example.org\" RequestTime:0.004\r\n");
    assert_eq!(e.format, Format::HoneybotExtended);
    assert_eq!((e.accept, e.markdown_served), (None, None));
    assert_eq!(e.host, Some(&b"example.org"[..]));
    assert_eq!(e.request_time, Some(&b"0.004"[..]));

    // An empty `$serve_markdown` is written as nothing at all.
    let e = ok(br#"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" Accept:"*/*" MarkdownServed:"#);
    assert_eq!(e.markdown_served, None);
    assert_eq!(e.accept, Some(&b"*/*"[..]));

    assert_eq!(
        err(br#"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" Accept:"unterminated"#),
        ParseError::BadQuotedField
    );
}

#[test]
fn vhost_prefix() {
    let e = ok(b"www.example.com 1.2.3.4 - theuser [10/Feb/2012:16:42:07 -0500] \"GET /x HTTP/1.0\" 301 368 \"-\" \"ua\"");
    assert_eq!(e.vhost, Some(&b"www.example.com"[..]));
    assert_eq!(e.remote_addr, b"1.2.3.4");
    assert_eq!(e.remote_user, Some(&b"theuser"[..]));
    let e = ok(
        br#"example.org:443 2001:db8::1 - - [10/Feb/2012:16:42:07 -0500] "GET / HTTP/1.1" 200 1"#,
    );
    assert_eq!(e.vhost, Some(&b"example.org:443"[..]));
    assert_eq!(e.remote_addr, b"2001:db8::1");
    assert_eq!(e.remote_user, None);
    assert_eq!(e.format, Format::Common);
}

#[test]
fn lines_that_are_not_access_log_lines() {
    for line in [
        &b"2015/01/20 19:53:28 [error] 2833#0: *16336 open() \"/var/www/x\" failed (2: No such file or directory), client: 5.7.9.2"[..],
        b"host nginx[2833]: 2015/01/21 10:56:10 [error] 2833#0: *16336 open() failed",
        b"# failJSON: { \"time\": \"2015-01-20T19:53:28\", \"match\": true }",
        b"#Fields: date time cs-method",
        b"hello world",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ] {
        assert_eq!(err(line), ParseError::NotAccessLog, "{:?}", String::from_utf8_lossy(line));
    }
    for line in [&b""[..], b"\n", b"\r\n", b"   \t \r\n"] {
        assert_eq!(err(line), ParseError::Empty);
    }
}

#[test]
fn missing_ident_and_user_is_rejected() {
    // lnav's logfile_bad_access_log.0, line 2.
    let line = br#"192.168.202.254 [20/Jul/2009:22:59:29 +0000] "GET /vmw/vSphere/default/vmkboot.gz HTTP/1.0" 404 46210 "-" "gPXE/0.9.7""#;
    assert_eq!(err(line), ParseError::MissingIdent);
    assert_eq!(
        err(br#"1.2.3.4 - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1"#),
        ParseError::MissingIdent
    );
}

#[test]
fn each_field_has_its_own_error() {
    let cases: &[(&[u8], ParseError)] = &[
        (br#"1.2.3.4/x - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1"#, ParseError::BadAddress),
        (br#" - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1"#, ParseError::BadAddress),
        (br#"1.2.3.4 - -[20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1"#, ParseError::BadAddress),
        (br#"1.2.3.4 - - [32/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1"#, ParseError::BadTime),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000 "GET / HTTP/1.0" 200 1"#, ParseError::BadTime),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29] "GET / HTTP/1.0" 200 1"#, ParseError::BadTime),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] GET / HTTP/1.0 200 1"#, ParseError::BadRequestField),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0 200 1"#, ParseError::BadRequestField),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 2000 1"#, ParseError::BadStatus),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" -"#, ParseError::BadStatus),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0"200 1"#, ParseError::BadStatus),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200"#, ParseError::BadBytes),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 12k"#, ParseError::BadBytes),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 99999999999999999999"#, ParseError::BadBytes),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1 "-" "unterminated"#, ParseError::BadQuotedField),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1 "only-referer""#, ParseError::BadQuotedField),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1 "-" "ua"x"#, ParseError::BadQuotedField),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1 0.004"#, ParseError::TrailingGarbage),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1 "-" "ua" x"y"#, ParseError::BadQuotedField),
        (br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1 "-" "ua" Via:"open"#, ParseError::BadQuotedField),
        (br#"Jan  1 00:00:00 web nginx: 1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1"#, ParseError::BadAddress),
        (br#"1.2.3.4, 10.0.0.1 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 1"#, ParseError::BadAddress),
    ];
    for (line, want) in cases {
        assert_eq!(err(line), *want, "{:?}", String::from_utf8_lossy(line));
    }
}

#[test]
fn body_bytes_dash_and_max() {
    let e = ok(br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 408 -"#);
    assert_eq!(e.bytes, None);
    let e = ok(
        br#"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 200 18446744073709551615"#,
    );
    assert_eq!(e.bytes, Some(u64::MAX));
}

#[test]
fn overlong_lines_are_rejected_whole() {
    let mut line = b"1.2.3.4 - - [20/Jul/2009:22:59:29 +0000] \"GET /".to_vec();
    line.resize(MAX_LINE_LEN - 20, b'a');
    line.extend_from_slice(b" HTTP/1.1\" 200 1");
    assert_eq!(ok(&line).status, 200);
    let mut long = line[..line.len() - 16].to_vec();
    long.resize(MAX_LINE_LEN + 1, b'a');
    long.extend_from_slice(b" HTTP/1.1\" 200 1");
    assert_eq!(err(&long), ParseError::TooLong);
}

#[test]
fn error_kinds_are_distinct_snake_case() {
    let kinds: std::collections::HashSet<_> = ParseError::ALL.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds.len(), ParseError::ALL.len());
    assert!(
        kinds
            .iter()
            .all(|k| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    );
    assert_eq!(ParseError::NotAccessLog.kind(), "not_access_log");
}

/// A field value as nginx would write it inside quotes: printable ASCII with `"` and `\`
/// escaped, or `\xNN` escapes.
fn quoted_value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            8 => (0x20u8..0x7f).prop_filter("escaped separately", |b| *b != b'"' && *b != b'\\').prop_map(|b| vec![b]),
            1 => Just(br#"\""#.to_vec()),
            1 => Just(br"\\".to_vec()),
            1 => any::<u8>().prop_map(|b| format!(r"\x{b:02X}").into_bytes()),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
    ]
}

#[derive(Debug, Clone)]
struct Line {
    addr: String,
    user: Option<String>,
    time: (u8, &'static str, u16, u8, u8, u8, i16),
    method: String,
    target: Vec<u8>,
    status: u16,
    bytes: Option<u64>,
    referer: Vec<u8>,
    user_agent: Vec<u8>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn combined_line() -> impl Strategy<Value = Line> {
    (
        address(),
        proptest::option::of("[a-z][a-z0-9_]{0,8}"),
        (
            1u8..=28,
            0usize..12,
            1970u16..2100,
            0u8..24,
            0u8..60,
            0u8..60,
            -(23 * 60 + 59)..=(23i16 * 60 + 59),
        ),
        "[A-Z]{1,8}",
        quoted_value().prop_map(|v| {
            [
                b"/".to_vec(),
                v.into_iter().filter(|b| *b != b' ').collect(),
            ]
            .concat()
        }),
        100u16..1000,
        proptest::option::of(any::<u64>()),
        quoted_value().prop_filter("- means absent", |v| !v.is_empty() && v != b"-"),
        quoted_value().prop_filter("- means absent", |v| !v.is_empty() && v != b"-"),
    )
        .prop_map(
            |(
                addr,
                user,
                (d, m, y, h, mi, s, off),
                method,
                target,
                status,
                bytes,
                referer,
                user_agent,
            )| Line {
                addr,
                user,
                time: (d, MONTHS[m], y, h, mi, s, off),
                method,
                target,
                status,
                bytes,
                referer,
                user_agent,
            },
        )
}

fn render(l: &Line) -> Vec<u8> {
    let (d, m, y, h, mi, s, off) = l.time;
    let sign = if off < 0 { '-' } else { '+' };
    let head = format!(
        "{} - {} [{d:02}/{m}/{y:04}:{h:02}:{mi:02}:{s:02} {sign}{:02}{:02}] \"{} ",
        l.addr,
        l.user.as_deref().unwrap_or("-"),
        off.unsigned_abs() / 60,
        off.unsigned_abs() % 60,
        l.method,
    );
    let bytes = l.bytes.map_or("-".to_string(), |b| b.to_string());
    [
        head.as_bytes(),
        &l.target,
        format!(" HTTP/1.1\" {} {bytes} \"", l.status).as_bytes(),
        &l.referer,
        b"\" \"",
        &l.user_agent,
        b"\"\n",
    ]
    .concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_line(&line);
    }

    #[test]
    fn damaged_valid_lines_never_panic(
        l in combined_line(),
        cuts in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut line = render(&l);
        for (at, byte) in cuts {
            let i = at.index(line.len());
            if byte % 3 == 0 { line.truncate(i) } else { line[i] = byte }
            if line.is_empty() { break }
        }
        let _ = parse_line(&line);
    }

    #[test]
    fn generated_combined_line_parses_back(l in combined_line()) {
        let line = render(&l);
        let e = parse_line(&line).map_err(|e| TestCaseError::fail(format!("{e:?}: {}", String::from_utf8_lossy(&line))))?;
        let (d, m, y, h, mi, s, off) = l.time;
        prop_assert_eq!(e.remote_addr, l.addr.as_bytes());
        prop_assert_eq!(e.remote_user, l.user.as_deref().map(str::as_bytes));
        prop_assert_eq!((e.time.day, e.time.year, e.time.hour, e.time.minute, e.time.second), (d, y, h, mi, s));
        prop_assert_eq!(MONTHS[usize::from(e.time.month) - 1], m);
        prop_assert_eq!(e.time.offset_minutes, off);
        prop_assert_eq!(e.request, Request::Http { method: l.method.as_bytes(), target: &l.target, protocol: Some(b"HTTP/1.1") });
        prop_assert_eq!(e.status, l.status);
        prop_assert_eq!(e.bytes, l.bytes);
        prop_assert_eq!(e.referer, Some(&l.referer[..]));
        prop_assert_eq!(e.user_agent, Some(&l.user_agent[..]));
        prop_assert_eq!(e.format, Format::Combined);
    }
}

//! Parser throughput over a realistic log, against a peer measured in the same run: the
//! regex approach of the original Python tool (one combined-format pattern with capture
//! groups), here with the Rust `regex` crate on bytes, reusing its capture buffers.
//!
//! Input: every log under `<workspace>/../shared/data/logs/` concatenated when present,
//! otherwise a generated combined log. Run:
//! `cargo bench -p honeybot-logparse --bench parse`
//! and compare the two `thrpt` lines (elements = lines).
//!
//! A second group compares a custom `log_format` plan with the built-in parser on the same
//! generated combined log (the plan compiled from nginx's own `combined` definition), and a
//! plan for a format with `$time_iso8601`, `$request_time` and upstream fields on the same
//! requests written in that format. Target: custom within 2x of built-in.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use honeybot_logparse::{LogFormat, parse_line};
use regex::bytes::Regex;

/// The Python tool's pattern, kept as it was (IPv4 only, `-` ident): the peer does the
/// work it did, no more.
const PYTHON_PATTERN: &str =
    r#"^(\d+\.\d+\.\d+\.\d+) - (\S+) \[(.*?)\] "(.*?)" (\d{3}) (\d+|-) "(.*?)" "(.*?)""#;

fn input() -> (String, Vec<u8>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/logs");
    let mut data = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
        {
            if let Ok(bytes) = std::fs::read(p) {
                data.extend_from_slice(&bytes);
                if !data.ends_with(b"\n") {
                    data.push(b'\n');
                }
            }
        }
    }
    if data.is_empty() {
        return ("generated".into(), generated_log(50_000));
    }
    ("shared logs".into(), data)
}

/// A combined log with varied clients, paths, statuses and user agents (deterministic).
fn generated_log(lines: usize) -> Vec<u8> {
    const UAS: [&str; 4] = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
        "curl/8.5.0",
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(lines * 200);
    for i in 0..lines {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        out.extend_from_slice(
            format!(
                "{}.{}.{}.{} - - [17/May/2025:{:02}:{:02}:{:02} +0200] \"GET /posts/{}/ HTTP/1.1\" {} {} \"-\" \"{}\"\n",
                b[0], b[1], b[2], b[3],
                (i / 3600) % 24, (i / 60) % 60, i % 60,
                b[4] % 50,
                [200, 200, 304, 404][usize::from(b[5] % 4)],
                u32::from(b[6]) * 37,
                UAS[usize::from(b[7] % 4)],
            )
            .as_bytes(),
        );
    }
    out
}

fn bench(c: &mut Criterion) {
    let (what, data) = input();
    let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
    let mut group = c.benchmark_group(format!("parse {} lines of {what}", lines.len()));
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.sample_size(20);

    group.bench_function("honeybot_logparse::parse_line", |b| {
        b.iter(|| {
            let mut ok = 0u64;
            for line in &lines {
                if let Ok(e) = parse_line(line) {
                    ok += u64::from(e.status);
                }
            }
            black_box(ok)
        })
    });

    let re = Regex::new(PYTHON_PATTERN).expect("peer pattern compiles");
    let mut locs = re.capture_locations();
    group.bench_function("regex (Python tool's pattern)", |b| {
        b.iter(|| {
            let mut ok = 0u64;
            for line in &lines {
                if re.captures_read(&mut locs, line).is_some() {
                    let (s, e) = locs.get(5).unwrap_or((0, 0));
                    ok += u64::from(line[s..e].first().copied().unwrap_or(0));
                }
            }
            black_box(ok)
        })
    });
    group.finish();
}

/// nginx's `combined`, as a custom definition.
const COMBINED_DEF: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
/// A proxy-style format: ISO time first, host, timings and upstream fields.
const PROXY_DEF: &str = r#"[$time_iso8601] $host $remote_addr "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" ua="$upstream_addr""#;

/// The generated combined log rewritten in [`PROXY_DEF`]'s shape (same requests).
fn as_proxy_format(combined: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(combined.len() * 5 / 4);
    for line in combined.split_inclusive(|&b| b == b'\n') {
        let e = parse_line(line).expect("generated lines parse");
        let t = e.time;
        out.extend_from_slice(
            format!(
                "[{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+02:00] blog.example {} \"",
                t.year,
                t.month,
                t.day,
                t.hour,
                t.minute,
                t.second,
                String::from_utf8_lossy(e.remote_addr),
            )
            .as_bytes(),
        );
        let start = line.iter().position(|&b| b == b'"').unwrap_or(0) + 1;
        let body = &line[start..line.len() - 1];
        out.extend_from_slice(body);
        out.extend_from_slice(b" rt=0.004 uct=\"0.001\" ua=\"127.0.0.1:8080\"\n");
    }
    out
}

fn bench_custom(c: &mut Criterion) {
    let data = generated_log(50_000);
    let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
    let proxy = as_proxy_format(&data);
    let proxy_lines: Vec<&[u8]> = proxy.split_inclusive(|&b| b == b'\n').collect();
    let mut group = c.benchmark_group(format!(
        "custom log_format, {} generated lines",
        lines.len()
    ));
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.sample_size(20);

    let run = |format: &LogFormat, lines: &[&[u8]]| {
        let mut ok = 0u64;
        for line in lines {
            if let Ok(e) = format.parse(line) {
                ok += u64::from(e.status);
            }
        }
        black_box(ok)
    };
    let builtin = LogFormat::auto();
    let combined = LogFormat::from_spec(COMBINED_DEF).expect("combined definition compiles");
    let proxy_format = LogFormat::from_spec(PROXY_DEF).expect("proxy definition compiles");
    assert_eq!(
        run(&builtin, &lines),
        run(&combined, &lines),
        "both read every line alike"
    );
    assert_eq!(
        run(&builtin, &lines),
        run(&proxy_format, &proxy_lines),
        "same requests"
    );
    group.bench_function("built-in (combined)", |b| b.iter(|| run(&builtin, &lines)));
    group.bench_function("custom plan (combined definition)", |b| {
        b.iter(|| run(&combined, &lines))
    });
    group.bench_function("custom plan (iso8601 + upstream fields)", |b| {
        b.iter(|| run(&proxy_format, &proxy_lines))
    });
    group.finish();
}

criterion_group!(benches, bench, bench_custom);
criterion_main!(benches);

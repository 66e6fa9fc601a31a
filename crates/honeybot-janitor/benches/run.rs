//! One janitor run over 100 k dead paths against 5 k live pages (benches/janitor.sh).
//!
//! A built site of 5 000 pages (`/blog/YYYY/MM/w1-w2-w3/` with titles) and an access log of
//! 100 000 distinct 404 paths (moved posts, typos, near-ties between two posts, junk) are
//! generated, imported into HoneyDB, then the same database is run twice: without the model
//! (the peer) and with honeybot-llm's FakeServer as the model (a FAKE speaking Ollama's
//! protocol over a real socket, answering at once, so its share is the janitor's own cost of
//! asking). The map is validated with the real `nginx -t` when nginx is installed.
//!
//! Usage: cargo bench -p honeybot-janitor --bench run [-- PAGES DEAD]

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use honeybot_db::{DbOptions, HoneyDb, ImportOptions};
use honeybot_janitor::config::{FileConfig, LlmConfig, Overrides, Settings};
use honeybot_llm::testing::{FakeServer, Reply};

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn word(rng: &mut Rng) -> String {
    const SYL: &[&str] = &[
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "dan", "ber", "col", "fin", "gra", "hul",
        "jes", "mor", "pel", "quin", "ster", "tral",
    ];
    (0..2 + rng.below(2))
        .map(|_| SYL[rng.below(SYL.len())])
        .collect()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n_pages, n_dead) = (
        args.first().copied().unwrap_or(5_000),
        args.get(1).copied().unwrap_or(100_000),
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vocabulary: Vec<String> = (0..3000).map(|_| word(&mut rng)).collect();

    // The site.
    let site = tmp.path().join("site");
    let mut pages = Vec::with_capacity(n_pages);
    for i in 0..n_pages {
        let words: Vec<&str> = (0..3)
            .map(|_| vocabulary[rng.below(vocabulary.len())].as_str())
            .collect();
        let (y, m) = (2010 + i % 16, 1 + i % 12);
        let path = format!("/blog/{y}/{m:02}/{}-{i}/", words.join("-"));
        let dir = site.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("index.html"),
            format!(
                "<html><head><title>{} {}</title></head></html>",
                words[0], words[2]
            ),
        )
        .expect("page");
        pages.push((
            path,
            words.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            y,
        ));
    }
    std::fs::create_dir_all(&site).expect("mkdir");
    std::fs::write(site.join("index.html"), "<title>Home</title>").expect("home");

    // The 404s: one line per distinct dead path.
    let mut log = String::with_capacity(n_dead * 120);
    for i in 0..n_dead {
        let (path, words, y) = &pages[rng.below(pages.len())];
        let dead = match i % 4 {
            0 => format!("/{y}/{}.html", words.join("-")), // moved post
            1 => format!("/posts/{}-{}-{i}", words[0], &words[1][1..]), // typo, partial
            2 => format!("/{}/{}", words[1], vocabulary[rng.below(vocabulary.len())]), // near-tie
            _ => format!("/junk/{}{i}", vocabulary[rng.below(vocabulary.len())]), // junk
        };
        let _ = path;
        let _ = writeln!(
            log,
            "192.0.2.{} - - [05/Dec/2026:10:00:00 +0000] \"GET {dead} HTTP/1.1\" 404 153 \"-\" \"Mozilla/5.0\"",
            i % 250
        );
    }
    let log_path = tmp.path().join("access.log");
    std::fs::write(&log_path, log).expect("log");
    let db_master = tmp.path().join("master.db");
    let started = Instant::now();
    {
        let mut db = HoneyDb::open(&db_master, &DbOptions::default()).expect("db");
        let file = std::fs::File::open(&log_path).expect("open log");
        honeybot_db::import(&mut db, file, &ImportOptions::new("access.log"), |_| {})
            .expect("import");
    }
    println!(
        "fixture: {n_pages} live pages, {n_dead} distinct 404 paths (import {:.2} s)",
        started.elapsed().as_secs_f64()
    );

    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx", "/sbin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).is_file());
    let test_command = match nginx {
        Some(bin) => {
            let mut c = honeybot_janitor::config::default_test_command();
            c[0] = bin.into();
            c
        }
        None => {
            println!("nginx not found: the map is checked by `true` instead of nginx -t");
            vec!["true".into(), "{config}".into()]
        }
    };
    let server = FakeServer::start(vec![Reply::text(r#"{"page": 1}"#)]).expect("fake server");
    let mut results = Vec::new();
    for (name, llm) in [
        ("lexical only (--no-llm)", false),
        ("with the model (fake server)", true),
    ] {
        let db = tmp.path().join(format!("run-{llm}.db"));
        std::fs::copy(&db_master, &db).expect("copy db");
        let file = FileConfig {
            days: Some(100_000),
            min_hits: Some(1),
            max_entries: Some(200_000),
            test_command: Some(test_command.clone()),
            llm: llm.then(|| LlmConfig {
                provider: None,
                endpoint: Some(server.url()),
                model: "fake".into(),
                timeout_secs: Some(10),
                max_queries: Some(1_000_000),
                api_key_file: None,
            }),
            ..FileConfig::default()
        };
        let overrides = Overrides {
            db: Some(db),
            site: Some(site.clone()),
            map: Some(tmp.path().join(format!("run-{llm}.map"))),
            ..Overrides::default()
        };
        let settings = Settings::resolve(file, Path::new("<bench>"), &overrides).expect("settings");
        let report = honeybot_janitor::run(&settings).expect("run");
        println!(
            "{name}: {:.2} s; dead paths {}, active {}, proposed {}, rejected {}, skipped {}; \
             model: {} questions, {:.2} s ({:.1} % of the run)",
            report.seconds,
            report.dead_paths,
            report.active.len(),
            report.proposed.len(),
            report.rejected.len(),
            report.skipped.len(),
            report.llm.queries,
            report.llm.seconds,
            100.0 * report.llm.seconds / report.seconds.max(1e-9)
        );
        results.push(report.seconds);
    }
    println!(
        "with the model / without: {:.2}x",
        results[1] / results[0].max(1e-9)
    );
}

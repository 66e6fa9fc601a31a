//! Live pages from the three kinds of `--site`: a built folder (see e2e), a sitemap.xml and
//! a Jekyll source folder with `_posts`; a dry run finds the right target in each.

use std::path::Path;

use honeybot_janitor::site;

use crate::support::{import_log, janitor, json_of, log_lines, pairs, write};

#[test]
fn a_sitemap_lists_its_pages_by_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("sitemap.xml");
    write(
        &file,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://example.org/</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc>https://example.org/blog/2024/05/hello-world/</loc></url>
  <url><loc> https://example.org/notes/caf%C3%A9?x=1&amp;y=2 </loc></url>
  <url><loc>https://example.org//double//slash/</loc></url>
</urlset>
"#,
    );
    let paths: Vec<String> = site::load(&file)
        .expect("sitemap")
        .into_iter()
        .map(|p| p.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/",
            "/blog/2024/05/hello-world/",
            "/double/slash/",
            "/notes/café"
        ]
    );
}

fn jekyll(root: &Path) {
    write(
        &root.join("_config.yml"),
        "title: A blog\npermalink: pretty\n",
    );
    write(
        &root.join("_posts/2019-03-07-nginx-redirect-maps.md"),
        "---\ntitle: \"Redirect maps: nginx\"\ncategories: [ops]\n---\nBody.\n",
    );
    write(
        &root.join("_posts/2021-07-01-rust-errors.md"),
        "---\ntitle: Error handling in Rust\npermalink: /rust/errors/\n---\n",
    );
    write(
        &root.join("_posts/2022-01-01-draft.md"),
        "---\ntitle: A draft\npublished: false\n---\n",
    );
    write(
        &root.join("about.md"),
        "---\ntitle: About\npermalink: /about/\n---\n",
    );
    write(&root.join("README.md"), "no front matter\n");
}

#[test]
fn a_jekyll_folder_lists_posts_under_their_permalinks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    jekyll(tmp.path());
    let pages = site::load(tmp.path()).expect("jekyll");
    let got: Vec<(&str, Option<&str>, Option<&str>)> = pages
        .iter()
        .map(|p| (p.path.as_str(), p.title.as_deref(), p.date.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("/about/", Some("About"), None),
            (
                "/ops/2019/03/07/nginx-redirect-maps/",
                Some("Redirect maps: nginx"),
                Some("2019-03-07")
            ),
            (
                "/rust/errors/",
                Some("Error handling in Rust"),
                Some("2021-07-01")
            ),
        ]
    );
}

#[test]
fn a_dry_run_against_a_jekyll_folder_finds_the_post() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("blog");
    jekyll(&src);
    let log = tmp.path().join("access.log");
    write(
        &log,
        &log_lines(
            "/2019/03/07/nginx-redirect-maps.html",
            404,
            "192.0.2.9",
            "Mozilla/5.0",
            3,
        ),
    );
    let db = tmp.path().join("honeybot.db");
    import_log(&db, &log);
    let (db, site, map) = (
        db.display().to_string(),
        src.display().to_string(),
        tmp.path().join("redirects.map").display().to_string(),
    );
    let report = json_of(&janitor(&[
        "run",
        "--db",
        &db,
        "--site",
        &site,
        "--map",
        &map,
        "--days",
        "2",
        "--min-hits",
        "3",
        "--no-llm",
        "--dry-run",
        "--format",
        "json",
    ]));
    assert_eq!(
        pairs(&report, "active"),
        [(
            "/2019/03/07/nginx-redirect-maps.html".into(),
            Some("/ops/2019/03/07/nginx-redirect-maps/".into())
        )]
    );
    assert!(!Path::new(&map).exists(), "a dry run writes no map");
}

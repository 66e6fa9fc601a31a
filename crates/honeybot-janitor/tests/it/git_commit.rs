//! `git_repo`: a copy of the published map committed to a real git repository, authored by
//! the janitor, holding that file only, with the changed entries in the message; no commit
//! when nothing changed or in a dry run; none of the repository's hooks run; a repository
//! that cannot take the commit fails the run (exit 1) without losing the published map.

use std::path::Path;
use std::process::Command;

use crate::support::{db_with_404s, janitor, json_of, page, require_tool, test_command, write};

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Site Owner")
        .env("GIT_AUTHOR_EMAIL", "owner@example.org")
        .env("GIT_COMMITTER_NAME", "Site Owner")
        .env("GIT_COMMITTER_EMAIL", "owner@example.org")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_map_is_committed_to_the_site_repository_when_it_changes() {
    let (Some(nginx), Some(_)) = (require_tool("nginx"), require_tool("git")) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let repo = dir.join("site-src");
    let site = repo.join("_site");
    page(&site, "/", "Home");
    page(
        &site,
        "/blog/2019/03/nginx-redirect-maps/",
        "Redirect maps in nginx",
    );
    page(&site, "/about/", "About me");
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "_site"]);
    git(&repo, &["commit", "--quiet", "-m", "the site"]);
    // The owner's work in progress: staged, and must stay out of the janitor's commit.
    write(&repo.join("draft.md"), "# Draft\n");
    git(&repo, &["add", "draft.md"]);
    // Hooks that would refuse every commit (and leave a mark): the janitor runs none of the
    // repository's code, not even the hooks --no-verify does not skip.
    let marker = dir.join("hook-ran");
    for name in [
        "pre-commit",
        "prepare-commit-msg",
        "commit-msg",
        "post-commit",
    ] {
        let hook = repo.join(".git/hooks").join(name);
        write(
            &hook,
            &format!(
                "#!/bin/sh
echo {name} >> '{}'
exit 1
",
                marker.display()
            ),
        );
        std::fs::set_permissions(
            &hook,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
        )
        .expect("chmod hook");
    }

    let db = db_with_404s(dir, "/2019/03/nginx-redirect-maps.html", 3);
    let map = dir.join("redirects.map");
    let config = dir.join("janitor.toml");
    write(
        &config,
        &format!(
            "db = {:?}\nsite = {:?}\nmap = {:?}\ndays = 2\nmin_hits = 3\nno_llm = true\n\
             test_command = {}\ngit_repo = {:?}\ngit_path = \"nginx/redirects.map\"\n",
            db.display().to_string(),
            site.display().to_string(),
            map.display().to_string(),
            serde_json::to_string(&test_command(&nginx)).expect("json"),
            repo.display().to_string(),
        ),
    );
    let cfg = config.display().to_string();
    let head = || git(&repo, &["rev-parse", "HEAD"]).trim().to_owned();
    let before = head();

    // A dry run commits nothing.
    let report = json_of(&janitor(&[
        "run",
        "--config",
        &cfg,
        "--dry-run",
        "--format",
        "json",
    ]));
    assert_eq!(report["git_commit"], serde_json::Value::Null);
    assert_eq!(head(), before);

    let report = json_of(&janitor(&["run", "--config", &cfg, "--format", "json"]));
    let id = report["git_commit"]
        .as_str()
        .expect("a commit id")
        .to_owned();
    assert_eq!(head(), id);
    let published = std::fs::read_to_string(&map).expect("map");
    assert_eq!(
        git(&repo, &["show", "HEAD:nginx/redirects.map"]),
        published,
        "the commit holds the published map"
    );
    assert_eq!(
        git(&repo, &["show", "--name-only", "--format=", "HEAD"]).trim(),
        "nginx/redirects.map",
        "the commit holds that file only"
    );
    let log = git(&repo, &["log", "-1", "--format=%an <%ae>%n%B"]);
    assert!(
        log.starts_with("honeybot-janitor <honeybot-janitor@localhost>\nhoneybot-janitor: 1 redirect(s) (+1 -0)\n"),
        "{log}"
    );
    assert!(
        log.contains("+ \"/2019/03/nginx-redirect-maps.html\" /blog/2019/03/nginx-redirect-maps/;"),
        "{log}"
    );
    assert!(!marker.exists(), "a hook of the repository ran");
    assert_eq!(
        git(&repo, &["diff", "--cached", "--name-only"]).trim(),
        "draft.md",
        "the owner's staged work is still staged"
    );

    // Nothing changed: no new commit.
    let report = json_of(&janitor(&["run", "--config", &cfg, "--format", "json"]));
    assert_eq!(report["git_commit"], serde_json::Value::Null);
    assert_eq!(head(), id);

    // A person's decision changes the map: the next run commits the removal.
    let out = janitor(&[
        "--config",
        &cfg,
        "reject",
        "/2019/03/nginx-redirect-maps.html",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&janitor(&["run", "--config", &cfg, "--format", "json"]));
    assert!(report["git_commit"].is_string(), "{report}");
    let subject = git(&repo, &["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), "honeybot-janitor: 0 redirect(s) (+0 -1)");

    // Not a repository: the run fails loudly, the map it published stays.
    std::fs::remove_dir_all(repo.join(".git")).expect("rm .git");
    let out = janitor(&[
        "--config",
        &cfg,
        "unset",
        "/2019/03/nginx-redirect-maps.html",
    ]);
    assert!(out.status.success());
    let out = janitor(&["run", "--config", &cfg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "the map is published and the decisions are saved, but committing it to git failed"
        ),
        "{stderr}"
    );
    assert!(stderr.contains(&repo.display().to_string()), "{stderr}");
    assert!(
        std::fs::read_to_string(&map)
            .expect("map")
            .contains("/blog/2019/03/nginx-redirect-maps/"),
        "the published map was lost"
    );
}

#[test]
fn git_settings_are_checked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = tmp.path().join("janitor.toml");
    for (text, key) in [
        ("git_path = \"x.map\"\n", "git_path"),
        ("git_repo = \"relative/repo\"\n", "git_repo"),
        (
            "git_repo = \"/srv/site\"\ngit_path = \"../outside.map\"\n",
            "git_path",
        ),
        (
            "git_repo = \"/srv/site\"\ngit_path = \".git/hooks/pre-commit\"\n",
            "git_path",
        ),
        (
            "git_repo = \"/srv/site\"\ngit_path = \"/etc/passwd\"\n",
            "git_path",
        ),
    ] {
        write(&cfg, text);
        let out = janitor(&["check-config", "--config", &cfg.display().to_string()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(key), "{text}: {stderr}");
    }
    write(&cfg, "git_repo = \"/srv/site\"\n");
    let out = janitor(&["check-config", "--config", &cfg.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

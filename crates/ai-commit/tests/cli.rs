//! The real `ai-commit` binary in real git repositories (temporary folders), talking to a
//! scripted model server.
//!
//! The model server is a FAKE (`honeybot_llm::testing::FakeServer`): Ollama and llama.cpp
//! cannot run in the test environment. It speaks Ollama's `/api/chat` and the OpenAI
//! `/v1/chat/completions` wire protocols over a real socket on 127.0.0.1 (port 0).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use honeybot_llm::testing::{FakeServer, Reply};

/// A needed external tool: FAILS under CI=true, else prints SKIP and returns false.
fn require_tool(name: &str) -> bool {
    honeybot_testsupport::require_tool(name).is_some()
}

/// A git repository in a temporary folder, with its own HOME so no user config leaks in.
struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
}

impl Repo {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&dir).expect("mkdir repo");
        std::fs::create_dir_all(&home).expect("mkdir home");
        let repo = Self {
            _tmp: tmp,
            dir,
            home,
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test"]);
        repo.git(&["config", "user.email", "test@example.invalid"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    fn with_commit() -> Self {
        let r = Self::new();
        r.write("README.md", "# Project\n");
        r.git(&["add", "."]);
        r.git(&["commit", "-q", "-m", "Initial commit"]);
        r
    }

    fn env(&self, c: &mut Command) {
        for var in [
            "AI_COMMIT_CONFIG",
            "AI_COMMIT_PROVIDER",
            "AI_COMMIT_ENDPOINT",
            "AI_COMMIT_MODEL",
            "AI_COMMIT_NUM_CTX",
            "AI_COMMIT_TIMEOUT_SECS",
            "AI_COMMIT_STALL_TIMEOUT_SECS",
            "AI_COMMIT_HOOK_TIMEOUT_SECS",
            "AI_COMMIT_API_KEY_FILE",
            "OLLAMA_HOST",
            "XDG_CONFIG_HOME",
            "GIT_DIR",
            "GIT_INDEX_FILE",
            "GIT_WORK_TREE",
        ] {
            c.env_remove(var);
        }
        c.env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_EDITOR", "true");
    }

    fn git(&self, args: &[&str]) -> String {
        let mut c = Command::new("git");
        c.current_dir(&self.dir).args(args);
        self.env(&mut c);
        let out = c.output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, content).expect("write file");
    }

    /// Runs ai-commit against the model server at `endpoint`.
    fn ai(&self, endpoint: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        self.ai_stdin(endpoint, args, extra_env, None)
    }

    fn ai_stdin(
        &self,
        endpoint: &str,
        args: &[&str],
        extra_env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ai-commit"));
        c.current_dir(&self.dir).args(args);
        self.env(&mut c);
        c.env("AI_COMMIT_ENDPOINT", endpoint)
            .env("AI_COMMIT_TIMEOUT_SECS", "20");
        for (k, v) in extra_env {
            c.env(k, v);
        }
        honeybot_testsupport::output_with_stdin(c, stdin.map(str::as_bytes))
    }

    fn last_message(&self) -> String {
        self.git(&["log", "-1", "--format=%B"])
            .trim_end()
            .to_owned()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// An address where nothing listens.
fn refused_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    format!("http://127.0.0.1:{port}")
}

fn json_answer(subject: &str, body: &str) -> Reply {
    Reply::text(serde_json::json!({"subject": subject, "body": body}).to_string())
}

#[test]
fn prints_the_cleaned_model_message_for_the_staged_diff() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("src/parser.rs", "fn parse() -> usize { 42 }\n");
    repo.write("notes.txt", "not staged\n");
    repo.git(&["add", "src/parser.rs"]);
    let server = FakeServer::start(vec![json_answer(
        "Add parser stub",
        "Returns a constant for now.",
    )])
    .expect("server");
    let out = repo.ai(&server.url(), &["--staged"], &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Add parser stub\n\nReturns a constant for now.\n"
    );
    assert_eq!(stderr(&out), "");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let body = &reqs[0].body;
    assert_eq!(reqs[0].path, "/api/chat");
    assert_eq!(body["think"], false);
    assert_eq!(body["stream"], true);
    assert_eq!(body["options"]["num_ctx"], 8192);
    assert_eq!(
        body["format"]["required"],
        serde_json::json!(["subject", "body"])
    );
    let user = body["messages"][1]["content"]
        .as_str()
        .expect("user message");
    assert!(user.contains("+fn parse() -> usize { 42 }"), "{user}");
    assert!(!user.contains("not staged"), "unstaged files stay out");
}

#[test]
fn think_blocks_fences_and_chatter_never_reach_the_message() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("README.md", "# Project\n\nUsage notes.\n");
    repo.git(&["add", "."]);
    let answers = [
        "<think>The user changed the README. I should say so.</think>\nDocument usage in README",
        "```\nDocument usage in README\n```",
        "Here is the commit message:\n\n\"Document usage in README.\"\n\nThis message uses the imperative mood.",
        "```json\n{\"subject\": \"Document usage in README\", \"body\": \"\"}\n```",
    ];
    let server =
        FakeServer::start(answers.iter().map(|a| Reply::text(*a)).collect()).expect("server");
    for answer in answers {
        let out = repo.ai(&server.url(), &["--staged"], &[]);
        assert_eq!(code(&out), 0, "{answer:?}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "Document usage in README\n",
            "answer: {answer:?}"
        );
    }
}

#[test]
fn every_model_failure_gives_the_fallback_and_its_exit_code() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("README.md", "# Project\n\nMore.\n");
    repo.write("src/a.rs", "fn a() {}\n");
    repo.write("src/b.rs", "fn b() {}\n");
    repo.git(&["add", "."]);
    let cases: Vec<(&str, Option<Reply>, i32)> = vec![
        ("refused", None, 10),
        (
            "404",
            Some(Reply::Error(
                404,
                "model \"gemma3:4b\" not found, try pulling it first".into(),
            )),
            12,
        ),
        (
            "500",
            Some(Reply::Error(
                500,
                "llama runner process has terminated: exit status 2".into(),
            )),
            13,
        ),
        ("empty", Some(Reply::text("")), 14),
        (
            "think only",
            Some(Reply::text("<think>Let me think about the README</think>")),
            14,
        ),
        (
            "not json",
            Some(Reply::Raw(200, "Internal proxy error".into())),
            14,
        ),
        ("slow", Some(Reply::Hang), 11),
    ];
    for (label, reply, want) in cases {
        let server = reply.map(|r| FakeServer::start(vec![r]).expect("server"));
        let endpoint = server
            .as_ref()
            .map_or_else(refused_endpoint, FakeServer::url);
        let out = repo.ai(&endpoint, &["--staged"], &[("AI_COMMIT_TIMEOUT_SECS", "1")]);
        assert_eq!(code(&out), want, "{label}: {}", stderr(&out));
        let msg = stdout(&out);
        assert!(msg.starts_with("Update "), "{label}: {msg}");
        assert!(msg.contains(" and 2 other files\n"), "{label}: {msg}");
        for leak in [
            "error",
            "refused",
            "not found",
            "terminated",
            "timeout",
            "proxy",
            "think",
        ] {
            assert!(
                !msg.to_lowercase().contains(leak),
                "{label}: error text leaked: {msg}"
            );
        }
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{label}: one warning line: {err}");
        assert!(err.starts_with("ai-commit: warning: "), "{label}: {err}");
    }
}

#[test]
fn fallback_is_deterministic_for_the_same_change() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("docs/guide.md", "guide\n");
    repo.write("README.md", "# Project\nx\ny\n");
    repo.git(&["add", "."]);
    let endpoint = refused_endpoint();
    let a = repo.ai(&endpoint, &["--staged"], &[]);
    let b = repo.ai(&endpoint, &["--staged"], &[]);
    assert_eq!(stdout(&a), stdout(&b));
    assert!(
        stdout(&a).starts_with("Update README.md and docs/guide.md\n"),
        "{}",
        stdout(&a)
    );
    let conventional = repo.ai(&endpoint, &["--staged", "--conventional"], &[]);
    assert!(
        stdout(&conventional).starts_with("docs: update README.md and docs/guide.md\n"),
        "{}",
        stdout(&conventional)
    );
}

#[test]
fn no_fallback_fails_without_printing_or_committing() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]);
    let server =
        FakeServer::start(vec![Reply::Error(404, "model not found".into())]).expect("server");
    let out = repo.ai(&server.url(), &["--no-fallback"], &[]);
    assert_eq!(code(&out), 12);
    assert_eq!(stdout(&out), "");
    let out = repo.ai(&server.url(), &["--commit", "--no-fallback"], &[]);
    assert_eq!(code(&out), 12);
    assert_eq!(
        repo.last_message(),
        "Initial commit",
        "nothing was committed"
    );
}

/// A model server's error text with a clear-screen, an OSC 0 title change, an OSC 52
/// clipboard write and a bidi override: what ai-commit prints must be inert.
#[test]
fn a_hostile_server_error_reaches_the_terminal_escaped() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]);
    let hostile = "boom\x1b[2J\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\u{202e}gnp.exe\nnext";
    let live = |text: &str| {
        text.trim_end_matches('\n').chars().any(|c| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
    };
    for args in [&["--staged"][..], &["--staged", "--no-fallback"][..]] {
        let server = FakeServer::start(vec![Reply::Error(500, hostile.into())]).expect("server");
        let out = repo.ai(&server.url(), args, &[]);
        assert_eq!(code(&out), 13, "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err:?}");
        assert!(!live(&err), "{args:?}: {err:?}");
        assert!(
            err.contains("boom\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{1b}]52;")
                && err.contains("\\u{202e}gnp.exe\\u{a}next"),
            "{args:?}: the server's words, escaped: {err}"
        );
    }
}

#[test]
fn commit_and_push_to_a_local_bare_repository() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    let bare = repo.home.join("remote.git");
    repo.git(&["init", "-q", "--bare", bare.to_str().expect("utf-8 path")]);
    repo.git(&[
        "remote",
        "add",
        "origin",
        bare.to_str().expect("utf-8 path"),
    ]);
    repo.git(&["push", "-q", "-u", "origin", "main"]);
    repo.write("src/lib.rs", "pub fn add(a: u8, b: u8) -> u8 { a + b }\n");

    let server = FakeServer::start(vec![json_answer("Add an add function", "")]).expect("server");
    let out = repo.ai(&server.url(), &["--all", "--commit", "--push"], &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(repo.last_message(), "Add an add function");
    let remote_head = repo.git(&[
        "--git-dir",
        bare.to_str().expect("utf-8"),
        "log",
        "-1",
        "--format=%s",
        "main",
    ]);
    assert_eq!(remote_head.trim(), "Add an add function");
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "everything was committed"
    );

    // Model down: still commits, with the fallback, and says so in the exit code.
    repo.write(
        "src/lib.rs",
        "pub fn add(a: u16, b: u16) -> u16 { a + b }\n",
    );
    let out = repo.ai(&refused_endpoint(), &["--all", "--commit"], &[]);
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(repo.last_message(), "Update src/lib.rs");
}

#[test]
fn all_without_commit_leaves_the_index_alone_and_sees_untracked_files() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("new_file.txt", "brand new content\n");
    repo.write("README.md", "# Project\nchanged\n");
    let server = FakeServer::start(vec![json_answer("Add new file", "")]).expect("server");
    let out = repo.ai(&server.url(), &["--all"], &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let user = server.requests()[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(user.contains("+brand new content"), "{user}");
    assert!(user.contains("+changed"), "{user}");
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]),
        "",
        "index untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(repo.dir.join(".git"))
        .expect("read .git")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("ai-commit-index")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary index removed");
}

#[test]
fn diff_on_stdin_works_outside_a_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    let diff = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-print('hi')\n+print('hello')\n";
    let server =
        FakeServer::start(vec![json_answer("Say hello instead of hi", "")]).expect("server");
    let mut c = Command::new(env!("CARGO_BIN_EXE_ai-commit"));
    c.current_dir(dir.path())
        .env("HOME", dir.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("AI_COMMIT_CONFIG")
        .env("AI_COMMIT_ENDPOINT", server.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    {
        use std::io::Write as _;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(diff.as_bytes()).expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "Say hello instead of hi\n");
    let user = server.requests()[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(user.contains("+print('hello')"), "{user}");
}

#[test]
fn nothing_staged_exits_3_without_asking_the_model() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    let server = FakeServer::start(vec![json_answer("x", "")]).expect("server");
    let out = repo.ai(&server.url(), &["--staged"], &[]);
    assert_eq!(code(&out), 3);
    assert_eq!(stdout(&out), "");
    assert!(server.requests().is_empty());
}

#[test]
fn lockfiles_and_binaries_are_named_but_not_sent() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    let lock: String = (0..3000)
        .map(|i| format!("[[package]]\nname = \"lockdep{i}\"\n"))
        .collect();
    repo.write("Cargo.lock", &lock);
    std::fs::write(
        repo.dir.join("logo.png"),
        [0x89, b'P', b'N', b'G', 0, 0, 1, 2, 0, 255],
    )
    .expect("write png");
    repo.write("src/main.rs", "fn main() { println!(\"hi\"); }\n");
    repo.git(&["add", "."]);
    let server = FakeServer::start(vec![json_answer("Add main", "")]).expect("server");
    let out = repo.ai(&server.url(), &[], &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let user = server.requests()[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        user.contains("Cargo.lock (lockfile)") && user.contains("logo.png (binary)"),
        "{user}"
    );
    assert!(!user.contains("lockdep"), "lockfile content stays out");
    assert!(user.contains("println!"));
}

#[test]
fn a_10k_line_diff_fits_the_context_with_instructions_first() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    let big: String = (0..10_000)
        .map(|i| format!("let value_{i} = compute({i});\n"))
        .collect();
    repo.write("src/big.rs", &big);
    repo.write("src/small.rs", "fn small() {}\n");
    repo.git(&["add", "."]);
    let server = FakeServer::start(vec![json_answer("Add generated values", "")]).expect("server");
    let out = repo.ai(&server.url(), &[], &[("AI_COMMIT_NUM_CTX", "4096")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let body = &server.requests()[0].body;
    assert_eq!(body["options"]["num_ctx"], 4096);
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    let user = body["messages"][1]["content"].as_str().unwrap_or_default();
    // 3 characters per token is a pessimistic estimate (real tokenizers average more).
    let estimated_tokens = (system.len() + user.len()) / 3;
    assert!(
        estimated_tokens + 512 <= 4096,
        "prompt of ~{estimated_tokens} tokens does not fit"
    );
    assert!(system.starts_with("You write git commit messages"));
    assert!(user.contains("+fn small() {}"), "the small file is whole");
    assert!(user.contains("more lines of this file not shown"));
}

#[test]
fn openai_compatible_server() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]);
    let server = FakeServer::start(vec![Reply::text("```\nAdd a.txt\n```")]).expect("server");
    let key = repo.home.join("key");
    std::fs::write(&key, "sk-local\n").expect("key");
    let out = repo.ai(
        &server.url(),
        &["--model", "smollm2"],
        &[
            ("AI_COMMIT_PROVIDER", "openai"),
            ("AI_COMMIT_API_KEY_FILE", key.to_str().expect("utf-8")),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "Add a.txt\n");
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.body["model"], "smollm2");
    assert_eq!(r.header("authorization"), Some("Bearer sk-local"));
    assert_eq!(r.body["response_format"]["type"], "json_schema");

    // The same failure classes on this protocol.
    let server = FakeServer::start(vec![Reply::Error(500, "boom".into())]).expect("server");
    let out = repo.ai(&server.url(), &[], &[("AI_COMMIT_PROVIDER", "openai")]);
    assert_eq!(code(&out), 13);
    assert_eq!(stdout(&out), "Add a.txt\n", "fallback for one added file");
}

#[test]
fn hook_fills_plain_commits_and_leaves_the_others_alone() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    let server = FakeServer::start(vec![json_answer(
        "Describe the feature",
        "Adds feature.txt.",
    )])
    .expect("server");
    let install = repo.ai(&server.url(), &["hook", "install"], &[]);
    assert_eq!(code(&install), 0, "{}", stderr(&install));
    let hook = repo.dir.join(".git/hooks/prepare-commit-msg");
    assert!(std::fs::read_to_string(&hook).is_ok_and(|s| s.contains("ai-commit")));

    let commit = |args: &[&str], endpoint: &str| {
        let mut c = Command::new("git");
        c.current_dir(&repo.dir).args(args);
        repo.env(&mut c);
        c.env("AI_COMMIT_ENDPOINT", endpoint)
            .env("AI_COMMIT_TIMEOUT_SECS", "20");
        let out = c.output().expect("git commit");
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    };

    // Plain `git commit`: the hook writes the message.
    repo.write("feature.txt", "feature\n");
    repo.git(&["add", "."]);
    commit(&["commit", "-q"], &server.url());
    assert_eq!(
        repo.last_message(),
        "Describe the feature\n\nAdds feature.txt."
    );
    assert_eq!(server.requests().len(), 1);

    // -m: left alone, model not asked.
    repo.write("feature.txt", "feature 2\n");
    repo.git(&["add", "."]);
    commit(&["commit", "-q", "-m", "My own words"], &server.url());
    assert_eq!(repo.last_message(), "My own words");

    // Amend: left alone.
    commit(&["commit", "-q", "--amend", "--no-edit"], &server.url());
    assert_eq!(repo.last_message(), "My own words");

    // Merge: git's merge message kept.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("side.txt", "side\n");
    repo.git(&["add", "."]);
    commit(&["commit", "-q", "-m", "Side work"], &server.url());
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", "main\n");
    repo.git(&["add", "."]);
    commit(&["commit", "-q", "-m", "Main work"], &server.url());
    commit(&["merge", "-q", "--no-ff", "side"], &server.url());
    assert_eq!(repo.last_message(), "Merge branch 'side'");
    assert_eq!(
        server.requests().len(),
        1,
        "only the plain commit asked the model"
    );

    // Model down: the commit still happens, with the fallback message.
    repo.write("later.txt", "later\n");
    repo.git(&["add", "."]);
    commit(&["commit", "-q"], &refused_endpoint());
    assert_eq!(repo.last_message(), "Add later.txt");
}

#[test]
fn hook_install_refuses_to_overwrite_a_foreign_hook() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write(".git/hooks/prepare-commit-msg", "#!/bin/sh\necho mine\n");
    let out = repo.ai(&refused_endpoint(), &["hook", "install"], &[]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(repo.dir.join(".git/hooks/prepare-commit-msg")).unwrap_or_default(),
        "#!/bin/sh\necho mine\n"
    );
    let out = repo.ai(&refused_endpoint(), &["hook", "install", "--force"], &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn config_file_env_and_flags_and_print_config() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    let cfg_dir = repo.home.join(".config/ai-commit");
    std::fs::create_dir_all(&cfg_dir).expect("mkdir");
    std::fs::write(
        cfg_dir.join("config.toml"),
        "model = \"from-file\"\nnum_ctx = 16384\nconventional = true\n",
    )
    .expect("write");
    let out = repo.ai(
        "http://gpu-box.lan:11434",
        &["--print-config", "--lang", "German"],
        &[("AI_COMMIT_MODEL", "from-env")],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "model = \"from-env\"",
        "# env AI_COMMIT_MODEL",
        "num_ctx = 16384",
        "lang = \"German\"",
        "conventional = true",
        "REMOTE: the diff is sent to this host",
        "http://gpu-box.lan:11434/api/chat",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }

    std::fs::write(cfg_dir.join("config.toml"), "modle = \"typo\"\n").expect("write");
    let out = repo.ai("http://127.0.0.1:1", &["--print-config"], &[]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("modle") && err.contains("config.toml"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn ollama_host_is_honoured_when_no_endpoint_is_configured() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]);
    let server = FakeServer::start(vec![json_answer("Add a.txt", "")]).expect("server");
    let port = server.addr().port().to_string();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("0.0.0.0:{port}"),
        format!("localhost:{port}"),
        format!(":{port}"),
    ] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ai-commit"));
        c.current_dir(&repo.dir);
        repo.env(&mut c);
        let out = c
            .env("OLLAMA_HOST", &host)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        assert_eq!(code(&out), 0, "OLLAMA_HOST={host}: {}", stderr(&out));
        assert_eq!(stdout(&out), "Add a.txt\n");
    }
}

// ---------------------------------------------------------------------------------------
// Hostile servers, hostile file names, careless use (#13 items 4-8, #12 stall and relevance).

/// A repository with `src/parser.rs` staged.
fn repo_with_parser() -> Repo {
    let repo = Repo::with_commit();
    repo.write("src/parser.rs", "fn parse_header() -> usize { 42 }\n");
    repo.git(&["add", "."]);
    repo
}

#[test]
fn error_texts_refusals_and_unrelated_answers_become_the_fallback_with_exit_15() {
    if !require_tool("git") {
        return;
    }
    let repo = repo_with_parser();
    for answer in [
        "Error: model 'gemma3:4b' not found, try pulling it first",
        "Internal Server Error",
        "I'm sorry, but I cannot help with that request.",
        "This is a JSON object",
    ] {
        let server = FakeServer::start(vec![Reply::text(answer)]).expect("server");
        let out = repo.ai(&server.url(), &["--staged"], &[]);
        assert_eq!(
            code(&out),
            15,
            "{answer:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert_eq!(stdout(&out), "Add src/parser.rs\n", "{answer:?}");
        assert!(stderr(&out).contains("exit code 15"), "{}", stderr(&out));
    }
    // A relevant answer still passes.
    let server = FakeServer::start(vec![json_answer("Parse the header", "")]).expect("server");
    let out = repo.ai(&server.url(), &["--staged"], &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "Parse the header\n");
}

#[test]
fn a_trickling_or_stalled_server_gives_the_fallback_in_time() {
    if !require_tool("git") {
        return;
    }
    let repo = repo_with_parser();
    // One byte every 200 ms of a long answer: only the total deadline (3 s) ends it.
    let trickle = FakeServer::start(vec![Reply::Trickle {
        content: "Parse the header ".repeat(100),
        every: std::time::Duration::from_millis(200),
    }])
    .expect("server");
    let t = std::time::Instant::now();
    let out = repo.ai(
        &trickle.url(),
        &["--staged"],
        &[
            ("AI_COMMIT_TIMEOUT_SECS", "3"),
            ("AI_COMMIT_STALL_TIMEOUT_SECS", "2"),
        ],
    );
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert_eq!(stdout(&out), "Add src/parser.rs\n");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        t.elapsed()
    );
    drop(trickle);

    // The answer starts, then the model goes silent: the stall limit (1 s) ends it.
    let stall = FakeServer::start(vec![Reply::Stall {
        content: "Parse the header of a file".into(),
        bytes: 80,
    }])
    .expect("server");
    let out = repo.ai(
        &stall.url(),
        &["--staged"],
        &[("AI_COMMIT_STALL_TIMEOUT_SECS", "1")],
    );
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("send more of the answer within 1 s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stall.requests()[0].body["stream"], true);
}

#[test]
fn the_hook_has_the_shorter_budget() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    let server = FakeServer::start(vec![Reply::Hang]).expect("server");
    let install = repo.ai(&server.url(), &["hook", "install"], &[]);
    assert_eq!(code(&install), 0, "{}", stderr(&install));
    repo.write("feature.txt", "feature\n");
    repo.git(&["add", "."]);
    let mut c = Command::new("git");
    c.current_dir(&repo.dir).args(["commit", "-q"]);
    repo.env(&mut c);
    // Command-line budget 600 s, hook budget 2 s: the commit must not wait 600 s.
    c.env("AI_COMMIT_ENDPOINT", server.url())
        .env("AI_COMMIT_TIMEOUT_SECS", "600")
        .env("AI_COMMIT_HOOK_TIMEOUT_SECS", "2");
    let t = std::time::Instant::now();
    let out = c.output().expect("git commit");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        t.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(repo.last_message(), "Add feature.txt");
}

#[test]
fn a_redirect_is_not_followed_with_the_diff() {
    if !require_tool("git") {
        return;
    }
    let repo = repo_with_parser();
    let elsewhere = FakeServer::start_on(
        "127.0.0.2:0".parse().expect("addr"),
        vec![json_answer("Parse the header", "")],
    )
    .expect("server on 127.0.0.2");
    let server = FakeServer::start(vec![Reply::Redirect(format!(
        "{}/api/chat",
        elsewhere.url()
    ))])
    .expect("server");
    let out = repo.ai(&server.url(), &["--staged"], &[]);
    assert_eq!(code(&out), 13, "{}", stderr(&out));
    assert!(stderr(&out).contains("redirect"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("127.0.0.2"), "{}", stderr(&out));
    assert!(
        elsewhere.requests().is_empty(),
        "the diff went to {}",
        elsewhere.url()
    );
}

#[test]
fn hostile_file_names_are_escaped_in_the_fallback_message() {
    if !require_tool("git") {
        return;
    }
    let repo = Repo::with_commit();
    let names = [
        "esc\u{1b}[31mred.txt",
        "bell\u{7}.txt",
        "c1\u{9b}2J.txt",
        "bidi\u{202e}txt.exe",
        "my file.txt",
        "new\nline.txt",
        "vtab\u{b}.txt",
    ];
    for n in names {
        repo.write(n, "x\n");
    }
    repo.git(&["add", "."]);
    let out = repo.ai(&refused_endpoint(), &["--commit"], &[]);
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let msg = repo.last_message();
    assert!(
        !msg.chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{msg:?}"
    );
    assert!(!stderr(&out).contains('\u{1b}'), "{}", stderr(&out));
    let body: Vec<&str> = msg.lines().skip(2).collect();
    assert_eq!(body.len(), names.len(), "one body line per file: {msg:?}");
    for want in [
        "- A my file.txt (+1 -0)",
        "- A bell\\u{7}.txt (+1 -0)",
        "- A vtab\\u{b}.txt (+1 -0)",
        "- A new\\u{a}line.txt (+1 -0)",
        "- A esc\\u{1b}[31mred.txt (+1 -0)",
        "- A c1\\u{9b}2J.txt (+1 -0)",
        "- A bidi\\u{202e}txt.exe (+1 -0)",
    ] {
        assert!(body.contains(&want), "{want:?} not in {body:?}");
    }
    // One file with a space: no TAB after the name.
    let repo = Repo::with_commit();
    repo.write("my notes.txt", "x\n");
    repo.git(&["add", "."]);
    let out = repo.ai(&refused_endpoint(), &["--staged"], &[]);
    assert_eq!(stdout(&out), "Add my notes.txt\n");
}

#[test]
fn outside_a_repository_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |stdin: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ai-commit"));
        c.current_dir(dir.path())
            .env("HOME", dir.path())
            .env(
                "GIT_CEILING_DIRECTORIES",
                dir.path().parent().expect("parent"),
            )
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("AI_COMMIT_CONFIG")
            .env_remove("GIT_DIR")
            .env("AI_COMMIT_ENDPOINT", refused_endpoint())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write as _;
            pipe.write_all(text.as_bytes()).expect("write");
        }
        child.wait_with_output().expect("wait")
    };
    let out = run(None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a git repository"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("usage"), "{}", stderr(&out));
    assert!(stderr(&out).lines().count() <= 2, "{}", stderr(&out));
    let out = run(Some("just some words, not a diff\n"));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("not a diff"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

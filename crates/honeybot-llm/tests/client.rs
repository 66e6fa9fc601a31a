//! The client against a scripted fake model server over real HTTP on 127.0.0.1.
//!
//! The server is a FAKE (`honeybot_llm::testing`): a real Ollama or llama.cpp server cannot
//! run here. It speaks both wire protocols over a real socket, so everything the client does
//! on the wire is exercised.

use std::time::Duration;

use honeybot_llm::testing::{FakeServer, Reply};
use honeybot_llm::{Client, ClientConfig, Endpoint, ErrorKind, Message, Provider, extract_json};
use serde_json::json;

fn client(provider: Provider, url: &str) -> Client {
    let endpoint = Endpoint::parse(url).expect("endpoint");
    let mut cfg = ClientConfig::new(provider, endpoint, "gemma3:4b");
    cfg.num_ctx = 4096;
    cfg.timeout = Duration::from_secs(2);
    cfg.connect_timeout = Duration::from_secs(2);
    Client::new(cfg).expect("client")
}

fn ask(c: &Client) -> Result<honeybot_llm::Answer, honeybot_llm::LlmError> {
    c.chat(
        &[Message::system("be brief"), Message::user("diff here")],
        None,
    )
}

#[test]
fn ollama_request_has_the_settings_that_avoid_reloads_and_truncation() {
    let server = FakeServer::start(vec![Reply::text("Fix parser")]).expect("server");
    let c = client(Provider::Ollama, &server.url());
    let schema = json!({"type": "object", "properties": {"subject": {"type": "string"}}});
    let answer = c
        .chat(&[Message::user("hi")], Some(&schema))
        .expect("answer");
    assert_eq!(answer.content, "Fix parser");
    assert_eq!(answer.prompt_tokens, Some(100));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/api/chat"));
    assert_eq!(r.body["model"], "gemma3:4b");
    assert_eq!(r.body["stream"], false);
    assert_eq!(r.body["think"], false);
    assert_eq!(r.body["keep_alive"], "10m");
    assert_eq!(r.body["options"]["num_ctx"], 4096);
    assert_eq!(r.body["format"], schema);
    assert_eq!(r.body["messages"][0]["role"], "user");
    assert!(r.header("authorization").is_none());
}

#[test]
fn openai_request_uses_response_format_and_the_key_from_a_file() {
    let server =
        FakeServer::start(vec![Reply::text("{\"subject\":\"Add cache\"}")]).expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("api-key");
    std::fs::write(&key, "sk-test-123\n").expect("write key");
    let endpoint = Endpoint::parse(&format!("{}/v1", server.url())).expect("endpoint");
    let cfg = ClientConfig::new(Provider::OpenAi, endpoint, "smollm2")
        .api_key_file(&key)
        .expect("key file");
    assert!(
        !format!("{cfg:?}").contains("sk-test"),
        "the key must not appear in Debug"
    );
    let c = Client::new(cfg).expect("client");
    let schema = json!({"type": "object"});
    let answer = c
        .chat(&[Message::user("hi")], Some(&schema))
        .expect("answer");
    assert_eq!(
        extract_json(&answer.content),
        Some(json!({"subject": "Add cache"}))
    );

    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-123"));
    assert_eq!(r.body["response_format"]["type"], "json_schema");
    assert_eq!(r.body["response_format"]["json_schema"]["schema"], schema);
    assert_eq!(r.body["stream"], false);
    assert!(
        r.body.get("options").is_none(),
        "Ollama options are not sent to OpenAI servers"
    );
}

#[test]
fn missing_or_empty_key_file_is_a_config_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint = Endpoint::parse("http://127.0.0.1:1").expect("endpoint");
    let cfg = ClientConfig::new(Provider::OpenAi, endpoint, "m");
    let missing = dir.path().join("nope");
    let err = cfg
        .clone()
        .api_key_file(&missing)
        .expect_err("missing file");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains(&missing.display().to_string()));
    let empty = dir.path().join("empty");
    std::fs::write(&empty, " \n").expect("write");
    assert_eq!(
        cfg.api_key_file(&empty).expect_err("empty").kind(),
        ErrorKind::Config
    );
}

#[test]
fn failures_are_typed_by_status_for_both_protocols() {
    for provider in [Provider::Ollama, Provider::OpenAi] {
        let cases = [
            (
                Reply::Error(
                    404,
                    "model \"gemma3:4b\" not found, try pulling it first".into(),
                ),
                ErrorKind::ModelMissing,
            ),
            (
                Reply::Error(500, "llama runner process has terminated".into()),
                ErrorKind::Server,
            ),
            (Reply::Error(503, "busy".into()), ErrorKind::Server),
            (
                Reply::Error(400, "prompt too long".into()),
                ErrorKind::Rejected,
            ),
            (
                Reply::Raw(200, "<html>proxy page</html>".into()),
                ErrorKind::BadBody,
            ),
            (
                Reply::Raw(200, "{\"unexpected\": true}".into()),
                ErrorKind::BadBody,
            ),
            (Reply::text(""), ErrorKind::Empty),
            (Reply::text("  \n "), ErrorKind::Empty),
        ];
        for (reply, want) in cases {
            let label = format!("{provider:?} {reply:?}");
            let server = FakeServer::start(vec![reply]).expect("server");
            let err = ask(&client(provider, &server.url())).expect_err(&label);
            assert_eq!(err.kind(), want, "{label}: {err}");
        }
    }
}

#[test]
fn model_missing_error_names_model_and_shows_server_detail_on_one_line() {
    let server = FakeServer::start(vec![Reply::Error(
        404,
        "model 'gemma3:4b' not found\n\x1b[31m".into(),
    )])
    .expect("server");
    let err = ask(&client(Provider::Ollama, &server.url())).expect_err("404");
    let text = err.to_string();
    assert!(text.contains("gemma3:4b") && text.contains("404"), "{text}");
    assert!(
        !text.contains('\n') && !text.contains('\x1b'),
        "one clean line: {text:?}"
    );
}

#[test]
fn slow_server_times_out() {
    let server = FakeServer::start(vec![Reply::Hang]).expect("server");
    let endpoint = Endpoint::parse(&server.url()).expect("endpoint");
    let mut cfg = ClientConfig::new(Provider::Ollama, endpoint, "m");
    cfg.timeout = Duration::from_millis(300);
    let err = Client::new(cfg)
        .expect("client")
        .chat(&[Message::user("x")], None)
        .expect_err("timeout");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[test]
fn nothing_listening_is_refused() {
    // Bind, learn the port, close: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    for provider in [Provider::Ollama, Provider::OpenAi] {
        let err = ask(&client(provider, &format!("http://127.0.0.1:{port}"))).expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    }
}

#[test]
fn thinking_returned_separately_is_kept_apart_from_the_content() {
    let server = FakeServer::start(vec![Reply::TextWithThinking {
        content: "Fix parser".into(),
        thinking: "Let me look at the diff".into(),
    }])
    .expect("server");
    for provider in [Provider::Ollama, Provider::OpenAi] {
        let a = ask(&client(provider, &server.url())).expect("answer");
        assert_eq!(a.content, "Fix parser");
        assert_eq!(a.thinking.as_deref(), Some("Let me look at the diff"));
    }
}

#[test]
fn localhost_reaches_a_server_on_ipv4_loopback() {
    let server = FakeServer::start(vec![Reply::text("ok")]).expect("server");
    let url = format!("http://localhost:{}", server.addr().port());
    assert_eq!(
        ask(&client(Provider::Ollama, &url))
            .expect("answer")
            .content,
        "ok"
    );
}

#[test]
fn localhost_also_reaches_a_server_on_ipv6_loopback_only() {
    let Ok(server) =
        FakeServer::start_on("[::1]:0".parse().expect("addr"), vec![Reply::text("ok")])
    else {
        // Some containers have no IPv6 loopback at all; nothing to test then.
        eprintln!("SKIP: no IPv6 loopback on this machine");
        return;
    };
    let url = format!("http://localhost:{}", server.addr().port());
    assert_eq!(
        ask(&client(Provider::Ollama, &url))
            .expect("answer")
            .content,
        "ok"
    );
}

#[test]
fn chat_json_reads_typed_answers_and_rejects_mismatches() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Pick {
        target: String,
    }
    let server = FakeServer::start(vec![
        Reply::text("Sure: ```json\n{\"target\": \"/blog/\"}\n```"),
        Reply::text("{\"other\": 1}"),
        Reply::text("no json at all"),
    ])
    .expect("server");
    let c = client(Provider::Ollama, &server.url());
    let schema = json!({"type": "object"});
    let msgs = [Message::user("pick")];
    let pick: Pick = c.chat_json(&msgs, &schema).expect("typed answer");
    assert_eq!(
        pick,
        Pick {
            target: "/blog/".into()
        }
    );
    for _ in 0..2 {
        let err = c.chat_json::<Pick>(&msgs, &schema).expect_err("mismatch");
        assert_eq!(err.kind(), ErrorKind::BadBody, "{err}");
    }
}

fn streaming_client(provider: Provider, url: &str, total: Duration, stall: Duration) -> Client {
    let endpoint = Endpoint::parse(url).expect("endpoint");
    let mut cfg = ClientConfig::new(provider, endpoint, "m");
    cfg.stream = true;
    cfg.timeout = total;
    cfg.stall_timeout = stall;
    Client::new(cfg).expect("client")
}

#[test]
fn a_trickling_server_is_given_up_at_the_total_deadline() {
    // Headers at once, then one byte every 100 ms: each read succeeds, the answer never
    // ends in time. The whole request has one deadline.
    let server = FakeServer::start(vec![Reply::Trickle {
        content: "word ".repeat(400),
        every: Duration::from_millis(100),
    }])
    .expect("server");
    let c = streaming_client(
        Provider::Ollama,
        &server.url(),
        Duration::from_secs(2),
        Duration::from_secs(1),
    );
    let t = std::time::Instant::now();
    let err = ask(&c).expect_err("a trickle must time out");
    let took = t.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("within 2 s"), "{err}");
    // The deadline is 2 s; far below the 200 s the trickle would take.
    assert!(took < Duration::from_secs(20), "gave up after {took:?}");
}

#[test]
fn a_stalled_stream_is_given_up_after_the_silence_limit() {
    for provider in [Provider::Ollama, Provider::OpenAi] {
        let server = FakeServer::start(vec![Reply::Stall {
            content: "Add the stall timeout to the client".into(),
            bytes: 60,
        }])
        .expect("server");
        let c = streaming_client(
            provider,
            &server.url(),
            Duration::from_secs(120),
            Duration::from_secs(1),
        );
        let t = std::time::Instant::now();
        let err = ask(&c).expect_err("a stall must time out");
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(
            err.to_string()
                .contains("send more of the answer within 1 s"),
            "{err}"
        );
        assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
        assert_eq!(server.requests()[0].body["stream"], true);
    }
}

#[test]
fn streamed_answers_are_assembled_in_both_protocols() {
    for provider in [Provider::Ollama, Provider::OpenAi] {
        let text = "Stream the answer and give up after a silence";
        let server = FakeServer::start(vec![Reply::text(text)]).expect("server");
        let c = streaming_client(
            provider,
            &server.url(),
            Duration::from_secs(10),
            Duration::from_secs(5),
        );
        let answer = ask(&c).expect("answer");
        assert_eq!(answer.content, text, "{provider:?}");
        assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
        assert_eq!(answer.completion_tokens, Some(20));
    }
}

#[test]
fn redirects_are_not_followed_and_the_prompt_stays_at_the_endpoint() {
    let elsewhere = FakeServer::start_on(
        "127.0.0.2:0".parse().expect("addr"),
        vec![Reply::text("Leaked")],
    )
    .expect("second server on 127.0.0.2");
    let server = FakeServer::start(vec![Reply::Redirect(format!(
        "{}/api/chat",
        elsewhere.url()
    ))])
    .expect("server");
    let err = ask(&client(Provider::Ollama, &server.url())).expect_err("a redirect is an error");
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(err.to_string().contains("redirect"), "{err}");
    assert!(
        elsewhere.requests().is_empty(),
        "the prompt was re-sent to {}",
        elsewhere.url()
    );
}

/// What a hostile or broken server can put in its error text: a clear-screen, an OSC 0 title
/// change, an OSC 52 clipboard write, a bidi override that reorders the line, a C1 CSI.
const HOSTILE: &str =
    "bad\x1b[2J\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07 \u{202e}gnp.exe \u{9b}31m\r\nmore";

/// Whether `text` could still drive or reorder a terminal.
fn live(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

#[test]
fn a_hostile_error_body_is_shown_inert_for_every_status_and_protocol() {
    for provider in [Provider::Ollama, Provider::OpenAi] {
        for reply in [
            Reply::Error(404, HOSTILE.into()),
            Reply::Error(500, HOSTILE.into()),
            Reply::Error(400, HOSTILE.into()),
            Reply::Raw(503, HOSTILE.into()),
            Reply::Error(200, HOSTILE.into()),
        ] {
            let label = format!("{provider:?} {reply:?}");
            let server = FakeServer::start(vec![reply]).expect("server");
            let err = ask(&client(provider, &server.url())).expect_err(&label);
            let text = err.to_string();
            assert!(!live(&text), "{label}: {text:?}");
            // Inert, not hidden: the user still sees what the server said, escaped.
            assert!(
                text.contains("bad\\u{1b}[2J\\u{1b}]0;pwned\\u{7}")
                    && text.contains("\\u{202e}gnp.exe \\u{9b}31m\\u{d}\\u{a}more"),
                "{label}: {text}"
            );
        }
    }
}

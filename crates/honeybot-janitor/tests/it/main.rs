//! Integration tests of honeybot-janitor with real parts: a real nginx on 127.0.0.1, real
//! SQLite files filled by honeybot-db's import, real site folders, the real binary; the
//! model server is honeybot-llm's FakeServer (no model can run here), speaking Ollama's
//! wire protocol over a real socket.

mod check_config;
mod config;
mod e2e;
mod fuzz_keys;
mod git_commit;
mod llm;
mod module_nginx;
mod publish;
mod review;
mod sites;
mod support;
mod unprivileged;
mod uri_form;

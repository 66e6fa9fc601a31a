//! honeybot-janitor: heals dead links with validated nginx redirects (docs/janitor.md).
//!
//! - [`site`]: the live pages (built site folder, sitemap.xml, Jekyll `_posts`).
//! - [`key`]: dead paths in nginx's `$uri` form; escaping or refusing map keys.
//! - [`rank`]: the deterministic lexical ranking; [`llm`]: the model as a tie-breaker that
//!   can only pick a listed candidate by number.
//! - [`run()`]: one run, from the 404s in HoneyDB to a validated, reloaded map ([`map`]).
//! - [`review`]: a person's `list`, `accept`, `reject`, `set`, `unset`.
//! - [`git`]: a copy of the published map committed to the site's repository (optional).
//! - [`config`]: strict TOML settings; [`cli`]: the command line.

pub mod cli;
pub mod config;
pub mod git;
pub mod key;
pub mod llm;
pub mod map;
pub mod rank;
pub mod review;
mod run;
pub mod site;

pub use run::{Changes, Entry, LlmStats, RunError, RunReport, run, since_date};

//! Who a visitor is (user-agent classes and operators) and what a path is (its kind).
//!
//! Both are decided once, when a value first enters `user_agents` or `paths`, and stored
//! (reports join, they never scan strings). The user-agent table is Honeybot's own
//! (`agents.toml`, public facts written for this project): a token (matched
//! case-insensitively, at word boundaries) or a regular expression → class, operator and a
//! short note. Users add or override rules with a file of the same shape ([`AgentsFile`]).
//!
//! Precedence, first that matches wins: the user's tokens (the longest match), the user's
//! patterns (file order), the built-in tokens (the longest match), the built-in patterns, and
//! then the heuristics: an empty or `-` agent is `unknown`; a self-declared bot (the words
//! bot, crawler, spider, ... or a contact URL or address) is `bot`; a browser-shaped string
//! (`Mozilla/… (…) AppleWebKit|Gecko|Trident|Presto`) is `browser`; anything else `unknown`.

use std::sync::{Arc, LazyLock};

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{Regex, RegexSet};

/// What kind of client a user agent is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Collects pages for AI training or AI search indexes (GPTBot, ClaudeBot, CCBot, ...).
    AiCrawler,
    /// Fetches a page on a person's behalf for an AI assistant (ChatGPT-User, Claude-User, ...).
    AiAssistant,
    /// Search-engine crawlers (Googlebot, bingbot, ...).
    Search,
    /// SEO and marketing crawlers (AhrefsBot, SemrushBot, ...).
    Seo,
    /// Link previews of social networks and chat apps (facebookexternalhit, Slackbot, ...).
    Social,
    /// Uptime and feed checkers.
    Monitor,
    /// Vulnerability and internet-wide scanners (zgrab, Nmap, Nuclei, ...).
    Scanner,
    /// HTTP libraries and command-line tools (curl, python-requests, Go-http-client, ...).
    Script,
    /// Any other self-declared bot.
    Bot,
    /// A real browser string.
    Browser,
    /// Empty, `-` or unrecognisable.
    Unknown,
}

impl Class {
    /// Every class, in the order of the documentation.
    pub const ALL: [Class; 11] = [
        Class::AiCrawler,
        Class::AiAssistant,
        Class::Search,
        Class::Seo,
        Class::Social,
        Class::Monitor,
        Class::Scanner,
        Class::Script,
        Class::Bot,
        Class::Browser,
        Class::Unknown,
    ];

    /// The name stored in `user_agents.class`.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::AiCrawler => "ai-crawler",
            Class::AiAssistant => "ai-assistant",
            Class::Search => "search",
            Class::Seo => "seo",
            Class::Social => "social",
            Class::Monitor => "monitor",
            Class::Scanner => "scanner",
            Class::Script => "script",
            Class::Bot => "bot",
            Class::Browser => "browser",
            Class::Unknown => "unknown",
        }
    }

    /// Whether the class is an AI agent (`ai-crawler` or `ai-assistant`).
    pub fn is_ai(self) -> bool {
        matches!(self, Class::AiCrawler | Class::AiAssistant)
    }

    /// Whether the client declares or shows itself as automated (everything but `browser`
    /// and `unknown`).
    pub fn is_bot(self) -> bool {
        !matches!(self, Class::Browser | Class::Unknown)
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Class {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Class::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown class {s:?}"))
    }
}

/// One rule of an agents file: exactly one of `token` and `pattern`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentRule {
    /// Matched case-insensitively where it starts and ends at a word boundary (the
    /// neighbouring characters are not ASCII letters or digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A regular expression (Rust `regex` syntax) searched in the user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    pub class: Class,
    /// Who runs the agent, plainly named; none for generic tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Why the rule says so, in a few words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An agents file: `agent = [ { token = "...", class = "...", operator = "...", note = "..." }, ... ]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsFile {
    #[serde(default)]
    pub agent: Vec<AgentRule>,
}

/// Why an agents table cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AgentsError {
    #[error("agents table: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("agent rule {index}: {message}")]
    Rule { index: usize, message: String },
}

/// The built-in table.
const BUILTIN: &str = include_str!("agents.toml");

/// Bumped whenever the heuristics below change, so stored classes are recomputed.
const LOGIC_REVISION: u32 = 1;

/// What [`Classifier::classify`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict<'a> {
    pub class: Class,
    pub operator: Option<&'a str>,
    /// The rule that decided: a token, `re:<pattern>`, or `heuristic:<name>`.
    pub rule: &'a str,
}

/// The effective table: the user's rules (compiled when the classifier is made) over the
/// built-in table (compiled once per process, on the first classification).
#[derive(Debug)]
pub struct Classifier {
    user: Option<Table>,
    fingerprint: String,
}

/// One compiled rule file.
#[derive(Debug)]
struct Table {
    rules: Vec<Compiled>,
    /// Token automaton; pattern id = index into `token_rules`.
    tokens: AhoCorasick,
    token_rules: Vec<usize>,
    patterns: RegexSet,
    pattern_rules: Vec<usize>,
}

#[derive(Debug)]
struct Compiled {
    rule: AgentRule,
    /// What is stored in `class_rule`.
    label: String,
}

static BUILTIN_TABLE: LazyLock<Table> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    let file: AgentsFile = toml::from_str(BUILTIN).expect("the built-in agents table parses");
    #[allow(clippy::expect_used)]
    Table::compile(&file).expect("the built-in agents table compiles")
});

/// The built-in table's part of every fingerprint: its text and the heuristics' revision
/// (computed without compiling the table).
static BUILTIN_FINGERPRINT: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = blake3::Hasher::new();
    hasher.update(format!("logic {LOGIC_REVISION}\n").as_bytes());
    hasher.update(BUILTIN.as_bytes());
    hasher.finalize().to_hex().to_string()
});

static BUILTIN_CLASSIFIER: LazyLock<Arc<Classifier>> = LazyLock::new(|| {
    Arc::new(Classifier {
        user: None,
        fingerprint: BUILTIN_FINGERPRINT[..16].to_owned(),
    })
});

static BOT_SIGN: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?i)(?:bot\b|\bbot|robot|crawl|spider|scrap|slurp|fetcher|archiv|indexer|checker|validator|https?://|\bwww\.|[a-z0-9._-]+(?:@|\[at\]|\(at\))[a-z0-9-]+\.[a-z]|\b[a-z0-9-]{2,}\.(?:com|net|org|io|ai|dev|app|co|info|nu|gy|ly|fr|de|uk)\b)",
    )
    .expect("valid regex")
});

impl Table {
    fn compile(file: &AgentsFile) -> Result<Table, AgentsError> {
        let mut rules = Vec::with_capacity(file.agent.len());
        for (index, rule) in file.agent.iter().enumerate() {
            let bad = |message: String| AgentsError::Rule {
                index: index + 1,
                message,
            };
            let label = match (&rule.token, &rule.pattern) {
                (Some(t), None) if !t.trim().is_empty() && t.len() <= 200 => t.clone(),
                (None, Some(p)) if !p.is_empty() && p.len() <= 1000 => format!("re:{p}"),
                (Some(_), Some(_)) => return Err(bad("has both `token` and `pattern`".into())),
                (None, None) => return Err(bad("needs a `token` or a `pattern`".into())),
                _ => return Err(bad("token or pattern is empty or too long".into())),
            };
            rules.push(Compiled {
                rule: rule.clone(),
                label,
            });
        }
        let token_rules: Vec<usize> = (0..rules.len())
            .filter(|&i| rules[i].rule.token.is_some())
            .collect();
        let tokens = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(
                token_rules
                    .iter()
                    .map(|&i| rules[i].rule.token.as_deref().unwrap_or_default()),
            )
            .map_err(|e| AgentsError::Rule {
                index: 0,
                message: e.to_string(),
            })?;
        let pattern_rules: Vec<usize> = (0..rules.len())
            .filter(|&i| rules[i].rule.pattern.is_some())
            .collect();
        let pattern_of = |i: usize| rules[i].rule.pattern.as_deref().unwrap_or_default();
        // One compile for the whole set; only when it fails is each pattern compiled alone,
        // to name the bad rule.
        let patterns =
            RegexSet::new(pattern_rules.iter().map(|&i| pattern_of(i))).map_err(|e| {
                for &i in &pattern_rules {
                    if let Err(err) = Regex::new(pattern_of(i)) {
                        return AgentsError::Rule {
                            index: i + 1,
                            message: format!("pattern {:?}: {err}", pattern_of(i)),
                        };
                    }
                }
                AgentsError::Rule {
                    index: 0,
                    message: e.to_string(),
                }
            })?;
        Ok(Table {
            rules,
            tokens,
            token_rules,
            patterns,
            pattern_rules,
        })
    }

    /// The longest token found at word boundaries (the earlier rule on a tie), else the
    /// first matching pattern.
    fn find(&self, ua: &str) -> Option<&Compiled> {
        let bytes = ua.as_bytes();
        let mut best: Option<(usize, std::cmp::Reverse<usize>)> = None;
        for m in self.tokens.find_overlapping_iter(ua) {
            let rule = self.token_rules[m.pattern().as_usize()];
            let token = self.rules[rule]
                .rule
                .token
                .as_deref()
                .unwrap_or_default()
                .as_bytes();
            let before_ok = m.start() == 0
                || !token[0].is_ascii_alphanumeric()
                || !bytes[m.start() - 1].is_ascii_alphanumeric();
            let after_ok = m.end() == bytes.len()
                || !token[token.len() - 1].is_ascii_alphanumeric()
                || !bytes[m.end()].is_ascii_alphanumeric();
            if before_ok && after_ok {
                let key = (token.len(), std::cmp::Reverse(rule));
                if best.is_none_or(|b| key > b) {
                    best = Some(key);
                }
            }
        }
        if let Some((_, std::cmp::Reverse(rule))) = best {
            return Some(&self.rules[rule]);
        }
        if self.pattern_rules.is_empty() {
            return None;
        }
        self.patterns
            .matches(ua)
            .iter()
            .next()
            .map(|i| &self.rules[self.pattern_rules[i]])
    }
}

impl Classifier {
    /// The built-in table.
    pub fn builtin() -> Arc<Classifier> {
        BUILTIN_CLASSIFIER.clone()
    }

    /// The built-in table with `user`'s rules taking precedence. Compiles only the user's
    /// rules (the built-in table is compiled once per process, when first used).
    pub fn new(user: Option<&AgentsFile>) -> Result<Classifier, AgentsError> {
        let Some(file) = user.filter(|f| !f.agent.is_empty()) else {
            return Ok(Classifier {
                user: None,
                fingerprint: BUILTIN_FINGERPRINT[..16].to_owned(),
            });
        };
        let table = Table::compile(file)?;
        let mut hasher = blake3::Hasher::new();
        hasher.update(BUILTIN_FINGERPRINT.as_bytes());
        for r in &table.rules {
            hasher.update(
                format!(
                    "\n{:?}|{:?}|{}|{:?}",
                    r.rule.token, r.rule.pattern, r.rule.class, r.rule.operator
                )
                .as_bytes(),
            );
        }
        Ok(Classifier {
            user: Some(table),
            fingerprint: hasher.finalize().to_hex()[..16].to_owned(),
        })
    }

    /// Identifies the effective table (rules and heuristics): stored in the database, so a
    /// changed table re-classifies the stored user agents.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The number of rules (built-in plus user).
    pub fn len(&self) -> usize {
        self.rules().count()
    }

    /// Whether the table has no rule.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The effective rules in precedence order (the user's first), with whether each came
    /// from the user.
    pub fn rules(&self) -> impl Iterator<Item = (&AgentRule, bool)> {
        let user = self
            .user
            .iter()
            .flat_map(|t| t.rules.iter().map(|r| (&r.rule, true)));
        user.chain(BUILTIN_TABLE.rules.iter().map(|r| (&r.rule, false)))
    }

    /// Classifies one user agent as stored (any text; hostile bytes are only compared).
    pub fn classify<'a>(&'a self, user_agent: &str) -> Verdict<'a> {
        let ua = user_agent.trim();
        if ua.is_empty() || ua == "-" {
            return heuristic(Class::Unknown, "heuristic:empty");
        }
        let builtin: &'static Table = &BUILTIN_TABLE;
        if let Some(r) = self
            .user
            .as_ref()
            .and_then(|t| t.find(ua))
            .or_else(|| builtin.find(ua))
        {
            return Verdict {
                class: r.rule.class,
                operator: r.rule.operator.as_deref(),
                rule: &r.label,
            };
        }
        if BOT_SIGN.is_match(ua) {
            return heuristic(Class::Bot, "heuristic:bot-sign");
        }
        if looks_like_browser(ua) {
            return heuristic(Class::Browser, "heuristic:browser");
        }
        heuristic(Class::Unknown, "heuristic:none")
    }
}

fn heuristic(class: Class, rule: &'static str) -> Verdict<'static> {
    Verdict {
        class,
        operator: None,
        rule,
    }
}

/// `Mozilla/<v> (<platform>) <engine>`, or Opera's own prefix.
fn looks_like_browser(ua: &str) -> bool {
    let Some(rest) = ua
        .strip_prefix("Mozilla/")
        .or_else(|| ua.strip_prefix("Opera/"))
    else {
        return false;
    };
    rest.contains('(')
        && [
            "AppleWebKit/",
            "Gecko/",
            "Trident/",
            "Presto/",
            "MSIE ",
            "Gecko)",
        ]
        .iter()
        .any(|engine| rest.contains(engine))
}

/// What a path is, from the request target as stored.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PathKind {
    /// An HTML page (a directory, `.html`, or a last segment without extension).
    Page,
    /// Stylesheets, scripts, images, fonts, media.
    Asset,
    /// `/robots.txt`.
    Robots,
    /// `/llms.txt`, `/llms-full.txt`.
    Llms,
    /// A Markdown file (`.md`, `.markdown`).
    Markdown,
    /// RSS/Atom feeds.
    Feed,
    /// The JavaScript trap script (default `/trap.js`).
    Trap,
    /// The trap's beacon (default `/api/beacon`), stored without its query.
    Beacon,
    /// An exploit probe ([`crate::probe`]).
    Probe,
    /// Anything else (documents, archives, data files, non-HTTP requests, proxy probes).
    Other,
}

impl PathKind {
    /// Every kind, in the order of the documentation.
    pub const ALL: [PathKind; 10] = [
        PathKind::Page,
        PathKind::Asset,
        PathKind::Robots,
        PathKind::Llms,
        PathKind::Markdown,
        PathKind::Feed,
        PathKind::Trap,
        PathKind::Beacon,
        PathKind::Probe,
        PathKind::Other,
    ];

    /// The name stored in `paths.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            PathKind::Page => "page",
            PathKind::Asset => "asset",
            PathKind::Robots => "robots",
            PathKind::Llms => "llms",
            PathKind::Markdown => "markdown",
            PathKind::Feed => "feed",
            PathKind::Trap => "trap",
            PathKind::Beacon => "beacon",
            PathKind::Probe => "probe",
            PathKind::Other => "other",
        }
    }
}

impl std::fmt::Display for PathKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The site-specific paths of the JavaScript trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapPaths {
    /// The script pages include (default `/trap.js`).
    pub script: String,
    /// The beacon the script requests with a unique query (default `/api/beacon`); hits are
    /// stored under this path without the query.
    pub beacon: String,
}

impl Default for TrapPaths {
    fn default() -> Self {
        Self {
            script: "/trap.js".to_owned(),
            beacon: "/api/beacon".to_owned(),
        }
    }
}

/// Bumped whenever [`path_kind`]'s rules change, so stored kinds are recomputed.
const PATH_RULES_REVISION: u32 = 1;

impl TrapPaths {
    /// Trap paths from configuration: each must be an absolute path without query or
    /// fragment (`/trap.js`, `/api/beacon`), and the two must differ.
    pub fn new(script: &str, beacon: &str) -> Result<TrapPaths, String> {
        for (what, p) in [("trap script path", script), ("beacon path", beacon)] {
            if !p.starts_with('/')
                || p.contains(['?', '#'])
                || p.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(format!(
                    "{what} {p:?} must be an absolute path like \"/api/beacon\", without query, \
                     fragment, spaces or control characters"
                ));
            }
        }
        if script == beacon {
            return Err(format!(
                "trap script path and beacon path are both {script:?}; they must differ"
            ));
        }
        Ok(TrapPaths {
            script: script.to_owned(),
            beacon: beacon.to_owned(),
        })
    }

    /// Identifies the path-kind rules with these trap paths (stored in the database).
    pub fn fingerprint(&self) -> String {
        let text = format!(
            "rules {PATH_RULES_REVISION}\n{}\n{}",
            self.script, self.beacon
        );
        blake3::hash(text.as_bytes()).to_hex()[..16].to_owned()
    }
}

const ASSET_EXTENSIONS: &[&str] = &[
    "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp",
    "woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "m4a", "webm", "ogg", "oga", "ogv", "wav",
    "flac", "opus", "wasm", "apng", "jxl", "tif", "tiff",
];
const PAGE_EXTENSIONS: &[&str] = &["html", "htm", "xhtml", "shtml"];
const FEED_NAMES: &[&str] = &[
    "feed",
    "rss",
    "atom",
    "feed.xml",
    "rss.xml",
    "atom.xml",
    "index.xml",
    "feed.rss",
    "feed.atom",
    "index.rss",
    "rss2",
    "feed.json",
];

/// The kind of a stored request target (query string included; `trap` decides the trap and
/// beacon paths).
pub fn path_kind(path: &str, trap: &TrapPaths) -> PathKind {
    if !path.starts_with('/') {
        // `*`, absolute-form proxy requests, raw non-HTTP bytes.
        return PathKind::Other;
    }
    let bare = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    if bare == trap.beacon {
        return PathKind::Beacon;
    }
    if bare == trap.script {
        return PathKind::Trap;
    }
    let lower = bare.to_ascii_lowercase();
    match lower.as_str() {
        "/robots.txt" => return PathKind::Robots,
        "/llms.txt" | "/llms-full.txt" | "/.well-known/llms.txt" => return PathKind::Llms,
        _ => {}
    }
    if crate::probe::is_probe_path(path) {
        return PathKind::Probe;
    }
    let trimmed = lower.trim_end_matches('/');
    let last = trimmed.rsplit('/').next().unwrap_or_default();
    if FEED_NAMES.contains(&last) {
        return PathKind::Feed;
    }
    if lower.ends_with('/') {
        return PathKind::Page;
    }
    match last.rsplit_once('.') {
        None => PathKind::Page,
        Some((_, ext)) if ext == "md" || ext == "markdown" => PathKind::Markdown,
        Some((_, ext)) if ext == "rss" || ext == "atom" => PathKind::Feed,
        Some((_, ext)) if PAGE_EXTENSIONS.contains(&ext) => PathKind::Page,
        Some((_, ext)) if ASSET_EXTENSIONS.contains(&ext) => PathKind::Asset,
        Some(_) => PathKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ua: &str) -> (Class, Option<String>) {
        let c = Classifier::builtin();
        let v = c.classify(ua);
        (v.class, v.operator.map(str::to_owned))
    }

    #[test]
    fn builtin_table_compiles_and_every_class_name_round_trips() {
        assert!(Classifier::builtin().len() > 50);
        for c in Class::ALL {
            assert_eq!(c.as_str().parse::<Class>(), Ok(c));
        }
    }

    #[test]
    fn path_kinds() {
        let t = TrapPaths::default();
        for (path, kind) in [
            ("/", PathKind::Page),
            ("/blog/post/", PathKind::Page),
            ("/about", PathKind::Page),
            ("/index.html?x=1", PathKind::Page),
            ("/style.css", PathKind::Asset),
            ("/img/Logo.PNG", PathKind::Asset),
            ("/robots.txt", PathKind::Robots),
            ("/llms.txt", PathKind::Llms),
            ("/posts/hello.md", PathKind::Markdown),
            ("/feed.xml", PathKind::Feed),
            ("/blog/rss/", PathKind::Feed),
            ("/trap.js", PathKind::Trap),
            ("/api/beacon", PathKind::Beacon),
            ("/api/beacon?n=1f3a", PathKind::Beacon),
            ("/wp-login.php", PathKind::Probe),
            ("/.env", PathKind::Probe),
            ("/cv.pdf", PathKind::Other),
            ("\\x16\\x03\\x01", PathKind::Other),
            ("http://example.com/", PathKind::Other),
        ] {
            assert_eq!(path_kind(path, &t), kind, "{path}");
        }
        let custom = TrapPaths {
            script: "/t.js".into(),
            beacon: "/b".into(),
        };
        assert_eq!(path_kind("/b?z", &custom), PathKind::Beacon);
        assert_eq!(path_kind("/trap.js", &custom), PathKind::Asset);
        assert_ne!(custom.fingerprint(), t.fingerprint());
        assert_eq!(TrapPaths::new("/trap.js", "/api/beacon"), Ok(t));
        assert!(TrapPaths::new("trap.js", "/b").is_err());
        assert!(TrapPaths::new("/t.js", "/b?x").is_err());
        assert!(TrapPaths::new("/same", "/same").is_err());
    }

    #[test]
    fn the_longest_token_wins_applebot_extended_over_applebot() {
        let apple = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)";
        assert_eq!(class(apple), (Class::Search, Some("Apple".into())));
        assert_eq!(
            class("Applebot-Extended/1.0"),
            (Class::AiCrawler, Some("Apple".into()))
        );
        // Case does not matter; a token inside a longer word does not match.
        assert_eq!(class("applebot/0.3").0, Class::Search);
        assert_ne!(class("NotApplebotX/1.0").0, Class::Search);
    }

    #[test]
    fn chatgpt_user_is_an_assistant_and_gptbot_a_crawler() {
        let user = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot";
        let crawler = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
        assert_eq!(class(user), (Class::AiAssistant, Some("OpenAI".into())));
        assert_eq!(class(crawler), (Class::AiCrawler, Some("OpenAI".into())));
        assert_eq!(
            class("Mozilla/5.0 (compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot)").0,
            Class::AiCrawler
        );
    }

    #[test]
    fn googlebot_smartphone_is_search_despite_mobile_safari() {
        let ua = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.204 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        assert_eq!(class(ua), (Class::Search, Some("Google".into())));
        let phone = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(class(phone), (Class::Browser, None));
    }

    #[test]
    fn scripts_scanners_and_self_declared_bots() {
        assert_eq!(class("curl/8.5.0").0, Class::Script);
        assert_eq!(class("python-requests/2.32.3").0, Class::Script);
        assert_eq!(class("Go-http-client/1.1").0, Class::Script);
        assert_eq!(class("Mozilla/5.0 zgrab/0.x").0, Class::Scanner);
        assert_eq!(
            class(
                "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"
            )
            .0,
            Class::Scanner
        );
        assert_eq!(class("FooCrawler/2.0").0, Class::Bot);
        assert_eq!(
            class("Mozilla/5.0 (compatible; Exemplar/1.0; +https://example.org/about)").0,
            Class::Bot
        );
        assert_eq!(class("facebookexternalhit/1.1").0, Class::Social);
        assert_eq!(
            class("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"),
            (Class::Seo, Some("Ahrefs".into()))
        );
    }

    #[test]
    fn hostile_bytes_never_panic_and_never_look_like_a_browser() {
        let c = Classifier::builtin();
        for ua in [
            "\u{1b}]0;GPTBot\u{7}",
            "Mozilla/5.0 (\u{202e}X11) Gecko/\u{0}",
            "\\xFF\\xFE\\x00 ClaudeBot",
            &"\u{10ffff}".repeat(5000),
            &"a".repeat(100_000),
            "G\u{0}PTBot",
        ] {
            let v = c.classify(ua);
            assert!(Class::ALL.contains(&v.class));
        }
        // A token next to control characters still counts (boundaries are non-alphanumeric).
        assert_eq!(c.classify("\u{1b}]0;GPTBot\u{7}").class, Class::AiCrawler);
        assert_eq!(c.classify("G\u{0}PTBot").class, Class::Bot);
    }

    #[test]
    fn user_rules_take_precedence_and_change_the_fingerprint() {
        let file: AgentsFile = toml::from_str(
            r#"agent = [
                { token = "GPTBot", class = "bot", operator = "Someone", note = "disagree" },
                { pattern = "^Intranet-Probe/", class = "monitor", note = "ours" },
            ]"#,
        )
        .expect("parse");
        let c = Classifier::new(Some(&file)).expect("compile");
        assert_eq!(c.classify("GPTBot/1.2").class, Class::Bot);
        assert_eq!(c.classify("GPTBot/1.2").operator, Some("Someone"));
        assert_eq!(c.classify("Intranet-Probe/1 (curl)").class, Class::Monitor);
        assert_eq!(
            c.classify("Intranet-Probe/1 (curl)").rule,
            "re:^Intranet-Probe/"
        );
        assert_eq!(c.classify("ClaudeBot/1.0").class, Class::AiCrawler);
        assert_ne!(c.fingerprint(), Classifier::builtin().fingerprint());
        assert_eq!(
            Classifier::new(None).expect("compile").fingerprint(),
            Classifier::builtin().fingerprint()
        );
    }

    #[test]
    fn bad_user_rules_are_refused_with_their_number() {
        for (text, needle) in [
            (
                r#"agent = [{ class = "bot" }]"#,
                "rule 1: needs a `token` or a `pattern`",
            ),
            (
                r#"agent = [{ token = "a", class = "bot" }, { token = "x", pattern = "y", class = "bot" }]"#,
                "rule 2: has both",
            ),
            (
                r#"agent = [{ pattern = "(", class = "bot" }]"#,
                "rule 1: pattern",
            ),
        ] {
            let file: AgentsFile = toml::from_str(text).expect("parse");
            let err = Classifier::new(Some(&file)).expect_err(text).to_string();
            assert!(err.contains(needle), "{err}");
        }
        assert!(
            toml::from_str::<AgentsFile>(r#"agent = [{ token = "a", class = "robot" }]"#).is_err()
        );
        assert!(
            toml::from_str::<AgentsFile>(r#"agent = [{ token = "a", class = "bot", colour = 1 }]"#)
                .is_err()
        );
    }

    #[test]
    fn empty_dash_and_garbage_are_unknown() {
        for ua in ["", "-", "  ", "\u{1b}[2J\u{7}", "\\x00\\xFF", "a"] {
            assert_eq!(class(ua).0, Class::Unknown, "{ua:?}");
        }
    }
}

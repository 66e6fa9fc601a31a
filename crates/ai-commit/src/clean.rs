//! Turning a model's answer into a commit message, or deciding it is unusable.
//!
//! Models wrap messages in reasoning blocks, code fences, quotes, Markdown, "Here is the
//! commit message:" and closing remarks; all of that is removed. The subject is kept to 72
//! characters (the rest moves to the body), the body is wrapped at 72 columns by this code,
//! not by the model.

use honeybot_llm::{extract_json, strip_think};
use serde_json::Value;

/// Hard limit of the subject line.
pub const SUBJECT_MAX: usize = 72;
/// Column the body is wrapped at.
pub const BODY_WIDTH: usize = 72;

/// A commit message: subject, and a body that may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitMessage {
    pub subject: String,
    pub body: String,
}

impl std::fmt::Display for CommitMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.body.is_empty() {
            writeln!(f, "{}", self.subject)
        } else {
            write!(f, "{}\n\n{}\n", self.subject, self.body)
        }
    }
}

/// Lines that introduce the message rather than belong to it.
const PREAMBLE_STARTS: &[&str] = &[
    "here is",
    "here's",
    "here are",
    "sure",
    "certainly",
    "okay",
    "ok,",
    "below is",
    "the commit message",
    "a commit message",
    "suggested commit message",
    "this is the commit message",
];
/// Labels put before the subject or body.
const LABELS: &[&str] = &[
    "commit message:",
    "commit:",
    "subject:",
    "title:",
    "summary:",
    "message:",
    "body:",
    "description:",
];
/// Paragraphs that start the model's remarks after the message.
const EPILOGUE_STARTS: &[&str] = &[
    "this commit message",
    "this message",
    "the commit message above",
    "the above",
    "note:",
    "notes:",
    "explanation:",
    "i hope",
    "hope this",
    "let me know",
    "feel free",
    "i've ",
    "i have ",
    "i chose",
    "this follows",
    "this format",
    "in this commit message",
];

/// Cleans a model answer. `None` when nothing usable is left.
#[must_use]
pub fn clean(answer: &str) -> Option<CommitMessage> {
    let answer = strip_think(answer);
    let (subject_raw, body_raw) = match extract_json(&answer).as_ref().and_then(from_json) {
        Some(parts) => parts,
        None => {
            let text = unfence(&sanitize(&answer));
            if text.trim_start().starts_with('{') {
                // JSON cut off (answer token limit) or broken: keep the subject if it is whole.
                (salvage_subject(&text)?, String::new())
            } else {
                split_text(&text)?
            }
        }
    };
    finish(&sanitize(&subject_raw), &sanitize(&body_raw))
}

/// The complete `"subject": "..."` string of a broken JSON answer.
fn salvage_subject(text: &str) -> Option<String> {
    let after = &text[text.find("\"subject\"")? + "\"subject\"".len()..];
    let after = after.trim_start().strip_prefix(':')?.trim_start();
    if !after.starts_with('"') {
        return None;
    }
    let bytes = after.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return serde_json::from_str::<String>(&after[..=i]).ok(),
            _ => i += 1,
        }
    }
    None
}

/// Makes the subject a Conventional Commits one (`type(scope)!: text`), prefixing `ty`
/// (such as `"chore: "`) when the model did not write a type.
pub fn ensure_conventional(message: &mut CommitMessage, ty: &str) {
    if is_conventional(&message.subject) {
        return;
    }
    let mut chars = message.subject.chars();
    let first = chars
        .next()
        .map(|c| c.to_lowercase().collect::<String>())
        .unwrap_or_default();
    let subject = format!("{ty}{first}{}", chars.as_str());
    if subject.chars().count() > SUBJECT_MAX {
        let (head, tail) = split_at_word(&subject, SUBJECT_MAX);
        message.body = if message.body.is_empty() {
            wrap_body(&tail)
        } else {
            format!("{}\n\n{}", wrap_body(&tail), message.body)
        };
        message.subject = head;
    } else {
        message.subject = subject;
    }
}

fn is_conventional(subject: &str) -> bool {
    let Some((head, rest)) = subject.split_once(": ") else {
        return false;
    };
    let head = head.strip_suffix('!').unwrap_or(head);
    let ty = match head.split_once('(') {
        Some((ty, scope)) => {
            if !scope.ends_with(')') || scope.len() < 2 {
                return false;
            }
            ty
        }
        None => head,
    };
    !ty.is_empty() && ty.chars().all(|c| c.is_ascii_lowercase()) && !rest.trim().is_empty()
}

/// `{"subject": ..., "body": ...}` (body may be a string or a list of lines).
fn from_json(v: &Value) -> Option<(String, String)> {
    let subject = v
        .get("subject")
        .or_else(|| v.get("title"))?
        .as_str()?
        .to_owned();
    let body = match v.get("body").or_else(|| v.get("description")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| format!("- {}", s.trim_start_matches(['-', '*', ' '])))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    Some((subject, body))
}

/// Control characters and ANSI escapes out (tabs become spaces, newlines stay).
fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI sequences: ESC [ ... final byte in @..~
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for n in chars.by_ref() {
                        if ('@'..='~').contains(&n) {
                            break;
                        }
                    }
                }
            }
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            '\r' => {}
            c if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}') =>
                {}
            c => out.push(c),
        }
    }
    out
}

/// The content of the first fenced block when the answer has one, else the answer without
/// stray fence lines.
fn unfence(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let fence = |l: &&str| l.trim_start().starts_with("```") || l.trim_start().starts_with("~~~");
    if let Some(open) = lines.iter().position(fence) {
        if let Some(len) = lines[open + 1..].iter().position(fence) {
            let inner = &lines[open + 1..open + 1 + len];
            if inner.iter().any(|l| !l.trim().is_empty()) {
                return inner.join("\n");
            }
        }
    }
    lines
        .into_iter()
        .filter(|l| !fence(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Subject and body from plain text: preamble lines skipped, the first real line is the
/// subject, the rest the body up to closing remarks.
fn split_text(s: &str) -> Option<(String, String)> {
    let mut lines = s.lines().skip_while(|l| {
        let t = l.trim();
        t.is_empty() || is_preamble(t)
    });
    let subject = lines.next()?.to_owned();
    let mut body = Vec::new();
    let mut paragraph_start = true;
    for line in lines {
        let t = line.trim();
        if paragraph_start && starts_with_any(t, EPILOGUE_STARTS) {
            break;
        }
        if t == "---" || t == "***" {
            break;
        }
        paragraph_start = t.is_empty();
        body.push(line.trim_end());
    }
    Some((subject, body.join("\n")))
}

fn starts_with_any(t: &str, list: &[&str]) -> bool {
    let low = t.to_lowercase();
    list.iter().any(|p| low.starts_with(p))
}

fn is_preamble(t: &str) -> bool {
    let low = t.to_lowercase();
    (starts_with_any(t, PREAMBLE_STARTS) && (low.ends_with(':') || low.contains("commit message")))
        || LABELS
            .iter()
            .any(|l| low == *l || low == l.trim_end_matches(':'))
}

/// Removes decoration around a line: Markdown heading and emphasis marks, labels, quotes.
fn strip_decoration(line: &str) -> String {
    let mut t = line.trim().trim_start_matches('#').trim().to_owned();
    loop {
        let before = t.clone();
        for label in LABELS {
            if t.len() >= label.len()
                && t.is_char_boundary(label.len())
                && t[..label.len()].eq_ignore_ascii_case(label)
            {
                t = t[label.len()..].trim().to_owned();
            }
        }
        for (open, close) in [
            ("**", "**"),
            ("__", "__"),
            ("\"", "\""),
            ("'", "'"),
            ("`", "`"),
            ("“", "”"),
            ("‘", "’"),
        ] {
            if t.len() >= open.len() + close.len() && t.starts_with(open) && t.ends_with(close) {
                t = t[open.len()..t.len() - close.len()].trim().to_owned();
            }
        }
        if t == before {
            return t;
        }
    }
}

fn finish(subject_raw: &str, body_raw: &str) -> Option<CommitMessage> {
    // The subject is one line: a multi-line "subject" continues into the body.
    let mut sub_lines = subject_raw.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = sub_lines.next()?;
    let mut spill: Vec<String> = sub_lines.map(str::to_owned).collect();
    let mut subject = strip_decoration(first);
    subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    while subject.ends_with('.') && !subject.ends_with("..") {
        subject.pop();
    }
    if !subject.chars().any(char::is_alphanumeric) {
        return None;
    }
    if subject.chars().count() > SUBJECT_MAX {
        let (head, tail) = split_at_word(&subject, SUBJECT_MAX);
        spill.insert(0, tail);
        subject = head;
    }
    let mut body_text = spill.join("\n");
    let body_raw = strip_decoration_block(body_raw);
    if !body_raw.trim().is_empty() {
        if !body_text.is_empty() {
            body_text.push_str("\n\n");
        }
        body_text.push_str(&body_raw);
    }
    Some(CommitMessage {
        subject,
        body: wrap_body(&body_text),
    })
}

/// Body lines without fences, a leading "Body:" label or emphasis marks.
fn strip_decoration_block(body: &str) -> String {
    let body = unfence(body);
    let mut lines: Vec<String> = body.lines().map(|l| l.replace("**", "")).collect();
    if let Some(first) = lines.iter_mut().find(|l| !l.trim().is_empty()) {
        let t = first.trim().to_owned();
        for label in ["body:", "description:"] {
            if t.len() >= label.len()
                && t.is_char_boundary(label.len())
                && t[..label.len()].eq_ignore_ascii_case(label)
            {
                *first = t[label.len()..].trim().to_owned();
            }
        }
    }
    lines.join("\n")
}

/// Splits at the last space at or before `max` characters (or at `max` when there is none).
fn split_at_word(s: &str, max: usize) -> (String, String) {
    let cut_byte = s.char_indices().nth(max).map_or(s.len(), |(i, _)| i);
    let head = &s[..cut_byte];
    match head.rfind(' ') {
        Some(sp) if sp > max / 2 => (s[..sp].trim_end().to_owned(), s[sp..].trim().to_owned()),
        _ => (head.to_owned(), s[cut_byte..].trim().to_owned()),
    }
}

/// Paragraphs rewrapped at [`BODY_WIDTH`]; list items keep their marker and get a hanging
/// indent; runs of blank lines collapse to one.
fn wrap_body(body: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |paragraph: &mut Vec<&str>, out: &mut Vec<String>| {
        if !paragraph.is_empty() {
            let text = paragraph.join(" ");
            out.extend(
                textwrap::wrap(&text, BODY_WIDTH)
                    .into_iter()
                    .map(|c| c.into_owned()),
            );
            paragraph.clear();
        }
    };
    for raw in body.lines() {
        let line = raw.trim_end();
        let t = line.trim_start();
        if t.is_empty() {
            flush(&mut paragraph, &mut out);
            if out.last().is_some_and(|l| !l.is_empty()) {
                out.push(String::new());
            }
            continue;
        }
        if let Some(marker) = list_marker(t) {
            flush(&mut paragraph, &mut out);
            let indent = " ".repeat(marker.chars().count());
            let opts = textwrap::Options::new(BODY_WIDTH).subsequent_indent(&indent);
            out.extend(textwrap::wrap(t, opts).into_iter().map(|c| c.into_owned()));
            continue;
        }
        paragraph.push(t);
    }
    flush(&mut paragraph, &mut out);
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out.join("\n")
}

/// "- ", "* ", "1. " and the like at the start of a line.
fn list_marker(t: &str) -> Option<&str> {
    for m in ["- ", "* ", "+ ", "• "] {
        if t.starts_with(m) {
            return Some(m);
        }
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 && t[digits..].starts_with(". ") {
        return Some(&t[..digits + 2]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> String {
        clean(s).map_or_else(|| "<unusable>".to_owned(), |m| m.to_string())
    }

    #[test]
    fn plain_message_is_kept() {
        assert_eq!(
            msg("Fix off-by-one in parser\n\nThe last line was skipped."),
            "Fix off-by-one in parser\n\nThe last line was skipped.\n"
        );
    }

    #[test]
    fn decorations_are_removed() {
        let want = "Add retry to uploader\n";
        for answer in [
            "<think>The diff adds a retry loop.</think>\nAdd retry to uploader",
            "```\nAdd retry to uploader\n```",
            "```text\nAdd retry to uploader.\n```\nThis message follows conventions.",
            "\"Add retry to uploader\"",
            "`Add retry to uploader`",
            "**Add retry to uploader**",
            "Commit message: Add retry to uploader",
            "Here is the commit message:\n\nAdd retry to uploader",
            "Sure! Here's a commit message for your changes:\nSubject: Add retry to uploader",
            "## Add retry to uploader",
            "{\"subject\": \"Add retry to uploader\", \"body\": \"\"}",
            "```json\n{\"subject\": \"Add retry to uploader.\", \"body\": \"\"}\n```",
            "Add retry to uploader\n\nThis commit message uses the imperative mood.",
            "Add retry to uploader\x1b[31m\u{202e}",
        ] {
            assert_eq!(msg(answer), want, "answer: {answer:?}");
        }
    }

    #[test]
    fn trailing_prose_is_cut_but_the_body_stays() {
        let answer = "Fix cache eviction\n\nEntries were evicted before their TTL.\n\nNote: I kept the subject short.";
        assert_eq!(
            msg(answer),
            "Fix cache eviction\n\nEntries were evicted before their TTL.\n"
        );
    }

    #[test]
    fn unusable_answers() {
        for answer in [
            "",
            "   ",
            "<think>only thinking</think>",
            "```\n```",
            "\"\"",
            "...",
            "{\"subject\": \"\", \"body\": \"x\"}",
            "<think>never closed",
        ] {
            assert_eq!(clean(answer), None, "answer: {answer:?}");
        }
    }

    #[test]
    fn long_subject_is_cut_at_a_word_and_the_rest_moves_to_the_body() {
        let long = "Refactor the configuration loader so that environment variables override the file values consistently";
        let m = clean(long).expect("usable");
        assert!(m.subject.chars().count() <= SUBJECT_MAX, "{}", m.subject);
        assert!(!m.subject.ends_with(' '));
        assert_eq!(format!("{} {}", m.subject, m.body), long);
    }

    #[test]
    fn body_is_wrapped_at_72_with_lists_kept() {
        let body = "This change reworks how the ingest loop handles rotated files so that no line is ever counted twice after a restart.\n- first item that is also quite long and needs to wrap onto a second line of text\n- second";
        let m = clean(&serde_json::json!({"subject": "Rework rotation", "body": body}).to_string())
            .expect("usable");
        assert!(
            m.body.lines().all(|l| l.chars().count() <= BODY_WIDTH),
            "{}",
            m.body
        );
        assert!(m.body.contains("\n- first item"));
        assert!(m.body.contains("\n  "), "hanging indent: {}", m.body);
        assert!(m.body.ends_with("- second"));
    }

    #[test]
    fn truncated_json_keeps_a_whole_subject() {
        assert_eq!(
            msg("{\"subject\": \"Add \\\"quoted\\\" cache\", \"body\": \"The cache now kee"),
            "Add \"quoted\" cache\n"
        );
        assert_eq!(clean("{\"subject\": \"Add ca"), None);
    }

    #[test]
    fn conventional_is_enforced() {
        let mut m = CommitMessage {
            subject: "Add retry".into(),
            body: String::new(),
        };
        ensure_conventional(&mut m, "chore: ");
        assert_eq!(m.subject, "chore: add retry");
        for ok in [
            "fix(parser): handle CRLF",
            "feat!: drop v1 API",
            "docs: typo",
        ] {
            let mut m = CommitMessage {
                subject: ok.into(),
                body: String::new(),
            };
            ensure_conventional(&mut m, "chore: ");
            assert_eq!(m.subject, ok);
        }
    }

    #[test]
    fn json_body_as_list() {
        let m = clean(r#"{"subject":"Add docs","body":["explain config","- list env vars"]}"#)
            .expect("usable");
        assert_eq!(m.body, "- explain config\n- list env vars");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        // Whatever a model (or something pretending to be one) answers: no panic, and a
        // usable message always has the promised shape.
        #[test]
        fn any_answer_gives_a_well_formed_message_or_none(answer in "(\\PC|[\\n\\t`\"<>{}*#:])*") {
            if let Some(m) = clean(&answer) {
                prop_assert!(!m.subject.is_empty());
                prop_assert!(m.subject.chars().count() <= SUBJECT_MAX);
                prop_assert!(!m.subject.contains('\n'));
                prop_assert!(m.body.lines().all(|l| l.chars().count() <= BODY_WIDTH), "{:?}", m.body);
                let text = m.to_string();
                prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
                prop_assert!(!text.contains("<think>"));
            }
        }
    }
}

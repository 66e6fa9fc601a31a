//! The last check before a model's answer becomes a commit message: it must not be an error
//! text or a refusal that a server or model sent as if it were an answer, and it must be about
//! the change (share a meaningful word with it).

use std::collections::HashSet;

use crate::clean::CommitMessage;
use crate::diff::FileDiff;

/// Why an answer was turned down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Looks like an error text ("Error: model … not found", "Internal Server Error").
    ErrorText,
    /// Looks like a refusal ("I'm sorry, but I cannot help…").
    Refusal,
    /// Shares no meaningful word with the change.
    Unrelated,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rejection::ErrorText => "looks like an error text, not a commit message",
            Rejection::Refusal => "is a refusal, not a commit message",
            Rejection::Unrelated => "shares no word with the change (file names, added lines)",
        })
    }
}

/// Starts of error texts servers and proxies put where an answer belongs.
const ERROR_STARTS: &[&str] = &[
    "error:",
    "fatal:",
    "exception:",
    "traceback (most recent call last)",
    "http error",
    "http/1.",
];

/// HTTP reason phrases: an error when they are the whole subject (after a status code).
const ERROR_WHOLE: &[&str] = &[
    "internal server error",
    "bad gateway",
    "service unavailable",
    "gateway timeout",
    "bad request",
    "not found",
    "forbidden",
    "unauthorized",
    "too many requests",
];

/// Phrases of error texts anywhere in the subject.
const ERROR_PHRASES: &[&str] = &[
    "try pulling it first",
    "internal server error",
    "model not found",
    "out of memory",
    "context length exceeded",
    "rate limit exceeded",
];

/// Starts of refusals and assistant chatter that is not a message.
const REFUSAL_STARTS: &[&str] = &[
    "i'm sorry",
    "i am sorry",
    "im sorry",
    "sorry,",
    "sorry but",
    "sorry i",
    "i cannot",
    "i can't",
    "i can not",
    "i'm unable",
    "i am unable",
    "i won't",
    "i will not",
    "as an ai",
    "as a language model",
    "unfortunately, i",
    "unfortunately i",
];

/// Words too common to show that a message is about this change: function words, and the
/// words of an answer that describes itself instead of the change ("This is a JSON object").
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "this", "that", "from", "into", "onto", "are", "was", "were",
    "has", "have", "had", "not", "but", "its", "you", "your", "our", "all", "any", "some", "here",
    "there", "then", "than", "also", "via", "per", "can", "will", "should", "would", "could",
    "may", "might", "must", "does", "did", "what", "when", "which", "who", "how", "why", "file",
    "files", "code", "commit", "message", "messages", "json", "object", "text", "string", "answer",
    "model", "diff", "change", "changes", "git", "chore", "feat", "docs", "refactor", "style",
    "perf", "misc", "minor", "various", "stuff",
];

/// Checks `message` against the change; `Err` says why it must not be used.
pub fn check(message: &CommitMessage, files: &[FileDiff]) -> Result<(), Rejection> {
    let subject = message.subject.trim().to_lowercase();
    let subject = subject
        .split_once(": ")
        .filter(|(t, _)| t.len() <= 12 && !t.contains(' ') && !t.starts_with("error"))
        .map_or(subject.as_str(), |(_, rest)| rest)
        .trim_start();
    // The conventional prefix is ours ("chore: "), not the model's words; an error text
    // keeps its "error:".
    let whole = format!("{subject}\n{}", message.body.to_lowercase());
    let plain = whole.replace('’', "'");
    if REFUSAL_STARTS.iter().any(|s| plain.starts_with(s)) {
        return Err(Rejection::Refusal);
    }
    let first_line = plain.lines().next().unwrap_or_default();
    let reason = first_line
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ')
        .trim_end_matches(['.', '!']);
    if ERROR_STARTS.iter().any(|s| plain.starts_with(s))
        || ERROR_WHOLE.contains(&reason)
        || ERROR_PHRASES.iter().any(|p| plain.contains(p))
    {
        return Err(Rejection::ErrorText);
    }
    let change = change_tokens(files);
    if change.is_empty() {
        return Ok(()); // nothing to compare with (e.g. only binary files without names)
    }
    let original = format!("{}\n{}", message.subject, message.body);
    if tokens(&original).any(|t| change.contains(&t)) {
        Ok(())
    } else {
        Err(Rejection::Unrelated)
    }
}

/// Meaningful lower-case words of `text`: runs of letters and digits (identifiers are split at
/// `_`, `-`, `.`, `/` and case changes, and kept whole too), at least three characters, not a
/// stop word.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .flat_map(|w| {
            let mut out = vec![w.to_lowercase()];
            out.extend(w.split('_').flat_map(split_case).map(|p| p.to_lowercase()));
            out
        })
        .filter(|t| t.chars().count() >= 3 && !t.chars().all(|c| c.is_ascii_digit()))
        .filter(|t| !STOPWORDS.contains(&t.as_str()))
        .map(|t| stem(&t).to_owned())
}

/// A crude plural stem, the same on both sides: `values` → `value`, `classes` → `class`.
fn stem(t: &str) -> &str {
    if t.len() > 4 && t.ends_with("es") && (t.ends_with("sses") || t.ends_with("xes")) {
        &t[..t.len() - 2]
    } else if t.len() > 3 && t.ends_with('s') && !t.ends_with("ss") {
        &t[..t.len() - 1]
    } else {
        t
    }
}

/// `parseConfig` → `parse`, `Config`.
fn split_case(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    for w in chars.windows(2) {
        let ((_, a), (i, b)) = (w[0], w[1]);
        if a.is_lowercase() && b.is_uppercase() {
            parts.push(&word[start..i]);
            start = i;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// Words of the change: every path component and file stem, and the words of added and
/// removed lines.
fn change_tokens(files: &[FileDiff]) -> HashSet<String> {
    let mut set = HashSet::new();
    for f in files {
        for p in std::iter::once(&f.path).chain(f.old_path.iter()) {
            set.extend(tokens(p));
        }
        for line in f.hunks.lines() {
            if let Some(l) = line.strip_prefix('+').or_else(|| line.strip_prefix('-')) {
                set.extend(tokens(l));
            }
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff;

    fn msg(subject: &str, body: &str) -> CommitMessage {
        CommitMessage {
            subject: subject.into(),
            body: body.into(),
        }
    }

    const DIFF: &str = "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n # Project\n+Install with cargo.\ndiff --git a/src/main.rs b/src/main.rs\n--- a/src/main.rs\n+++ b/src/main.rs\n@@ -1 +1 @@\n-fn main() {}\n+fn main() { run_server(); }\n";

    #[test]
    fn errors_refusals_and_unrelated_answers_are_rejected() {
        let files = diff::parse(DIFF, &[]);
        for (subject, want) in [
            (
                "Error: model 'gemma3:4b' not found, try pulling it first",
                Rejection::ErrorText,
            ),
            ("Internal Server Error", Rejection::ErrorText),
            ("502 Bad Gateway", Rejection::ErrorText),
            ("I'm sorry, but I cannot help with that", Rejection::Refusal),
            ("I’m sorry, I can't do that", Rejection::Refusal),
            ("This is a JSON object", Rejection::Unrelated),
            ("Update the code", Rejection::Unrelated),
            ("Refactor the module", Rejection::Unrelated),
        ] {
            assert_eq!(check(&msg(subject, ""), &files), Err(want), "{subject}");
        }
        for ok in [
            "Document installation in README",
            "Start the server from main",
            "chore: run the server on start",
            "Call runServer at start-up",
            "Error handling for the server in main",
            "Not found pages point to the README",
        ] {
            assert_eq!(check(&msg(ok, ""), &files), Ok(()), "{ok}");
        }
    }
}

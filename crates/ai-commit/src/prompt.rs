//! The prompt: instructions, a file summary and as much of the diff as fits the context.
//!
//! Ollama silently drops the *beginning* of a prompt longer than `num_ctx`, which removes the
//! instructions and leaves the model continuing a diff. So the whole prompt is sized to fit:
//! tokens are estimated pessimistically from characters, the answer's tokens are reserved,
//! and each file gets a fair share of what remains (small files whole, big ones cut, with a
//! note saying how much was left out). Lockfiles, generated and binary files are listed by
//! name with their line counts, never shown.

use std::fmt::Write as _;

use honeybot_llm::Message;
use serde_json::{Value, json};

use crate::diff::FileDiff;

/// Characters per token assumed when sizing. Real tokenizers average 3.5–4 on code and
/// English; 3 errs on the side of a shorter prompt.
pub const CHARS_PER_TOKEN: usize = 3;
/// Tokens kept free besides the answer: chat-template overhead and estimation error.
const SAFETY_TOKENS: usize = 256;
/// A file whose share is below this many characters is listed but not shown.
const MIN_FILE_CHARS: usize = 200;
/// Longest diff line shown (minified files have megabyte lines).
const MAX_LINE_CHARS: usize = 400;
/// At most this many files are listed one by one in the summary.
const MAX_SUMMARY_FILES: usize = 150;
/// Longest note listing the files whose diff was shortened.
const MAX_NOTE_CHARS: usize = 600;

/// What the model is asked to write.
#[derive(Debug, Clone)]
pub struct Style {
    pub conventional: bool,
    pub lang: String,
    /// Ask for JSON `{"subject", "body"}` (with a schema) instead of plain text.
    pub structured: bool,
}

/// A prompt and what it left out.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub messages: Vec<Message>,
    /// Files whose diff was cut or left out for size.
    pub shortened: Vec<String>,
    /// Total characters of all messages.
    pub chars: usize,
}

/// The JSON schema of a structured answer.
#[must_use]
pub fn answer_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "subject": {"type": "string"},
            "body": {"type": "string"}
        },
        "required": ["subject", "body"],
        "additionalProperties": false
    })
}

fn system_prompt(style: &Style) -> String {
    let mut s = String::from(
        "You write git commit messages from diffs.\n\
         Rules:\n\
         - Subject: imperative mood (\"Add\", \"Fix\", \"Remove\", not \"Added\"), at most 50 characters, no trailing period.\n",
    );
    if style.conventional {
        s.push_str(
            "- The subject follows Conventional Commits: a type (feat, fix, docs, style, refactor, perf, test, build, ci, chore, revert), an optional scope in parentheses, a colon and a space, e.g. \"fix(parser): handle empty lines\".\n",
        );
    }
    s.push_str(
        "- Body: what changed and why, in plain text (no Markdown, no code blocks); may be empty for a small change.\n\
         - Describe only what the diff shows. Files listed as not shown changed too; mention them only if they matter.\n",
    );
    let _ = writeln!(s, "- Write in {}.", style.lang);
    if style.structured {
        s.push_str("Answer with a JSON object only: {\"subject\": \"...\", \"body\": \"...\"}.\n");
    } else {
        s.push_str("Answer with the commit message only: the subject line, a blank line, the body. No introduction, no quotes, no explanation after it.\n");
    }
    s
}

fn closing(style: &Style) -> &'static str {
    if style.structured {
        "Write the commit message for this change now, as the JSON object."
    } else {
        "Write the commit message for this change now."
    }
}

/// Builds the prompt so that it fits `num_ctx` with `max_tokens` left for the answer.
#[must_use]
pub fn build(files: &[FileDiff], style: &Style, num_ctx: u32, max_tokens: u32) -> Prompt {
    let budget_tokens = (num_ctx as usize)
        .saturating_sub(max_tokens as usize)
        .saturating_sub(SAFETY_TOKENS);
    let budget = budget_tokens * CHARS_PER_TOKEN;
    let system = system_prompt(style);
    let end = closing(style);

    // The summary may use at most half of the budget.
    let mut listed = files.len().min(MAX_SUMMARY_FILES);
    let mut summary = summary_of(files, listed);
    while summary.len() > budget / 2 && listed > 0 {
        listed /= 2;
        summary = summary_of(files, listed);
    }

    let fixed = system.len() + summary.len() + end.len() + MAX_NOTE_CHARS + 64;
    let diff_budget = budget.saturating_sub(fixed);
    let shown: Vec<&FileDiff> = files
        .iter()
        .filter(|f| f.excluded.is_none() && !f.hunks.is_empty())
        .collect();
    let sizes: Vec<usize> = shown.iter().map(|f| section_len(f)).collect();
    let shares = fair_shares(&sizes, diff_budget);

    let mut body = String::with_capacity(diff_budget.min(1 << 20));
    let mut shortened = Vec::new();
    for ((f, size), share) in shown.iter().zip(&sizes).zip(&shares) {
        if *share < MIN_FILE_CHARS.min(*size) {
            shortened.push(f.path.clone());
            continue;
        }
        if render_section(f, *share, &mut body) {
            shortened.push(f.path.clone());
        }
    }

    let mut user = summary;
    if !shortened.is_empty() {
        user.push_str(&shortened_note(&shortened));
    }
    user.push_str("\nDiff:\n");
    user.push_str(&body);
    user.push('\n');
    user.push_str(end);
    let chars = system.len() + user.len();
    Prompt {
        messages: vec![Message::system(system), Message::user(user)],
        shortened,
        chars,
    }
}

/// "Diff shortened to fit: a, b and 7 more files", at most [`MAX_NOTE_CHARS`].
fn shortened_note(paths: &[String]) -> String {
    let mut note = String::from("Diff shortened to fit (cut or left out): ");
    for (i, p) in paths.iter().enumerate() {
        let more = format!(" and {} more files", paths.len() - i);
        if note.len() + p.len() + 2 + more.len() > MAX_NOTE_CHARS - 1 {
            note.push_str(if i == 0 { more.trim_start() } else { &more });
            note.push('\n');
            return note;
        }
        if i > 0 {
            note.push_str(", ");
        }
        note.push_str(p);
    }
    note.push('\n');
    note
}

fn summary_of(files: &[FileDiff], listed: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Files changed ({}):", files.len());
    for f in files.iter().take(listed) {
        let _ = write!(s, "{} {}", f.status.letter(), f.path);
        if let Some(old) = &f.old_path {
            let _ = write!(s, " (from {old})");
        }
        if f.binary {
            s.push_str(" (binary)");
        } else {
            let _ = write!(s, " (+{} -{})", f.added, f.removed);
        }
        s.push('\n');
    }
    if listed < files.len() {
        let _ = writeln!(s, "... and {} more files", files.len() - listed);
    }
    let hidden: Vec<String> = files
        .iter()
        .take(listed)
        .filter_map(|f| f.excluded.as_ref().map(|why| format!("{} ({why})", f.path)))
        .collect();
    if !hidden.is_empty() {
        let _ = writeln!(s, "Not shown below: {}", hidden.join(", "));
    }
    s
}

fn section_header(f: &FileDiff) -> String {
    match &f.old_path {
        Some(old) => format!("--- {old} -> {}\n", f.path),
        None => format!("--- {}\n", f.path),
    }
}

fn section_len(f: &FileDiff) -> usize {
    section_header(f).len()
        + f.hunks
            .split_inclusive('\n')
            .map(|l| l.len().min(MAX_LINE_CHARS + 16))
            .sum::<usize>()
}

/// Appends the file's section, cut to about `share` characters when it is longer; returns
/// true when it was cut.
fn render_section(f: &FileDiff, share: usize, out: &mut String) -> bool {
    let whole = section_len(f) <= share;
    let start = out.len();
    out.push_str(&section_header(f));
    let lines: Vec<&str> = f.hunks.split_inclusive('\n').collect();
    let reserve = 48; // room for the "lines not shown" note
    for (i, line) in lines.iter().enumerate() {
        let piece_len = line.len().min(MAX_LINE_CHARS + 16);
        if !whole && out.len() - start + piece_len + reserve > share {
            let _ = writeln!(
                out,
                "[... {} more lines of this file not shown]",
                lines.len() - i
            );
            return true;
        }
        if line.len() > MAX_LINE_CHARS {
            let mut cut = MAX_LINE_CHARS;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push_str(&line[..cut]);
            out.push_str(" [line cut]\n");
        } else {
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    false
}

/// Water-filling: files smaller than an equal share get all they need, the rest split what
/// remains equally. Returns one share per size, summing to at most `budget`.
#[must_use]
pub fn fair_shares(sizes: &[usize], budget: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let mut shares = vec![0; sizes.len()];
    let mut left = budget;
    for (k, &i) in order.iter().enumerate() {
        let equal = left / (sizes.len() - k);
        let give = sizes[i].min(equal);
        shares[i] = give;
        left -= give;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff;

    fn big_diff(files: usize, lines: usize) -> String {
        let mut s = String::new();
        for f in 0..files {
            let _ = write!(
                s,
                "diff --git a/f{f}.rs b/f{f}.rs\n--- a/f{f}.rs\n+++ b/f{f}.rs\n@@ -1,{lines} +1,{lines} @@\n"
            );
            for l in 0..lines {
                let _ = writeln!(s, "+let value_{l} = compute({l}) + {f};");
            }
        }
        s
    }

    fn style() -> Style {
        Style {
            conventional: false,
            lang: "English".into(),
            structured: true,
        }
    }

    #[test]
    fn shares_are_fair_and_bounded() {
        assert_eq!(fair_shares(&[10, 1000, 50], 300), vec![10, 240, 50]);
        assert_eq!(fair_shares(&[100, 100], 1000), vec![100, 100]);
        assert_eq!(fair_shares(&[], 10), Vec::<usize>::new());
        let s = fair_shares(&[5000, 7000, 9000], 3000);
        assert_eq!(s.iter().sum::<usize>(), 3000);
    }

    #[test]
    fn a_huge_diff_fits_the_context_and_keeps_instructions_first() {
        for (files, lines) in [(1, 20_000), (40, 500), (3000, 2)] {
            let files = diff::parse(&big_diff(files, lines), &[]);
            let p = build(&files, &style(), 4096, 256);
            let tokens = p.chars / CHARS_PER_TOKEN;
            assert!(tokens <= 4096 - 256, "{tokens} estimated tokens do not fit");
            assert!(
                p.messages[0]
                    .content
                    .starts_with("You write git commit messages")
            );
            assert!(p.messages[1].content.starts_with("Files changed ("));
            assert!(p.messages[1].content.ends_with("as the JSON object."));
        }
    }

    #[test]
    fn small_files_are_whole_and_big_ones_are_cut_with_a_note() {
        let mut d = big_diff(1, 5000);
        d.push_str("diff --git a/small.rs b/small.rs\n--- a/small.rs\n+++ b/small.rs\n@@ -1 +1 @@\n-old line\n+new line\n");
        let files = diff::parse(&d, &[]);
        let p = build(&files, &style(), 8192, 512);
        let user = &p.messages[1].content;
        assert!(
            user.contains("-old line\n+new line\n"),
            "the small file is shown whole"
        );
        assert!(user.contains("more lines of this file not shown"));
        assert_eq!(p.shortened, vec!["f0.rs".to_owned()]);
    }

    #[test]
    fn excluded_files_are_named_not_shown() {
        let d = "diff --git a/Cargo.lock b/Cargo.lock\n--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -1 +1 @@\n-secret_lock_line\n+new_lock_line\n";
        let p = build(&diff::parse(d, &[]), &style(), 8192, 512);
        let user = &p.messages[1].content;
        assert!(
            user.contains("Not shown below: Cargo.lock (lockfile)"),
            "{user}"
        );
        assert!(!user.contains("new_lock_line"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        // Arbitrary text on stdin is parsed and sized without panicking, and always fits.
        #[test]
        fn any_diff_text_builds_a_prompt_that_fits(text in "(diff --git a/[a-z]{1,3} b/[a-z]{1,3}\n|@@ -1 \\+1 @@\n|[+ -]\\PC{0,500}\n|\\PC{0,50}\n){0,60}") {
            let files = crate::diff::parse(&text, &[]);
            let style = Style { conventional: true, lang: "English".into(), structured: false };
            let p = build(&files, &style, 1024, 64);
            prop_assert!(p.chars / CHARS_PER_TOKEN + 64 <= 1024, "{} chars", p.chars);
        }
    }
}

//! Markdown (Jekyll flavoured: YAML front matter, Liquid tags, inline HTML) to speakable
//! sentences.
//!
//! What a listener should hear: the title from the front matter, then the prose. Liquid tags,
//! HTML and images are dropped; a code block becomes a short spoken placeholder; a link keeps
//! its text; a bare URL becomes "a link to <host>"; headings and list items become sentences of
//! their own. The pronunciation table is applied last, per sentence.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::pronounce::Pronunciations;
use crate::sentences;

/// How text is turned into sentences.
#[derive(Debug, Clone)]
pub struct TextOptions {
    /// Longest sentence handed to the engine, in characters.
    pub max_chars: usize,
    /// Words the engines mangle.
    pub pronunciations: Pronunciations,
}

impl Default for TextOptions {
    fn default() -> Self {
        Self {
            max_chars: sentences::DEFAULT_MAX_CHARS,
            pronunciations: Pronunciations::default(),
        }
    }
}

/// What will be spoken, sentence by sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The front matter title, if any (also the first sentence).
    pub title: Option<String>,
    pub sentences: Vec<String>,
}

/// Plain text (an event line, a news flash): URLs shortened, split, pronounced.
pub fn text_to_script(text: &str, opts: &TextOptions) -> Script {
    let mut sentences = Vec::new();
    push_block(&mut sentences, text, false, opts);
    Script {
        title: None,
        sentences,
    }
}

/// A Markdown document (optionally with YAML front matter) as sentences.
pub fn markdown_to_script(src: &str, opts: &TextOptions) -> Script {
    let (title, body) = split_front_matter(src);
    let body = strip_liquid(body);
    let mut out = Vec::new();
    if let Some(t) = &title {
        push_block(&mut out, t, true, opts);
    }
    let mut walker = Walker {
        opts,
        out: &mut out,
        block: String::new(),
        skip: 0,
        title: title.as_deref(),
        first_heading: true,
    };
    let parser = Parser::new_ext(
        &body,
        Options::ENABLE_TABLES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_FOOTNOTES,
    );
    for event in parser {
        walker.event(event);
    }
    walker.flush(false);
    Script {
        title,
        sentences: out,
    }
}

struct Walker<'a> {
    opts: &'a TextOptions,
    out: &'a mut Vec<String>,
    /// Text of the block being read.
    block: String,
    /// Depth inside elements whose text is not read (images, code blocks, footnotes).
    skip: usize,
    title: Option<&'a str>,
    first_heading: bool,
}

impl Walker<'_> {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            _ if self.skip > 0 => {}
            Event::Text(t) => self.block.push_str(&t),
            Event::Code(c) => {
                if c.chars().count() <= 32 {
                    self.block.push_str(&c);
                } else {
                    self.block.push_str("a piece of code");
                }
            }
            Event::SoftBreak | Event::HardBreak => self.block.push(' '),
            Event::InlineMath(m) | Event::DisplayMath(m) => self.block.push_str(&m),
            Event::Html(_)
            | Event::InlineHtml(_)
            | Event::FootnoteReference(_)
            | Event::TaskListMarker(_)
            | Event::Rule => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Image { .. } | Tag::FootnoteDefinition(_) | Tag::MetadataBlock(_) => {
                self.skip += 1
            }
            Tag::CodeBlock(kind) => {
                if self.skip == 0 {
                    self.flush(false);
                    let lang = match kind {
                        CodeBlockKind::Fenced(info) => language_name(&info),
                        CodeBlockKind::Indented => None,
                    };
                    let placeholder = match lang {
                        Some(l) => format!("Here is a code example in {l}."),
                        None => "Here is a code example.".to_owned(),
                    };
                    self.block.push_str(&placeholder);
                    self.flush(false);
                }
                self.skip += 1;
            }
            Tag::Heading { .. }
            | Tag::Item
            | Tag::List(_)
            | Tag::Paragraph
            | Tag::TableRow
            | Tag::TableHead
            | Tag::BlockQuote(_)
            | Tag::Table(_) => self.flush(true),
            Tag::TableCell if !self.block.trim().is_empty() => self.block.push_str(", "),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Image
            | TagEnd::FootnoteDefinition
            | TagEnd::CodeBlock
            | TagEnd::MetadataBlock(_) => self.skip = self.skip.saturating_sub(1),
            TagEnd::Heading(_) => {
                // The post's own H1 repeating the front matter title is read once.
                let first = std::mem::replace(&mut self.first_heading, false);
                if first && self.title.is_some_and(|t| same_words(t, &self.block)) {
                    self.block.clear();
                }
                self.flush(true)
            }
            TagEnd::Item | TagEnd::TableRow | TagEnd::TableHead => self.flush(true),
            TagEnd::Paragraph | TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Table => {
                self.flush(false)
            }
            _ => {}
        }
    }

    fn flush(&mut self, terminate: bool) {
        let text = std::mem::take(&mut self.block);
        push_block(self.out, &text, terminate, self.opts);
    }
}

/// Appends `text` (one block) as sentences: URLs shortened, split, pronunciations applied.
/// With `terminate`, a block without final punctuation (a heading, a list item) gets a full
/// stop, so engines pause after it.
fn push_block(out: &mut Vec<String>, text: &str, terminate: bool, opts: &TextOptions) {
    let mut text = speak_urls(text);
    let trimmed = text.trim_end();
    if trimmed.is_empty() {
        return;
    }
    if terminate && !trimmed.ends_with(['.', '!', '?', ':', '…']) {
        // A list item "page views," is still a sentence of its own.
        let keep = trimmed.trim_end_matches([',', ';']).len();
        text.truncate(keep);
        text.push('.');
    }
    for s in sentences::split(&text, opts.max_chars) {
        let spoken = opts.pronunciations.apply(&s);
        let spoken = spoken.split_whitespace().collect::<Vec<_>>().join(" ");
        if spoken.chars().any(char::is_alphanumeric) {
            out.push(spoken);
        }
    }
}

fn same_words(a: &str, b: &str) -> bool {
    let words = |s: &str| {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    words(a) == words(b)
}

/// The spoken name of a fenced code block's language, when it is one a listener knows.
fn language_name(info: &str) -> Option<&'static str> {
    let lang = info
        .split([' ', ',', '{'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    Some(match lang.as_str() {
        "rust" | "rs" => "Rust",
        "python" | "py" => "Python",
        "sh" | "bash" | "shell" | "console" | "zsh" | "shell-session" => "shell",
        "nix" => "Nix",
        "toml" => "TOML",
        "yaml" | "yml" => "YAML",
        "json" => "JSON",
        "javascript" | "js" => "JavaScript",
        "typescript" | "ts" => "TypeScript",
        "html" => "HTML",
        "css" => "CSS",
        "sql" => "SQL",
        "nginx" => "nginx",
        "c" => "C",
        "go" => "Go",
        "ruby" | "rb" => "Ruby",
        "liquid" => "Liquid",
        _ => return None,
    })
}

/// Splits off YAML front matter (`---` first line, closed by `---` or `...`) and returns its
/// `title` (unquoted) and the rest of the document.
fn split_front_matter(src: &str) -> (Option<String>, &str) {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let Some(after) = src
        .strip_prefix("---\n")
        .or_else(|| src.strip_prefix("---\r\n"))
    else {
        return (None, src);
    };
    let mut offset = 0;
    for line in after.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == "---" || bare == "..." {
            let front = &after[..offset];
            let body = &after[offset + line.len()..];
            return (front_matter_title(front), body);
        }
        offset += line.len();
    }
    (None, src)
}

fn front_matter_title(front: &str) -> Option<String> {
    let line = front.lines().find(|l| l.starts_with("title:"))?;
    let mut v = line["title:".len()..].trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            v = &v[1..v.len() - 1];
        }
    }
    let v = v.replace("\\\"", "\"").replace("''", "'");
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// Removes Liquid: `{{ output }}`, `{% tag %}`; `{% comment %}` and `{% highlight %}` blocks
/// lose their content too (a highlight block becomes an empty fenced code block, so it is read
/// as the code placeholder).
fn strip_liquid(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    // Inside `{% comment %}` / `{% highlight %}`: the name of the closing tag.
    let mut swallow: Option<&'static str> = None;
    while let Some(open) = rest.find(['{']) {
        let (before, from) = rest.split_at(open);
        let close = if from.starts_with("{{") {
            "}}"
        } else if from.starts_with("{%") {
            "%}"
        } else {
            if swallow.is_none() {
                out.push_str(before);
                out.push('{');
            }
            rest = &from[1..];
            continue;
        };
        if swallow.is_none() {
            out.push_str(before);
        }
        let Some(end) = from[2..].find(close) else {
            // Unclosed tag: drop the rest of the line.
            rest = from.find('\n').map_or("", |n| &from[n..]);
            continue;
        };
        let inner = from[2..2 + end].trim().trim_matches('-').trim();
        rest = &from[2 + end + 2..];
        if from.starts_with("{%") {
            let name = inner.split_whitespace().next().unwrap_or("");
            match (swallow, name) {
                (None, "comment") => swallow = Some("endcomment"),
                (None, "highlight") => {
                    let lang = inner.split_whitespace().nth(1).unwrap_or("");
                    out.push_str(&format!("\n\n```{lang}\n```\n\n"));
                    swallow = Some("endhighlight");
                }
                (Some(end_name), n) if n == end_name => swallow = None,
                _ => {}
            }
        }
    }
    if swallow.is_none() {
        out.push_str(rest);
    }
    out
}

/// Replaces bare URLs (`https://…`, `http://…`, `www.…`) with "a link to <host>".
fn speak_urls(text: &str) -> String {
    if !text.contains("http://") && !text.contains("https://") && !text.contains("www.") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (i, token) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lead_len = token.len() - token.trim_start_matches(['(', '<', '"', '\'', '[']).len();
        let (lead, core) = token.split_at(lead_len);
        let is_url =
            core.starts_with("http://") || core.starts_with("https://") || core.starts_with("www.");
        if !is_url {
            out.push_str(token);
            continue;
        }
        let url = core.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '>', '"', '\'', ']']);
        let trail = &core[url.len()..];
        let parsed = if url.starts_with("www.") {
            url::Url::parse(&format!("http://{url}"))
        } else {
            url::Url::parse(url)
        };
        out.push_str(lead);
        match parsed.ok().as_ref().and_then(|u| u.host_str()) {
            Some(host) => {
                out.push_str("a link to ");
                out.push_str(host.strip_prefix("www.").unwrap_or(host));
            }
            None => out.push_str("a link"),
        }
        out.push_str(trail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(md: &str) -> Vec<String> {
        markdown_to_script(md, &TextOptions::default()).sentences
    }

    #[test]
    fn front_matter_title_is_read_first_and_once() {
        let s = markdown_to_script(
            "---\nlayout: post\ntitle: \"Bots, again\"\n---\n# Bots, again\n\nThey came.\n",
            &TextOptions::default(),
        );
        assert_eq!(s.title.as_deref(), Some("Bots, again"));
        assert_eq!(s.sentences, vec!["Bots, again.", "They came."]);
    }

    #[test]
    fn links_images_html_and_urls() {
        assert_eq!(
            say(
                "See [the docs](https://x.org/a) and ![a cat](cat.png) <b>now</b>: https://www.example.com/a/b."
            ),
            vec!["See the docs and now: a link to example.com."]
        );
        assert_eq!(
            say("<https://git.example.net/x>"),
            vec!["a link to git.example.net"]
        );
    }

    #[test]
    fn code_blocks_become_placeholders_and_liquid_vanishes() {
        let md = "Before.\n\n```rust\nfn main() {}\n```\n\n{% highlight nix %}\n{ pkgs }: pkgs.hello\n{% endhighlight %}\n\nAfter {{ site.title }} {% comment %}secret{% endcomment %}end.\n";
        assert_eq!(
            say(md),
            vec![
                "Before.",
                "Here is a code example in Rust.",
                "Here is a code example in Nix.",
                "After end."
            ]
        );
    }

    #[test]
    fn headings_and_list_items_are_sentences() {
        assert_eq!(
            say("## Why\n\n- one thing\n- another, *really*\n  1. nested\n"),
            vec!["Why.", "one thing.", "another, really.", "nested."]
        );
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for s in [
            "{%",
            "{{ x",
            "---\ntitle: '",
            "www.",
            "https://",
            "[x](",
            "\u{feff}---\n---\n",
            "é{%é%}é",
        ] {
            let _ = say(s);
            let _ = text_to_script(s, &TextOptions::default());
        }
    }
}

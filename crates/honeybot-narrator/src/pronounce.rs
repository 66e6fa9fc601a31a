//! The pronunciation table: words that TTS engines mangle, replaced by what they should say.
//!
//! Matching is case-sensitive and whole-word (the characters around a match must not be
//! letters or digits), so `AI` matches in "AI crawlers" but not in "MAIN" or "ai". Longer keys
//! win over shorter ones. Replacements are applied after sentence splitting, so a replacement
//! may contain dots without creating new sentences.

use std::collections::BTreeMap;

/// Built-in entries; the `[pronunciations]` table of the config adds to and overrides them.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("AI", "A.I."),
    ("NixOS", "Nix O S"),
    ("nixpkgs", "nix packages"),
    ("Neovim", "neo vim"),
    ("nginx", "engine x"),
    ("SQLite", "S Q Lite"),
    ("LLM", "L L M"),
    ("LLMs", "L L Ms"),
    ("TTS", "T T S"),
    ("OBS", "O B S"),
    ("YAML", "yammel"),
    ("TOML", "tommel"),
    ("CLI", "C L I"),
    ("UA", "user agent"),
    ("robots.txt", "robots dot text"),
    ("e.g.", "for example"),
    ("i.e.", "that is"),
];

/// A word-to-speech table.
#[derive(Debug, Clone)]
pub struct Pronunciations {
    /// Entries sorted longest key first, so "LLMs" is tried before "LLM".
    entries: Vec<(String, String)>,
}

impl Default for Pronunciations {
    fn default() -> Self {
        Self::new(&BTreeMap::new())
    }
}

impl Pronunciations {
    /// The built-in table with `overrides` added on top (same key = override). An empty
    /// replacement removes the built-in entry.
    pub fn new(overrides: &BTreeMap<String, String>) -> Self {
        let mut map: BTreeMap<String, String> = DEFAULTS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        for (k, v) in overrides {
            if k.is_empty() {
                continue;
            }
            if v.is_empty() {
                map.remove(k);
            } else {
                map.insert(k.clone(), v.clone());
            }
        }
        let mut entries: Vec<(String, String)> = map.into_iter().filter(|(k, v)| k != v).collect();
        entries.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Self { entries }
    }

    /// `text` with every whole-word key replaced, in one left-to-right pass (a replacement is
    /// never itself re-replaced).
    pub fn apply(&self, text: &str) -> String {
        if self.entries.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut i = 0;
        let mut prev: Option<char> = None;
        'outer: while i < text.len() {
            let rest = &text[i..];
            if !prev.is_some_and(char::is_alphanumeric) {
                for (key, say) in &self.entries {
                    if rest.starts_with(key.as_str())
                        && !rest[key.len()..]
                            .chars()
                            .next()
                            .is_some_and(char::is_alphanumeric)
                    {
                        out.push_str(say);
                        i += key.len();
                        prev = key.chars().next_back();
                        continue 'outer;
                    }
                }
            }
            let Some(c) = rest.chars().next() else { break };
            out.push(c);
            i += c.len_utf8();
            prev = Some(c);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only_and_case_sensitive() {
        let p = Pronunciations::default();
        assert_eq!(
            p.apply("AI crawlers hit MAIN pages"),
            "A.I. crawlers hit MAIN pages"
        );
        assert_eq!(p.apply("said ai, AI."), "said ai, A.I..");
        assert_eq!(
            p.apply("I run NixOS; nginx too"),
            "I run Nix O S; engine x too"
        );
    }

    #[test]
    fn longer_keys_win_and_user_entries_override() {
        let mut user = BTreeMap::new();
        user.insert("AI".to_owned(), "artificial intelligence".to_owned());
        user.insert("nginx".to_owned(), String::new());
        user.insert("Honeybot".to_owned(), "Honey bot".to_owned());
        let p = Pronunciations::new(&user);
        assert_eq!(p.apply("LLMs and AI"), "L L Ms and artificial intelligence");
        assert_eq!(p.apply("nginx serves Honeybot"), "nginx serves Honey bot");
    }

    #[test]
    fn replacement_is_not_rescanned() {
        let mut user = BTreeMap::new();
        user.insert("X".to_owned(), "AI".to_owned());
        let p = Pronunciations::new(&user);
        assert_eq!(p.apply("X"), "AI");
    }
}

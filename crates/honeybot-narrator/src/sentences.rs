//! Splitting speakable text into sentences small enough to synthesise one at a time, so the
//! first sentence plays while the next ones are being synthesised.

use unicode_segmentation::UnicodeSegmentation;

/// Default upper bound for one sentence, in characters. Longer sentences are cut at a clause
/// boundary (`;`, `:`, `,`, a dash) or, failing that, between words.
pub const DEFAULT_MAX_CHARS: usize = 240;

/// Fragments shorter than this (e.g. "No." after a split) are joined to the previous sentence.
const MIN_CHARS: usize = 4;

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "vs.", "etc.", "approx.", "No.", "Fig.", "cf.",
];

/// `text` (one paragraph, heading or list item) as sentences, whitespace normalised.
pub fn split(text: &str, max_chars: usize) -> Vec<String> {
    let normalised = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: Vec<String> = Vec::new();
    let mut glue = false;
    for raw in normalised.split_sentence_bounds() {
        let s = raw.trim();
        if s.is_empty() || !s.chars().any(char::is_alphanumeric) {
            if let (Some(last), false) = (out.last_mut(), s.is_empty()) {
                last.push_str(s);
            }
            continue;
        }
        let abbreviation = ABBREVIATIONS.iter().any(|a| s.ends_with(a));
        match out.last_mut() {
            Some(last) if glue || (s.chars().count() < MIN_CHARS && !abbreviation) => {
                last.push(' ');
                last.push_str(s);
            }
            _ => out.push(s.to_owned()),
        }
        glue = abbreviation;
    }
    out.into_iter()
        .flat_map(|s| cut_long(&s, max_chars.max(20)))
        .collect()
}

/// Cuts the first sentence at its first clause boundary (`,` `;` `:` or a dash) when it is
/// longer than `max_chars`, so the first audio is ready sooner: the engine synthesises a
/// clause in a fraction of the time of a long sentence. Nothing is cut without such a boundary
/// (a cut between arbitrary words would sound broken).
pub fn shorten_first(sentences: &mut Vec<String>, max_chars: usize) {
    let Some(first) = sentences.first() else {
        return;
    };
    if first.chars().count() <= max_chars {
        return;
    }
    let min = 12;
    let cut = first
        .char_indices()
        .filter(|&(i, c)| {
            i >= min
                && matches!(c, ',' | ';' | ':' | '—' | '–')
                && first[i + c.len_utf8()..].starts_with(' ')
        })
        .map(|(i, c)| i + c.len_utf8())
        .find(|&i| first[i..].trim().chars().count() >= min);
    if let Some(at) = cut {
        let rest = first[at..].trim().to_owned();
        let head = first[..at].trim().to_owned();
        sentences[0] = head;
        sentences.insert(1, rest);
    }
}

/// `s` cut into pieces of at most `max` characters at the best break before the limit.
fn cut_long(s: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while rest.chars().count() > max {
        let limit = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let head = &rest[..limit];
        let at = [": ", "; ", " - ", " – ", " — ", ", "]
            .iter()
            .filter_map(|p| head.rfind(p).map(|i| i + p.trim_end().len()))
            .filter(|&i| i > max / 3)
            .max()
            .or_else(|| head.rfind(' '))
            .filter(|&i| i > 0)
            .unwrap_or(limit);
        out.push(rest[..at].trim().to_owned());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_sentence_ends_but_not_abbreviations() {
        let got = split(
            "The bot came back.  Dr. Who asked why? It said: no!\nAnd then e.g. the log grew.",
            DEFAULT_MAX_CHARS,
        );
        assert_eq!(
            got,
            vec![
                "The bot came back.",
                "Dr. Who asked why?",
                "It said: no!",
                "And then e.g. the log grew."
            ]
        );
    }

    #[test]
    fn long_sentences_are_cut_at_clauses_then_words() {
        let s = "one two three four five six seven eight, nine ten eleven twelve thirteen fourteen";
        let got = split(s, 50);
        assert_eq!(
            got,
            vec![
                "one two three four five six seven eight,",
                "nine ten eleven twelve thirteen fourteen"
            ]
        );
        let words = "word ".repeat(30);
        for piece in split(&words, 40) {
            assert!(piece.chars().count() <= 40, "{piece:?}");
            assert!(!piece.starts_with(' ') && !piece.ends_with(' '));
        }
    }

    #[test]
    fn first_sentence_is_cut_at_its_first_clause_only_when_long() {
        let mut s = vec![
            "New post on the site: who actually reads robots.txt today?".to_owned(),
            "B.".to_owned(),
        ];
        shorten_first(&mut s, 40);
        assert_eq!(
            s,
            vec![
                "New post on the site:",
                "who actually reads robots.txt today?",
                "B."
            ]
        );
        let mut short = vec!["Short, really.".to_owned()];
        shorten_first(&mut short, 40);
        assert_eq!(short, vec!["Short, really."]);
        let mut no_clause = vec!["word ".repeat(20).trim().to_owned()];
        shorten_first(&mut no_clause, 40);
        assert_eq!(no_clause.len(), 1);
    }

    #[test]
    fn punctuation_only_fragments_are_not_sentences() {
        assert_eq!(split("Hello. ... !", 100), vec!["Hello. ... !"]);
        assert!(split("  \n ", 100).is_empty());
    }
}

//! Reading model answers: reasoning blocks and JSON objects wrapped in prose or fences.

use std::borrow::Cow;

use serde_json::Value;

/// Tags that wrap a model's reasoning in its visible answer.
const THINK_TAGS: [&str; 3] = ["think", "thinking", "reasoning"];

/// Removes reasoning blocks (`<think>…</think>`, `<thinking>`, `<reasoning>`, any case).
///
/// A closing tag without an opening one (the chat template opened it) drops everything before
/// it; an opening tag that is never closed (the model ran out of tokens while thinking) drops
/// everything after it.
#[must_use]
pub fn strip_think(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !THINK_TAGS
        .iter()
        .any(|t| lower.contains(&format!("<{t}>")) || lower.contains(&format!("</{t}>")))
    {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    for tag in THINK_TAGS {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        loop {
            let low = out.to_ascii_lowercase();
            let o = low.find(&open);
            let c = low.find(&close);
            match (o, c) {
                (Some(o), Some(c)) if o < c => {
                    out.replace_range(o..c + close.len(), "");
                }
                (_, Some(c)) => out.replace_range(..c + close.len(), ""),
                (Some(o), None) => out.truncate(o),
                (None, None) => break,
            }
        }
    }
    Cow::Owned(out)
}

/// The first JSON object in a model answer: the whole answer when it is one, else the first
/// `{…}` that parses, after removing reasoning blocks. Servers that ignore the requested
/// schema often wrap the object in a code fence or a sentence.
#[must_use]
pub fn extract_json(text: &str) -> Option<Value> {
    let text = strip_think(text);
    let trimmed = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(trimmed) {
        return Some(v);
    }
    // Each `{` is a candidate start; the first that parses to an object wins. Bounded so a
    // hostile answer full of braces cannot make this quadratic for long.
    for (start, _) in trimmed.match_indices('{').take(64) {
        let mut values = serde_json::Deserializer::from_str(&trimmed[start..]).into_iter::<Value>();
        if let Some(Ok(v @ Value::Object(_))) = values.next() {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn think_blocks_are_removed_in_all_shapes() {
        assert_eq!(strip_think("<think>hmm</think>Fix parser"), "Fix parser");
        assert_eq!(strip_think("<THINK>a\nb</Think>\nFix"), "\nFix");
        assert_eq!(strip_think("reasoning only</think>Fix"), "Fix");
        assert_eq!(strip_think("Fix<thinking>cut off"), "Fix");
        assert_eq!(
            strip_think("<think></think><reasoning>x</reasoning>Ok"),
            "Ok"
        );
        assert!(matches!(strip_think("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn json_is_found_in_prose_and_fences() {
        let want = json!({"subject": "Fix it", "body": ""});
        let cases = [
            r#"{"subject":"Fix it","body":""}"#,
            "```json\n{\"subject\":\"Fix it\",\"body\":\"\"}\n```",
            "Sure! Here it is: {\"subject\": \"Fix it\", \"body\": \"\"} Hope it helps {",
            "<think>{\"subject\":\"no\"}</think>{\"subject\":\"Fix it\",\"body\":\"\"}",
            "{ broken { \"subject\": \"Fix it\", \"body\": \"\" }",
        ];
        for c in cases {
            assert_eq!(extract_json(c), Some(want.clone()), "{c}");
        }
        assert_eq!(extract_json("no json here"), None);
        assert_eq!(extract_json("[1,2]"), None);
    }
}

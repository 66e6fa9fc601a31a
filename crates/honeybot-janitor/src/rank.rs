//! The deterministic lexical ranking of live pages for a dead path.
//!
//! Tokens are the lowercase alphanumeric words of a path (and of a page's title), minus
//! file-name noise (`html`, `index`, ...) and date parts; a 4-digit year is kept apart.
//! Each token weighs its inverse document frequency over the live pages, so a rare word
//! (`nginx`) counts more than a common one (`blog`). The score of a page (0..1) is
//! - 0.75 × the F1 of token matches: the share of the dead path's token weight the page has
//!   (in its path or title; a shared 6-letter stem counts 0.8, one typo in a long word 0.7)
//!   against the share of the page's own path weight the dead path has;
//! - 0.25 × the edit-distance similarity of the last path segments (the slugs);
//! - then a matching year pulls it up by 10 % of the remaining distance to 1, a different
//!   year multiplies it by 0.85.
//!
//! Candidates come from an inverted index (token → pages), so a run compares each dead path
//! with the few pages that share a word, not with every page.

use std::collections::{HashMap, HashSet};

use crate::site::Page;

/// Pages re-scored in full per dead path (the best of the index lookup).
const RERANK: usize = 24;

/// A scored page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Index into the pages the [`Index`] was built from.
    pub page: usize,
    pub score: f64,
}

#[derive(Debug)]
struct PageTokens {
    slug_tokens: Vec<String>,
    all: HashSet<String>,
    stems: HashSet<String>,
    slug: String,
    year: Option<u16>,
}

/// The live pages, tokenised and indexed.
#[derive(Debug)]
pub struct Index {
    pages: Vec<PageTokens>,
    paths: Vec<String>,
    postings: HashMap<String, Vec<u32>>,
    stem_postings: HashMap<String, Vec<u32>>,
    idf: HashMap<String, f64>,
    default_idf: f64,
}

const STOP: &[&str] = &[
    "html", "htm", "php", "asp", "aspx", "md", "index", "www", "the", "a", "an", "of", "and", "to",
    "in", "on", "for", "is", "amp",
];

/// Words of `text` (lowercase), without stop words and short numbers; and a year, if any.
fn tokens(text: &str) -> (Vec<String>, Option<u16>) {
    let mut out = Vec::new();
    let mut year = None;
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if word.bytes().all(|b| b.is_ascii_digit()) {
            if word.len() == 4
                && let Ok(y) = word.parse::<u16>()
                && (1990..=2100).contains(&y)
            {
                year.get_or_insert(y);
                continue;
            }
            if word.len() <= 2 {
                continue;
            }
        }
        if STOP.contains(&word.as_str()) || out.contains(&word) {
            continue;
        }
        out.push(word);
    }
    (out, year)
}

fn stem(token: &str) -> Option<String> {
    (token.chars().count() >= 6).then(|| token.chars().take(6).collect())
}

/// The last non-empty path segment, tokenised and joined by `-`.
fn slug(path: &str) -> String {
    let last = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    tokens(last).0.join("-")
}

/// Levenshtein distance of two short strings (by chars), capped inputs.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(80).collect();
    let b: Vec<char> = b.chars().take(80).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn similarity(a: &str, b: &str) -> f64 {
    let len = a.chars().count().max(b.chars().count());
    if len == 0 {
        return 0.0;
    }
    1.0 - edit_distance(a, b) as f64 / len as f64
}

/// A dead path, tokenised.
#[derive(Debug)]
struct Query {
    tokens: Vec<String>,
    stems: Vec<Option<String>>,
    slug: String,
    year: Option<u16>,
}

impl Index {
    pub fn new(pages: &[Page]) -> Self {
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        let mut stem_postings: HashMap<String, Vec<u32>> = HashMap::new();
        let mut indexed = Vec::with_capacity(pages.len());
        for (i, page) in pages.iter().enumerate() {
            let (slug_tokens, path_year) = tokens(&page.path);
            let (title_tokens, _) = tokens(page.title.as_deref().unwrap_or(""));
            let all: HashSet<String> = slug_tokens.iter().chain(&title_tokens).cloned().collect();
            let stems: HashSet<String> = all.iter().filter_map(|t| stem(t)).collect();
            for t in &all {
                postings.entry(t.clone()).or_default().push(i as u32);
            }
            for s in &stems {
                stem_postings.entry(s.clone()).or_default().push(i as u32);
            }
            let year = path_year.or_else(|| {
                page.date
                    .as_deref()
                    .and_then(|d| d.get(..4))
                    .and_then(|y| y.parse().ok())
            });
            indexed.push(PageTokens {
                slug_tokens,
                all,
                stems,
                slug: slug(&page.path),
                year,
            });
        }
        let n = pages.len().max(1) as f64;
        let idf = postings
            .iter()
            .map(|(t, list)| (t.clone(), (1.0 + n / list.len() as f64).ln()))
            .collect();
        Self {
            pages: indexed,
            paths: pages.iter().map(|p| p.path.clone()).collect(),
            postings,
            stem_postings,
            idf,
            default_idf: (1.0 + n).ln(),
        }
    }

    fn idf(&self, token: &str) -> f64 {
        self.idf.get(token).copied().unwrap_or(self.default_idf)
    }

    /// The best `k` pages for the dead path `key`, best first (ties by path).
    pub fn rank(&self, key: &str, k: usize) -> Vec<Candidate> {
        let (tokens, year) = tokens(key);
        if tokens.is_empty() {
            return Vec::new();
        }
        let query = Query {
            stems: tokens.iter().map(|t| stem(t)).collect(),
            slug: slug(key),
            tokens,
            year,
        };
        // Index lookup: accumulate token weights per page. Very common tokens are skipped
        // when the dead path has rarer ones (they would pull in a large share of the site).
        let cap = (self.pages.len() / 10).max(50);
        let has_rare = query
            .tokens
            .iter()
            .any(|t| self.postings.get(t).is_some_and(|l| l.len() <= cap));
        let mut acc: HashMap<u32, f64> = HashMap::new();
        for (t, s) in query.tokens.iter().zip(&query.stems) {
            let w = self.idf(t);
            if let Some(list) = self.postings.get(t)
                && (list.len() <= cap || !has_rare)
            {
                for &p in list {
                    *acc.entry(p).or_default() += w;
                }
            }
            if let Some(list) = s.as_ref().and_then(|s| self.stem_postings.get(s))
                && list.len() <= cap
            {
                for &p in list {
                    *acc.entry(p).or_default() += 0.8 * w;
                }
            }
        }
        let mut pre: Vec<(u32, f64)> = acc.into_iter().collect();
        pre.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        pre.truncate(RERANK);
        let mut out: Vec<Candidate> = pre
            .into_iter()
            .map(|(p, _)| Candidate {
                page: p as usize,
                score: self.score(&query, &self.pages[p as usize]),
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.paths[a.page].cmp(&self.paths[b.page]))
        });
        out.truncate(k);
        out
    }

    fn score(&self, q: &Query, page: &PageTokens) -> f64 {
        let (mut want, mut got) = (0.0, 0.0);
        for (t, s) in q.tokens.iter().zip(&q.stems) {
            let w = self.idf(t);
            want += w;
            let m = if page.all.contains(t) {
                1.0
            } else if s.as_ref().is_some_and(|s| page.stems.contains(s)) {
                0.8
            } else if t.chars().count() >= 5
                && page.all.iter().any(|p| {
                    p.len().abs_diff(t.len()) <= 1
                        && p.chars().count() >= 5
                        && edit_distance(p, t) <= 1
                })
            {
                0.7
            } else {
                0.0
            };
            got += w * m;
        }
        let recall = if want > 0.0 { got / want } else { 0.0 };
        let (mut have, mut hit) = (0.0, 0.0);
        for t in &page.slug_tokens {
            let w = self.idf(t);
            have += w;
            if q.tokens.contains(t) {
                hit += w;
            } else if let Some(s) = stem(t)
                && q.stems.iter().any(|qs| qs.as_deref() == Some(s.as_str()))
            {
                hit += 0.8 * w;
            }
        }
        let precision = if have > 0.0 { hit / have } else { 0.0 };
        let f1 = if recall + precision > 0.0 {
            2.0 * recall * precision / (recall + precision)
        } else {
            0.0
        };
        let mut score = 0.75 * f1 + 0.25 * similarity(&q.slug, &page.slug);
        if let (Some(a), Some(b)) = (q.year, page.year) {
            if a == b {
                score += 0.1 * (1.0 - score);
            } else {
                score *= 0.85;
            }
        }
        score.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str, title: Option<&str>) -> Page {
        Page {
            path: path.into(),
            title: title.map(Into::into),
            date: None,
        }
    }

    fn site() -> Vec<Page> {
        vec![
            page("/", Some("Home")),
            page(
                "/blog/2019/03/nginx-redirect-maps/",
                Some("Redirect maps in nginx"),
            ),
            page(
                "/blog/2021/07/rust-error-handling/",
                Some("Error handling in Rust"),
            ),
            page(
                "/blog/2023/01/rust-error-handling-revisited/",
                Some("Rust errors, again"),
            ),
            page("/about/", Some("About me")),
            page("/projects/honeybot/", Some("Honeybot: a bot trap")),
        ]
    }

    #[test]
    fn a_moved_post_finds_its_new_home() {
        let pages = site();
        let index = Index::new(&pages);
        let best = index.rank("/2019/03/nginx-redirect-maps.html", 3);
        assert_eq!(
            pages[best[0].page].path,
            "/blog/2019/03/nginx-redirect-maps/"
        );
        assert!(best[0].score > 0.8, "{best:?}");
        assert!(best.get(1).is_none_or(|c| c.score < 0.4), "{best:?}");
    }

    #[test]
    fn a_typo_and_a_plural_still_match() {
        let pages = site();
        let index = Index::new(&pages);
        let best = index.rank("/projects/honeybots", 1);
        assert_eq!(pages[best[0].page].path, "/projects/honeybot/");
        let best = index.rank("/blog/nginx-redirct-map", 1);
        assert_eq!(
            pages[best[0].page].path,
            "/blog/2019/03/nginx-redirect-maps/"
        );
    }

    #[test]
    fn the_year_decides_between_two_similar_posts() {
        let pages = site();
        let index = Index::new(&pages);
        let best = index.rank("/2021/rust-error-handling", 2);
        assert_eq!(
            pages[best[0].page].path,
            "/blog/2021/07/rust-error-handling/"
        );
        assert!(best[0].score > best[1].score);
    }

    #[test]
    fn unrelated_paths_score_low() {
        let pages = site();
        let index = Index::new(&pages);
        assert!(index.rank("/favicon.ico", 3).iter().all(|c| c.score < 0.3));
        assert!(index.rank("/", 3).is_empty());
    }
}

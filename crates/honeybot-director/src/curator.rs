//! The curator: reads a Jekyll `_posts` folder and deals the playlist.
//!
//! A post is `YYYY-MM-DD-slug.md` (or `.markdown`, `.html`) with YAML front matter; the
//! director reads the top-level scalars it needs: `title`, `permalink`, `date`, `sort_order`,
//! `slug`, `categories`/`category` and `published: false`. Without a `permalink`, the URL
//! follows Jekyll's default rule, the config's `permalink` pattern (`:categories`, `:year`,
//! `:month`, `:day`, `:title`, `:slug`, `:output_ext`), and `:title` is the slug from the file
//! name. The playlist is the newest N posts in order (date, then `sort_order`, newest first),
//! then the rest shuffled; when it runs out the folder is read again and it starts over.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub path: PathBuf,
    pub title: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `YYYY-MM-DD HH:MM:SS` from the front matter date (time zone ignored), for ordering.
    pub sort_key: String,
    pub sort_order: Option<i64>,
    /// The path part of the URL, starting with `/`.
    pub url_path: String,
}

impl Post {
    /// "March 14, 2025".
    pub fn spoken_date(&self) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let mut it = self.day.split('-');
        let (Some(y), Some(m), Some(d)) = (it.next(), it.next(), it.next()) else {
            return self.day.clone();
        };
        match (m.parse::<usize>(), d.parse::<u32>()) {
            (Ok(m @ 1..=12), Ok(d)) => format!("{} {d}, {y}", MONTHS[m - 1]),
            _ => self.day.clone(),
        }
    }

    /// The page URL under `site` (no trailing slash needed).
    pub fn url(&self, site: &str) -> String {
        format!("{}{}", site.trim_end_matches('/'), self.url_path)
    }
}

/// Reads one post; `None` for files that are not posts (wrong name, `published: false`).
pub fn read_post(path: &Path, pattern: &str) -> Result<Option<Post>, Error> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return Ok(None);
    };
    if !matches!(ext, "md" | "markdown" | "html") || name.starts_with('.') {
        return Ok(None);
    }
    let Some((file_day, file_slug)) = split_post_name(stem) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(Error::io("reading", path))?;
    let fm = front_matter(&text);
    if fm.get("published").map(String::as_str) == Some("false") {
        return Ok(None);
    }
    let date = fm.get("date").cloned().unwrap_or_default();
    let day = parse_day(&date).unwrap_or_else(|| file_day.to_owned());
    let time = date
        .split_whitespace()
        .nth(1)
        .filter(|t| t.chars().all(|c| c.is_ascii_digit() || c == ':'))
        .unwrap_or("00:00:00");
    let slug = fm
        .get("slug")
        .cloned()
        .unwrap_or_else(|| file_slug.to_owned());
    let title = fm
        .get("title")
        .filter(|t| !t.is_empty())
        .cloned()
        .unwrap_or_else(|| slug.replace('-', " "));
    let categories = fm
        .get("categories")
        .or_else(|| fm.get("category"))
        .map(|c| list_items(c))
        .unwrap_or_default();
    let url_path = match fm.get("permalink").filter(|p| !p.is_empty()) {
        Some(p) if p.starts_with('/') => p.clone(),
        Some(p) => format!("/{p}"),
        None => default_permalink(pattern, &day, &slug, &categories),
    };
    Ok(Some(Post {
        path: path.to_owned(),
        title,
        sort_key: format!("{day} {time}"),
        day,
        sort_order: fm.get("sort_order").and_then(|s| s.parse().ok()),
        url_path,
    }))
}

/// `2025-03-14-slug` → (`2025-03-14`, `slug`).
fn split_post_name(stem: &str) -> Option<(&str, &str)> {
    let day = stem.get(..10)?;
    let slug = stem.get(11..)?;
    (parse_day(day).is_some() && stem.as_bytes()[10] == b'-' && !slug.is_empty())
        .then_some((day, slug))
}

/// The `YYYY-MM-DD` at the start of a date value.
fn parse_day(s: &str) -> Option<String> {
    let d = s.trim().get(..10)?;
    let b = d.as_bytes();
    let ok = b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        _ => c.is_ascii_digit(),
    });
    ok.then(|| d.to_owned())
}

/// `[a, b]` or `a b` → items.
fn list_items(v: &str) -> Vec<String> {
    let v = v.trim();
    let items: Vec<&str> = match v.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) => inner.split(',').collect(),
        None => v.split_whitespace().collect(),
    };
    items
        .into_iter()
        .map(|s| unquote(s.trim()))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Jekyll's default `slugify`: lower case, runs of anything but ASCII letters and digits
/// become one `-`, no `-` at either end.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

fn default_permalink(pattern: &str, day: &str, slug: &str, cats: &[String]) -> String {
    let cats = cats
        .iter()
        .map(|c| slugify(c))
        .collect::<Vec<_>>()
        .join("/");
    // Markdown and HTML posts both render to .html.
    let out_ext = ".html";
    let mut url = pattern
        .replace(":categories", &cats)
        .replace(":year", &day[..4])
        .replace(":month", &day[5..7])
        .replace(":day", &day[8..10])
        .replace(":title", slug)
        .replace(":slug", &slugify(slug))
        .replace(":output_ext", out_ext);
    while url.contains("//") {
        url = url.replace("//", "/");
    }
    if !url.starts_with('/') {
        url.insert(0, '/');
    }
    url
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        let inner = &v[1..v.len() - 1];
        if v.starts_with('\'') {
            inner.replace("''", "'")
        } else {
            inner.replace("\\\"", "\"").replace("\\\\", "\\")
        }
    } else {
        v.to_owned()
    }
}

/// The top-level `key: value` scalars of a `---` front matter block.
pub fn front_matter(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return out;
    }
    for line in lines {
        if matches!(line.trim_end(), "---" | "...") {
            break;
        }
        if line.starts_with([' ', '\t', '#', '-']) {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            // A trailing comment on an unquoted value.
            let v = if v.starts_with(['"', '\'']) {
                v
            } else {
                v.split(" #").next().unwrap_or(v).trim()
            };
            out.insert(k.trim().to_owned(), unquote(v));
        }
    }
    out
}

/// Identity of a post file's content for change detection.
pub type Stamp = (SystemTime, u64);

/// All posts in `dir`, newest first, and the stamps of their files.
pub fn scan(dir: &Path, pattern: &str) -> Result<(Vec<Post>, HashMap<PathBuf, Stamp>), Error> {
    let mut posts = Vec::new();
    let mut stamps = HashMap::new();
    let entries = std::fs::read_dir(dir).map_err(Error::io("reading", dir))?;
    for entry in entries {
        let entry = entry.map_err(Error::io("reading", dir))?;
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        match read_post(&path, pattern) {
            Ok(Some(p)) => {
                stamps.insert(
                    path,
                    (
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        meta.len(),
                    ),
                );
                posts.push(p);
            }
            Ok(None) => {}
            // A post being written or unreadable is skipped this round, not fatal.
            Err(e) => log::warn!("skipping post: {e}"),
        }
    }
    sort_newest_first(&mut posts);
    Ok((posts, stamps))
}

/// Newest date first; on the same date a higher `sort_order` first, then the file name.
pub fn sort_newest_first(posts: &mut [Post]) {
    posts.sort_by(|a, b| {
        b.sort_key
            .cmp(&a.sort_key)
            .then(b.sort_order.unwrap_or(0).cmp(&a.sort_order.unwrap_or(0)))
            .then(b.path.cmp(&a.path))
    });
}

/// Posts that are new or changed in `now` compared with `before`, newest first.
pub fn changed(
    before: &HashMap<PathBuf, Stamp>,
    posts: &[Post],
    now: &HashMap<PathBuf, Stamp>,
) -> Vec<Post> {
    posts
        .iter()
        .filter(|p| before.get(&p.path) != now.get(&p.path))
        .cloned()
        .collect()
}

/// Small deterministic generator for the shuffle (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn from_time() -> Rng {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng(t ^ (u64::from(std::process::id()) << 32))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// The playlist: newest N in order, then the rest shuffled, forever. Breaking news goes first.
#[derive(Debug)]
pub struct Playlist {
    newest: usize,
    queue: VecDeque<Post>,
    rng: Rng,
}

impl Playlist {
    pub fn new(newest: usize, rng: Rng) -> Playlist {
        Playlist {
            newest,
            queue: VecDeque::new(),
            rng,
        }
    }

    /// A new round from `posts` (newest first).
    pub fn deal(&mut self, posts: &[Post]) {
        let n = self.newest.min(posts.len());
        let mut rest = posts[n..].to_vec();
        self.rng.shuffle(&mut rest);
        self.queue = posts[..n].iter().cloned().chain(rest).collect();
    }

    pub fn pop(&mut self) -> Option<Post> {
        self.queue.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Puts `post` first (and drops a later copy of it).
    pub fn push_front(&mut self, post: Post) {
        self.queue.retain(|p| p.path != post.path);
        self.queue.push_front(post);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATTERN: &str = "/:categories/:year/:month/:day/:title:output_ext";

    fn post(dir: &Path, name: &str, text: &str) -> Post {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        read_post(&p, PATTERN).expect("read").expect("a post")
    }

    #[test]
    fn front_matter_gives_title_permalink_date_and_jekyll_default_urls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = post(
            dir.path(),
            "2025-03-14-bots-everywhere.md",
            "---\nlayout: post\ntitle: \"Bots: everywhere\"\ndate: 2025-03-15 10:30:00 -0500\nsort_order: 2\n---\n# Hi\n",
        );
        assert_eq!(a.title, "Bots: everywhere");
        assert_eq!(a.day, "2025-03-15");
        assert_eq!(a.sort_order, Some(2));
        assert_eq!(a.url_path, "/2025/03/15/bots-everywhere.html");
        assert_eq!(a.spoken_date(), "March 15, 2025");
        assert_eq!(
            a.url("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/2025/03/15/bots-everywhere.html"
        );
        let b = post(
            dir.path(),
            "2024-01-02-x.md",
            "---\ntitle: 'It''s here'\npermalink: /futureproof/x/\ncategories: [Nix OS, tools]\n---\n",
        );
        assert_eq!(b.title, "It's here");
        assert_eq!(b.url_path, "/futureproof/x/");
        let c = post(
            dir.path(),
            "2024-01-03-no-title.md",
            "---\ncategories: [Nix OS, tools]\n---\nbody",
        );
        assert_eq!(c.title, "no title");
        assert_eq!(c.url_path, "/nix-os/tools/2024/01/03/no-title.html");
        std::fs::write(dir.path().join("notes.md"), "x").expect("write");
        std::fs::write(
            dir.path().join("2024-01-04-draft.md"),
            "---\npublished: false\n---\n",
        )
        .expect("write");
        let (posts, _) = scan(dir.path(), PATTERN).expect("scan");
        let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["Bots: everywhere", "no title", "It's here"]);
    }

    #[test]
    fn playlist_is_newest_in_order_then_the_rest_shuffled_and_news_goes_first() {
        let mk = |i: usize| Post {
            path: PathBuf::from(format!("/p/{i}")),
            title: format!("t{i}"),
            day: format!("2025-01-{:02}", 28 - i),
            sort_key: format!("2025-01-{:02} 00:00:00", 28 - i),
            sort_order: None,
            url_path: format!("/{i}/"),
        };
        let posts: Vec<Post> = (0..20).map(mk).collect();
        let mut pl = Playlist::new(3, Rng::seeded(7));
        pl.deal(&posts);
        let order: Vec<String> = std::iter::from_fn(|| pl.pop()).map(|p| p.title).collect();
        assert_eq!(order[..3], ["t0", "t1", "t2"]);
        let mut rest = order[3..].to_vec();
        assert_ne!(rest, (3..20).map(|i| format!("t{i}")).collect::<Vec<_>>());
        rest.sort();
        let mut want: Vec<String> = (3..20).map(|i| format!("t{i}")).collect();
        want.sort();
        assert_eq!(rest, want, "every other post exactly once");
        pl.deal(&posts);
        pl.push_front(mk(9));
        assert_eq!(pl.pop().map(|p| p.title).as_deref(), Some("t9"));
        assert_eq!(pl.len(), 19, "the news is not played twice in the round");
    }

    #[test]
    fn slugify_follows_jekyll_default_mode() {
        assert_eq!(slugify("Nix OS & Friends!"), "nix-os-friends");
        assert_eq!(slugify("--a--b--"), "a-b");
    }
}

//! The live pages of the site: the only possible redirect targets.
//!
//! `--site` is one of
//! - a built site directory: every `index.html` is the page of its folder (`/a/b/`), every
//!   other `*.html` a page of its own (`/a/b.html`); titles from `<title>`;
//! - a `sitemap.xml` file: the path of every `<loc>`;
//! - a Jekyll source folder (it has `_posts/`): every post under its permalink (front
//!   matter `permalink`, else `_config.yml`'s `permalink` style: `date` (Jekyll's default),
//!   `pretty`, `none`, or a `:year/:month/:day/:title` template), with its `title` and `date`;
//!   top-level pages with a `permalink` in their front matter.
//!
//! Paths are kept decoded, in the form of nginx's `$uri` (see [`crate::key`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::key;

/// A live page.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Page {
    /// Decoded path (`/blog/2024/05/hello/`).
    pub path: String,
    pub title: Option<String>,
    /// `YYYY-MM-DD` when known.
    pub date: Option<String>,
}

/// Why the site could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("cannot read site {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("site {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// Largest file read for a title or front matter.
const HEAD_BYTES: usize = 64 * 1024;

/// The live pages of `site`, sorted by path, without duplicates.
pub fn load(site: &Path) -> Result<Vec<Page>, SiteError> {
    let read_err = |source| SiteError::Read {
        path: site.to_owned(),
        source,
    };
    let meta = std::fs::metadata(site).map_err(read_err)?;
    let pages = if meta.is_file() {
        sitemap(site)?
    } else if site.join("_posts").is_dir() {
        jekyll(site)?
    } else {
        let mut pages = Vec::new();
        built(site, site, &mut pages)?;
        pages
    };
    let mut by_path: BTreeMap<String, Page> = BTreeMap::new();
    for page in pages {
        by_path.entry(page.path.clone()).or_insert(page);
    }
    if by_path.is_empty() {
        return Err(SiteError::Invalid {
            path: site.to_owned(),
            reason: "no pages found (expected a built site folder, a sitemap.xml or a Jekyll \
                     folder with _posts/)"
                .into(),
        });
    }
    Ok(by_path.into_values().collect())
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, SiteError> {
    let err = |source| SiteError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    Ok(entries)
}

fn head(path: &Path) -> Result<String, SiteError> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD_BYTES as u64).read_to_end(&mut buf))
        .map_err(|source| SiteError::Read {
            path: path.to_owned(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A built site folder. Symbolic links are not followed; hidden folders are skipped.
fn built(root: &Path, dir: &Path, pages: &mut Vec<Page>) -> Result<(), SiteError> {
    for entry in read_dir(dir)? {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(|source| SiteError::Read {
            path: entry.path(),
            source,
        })?;
        let path = entry.path();
        if file_type.is_dir() {
            built(root, &path, pages)?;
        } else if file_type.is_file() && (name.ends_with(".html") || name.ends_with(".htm")) {
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let Some(rel) = rel.to_str() else { continue };
            let url = if name == "index.html" {
                format!("/{}", rel.strip_suffix("index.html").unwrap_or(rel))
            } else {
                format!("/{rel}")
            };
            let title = html_title(&head(&path)?);
            let date = date_in(&url);
            pages.push(Page {
                path: url,
                title,
                date,
            });
        }
    }
    Ok(())
}

fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    let title = unescape_entities(html[open_end..end].trim());
    (!title.is_empty()).then_some(title)
}

fn unescape_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// `YYYY-MM-DD` from a `/YYYY/MM/DD/` run in a path, if any.
fn date_in(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split(['/', '-']).collect();
    parts.windows(3).find_map(|w| {
        let ok = w[0].len() == 4
            && w[1].len() == 2
            && w[2].len() == 2
            && w.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| format!("{}-{}-{}", w[0], w[1], w[2]))
    })
}

/// `<loc>` paths of a sitemap (other hosts' URLs are kept by path: a sitemap lists one site).
fn sitemap(file: &Path) -> Result<Vec<Page>, SiteError> {
    let text = std::fs::read_to_string(file).map_err(|source| SiteError::Read {
        path: file.to_owned(),
        source,
    })?;
    if text.contains("<sitemapindex") {
        return Err(SiteError::Invalid {
            path: file.to_owned(),
            reason: "a sitemap index; give one of the sitemaps it lists".into(),
        });
    }
    let mut pages = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<loc>") {
        let after = &rest[start + 5..];
        let Some(end) = after.find("</loc>") else {
            break;
        };
        let url = unescape_entities(after[..end].trim());
        rest = &after[end..];
        let path = match url.find("://") {
            Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
            None => url.as_str(),
        };
        let path = path.split('#').next().unwrap_or(path);
        let Ok(uri) = key::uri_bytes(path) else {
            continue;
        };
        let Ok(path) = String::from_utf8(uri) else {
            continue;
        };
        let date = date_in(&path);
        pages.push(Page {
            path,
            title: None,
            date,
        });
    }
    Ok(pages)
}

/// Front matter between the first two `---` lines: `key: value` pairs (quotes stripped,
/// lists `[a, b]` kept as text).
fn front_matter(text: &str) -> Option<BTreeMap<String, String>> {
    let mut lines = text.lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    let mut out = BTreeMap::new();
    for line in lines {
        if line.trim_end() == "---" {
            return Some(out);
        }
        if line.starts_with([' ', '\t', '-', '#']) {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            out.insert(k.trim().to_owned(), v.to_owned());
        }
    }
    None
}

fn config_permalink(root: &Path) -> Result<String, SiteError> {
    let config = root.join("_config.yml");
    if !config.is_file() {
        return Ok("date".into());
    }
    let text = head(&config)?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with([' ', '\t']))
        .find_map(|l| l.strip_prefix("permalink:"))
        .map(|v| v.trim().trim_matches(['"', '\'']).to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "date".into()))
}

fn jekyll(root: &Path) -> Result<Vec<Page>, SiteError> {
    let style = config_permalink(root)?;
    let template = match style.as_str() {
        "date" => "/:categories/:year/:month/:day/:title:output_ext",
        "pretty" => "/:categories/:year/:month/:day/:title/",
        "none" => "/:categories/:title:output_ext",
        "ordinal" => "/:categories/:year/:y_day/:title:output_ext",
        other => other,
    }
    .to_owned();
    let mut pages = Vec::new();
    for entry in read_dir(&root.join("_posts"))? {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if !matches!(ext, "md" | "markdown" | "html") || !path.is_file() {
            continue;
        }
        // YYYY-MM-DD-slug
        if stem.len() < 12 || date_in(&format!("/{}", &stem[..10])).is_none() {
            continue;
        }
        let (date, slug) = (&stem[..10], &stem[11..]);
        let fm = front_matter(&head(&path)?).unwrap_or_default();
        if fm.get("published").map(String::as_str) == Some("false") {
            continue;
        }
        let date = fm
            .get("date")
            .and_then(|d| d.get(..10))
            .filter(|d| date_in(&format!("/{d}")).is_some())
            .unwrap_or(date)
            .to_owned();
        let url = match fm.get("permalink") {
            Some(p) => p.clone(),
            None => {
                let slug = fm.get("slug").map_or(slug, String::as_str);
                let categories = fm
                    .get("categories")
                    .or_else(|| fm.get("category"))
                    .map(|c| {
                        c.trim_matches(['[', ']'])
                            .split([',', ' '])
                            .map(|s| s.trim().trim_matches(['"', '\'']).to_ascii_lowercase())
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .unwrap_or_default();
                let (y, m, d) = (&date[..4], &date[5..7], &date[8..10]);
                template
                    .replace(":categories", &categories)
                    .replace(":year", y)
                    .replace(":month", m)
                    .replace(":i_month", m.trim_start_matches('0'))
                    .replace(":day", d)
                    .replace(":i_day", d.trim_start_matches('0'))
                    .replace(":short_year", &y[2..])
                    .replace(":title", slug)
                    .replace(":slug", slug)
                    .replace(":output_ext", ".html")
            }
        };
        let Ok(uri) = key::uri_bytes(&url) else {
            continue;
        };
        let Ok(url) = String::from_utf8(uri) else {
            continue;
        };
        pages.push(Page {
            path: url,
            title: fm.get("title").cloned().filter(|t| !t.is_empty()),
            date: Some(date),
        });
    }
    // Top-level pages that name their URL.
    for entry in read_dir(root)? {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !(name.ends_with(".md") || name.ends_with(".html")) || !path.is_file() {
            continue;
        }
        let fm = front_matter(&head(&path)?).unwrap_or_default();
        if let Some(url) = fm.get("permalink")
            && let Ok(uri) = key::uri_bytes(url)
            && let Ok(url) = String::from_utf8(uri)
        {
            pages.push(Page {
                path: url,
                title: fm.get("title").cloned(),
                date: None,
            });
        }
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_dates_are_read() {
        assert_eq!(
            html_title("<html><head><TITLE> Fish &amp; Chips </TITLE>").as_deref(),
            Some("Fish & Chips")
        );
        assert_eq!(
            date_in("/blog/2019/03/07/x/").as_deref(),
            Some("2019-03-07")
        );
        assert_eq!(date_in("/2019-03-07-x").as_deref(), Some("2019-03-07"));
        assert_eq!(date_in("/blog/x/"), None);
    }

    #[test]
    fn front_matter_is_read() {
        let fm = front_matter("---\ntitle: \"Hello: world\"\npermalink: /hello/\n---\nbody")
            .expect("front matter");
        assert_eq!(fm["title"], "Hello: world");
        assert_eq!(fm["permalink"], "/hello/");
    }
}

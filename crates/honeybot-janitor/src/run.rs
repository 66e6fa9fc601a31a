//! One run: dead paths → ranked live pages → decisions → validated map → reload.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use honeybot_daemon::terminal::for_terminal;
use honeybot_db::redirects::{self, NewRedirect, Redirect, SaveError, Source, State};
use honeybot_db::{DbError, HoneyDb};

use crate::config::Settings;
use crate::git;
use crate::key;
use crate::llm::{Choice, Chooser};
use crate::map::{self, Line, MapError, Outcome, Publisher};
use crate::rank::Index;
use crate::site::{self, Page, SiteError};

/// One path in a report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    /// The dead path as a map key (nginx's `$uri`, lowercased), or as requested when it
    /// cannot be a key.
    pub from: String,
    pub to: Option<String>,
    pub source: Option<Source>,
    pub score: Option<f64>,
    pub reason: String,
    /// 404s from non-probing clients in the window (when the path was seen this run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hits: Option<u64>,
}

/// What the model did in a run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LlmStats {
    pub enabled: bool,
    pub queries: u64,
    pub seconds: f64,
    /// Why the model was not (or no longer) asked, if so.
    pub stopped: Option<String>,
}

/// Map lines a run adds and removes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The result of a run (`--format json` prints it).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// Distinct dead paths (keys) with at least `min_hits` 404s in the window.
    pub dead_paths: usize,
    /// Waiting for a person (`accept FROM`).
    pub proposed: Vec<Entry>,
    /// In the map.
    pub active: Vec<Entry>,
    /// Kept out of the map: by a person, by the model, or by a safety rule.
    pub rejected: Vec<Entry>,
    /// Dead paths not decided this run, with the reason.
    pub skipped: Vec<Entry>,
    pub live_pages: usize,
    pub map: PathBuf,
    /// `None` in a dry run.
    pub outcome: Option<Outcome>,
    pub dry_run: bool,
    pub changes: Changes,
    /// The commit holding the map's copy in `git_repo`, when this run made one.
    pub git_commit: Option<String>,
    pub llm: LlmStats,
    pub seconds: f64,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0} (give it with --{0} or `{0}` in the config)")]
    Missing(&'static str),
    #[error("database {0} does not exist")]
    NoDatabase(PathBuf),
    #[error(transparent)]
    Site(#[from] SiteError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("cannot set up the model client")]
    Llm(#[source] honeybot_llm::LlmError),
    #[error("the map is published and the decisions are saved, but committing it to git failed")]
    Git(#[source] crate::git::GitError),
}

impl RunError {
    /// 2: fix the command or config; 3: the map was not published (the old one stays);
    /// 1: anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Missing(_) | RunError::NoDatabase(_) => 2,
            RunError::Map(_) => 3,
            _ => 1,
        }
    }
}

/// Internal: the dry run's way out of the transaction (rolls it back).
#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("dry run")]
    DryRun(Box<Published>),
}

#[derive(Debug)]
struct Published {
    outcome: Option<Outcome>,
    active: Vec<Entry>,
    rejected: Vec<Entry>,
    proposed: Vec<Entry>,
    changes: Changes,
}

/// A dead path with its 404s, under its key.
#[derive(Debug, Default)]
struct Dead {
    hits: u64,
    clean_hits: u64,
    probe: bool,
}

/// Today's UTC date minus `days`, as `YYYY-MM-DD`.
pub fn since_date(now_unix: i64, days: u32) -> String {
    let day = now_unix.div_euclid(86_400) - i64::from(days) + 1;
    honeybot_logparse::Date::from_days_since_epoch(day).to_string()
}

/// Runs the janitor once with `settings`.
pub fn run(settings: &Settings) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let site_path = settings.site.as_ref().ok_or(RunError::Missing("site"))?;
    let map_path = settings.map.clone().ok_or(RunError::Missing("map"))?;
    if !settings.db.exists() {
        return Err(RunError::NoDatabase(settings.db.clone()));
    }
    let pages = site::load(site_path)?;
    log::info!(pages = pages.len(); "live pages of {}", site_path.display());
    // Live pages by key (lowercased, as the map compares).
    let live: HashMap<String, usize> = pages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.path.to_ascii_lowercase(), i))
        .collect();
    let db = HoneyDb::open(&settings.db, &honeybot_db::DbOptions::default())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let since = since_date(now, settings.days);
    let not_found = honeybot_db::not_found::not_found_paths(&db, &since)?;

    let mut skipped = Vec::new();
    let mut dead: BTreeMap<String, Dead> = BTreeMap::new();
    let mut refused: BTreeMap<String, (u64, key::Refused)> = BTreeMap::new();
    for nf in &not_found {
        match key::map_key(&nf.path, settings.max_key_bytes) {
            Ok(k) => {
                let d = dead.entry(k).or_default();
                d.hits += nf.hits;
                d.clean_hits += nf.clean_hits;
                d.probe |= nf.probe;
            }
            Err(why) => {
                let r = refused.entry(nf.path.clone()).or_insert((0, why));
                r.0 += nf.clean_hits;
            }
        }
    }
    for (path, (hits, why)) in refused {
        if hits >= settings.min_hits {
            skipped.push(Entry {
                from: shorten(&for_terminal(&path), 200),
                to: None,
                source: None,
                score: None,
                reason: format!("cannot be a map key: {why}"),
                hits: Some(hits),
            });
        }
    }
    let existing: HashMap<String, Redirect> = redirects::all(&db)?
        .into_iter()
        .map(|r| (r.from.clone(), r))
        .collect();

    let index = Index::new(&pages);
    let mut chooser = match &settings.llm {
        Some(l) => Some(Chooser::new(
            honeybot_llm::Client::new(l.client.clone()).map_err(RunError::Llm)?,
        )),
        None => None,
    };
    let mut llm = LlmStats {
        enabled: chooser.is_some(),
        ..LlmStats::default()
    };
    let max_queries = settings.llm.as_ref().map_or(0, |l| l.max_queries);

    let mut dead_paths = 0;
    let mut rows = Vec::new();
    // Busiest first: they get the model's limited attention.
    let mut order: Vec<(&String, &Dead)> = dead.iter().collect();
    order.sort_by(|a, b| b.1.clean_hits.cmp(&a.1.clean_hits).then(a.0.cmp(b.0)));
    for (from, d) in order {
        if d.hits < settings.min_hits {
            continue;
        }
        let skip = |reason: String| Entry {
            from: from.clone(),
            to: None,
            source: None,
            score: None,
            reason,
            hits: Some(d.clean_hits),
        };
        if d.probe {
            skipped.push(skip("exploit probe".into()));
            continue;
        }
        if d.clean_hits == 0 {
            skipped.push(skip("asked only by probing clients".into()));
            continue;
        }
        if d.clean_hits < settings.min_hits {
            skipped.push(skip(format!(
                "{} hit(s) from non-probing clients, fewer than min_hits",
                d.clean_hits
            )));
            continue;
        }
        dead_paths += 1;
        if live.contains_key(from) {
            skipped.push(skip("a live page now".into()));
            continue;
        }
        if let Some(row) = existing.get(from)
            && (row.state != State::Proposed || row.source == Source::Manual)
        {
            // Decided before (by a person, or for good): listed from the table below.
            continue;
        }
        let candidates = index.rank(from, settings.top_k);
        let Some(best) = candidates.first().copied() else {
            skipped.push(skip("no live page shares a word with it".into()));
            continue;
        };
        let second = candidates.get(1).map_or(0.0, |c| c.score);
        let target = |i: usize| pages[candidates[i].page].path.clone();
        let row = |to: Option<String>, source, state, score, note: String| NewRedirect {
            from: from.clone(),
            to,
            source,
            state,
            score: Some(score),
            note: Some(note),
        };
        if best.score >= settings.min_score && best.score - second >= settings.margin {
            rows.push(row(
                Some(target(0)),
                Source::Lexical,
                State::Active,
                best.score,
                format!("lexical: clearly ahead of the next candidate ({second:.2})"),
            ));
            continue;
        }
        if best.score < settings.llm_floor {
            skipped.push(skip(format!(
                "best candidate {} scores {:.2}, below llm_floor",
                target(0),
                best.score
            )));
            continue;
        }
        let ask = chooser
            .as_mut()
            .filter(|c| llm.stopped.is_none() && c.queries < max_queries);
        let Some(ch) = ask else {
            // Without a model (--no-llm, no [llm]) a good-enough lexical choice waits for
            // a person; with a model that failed or ran out of questions, the path stays
            // undecided for a later run.
            if chooser.is_none() && best.score >= settings.min_score {
                rows.push(row(
                    Some(target(0)),
                    Source::Lexical,
                    State::Proposed,
                    best.score,
                    format!("lexical: not clearly ahead of the next candidate ({second:.2})"),
                ));
            } else {
                let why = match (&chooser, &llm.stopped) {
                    (None, _) => "below min_score and no model to ask".to_owned(),
                    (Some(_), Some(s)) => format!("not clearly ahead; {s}"),
                    (Some(_), None) => "not clearly ahead; max_queries reached".to_owned(),
                };
                skipped.push(skip(format!(
                    "best candidate {} scores {:.2}: {why}",
                    target(0),
                    best.score
                )));
            }
            continue;
        };
        let shown: Vec<(&str, Option<&str>)> = candidates
            .iter()
            .filter(|c| c.score >= settings.llm_floor)
            .map(|c| (pages[c.page].path.as_str(), pages[c.page].title.as_deref()))
            .collect();
        match ch.choose(from, &shown) {
            Ok(Choice::Page(i)) => rows.push(row(
                Some(target(i)),
                Source::Llm,
                State::Active,
                candidates[i].score,
                format!("llm: chose {} of {} candidates", i + 1, shown.len()),
            )),
            Ok(Choice::None) => rows.push(row(
                None,
                Source::Llm,
                State::Rejected,
                best.score,
                format!("llm: none of {} candidates fits", shown.len()),
            )),
            Err(e) => {
                log::warn!(path = from.as_str(), error = e.to_string().as_str(); "model gave no usable answer; path left undecided");
                if e.is_fatal() {
                    log::warn!("not asking the model again in this run: {e}");
                    llm.stopped = Some(format!("model unavailable: {e}"));
                }
                skipped.push(skip(format!("model gave no usable answer: {e}")));
            }
        }
    }
    if let Some(c) = &chooser {
        llm.queries = c.queries;
        llm.seconds = c.elapsed.as_secs_f64();
    }

    let publisher = Publisher {
        map: &map_path,
        test_command: &settings.test_command,
        reload_command: settings.reload_command.as_deref(),
        map_hash_bucket_size: settings.map_hash_bucket_size,
    };
    let dry_run = settings.dry_run;
    let hits: HashMap<&str, u64> = dead
        .iter()
        .map(|(k, d)| (k.as_str(), d.clean_hits))
        .collect();
    let mut published_map = None;
    let result = redirects::save_run(&db, &rows, |all| {
        let mut published = plan(all, &pages, &live, settings, &hits);
        let content = map::render(&published.1);
        let old = std::fs::read_to_string(&map_path).unwrap_or_default();
        published.0.changes = diff(&old, &content);
        if dry_run {
            return Err(PublishError::DryRun(Box::new(published.0)));
        }
        published.0.outcome = Some(publisher.publish(&content)?);
        published_map = Some(content);
        Ok(published.0)
    });
    let published = match result {
        Ok(p) => p,
        Err(SaveError::Publish(PublishError::DryRun(p))) => *p,
        Err(SaveError::Publish(PublishError::Map(e))) => return Err(e.into()),
        Err(SaveError::Db(e)) => return Err(e.into()),
    };
    // After the map is live and the decisions are saved: a failure here loses neither.
    let git_commit = match (&settings.git, &published_map) {
        (Some(target), Some(content)) => git::commit_map(target, content).map_err(RunError::Git)?,
        _ => None,
    };
    if let Some(id) = &git_commit {
        log::info!(commit = id.as_str(); "map committed to {}", settings.git.as_ref().map_or_else(String::new, |g| g.repo.display().to_string()));
    }
    let report = RunReport {
        dead_paths,
        proposed: published.proposed,
        active: published.active,
        rejected: published.rejected,
        skipped,
        live_pages: pages.len(),
        map: map_path,
        outcome: published.outcome,
        dry_run,
        changes: published.changes,
        git_commit,
        llm,
        seconds: started.elapsed().as_secs_f64(),
    };
    log::info!(
        dead_paths = report.dead_paths,
        active = report.active.len(),
        proposed = report.proposed.len(),
        rejected = report.rejected.len(),
        skipped = report.skipped.len(),
        llm_queries = report.llm.queries;
        "janitor run done{}",
        if dry_run { " (dry run: nothing written)" } else { "" }
    );
    Ok(report)
}

/// Sorts every stored row into the map, the proposals and the rejections, applying the
/// safety rules to what would go into the map.
fn plan(
    all: &[Redirect],
    pages: &[Page],
    live: &HashMap<String, usize>,
    settings: &Settings,
    hits: &HashMap<&str, u64>,
) -> (Published, Vec<Line>) {
    let mut out = Published {
        outcome: None,
        active: Vec::new(),
        rejected: Vec::new(),
        proposed: Vec::new(),
        changes: Changes::default(),
    };
    let entry = |r: &Redirect, reason: String| Entry {
        from: for_terminal(&r.from),
        to: r.to.as_deref().map(for_terminal),
        source: Some(r.source),
        score: r.score,
        reason,
        hits: hits.get(r.from.as_str()).copied(),
    };
    let mut candidates: Vec<(&Redirect, String, String)> = Vec::new();
    let mut keys = HashSet::new();
    for r in all {
        let note = r.note.clone().unwrap_or_default();
        match r.state {
            State::Proposed => out.proposed.push(entry(r, note)),
            State::Rejected | State::Retired => out.rejected.push(entry(r, note)),
            State::Active => {
                // The stored key must be a key of itself (a hand-edited table is not trusted).
                let check = key::map_key(&r.from, settings.max_key_bytes).and_then(|k| {
                    key::quote_key(k.as_bytes(), settings.max_key_bytes).map(|t| (k, t))
                });
                let (k, token) = match check {
                    Ok(kt) => kt,
                    Err(why) => {
                        out.rejected
                            .push(entry(r, format!("not a safe map key: {why}")));
                        continue;
                    }
                };
                if k != r.from {
                    out.rejected
                        .push(entry(r, format!("not in map-key form (would be {k})")));
                    continue;
                }
                if live.contains_key(&k) {
                    out.rejected
                        .push(entry(r, "the path is a live page now".into()));
                    continue;
                }
                let Some(to) = r.to.as_deref() else {
                    out.rejected.push(entry(r, "no target".into()));
                    continue;
                };
                // The target must be a live page (which also rules out other hosts, chains
                // and loops: a live page is never a key).
                let Some(&page) = key::map_key(to, usize::MAX).ok().and_then(|t| live.get(&t))
                else {
                    out.rejected.push(entry(
                        r,
                        format!("target {} is not a live page", for_terminal(to)),
                    ));
                    continue;
                };
                let Some(location) = key::location(&pages[page].path) else {
                    out.rejected
                        .push(entry(r, "target cannot be written as a location".into()));
                    continue;
                };
                if !keys.insert(k.clone()) {
                    continue;
                }
                candidates.push((r, token, location));
            }
        }
    }
    // Over the limit: people's choices first, then the best scores.
    candidates.sort_by(|a, b| {
        (b.0.source == Source::Manual)
            .cmp(&(a.0.source == Source::Manual))
            .then(
                b.0.score
                    .unwrap_or(1.0)
                    .total_cmp(&a.0.score.unwrap_or(1.0)),
            )
            .then(a.0.from.cmp(&b.0.from))
    });
    let mut lines = Vec::new();
    for (n, (r, key_token, location)) in candidates.into_iter().enumerate() {
        if n >= settings.max_entries {
            out.rejected.push(entry(
                r,
                format!("over max_entries ({})", settings.max_entries),
            ));
            continue;
        }
        out.active
            .push(entry(r, r.note.clone().unwrap_or_default()));
        lines.push(Line {
            key_token,
            location,
        });
    }
    lines.sort_by(|a, b| a.key_token.cmp(&b.key_token));
    (out, lines)
}

/// Entry lines of the new map that the old one lacks, and the other way round.
pub(crate) fn diff(old: &str, new: &str) -> Changes {
    let entries = |s: &str| -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| l.starts_with('"'))
            .map(str::to_owned)
            .collect()
    };
    let (old, new) = (entries(old), entries(new));
    let old_set: HashSet<&String> = old.iter().collect();
    let new_set: HashSet<&String> = new.iter().collect();
    Changes {
        added: new
            .iter()
            .filter(|l| !old_set.contains(l))
            .cloned()
            .collect(),
        removed: old
            .iter()
            .filter(|l| !new_set.contains(l))
            .map(|l| for_terminal(l))
            .collect(),
    }
}

/// At most `max` characters of `s`, marked when cut.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}... ({} bytes)", &s[..at], s.len()),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_calendar_date() {
        // 2026-12-05T12:00:00Z
        assert_eq!(since_date(1_796_472_000, 1), "2026-12-05");
        assert_eq!(since_date(1_796_472_000, 5), "2026-12-01");
        assert_eq!(since_date(1_796_472_000, 339), "2026-01-01");
        assert_eq!(since_date(951_825_600, 1), "2000-02-29");
    }
}

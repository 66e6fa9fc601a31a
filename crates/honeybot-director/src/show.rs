//! The show loop.
//!
//! Per item: wait until the page answers 200 (saying `page.notice` when it takes a while),
//! open it in a new browser, say the article lines and queue the post's Markdown, keep the
//! page on screen until the narrator's `finished` event for the post (and at least
//! `min_show_secs`), close the browser. Between items a station ID when it is due. Every wait
//! races the control socket, the posts watcher and the watchdog tick: `next` and `stop` cut
//! the item, a new or changed post cuts it with the breaking-news line (priority interrupt).

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use honeybot_daemon::Notifier;
use honeybot_narrator::protocol::{EndReason, Request};
use tokio::sync::mpsc;

use crate::Error;
use crate::browser::Browser;
use crate::config::{Config, fill};
use crate::control::{Command, Shared, Status};
use crate::curator::{self, Playlist, Post, Rng, Stamp};
use crate::state::StateDir;
use crate::voice::{self, Ears, Speaker};
use crate::watch::Watcher;

/// Everything the show needs, resolved by the caller.
#[derive(Debug)]
pub struct Setup {
    pub cfg: Config,
    pub posts: PathBuf,
    pub site_url: String,
    pub narrator_socket: PathBuf,
    /// Play the newest article once and return.
    pub once: bool,
}

/// Why a wait ended early.
#[derive(Debug)]
enum Cut {
    Next,
    Stop,
    News,
    Failed(Error),
}

impl From<Error> for Cut {
    fn from(e: Error) -> Cut {
        Cut::Failed(e)
    }
}

struct Ctx {
    cfg: Config,
    posts: PathBuf,
    site: String,
    state: StateDir,
    shared: Shared,
    notifier: Notifier,
    cmds: mpsc::UnboundedReceiver<Command>,
    watcher: Option<Watcher>,
    stamps: std::collections::HashMap<PathBuf, Stamp>,
    news: Vec<Post>,
    speaker: Speaker,
    http: reqwest::Client,
    window: Option<String>,
    next_heartbeat: Option<Instant>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").finish_non_exhaustive()
    }
}

impl Ctx {
    fn set(&mut self, f: impl FnOnce(&mut Status)) {
        let line = match self.shared.lock() {
            Ok(mut s) => {
                f(&mut s);
                s.line()
            }
            Err(_) => return,
        };
        self.notifier.status(&line);
    }

    /// Runs `fut` while handling control commands, posts changes, heartbeat and watchdog.
    async fn race<F: Future>(&mut self, fut: F) -> Result<F::Output, Cut> {
        tokio::pin!(fut);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                out = &mut fut => return Ok(out),
                cmd = self.cmds.recv() => match cmd {
                    Some(Command::Pause) => {
                        if let Err(e) = self.speaker.command(Request::Pause).await {
                            return Err(Cut::Failed(e));
                        }
                        self.set(|s| s.paused = true);
                    }
                    Some(Command::Resume) => {
                        if let Err(e) = self.speaker.command(Request::Resume).await {
                            return Err(Cut::Failed(e));
                        }
                        self.set(|s| s.paused = false);
                    }
                    Some(Command::Next) => return Err(Cut::Next),
                    Some(Command::Stop) | None => return Err(Cut::Stop),
                    Some(Command::Status) => {}
                },
                () = changed(&mut self.watcher) => {
                    if self.rescan_for_news() {
                        return Err(Cut::News);
                    }
                }
                _ = tick.tick() => self.on_tick(),
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.notifier.watchdog(now);
        let (Some(due), Some(win)) = (self.next_heartbeat, self.window.clone()) else {
            return;
        };
        if now < due {
            return;
        }
        let every = Duration::from_secs_f64(self.cfg.heartbeat.interval_secs);
        self.next_heartbeat = Some(now + every);
        if self.heartbeat.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let actions = self.cfg.heartbeat.actions.clone();
        let step = Duration::from_secs_f64(self.cfg.heartbeat.step_secs);
        log::debug!(window = win.as_str(); "heartbeat");
        self.heartbeat = Some(tokio::spawn(run_actions(actions, win, step)));
    }

    fn stop_heartbeat(&mut self) {
        self.window = None;
        self.next_heartbeat = None;
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }

    /// Reads the posts folder; true when a post is new or changed (kept in `self.news`).
    fn rescan_for_news(&mut self) -> bool {
        let (posts, stamps) = match curator::scan(&self.posts, &self.cfg.permalink) {
            Ok(x) => x,
            Err(e) => {
                log::warn!("{e}");
                return false;
            }
        };
        let news = curator::changed(&self.stamps, &posts, &stamps);
        self.stamps = stamps;
        if news.is_empty() {
            return false;
        }
        for p in &news {
            log::info!(post = p.path.display().to_string().as_str(); "breaking news: {}", p.title);
        }
        self.news = news;
        true
    }
}

/// The watcher's next change, or never without one.
async fn changed(w: &mut Option<Watcher>) {
    match w {
        Some(w) => w.changed().await,
        None => std::future::pending().await,
    }
}

/// A heartbeat: each action in order, `step` apart; `{window}` is the browser's window.
async fn run_actions(actions: Vec<Vec<String>>, window: String, step: Duration) {
    for (i, action) in actions.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(step).await;
        }
        let argv: Vec<String> = action
            .iter()
            .map(|a| a.replace("{window}", &window))
            .collect();
        let out = tokio::process::Command::new(&argv[0])
            .args(&argv[1..])
            .kill_on_drop(true)
            .stdin(std::process::Stdio::null())
            .output();
        match tokio::time::timeout(Duration::from_secs(10), out).await {
            Ok(Ok(o)) if o.status.success() => log::debug!("heartbeat action {argv:?} done"),
            Ok(Ok(o)) => log::warn!(
                "heartbeat action {argv:?}: {}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Ok(Err(e)) => log::warn!("heartbeat action {argv:?}: {e}"),
            Err(_) => log::warn!("heartbeat action {argv:?} took over 10 s"),
        }
    }
}

/// Polls `url` until it answers 200 or `limit` passes; true on 200.
async fn page_ready(http: &reqwest::Client, url: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match http.get(url).send().await {
            Ok(r) if r.status() == reqwest::StatusCode::OK => return true,
            Ok(r) => log::debug!("{url}: {}", r.status()),
            Err(e) => log::debug!("{url}: {e}"),
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        tokio::time::sleep((deadline - now).min(Duration::from_millis(250))).await;
    }
}

/// Runs the show until `stop` (or the end of `--once`). `cmds` carries the control socket's
/// commands and the shutdown (as [`Command::Stop`]).
pub async fn run(
    setup: Setup,
    state: StateDir,
    shared: Shared,
    cmds: mpsc::UnboundedReceiver<Command>,
    mut notifier: Notifier,
) -> Result<(), Error> {
    let Setup {
        cfg,
        posts,
        site_url,
        narrator_socket,
        once,
    } = setup;
    let (speaker, mut ears) = voice::connect(&narrator_socket).await?;
    let (all, stamps) = curator::scan(&posts, &cfg.permalink)?;
    let watcher = (!once).then(|| Watcher::start(&posts, &cfg.watch));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Spawn {
            command: "the HTTP client".into(),
            source: std::io::Error::other(e),
        })?;
    let mut ctx = Ctx {
        posts: posts.clone(),
        site: site_url,
        state,
        shared,
        notifier: Notifier::disabled(),
        cmds,
        stamps,
        news: Vec::new(),
        speaker,
        http,
        window: None,
        next_heartbeat: None,
        heartbeat: None,
        watcher,
        cfg,
    };
    let watch_mode = ctx.watcher.as_ref().map_or("off", |w| w.mode);
    notifier.ready(&format!("{} posts, watching: {watch_mode}", all.len()));
    ctx.notifier = notifier;
    ctx.set(|s| {
        s.state = "starting".into();
        s.watch = watch_mode.into();
    });
    if !ctx.cfg.intro.is_empty() {
        let intro = ctx.cfg.intro.clone();
        ctx.speaker.text(&intro, false).await?;
    }
    let result = if once {
        let newest = all.first().cloned().ok_or(Error::NoPosts { path: posts })?;
        match play(&mut ctx, &mut ears, &newest).await {
            Ok(()) => Ok(()),
            Err(Cut::Failed(e)) => Err(e),
            Err(_) => Err(Error::Interrupted),
        }
    } else {
        forever(&mut ctx, &mut ears).await
    };
    ctx.set(|s| s.state = "stopping".into());
    ctx.notifier.stopping("closing");
    if let Err(e) = ctx.speaker.command(Request::Stop).await {
        log::debug!("stopping the narration: {e}");
    }
    ctx.state.finish();
    result
}

async fn forever(ctx: &mut Ctx, ears: &mut Ears) -> Result<(), Error> {
    let mut playlist = Playlist::new(ctx.cfg.newest, Rng::from_time());
    let station_every = Duration::from_secs_f64(ctx.cfg.station_id.interval_secs);
    let mut last_station = Instant::now();
    loop {
        if !ctx.news.is_empty() {
            for p in std::mem::take(&mut ctx.news).into_iter().rev() {
                playlist.push_front(p);
            }
        }
        if playlist.is_empty() {
            let (all, _) = curator::scan(&ctx.posts, &ctx.cfg.permalink)?;
            if all.is_empty() {
                log::warn!("no posts in {}; waiting for one", ctx.posts.display());
                ctx.set(|s| s.state = "waiting for posts".into());
                match ctx.race(tokio::time::sleep(Duration::from_secs(30))).await {
                    Ok(()) | Err(Cut::News | Cut::Next) => continue,
                    Err(Cut::Stop) => return Ok(()),
                    Err(Cut::Failed(e)) => return Err(e),
                }
            }
            playlist.deal(&all);
        }
        let Some(post) = playlist.pop() else {
            continue;
        };
        ctx.set(|s| s.queued = playlist.len());
        match play(ctx, ears, &post).await {
            Ok(()) => {}
            Err(Cut::Next) => {
                log::info!("next: skipping {}", post.title);
                ctx.speaker.command(Request::Stop).await?;
            }
            Err(Cut::Stop) => return Ok(()),
            // The breaking-news line was said in `play`; the news is first in the playlist.
            Err(Cut::News) => continue,
            Err(Cut::Failed(e @ Error::Narrator(_))) => return Err(e),
            Err(Cut::Failed(e)) => {
                log::warn!("{}: {e}", post.title);
                // A page that never answers or a browser that shows nothing: next item,
                // after a pause so a broken setup does not spin.
                ctx.set(|s| s.state = "between".into());
                if let Err(Cut::Stop) = ctx.race(tokio::time::sleep(Duration::from_secs(2))).await {
                    return Ok(());
                }
                continue;
            }
        }
        // Between items: the station ID, never over an article.
        if !station_every.is_zero() && last_station.elapsed() >= station_every {
            last_station = Instant::now();
            ctx.set(|s| {
                s.state = "station-id".into();
                s.title = None;
                s.url = None;
            });
            let text = ctx.cfg.station_id.text.clone();
            let id = ctx.speaker.text(&text, false).await?;
            match ctx.race(ears.finished(id)).await {
                Ok(r) => {
                    r?;
                }
                Err(Cut::Stop) => return Ok(()),
                Err(Cut::News) => breaking(ctx).await?,
                Err(Cut::Next) => ctx.speaker.command(Request::Stop).await?,
                Err(Cut::Failed(e)) => return Err(e),
            }
        }
    }
}

/// Says the breaking-news line, cutting current speech and dropping the narrator's queue.
async fn breaking(ctx: &mut Ctx) -> Result<(), Error> {
    let line = ctx.cfg.breaking_line.clone();
    ctx.speaker.text(&line, true).await?;
    ctx.set(|s| s.breaking += 1);
    Ok(())
}

/// One article, start to finish; the browser is closed and its profile removed on every path.
async fn play(ctx: &mut Ctx, ears: &mut Ears, post: &Post) -> Result<(), Cut> {
    let url = post.url(&ctx.site);
    ctx.set(|s| {
        s.state = "waiting".into();
        s.title = Some(post.title.clone());
        s.url = Some(url.clone());
        s.reading = None;
    });
    let date = post.spoken_date();
    // 1. The page must really be served.
    let page = &ctx.cfg.page;
    let (notice_after, total) = (
        Duration::from_secs_f64(page.notice_after_secs.min(page.timeout_secs)),
        Duration::from_secs_f64(page.timeout_secs),
    );
    let http = ctx.http.clone();
    let ready = match ctx.race(page_ready(&http, &url, notice_after)).await {
        Err(Cut::News) => return Err(breaking(ctx).await.err().map_or(Cut::News, Cut::Failed)),
        r => r?,
    };
    if !ready {
        let notice = fill(&ctx.cfg.page.notice, &post.title, &date, &url);
        log::info!("waiting for {url} to answer 200");
        ctx.speaker.text(&notice, false).await?;
        let ready = match ctx
            .race(page_ready(&http, &url, total - notice_after))
            .await
        {
            Err(Cut::News) => return Err(breaking(ctx).await.err().map_or(Cut::News, Cut::Failed)),
            r => r?,
        };
        if !ready {
            return Err(Cut::Failed(Error::PageTimeout {
                url,
                secs: total.as_secs_f64(),
            }));
        }
    }
    // 2. A new browser.
    ctx.set(|s| s.state = "opening".into());
    let mut browser = Browser::launch(&ctx.cfg.browser, &url, &mut ctx.state)?;
    let mut result = show(ctx, ears, post, &url, &date, &mut browser).await;
    if let Err(Cut::News) = result {
        // Cut the voice first, then the picture.
        if let Err(e) = breaking(ctx).await {
            result = Err(Cut::Failed(e));
        }
    }
    ctx.stop_heartbeat();
    ctx.set(|s| {
        s.browser = None;
        s.window = None;
        s.reading = None;
        s.state = "between".into();
    });
    let grace = Duration::from_secs_f64(ctx.cfg.browser.close_timeout_secs);
    browser.close(grace, &mut ctx.state).await;
    result
}

async fn show(
    ctx: &mut Ctx,
    ears: &mut Ears,
    post: &Post,
    url: &str,
    date: &str,
    browser: &mut Browser,
) -> Result<(), Cut> {
    let limit = Duration::from_secs_f64(ctx.cfg.browser.window_timeout_secs);
    let win = ctx.race(browser.wait_window(limit)).await??;
    let shown_at = Instant::now();
    log::info!(window = win.as_str(); "showing {url}");
    ctx.window = Some(win.clone());
    if ctx.cfg.heartbeat.interval_secs > 0.0 && !ctx.cfg.heartbeat.actions.is_empty() {
        ctx.next_heartbeat =
            Some(shown_at + Duration::from_secs_f64(ctx.cfg.heartbeat.interval_secs));
    }
    let kind = browser.kind.as_str();
    ctx.set(|s| {
        s.state = "showing".into();
        s.browser = Some(kind.into());
        s.window = Some(win.clone());
    });
    // 3. The narration: the article lines, then the post itself.
    for line in ctx.cfg.article_lines.clone() {
        let text = fill(&line, &post.title, date, url);
        ctx.speaker.text(&text, false).await?;
    }
    let job = ctx.speaker.file(&post.path).await?;
    ctx.set(|s| s.reading = Some(job));
    let reason = ctx.race(ears.finished(job)).await??;
    let min = Duration::from_secs_f64(ctx.cfg.min_show_secs);
    ctx.race(tokio::time::sleep_until((shown_at + min).into()))
        .await?;
    if reason == EndReason::Done {
        ctx.set(|s| s.played += 1);
        log::info!(job = job; "read to the end: {}", post.title);
        Ok(())
    } else {
        Err(Cut::Failed(Error::Narration {
            title: post.title.clone(),
            reason: reason.as_str().into(),
        }))
    }
}

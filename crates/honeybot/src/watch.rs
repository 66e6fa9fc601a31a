//! `honeybot watch`: a live terminal dashboard over HoneyDB.
//!
//! - [`source`] reads the `recent_requests` ring and the day's figures, read-only, polling
//!   only when `PRAGMA data_version` says something was committed;
//! - [`state`] holds what is shown, every network string escaped on the way in;
//! - [`ui`] lays it out (tested on ratatui's `TestBackend`);
//! - this file owns the terminal: raw mode and the alternate screen on entry, restored on
//!   every way out (return, error, panic hook, SIGTERM/SIGHUP/SIGINT, a terminal that hung
//!   up). Mouse capture is never enabled, so the terminal never sends mouse escape sequences.

mod source;
mod state;
mod ui;

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::WatchArgs;
use source::Source;
use state::State;

/// How many requests the dashboard keeps (more than any screen shows).
const KEEP: usize = 1000;
/// How often the database is asked whether something was committed; the stream shows a
/// commit within this delay plus one query.
const TICK: Duration = Duration::from_millis(200);
/// The panels are recomputed at most this often while requests arrive...
const PANELS_MIN_INTERVAL: Duration = Duration::from_secs(1);
/// ...and at least this often (the requests-per-minute figure decays when nothing comes).
const PANELS_MAX_INTERVAL: Duration = Duration::from_secs(5);

pub(crate) fn run(args: &WatchArgs) -> anyhow::Result<()> {
    // Everything that can fail on bad input fails before the terminal is touched.
    let mut source = Source::open(&args.db)?;
    let mut state = State::new(&args.db.display().to_string(), KEEP);
    state.backfill(source.newest(KEEP)?);
    state.panels = source.panels(unix_now())?.sanitized();
    if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        anyhow::bail!(
            "honeybot watch draws on a terminal and reads its keys: standard input and output \
             must both be one"
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install a signal handler")?;
    }
    install_panic_hook();
    let _screen = Screen::enter()?;
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .context("cannot start drawing on the terminal")?;
    event_loop(
        &mut term,
        &mut source,
        &mut state,
        &stop,
        args.panic_after_draw,
    )
}

fn event_loop(
    term: &mut Terminal<CrosstermBackend<std::io::Stdout>>,
    source: &mut Source,
    state: &mut State,
    stop: &AtomicBool,
    panic_after_draw: bool,
) -> anyhow::Result<()> {
    let mut dirty = true;
    let mut panels_stale = false;
    let mut panels_at = Instant::now();
    source.changed()?; // the first call only records the version
    while !stop.load(Ordering::Relaxed) {
        if source.changed()? {
            loop {
                let rows = source.after(state.last_seen, KEEP)?;
                let full = rows.len() == KEEP;
                if state.arrived(rows) > 0 {
                    dirty = true;
                    panels_stale = true;
                }
                if !full {
                    break;
                }
            }
        }
        let since = panels_at.elapsed();
        if (panels_stale && since >= PANELS_MIN_INTERVAL) || since >= PANELS_MAX_INTERVAL {
            let panels = source.panels(unix_now())?.sanitized();
            if panels != state.panels {
                state.panels = panels;
                dirty = true;
            }
            panels_stale = false;
            panels_at = Instant::now();
        }
        if dirty {
            term.draw(|f| ui::draw(f, state))
                .context("cannot draw on the terminal")?;
            dirty = false;
            if panic_after_draw {
                panic!("--panic-after-draw: the test of the panic hook");
            }
        }
        if terminal_hung_up() {
            break; // nobody to draw for; the tty's end of file would be read forever
        }
        if event::poll(TICK).context("cannot read the terminal")? {
            match event::read().context("cannot read the terminal")? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    let ctrl_c =
                        k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                    if ctrl_c || matches!(k.code, KeyCode::Char('q' | 'Q') | KeyCode::Esc) {
                        break;
                    }
                }
                Event::Resize(..) => {
                    term.autoresize().context("cannot resize")?;
                    dirty = true;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Whether the terminal went away (the terminal emulator, tmux pane or SSH connection
/// closed): standard input reports a hang-up or an error instead of keys.
fn terminal_hung_up() -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let stdin = std::io::stdin();
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(_) => fds[0].revents().is_some_and(|r| {
            r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
        }),
        Err(nix::errno::Errno::EINTR) => false,
        Err(_) => true,
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Whether the terminal is in the dashboard's mode (raw, alternate screen, hidden cursor).
static ENTERED: AtomicBool = AtomicBool::new(false);

/// The terminal in the dashboard's mode while this lives.
struct Screen;

impl Screen {
    fn enter() -> anyhow::Result<Screen> {
        terminal::enable_raw_mode().context("cannot put the terminal in raw mode")?;
        ENTERED.store(true, Ordering::SeqCst);
        // From here on `Screen`'s drop (or the panic hook) restores the terminal.
        let screen = Screen;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )
        .context("cannot switch to the alternate screen")?;
        Ok(screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as it was: main screen, cursor shown, cooked mode. Once.
fn restore() {
    if ENTERED.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
        let _ = terminal::disable_raw_mode();
        let _ = out.flush();
    }
}

/// A panic restores the terminal first, so its message is readable and the shell usable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

//! Lays the [`State`] out on a ratatui frame: a header with the day's totals and the rate,
//! the request stream (newest at the bottom), and the panels (JS executors, Markdown
//! readers, AI operators) beside it when the terminal is wide enough. Pure: it draws what
//! the state holds, whose strings are already escaped.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use super::state::{Request, State, Tally};

/// Below this width the panels give their room to the stream.
pub const PANELS_MIN_WIDTH: u16 = 110;
const PANELS_WIDTH: u16 = 42;

/// Draws the whole dashboard.
pub fn draw(frame: &mut Frame<'_>, state: &State) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_lines(state)), header);
    if body.width >= PANELS_MIN_WIDTH {
        let [stream, side] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(PANELS_WIDTH)]).areas(body);
        draw_stream(frame, stream, state);
        draw_panels(frame, side, state);
    } else {
        draw_stream(frame, body, state);
    }
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" q ", Style::new().add_modifier(Modifier::REVERSED)),
            Span::raw(" quit   "),
            Span::styled("AI", ai_style()),
            Span::raw(" AI agent   "),
            Span::styled("JS", trap_style()),
            Span::raw(" trap.js / beacon"),
        ])),
        footer,
    );
}

fn header_lines(state: &State) -> Vec<Line<'static>> {
    let p = &state.panels;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mode = p
        .ip_mode
        .clone()
        .unwrap_or_else(|| "not recorded yet".into());
    let day = p.day.clone().unwrap_or_else(|| "no requests yet".into());
    vec![
        Line::from(vec![
            Span::styled("honeybot watch", bold),
            Span::raw(format!("  {}  clients stored: {mode}", state.db_label)),
        ]),
        Line::from(vec![
            Span::raw(format!("{day}: ")),
            Span::styled(p.requests_today.to_string(), bold),
            Span::raw(" requests, "),
            Span::styled(p.clients_today.to_string(), bold),
            Span::raw(" clients   "),
            Span::styled(p.requests_total.to_string(), bold),
            Span::raw(" in all   "),
            Span::styled(p.per_minute.to_string(), bold),
            Span::raw(" req/min   "),
            Span::styled(state.seen_since_start.to_string(), bold),
            Span::raw(" new since start"),
        ]),
    ]
}

/// Four-letter badge of a user-agent class (`----` when not classified yet).
pub fn badge(class: Option<&str>) -> String {
    match class {
        None => "----".into(),
        Some("ai-crawler") => "AI-C".into(),
        Some("ai-assistant") => "AI-A".into(),
        Some("search") => "SRCH".into(),
        Some("seo") => "SEO".into(),
        Some("social") => "SOCL".into(),
        Some("monitor") => "MON".into(),
        Some("scanner") => "SCAN".into(),
        Some("script") => "SCRP".into(),
        Some("bot") => "BOT".into(),
        Some("browser") => "BRWS".into(),
        Some("unknown") => "UNKN".into(),
        Some(other) => other.chars().take(4).collect::<String>().to_uppercase(),
    }
}

fn status_style(status: u16) -> Style {
    let color = match status {
        200..=299 => Color::Green,
        300..=399 => Color::Cyan,
        400..=499 => Color::Yellow,
        500..=599 => Color::Red,
        _ => Color::Gray,
    };
    Style::new().fg(color)
}

fn ai_style() -> Style {
    Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)
}

fn trap_style() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// `HH:MM:SS` (UTC) of Unix seconds.
pub fn clock(ts: i64) -> String {
    let s = ts.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Width of the client column.
const CLIENT_WIDTH: usize = 16;

/// The client, shortened in the middle when it is wider than its column: both ends of an
/// IPv6 address or a hash tell clients apart, a cut-off tail would not.
pub fn short_client(client: &str) -> String {
    let n = client.chars().count();
    if n <= CLIENT_WIDTH {
        return client.to_owned();
    }
    let head: String = client.chars().take(7).collect();
    let tail: String = client.chars().skip(n - 8).collect();
    format!("{head}…{tail}")
}

fn request_row(r: &Request) -> Row<'static> {
    let class_style = if r.is_ai() {
        ai_style()
    } else {
        Style::new().fg(Color::DarkGray)
    };
    let path_style = if r.is_trap() {
        trap_style()
    } else {
        Style::new()
    };
    Row::new(vec![
        Line::raw(clock(r.ts)),
        Line::raw(short_client(&r.client)),
        Line::styled(r.status.to_string(), status_style(r.status)),
        Line::styled(badge(r.class.as_deref()), class_style),
        Line::from(vec![
            Span::raw(format!("{} ", r.method)),
            Span::styled(r.path.clone(), path_style),
        ]),
        agent_line(r),
    ])
}

/// The user agent: the token that classified it first (bold; magenta for AI agents), then
/// the whole string, dimmed when a token already names it.
fn agent_line(r: &Request) -> Line<'static> {
    let name_style = if r.is_ai() {
        ai_style()
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    };
    match &r.agent {
        Some(agent) => Line::from(vec![
            Span::styled(agent.clone(), name_style),
            Span::styled(
                format!(" {}", r.user_agent),
                Style::new().fg(Color::DarkGray),
            ),
        ]),
        None if r.is_ai() => Line::styled(r.user_agent.clone(), ai_style()),
        None => Line::raw(r.user_agent.clone()),
    }
}

fn draw_stream(frame: &mut Frame<'_>, area: Rect, state: &State) {
    let visible = usize::from(area.height.saturating_sub(3)); // borders + column header
    let rows: Vec<Row<'static>> = state.newest(visible).map(request_row).collect();
    let header = Row::new(["time", "client", "st", "kind", "request", "user agent"])
        .style(Style::new().add_modifier(Modifier::UNDERLINED));
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Max(CLIENT_WIDTH as u16),
            Constraint::Length(3),
            Constraint::Length(4),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .block(Block::bordered().title(format!(" requests (newest {} kept) ", state.len())));
    frame.render_widget(table, area);
}

fn tally_lines(items: &[Tally], empty: &str) -> Vec<Line<'static>> {
    if items.is_empty() {
        return vec![Line::styled(
            format!(" {empty}"),
            Style::new().fg(Color::DarkGray),
        )];
    }
    items
        .iter()
        .map(|t| Line::raw(format!("{:>6} {}", t.hits, t.name)))
        .collect()
}

fn draw_panels(frame: &mut Frame<'_>, area: Rect, state: &State) {
    let p = &state.panels;
    let [js, md, ai] = Layout::vertical([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(tally_lines(&p.js_executors, "no beacon hit today"))
            .block(Block::bordered().title(" JS executors today ")),
        js,
    );
    let md_lines: Vec<Line<'static>> = if p.markdown_readers.is_empty() {
        tally_lines(&[], "nobody asked for Markdown today")
    } else {
        p.markdown_readers
            .iter()
            .map(|m| {
                Line::raw(format!(
                    "{:>5}A {:>4}F {}",
                    m.by_accept, m.by_path, m.user_agent
                ))
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(md_lines).block(
            Block::bordered()
                .title(" Markdown readers today ")
                .title_bottom(" A: Accept markdown  F: .md, llms.txt "),
        ),
        md,
    );
    frame.render_widget(
        Paragraph::new(tally_lines(&p.ai_operators, "no AI agent today"))
            .block(Block::bordered().title(" AI operators today ")),
        ai,
    );
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;

    use super::*;
    use crate::watch::state::{MarkdownReader, Panels};

    fn req(id: i64, ua: &str, class: Option<&str>, path: &str, kind: &str, status: u16) -> Request {
        Request {
            id,
            ts: 1_764_936_000 + id, // 2025-12-05 12:00:00 UTC + id
            client: format!("198.51.100.{id}"),
            method: "GET".into(),
            path: path.into(),
            path_kind: Some(kind.into()),
            status,
            user_agent: ua.into(),
            class: class.map(Into::into),
            operator: None,
            agent: None,
        }
    }

    fn state() -> State {
        let mut s = State::new("/var/lib/honeybot/honeybot.db", 100);
        s.arrived([
            req(
                1,
                "Mozilla/5.0 Firefox/133.0",
                Some("browser"),
                "/",
                "page",
                200,
            ),
            req(
                2,
                "Mozilla/5.0 Firefox/133.0",
                Some("browser"),
                "/api/beacon",
                "beacon",
                204,
            ),
            Request {
                agent: Some("GPTBot".into()),
                ..req(
                    3,
                    "Mozilla/5.0 AppleWebKit/537.36 (compatible; GPTBot/1.2)",
                    Some("ai-crawler"),
                    "/blog/post.html",
                    "page",
                    200,
                )
            },
            req(
                4,
                "zgrab/0.x\x1b]52;c;aGk=\x07\u{202e}",
                Some("scanner"),
                "/.env",
                "probe",
                404,
            ),
            req(5, "curl/8.5", None, "/boom", "page", 502),
        ]);
        s.panels = Panels {
            day: Some("2025-12-05".into()),
            requests_total: 98765,
            requests_today: 1234,
            clients_today: 56,
            per_minute: 7,
            ip_mode: Some("truncate".into()),
            js_executors: vec![Tally {
                name: "Mozilla/5.0 Firefox/133.0".into(),
                hits: 3,
            }],
            markdown_readers: vec![MarkdownReader {
                user_agent: "ClaudeBot/1.0".into(),
                by_accept: 4,
                by_path: 1,
            }],
            ai_operators: vec![Tally {
                name: "OpenAI".into(),
                hits: 9,
            }],
        };
        s
    }

    fn render(state: &State, w: u16, h: u16) -> Buffer {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        t.draw(|f| draw(f, state)).expect("draw");
        t.backend().buffer().clone()
    }

    fn text(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect()
    }

    /// The cell where `needle` starts on the line that has it.
    fn find(buf: &Buffer, needle: &str) -> (u16, u16) {
        let lines = text(buf);
        for (y, line) in lines.iter().enumerate() {
            if let Some(i) = line.find(needle) {
                let x = line[..i].chars().count() as u16;
                return (x, y as u16);
            }
        }
        panic!("{needle:?} not on screen:\n{}", lines.join("\n"));
    }

    #[test]
    fn wide_screen_shows_header_stream_and_panels() {
        let buf = render(&state(), 160, 30);
        let screen = text(&buf).join("\n");
        for want in [
            "honeybot watch",
            "clients stored: truncate",
            "2025-12-05: 1234 requests, 56 clients   98765 in all",
            "7 req/min",
            "5 new since start",
            "12:00:03",
            "198.51.100.3",
            "GPTBot Mozilla/5.0 AppleWebKit",
            "JS executors today",
            "3 Mozilla/5.0 Firefox/133.0",
            "Markdown readers today",
            "4A    1F ClaudeBot/1.0",
            "AI operators today",
            "9 OpenAI",
            "\\u{1b}]52;c;aGk=\\u{7}\\u{202e}",
        ] {
            assert!(screen.contains(want), "{want:?} missing:\n{screen}");
        }
        // The newest request is the stream's last row.
        assert!(find(&buf, "/boom").1 > find(&buf, "/.env").1);
        assert!(
            !screen
                .chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
            "{screen}"
        );
    }

    #[test]
    fn colours_badges_and_highlights() {
        let buf = render(&state(), 160, 30);
        let at = |needle: &str| buf[find(&buf, needle)].clone();
        assert_eq!(at("AI-C").fg, Color::Magenta, "AI badge");
        assert_eq!(at("GPTBot ").fg, Color::Magenta, "AI agent's name");
        assert_eq!(
            at("Mozilla/5.0 AppleWebKit").fg,
            Color::DarkGray,
            "named: full string dimmed"
        );
        assert_eq!(at("/api/beacon").bg, Color::Yellow, "beacon hit");
        assert_eq!(at("SCAN").fg, Color::DarkGray);
        assert_eq!(at("----").fg, Color::DarkGray, "unclassified");
        // Status colours: find each status in its row.
        let status_at = |path: &str, status: &str| {
            let (_, y) = find(&buf, path);
            let line = &text(&buf)[usize::from(y)];
            let x = line
                .find(&format!(" {status} "))
                .expect("status on the row")
                + 1;
            buf[(line[..x].chars().count() as u16, y)].fg
        };
        assert_eq!(status_at("/blog/post.html", "200"), Color::Green);
        assert_eq!(status_at("/.env", "404"), Color::Yellow);
        assert_eq!(status_at("/boom", "502"), Color::Red);
    }

    #[test]
    fn narrow_and_tiny_screens_draw_without_panels_and_without_panicking() {
        let buf = render(&state(), 80, 24);
        let screen = text(&buf).join("\n");
        assert!(screen.contains("/boom"), "{screen}");
        assert!(!screen.contains("JS executors"), "{screen}");
        for (w, h) in [(1, 1), (10, 3), (40, 5), (300, 100)] {
            render(&state(), w, h);
        }
    }

    #[test]
    fn a_short_screen_shows_the_newest_rows() {
        let buf = render(&state(), 160, 8); // header 2 + footer 1 + borders 2 + column header 1
        let screen = text(&buf).join("\n");
        assert!(
            screen.contains("/boom") && screen.contains("/.env"),
            "{screen}"
        );
        assert!(!screen.contains("/blog/post.html"), "{screen}");
    }

    #[test]
    fn long_clients_keep_both_ends() {
        assert_eq!(short_client("203.0.113.7"), "203.0.113.7");
        assert_eq!(
            short_client("2001:db8:1234:5678:9abc:def0:1234:5678"),
            "2001:db…234:5678"
        );
        assert_eq!(
            short_client("h:0123456789abcdef0123456789abcdef"),
            "h:01234…89abcdef"
        );
        assert_eq!(short_client("h:0123456789abcdef0123").chars().count(), 16);
    }

    #[test]
    fn badges_and_clock() {
        assert_eq!(badge(Some("ai-assistant")), "AI-A");
        assert_eq!(badge(Some("custom-thing")), "CUST");
        assert_eq!(badge(None), "----");
        assert_eq!(clock(1_764_936_000 + 3 * 3600 + 61), "15:01:01");
    }
}

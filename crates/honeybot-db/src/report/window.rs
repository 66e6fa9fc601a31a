//! Date windows of the reports: `YYYY-MM-DD`, both ends inclusive, either end open.

use honeybot_logparse::Date;

/// A date window over `daily_logs.date` (`YYYY-MM-DD`, inclusive at both ends; `None` =
/// open). Built only through [`Window::new`] / [`Window::last_days`], so every date in it
/// is a real calendar date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    since: Option<String>,
    until: Option<String>,
}

/// Why a window is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("{0:?} is not a date (expected YYYY-MM-DD, e.g. 2026-11-16)")]
    BadDate(String),
    #[error("the window is empty: --since {since} is after --until {until}")]
    Reversed { since: String, until: String },
    #[error("--days must be at least 1")]
    NoDays,
}

impl Window {
    /// The whole history.
    pub fn all() -> Self {
        Self::default()
    }

    /// From `since` through `until` (each `YYYY-MM-DD` or open).
    pub fn new(since: Option<&str>, until: Option<&str>) -> Result<Self, WindowError> {
        let since = since.map(check_date).transpose()?;
        let until = until.map(check_date).transpose()?;
        if let (Some(s), Some(u)) = (&since, &until) {
            if s > u {
                return Err(WindowError::Reversed {
                    since: s.clone(),
                    until: u.clone(),
                });
            }
        }
        Ok(Self { since, until })
    }

    /// The last `days` days ending with `today` (`YYYY-MM-DD`).
    pub fn last_days(days: u32, today: &str) -> Result<Self, WindowError> {
        if days == 0 {
            return Err(WindowError::NoDays);
        }
        let end = check_date(today)?;
        let first = days_from_civil(&end) - i64::from(days - 1);
        Ok(Self {
            since: Some(civil_from_days(first)),
            until: Some(end),
        })
    }

    /// The first date, if bounded.
    pub fn since(&self) -> Option<&str> {
        self.since.as_deref()
    }

    /// The last date, if bounded.
    pub fn until(&self) -> Option<&str> {
        self.until.as_deref()
    }

    /// The bounds to bind to `date BETWEEN ?1 AND ?2` (open ends as sentinels that sort
    /// before and after every date, so the primary key's date range is always usable).
    pub(crate) fn bounds(&self) -> (&str, &str) {
        (
            self.since.as_deref().unwrap_or("0000-00-00"),
            self.until.as_deref().unwrap_or("9999-99-99"),
        )
    }

    /// The window cut for the monthly roll-ups: two day ranges (the partial months at its
    /// edges) and the range of whole months (`YYYY-MM`) between them; empty ranges have
    /// their start after their end. Bind as `?1..?6` of `sql::AGENT_KINDS_WINDOW`.
    pub(crate) fn month_split(&self) -> [String; 6] {
        let (since, until) = self.bounds();
        // The first whole month starts on or after `since`; the last ends on or before `until`.
        let first_full = match self.since.as_deref() {
            None => "0000-00".to_owned(),
            Some(d) if &d[8..] == "01" => d[..7].to_owned(),
            Some(d) => next_month(&d[..7]),
        };
        let last_full = match self.until.as_deref() {
            None => "9999-99".to_owned(),
            Some(d) if civil_from_days(days_from_civil(d) + 1)[8..] == *"01" => d[..7].to_owned(),
            Some(d) => prev_month(&d[..7]),
        };
        if first_full > last_full {
            // No whole month: the window day by day.
            return [
                since.to_owned(),
                until.to_owned(),
                "1".to_owned(),
                "0".to_owned(),
                "1".to_owned(),
                "0".to_owned(),
            ];
        }
        [
            since.to_owned(),
            format!("{first_full}-00"),
            format!("{last_full}-99"),
            until.to_owned(),
            first_full,
            last_full,
        ]
    }

    /// The window as Unix seconds `[start, end)` in UTC (for `first_seen` columns).
    pub(crate) fn unix_bounds(&self) -> (Option<i64>, Option<i64>) {
        (
            self.since.as_deref().map(|d| days_from_civil(d) * 86_400),
            self.until
                .as_deref()
                .map(|d| (days_from_civil(d) + 1) * 86_400),
        )
    }
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    civil_from_days(secs.div_euclid(86_400))
}

/// `YYYY-MM-DD` of a Unix time (UTC).
pub(crate) fn date_of_unix(secs: i64) -> String {
    civil_from_days(secs.div_euclid(86_400))
}

fn next_month(month: &str) -> String {
    let (y, m): (i64, i64) = (
        month[..4].parse().unwrap_or(0),
        month[5..].parse().unwrap_or(1),
    );
    if m == 12 {
        format!("{:04}-01", y + 1)
    } else {
        format!("{y:04}-{:02}", m + 1)
    }
}

fn prev_month(month: &str) -> String {
    let (y, m): (i64, i64) = (
        month[..4].parse().unwrap_or(0),
        month[5..].parse().unwrap_or(1),
    );
    if m == 1 {
        format!("{:04}-12", y - 1)
    } else {
        format!("{y:04}-{:02}", m - 1)
    }
}

fn check_date(text: &str) -> Result<String, WindowError> {
    let bad = || WindowError::BadDate(text.to_owned());
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return Err(bad());
    };
    // A real calendar date is one that survives the round trip through a day number.
    let (Ok(year), Ok(month), Ok(day)) = (u16::try_from(y), u8::try_from(m), u8::try_from(d))
    else {
        return Err(bad());
    };
    let date = Date { year, month, day };
    if Date::from_days_since_epoch(date.days_since_epoch()) != date {
        return Err(bad());
    }
    Ok(text.to_owned())
}

/// Days since 1970-01-01 of a checked `YYYY-MM-DD`.
fn days_from_civil(date: &str) -> i64 {
    Date {
        year: date[0..4].parse().unwrap_or(1970),
        month: date[5..7].parse().unwrap_or(1),
        day: date[8..10].parse().unwrap_or(1),
    }
    .days_since_epoch()
}

/// `YYYY-MM-DD` of a day since 1970-01-01.
fn civil_from_days(days: i64) -> String {
    Date::from_days_since_epoch(days).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_against_the_calendar() {
        assert!(Window::new(Some("2026-02-28"), Some("2028-02-29")).is_ok());
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-32",
            "x",
        ] {
            assert_eq!(
                Window::new(Some(bad), None),
                Err(WindowError::BadDate(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(matches!(
            Window::new(Some("2026-11-20"), Some("2026-11-19")),
            Err(WindowError::Reversed { .. })
        ));
    }

    #[test]
    fn last_days_counts_today_and_crosses_months_and_years() {
        let w = Window::last_days(7, "2026-03-03").expect("window");
        assert_eq!(
            (w.since(), w.until()),
            (Some("2026-02-25"), Some("2026-03-03"))
        );
        let w = Window::last_days(1, "2027-01-01").expect("window");
        assert_eq!(w.since(), Some("2027-01-01"));
        let w = Window::last_days(3, "2027-01-01").expect("window");
        assert_eq!(w.since(), Some("2026-12-30"));
        assert_eq!(Window::last_days(0, "2027-01-01"), Err(WindowError::NoDays));
    }

    #[test]
    fn month_split_reads_whole_months_from_the_roll_up_and_edges_by_day() {
        let split =
            |s: Option<&str>, u: Option<&str>| Window::new(s, u).expect("window").month_split();
        assert_eq!(
            split(Some("2026-01-15"), Some("2026-04-10")),
            [
                "2026-01-15",
                "2026-02-00",
                "2026-03-99",
                "2026-04-10",
                "2026-02",
                "2026-03"
            ]
        );
        assert_eq!(
            split(Some("2026-01-01"), Some("2026-02-28")),
            [
                "2026-01-01",
                "2026-01-00",
                "2026-02-99",
                "2026-02-28",
                "2026-01",
                "2026-02"
            ]
        );
        assert_eq!(
            split(Some("2025-12-02"), Some("2026-01-30")),
            ["2025-12-02", "2026-01-30", "1", "0", "1", "0"]
        );
        assert_eq!(
            split(None, None),
            [
                "0000-00-00",
                "0000-00-00",
                "9999-99-99",
                "9999-99-99",
                "0000-00",
                "9999-99"
            ]
        );
        assert_eq!(
            split(Some("2026-12-31"), None),
            [
                "2026-12-31",
                "2027-01-00",
                "9999-99-99",
                "9999-99-99",
                "2027-01",
                "9999-99"
            ]
        );
    }

    #[test]
    fn unix_bounds_cover_whole_utc_days() {
        let w = Window::new(Some("1970-01-02"), Some("1970-01-02")).expect("window");
        assert_eq!(w.unix_bounds(), (Some(86_400), Some(2 * 86_400)));
        assert_eq!(date_of_unix(86_399), "1970-01-01");
        assert_eq!(date_of_unix(1_795_000_000), "2026-11-18");
    }
}

//! Calendar helpers: log dates as compact keys and timestamps as ISO-8601 UTC text.

use honeybot_logparse::LogTime;

use crate::TimeZonePolicy;

/// A date packed as `year * 10_000 + month * 100 + day` (orders like the date).
pub(crate) type DateKey = u32;

/// The date a line is counted under, per policy.
#[inline]
pub(crate) fn date_key(time: &LogTime, policy: TimeZonePolicy) -> DateKey {
    let date = match policy {
        TimeZonePolicy::LocalToLog => time.date_as_written(),
        TimeZonePolicy::Utc => time.date_utc(),
    };
    // Years beyond 9999 cannot be written as YYYY; clamp so the key stays ordered.
    u32::from(date.year.min(9999)) * 10_000 + u32::from(date.month) * 100 + u32::from(date.day)
}

/// `YYYY-MM-DD` of a date key.
pub(crate) fn date_text(key: DateKey) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        key / 10_000,
        key / 100 % 100,
        key % 100
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix timestamp (years clamped to 0..=9999 so text order is
/// time order).
pub(crate) fn iso_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if y < 0 {
        return "0000-01-01T00:00:00Z".to_owned();
    }
    if y > 9999 {
        return "9999-12-31T23:59:59Z".to_owned();
    }
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `(year, month, day)` of a day number counted from 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(year: u16, month: u8, day: u8, hour: u8, offset_minutes: i16) -> LogTime {
        LogTime {
            year,
            month,
            day,
            hour,
            minute: 30,
            second: 0,
            offset_minutes,
        }
    }

    #[test]
    fn iso_of_known_instants() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn dates_near_midnight_follow_the_policy() {
        use TimeZonePolicy::{LocalToLog, Utc};
        // 23:30 at -0500 is 04:30 UTC the next day.
        let late_west = t(2026, 12, 31, 23, -300);
        assert_eq!(date_text(date_key(&late_west, LocalToLog)), "2026-12-31");
        assert_eq!(date_text(date_key(&late_west, Utc)), "2027-01-01");
        // 00:30 at +0930 is 15:00 UTC the previous day (across a leap day).
        let early_east = t(2024, 3, 1, 0, 570);
        assert_eq!(date_text(date_key(&early_east, LocalToLog)), "2024-03-01");
        assert_eq!(date_text(date_key(&early_east, Utc)), "2024-02-29");
        // 23:30 at +0000 stays on its day either way.
        let utc = t(2026, 11, 16, 23, 0);
        assert_eq!(date_key(&utc, LocalToLog), date_key(&utc, Utc));
        // 00:30 at +1400 (Kiribati) is 10:30 UTC the previous day.
        let kiribati = t(2026, 1, 1, 0, 840);
        assert_eq!(date_text(date_key(&kiribati, Utc)), "2025-12-31");
    }

    #[test]
    fn iso_agrees_with_the_parser_clock() {
        // 10/Oct/2000:13:55:36 -0700 (the Apache docs example) is 20:55:36 UTC.
        let t = LogTime {
            year: 2000,
            month: 10,
            day: 10,
            hour: 13,
            minute: 55,
            second: 36,
            offset_minutes: -420,
        };
        assert_eq!(iso_utc(t.unix_seconds()), "2000-10-10T20:55:36Z");
    }
}

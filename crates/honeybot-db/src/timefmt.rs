//! Log dates as compact keys, per time zone policy.

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
}

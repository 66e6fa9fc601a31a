//! `$time_local` (`10/Oct/2000:13:55:36 -0700`) and calendar arithmetic.

use std::fmt;

/// `$time_local` as written: wall-clock fields plus the UTC offset of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Offset from UTC in minutes (`-0700` is -420).
    pub offset_minutes: i16,
}

/// A calendar date. Displays as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(i64::from(self.year), self.month, self.day)
    }

    /// The date `days` days after 1970-01-01 (years outside `0..=65535` are clamped).
    pub fn from_days_since_epoch(days: i64) -> Date {
        civil_from_days(days)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl LogTime {
    /// The date as written in the line (the server's local date at the time of the request).
    pub fn date_as_written(&self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: self.day,
        }
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(&self) -> i64 {
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }

    /// The UTC date of this instant.
    pub fn date_utc(&self) -> Date {
        civil_from_days(self.unix_seconds().div_euclid(86_400))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]; a year outside what a `u16` holds is clamped (the parser
/// only produces years 0..=9999, shifted by at most a day).
fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date {
        year: u16::try_from(year.clamp(0, i64::from(u16::MAX))).unwrap_or(0),
        month: month as u8,
        day: day as u8,
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap { 29 } else { 28 }
        }
    }
}

/// Length of `dd/Mon/yyyy:hh:mm:ss +zzzz`.
pub(crate) const TIME_LEN: usize = 26;

#[inline]
fn digit(b: u8) -> Option<u8> {
    b.is_ascii_digit().then(|| b - b'0')
}

#[inline]
fn two(b: &[u8; TIME_LEN], i: usize) -> Option<u8> {
    Some(digit(b[i])? * 10 + digit(b[i + 1])?)
}

/// `Jan`..`Dec` as nginx and Apache write them.
fn month_number(m: [u8; 3]) -> Option<u8> {
    Some(match &m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// Parse exactly `dd/Mon/yyyy:hh:mm:ss +zzzz`. Ranges are checked (day of month, leap years,
/// hours, minutes, seconds up to a leap second `60`, offsets up to ±23:59).
pub(crate) fn parse_time(field: &[u8]) -> Option<LogTime> {
    let b: &[u8; TIME_LEN] = field.try_into().ok()?;
    if b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[14] != b':' || b[17] != b':' {
        return None;
    }
    if b[20] != b' ' {
        return None;
    }
    let day = two(b, 0)?;
    // Other tools write `JAN` or `jan`: accepted, on a slower path.
    let month = month_number([b[3], b[4], b[5]]).or_else(|| {
        month_number([
            b[3].to_ascii_uppercase(),
            b[4].to_ascii_lowercase(),
            b[5].to_ascii_lowercase(),
        ])
    })?;
    let year = u16::from(two(b, 7)?) * 100 + u16::from(two(b, 9)?);
    let hour = two(b, 12)?;
    let minute = two(b, 15)?;
    let second = two(b, 18)?;
    let sign: i16 = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let off_h = two(b, 22)?;
    let off_m = two(b, 24)?;
    if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if off_h > 23 || off_m > 59 {
        return None;
    }
    Some(LogTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        offset_minutes: sign * (i16::from(off_h) * 60 + i16::from(off_m)),
    })
}

/// `$time_iso8601`: `2024-05-01T12:34:56+02:00` (also `Z`, and fractional seconds, which
/// are dropped). Ranges are checked as for [`parse_time`].
pub(crate) fn parse_iso8601(field: &[u8]) -> Option<LogTime> {
    if field.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u16> {
        field[r]
            .iter()
            .try_fold(0u16, |n, &b| Some(n * 10 + u16::from(digit(b)?)))
    };
    if field[4] != b'-' || field[7] != b'-' || !matches!(field[10], b'T' | b' ') {
        return None;
    }
    if field[13] != b':' || field[16] != b':' {
        return None;
    }
    let year = num(0..4)?;
    let month = num(5..7)? as u8;
    let day = num(8..10)? as u8;
    let hour = num(11..13)? as u8;
    let minute = num(14..16)? as u8;
    let second = num(17..19)? as u8;
    let mut rest = &field[19..];
    if let [b'.', frac @ ..] = rest {
        let digits = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset_minutes: i16 = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let h = digit(*h1)? * 10 + digit(*h2)?;
            let m = digit(*m1)? * 10 + digit(*m2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let v = i16::from(h) * 60 + i16::from(m);
            if *sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(LogTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        offset_minutes,
    })
}

/// `$msec`: Unix seconds with milliseconds (`1714567890.123`), as a UTC time.
pub(crate) fn parse_msec(field: &[u8]) -> Option<LogTime> {
    let (secs, frac) = match memchr::memchr(b'.', field) {
        Some(dot) => (&field[..dot], &field[dot + 1..]),
        None => (field, &[][..]),
    };
    if secs.is_empty() || secs.len() > 11 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs = secs
        .iter()
        .try_fold(0i64, |n, &b| Some(n * 10 + i64::from(digit(b)?)))?;
    // Years 1970..=9999, like the other time fields.
    if secs > 253_402_300_799 {
        return None;
    }
    let date = civil_from_days(secs.div_euclid(86_400));
    let in_day = secs.rem_euclid(86_400);
    Some(LogTime {
        year: date.year,
        month: date.month,
        day: date.day,
        hour: (in_day / 3_600) as u8,
        minute: (in_day % 3_600 / 60) as u8,
        second: (in_day % 60) as u8,
        offset_minutes: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<LogTime> {
        parse_time(s.as_bytes())
    }

    #[test]
    fn parses_fields_and_offset() {
        let lt = t("10/Oct/2000:13:55:36 -0700").expect("valid");
        assert_eq!(
            (lt.year, lt.month, lt.day, lt.hour, lt.minute, lt.second),
            (2000, 10, 10, 13, 55, 36)
        );
        assert_eq!(lt.offset_minutes, -420);
        assert_eq!(
            t("22/Jan/2019:03:56:14 +0330").map(|t| t.offset_minutes),
            Some(210)
        );
        assert_eq!(
            t("01/Jan/2020:00:00:00 -0930").map(|t| t.offset_minutes),
            Some(-570)
        );
    }

    #[test]
    fn unix_seconds_matches_known_instants() {
        // date -u -d '2000-10-10T20:55:36Z' +%s
        assert_eq!(
            t("10/Oct/2000:13:55:36 -0700").map(|t| t.unix_seconds()),
            Some(971_211_336)
        );
        assert_eq!(
            t("01/Jan/1970:00:00:00 +0000").map(|t| t.unix_seconds()),
            Some(0)
        );
        assert_eq!(
            t("01/Jan/1970:01:00:00 +0100").map(|t| t.unix_seconds()),
            Some(0)
        );
        // date -u -d '2024-02-29T12:00:00Z' +%s
        assert_eq!(
            t("29/Feb/2024:12:00:00 +0000").map(|t| t.unix_seconds()),
            Some(1_709_208_000)
        );
    }

    #[test]
    fn utc_date_crosses_midnight_both_ways() {
        let late = t("31/Dec/2018:23:30:00 -0800").expect("valid");
        assert_eq!(late.date_as_written().to_string(), "2018-12-31");
        assert_eq!(late.date_utc().to_string(), "2019-01-01");
        let early = t("01/Mar/2024:00:10:00 +0330").expect("valid");
        assert_eq!(early.date_utc().to_string(), "2024-02-29");
        let same = t("17/May/2015:10:05:03 +0000").expect("valid");
        assert_eq!(same.date_utc(), same.date_as_written());
    }

    #[test]
    fn rejects_out_of_range_and_misshapen() {
        for bad in [
            "29/Feb/2023:00:00:00 +0000",
            "31/Apr/2023:00:00:00 +0000",
            "00/Jan/2023:00:00:00 +0000",
            "10/Foo/2023:00:00:00 +0000",
            "10/Jan/2023:24:00:00 +0000",
            "10/Jan/2023:00:60:00 +0000",
            "10/Jan/2023:00:00:61 +0000",
            "10/Jan/2023:00:00:00 +2400",
            "10/Jan/2023:00:00:00 0000",
            "10/Jan/2023:00:00:00 +000",
            "10/Jan/2023 00:00:00 +0000",
            "1/Jan/2023:00:00:00 +00000",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
        assert!(t("29/Feb/2000:00:00:60 +1400").is_some());
        assert_eq!(t("10/jan/2023:00:00:00 +0000").map(|t| t.month), Some(1));
        assert_eq!(t("10/DEC/2023:00:00:00 +0000").map(|t| t.month), Some(12));
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-1_000..150_000).step_by(7) {
            let d = civil_from_days(days);
            assert_eq!(days_from_civil(i64::from(d.year), d.month, d.day), days);
        }
    }
}

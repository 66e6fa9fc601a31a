//! Distinct clients of a date window, exact, from `yearly_clients` (revision 4): one row per
//! year and client with a day mask per month (`m01` .. `m12`, bit 0 = the 1st). A client
//! counts when one of its bits falls in the window, so the work is one row per client of
//! each year the window touches, whether the window is a day or a year long.

use rusqlite::Connection;

use super::Window;

const MONTHS: [&str; 12] = [
    "m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12",
];

/// Bits of days `first..=last` (1-based) of a month mask.
fn day_bits(first: u32, last: u32) -> i64 {
    let upto = |d: u32| (1_i64 << d) - 1;
    upto(last) & !upto(first - 1)
}

/// `(year, month, day)` of a checked `YYYY-MM-DD`.
fn ymd(date: &str) -> (i64, u32, u32) {
    (
        date[0..4].parse().unwrap_or(0),
        date[5..7].parse().unwrap_or(1),
        date[8..10].parse().unwrap_or(1),
    )
}

/// The condition on one year's row for the days `from..=to` of that year (`(month, day)`),
/// its mask parameters appended to `params`.
fn year_condition(from: (u32, u32), to: (u32, u32), params: &mut Vec<i64>) -> String {
    let mut terms = Vec::new();
    for month in from.0..=to.0 {
        let first = if month == from.0 { from.1 } else { 1 };
        let last = if month == to.0 { to.1 } else { 31 };
        let column = MONTHS[month as usize - 1];
        if first == 1 && last == 31 {
            terms.push(format!("{column} <> 0"));
        } else {
            params.push(day_bits(first, last));
            terms.push(format!("({column} & ?{}) <> 0", params.len()));
        }
    }
    terms.join(" OR ")
}

/// Distinct clients with a request in `window` (a bounded or half-bounded one; the whole
/// history is the size of `ips`).
pub(crate) fn distinct_clients(conn: &Connection, window: &Window) -> rusqlite::Result<i64> {
    let (first_year, last_year): (Option<i64>, Option<i64>) =
        conn.query_row("SELECT min(year), max(year) FROM yearly_clients", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let (Some(first_year), Some(last_year)) = (first_year, last_year) else {
        return Ok(0);
    };
    let from = window.since().map_or((first_year, 1, 1), ymd);
    let to = window.until().map_or((last_year, 12, 31), ymd);
    let (y0, y1) = (from.0.max(first_year), to.0.min(last_year));
    if y0 > y1 {
        return Ok(0);
    }
    // One SELECT per year (the key's first column), their UNION when there are several:
    // only the conditions' text varies, built from the month names above; masks are bound.
    let mut params: Vec<i64> = Vec::new();
    let mut selects = Vec::new();
    for year in y0..=y1 {
        let start = if year == from.0 {
            (from.1, from.2)
        } else {
            (1, 1)
        };
        let end = if year == to.0 { (to.1, to.2) } else { (12, 31) };
        let condition = year_condition(start, end, &mut params);
        params.push(year);
        selects.push(format!(
            "SELECT ip_id FROM yearly_clients WHERE year = ?{} AND ({condition})",
            params.len()
        ));
    }
    let sql = if selects.len() == 1 {
        selects[0].replacen("SELECT ip_id", "SELECT count(*)", 1)
    } else {
        format!("SELECT count(*) FROM ({})", selects.join(" UNION "))
    };
    conn.prepare(&sql)?
        .query_row(rusqlite::params_from_iter(params), |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_bits_cover_the_days_asked() {
        assert_eq!(day_bits(1, 1), 1);
        assert_eq!(day_bits(2, 3), 0b110);
        assert_eq!(day_bits(1, 31), (1 << 31) - 1);
        assert_eq!(day_bits(31, 31), 1 << 30);
    }

    #[test]
    fn a_year_condition_names_only_the_months_of_the_window() {
        let mut params = Vec::new();
        let c = year_condition((10, 15), (12, 2), &mut params);
        assert_eq!(c, "(m10 & ?1) <> 0 OR m11 <> 0 OR (m12 & ?2) <> 0");
        assert_eq!(params, vec![day_bits(15, 31), day_bits(1, 2)]);
        let mut params = Vec::new();
        assert_eq!(
            year_condition((2, 3), (2, 3), &mut params),
            "(m02 & ?1) <> 0"
        );
        assert_eq!(params, vec![0b100]);
    }
}

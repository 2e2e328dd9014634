//! Calendar-day arithmetic shared by SEARCH dates and FETCH dates.

use crate::imap::codec::types::ImapDate;

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a calendar date (proleptic Gregorian,
/// H. Hinnant's `days_from_civil`).
pub fn days_from_date(date: ImapDate) -> i64 {
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar day (days since 1970-01-01) of a UNIX time seen in a zone
/// `zone_minutes` east of UTC.
pub fn day_of(unix: i64, zone_minutes: i16) -> i64 {
    unix.saturating_add(i64::from(zone_minutes) * 60)
        .div_euclid(SECS_PER_DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        let d = |y, m, dd| days_from_date(ImapDate::new(y, m, dd).unwrap());
        assert_eq!(d(1970, 1, 1), 0);
        assert_eq!(d(1970, 1, 2), 1);
        assert_eq!(d(1969, 12, 31), -1);
        assert_eq!(d(2000, 3, 1), 11_017);
        assert_eq!(d(2024, 2, 29), 19_782);
    }

    #[test]
    fn day_in_zone() {
        // 2023-11-14 22:13:20 UTC is already the 15th at +0200.
        assert_eq!(day_of(1_700_000_000, 0), 19_675);
        assert_eq!(day_of(1_700_000_000, 120), 19_676);
        assert_eq!(day_of(-1, 0), -1);
    }
}

//! Calendar arithmetic between IMAP dates and UNIX time.

use crate::imap::codec::types::{ImapDate, ImapDateTime};

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn date_days(d: ImapDate) -> i64 {
    days_from_civil(
        i64::from(d.year()),
        u32::from(d.month()),
        u32::from(d.day()),
    )
}

/// UNIX seconds of an IMAP date-time (its zone applied).
pub fn to_unix(dt: &ImapDateTime) -> i64 {
    date_days(dt.date()) * 86_400
        + i64::from(dt.hour()) * 3600
        + i64::from(dt.minute()) * 60
        + i64::from(dt.second())
        - i64::from(dt.zone_minutes()) * 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for secs in [0i64, 951_782_400, 1_700_000_000] {
            let dt = ImapDateTime::from_unix(secs, 120).unwrap();
            assert_eq!(to_unix(&dt), secs);
        }
    }
}

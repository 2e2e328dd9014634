//! IMAP `date` (SEARCH) and `date-time` (APPEND, INTERNALDATE) values.

use super::core::InvalidValue;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A calendar date as in `1-Feb-2024`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImapDate {
    year: u16,
    month: u8,
    day: u8,
}

impl ImapDate {
    /// `month` is 1..=12; the day must exist in that month.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, InvalidValue> {
        let bad = InvalidValue { what: "date" };
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad);
        }
        Ok(ImapDate { year, month, day })
    }

    pub fn year(&self) -> u16 {
        self.year
    }
    pub fn month(&self) -> u8 {
        self.month
    }
    pub fn day(&self) -> u8 {
        self.day
    }

    /// Wire form for SEARCH: `1-Feb-2024`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let month = MONTHS[usize::from(self.month - 1)];
        out.extend_from_slice(format!("{}-{}-{:04}", self.day, month, self.year).as_bytes());
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        _ => 28,
    }
}

/// Month number (1..=12) from its three-letter name, any case.
pub(crate) fn month_from_name(name: &[u8]) -> Option<u8> {
    MONTHS
        .iter()
        .position(|m| m.as_bytes().eq_ignore_ascii_case(name))
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// `dd-Mon-yyyy hh:mm:ss +zzzz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImapDateTime {
    date: ImapDate,
    hour: u8,
    minute: u8,
    second: u8,
    /// Offset from UTC in minutes, -1439..=1439.
    zone_minutes: i16,
}

impl ImapDateTime {
    pub fn new(
        date: ImapDate,
        hour: u8,
        minute: u8,
        second: u8,
        zone_minutes: i16,
    ) -> Result<Self, InvalidValue> {
        // Second 60 allows a leap second.
        if hour > 23 || minute > 59 || second > 60 || zone_minutes.unsigned_abs() >= 24 * 60 {
            return Err(InvalidValue { what: "date-time" });
        }
        Ok(ImapDateTime {
            date,
            hour,
            minute,
            second,
            zone_minutes,
        })
    }

    /// From seconds since the Unix epoch and a zone offset in minutes.
    pub fn from_unix(secs: i64, zone_minutes: i16) -> Result<Self, InvalidValue> {
        let local = secs.saturating_add(i64::from(zone_minutes) * 60);
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let year = u16::try_from(y).map_err(|_| InvalidValue { what: "date-time" })?;
        let date = ImapDate::new(year, m, d)?;
        // rem < 86400, so each part fits in u8.
        Self::new(
            date,
            (rem / 3600) as u8,
            (rem % 3600 / 60) as u8,
            (rem % 60) as u8,
            zone_minutes,
        )
    }

    pub fn date(&self) -> ImapDate {
        self.date
    }
    pub fn hour(&self) -> u8 {
        self.hour
    }
    pub fn minute(&self) -> u8 {
        self.minute
    }
    pub fn second(&self) -> u8 {
        self.second
    }
    pub fn zone_minutes(&self) -> i16 {
        self.zone_minutes
    }

    /// Writes the wire form without quotes, e.g. ` 1-Feb-2024 10:00:00 +0100`
    /// (day padded with a space, as RFC 9051 `date-day-fixed`).
    pub fn write_unquoted(&self, out: &mut Vec<u8>) {
        let d = self.date;
        let month = MONTHS[usize::from(d.month - 1)];
        let sign = if self.zone_minutes < 0 { '-' } else { '+' };
        let z = self.zone_minutes.unsigned_abs();
        let s = format!(
            "{:>2}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}",
            d.day,
            month,
            d.year,
            self.hour,
            self.minute,
            self.second,
            sign,
            z / 60,
            z % 60
        );
        out.extend_from_slice(s.as_bytes());
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_validation() {
        assert!(ImapDate::new(2024, 2, 29).is_ok());
        assert!(ImapDate::new(2023, 2, 29).is_err());
        assert!(ImapDate::new(2023, 13, 1).is_err());
        assert!(ImapDate::new(2023, 4, 31).is_err());
        assert_eq!(month_from_name(b"fEb"), Some(2));
        assert_eq!(month_from_name(b"Foo"), None);
    }

    #[test]
    fn date_time_format() {
        let dt = ImapDateTime::new(ImapDate::new(2024, 2, 1).unwrap(), 9, 5, 7, -330).unwrap();
        let mut out = Vec::new();
        dt.write_unquoted(&mut out);
        assert_eq!(out, b" 1-Feb-2024 09:05:07 -0530");
    }

    #[test]
    fn extreme_inputs_are_errors_not_panics() {
        let d = ImapDate::new(2024, 1, 1).unwrap();
        assert!(ImapDateTime::new(d, 0, 0, 0, i16::MIN).is_err());
        assert!(ImapDateTime::from_unix(i64::MAX, 60).is_err());
        assert!(ImapDateTime::from_unix(i64::MIN, -60).is_err());
    }

    #[test]
    fn from_unix() {
        let dt = ImapDateTime::from_unix(1_700_000_000, 60).unwrap();
        let mut out = Vec::new();
        dt.write_unquoted(&mut out);
        assert_eq!(out, b"14-Nov-2023 23:13:20 +0100");
    }
}

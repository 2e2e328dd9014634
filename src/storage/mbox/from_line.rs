//! mbox `From_` lines: `From <sender>  <Www Mmm dd hh:mm:ss yyyy>`, in the
//! server's local time, as Dovecot writes them. The reader accepts the
//! usual variants (time zone names or offsets, missing seconds, one space).

use super::sys::local_offset;

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A parsed From_ line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromLine {
    pub sender: String,
    /// UNIX seconds.
    pub time: i64,
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `Www Mmm dd hh:mm:ss yyyy` for `t` in local time.
pub fn asctime_local(t: i64) -> String {
    let local = t.saturating_add(local_offset(t));
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = (days + 4).rem_euclid(7) as usize;
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[wd],
        MONTHS[(m - 1) as usize],
        d,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        y
    )
}

/// The From_ line Dovecot writes (without the LF).
pub fn format(sender: &str, t: i64) -> String {
    let sender: String = sender
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let sender = if sender.is_empty() {
        "MAILER-DAEMON".into()
    } else {
        sender
    };
    format!("From {sender}  {}", asctime_local(t))
}

fn parse_time(s: &str) -> Option<(i64, i64, i64)> {
    let mut p = s.split(':');
    let h: i64 = p.next()?.parse().ok()?;
    let m: i64 = p.next()?.parse().ok()?;
    let sec: i64 = match p.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    (p.next().is_none() && h < 24 && m < 60 && sec <= 60).then_some((h, m, sec))
}

fn parse_offset(s: &str) -> Option<i64> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = digits.parse().ok()?;
    Some(sign * ((v / 100) * 3600 + (v % 100) * 60))
}

/// Parse a From_ line (without its LF). `None` when it is not one: a body
/// line like `From the start of a line` is not.
pub fn parse(line: &[u8]) -> Option<FromLine> {
    let rest = line.strip_prefix(b"From ")?;
    if rest.len() > 1000 {
        return None;
    }
    let text = std::str::from_utf8(rest).ok()?;
    let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    for start in 0..tokens.len() {
        if !DAYS.contains(&tokens[start]) {
            continue;
        }
        let Some(date) = parse_date(&tokens[start + 1..]) else {
            continue;
        };
        return Some(FromLine {
            sender: tokens[..start].join(" "),
            time: date,
        });
    }
    None
}

/// `Mmm dd hh:mm[:ss] [TZ] yyyy [TZ]` → UNIX seconds.
fn parse_date(t: &[&str]) -> Option<i64> {
    let month = MONTHS.iter().position(|m| Some(m) == t.first())? as i64 + 1;
    let day: i64 = t.get(1)?.parse().ok().filter(|d| (1..=31).contains(d))?;
    let (h, mi, s) = parse_time(t.get(2)?)?;
    let mut offset = None;
    let mut idx = 3;
    let year_tok = loop {
        let tok = *t.get(idx)?;
        if tok.len() == 4 && tok.bytes().all(|b| b.is_ascii_digit()) {
            break tok;
        }
        if let Some(o) = parse_offset(tok) {
            offset = Some(o);
        } else if !tok.bytes().all(|b| b.is_ascii_alphabetic()) || idx > 4 {
            return None;
        }
        idx += 1;
    };
    let year: i64 = year_tok.parse().ok()?;
    if let Some(o) = t.get(idx + 1).and_then(|x| parse_offset(x)) {
        offset = Some(o);
    }
    let naive = days_from_civil(year, month, day) * 86_400 + h * 3600 + mi * 60 + s;
    let off = offset.unwrap_or_else(|| local_offset(naive));
    Some(naive - off)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_dovecots_format() {
        let line = format("other@vm", 1_795_865_173);
        assert!(line.starts_with("From other@vm  "), "{line}");
        let p = parse(line.as_bytes()).unwrap();
        assert_eq!(p.sender, "other@vm");
        assert_eq!(p.time, 1_795_865_173);
        assert!(format("", 0).starts_with("From MAILER-DAEMON  "));
    }

    #[test]
    fn accepts_variants_and_rejects_body_lines() {
        let utc = parse(b"From a@b Sat Nov 28 11:26:13 2026 +0000").unwrap();
        assert_eq!(utc.time, 1_795_865_173);
        assert!(parse(b"From a@b Sat Nov 28 11:26 CET 2026").is_some());
        assert!(parse(b"From MAILER-DAEMON  Thu Jan  1 00:00:00 1970").is_some());
        assert!(parse(b"From the start of a line").is_none());
        assert!(parse(b">From a@b Sat Nov 28 11:26:13 2026").is_none());
        assert!(parse(b"From a@b Sat Nov 99 11:26:13 2026").is_none());
        assert!(parse(b"From \xff\xfe").is_none());
        assert_eq!(
            civil_from_days(days_from_civil(2026, 11, 28)),
            (2026, 11, 28)
        );
    }
}

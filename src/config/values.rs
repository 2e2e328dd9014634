//! Parsing and printing of Dovecot 2.3 scalar value types (bool, uint, octal, size, time).
//!
//! Printing follows `doveconf` so that `config -n` output compares equal to Dovecot's:
//! sizes use the largest binary unit that divides evenly (`64 k`), times the largest
//! whole unit (`2 mins`, `1 days`).

use thiserror::Error;

/// Why a setting value was rejected; shown after `Error in configuration file … line N:`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    #[error("Invalid boolean value: {0} (use yes or no)")]
    Bool(String),
    #[error("Invalid number: {0}")]
    Number(String),
    #[error("Invalid size: {0}")]
    Size(String),
    #[error("Invalid time interval: {0}")]
    Time(String),
    #[error("Time interval '{0}' is missing units (add e.g. 's' for seconds)")]
    TimeUnitMissing(String),
    #[error("Invalid value '{value}' (allowed: {allowed})")]
    Enum { value: String, allowed: String },
    #[error("Unknown workaround: {0}")]
    Workaround(String),
    #[error("Invalid CPU list '{0}' (expected e.g. 0-3,8)")]
    CpuList(String),
    #[error("Invalid shard count '{0}' (expected auto or a number from 1 to 4096)")]
    Shards(String),
    #[error("Invalid port: {0}")]
    Port(String),
    #[error("Invalid network '{0}' (expected IP or IP/bits)")]
    Network(String),
    #[error("Unknown protocol: {0}")]
    Protocol(String),
    #[error("Number too large: {0}")]
    TooLarge(String),
}

/// Dovecot accepts yes/y/1 and no/n/0 (words case-insensitively).
pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "y" | "1" => Ok(true),
        "no" | "n" | "0" => Ok(false),
        _ => Err(ValueError::Bool(text.to_string())),
    }
}

pub fn format_bool(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

pub fn parse_uint(text: &str) -> Result<u64, ValueError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::Number(text.to_string()));
    }
    text.parse::<u64>()
        .map_err(|_| ValueError::Number(text.to_string()))
}

/// File modes: a leading `0` means octal (`0600`), otherwise decimal.
pub fn parse_octal(text: &str) -> Result<u32, ValueError> {
    let bad = || ValueError::Number(text.to_string());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let parsed = if text.starts_with('0') {
        u32::from_str_radix(text, 8)
    } else {
        text.parse::<u32>()
    };
    parsed.map_err(|_| bad())
}

/// doveconf prints modes with one leading zero: `0600`, and 0 as `00`.
pub fn format_octal(value: u32) -> String {
    format!("0{value:o}")
}

pub fn parse_port(text: &str) -> Result<u16, ValueError> {
    parse_uint(text)
        .ok()
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| ValueError::Port(text.to_string()))
}

/// Splits a leading decimal number from the rest, which is returned trimmed.
fn split_number(text: &str) -> Option<(u64, &str)> {
    let end = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(text.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let number = text[..end].parse::<u64>().ok()?;
    Some((number, text[end..].trim_start()))
}

/// `<n>[ ][B|K|M|G|T][i][B]`, base 1024, case-insensitive.
pub fn parse_size(text: &str) -> Result<u64, ValueError> {
    let bad = || ValueError::Size(text.to_string());
    let (number, unit) = split_number(text.trim()).ok_or_else(bad)?;
    let unit = unit.to_ascii_uppercase();
    let (shift, rest) = match unit.chars().next() {
        None => return Ok(number),
        Some('B') => (0, &unit[1..]),
        Some('K') => (10, &unit[1..]),
        Some('M') => (20, &unit[1..]),
        Some('G') => (30, &unit[1..]),
        Some('T') => (40, &unit[1..]),
        Some(_) => return Err(bad()),
    };
    let valid_rest = if shift == 0 {
        rest.is_empty()
    } else {
        matches!(rest, "" | "B" | "I" | "IB")
    };
    if !valid_rest {
        return Err(bad());
    }
    number.checked_mul(1u64 << shift).ok_or_else(bad)
}

pub fn format_size(bytes: u64) -> String {
    if bytes == 0 {
        return "0".to_string();
    }
    const SUFFIXES: [char; 5] = ['B', 'k', 'M', 'G', 'T'];
    let mut value = bytes;
    let mut suffix = SUFFIXES[0];
    for next in &SUFFIXES[1..] {
        if !value.is_multiple_of(1024) {
            break;
        }
        value /= 1024;
        suffix = *next;
    }
    format!("{value} {suffix}")
}

/// `<n>[ ]<unit>` in milliseconds. Any prefix of a unit word is accepted, as in Dovecot.
pub fn parse_time_ms(text: &str) -> Result<u64, ValueError> {
    let trimmed = text.trim();
    let bad = || ValueError::Time(text.to_string());
    let (number, unit) = split_number(trimmed).ok_or_else(bad)?;
    let unit = unit.to_ascii_lowercase();
    if unit.is_empty() {
        return if number == 0 {
            Ok(0)
        } else {
            Err(ValueError::TimeUnitMissing(text.to_string()))
        };
    }
    let is_prefix_of = |word: &str| word.starts_with(unit.as_str());
    let factor: u64 = if matches!(unit.as_str(), "ms" | "msec" | "msecs")
        || (unit.len() >= 4 && is_prefix_of("milliseconds"))
    {
        1
    } else if unit == "secs" || is_prefix_of("seconds") {
        1_000
    } else if unit == "mins" || is_prefix_of("minutes") {
        60_000
    } else if is_prefix_of("hours") {
        3_600_000
    } else if is_prefix_of("days") {
        86_400_000
    } else if is_prefix_of("weeks") {
        604_800_000
    } else {
        return Err(bad());
    };
    number.checked_mul(factor).ok_or_else(bad)
}

/// Largest whole unit, always plural, as doveconf prints (`2 mins`, `1 days`).
pub fn format_time_ms(ms: u64) -> String {
    if ms == 0 {
        return "0".to_string();
    }
    if !ms.is_multiple_of(1000) {
        return format!("{ms} ms");
    }
    let mut value = ms / 1000;
    let mut suffix = "secs";
    for (divisor, name) in [(60, "mins"), (60, "hours"), (24, "days"), (7, "weeks")] {
        if !value.is_multiple_of(divisor) {
            break;
        }
        value /= divisor;
        suffix = name;
    }
    format!("{value} {suffix}")
}

/// List values are separated by spaces and/or commas.
pub fn split_list(text: &str) -> Vec<&str> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect()
}

/// `shard_cpus` syntax: comma-separated CPU numbers and inclusive ranges (`0-3,8`).
/// CPU ids are capped so that a typo cannot make us allocate a huge list.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>, ValueError> {
    const MAX_CPU: usize = 4095;
    let bad = || ValueError::CpuList(text.to_string());
    let mut cpus: Vec<usize> = Vec::new();
    for item in split_list(text) {
        let (start, end) = match item.split_once('-') {
            Some((a, b)) => (a, b),
            None => (item, item),
        };
        let start: usize = parse_uint(start)
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        let end: usize = parse_uint(end)
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        if start > end || end > MAX_CPU {
            return Err(bad());
        }
        for cpu in start..=end {
            if cpus.contains(&cpu) {
                return Err(bad());
            }
            cpus.push(cpu);
        }
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools() {
        assert_eq!(parse_bool("YES"), Ok(true));
        assert_eq!(parse_bool("y"), Ok(true));
        assert_eq!(parse_bool("1"), Ok(true));
        assert_eq!(parse_bool("No"), Ok(false));
        assert!(parse_bool("maybe").is_err());
        assert!(parse_bool("").is_err());
    }

    #[test]
    fn octal_and_uint() {
        assert_eq!(parse_octal("0600"), Ok(0o600));
        assert_eq!(parse_octal("00"), Ok(0));
        assert_eq!(parse_octal("384"), Ok(384));
        assert!(parse_octal("0800").is_err());
        assert_eq!(format_octal(0o600), "0600");
        assert_eq!(format_octal(0), "00");
        assert!(parse_uint("-1").is_err());
        assert!(parse_uint("99999999999999999999999").is_err());
        assert_eq!(parse_port("993"), Ok(993));
        assert!(parse_port("70000").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("128k"), Ok(128 * 1024));
        assert_eq!(parse_size("64 M"), Ok(64 << 20));
        assert_eq!(parse_size("1 GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2KB"), Ok(2048));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("7B"), Ok(7));
        assert!(parse_size("1 X").is_err());
        assert!(parse_size("k").is_err());
        assert!(parse_size("99999999999 T").is_err());
        assert_eq!(format_size(128 * 1024), "128 k");
        assert_eq!(format_size(64 << 20), "64 M");
        assert_eq!(format_size(1500), "1500 B");
        assert_eq!(format_size(0), "0");
        assert_eq!(format_size(3 << 40), "3 T");
    }

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("2 secs"), Ok(2000));
        assert_eq!(parse_time_ms("59se"), Ok(59_000));
        assert_eq!(parse_time_ms("123 minu"), Ok(123 * 60_000));
        assert_eq!(parse_time_ms("1 hour"), Ok(3_600_000));
        assert_eq!(parse_time_ms("1 days"), Ok(86_400_000));
        assert_eq!(parse_time_ms("2w"), Ok(2 * 604_800_000));
        assert_eq!(parse_time_ms("5ms"), Ok(5));
        assert_eq!(parse_time_ms("0"), Ok(0));
        assert_eq!(
            parse_time_ms("10"),
            Err(ValueError::TimeUnitMissing("10".into()))
        );
        assert!(parse_time_ms("5 fortnights").is_err());
        assert_eq!(format_time_ms(120_000), "2 mins");
        assert_eq!(format_time_ms(86_400_000), "1 days");
        assert_eq!(format_time_ms(90_000), "90 secs");
        assert_eq!(format_time_ms(1_209_600_000), "2 weeks");
        assert_eq!(format_time_ms(1500), "1500 ms");
        assert_eq!(format_time_ms(0), "0");
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,8"), Ok(vec![0, 1, 2, 3, 8]));
        assert_eq!(parse_cpu_list(""), Ok(vec![]));
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("1,1").is_err());
        assert!(parse_cpu_list("0-999999").is_err());
        assert!(parse_cpu_list("a").is_err());
    }

    #[test]
    fn lists() {
        assert_eq!(split_list("*, ::"), vec!["*", "::"]);
        assert_eq!(split_list(" a b,c ,, d"), vec!["a", "b", "c", "d"]);
    }
}

//! Turns one server's responses into text that can be compared with the
//! other's: human text after OK/NO/BAD/BYE dropped (response codes kept),
//! UIDVALIDITY and MODSEQ values replaced by their order of appearance
//! (`V1`, `M1`…), internal dates of "now" replaced, capability lists sorted
//! (without the extensions tern adds on purpose), server IDs hidden.

/// Capabilities tern advertises beyond Dovecot 2.3 on purpose (issue 13,
/// "Beyond Dovecot"); left out of the comparison.
const TERN_EXTRAS: &[&str] = &[
    "IMAP4REV2",
    "COMPRESS=DEFLATE",
    "CONTEXT=SORT",
    "PARTIAL",
    "OBJECTID",
    "REPLACE",
    "UIDONLY",
    "INPROGRESS",
    "QUOTA",
    "QUOTASET",
    "QUOTA=RES-STORAGE",
    "QUOTA=RES-MESSAGE",
];

#[derive(Default)]
pub struct Normaliser {
    modseqs: Vec<u64>,
    uidvalidities: Vec<u64>,
}

impl Normaliser {
    /// The real value behind a label (`M2`, `V1`) for use in a command.
    pub fn value_of(&self, label: &str) -> Option<u64> {
        let (list, n) = match label.split_at_checked(1)? {
            ("M", n) => (&self.modseqs, n),
            ("V", n) => (&self.uidvalidities, n),
            _ => return None,
        };
        let i: usize = n.parse().ok()?;
        list.get(i.checked_sub(1)?).copied()
    }

    /// Replaces `<<M1>>`/`<<V1>>` in command text by the real values.
    pub fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(p) = rest.find("<<") {
            out.push_str(&rest[..p]);
            let after = &rest[p + 2..];
            match after.find(">>") {
                Some(e) => {
                    let label = &after[..e];
                    match self.value_of(label) {
                        Some(v) => out.push_str(&v.to_string()),
                        None => out.push_str(&format!("<<{label}>>")),
                    }
                    rest = &after[e + 2..];
                }
                None => {
                    out.push_str("<<");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    pub fn response(&mut self, raw: &[u8], now: i64) -> String {
        let text = String::from_utf8_lossy(raw).to_string();
        if text.starts_with('+') {
            return "+".to_string();
        }
        let mut words = text.splitn(3, ' ');
        let tag = words.next().unwrap_or("");
        let kind = words.next().unwrap_or("").to_ascii_uppercase();
        let rest = words.next().unwrap_or("");
        if matches!(kind.as_str(), "OK" | "NO" | "BAD" | "BYE" | "PREAUTH") {
            let code = match rest.strip_prefix('[') {
                Some(inner) => match inner.find(']') {
                    Some(e) => Some(self.code(&inner[..e])),
                    None => Some(inner.to_string()),
                },
                None => None,
            };
            return match code {
                Some(c) => format!("{tag} {kind} [{c}]"),
                None => format!("{tag} {kind}"),
            };
        }
        if tag == "*" && kind == "CAPABILITY" {
            return format!("* CAPABILITY {}", capabilities(rest));
        }
        if tag == "*" && kind == "ID" {
            return "* ID <server id>".to_string();
        }
        if tag == "*" && (kind == "LIST" || kind == "LSUB") {
            return mailbox_attributes(&text);
        }
        let text = quote_short_literals(&text);
        let t = self.numbers(&text, &["HIGHESTMODSEQ", "MODSEQ"], true);
        let t = self.numbers(&t, &["UIDVALIDITY"], false);
        internal_dates(&t, now)
    }

    fn code(&mut self, code: &str) -> String {
        let (name, args) = code.split_once(' ').unwrap_or((code, ""));
        let upper = name.to_ascii_uppercase();
        match upper.as_str() {
            "CAPABILITY" => format!("CAPABILITY {}", capabilities(args)),
            "HIGHESTMODSEQ" => self.numbers(code, &["HIGHESTMODSEQ"], true),
            "UIDVALIDITY" | "APPENDUID" | "COPYUID" => self.numbers(code, &[upper.as_str()], false),
            _ => code.to_string(),
        }
    }

    /// Replaces the number after each keyword (optionally after a `(`).
    fn numbers(&mut self, text: &str, keywords: &[&str], modseq: bool) -> String {
        let mut out = String::with_capacity(text.len());
        let bytes = text.as_bytes();
        let upper = text.to_ascii_uppercase();
        let mut i = 0;
        'scan: while i < bytes.len() {
            for kw in keywords {
                if upper[i..].starts_with(kw) && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
                    let mut j = i + kw.len();
                    if bytes.get(j) == Some(&b' ') {
                        j += 1;
                        if bytes.get(j) == Some(&b'(') {
                            j += 1;
                        }
                        let start = j;
                        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                            j += 1;
                        }
                        if j > start {
                            let value: u64 = text[start..j].parse().unwrap_or(0);
                            out.push_str(&text[i..start]);
                            out.push_str(&self.label(value, modseq));
                            i = j;
                            continue 'scan;
                        }
                    }
                }
            }
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
        out
    }

    fn label(&mut self, value: u64, modseq: bool) -> String {
        let (list, prefix) = if modseq {
            (&mut self.modseqs, "M")
        } else {
            (&mut self.uidvalidities, "V")
        };
        let idx = match list.iter().position(|v| *v == value) {
            Some(p) => p,
            None => {
                list.push(value);
                list.len() - 1
            }
        };
        format!("{prefix}{}", idx + 1)
    }
}

/// A `{n}` literal whose bytes could be a quoted string (no CR, LF, NUL,
/// `"` or `\\`) is written as one: both are the same string on the wire
/// (Dovecot sends long ENVELOPE fields as literals).
fn quote_short_literals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let header = digits.len() + 3; // digits, "}", CR, LF
        let tilde = rest[..open].ends_with('~');
        if digits.is_empty() || tilde || !after[digits.len()..].starts_with("}\r\n") {
            out.push_str(&rest[..=open]);
            rest = after;
            continue;
        }
        let n: usize = digits.parse().unwrap_or(usize::MAX);
        let body = after.get(header..header.saturating_add(n));
        match body {
            Some(b) if !b.contains(['\r', '\n', '\0', '"', '\\']) => {
                out.push_str(&rest[..open]);
                out.push('"');
                out.push_str(b);
                out.push('"');
                rest = &after[header + n..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Sorts a LIST/LSUB response's attributes (a set, RFC 3501 §7.2.2) and
/// writes the CHILDINFO tag unquoted (an astring either way, RFC 5258 §9).
fn mailbox_attributes(text: &str) -> String {
    let text = text.replace("(\"CHILDINFO\" ", "(CHILDINFO ");
    let Some(open) = text.find('(') else {
        return text;
    };
    let Some(close) = text[open..].find(')').map(|c| open + c) else {
        return text;
    };
    let mut attrs: Vec<&str> = text[open + 1..close].split_whitespace().collect();
    attrs.sort_by_key(|a| a.to_ascii_lowercase());
    format!(
        "{}({}){}",
        &text[..open],
        attrs.join(" "),
        &text[close + 1..]
    )
}

fn capabilities(list: &str) -> String {
    let mut caps: Vec<String> = list
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .filter(|c| !TERN_EXTRAS.contains(&c.as_str()))
        .collect();
    caps.sort();
    caps.dedup();
    caps.join(" ")
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `INTERNALDATE "…"` / `SAVEDATE "…"` within a day of `now` becomes
/// `"<now>"`; otherwise a space-padded day (` 2-Jan-…`, RFC 3501
/// `date-day-fixed` allows both) is written as `02-Jan-…`.
fn internal_dates(text: &str, now: i64) -> String {
    let mut text = text.to_string();
    for kw in ["INTERNALDATE \"", "SAVEDATE \""] {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(p) = rest.find(kw) {
            let after = &rest[p + kw.len()..];
            let Some(end) = after.find('"') else { break };
            out.push_str(&rest[..p + kw.len()]);
            let date = &after[..end];
            match parse_date_time(date) {
                Some(t) if (t - now).abs() < 86_400 => out.push_str("<now>"),
                Some(_) if date.starts_with(' ') => {
                    out.push('0');
                    out.push_str(&date[1..]);
                }
                _ => out.push_str(date),
            }
            out.push('"');
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        text = out;
    }
    text
}

/// Seconds since the epoch of an IMAP date-time (` 1-Jan-2024 10:00:00 +0000`).
pub fn parse_date_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_once(' ')?;
    let (time, zone) = rest.split_once(' ')?;
    let mut d = date.split('-');
    let day: i64 = d.next()?.trim().parse().ok()?;
    let month = d.next()?;
    let mon = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64 + 1;
    let year: i64 = d.next()?.parse().ok()?;
    let mut t = time.split(':');
    let (h, mi, se): (i64, i64, i64) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let z: i64 = zone.get(1..)?.parse().ok()?;
    let offset = sign * ((z / 100) * 3600 + (z % 100) * 60);
    Some(days_from_civil(year, mon, day) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

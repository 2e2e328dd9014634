//! The `subscriptions` file (version 2): `V\t2\n\n` then one name per line,
//! TAB as the hierarchy separator, 0x01-escapes for NUL, 0x01, TAB, CR, LF.

use crate::storage::name::{MailboxName, SEPARATOR};

pub const FILE_NAME: &str = "subscriptions";

/// Parse a subscriptions file. Lines that are not valid names are skipped:
/// a subscription to an invalid name can never be selected anyway.
pub fn parse(bytes: &[u8]) -> Vec<MailboxName> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n');
    let v2 = text.starts_with("V\t2\n") || text.starts_with("V\t2\r\n") || text == "V\t2";
    if v2 {
        lines.next();
    }
    let mut out = Vec::new();
    for line in lines {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let name = if v2 {
            line.split('\t')
                .map(unescape)
                .collect::<Vec<_>>()
                .join(&SEPARATOR.to_string())
        } else {
            line.to_string()
        };
        if let Ok(n) = MailboxName::new(&name)
            && !out.contains(&n)
        {
            out.push(n);
        }
    }
    out
}

fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\x01' {
            match chars.next() {
                Some('0') => out.push('\0'),
                Some('1') => out.push('\x01'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn escape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    for c in component.chars() {
        match c {
            '\0' => out.push_str("\x010"),
            '\x01' => out.push_str("\x011"),
            '\t' => out.push_str("\x01t"),
            '\r' => out.push_str("\x01r"),
            '\n' => out.push_str("\x01n"),
            c => out.push(c),
        }
    }
    out
}

/// Serialize exactly as Dovecot does.
pub fn format(names: &[MailboxName]) -> Vec<u8> {
    let mut out = String::from("V\t2\n\n");
    for n in names {
        let line: Vec<String> = n.components().map(escape).collect();
        out.push_str(&line.join("\t"));
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dovecot_ground_truth() {
        let names = parse(b"V\t2\n\nArchive\nArchive\t2024\n");
        let strs: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        assert_eq!(strs, vec!["Archive", "Archive/2024"]);
        assert_eq!(format(&names), b"V\t2\n\nArchive\nArchive\t2024\n");
    }

    #[test]
    fn version1_and_garbage() {
        let names = parse(b"INBOX\nA/B\n\n../x\n");
        let strs: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        assert_eq!(strs, vec!["INBOX", "A/B"]);
        assert!(parse(b"\xff\xfe\x00").is_empty());
        assert_eq!(unescape("a\x01tb\x01"), "a\tb");
        assert_eq!(escape("a\tb"), "a\x01tb");
    }
}

//! `dovecot-uidlist`: read versions 1 and 3, write version 3 (as Dovecot).
//!
//! ```text
//! 3 V<uidvalidity> N<next-uid> G<mailbox-guid>[ <other>]
//! <uid>[ <KEY><value>]* :<file name without :info>
//! ```
//! Pure code; total over any input.

use thiserror::Error;

pub const FILE_NAME: &str = "dovecot-uidlist";
/// Largest uidlist accepted (about 5 million messages).
pub const MAX_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UidlistError {
    #[error("uidlist header is invalid: {0}")]
    BadHeader(String),
    #[error("uidlist line {0} is invalid")]
    BadRecord(usize),
    #[error("uidlist is too large")]
    TooLarge,
}

/// One record: a UID, its extension fields and the file's stem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidRecord {
    pub uid: u32,
    /// `(key, value)` pairs, keys `A`–`Z`, in file order.
    pub ext: Vec<(char, String)>,
    pub stem: String,
}

impl UidRecord {
    pub fn ext(&self, key: char) -> Option<&str> {
        self.ext
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uidlist {
    pub uidvalidity: u32,
    pub next_uid: u32,
    /// Mailbox GUID as 32 hex digits (`G`), if present.
    pub guid: Option<String>,
    /// Other header fields (`P…` and unknown letters), kept verbatim.
    pub other_header: Vec<String>,
    /// Ascending by UID.
    pub records: Vec<UidRecord>,
}

impl Uidlist {
    pub fn new(uidvalidity: u32, guid: Option<String>) -> Self {
        Uidlist {
            uidvalidity,
            next_uid: 1,
            guid,
            other_header: Vec::new(),
            records: Vec::new(),
        }
    }
}

pub fn parse(bytes: &[u8]) -> Result<Uidlist, UidlistError> {
    if bytes.len() > MAX_BYTES {
        return Err(UidlistError::TooLarge);
    }
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n');
    let header = lines.next().unwrap_or("").trim_end_matches('\r');
    let mut fields = header.split(' ');
    let version = fields.next().unwrap_or("");
    let mut list = Uidlist::new(0, None);
    let v3 = match version {
        "3" => {
            for f in fields.filter(|f| !f.is_empty()) {
                let (k, v) = f.split_at(f.chars().next().map(char::len_utf8).unwrap_or(0));
                match k {
                    "V" => list.uidvalidity = v.parse().map_err(|_| bad_header(header))?,
                    "N" => list.next_uid = v.parse().map_err(|_| bad_header(header))?,
                    "G" => list.guid = Some(v.to_string()),
                    _ => list.other_header.push(f.to_string()),
                }
            }
            true
        }
        "1" => {
            let v: Vec<&str> = fields.collect();
            if v.len() < 2 {
                return Err(bad_header(header));
            }
            list.uidvalidity = v[0].parse().map_err(|_| bad_header(header))?;
            list.next_uid = v[1].parse().map_err(|_| bad_header(header))?;
            false
        }
        _ => return Err(bad_header(header)),
    };
    if list.uidvalidity == 0 || list.next_uid == 0 {
        return Err(bad_header(header));
    }
    let mut last = 0u32;
    for (i, line) in lines.enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let lineno = i + 2;
        let rec = if v3 {
            parse_v3_record(line).ok_or(UidlistError::BadRecord(lineno))?
        } else {
            let (uid, file) = line
                .split_once(' ')
                .ok_or(UidlistError::BadRecord(lineno))?;
            UidRecord {
                uid: uid.parse().map_err(|_| UidlistError::BadRecord(lineno))?,
                ext: Vec::new(),
                stem: super::filename::stem_of(file).to_string(),
            }
        };
        if rec.uid <= last || rec.stem.is_empty() || rec.stem.contains('/') {
            return Err(UidlistError::BadRecord(lineno));
        }
        last = rec.uid;
        list.records.push(rec);
    }
    // N must be above every UID in use.
    list.next_uid = list.next_uid.max(last.saturating_add(1));
    Ok(list)
}

fn bad_header(h: &str) -> UidlistError {
    UidlistError::BadHeader(h.chars().take(80).collect())
}

fn parse_v3_record(line: &str) -> Option<UidRecord> {
    let (head, file) = line.split_once(" :")?;
    let mut parts = head.split(' ');
    let uid: u32 = parts.next()?.parse().ok()?;
    if uid == 0 {
        return None;
    }
    let mut ext = Vec::new();
    for p in parts.filter(|p| !p.is_empty()) {
        let key = p.chars().next()?;
        if !key.is_ascii_uppercase() {
            return None;
        }
        ext.push((key, p[1..].to_string()));
    }
    Some(UidRecord {
        uid,
        ext,
        stem: super::filename::stem_of(file).to_string(),
    })
}

/// Version 3, as Dovecot writes it.
pub fn format(list: &Uidlist) -> Vec<u8> {
    let mut out = format!("3 V{} N{}", list.uidvalidity, list.next_uid);
    if let Some(g) = &list.guid {
        out.push_str(" G");
        out.push_str(g);
    }
    for o in &list.other_header {
        out.push(' ');
        out.push_str(o);
    }
    out.push('\n');
    for r in &list.records {
        format_record(&mut out, r);
    }
    out.into_bytes()
}

pub fn format_record(out: &mut String, r: &UidRecord) {
    use std::fmt::Write;
    let _ = write!(out, "{}", r.uid);
    for (k, v) in &r.ext {
        // Values must not break the line structure.
        let v: String = v
            .chars()
            .filter(|c| !matches!(c, ' ' | '\n' | '\r'))
            .collect();
        let _ = write!(out, " {k}{v}");
    }
    let _ = writeln!(out, " :{}", r.stem);
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "3 V1795865153 N4 G2653a71e41ba0a6b6678000083ecc375\n\
        1 :1795865153.M514268P30822.vm,S=50,W=54\n\
        2 :1795865153.M566429P30824.vm,S=50,W=54\n";

    #[test]
    fn round_trips_the_dovecot_sample() {
        let l = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!((l.uidvalidity, l.next_uid), (1795865153, 4));
        assert_eq!(l.guid.as_deref(), Some("2653a71e41ba0a6b6678000083ecc375"));
        assert_eq!(l.records.len(), 2);
        assert_eq!(l.records[1].stem, "1795865153.M566429P30824.vm,S=50,W=54");
        assert_eq!(String::from_utf8(format(&l)).unwrap(), SAMPLE);
    }

    #[test]
    fn extensions_and_version_1() {
        let l = parse(b"3 V5 N9 P1\n3 GABC O7 W99 :x:2,S\n").unwrap();
        assert_eq!(l.records[0].ext('G'), Some("ABC"));
        assert_eq!(l.records[0].ext('O'), Some("7"));
        assert_eq!(l.records[0].stem, "x");
        assert_eq!(l.other_header, vec!["P1"]);
        assert!(
            String::from_utf8(format(&l))
                .unwrap()
                .contains("3 GABC O7 W99 :x\n")
        );
        let v1 = parse(b"1 42 10\n3 foo:2,S\n").unwrap();
        assert_eq!(
            (
                v1.uidvalidity,
                v1.records[0].uid,
                v1.records[0].stem.as_str()
            ),
            (42, 3, "foo")
        );
    }

    #[test]
    fn rejects_corruption() {
        assert!(parse(b"").is_err());
        assert!(parse(b"3 V0 N1\n").is_err());
        assert!(parse(b"2 V1 N1\n").is_err());
        assert!(parse(b"3 V1 N5\n2 :a\n1 :b\n").is_err());
        assert!(parse(b"3 V1 N5\n2 x :a\n").is_err());
        assert!(parse(b"3 V1 N5\n2 :a/b\n").is_err());
        // N is raised above the highest UID.
        assert_eq!(parse(b"3 V1 N2\n7 :a\n").unwrap().next_uid, 8);
        for junk in [&b"\xff\xfe"[..], b"3 V\xff N", b"3 V1 N1\n\x00 :"] {
            let _ = parse(junk);
        }
    }
}

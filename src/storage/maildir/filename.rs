//! Maildir file names as Dovecot writes and reads them:
//! `<base>[,S=<size>][,W=<vsize>][,key=value…][:2,<flags>]`.
//! Pure code; total over any input.

use crate::storage::index::flag;

/// A parsed Maildir file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildirName {
    /// Everything before `:` (base plus `,S=`/`,W=` extras). Dovecot's uidlist
    /// and GUID use this part; it never changes on a flag rename.
    pub stem: String,
    /// `,S=` physical size, when present and numeric.
    pub size: Option<u64>,
    /// `,W=` virtual size, when present and numeric.
    pub vsize: Option<u64>,
    /// System flags from `:2,`.
    pub flags: u8,
    /// Keyword letters `a`–`z` as indexes 0–25, ascending.
    pub keyword_letters: Vec<u8>,
    /// Other flag characters we do not understand, kept in place on rename.
    pub other_flags: String,
    /// Text after a second `,` in the info part, kept verbatim.
    pub info_tail: Option<String>,
}

/// The stem of a file name: everything before the first `:`.
pub fn stem_of(file: &str) -> &str {
    file.split_once(':').map(|(s, _)| s).unwrap_or(file)
}

pub fn parse(file: &str) -> MaildirName {
    let (stem, info) = match file.split_once(':') {
        Some((s, i)) => (s, Some(i)),
        None => (file, None),
    };
    let mut size = None;
    let mut vsize = None;
    for extra in stem.split(',').skip(1) {
        if let Some(v) = extra.strip_prefix("S=") {
            size = v.parse().ok();
        } else if let Some(v) = extra.strip_prefix("W=") {
            vsize = v.parse().ok();
        }
    }
    let mut flags = 0u8;
    let mut keyword_letters = Vec::new();
    let mut other_flags = String::new();
    let mut info_tail = None;
    if let Some(rest) = info.and_then(|i| i.strip_prefix("2,")) {
        let (chars, tail) = match rest.split_once(',') {
            Some((c, t)) => (c, Some(t.to_string())),
            None => (rest, None),
        };
        info_tail = tail;
        for c in chars.chars() {
            match c {
                'D' => flags |= flag::DRAFT,
                'F' => flags |= flag::FLAGGED,
                'R' => flags |= flag::ANSWERED,
                'S' => flags |= flag::SEEN,
                'T' => flags |= flag::DELETED,
                'a'..='z' => keyword_letters.push(c as u8 - b'a'),
                other => other_flags.push(other),
            }
        }
        keyword_letters.sort_unstable();
        keyword_letters.dedup();
    }
    MaildirName {
        stem: stem.to_string(),
        size,
        vsize,
        flags,
        keyword_letters,
        other_flags,
        info_tail,
    }
}

/// The `:2,…` info part for these flags (ASCII order, as Dovecot writes it).
pub fn info(flags: u8, keyword_letters: &[u8], other_flags: &str) -> String {
    let mut chars: Vec<char> = Vec::new();
    for (bit, c) in [
        (flag::DRAFT, 'D'),
        (flag::FLAGGED, 'F'),
        (flag::ANSWERED, 'R'),
        (flag::SEEN, 'S'),
        (flag::DELETED, 'T'),
    ] {
        if flags & bit != 0 {
            chars.push(c);
        }
    }
    chars.extend(other_flags.chars());
    for &k in keyword_letters {
        if k < 26 {
            chars.push((b'a' + k) as char);
        }
    }
    chars.sort_unstable();
    chars.dedup();
    let mut s = String::from(":2,");
    s.extend(chars);
    s
}

/// A full name: stem plus info (used for files in `cur/`).
pub fn with_info(stem: &str, flags: u8, keyword_letters: &[u8], other_flags: &str) -> String {
    format!("{stem}{}", info(flags, keyword_letters, other_flags))
}

/// A stem as Dovecot makes them: `<secs>.M<usecs>P<pid>Q<n>.<host>,S=<n>,W=<n>`.
pub fn new_stem(secs: i64, usecs: u32, seq: u64, host: &str, size: u64, vsize: u64) -> String {
    let host: String = host
        .chars()
        .map(|c| match c {
            '/' => '\\',
            ':' => '-',
            ',' => '_',
            c => c,
        })
        .collect();
    format!(
        "{secs}.M{usecs}P{}Q{seq}.{host},S={size},W={vsize}",
        std::process::id()
    )
}

/// Is this directory entry a plausible message file (not hidden, no `/`)?
pub fn is_message_file(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dovecot_samples() {
        let n = parse("1795865153.M514268P30822.vm,S=50,W=54:2,FS");
        assert_eq!(n.stem, "1795865153.M514268P30822.vm,S=50,W=54");
        assert_eq!((n.size, n.vsize), (Some(50), Some(54)));
        assert_eq!(n.flags, flag::FLAGGED | flag::SEEN);
        let k = parse("x,S=1:2,Rab");
        assert_eq!(k.flags, flag::ANSWERED);
        assert_eq!(k.keyword_letters, vec![0, 1]);
        let plain = parse("1795865153.M566429P30824.vm,S=50,W=54");
        assert_eq!(plain.flags, 0);
        assert_eq!(plain.size, Some(50));
        let odd = parse("a:2,SZ,tail");
        assert_eq!(odd.other_flags, "Z");
        assert_eq!(odd.info_tail.as_deref(), Some("tail"));
    }

    #[test]
    fn writes_flags_in_ascii_order() {
        let all = flag::DRAFT | flag::FLAGGED | flag::ANSWERED | flag::SEEN | flag::DELETED;
        assert_eq!(info(all, &[1, 0], ""), ":2,DFRSTab");
        assert_eq!(with_info("b,S=1", flag::SEEN, &[], "Z"), "b,S=1:2,SZ");
        assert_eq!(info(0, &[], ""), ":2,");
    }

    #[test]
    fn total_on_garbage() {
        for s in ["", ":", ":2,", ",S=", ",S=x:2,\u{1F600}", "::::"] {
            let _ = parse(s);
        }
        assert!(!is_message_file(".hidden"));
        let stem = new_stem(1, 2, 3, "h/o:s,t", 10, 12);
        assert!(stem.ends_with(".h\\o-s_t,S=10,W=12"));
    }
}

//! Mailbox names between the wire (modified UTF-7 unless UTF-8 was
//! enabled) and storage (UTF-8 with `/`).

use crate::imap::codec::types::Mailbox;
use crate::storage::{MailboxName, mutf7};

pub const DELIMITER: u8 = b'/';

/// The storage name of a client-supplied mailbox.
pub fn from_wire(mailbox: &Mailbox, utf8: bool) -> Option<MailboxName> {
    let text = std::str::from_utf8(mailbox.as_bytes()).ok()?;
    let decoded = if utf8 {
        text.to_string()
    } else {
        mutf7::decode(text).ok()?
    };
    // A trailing delimiter names the same mailbox (RFC 9051 §6.3.4).
    let trimmed = decoded.strip_suffix('/').unwrap_or(&decoded);
    MailboxName::new(trimmed).ok()
}

pub fn to_wire(name: &MailboxName, utf8: bool) -> Mailbox {
    if name.is_inbox() {
        return Mailbox::Inbox;
    }
    if utf8 {
        Mailbox::Other(name.as_str().as_bytes().to_vec())
    } else {
        Mailbox::Other(mutf7::encode(name.as_str()).into_bytes())
    }
}

/// LIST pattern match: `*` matches anything, `%` anything but the
/// delimiter. Iterative with backtracking on the last `*`/`%`, so a hostile
/// pattern costs O(pattern × name).
pub fn pattern_matches(pattern: &[u8], name: &[u8]) -> bool {
    // (pattern index, name index) of the last wildcard for backtracking.
    let mut star: Option<(usize, usize, bool)> = None;
    let (mut p, mut n) = (0, 0);
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'*' || pattern[p] == b'%') {
            star = Some((p, n, pattern[p] == b'%'));
            p += 1;
        } else if p < pattern.len() && pattern[p] == name[n] {
            p += 1;
            n += 1;
        } else if let Some((sp, sn, percent)) = star {
            if percent && name[sn] == DELIMITER {
                return false;
            }
            star = Some((sp, sn + 1, percent));
            p = sp + 1;
            n = sn + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*' || c == b'%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(pattern_matches(b"*", b"a/b/c"));
        assert!(pattern_matches(b"%", b"abc"));
        assert!(!pattern_matches(b"%", b"a/b"));
        assert!(pattern_matches(b"a/%", b"a/b"));
        assert!(!pattern_matches(b"a/%", b"a/b/c"));
        assert!(pattern_matches(b"a*c", b"a/b/c"));
        assert!(pattern_matches(b"INBOX", b"INBOX"));
        assert!(!pattern_matches(b"INBOX", b"INBOX/x"));
        assert!(pattern_matches(b"%/%", b"a/b"));
    }

    #[test]
    fn names_convert() {
        let m = Mailbox::from("Entw&APw-rfe");
        let n = from_wire(&m, false).unwrap();
        assert_eq!(n.as_str(), "Entwürfe");
        assert_eq!(to_wire(&n, false), m);
        assert_eq!(
            to_wire(&n, true),
            Mailbox::Other("Entwürfe".as_bytes().to_vec())
        );
        assert!(from_wire(&Mailbox::from("a//b"), true).is_none());
        assert!(
            from_wire(&Mailbox::from("inbox"), false)
                .unwrap()
                .is_inbox()
        );
    }
}

//! Flags between the codec's [`Flag`] and storage's system flags +
//! keywords.

use crate::imap::codec::types::{Atom, Flag, FlagPerm};
use crate::imap::eval::fetch::system_flag_list;
use crate::storage::SystemFlags;

/// Splits client flags. `\Recent` and unknown `\Extension` flags are
/// ignored (they cannot be stored), as Dovecot does.
pub fn split(flags: &[Flag]) -> (SystemFlags, Vec<String>) {
    let mut sys = SystemFlags::NONE;
    let mut keywords = Vec::new();
    for f in flags {
        match f {
            Flag::Answered => sys = sys | SystemFlags::ANSWERED,
            Flag::Flagged => sys = sys | SystemFlags::FLAGGED,
            Flag::Deleted => sys = sys | SystemFlags::DELETED,
            Flag::Seen => sys = sys | SystemFlags::SEEN,
            Flag::Draft => sys = sys | SystemFlags::DRAFT,
            Flag::Keyword(a) => {
                if !keywords
                    .iter()
                    .any(|k: &String| k.eq_ignore_ascii_case(a.as_str()))
                {
                    keywords.push(a.as_str().to_string());
                }
            }
            Flag::Recent | Flag::Extension(_) => {}
        }
    }
    (sys, keywords)
}

fn keyword_flags(keywords: &[String]) -> Vec<Flag> {
    keywords
        .iter()
        .filter_map(|k| Atom::try_from(k.as_str()).ok().map(Flag::Keyword))
        .collect()
}

/// The FLAGS response of SELECT.
pub fn defined(keywords: &[String]) -> Vec<Flag> {
    let mut out = system_flag_list(
        SystemFlags::ANSWERED
            | SystemFlags::FLAGGED
            | SystemFlags::DELETED
            | SystemFlags::SEEN
            | SystemFlags::DRAFT,
    );
    out.extend(keyword_flags(keywords));
    out
}

/// PERMANENTFLAGS of a read-write mailbox.
pub fn permanent(keywords: &[String]) -> Vec<FlagPerm> {
    let mut out: Vec<FlagPerm> = defined(keywords).into_iter().map(FlagPerm::Flag).collect();
    out.push(FlagPerm::AnyKeyword);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_render() {
        let kw = Flag::Keyword(Atom::try_from("$Junk").unwrap());
        let (sys, kws) = split(&[Flag::Seen, Flag::Recent, kw.clone(), kw]);
        assert_eq!(sys, SystemFlags::SEEN);
        assert_eq!(kws, vec!["$Junk".to_string()]);
        assert_eq!(
            system_flag_list(SystemFlags::SEEN | SystemFlags::DRAFT),
            vec![Flag::Seen, Flag::Draft]
        );
        assert_eq!(defined(&[]).len(), 5);
        assert!(permanent(&[]).contains(&FlagPerm::AnyKeyword));
    }
}

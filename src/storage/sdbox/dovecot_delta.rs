//! Flag and keyword changes Dovecot's own tools (`doveadm flags`, a Sieve
//! `addflag` at delivery) made to a mailbox tern serves, as tern log
//! entries. Pure code.
//!
//! Only the difference between two imports of Dovecot's index is applied,
//! on top of tern's current flags: Dovecot does not know the changes tern
//! made (tern does not write Dovecot's log), so copying its flags wholesale
//! would undo them. A message Dovecot did not know at the earlier import
//! counts as having had no flags then.

use super::dovecot_index::DovecotState;
use crate::storage::index::state::{MAX_KEYWORDS, kw_set};
use crate::storage::index::{Entry, MailboxState, flag};
use crate::storage::types::valid_keyword;
use std::collections::BTreeSet;

/// Keyword names a message carries in an import.
fn names<'a>(d: &'a DovecotState, idx: &BTreeSet<usize>) -> BTreeSet<&'a str> {
    idx.iter()
        .filter_map(|&i| d.keywords.get(i))
        .map(String::as_str)
        .collect()
}

/// Entries that apply what changed between `old` and `new` to `state`
/// (keyword definitions first, then one flag change at a new modseq).
/// Empty when nothing changed for any message tern has.
pub fn entries(old: Option<&DovecotState>, new: &DovecotState, state: &MailboxState) -> Vec<Entry> {
    let none = BTreeSet::new();
    let mut known: Vec<String> = state.keywords.clone();
    let mut out = Vec::new();
    let mut changes = Vec::new();
    for (&uid, (new_flags, new_kws)) in &new.messages {
        let Some(rec) = state.record(uid) else {
            continue;
        };
        let (old_flags, old_kws) = match old.and_then(|o| o.messages.get(&uid)) {
            Some((f, k)) => (*f, k),
            None => (0, &none),
        };
        let added = new_flags & !old_flags & flag::ALL;
        let removed = old_flags & !new_flags & flag::ALL;
        let before_names = old.map(|o| names(o, old_kws)).unwrap_or_default();
        let after_names = names(new, new_kws);
        let mut kws = rec.keywords.clone();
        for gone in before_names.difference(&after_names) {
            if let Some(i) = known.iter().position(|k| k.eq_ignore_ascii_case(gone)) {
                kw_set(&mut kws, i, false);
            }
        }
        for name in after_names.difference(&before_names) {
            let i = match known.iter().position(|k| k.eq_ignore_ascii_case(name)) {
                Some(i) => i,
                None if known.len() < MAX_KEYWORDS && valid_keyword(name) => {
                    known.push(name.to_string());
                    out.push(Entry::Keyword(name.to_string()));
                    known.len() - 1
                }
                None => continue,
            };
            kw_set(&mut kws, i, true);
        }
        let flags = (rec.flags | added) & !removed;
        if flags != rec.flags || kws != rec.keywords {
            changes.push((uid, flags, kws));
        }
    }
    if !changes.is_empty() {
        out.push(Entry::Flags {
            modseq: state.highest_modseq + 1,
            changes,
        });
    }
    out
}

/// Whether `uid` is a live message in Dovecot's index.
pub fn lists(d: Option<&DovecotState>, uid: u32) -> bool {
    d.is_some_and(|d| d.messages.contains_key(&uid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::state::{kw_has, sample_record};
    use std::collections::BTreeMap;

    fn has_keyword(state: &MailboxState, uid: u32, name: &str) -> bool {
        match (state.record(uid), state.keyword_index(name)) {
            (Some(r), Some(i)) => kw_has(&r.keywords, i),
            _ => false,
        }
    }

    fn dovecot(msgs: &[(u32, u8, &[usize])], keywords: &[&str]) -> DovecotState {
        DovecotState {
            uidvalidity: 1,
            next_uid: 10,
            mailbox_guid: None,
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            messages: msgs
                .iter()
                .map(|&(u, f, k)| (u, (f, k.iter().copied().collect())))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn state() -> MailboxState {
        let mut s = MailboxState::new(1, [0; 16]);
        for uid in 1..=3 {
            s.apply(&Entry::Append(sample_record(uid)));
        }
        s.apply(&Entry::Keyword("Work".into()));
        s.apply(&Entry::Flags {
            modseq: 5,
            changes: vec![(2, flag::SEEN, smallvec::smallvec![1])],
        });
        s
    }

    #[test]
    fn applies_only_what_dovecot_changed() {
        let mut st = state();
        let old = dovecot(&[(1, 0, &[]), (2, 0, &[])], &[]);
        // Dovecot flagged 1 and gave 2 "$Label1"; it never knew 2 was \Seen.
        let new = dovecot(&[(1, flag::FLAGGED, &[]), (2, 0, &[0])], &["$Label1"]);
        let e = entries(Some(&old), &new, &st);
        for x in &e {
            st.apply(x);
        }
        assert_eq!(st.record(1).unwrap().flags, flag::FLAGGED);
        assert_eq!(
            st.record(2).unwrap().flags,
            flag::SEEN,
            "tern's own flag kept"
        );
        assert!(has_keyword(&st, 2, "$Label1"));
        assert!(has_keyword(&st, 2, "Work"));
        assert_eq!(st.record(1).unwrap().modseq, st.highest_modseq);
        // The same import again changes nothing.
        assert!(entries(Some(&new), &new, &st).is_empty());
    }

    #[test]
    fn removals_unknown_messages_and_first_import() {
        let mut st = state();
        let old = dovecot(&[(2, flag::SEEN, &[0])], &["work"]);
        let new = dovecot(&[(2, 0, &[]), (7, flag::FLAGGED, &[])], &["work"]);
        for x in entries(Some(&old), &new, &st) {
            st.apply(&x);
        }
        assert_eq!(st.record(2).unwrap().flags, 0);
        assert!(!has_keyword(&st, 2, "Work"), "case-insensitive match");
        // No earlier import: a fresh Dovecot index with no flags is no change.
        let fresh = dovecot(&[(1, 0, &[]), (3, 0, &[])], &[]);
        assert!(entries(None, &fresh, &st).is_empty());
        assert!(lists(Some(&fresh), 3) && !lists(Some(&fresh), 2) && !lists(None, 1));
    }
}

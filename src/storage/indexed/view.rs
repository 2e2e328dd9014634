//! The read side of an indexed mailbox: what STATUS, FETCH, sequence
//! numbers and CONDSTORE/QRESYNC ask of a [`MailboxState`] and its
//! [`LiveSummary`], answered one way for every backend that keeps them.
//! Pure; a backend holds the two in `RefCell`s and lends them here.
//!
//! Every backend's [`Mailbox`](crate::storage::Mailbox) read side is this
//! (same results everywhere, checked by the conformance suite).

use super::keywords::keyword_names;
use crate::storage::index::{LiveSummary, MailboxState, MessageRecord};
use crate::storage::types::{Changes, MailboxStatus, MessageInfo, SystemFlags};

/// A borrowed index plus its running summary, kept in step by the caller.
#[derive(Clone, Copy)]
pub struct IndexView<'a> {
    pub state: &'a MailboxState,
    pub summary: &'a LiveSummary,
}

impl IndexView<'_> {
    pub fn status(&self) -> MailboxStatus {
        let st = self.state;
        let c = self.summary.counts(st);
        MailboxStatus {
            messages: c.messages,
            recent: c.recent,
            unseen: c.unseen,
            deleted: c.deleted,
            uidnext: st.uidnext,
            uidvalidity: st.uidvalidity,
            highest_modseq: st.highest_modseq,
            size: c.size,
        }
    }

    /// Current UIDs in ascending order (sequence number = index + 1).
    pub fn uids(&self) -> Vec<u32> {
        self.state.records.iter().map(|r| r.uid).collect()
    }

    pub fn uid_at(&self, seq: u32) -> Option<u32> {
        let idx = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.state.records.get(idx).map(|r| r.uid)
    }

    pub fn seq_of(&self, uid: u32) -> Option<u32> {
        u32::try_from(self.state.position(uid)? + 1).ok()
    }

    pub fn message(&self, uid: u32) -> Option<MessageInfo> {
        self.state.record(uid).map(|r| message_info(self.state, r))
    }

    /// The listed UIDs that exist, in UID order, once each.
    pub fn messages_by_uid(&self, uids: &[u32]) -> Vec<MessageInfo> {
        self.existing_sorted(uids)
            .into_iter()
            .filter_map(|u| self.message(u))
            .collect()
    }

    pub fn messages(&self) -> Vec<MessageInfo> {
        let st = self.state;
        st.records.iter().map(|r| message_info(st, r)).collect()
    }

    pub fn changes_since(&self, modseq: u64) -> Changes {
        let st = self.state;
        Changes {
            highest_modseq: st.highest_modseq,
            changed: self
                .summary
                .changed_since(modseq)
                .into_iter()
                .filter_map(|u| self.message(u))
                .collect(),
            expunged: self.summary.expunged_since(st, modseq),
            expunged_complete: modseq >= st.expunge_floor,
        }
    }

    /// The listed UIDs that exist, sorted, without repeats (what a change
    /// operates on).
    pub fn existing_sorted(&self, uids: &[u32]) -> Vec<u32> {
        let mut v: Vec<u32> = uids
            .iter()
            .copied()
            .filter(|&u| self.state.position(u).is_some())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// The protocols' view of one record of `state`.
pub fn message_info(state: &MailboxState, rec: &MessageRecord) -> MessageInfo {
    MessageInfo {
        uid: rec.uid,
        flags: SystemFlags(rec.flags),
        keywords: keyword_names(&state.keywords, &rec.keywords),
        recent: rec.uid >= state.first_recent_uid,
        modseq: rec.modseq,
        internal_date: rec.internal_date,
        save_date: rec.save_date,
        physical_size: rec.physical_size,
        virtual_size: rec.virtual_size,
        guid: rec.guid.clone(),
        pop3_uidl: rec.pop3_uidl.clone(),
        pop3_order: rec.pop3_order,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::state::{kw_set, sample_record};
    use crate::storage::index::{Entry, KeywordBits, flag};

    /// Five messages, UIDs 2..=6; 3 is expunged, 5 is seen and keyworded,
    /// 6 arrived after `\Recent` was claimed.
    fn fixture() -> (MailboxState, LiveSummary) {
        let mut st = MailboxState::new(9, [1; 16]);
        let mut sum = LiveSummary::recount(&st);
        let mut apply = |st: &mut MailboxState, e: Entry| {
            sum.before_apply(st, &e);
            st.apply(&e);
        };
        apply(&mut st, Entry::Keyword("$Work".into()));
        for uid in 2..=5 {
            apply(&mut st, Entry::Append(sample_record(uid)));
        }
        apply(
            &mut st,
            Entry::Recent {
                first_recent_uid: 6,
            },
        );
        apply(&mut st, Entry::Append(sample_record(6)));
        let mut kw = KeywordBits::new();
        kw_set(&mut kw, 0, true);
        apply(
            &mut st,
            Entry::Flags {
                modseq: 20,
                changes: vec![(5, flag::SEEN, kw)],
            },
        );
        apply(
            &mut st,
            Entry::Expunge {
                modseq: 21,
                uids: vec![3],
            },
        );
        (st, sum)
    }

    #[test]
    fn sequence_numbers_follow_the_uid_order() {
        let (state, summary) = fixture();
        let v = IndexView {
            state: &state,
            summary: &summary,
        };
        assert_eq!(v.uids(), vec![2, 4, 5, 6]);
        assert_eq!(
            (v.uid_at(0), v.uid_at(2), v.uid_at(5)),
            (None, Some(4), None)
        );
        assert_eq!((v.seq_of(5), v.seq_of(3)), (Some(3), None));
        assert_eq!(v.existing_sorted(&[6, 3, 2, 6]), vec![2, 6]);
        let got: Vec<u32> = v
            .messages_by_uid(&[6, 2, 99])
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(got, vec![2, 6]);
    }

    #[test]
    fn status_messages_and_changes_come_from_the_index() {
        let (state, summary) = fixture();
        let v = IndexView {
            state: &state,
            summary: &summary,
        };
        let s = v.status();
        assert_eq!(
            (s.messages, s.recent, s.unseen, s.uidnext, s.uidvalidity),
            (4, 1, 3, 7, 9)
        );
        assert_eq!(s.highest_modseq, 21);
        let m5 = v.message(5).unwrap();
        assert_eq!(m5.keywords, vec!["$Work"]);
        assert_eq!(
            (m5.flags, m5.modseq, m5.recent),
            (SystemFlags::SEEN, 20, false)
        );
        assert!(v.message(6).unwrap().recent);
        assert_eq!(state.recent_uids(), vec![6]);
        assert_eq!(v.messages().len(), 4);
        let ch = v.changes_since(19);
        assert_eq!(
            ch.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
            vec![5]
        );
        assert_eq!((ch.expunged, ch.expunged_complete), (vec![3], true));
    }
}

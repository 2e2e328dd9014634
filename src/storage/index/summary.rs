//! Running totals beside a [`MailboxState`], so STATUS costs O(1) and
//! CHANGEDSINCE costs O(changes) instead of a scan of every record
//! (265-430 µs and ~1 ms on 100,000 messages; see the bench notes).
//!
//! Kept in step by calling [`LiveSummary::before_apply`] with the state as
//! it is *before* each [`Entry`] is applied; [`LiveSummary::recount`]
//! rebuilds it from scratch whenever the state is replaced wholesale.

use super::state::{Entry, MailboxState, MessageRecord, flag};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSummary {
    seen: u32,
    deleted: u32,
    /// Sum of RFC822.SIZE.
    size: u64,
    /// (modseq, uid) of every current message.
    by_modseq: BTreeSet<(u64, u32)>,
    /// The expunge history is in modseq order (true for everything tern
    /// writes); if ever not, `expunged_since` falls back to a scan.
    expunges_ordered: bool,
}

/// The counters STATUS needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub messages: u32,
    pub recent: u32,
    pub unseen: u32,
    pub deleted: u32,
    pub size: u64,
}

impl LiveSummary {
    pub fn recount(state: &MailboxState) -> Self {
        let mut s = LiveSummary {
            expunges_ordered: state.expunged.windows(2).all(|w| w[0].1 <= w[1].1),
            ..Default::default()
        };
        for r in &state.records {
            s.add(r.uid, r.flags, r.virtual_size, r.modseq);
        }
        s
    }

    fn add(&mut self, uid: u32, flags: u8, size: u64, modseq: u64) {
        self.seen += u32::from(flags & flag::SEEN != 0);
        self.deleted += u32::from(flags & flag::DELETED != 0);
        self.size = self.size.saturating_add(size);
        self.by_modseq.insert((modseq, uid));
    }

    fn remove(&mut self, uid: u32, flags: u8, size: u64, modseq: u64) {
        self.seen -= u32::from(flags & flag::SEEN != 0);
        self.deleted -= u32::from(flags & flag::DELETED != 0);
        self.size = self.size.saturating_sub(size);
        self.by_modseq.remove(&(modseq, uid));
    }

    fn remove_record(&mut self, r: &MessageRecord) {
        self.remove(r.uid, r.flags, r.virtual_size, r.modseq);
    }

    /// Account for `entry`, about to be applied to `state` (which must be
    /// the state this summary describes). Mirrors `MailboxState::apply`.
    pub fn before_apply(&mut self, state: &MailboxState, entry: &Entry) {
        match entry {
            Entry::Append(rec) => {
                if let Some(old) = state.record(rec.uid) {
                    self.remove_record(old);
                }
                self.add(rec.uid, rec.flags & flag::ALL, rec.virtual_size, rec.modseq);
            }
            Entry::Flags { modseq, changes } => {
                // A UID listed twice ends with its last change, as in `apply`.
                let mut done: HashMap<u32, u8> = HashMap::new();
                for (uid, flags, _) in changes {
                    let Some(r) = state.record(*uid) else {
                        continue;
                    };
                    let (old_flags, old_modseq) = match done.get(uid) {
                        Some(&f) => (f, *modseq),
                        None => (r.flags, r.modseq),
                    };
                    self.remove(*uid, old_flags, r.virtual_size, old_modseq);
                    let nf = *flags & flag::ALL;
                    self.add(*uid, nf, r.virtual_size, *modseq);
                    done.insert(*uid, nf);
                }
            }
            Entry::Expunge { modseq, uids } => {
                let mut gone = std::collections::HashSet::new();
                let mut any = false;
                for uid in uids {
                    if gone.insert(*uid)
                        && let Some(r) = state.record(*uid)
                    {
                        self.remove_record(r);
                        any = true;
                    }
                }
                if any && state.expunged.last().is_some_and(|&(_, m)| m > *modseq) {
                    self.expunges_ordered = false;
                }
            }
            Entry::Keyword(_) | Entry::Recent { .. } | Entry::UidNext(_) => {}
        }
    }

    pub fn counts(&self, state: &MailboxState) -> Counts {
        let messages = state.records.len() as u32;
        // Records are sorted by UID: the recent ones are a suffix.
        let first_recent = state
            .records
            .partition_point(|r| r.uid < state.first_recent_uid);
        Counts {
            messages,
            recent: (state.records.len() - first_recent) as u32,
            unseen: messages.saturating_sub(self.seen),
            deleted: self.deleted,
            size: self.size,
        }
    }

    /// UIDs whose modseq is above `modseq`, in UID order.
    pub fn changed_since(&self, modseq: u64) -> Vec<u32> {
        let mut uids: Vec<u32> = self
            .by_modseq
            .range((modseq.saturating_add(1), 0)..)
            .map(|&(_, u)| u)
            .collect();
        uids.sort_unstable();
        uids
    }

    /// UIDs expunged after `modseq`, oldest first.
    pub fn expunged_since(&self, state: &MailboxState, modseq: u64) -> Vec<u32> {
        if self.expunges_ordered {
            let from = state.expunged.partition_point(|&(_, m)| m <= modseq);
            state.expunged[from..].iter().map(|&(u, _)| u).collect()
        } else {
            state
                .expunged
                .iter()
                .filter(|&&(_, m)| m > modseq)
                .map(|&(u, _)| u)
                .collect()
        }
    }

    pub fn memory_estimate(&self) -> usize {
        // BTreeSet: 16-byte keys plus node overhead.
        self.by_modseq.len() * 24
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::state::{KeywordBits, sample_record};

    /// A tiny deterministic generator (no rand in the workspace).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u32) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % u64::from(n.max(1))) as u32
        }
    }

    fn full_counts(st: &MailboxState) -> Counts {
        let mut c = Counts {
            messages: st.records.len() as u32,
            ..Default::default()
        };
        for r in &st.records {
            c.recent += u32::from(r.uid >= st.first_recent_uid);
            c.unseen += u32::from(r.flags & flag::SEEN == 0);
            c.deleted += u32::from(r.flags & flag::DELETED != 0);
            c.size += r.virtual_size;
        }
        c
    }

    fn scan_changed(st: &MailboxState, m: u64) -> Vec<u32> {
        st.records
            .iter()
            .filter(|r| r.modseq > m)
            .map(|r| r.uid)
            .collect()
    }

    fn scan_expunged(st: &MailboxState, m: u64) -> Vec<u32> {
        st.expunged
            .iter()
            .filter(|e| e.1 > m)
            .map(|e| e.0)
            .collect()
    }

    #[test]
    fn counters_match_a_full_recount_after_random_operations() {
        for seed in 1..=20u64 {
            let mut rng = Lcg(seed);
            let mut st = MailboxState::new(1, [0; 16]);
            let mut sum = LiveSummary::recount(&st);
            for _ in 0..300 {
                let modseq = st.highest_modseq + 1;
                let existing: Vec<u32> = st.records.iter().map(|r| r.uid).collect();
                let pick = |rng: &mut Lcg| -> Vec<u32> {
                    let mut v: Vec<u32> = (0..rng.next(4) + 1)
                        .filter_map(|_| existing.get(rng.next(existing.len() as u32) as usize))
                        .copied()
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                };
                let entry = match rng.next(6) {
                    0 | 1 => {
                        let mut rec = sample_record(st.uidnext);
                        rec.flags = rng.next(32) as u8;
                        rec.virtual_size = u64::from(rng.next(5000));
                        rec.modseq = modseq;
                        Entry::Append(rec)
                    }
                    2 | 3 => {
                        let mut changes: Vec<_> = pick(&mut rng)
                            .into_iter()
                            .map(|u| (u, rng.next(32) as u8, KeywordBits::new()))
                            .collect();
                        if rng.next(8) == 0
                            && let Some(&(u, _, _)) = changes.first()
                        {
                            changes.push((u, rng.next(32) as u8, KeywordBits::new()));
                        }
                        Entry::Flags { modseq, changes }
                    }
                    4 => Entry::Expunge {
                        modseq,
                        uids: pick(&mut rng),
                    },
                    _ => Entry::Recent {
                        first_recent_uid: st.uidnext,
                    },
                };
                sum.before_apply(&st, &entry);
                st.apply(&entry);
                assert_eq!(sum.counts(&st), full_counts(&st), "seed {seed}");
                assert_eq!(sum, LiveSummary::recount(&st), "seed {seed}");
                let m = u64::from(rng.next(st.highest_modseq as u32 + 1));
                assert_eq!(sum.changed_since(m), scan_changed(&st, m), "seed {seed}");
                assert_eq!(
                    sum.expunged_since(&st, m),
                    scan_expunged(&st, m),
                    "seed {seed}"
                );
            }
        }
    }
}

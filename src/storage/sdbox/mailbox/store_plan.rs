//! Planning a group of STOREs against the index without touching it: each
//! request sees the flag changes of the requests queued before it, and gets
//! its own modseq, so a grouped commit answers exactly as the same stores
//! run one after another would.

use crate::storage::error::{Result, StorageError};
use crate::storage::index::state::{MAX_KEYWORDS, kw_set};
use crate::storage::index::{Entry, KeywordBits, MailboxState};
use crate::storage::indexed::{StoreRequest, kw_combine};
use crate::storage::types::{FlagOp, StoreResult, valid_keyword};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Where a grouped store's outcome is left for its caller.
pub(crate) type StoreSlot = Rc<RefCell<Option<Result<StoreResult>>>>;

pub(crate) struct PendingStore {
    pub request: StoreRequest,
    pub slot: StoreSlot,
}

/// The state of a group being planned: keywords defined so far, flag
/// changes made so far (uid → flags, keywords, modseq), the modseq reached.
pub(crate) struct StorePlan {
    pub known: Vec<String>,
    pub overlay: HashMap<u32, (u8, KeywordBits, u64)>,
    pub highest: u64,
    pub entries: Vec<Entry>,
}

impl StorePlan {
    /// Plan one request; `uids` are its existing UIDs, sorted. A request
    /// that fails (bad keyword, too many keywords) adds nothing.
    pub fn add(
        &mut self,
        state: &MailboxState,
        uids: &[u32],
        req: &StoreRequest,
    ) -> Result<StoreResult> {
        let bits = self.keyword_bits(&req.keywords)?;
        let modseq = self.highest + 1;
        let mut result = StoreResult::default();
        let mut changes = Vec::new();
        for &uid in uids {
            let current = match self.overlay.get(&uid) {
                Some((f, k, m)) => (*f, k.clone(), *m),
                None => match state.record(uid) {
                    Some(r) => (r.flags, r.keywords.clone(), r.modseq),
                    None => continue,
                },
            };
            let (flags, keywords, old_modseq) = current;
            if req.unchanged_since.is_some_and(|u| old_modseq > u) {
                result.modified.push(uid);
                continue;
            }
            let nf = match req.op {
                FlagOp::Add => flags | req.flags.0,
                FlagOp::Remove => flags & !req.flags.0,
                FlagOp::Replace => req.flags.0,
            } & 0x1f;
            let nk = kw_combine(&keywords, &bits, req.op);
            if nf != flags || nk != keywords {
                self.overlay.insert(uid, (nf, nk.clone(), modseq));
                changes.push((uid, nf, nk));
                result.changed.push(uid);
            }
        }
        if changes.is_empty() {
            result.modseq = self.highest;
        } else {
            self.highest = modseq;
            result.modseq = modseq;
            self.entries.push(Entry::Flags { modseq, changes });
        }
        Ok(result)
    }

    /// Bits for `names`, defining new keywords (all or none).
    fn keyword_bits(&mut self, names: &[String]) -> Result<KeywordBits> {
        let mut added = Vec::new();
        let mut bits = KeywordBits::new();
        for k in names {
            if !valid_keyword(k) {
                return Err(StorageError::BadKeyword(k.clone()));
            }
            let existing = self
                .known
                .iter()
                .chain(added.iter())
                .position(|x: &String| x.eq_ignore_ascii_case(k));
            let idx = match existing {
                Some(i) => i,
                None => {
                    if self.known.len() + added.len() >= MAX_KEYWORDS {
                        return Err(StorageError::TooManyKeywords);
                    }
                    added.push(k.clone());
                    self.known.len() + added.len() - 1
                }
            };
            kw_set(&mut bits, idx, true);
        }
        for k in added {
            self.entries.push(Entry::Keyword(k.clone()));
            self.known.push(k);
        }
        Ok(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::flag;
    use crate::storage::index::state::{kw_has, sample_record};
    use crate::storage::types::SystemFlags;

    fn req(uids: &[u32], op: FlagOp, flags: u8, kws: &[&str]) -> StoreRequest {
        StoreRequest {
            uids: uids.to_vec(),
            op,
            flags: SystemFlags(flags),
            keywords: kws.iter().map(|s| s.to_string()).collect(),
            unchanged_since: None,
        }
    }

    #[test]
    fn grouped_plan_equals_running_one_by_one() {
        let mut st = MailboxState::new(1, [0; 16]);
        for uid in 1..=4 {
            st.apply(&Entry::Append(sample_record(uid)));
        }
        let base = st.highest_modseq;
        let reqs = [
            req(&[1, 2], FlagOp::Add, flag::SEEN, &["$A"]),
            req(&[2, 3], FlagOp::Add, flag::FLAGGED, &["$B", "$a"]),
            req(&[2], FlagOp::Remove, flag::SEEN, &[]),
            req(&[4], FlagOp::Add, 0, &["bad keyword"]),
            req(&[1], FlagOp::Add, flag::SEEN, &[]),
        ];
        let mut plan = StorePlan {
            known: st.keywords.clone(),
            overlay: HashMap::new(),
            highest: st.highest_modseq,
            entries: Vec::new(),
        };
        let results: Vec<_> = reqs.iter().map(|r| plan.add(&st, &r.uids, r)).collect();
        assert_eq!(results[0].as_ref().unwrap().modseq, base + 1);
        assert_eq!(results[1].as_ref().unwrap().modseq, base + 2);
        assert_eq!(results[2].as_ref().unwrap().changed, vec![2]);
        assert!(results[3].is_err());
        let r4 = results[4].as_ref().unwrap();
        assert!(
            r4.changed.is_empty(),
            "already seen via the earlier request"
        );
        assert_eq!(r4.modseq, base + 3);
        for e in &plan.entries {
            st.apply(e);
        }
        assert_eq!(st.keywords, vec!["$A".to_string(), "$B".to_string()]);
        let r2 = st.record(2).unwrap();
        assert_eq!(r2.flags, flag::FLAGGED);
        assert!(kw_has(&r2.keywords, 0) && kw_has(&r2.keywords, 1));
        assert_eq!(r2.modseq, base + 3);
        assert_eq!(st.record(1).unwrap().flags, flag::SEEN);
        assert_eq!(st.record(4).unwrap().flags, 0);
        assert_eq!(st.highest_modseq, base + 3);
    }

    #[test]
    fn unchanged_since_sees_earlier_group_members() {
        let mut st = MailboxState::new(1, [0; 16]);
        st.apply(&Entry::Append(sample_record(1)));
        let m = st.record(1).unwrap().modseq;
        let mut plan = StorePlan {
            known: Vec::new(),
            overlay: HashMap::new(),
            highest: st.highest_modseq,
            entries: Vec::new(),
        };
        let first = req(&[1], FlagOp::Add, flag::SEEN, &[]);
        assert_eq!(plan.add(&st, &[1], &first).unwrap().changed, vec![1]);
        let mut second = req(&[1], FlagOp::Add, flag::FLAGGED, &[]);
        second.unchanged_since = Some(m);
        let r = plan.add(&st, &[1], &second).unwrap();
        assert_eq!(r.modified, vec![1]);
        assert!(r.changed.is_empty());
    }
}

//! Pure planning of the memory store's changes: each operation becomes the
//! same index [`Entry`] list sdbox would write to its log, so applying it
//! with [`MailboxState::apply`] gives sdbox's UIDs, modseqs and keywords.

use crate::storage::error::{Result, StorageError};
use crate::storage::index::state::{MAX_KEYWORDS, kw_set};
use crate::storage::index::{Entry, KeywordBits, MailboxState, MessageRecord, flag};
use crate::storage::types::{FlagOp, StoreResult, SystemFlags, valid_keyword};

/// The mailbox's keywords plus the ones one change defines. A change that
/// fails defines none (it is planned, never applied).
struct KeywordTable<'a> {
    known: &'a [String],
    added: Vec<String>,
}

impl<'a> KeywordTable<'a> {
    fn new(state: &'a MailboxState) -> Self {
        KeywordTable {
            known: &state.keywords,
            added: Vec::new(),
        }
    }

    /// The bit of `name` (case-insensitive), defining it if new.
    fn index(&mut self, name: &str) -> Result<usize> {
        if !valid_keyword(name) {
            return Err(StorageError::BadKeyword(name.to_string()));
        }
        let found = self
            .known
            .iter()
            .chain(&self.added)
            .position(|k| k.eq_ignore_ascii_case(name));
        if let Some(i) = found {
            return Ok(i);
        }
        if self.known.len() + self.added.len() >= MAX_KEYWORDS {
            return Err(StorageError::TooManyKeywords);
        }
        self.added.push(name.to_string());
        Ok(self.known.len() + self.added.len() - 1)
    }

    fn indexes(&mut self, names: &[String]) -> Result<Vec<usize>> {
        names.iter().map(|n| self.index(n)).collect()
    }

    /// `Keyword` entries for what this change defined, in definition order.
    fn into_entries(self) -> Vec<Entry> {
        self.added.into_iter().map(Entry::Keyword).collect()
    }
}

fn bits_of(indexes: &[usize]) -> KeywordBits {
    let mut bits = KeywordBits::new();
    for &i in indexes {
        kw_set(&mut bits, i, true);
    }
    bits
}

/// Entries appending `recs` (uid and modseq are assigned here, keyword bits
/// from the names beside each record) and the UIDs they get: one modseq
/// for the whole batch, as one sdbox commit.
pub(super) fn plan_append(
    state: &MailboxState,
    recs: Vec<(MessageRecord, Vec<String>)>,
) -> Result<(Vec<Entry>, Vec<u32>)> {
    let first = state.uidnext;
    if u64::from(first) + recs.len() as u64 >= u64::from(u32::MAX) {
        return Err(StorageError::UidsExhausted);
    }
    let modseq = state.highest_modseq + 1;
    let mut table = KeywordTable::new(state);
    let mut appends = Vec::with_capacity(recs.len());
    let mut uids = Vec::with_capacity(recs.len());
    for (i, (mut rec, names)) in recs.into_iter().enumerate() {
        rec.uid = first + i as u32;
        rec.modseq = modseq;
        rec.flags &= flag::ALL;
        rec.keywords = bits_of(&table.indexes(&names)?);
        uids.push(rec.uid);
        appends.push(Entry::Append(rec));
    }
    let mut entries = table.into_entries();
    entries.extend(appends);
    Ok((entries, uids))
}

/// What one STORE asks for.
pub(super) struct StoreRequest<'a> {
    pub op: FlagOp,
    pub flags: SystemFlags,
    pub keywords: &'a [String],
    pub unchanged_since: Option<u64>,
}

/// Entries for a STORE on `uids` (existing, sorted) and its answer. New
/// keywords are defined even when no message changes, as sdbox does.
pub(super) fn plan_store(
    state: &MailboxState,
    uids: &[u32],
    req: &StoreRequest<'_>,
) -> Result<(Vec<Entry>, StoreResult)> {
    let mut table = KeywordTable::new(state);
    let given = table.indexes(req.keywords)?;
    let modseq = state.highest_modseq + 1;
    let mut result = StoreResult::default();
    let mut changes = Vec::new();
    for rec in uids.iter().filter_map(|&u| state.record(u)) {
        if req.unchanged_since.is_some_and(|u| rec.modseq > u) {
            result.modified.push(rec.uid);
            continue;
        }
        let (flags, keywords) = updated(rec, &given, req);
        if flags != rec.flags || keywords != rec.keywords {
            changes.push((rec.uid, flags, keywords));
            result.changed.push(rec.uid);
        }
    }
    let mut entries = table.into_entries();
    if changes.is_empty() {
        result.modseq = state.highest_modseq;
    } else {
        result.modseq = modseq;
        entries.push(Entry::Flags { modseq, changes });
    }
    Ok((entries, result))
}

/// A record's flags and keyword bits after `req` (`given` = its keywords).
fn updated(rec: &MessageRecord, given: &[usize], req: &StoreRequest<'_>) -> (u8, KeywordBits) {
    let flags = match req.op {
        FlagOp::Add => rec.flags | req.flags.0,
        FlagOp::Remove => rec.flags & !req.flags.0,
        FlagOp::Replace => req.flags.0,
    } & flag::ALL;
    let keywords = match req.op {
        FlagOp::Replace => bits_of(given),
        FlagOp::Add | FlagOp::Remove => {
            let mut bits = rec.keywords.clone();
            for &i in given {
                kw_set(&mut bits, i, req.op == FlagOp::Add);
            }
            bits
        }
    };
    (flags, keywords)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::state::{kw_has, sample_record};

    fn state_with(n: u32) -> MailboxState {
        let mut st = MailboxState::new(7, [0; 16]);
        for uid in 1..=n {
            let mut r = sample_record(uid);
            r.keywords = KeywordBits::new();
            st.apply(&Entry::Append(r));
        }
        st
    }

    fn kws(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn append_shares_one_modseq_and_defines_keywords_first() {
        let st = state_with(2);
        let recs = vec![
            (sample_record(0), kws(&["$A"])),
            (sample_record(0), kws(&["$a", "B"])),
        ];
        let (entries, uids) = plan_append(&st, recs).unwrap();
        assert_eq!(uids, vec![3, 4]);
        assert_eq!(entries[0], Entry::Keyword("$A".into()));
        assert_eq!(entries[1], Entry::Keyword("B".into()));
        let Entry::Append(second) = &entries[3] else {
            panic!("{entries:?}")
        };
        assert_eq!(second.modseq, st.highest_modseq + 1);
        assert!(kw_has(&second.keywords, 0) && kw_has(&second.keywords, 1));
        let bad = vec![(sample_record(0), kws(&["no good"]))];
        assert!(matches!(
            plan_append(&st, bad),
            Err(StorageError::BadKeyword(_))
        ));
    }

    #[test]
    fn store_add_remove_replace_and_unchanged_since() {
        let mut st = state_with(3);
        let base = st.highest_modseq;
        let add = StoreRequest {
            op: FlagOp::Add,
            flags: SystemFlags::SEEN,
            keywords: &kws(&["Work"]),
            unchanged_since: None,
        };
        let (entries, r) = plan_store(&st, &[1, 2], &add).unwrap();
        assert_eq!((r.changed.clone(), r.modseq), (vec![1, 2], base + 1));
        for e in &entries {
            st.apply(e);
        }
        // Adding again changes nothing and keeps the modseq.
        let (entries, r) = plan_store(&st, &[1, 2], &add).unwrap();
        assert!(entries.is_empty() && r.changed.is_empty());
        assert_eq!(r.modseq, base + 1);
        let remove = StoreRequest {
            op: FlagOp::Remove,
            flags: SystemFlags::NONE,
            keywords: &kws(&["work"]),
            unchanged_since: Some(base),
        };
        let (_, r) = plan_store(&st, &[1, 3], &remove).unwrap();
        assert_eq!(r.modified, vec![1], "1 changed after {base}");
        assert!(r.changed.is_empty(), "3 has no keyword to remove");
        let replace = StoreRequest {
            op: FlagOp::Replace,
            flags: SystemFlags::ANSWERED,
            keywords: &[],
            unchanged_since: None,
        };
        let (entries, r) = plan_store(&st, &[1], &replace).unwrap();
        assert_eq!(r.changed, vec![1]);
        let Some(Entry::Flags { changes, .. }) = entries.last() else {
            panic!("{entries:?}")
        };
        assert_eq!(changes[0].1, SystemFlags::ANSWERED.0);
        assert!(changes[0].2.is_empty());
    }

    #[test]
    fn store_defines_new_keywords_even_without_changes() {
        let st = state_with(1);
        let req = StoreRequest {
            op: FlagOp::Add,
            flags: SystemFlags::NONE,
            keywords: &kws(&["$New"]),
            unchanged_since: None,
        };
        let (entries, r) = plan_store(&st, &[], &req).unwrap();
        assert_eq!(entries, vec![Entry::Keyword("$New".into())]);
        assert_eq!(r.modseq, st.highest_modseq);
    }

    #[test]
    fn too_many_keywords_defines_none() {
        let mut st = state_with(1);
        for i in 0..MAX_KEYWORDS - 1 {
            st.apply(&Entry::Keyword(format!("k{i}")));
        }
        let req = StoreRequest {
            op: FlagOp::Add,
            flags: SystemFlags::NONE,
            keywords: &kws(&["last", "one-too-many"]),
            unchanged_since: None,
        };
        assert!(matches!(
            plan_store(&st, &[1], &req),
            Err(StorageError::TooManyKeywords)
        ));
    }
}

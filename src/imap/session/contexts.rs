//! Live search results (RFC 5267 `RETURN (UPDATE)`): SEARCH and SORT
//! results the session keeps current, telling the client what joined and
//! left them with `* ESEARCH (TAG "t") [UID] ADDTO / REMOVEFROM`.
//!
//! A result is kept as UIDs (mailbox order for SEARCH, sort order for
//! SORT) and translated to sequence numbers when sent for a SEARCH/SORT
//! without UID. Messages expunged from the result are reported before the
//! EXPUNGE that removes them ([`removals_before_sync`]), so their sequence
//! numbers are still valid; arrivals and flag changes after the EXISTS that
//! announces them ([`updates_after_sync`]), by running the search again
//! over the session's new view.

use super::matching::{run_search, with_contexts};
use super::output::Output;
use super::selected::removed_uids;
use super::state::Session;
use crate::imap::codec::response::{Data, ESearchItem};
use crate::imap::codec::types::{SearchKey, SequenceSet, SortCriterion, Tag};
use crate::imap::eval;
use crate::storage::Mailbox;
use crate::storage::guid::Guid;

/// Live results a session keeps at once; one more is refused with
/// `NO [NOUPDATE]` (RFC 5267 §4.3.1 asks for at least one).
pub const MAX_CONTEXTS: usize = 8;

pub struct SearchContext {
    pub tag: Tag,
    /// Answered with UIDs (UID SEARCH / UID SORT).
    pub uid: bool,
    pub criteria: SearchKey,
    /// `Some` for SORT: positions in ADDTO/REMOVEFROM follow this order.
    pub sort: Option<Vec<SortCriterion>>,
    /// The matching UIDs as the client was last told.
    pub result: Vec<u32>,
    /// The mailbox the result belongs to (updates stop when it is left).
    pub mailbox: Guid,
    /// The mailbox's change counter when `result` was computed.
    pub counter: u64,
}

/// Whether a new context for `tag` may be kept: BAD for a tag already
/// in use (RFC 5267 §4.3), `false` when there is no room (send NOUPDATE).
pub enum Admission {
    Accept,
    TagInUse,
    Full,
}

pub fn admission(s: &Session, tag: &Tag) -> Admission {
    if s.contexts.iter().any(|c| &c.tag == tag) {
        Admission::TagInUse
    } else if s.contexts.len() >= MAX_CONTEXTS {
        Admission::Full
    } else {
        Admission::Accept
    }
}

/// Keeps `result` (UIDs) live for the selected mailbox.
pub fn keep(
    s: &mut Session,
    tag: &Tag,
    uid: bool,
    criteria: &SearchKey,
    sort: Option<&[SortCriterion]>,
    result: Vec<u32>,
) {
    let Some(sel) = s.selected.as_ref() else {
        return;
    };
    let context = SearchContext {
        tag: tag.clone(),
        uid,
        criteria: criteria.clone(),
        sort: sort.map(<[SortCriterion]>::to_vec),
        result,
        mailbox: sel.mailbox.guid(),
        counter: sel.mailbox.change_counter(),
    };
    s.contexts.push(context);
}

/// CANCELUPDATE: stops the named contexts; false when a tag names none.
pub fn cancel(s: &mut Session, tags: &[Vec<u8>]) -> bool {
    let known = tags.iter().all(|t| {
        s.contexts
            .iter()
            .any(|c| c.tag.as_str().as_bytes() == t.as_slice())
    });
    if known {
        s.contexts.retain(|c| {
            !tags
                .iter()
                .any(|t| c.tag.as_str().as_bytes() == t.as_slice())
        });
    }
    known
}

/// Drops contexts of a mailbox no longer selected.
fn forget_left(s: &mut Session) {
    let current = s.selected.as_ref().map(|sel| sel.mailbox.guid());
    s.contexts.retain(|c| Some(c.mailbox) == current);
}

/// REMOVEFROM for results that others expunged, sent while their sequence
/// numbers are still those of the client's view (before the EXPUNGEs).
pub fn removals_before_sync(s: &mut Session, out: &mut impl Output) {
    forget_left(s);
    let Some(sel) = s.selected.as_ref() else {
        return;
    };
    if s.contexts.is_empty() {
        return;
    }
    let gone = removed_uids(&sel.uids, &sel.mailbox.uids());
    if gone.is_empty() {
        return;
    }
    for ctx in &mut s.contexts {
        let removed: Vec<u32> = ctx
            .result
            .iter()
            .copied()
            .filter(|u| gone.binary_search(u).is_ok())
            .collect();
        if removed.is_empty() {
            continue;
        }
        let pairs = removal_pairs(ctx, &removed, |u| sel.seq_of(u));
        ctx.result.retain(|u| gone.binary_search(u).is_err());
        write(out, ctx, ESearchItem::RemoveFrom(pairs));
    }
}

/// Runs each context whose mailbox changed again over the session's view
/// (after the EXISTS/EXPUNGE updates) and reports the difference.
pub async fn updates_after_sync(s: &mut Session, out: &mut impl Output) {
    forget_left(s);
    let Some(counter) = s.selected.as_ref().map(|sel| sel.mailbox.change_counter()) else {
        return;
    };
    for i in 0..s.contexts.len() {
        if s.contexts[i].counter == counter {
            continue;
        }
        let (criteria, sort) = (s.contexts[i].criteria.clone(), s.contexts[i].sort.clone());
        let need_headers = sort.as_deref().is_some_and(eval::sort::needs_headers);
        // A failed search leaves the context as it was; the next change
        // tries again.
        let Ok(hits) = run_search(s, &criteria, need_headers).await else {
            continue;
        };
        let fresh: Vec<u32> = match &sort {
            Some(criteria) => with_contexts(&hits, |ctxs| eval::sort(ctxs, criteria, true)),
            None => hits.iter().map(|h| h.info.uid).collect(),
        };
        let Some(sel) = s.selected.as_ref() else {
            return;
        };
        let seq_of = |u: u32| sel.seq_of(u);
        let ctx = &mut s.contexts[i];
        ctx.counter = counter;
        let removed: Vec<u32> = ctx
            .result
            .iter()
            .copied()
            .filter(|u| !fresh.contains(u))
            .collect();
        if !removed.is_empty() {
            let pairs = removal_pairs(ctx, &removed, seq_of);
            ctx.result.retain(|u| !removed.contains(u));
            write(out, ctx, ESearchItem::RemoveFrom(pairs));
        }
        let pairs = addition_pairs(ctx, &fresh, seq_of);
        ctx.result = fresh;
        if !pairs.is_empty() {
            write(out, ctx, ESearchItem::AddTo(pairs));
        }
    }
}

/// The number the client knows a message by in this context.
fn id_of(ctx: &SearchContext, uid: u32, seq_of: impl Fn(u32) -> Option<u32>) -> Option<u32> {
    if ctx.uid { Some(uid) } else { seq_of(uid) }
}

/// `(position set)` pairs removing `removed` from the context's result.
/// SEARCH uses position 0 (anywhere) and one set; SORT one pair per
/// message, last position first, so each position is still valid when the
/// client applies it.
fn removal_pairs(
    ctx: &SearchContext,
    removed: &[u32],
    seq_of: impl Fn(u32) -> Option<u32>,
) -> Vec<(u32, SequenceSet)> {
    if ctx.sort.is_none() {
        let ids: Vec<u32> = removed
            .iter()
            .filter_map(|&u| id_of(ctx, u, &seq_of))
            .collect();
        return SequenceSet::from_numbers(&ids)
            .map(|set| vec![(0, set)])
            .unwrap_or_default();
    }
    let mut at: Vec<(u32, u32)> = removed
        .iter()
        .filter_map(|&u| {
            let pos = ctx.result.iter().position(|&r| r == u)?;
            Some((u32::try_from(pos + 1).ok()?, id_of(ctx, u, &seq_of)?))
        })
        .collect();
    at.sort_unstable_by_key(|&(pos, _)| std::cmp::Reverse(pos));
    at.into_iter()
        .filter_map(|(pos, id)| Some((pos, SequenceSet::from_numbers(&[id]).ok()?)))
        .collect()
}

/// `(position set)` pairs adding what is in `fresh` but not yet in the
/// context's result: position 0 and one set for SEARCH; for SORT each
/// message at its final position, first position first.
fn addition_pairs(
    ctx: &SearchContext,
    fresh: &[u32],
    seq_of: impl Fn(u32) -> Option<u32>,
) -> Vec<(u32, SequenceSet)> {
    let added: Vec<(usize, u32)> = fresh
        .iter()
        .enumerate()
        .filter(|(_, u)| !ctx.result.contains(u))
        .map(|(i, &u)| (i, u))
        .collect();
    if ctx.sort.is_none() {
        let ids: Vec<u32> = added
            .iter()
            .filter_map(|&(_, u)| id_of(ctx, u, &seq_of))
            .collect();
        return SequenceSet::from_numbers(&ids)
            .map(|set| vec![(0, set)])
            .unwrap_or_default();
    }
    added
        .into_iter()
        .filter_map(|(i, u)| {
            let id = id_of(ctx, u, &seq_of)?;
            Some((
                u32::try_from(i + 1).ok()?,
                SequenceSet::from_numbers(&[id]).ok()?,
            ))
        })
        .collect()
}

fn write(out: &mut impl Output, ctx: &SearchContext, item: ESearchItem) {
    out.data(&Data::ESearch {
        tag: Some(ctx.tag.clone()),
        uid: ctx.uid,
        items: vec![item],
    });
}

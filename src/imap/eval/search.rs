//! SEARCH key evaluation for one message (RFC 9051 §6.4.4, RFC 3501 rev1
//! keys, RFC 7162 MODSEQ, RFC 5032 OLDER/YOUNGER, RFC 8514 SAVEDATE,
//! RFC 8474 EMAILID/THREADID).
//!
//! Keys that look at content (header or body text, the Date header) need
//! [`MsgCtx::content`]; ask [`needs_content`] first so FLAGS/UID/date
//! searches never read message files.

use super::date::{day_of, days_from_date};
use super::{Content, MsgCtx};
use crate::imap::codec::types::{AString, Flag, ImapDate, SearchKey, SequenceSet};
use crate::message::search::SearchKey as TextKey;
use crate::storage::types::SystemFlags;

/// Mailbox-wide facts a search needs besides the message itself.
#[derive(Debug, Clone, Copy)]
pub struct SearchEnv<'s> {
    /// Number of messages (the value of `*` in a sequence set).
    pub max_seq: u32,
    /// Largest UID in use (the value of `*` in a UID set).
    pub max_uid: u32,
    /// The saved SEARCHRES result (`$`) as **UIDs sorted ascending**;
    /// `None` when nothing was saved (then `$` matches nothing).
    pub saved: Option<&'s [u32]>,
    /// Current UNIX time, for OLDER / YOUNGER.
    pub now: i64,
    /// The server's zone (minutes east of UTC): INTERNALDATE and SAVEDATE
    /// are compared as dates in this zone.
    pub zone_minutes: i16,
    /// The mailbox records save dates (RFC 8514 SAVEDATESUPPORTED).
    pub savedate_supported: bool,
}

/// Deepest key nesting evaluated. The parser already stops at 32; this
/// keeps `matches` total for keys built elsewhere (deeper keys never match).
const MAX_DEPTH: usize = 64;

/// True when message `m` satisfies `key`.
pub fn matches(key: &SearchKey, m: &MsgCtx<'_, '_>, env: &SearchEnv<'_>) -> bool {
    eval(key, m, env, 0).unwrap_or(false)
}

/// `None` when the key is nested too deeply: the whole search then
/// matches nothing (instead of a NOT above flipping a partial answer).
fn eval(key: &SearchKey, m: &MsgCtx<'_, '_>, env: &SearchEnv<'_>, depth: usize) -> Option<bool> {
    if depth > MAX_DEPTH {
        return None;
    }
    let value = match key {
        // Metadata keys first: a failing flag test saves a body scan.
        SearchKey::And(keys) => {
            for k in keys.iter().filter(|k| content_needed(k) == Content::None) {
                if !eval(k, m, env, depth + 1)? {
                    return Some(false);
                }
            }
            for k in keys.iter().filter(|k| content_needed(k) != Content::None) {
                if !eval(k, m, env, depth + 1)? {
                    return Some(false);
                }
            }
            true
        }
        SearchKey::Not(inner) => !eval(inner, m, env, depth + 1)?,
        SearchKey::Or(a, b) => eval(a, m, env, depth + 1)? || eval(b, m, env, depth + 1)?,
        leaf => leaf_matches(leaf, m, env),
    };
    Some(value)
}

/// Three-valued result of evaluating without content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Maybe {
    Yes,
    No,
    Unknown,
}

/// False only when `m` cannot match whatever its content says: content
/// keys count as unknown when `m.content` is `None`. The session calls this
/// before reading a message, so `UNSEEN TEXT x` reads unseen messages only.
pub fn may_match(key: &SearchKey, m: &MsgCtx<'_, '_>, env: &SearchEnv<'_>) -> bool {
    eval_maybe(key, m, env, 0) != Maybe::No
}

fn eval_maybe(key: &SearchKey, m: &MsgCtx<'_, '_>, env: &SearchEnv<'_>, depth: usize) -> Maybe {
    if depth > MAX_DEPTH {
        return Maybe::No;
    }
    match key {
        SearchKey::And(keys) => {
            let mut result = Maybe::Yes;
            for k in keys {
                match eval_maybe(k, m, env, depth + 1) {
                    Maybe::No => return Maybe::No,
                    Maybe::Unknown => result = Maybe::Unknown,
                    Maybe::Yes => {}
                }
            }
            result
        }
        SearchKey::Or(a, b) => {
            match (
                eval_maybe(a, m, env, depth + 1),
                eval_maybe(b, m, env, depth + 1),
            ) {
                (Maybe::Yes, _) | (_, Maybe::Yes) => Maybe::Yes,
                (Maybe::No, Maybe::No) => Maybe::No,
                _ => Maybe::Unknown,
            }
        }
        SearchKey::Not(inner) => match eval_maybe(inner, m, env, depth + 1) {
            Maybe::Yes => Maybe::No,
            Maybe::No => Maybe::Yes,
            Maybe::Unknown => Maybe::Unknown,
        },
        leaf if m.content.is_none() && content_needed(leaf) != Content::None => Maybe::Unknown,
        leaf if leaf_matches(leaf, m, env) => Maybe::Yes,
        _ => Maybe::No,
    }
}

/// The messages of `msgs` that match, as answered to the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchHits {
    /// Sequence numbers, or UIDs for UID SEARCH, in `msgs` order.
    pub ids: Vec<u32>,
    /// UIDs of the matches (for SAVE, which keeps `$` as UIDs).
    pub uids: Vec<u32>,
    /// Mod-sequences parallel to `ids`.
    pub modseqs: Vec<u64>,
}

/// Evaluates `key` over every message (given in sequence order). For
/// content searches over large mailboxes, load one message at a time
/// instead: [`may_match`] without content, then [`matches`] with it.
pub fn search(
    msgs: &[MsgCtx<'_, '_>],
    key: &SearchKey,
    env: &SearchEnv<'_>,
    uid: bool,
) -> SearchHits {
    let mut hits = SearchHits::default();
    for m in msgs.iter().filter(|m| matches(key, m, env)) {
        hits.ids.push(if uid { m.info.uid } else { m.seq });
        hits.uids.push(m.info.uid);
        hits.modseqs.push(m.info.modseq);
    }
    hits
}

fn has(m: &MsgCtx<'_, '_>, flag: SystemFlags) -> bool {
    m.info.flags.contains(flag)
}

fn text_key(value: &AString) -> TextKey {
    TextKey::new(&String::from_utf8_lossy(value.as_bytes()))
}

fn header_has(m: &MsgCtx<'_, '_>, field: &str, value: &AString) -> bool {
    m.content
        .is_some_and(|c| c.search_header(field, &text_key(value)))
}

fn address_has(m: &MsgCtx<'_, '_>, field: &str, value: &AString) -> bool {
    m.content
        .is_some_and(|c| c.search_address(field, &text_key(value)))
}

fn in_set(set: &SequenceSet, n: u32, largest: u32, m: &MsgCtx<'_, '_>, env: &SearchEnv) -> bool {
    match set {
        // `$` is the same set of messages whether used as sequence numbers
        // or UIDs; it is kept as UIDs so expunges cannot shift it.
        SequenceSet::Saved => env
            .saved
            .is_some_and(|uids| uids.binary_search(&m.info.uid).is_ok()),
        ranges => ranges.contains(n, largest),
    }
}

/// Keyword search: system flags named in KEYWORD mean the flag itself;
/// keywords compare case-insensitively (RFC 9051 §2.3.2).
fn has_flag(m: &MsgCtx<'_, '_>, flag: &Flag) -> bool {
    match flag {
        Flag::Answered => has(m, SystemFlags::ANSWERED),
        Flag::Flagged => has(m, SystemFlags::FLAGGED),
        Flag::Deleted => has(m, SystemFlags::DELETED),
        Flag::Seen => has(m, SystemFlags::SEEN),
        Flag::Draft => has(m, SystemFlags::DRAFT),
        Flag::Recent => m.info.recent,
        Flag::Keyword(k) => m.info.keywords.iter().any(|have| k.eq_ignore_case(have)),
        Flag::Extension(_) => false,
    }
}

fn internal_day(m: &MsgCtx<'_, '_>, env: &SearchEnv) -> i64 {
    day_of(m.info.internal_date, env.zone_minutes)
}

/// The save date's day; `None` when the mailbox keeps no save dates (the
/// SAVED* keys then match nothing, which SAVEDATESUPPORTED lets clients
/// detect). A message without a recorded save date (older mail in a
/// supporting mailbox) uses its internal date.
fn saved_day(m: &MsgCtx<'_, '_>, env: &SearchEnv) -> Option<i64> {
    if !env.savedate_supported {
        None
    } else if m.info.save_date > 0 {
        Some(day_of(m.info.save_date, env.zone_minutes))
    } else {
        Some(internal_day(m, env))
    }
}

/// The Date header's own calendar day (its zone disregarded).
fn sent_day(m: &MsgCtx<'_, '_>) -> Option<i64> {
    m.content.and_then(|c| c.sent_day())
}

fn before(day: i64, date: &ImapDate) -> bool {
    day < days_from_date(*date)
}
fn on(day: i64, date: &ImapDate) -> bool {
    day == days_from_date(*date)
}
fn since(day: i64, date: &ImapDate) -> bool {
    day >= days_from_date(*date)
}

fn leaf_matches(key: &SearchKey, m: &MsgCtx<'_, '_>, env: &SearchEnv) -> bool {
    use SearchKey as K;
    match key {
        K::And(_) | K::Not(_) | K::Or(..) => false, // handled by `matches`
        K::All => true,
        K::SequenceSet(set) => in_set(set, m.seq, env.max_seq, m, env),
        K::Uid(set) => in_set(set, m.info.uid, env.max_uid, m, env),
        K::Answered => has(m, SystemFlags::ANSWERED),
        K::Deleted => has(m, SystemFlags::DELETED),
        K::Draft => has(m, SystemFlags::DRAFT),
        K::Flagged => has(m, SystemFlags::FLAGGED),
        K::Seen => has(m, SystemFlags::SEEN),
        K::Unanswered => !has(m, SystemFlags::ANSWERED),
        K::Undeleted => !has(m, SystemFlags::DELETED),
        K::Undraft => !has(m, SystemFlags::DRAFT),
        K::Unflagged => !has(m, SystemFlags::FLAGGED),
        K::Unseen => !has(m, SystemFlags::SEEN),
        K::Recent => m.info.recent,
        K::New => m.info.recent && !has(m, SystemFlags::SEEN),
        K::Old => !m.info.recent,
        K::Keyword(flag) => has_flag(m, flag),
        K::Unkeyword(flag) => !has_flag(m, flag),
        K::Larger(n) => m.info.virtual_size > *n,
        K::Smaller(n) => m.info.virtual_size < *n,
        K::Before(d) => before(internal_day(m, env), d),
        K::On(d) => on(internal_day(m, env), d),
        K::Since(d) => since(internal_day(m, env), d),
        K::SentBefore(d) => sent_day(m).is_some_and(|day| before(day, d)),
        K::SentOn(d) => sent_day(m).is_some_and(|day| on(day, d)),
        K::SentSince(d) => sent_day(m).is_some_and(|day| since(day, d)),
        K::SaveDateBefore(d) => saved_day(m, env).is_some_and(|day| before(day, d)),
        K::SaveDateOn(d) => saved_day(m, env).is_some_and(|day| on(day, d)),
        K::SaveDateSince(d) => saved_day(m, env).is_some_and(|day| since(day, d)),
        K::SaveDateSupported => env.savedate_supported,
        // Both ends inclusive, so OLDER n and YOUNGER n overlap only at
        // exactly n seconds (as Dovecot does).
        K::Older(secs) => m.info.internal_date <= env.now.saturating_sub(i64::from(*secs)),
        K::Younger(secs) => m.info.internal_date >= env.now.saturating_sub(i64::from(*secs)),
        // Per-message modseq: RFC 7162 lets the server ignore the entry
        // name and compare the message's own mod-sequence.
        K::ModSeq { modseq, .. } => m.info.modseq >= *modseq,
        K::Bcc(v) => address_has(m, "bcc", v),
        K::Cc(v) => address_has(m, "cc", v),
        K::From(v) => address_has(m, "from", v),
        K::To(v) => address_has(m, "to", v),
        K::Subject(v) => header_has(m, "subject", v),
        K::Header(name, v) => {
            let name = String::from_utf8_lossy(name.as_bytes());
            header_has(m, &name, v)
        }
        K::Body(v) => m.content.is_some_and(|c| c.search_body(&text_key(v))),
        K::Text(v) => m.content.is_some_and(|c| c.search_text(&text_key(v))),
        K::EmailId(id) => super::fetch::email_id(m.info).is_some_and(|e| e == id.as_str()),
        // No thread ids are kept yet, so THREADID matches nothing.
        K::ThreadId(_) => false,
    }
}

/// The leaf keys of `key`: every key below AND / NOT / OR, depth first
/// without recursion (client-built trees can be deep).
fn leaves(key: &SearchKey) -> impl Iterator<Item = &SearchKey> {
    let mut pending = vec![key];
    std::iter::from_fn(move || {
        while let Some(k) = pending.pop() {
            match k {
                SearchKey::And(keys) => pending.extend(keys),
                SearchKey::Not(inner) => pending.push(inner),
                SearchKey::Or(a, b) => {
                    pending.push(a);
                    pending.push(b);
                }
                leaf => return Some(leaf),
            }
        }
        None
    })
}

/// How much content `key` needs (the most any of its leaves needs).
pub fn content_needed(key: &SearchKey) -> Content {
    use SearchKey as K;
    let mut need = Content::None;
    for k in leaves(key) {
        let leaf = match k {
            K::Body(_) | K::Text(_) => Content::Full,
            K::Bcc(_)
            | K::Cc(_)
            | K::From(_)
            | K::To(_)
            | K::Subject(_)
            | K::Header(..)
            | K::SentBefore(_)
            | K::SentOn(_)
            | K::SentSince(_) => Content::HeaderOnly,
            _ => Content::None,
        };
        need = need.max(leaf);
        if need == Content::Full {
            break;
        }
    }
    need
}

/// True when evaluating `key` needs message content of any kind.
pub fn needs_content(key: &SearchKey) -> bool {
    content_needed(key) != Content::None
}

/// True when the header block is enough (no BODY / TEXT keys).
pub fn needs_header_only(key: &SearchKey) -> bool {
    content_needed(key) == Content::HeaderOnly
}

/// True when the criteria contain a MODSEQ key, so the SEARCH answer must
/// carry `(MODSEQ n)` (RFC 7162 §3.1.5).
pub fn uses_modseq(key: &SearchKey) -> bool {
    leaves(key).any(|k| matches!(k, SearchKey::ModSeq { .. }))
}

/// True when the criteria use `$`, so the session must substitute the
/// saved result (and answer BAD if none is usable).
pub fn uses_saved(key: &SearchKey) -> bool {
    leaves(key).any(|k| {
        matches!(
            k,
            SearchKey::SequenceSet(SequenceSet::Saved) | SearchKey::Uid(SequenceSet::Saved)
        )
    })
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;

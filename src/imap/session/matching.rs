//! The search loop over the selected mailbox that SEARCH, SORT and THREAD
//! share. Evaluation is `crate::imap::eval`; this loads what it needs:
//! index metadata always, message files only when a key or criterion needs
//! content (a bounded group of messages per storage job).

use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::{AString, Atom, SearchKey, Tag};
use crate::imap::eval::{self, Content, MsgCtx, SearchEnv};
use crate::imap::session::content::{GroupRoom, expected_bytes, header_len, load_group};
use crate::imap::session::state::Session;
use crate::message::ParsedMessage;
use crate::message::transfer::charset_to_utf8;
use crate::storage::{Mailbox, MessageInfo, StorageError};

use std::borrow::Cow;

const BATCH: usize = 256;

/// One matched message.
pub struct Hit {
    pub seq: u32,
    pub info: MessageInfo,
    pub raw: Option<Vec<u8>>,
}

/// Why the strings of a search cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetProblem {
    /// A charset the decoders do not know: `NO [BADCHARSET]`.
    Unknown,
    /// Bytes that are not valid in the charset (UTF-8): `BAD`.
    Invalid,
}

/// Deepest key nesting converted (the parser stops at 32).
const MAX_KEY_DEPTH: usize = 64;

/// `key` with every search string turned into UTF-8 from `charset`
/// (RFC 9051 §6.4.4), as Dovecot converts them. Without a charset, and for
/// UTF-8 / US-ASCII, the strings must already be UTF-8 and the key is
/// used as it is.
pub fn utf8_criteria<'k>(
    charset: Option<&AString>,
    key: &'k SearchKey,
) -> Result<Cow<'k, SearchKey>, CharsetProblem> {
    let label = charset.map(AString::as_bytes);
    let plain = label
        .is_none_or(|c| c.eq_ignore_ascii_case(b"UTF-8") || c.eq_ignore_ascii_case(b"US-ASCII"));
    let convert = |v: &AString| -> Result<AString, CharsetProblem> {
        let text = match label {
            Some(l) if !plain => charset_to_utf8(v.as_bytes(), l).ok_or(CharsetProblem::Unknown)?,
            _ => v.to_str().ok_or(CharsetProblem::Invalid)?.to_owned(),
        };
        Ok(AString::from(text.as_str()))
    };
    if plain {
        // Only checked: nothing to convert.
        map_strings(key, &convert, 0)?;
        return Ok(Cow::Borrowed(key));
    }
    if label.is_some_and(|l| charset_to_utf8(b"", l).is_none()) {
        return Err(CharsetProblem::Unknown);
    }
    map_strings(key, &convert, 0).map(Cow::Owned)
}

/// A copy of `key` with `f` applied to every string a text key searches for.
fn map_strings(
    key: &SearchKey,
    f: &dyn Fn(&AString) -> Result<AString, CharsetProblem>,
    depth: usize,
) -> Result<SearchKey, CharsetProblem> {
    use SearchKey as K;
    if depth > MAX_KEY_DEPTH {
        return Ok(key.clone());
    }
    let next = |k: &SearchKey| map_strings(k, f, depth + 1);
    Ok(match key {
        K::And(keys) => K::And(keys.iter().map(next).collect::<Result<_, _>>()?),
        K::Not(inner) => K::Not(Box::new(next(inner)?)),
        K::Or(a, b) => K::Or(Box::new(next(a)?), Box::new(next(b)?)),
        K::Bcc(v) => K::Bcc(f(v)?),
        K::Body(v) => K::Body(f(v)?),
        K::Cc(v) => K::Cc(f(v)?),
        K::From(v) => K::From(f(v)?),
        K::Header(name, v) => K::Header(name.clone(), f(v)?),
        K::Subject(v) => K::Subject(f(v)?),
        K::Text(v) => K::Text(f(v)?),
        K::To(v) => K::To(f(v)?),
        other => other.clone(),
    })
}

/// [`utf8_criteria`], answering `NO [BADCHARSET (UTF-8)]` for an unknown
/// charset and `BAD` for strings invalid in theirs (`None` then).
pub fn criteria_in_utf8<'k>(
    s: &mut Session,
    tag: &Tag,
    charset: Option<&AString>,
    key: &'k SearchKey,
) -> Option<Cow<'k, SearchKey>> {
    match utf8_criteria(charset, key) {
        Ok(k) => Some(k),
        Err(CharsetProblem::Unknown) => {
            let utf8 = Atom::try_from("UTF-8").into_iter().collect();
            s.no(tag, ResponseCode::BadCharset(utf8), "Unsupported charset.");
            None
        }
        Err(CharsetProblem::Invalid) => {
            s.bad(tag, "Invalid characters in the search string.");
            None
        }
    }
}

/// Runs `key` over the selected mailbox. `keep_content` keeps the header
/// of each hit (SORT / THREAD need it afterwards).
pub async fn run_search(
    s: &Session,
    key: &SearchKey,
    keep_content: bool,
) -> Result<Vec<Hit>, StorageError> {
    let Some(sel) = s.selected.as_ref() else {
        return Ok(Vec::new());
    };
    let content = eval::search::content_needed(key);
    let env = SearchEnv {
        max_seq: sel.exists(),
        max_uid: sel.uids.last().copied().unwrap_or(0),
        saved: Some(&s.saved),
        now: s.now(),
        zone_minutes: 0,
        savedate_supported: true,
    };
    let mut hits = Vec::new();
    for chunk in sel.uids.chunks(BATCH) {
        // Content is read for a group of candidates per storage job.
        let mut group: Vec<Candidate> = Vec::new();
        let mut room = GroupRoom::default();
        for mut info in sel.mailbox.messages_by_uid(chunk) {
            let Some(seq) = sel.seq_of(info.uid) else {
                continue;
            };
            // RECENT / NEW / OLD are about this session's `\Recent`, not
            // whether anyone has claimed the message yet.
            info.recent = sel.is_recent(info.uid);
            // Index-only prefilter: `UNSEEN TEXT x` reads unseen mail only.
            if content != Content::None {
                let bare = MsgCtx {
                    seq,
                    info: &info,
                    content: None,
                };
                if !eval::search::may_match(key, &bare, &env) {
                    continue;
                }
            }
            // SORT / THREAD need headers of every hit afterwards.
            let need = if keep_content {
                content.max(Content::HeaderOnly)
            } else {
                content
            };
            let bytes = expected_bytes(need, info.virtual_size);
            if !room.fits(bytes) {
                let done = std::mem::take(&mut group);
                match_group(&sel.mailbox, key, &env, keep_content, done, &mut hits).await?;
                room = GroupRoom::default();
            }
            room.add(bytes);
            group.push(Candidate { seq, info, need });
        }
        match_group(&sel.mailbox, key, &env, keep_content, group, &mut hits).await?;
    }
    Ok(hits)
}

/// A message that passed the index-only prefilter.
struct Candidate {
    seq: u32,
    info: MessageInfo,
    need: Content,
}

/// Load the group's content in one storage job and keep the matches.
async fn match_group<M: Mailbox>(
    mailbox: &M,
    key: &SearchKey,
    env: &SearchEnv<'_>,
    keep_content: bool,
    group: Vec<Candidate>,
    hits: &mut Vec<Hit>,
) -> Result<(), StorageError> {
    if group.is_empty() {
        return Ok(());
    }
    let wants: Vec<(u32, Content)> = group.iter().map(|c| (c.info.uid, c.need)).collect();
    let loaded = load_group(mailbox, &wants).await?;
    for (Candidate { seq, info, .. }, raw) in group.into_iter().zip(loaded) {
        let raw = raw?;
        let parsed = raw.as_deref().map(ParsedMessage::parse);
        let ctx = MsgCtx {
            seq,
            info: &info,
            content: parsed.as_ref(),
        };
        if eval::matches(key, &ctx, env) {
            drop(parsed);
            // Only the header is kept, so memory stays small per hit.
            let kept = match raw {
                Some(mut r) if keep_content => {
                    r.truncate(header_len(&r));
                    r.shrink_to_fit();
                    Some(r)
                }
                _ => None,
            };
            hits.push(Hit {
                seq,
                info,
                raw: kept,
            });
        }
    }
    Ok(())
}

/// Parses the kept content of hits and hands them to `f`.
pub fn with_contexts<R>(hits: &[Hit], f: impl FnOnce(&[MsgCtx<'_, '_>]) -> R) -> R {
    let parsed: Vec<Option<ParsedMessage<'_>>> = hits
        .iter()
        .map(|h| h.raw.as_deref().map(ParsedMessage::parse))
        .collect();
    let ctxs: Vec<MsgCtx<'_, '_>> = hits
        .iter()
        .zip(parsed.iter())
        .map(|(h, p)| MsgCtx {
            seq: h.seq,
            info: &h.info,
            content: p.as_ref(),
        })
        .collect();
    f(&ctxs)
}

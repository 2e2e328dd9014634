//! FETCH response building (RFC 9051 §6.4.5 / §7.5.2, RFC 3516 BINARY,
//! RFC 7162 MODSEQ, RFC 8514 SAVEDATE, RFC 8970 PREVIEW, RFC 8474
//! EMAILID/THREADID).
//!
//! [`build_fetch`] writes a response's head into the caller's buffer and
//! hands back the rest as [`Segment`]s, so large literals are sent straight
//! from the message bytes without being copied into one big response.

use std::ops::Range;

use super::preview::preview;
use super::{Content, EvalError};
use crate::imap::codec::response::{BodyItemName, EncodeOptions, FetchEncoder, FetchItem};
use crate::imap::codec::types::{
    Atom, FetchAttribute, FetchAttributes, Flag, ImapDateTime, Partial, Section, SectionText,
};
use crate::message::{CachedStructure, MessageError, ParsedMessage, SectionData};
use crate::storage::types::{MessageInfo, SystemFlags};

/// Literal bodies up to this size are copied inline instead of being
/// returned as a separate [`Segment::Raw`].
pub const INLINE_LITERAL_MAX: usize = 4096;

/// A piece of a FETCH response that follows the head written to `out`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Bytes to send as they are.
    Bytes(Vec<u8>),
    /// A range of the raw message (`ParsedMessage::raw()`), already in
    /// CRLF form, to send as they are.
    Raw(Range<usize>),
}

/// Everything FETCH needs to know about one message.
#[derive(Debug, Clone, Copy)]
pub struct FetchContext<'m, 'r> {
    pub seq: u32,
    pub info: &'m MessageInfo,
    /// The parsed message when [`needs_content`] asked for it (a header-only
    /// parse is enough for `Content::HeaderOnly`).
    pub content: Option<&'m ParsedMessage<'r>>,
    /// ENVELOPE / BODYSTRUCTURE from the index cache, preferred over parsing.
    pub cached: Option<&'m CachedStructure>,
    /// Include `\Recent` in FLAGS (IMAP4rev1 sessions that see it recent).
    pub recent: bool,
    /// Zone (minutes east of UTC) INTERNALDATE / SAVEDATE are shown in.
    pub zone_minutes: i16,
    /// The mailbox keeps save dates; otherwise SAVEDATE is NIL.
    pub savedate_supported: bool,
    pub opts: EncodeOptions,
}

/// Expands macros, removes duplicates, and adds the items the protocol
/// implies: `UID` for UID FETCH (first), `MODSEQ` with CHANGEDSINCE or
/// when CONDSTORE is on and FLAGS is fetched (RFC 7162 §3.1.4).
pub fn prepare_attributes(
    attrs: &FetchAttributes,
    uid_command: bool,
    changed_since: bool,
    condstore: bool,
) -> Vec<FetchAttribute> {
    let mut list: Vec<FetchAttribute> = Vec::new();
    if uid_command {
        list.push(FetchAttribute::Uid);
    }
    for a in attrs.to_vec() {
        if !list.contains(&a) {
            list.push(a);
        }
    }
    let wants_modseq = changed_since || (condstore && list.contains(&FetchAttribute::Flags));
    if wants_modseq && !list.contains(&FetchAttribute::ModSeq) {
        list.push(FetchAttribute::ModSeq);
    }
    list
}

/// How much of the message the attributes need. With `have_cache`, ENVELOPE
/// / BODY / BODYSTRUCTURE come from the cached structure instead.
pub fn needs_content(attrs: &[FetchAttribute], have_cache: bool) -> Content {
    use FetchAttribute as A;
    attrs
        .iter()
        .map(|a| match a {
            A::Flags
            | A::Uid
            | A::InternalDate
            | A::Rfc822Size
            | A::ModSeq
            | A::SaveDate
            | A::EmailId
            | A::ThreadId => Content::None,
            A::Envelope if have_cache => Content::None,
            A::Body | A::BodyStructure if have_cache => Content::None,
            A::Envelope | A::Rfc822Header => Content::HeaderOnly,
            A::BodySection { section, .. } if section.part.is_empty() => match section.text {
                Some(SectionText::Header)
                | Some(SectionText::HeaderFields(_))
                | Some(SectionText::HeaderFieldsNot(_)) => Content::HeaderOnly,
                _ => Content::Full,
            },
            _ => Content::Full,
        })
        .max()
        .unwrap_or(Content::None)
}

/// True when fetching `attrs` sets `\Seen` (non-PEEK BODY[...], BINARY[...],
/// RFC822, RFC822.TEXT). The session stores the flag (unless the mailbox is
/// read-only) and then includes FLAGS in the response.
pub fn sets_seen(attrs: &[FetchAttribute]) -> bool {
    attrs.iter().any(|a| {
        matches!(
            a,
            FetchAttribute::BodySection { peek: false, .. }
                | FetchAttribute::Binary { peek: false, .. }
                | FetchAttribute::Rfc822
                | FetchAttribute::Rfc822Text
        )
    })
}

/// The EMAILID (RFC 8474 objectid) of a message: its GUID, when that is a
/// valid objectid (1–255 of ALPHA / DIGIT / `_` / `-`).
pub fn email_id(info: &MessageInfo) -> Option<&str> {
    let g = info.guid.as_str();
    let valid = !g.is_empty()
        && g.len() <= 255
        && g.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then_some(g)
}

/// The system flags in `sys`, in the order FLAGS lists them.
pub fn system_flag_list(sys: SystemFlags) -> Vec<Flag> {
    [
        (SystemFlags::ANSWERED, Flag::Answered),
        (SystemFlags::FLAGGED, Flag::Flagged),
        (SystemFlags::DELETED, Flag::Deleted),
        (SystemFlags::SEEN, Flag::Seen),
        (SystemFlags::DRAFT, Flag::Draft),
    ]
    .into_iter()
    .filter(|(bit, _)| sys.contains(*bit))
    .map(|(_, flag)| flag)
    .collect()
}

/// FLAGS of a message: system flags, `\Recent` when asked, then keywords
/// (invalid stored keywords are left out rather than sent malformed).
pub fn flag_list(info: &MessageInfo, recent: bool) -> Vec<Flag> {
    let mut flags = system_flag_list(info.flags);
    if recent {
        flags.push(Flag::Recent);
    }
    flags.extend(
        info.keywords
            .iter()
            .filter_map(|k| Atom::try_from(k.as_str()).ok())
            .map(Flag::Keyword),
    );
    flags
}

/// Latest second with a four-digit year (9999-12-31T23:59:59Z).
const MAX_SHOWN_TIME: i64 = 253_402_300_799;

fn date_time(secs: i64, zone_minutes: i16) -> Option<ImapDateTime> {
    let zone = zone_minutes.clamp(-1439, 1439);
    // Clamped so the year always fits the four-digit wire form.
    ImapDateTime::from_unix(secs.clamp(0, MAX_SHOWN_TIME - 86_400), zone).ok()
}

/// Collects the response: `cur` is the open byte run; raw ranges close it.
/// Literal lengths are always taken from `SectionData::bytes(raw)`, the
/// same bytes that are sent, so a length can never disagree with its data.
struct Writer {
    segments: Vec<Segment>,
    cur: Vec<u8>,
}

impl Writer {
    fn data(&mut self, raw: &[u8], data: &SectionData) {
        match data {
            SectionData::Range(r) if r.len() > INLINE_LITERAL_MAX && r.end <= raw.len() => {
                let bytes = std::mem::take(&mut self.cur);
                self.segments.push(Segment::Bytes(bytes));
                self.segments.push(Segment::Raw(r.clone()));
            }
            other => self.cur.extend_from_slice(other.bytes(raw)),
        }
    }
}

fn apply_partial(data: SectionData, partial: Option<Partial>) -> SectionData {
    match partial {
        Some(p) => data.partial(u64::from(p.origin), Some(u64::from(p.length))),
        None => data,
    }
}

/// Writes one `* seq FETCH (...)` response for `attrs` (already prepared
/// with [`prepare_attributes`]). The response is `out`'s new bytes followed
/// by the returned segments in order. On error nothing is written.
pub fn build_fetch(
    out: &mut Vec<u8>,
    ctx: &FetchContext<'_, '_>,
    attrs: &[FetchAttribute],
) -> Result<Vec<Segment>, EvalError> {
    let mut w = Writer {
        segments: Vec::new(),
        cur: Vec::new(),
    };
    let opts = ctx.opts;
    let content = || ctx.content.ok_or(EvalError::MissingContent);
    let raw: &[u8] = ctx.content.map(|c| c.raw()).unwrap_or_default();
    let mut enc = FetchEncoder::begin(&mut w.cur, ctx.seq);
    for attr in attrs {
        use FetchAttribute as A;
        match attr {
            A::Flags => enc.item(
                &mut w.cur,
                &FetchItem::Flags(flag_list(ctx.info, ctx.recent)),
                opts,
            ),
            A::Uid => enc.item(&mut w.cur, &FetchItem::Uid(ctx.info.uid), opts),
            A::Rfc822Size => enc.item(
                &mut w.cur,
                &FetchItem::Rfc822Size(ctx.info.virtual_size),
                opts,
            ),
            A::ModSeq => enc.item(&mut w.cur, &FetchItem::ModSeq(ctx.info.modseq), opts),
            A::InternalDate => {
                if let Some(dt) = date_time(ctx.info.internal_date, ctx.zone_minutes) {
                    enc.item(&mut w.cur, &FetchItem::InternalDate(dt), opts);
                }
            }
            A::SaveDate => {
                // As in SEARCH: NIL without save dates in the mailbox, the
                // internal date for a message saved before they were kept.
                let saved = if ctx.info.save_date > 0 {
                    ctx.info.save_date
                } else {
                    ctx.info.internal_date
                };
                let dt = ctx
                    .savedate_supported
                    .then(|| date_time(saved, ctx.zone_minutes))
                    .flatten();
                enc.item(&mut w.cur, &FetchItem::SaveDate(dt), opts);
            }
            A::EmailId => {
                if let Some(id) = email_id(ctx.info).and_then(|g| Atom::try_from(g).ok()) {
                    enc.item(&mut w.cur, &FetchItem::EmailId(id), opts);
                }
            }
            A::ThreadId => enc.item(&mut w.cur, &FetchItem::ThreadId(None), opts),
            A::Envelope => match (ctx.cached, ctx.content) {
                (Some(cached), _) => enc.envelope(&mut w.cur, &cached.envelope),
                (None, Some(c)) => enc.envelope(&mut w.cur, &c.envelope()),
                (None, None) => return Err(EvalError::MissingContent),
            },
            A::Body | A::BodyStructure => {
                let extended = matches!(attr, A::BodyStructure);
                match (ctx.cached, ctx.content) {
                    (Some(cached), _) => enc.body_structure(&mut w.cur, &cached.body, extended),
                    (None, Some(c)) => {
                        enc.body_structure(&mut w.cur, &c.body_structure(), extended)
                    }
                    (None, None) => return Err(EvalError::MissingContent),
                }
            }
            // LAZY may answer NIL; tern always has the text at hand, so
            // it answers it (Dovecot sends NIL when it has none cached).
            A::Preview { fuzzy: false, .. } => {
                let c = content()?;
                let text = preview(c.raw(), c.root());
                enc.item(
                    &mut w.cur,
                    &FetchItem::Preview(Some(text.into_bytes())),
                    opts,
                );
            }
            A::Preview { fuzzy: true, .. } | A::Snippet { .. } => {
                let c = content()?;
                let text = preview(c.raw(), c.root());
                let item = FetchItem::FuzzyPreview {
                    snippet: matches!(attr, A::Snippet { .. }),
                    text: Some(text.into_bytes()),
                };
                enc.item(&mut w.cur, &item, opts);
            }
            A::BodySection {
                section, partial, ..
            } => {
                let name = BodyItemName::Body {
                    section,
                    origin: partial.map(|p| p.origin),
                };
                match content()?.section(section) {
                    Ok(data) => {
                        let data = apply_partial(data, *partial);
                        enc.body_header(&mut w.cur, name, data.bytes(raw).len() as u64);
                        w.data(raw, &data);
                    }
                    // A part that does not exist (or HEADER of a
                    // non-message part) is empty, as Dovecot answers.
                    Err(_) => enc.body_header(&mut w.cur, name, 0),
                }
            }
            A::Binary { part, partial, .. } => {
                let name = BodyItemName::Binary {
                    part,
                    origin: partial.map(|p| p.origin),
                };
                let message = content()?;
                match message.binary(part) {
                    Ok(data) => {
                        let data = apply_partial(data, *partial);
                        let bytes = data.bytes(raw);
                        // Dovecot sends literal8 only for content that was
                        // decoded (base64 / quoted-printable) or holds NULs;
                        // an empty part is a plain `{0}`.
                        let literal8 = !bytes.is_empty()
                            && (message.binary_is_decoded(part) || bytes.contains(&0));
                        enc.literal_header(&mut w.cur, name, bytes.len() as u64, literal8);
                        w.data(raw, &data);
                    }
                    Err(MessageError::UnknownTransferEncoding) => {
                        return Err(EvalError::UnknownTransferEncoding(part.clone()));
                    }
                    // A part that does not exist is empty, as in BODY[].
                    Err(_) => enc.literal_header(&mut w.cur, name, 0, false),
                }
            }
            A::BinarySize { part } => {
                let size = match content()?.binary_size(part) {
                    Ok(n) => n,
                    Err(MessageError::UnknownTransferEncoding) => {
                        return Err(EvalError::UnknownTransferEncoding(part.clone()));
                    }
                    Err(_) => 0,
                };
                enc.item(
                    &mut w.cur,
                    &FetchItem::BinarySize {
                        part: part.clone(),
                        size,
                    },
                    opts,
                );
            }
            A::Rfc822 | A::Rfc822Header | A::Rfc822Text => {
                let (name, text) = match attr {
                    A::Rfc822 => (BodyItemName::Rfc822, None),
                    A::Rfc822Header => (BodyItemName::Rfc822Header, Some(SectionText::Header)),
                    _ => (BodyItemName::Rfc822Text, Some(SectionText::Text)),
                };
                let section = Section {
                    part: Vec::new(),
                    text,
                };
                match content()?.section(&section) {
                    Ok(data) => {
                        enc.body_header(&mut w.cur, name, data.bytes(raw).len() as u64);
                        w.data(raw, &data);
                    }
                    Err(_) => enc.body_nil(&mut w.cur, name),
                }
            }
        }
    }
    enc.finish(&mut w.cur);
    let Writer { mut segments, cur } = w;
    if !cur.is_empty() {
        segments.push(Segment::Bytes(cur));
    }
    // The first run of bytes is the head: it goes into `out`.
    let mut rest = segments.into_iter();
    if let Some(Segment::Bytes(head)) = rest.next() {
        out.extend_from_slice(&head);
    }
    Ok(rest.collect())
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;

//! FETCH / UID FETCH (+ CHANGEDSINCE, VANISHED). Metadata comes from the
//! index; message files are read only when an attribute needs them, one
//! message at a time, and output is flushed as it grows.

use super::{Flow, storage_no};
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{
    FetchAttribute, FetchAttributes, FetchModifiers, SequenceSet, Tag,
};
use crate::imap::eval::{self, Content, FetchContext, Segment};
use crate::imap::session::content::load;
use crate::imap::session::state::Session;
use crate::message::ParsedMessage;
use crate::storage::{FlagOp, Mailbox, SystemFlags};

/// Messages whose metadata is loaded at once.
const BATCH: usize = 256;

pub async fn fetch(
    s: &mut Session,
    tag: &Tag,
    uid_mode: bool,
    set: &SequenceSet,
    attributes: &FetchAttributes,
    modifiers: FetchModifiers,
) -> Flow {
    let Some(sel) = s.selected.as_ref() else {
        return Flow::Continue;
    };
    if !uid_mode && sel.seq_set_out_of_range(set) {
        s.bad(tag, "Invalid messageset.");
        return Flow::Continue;
    }
    if modifiers.vanished && (!uid_mode || !s.enabled.qresync) {
        s.bad(tag, "VANISHED needs UID FETCH with QRESYNC enabled.");
        return Flow::Continue;
    }
    if modifiers.changed_since.is_some() {
        s.enabled.condstore = true;
    }
    let attrs = eval::prepare_attributes(
        attributes,
        uid_mode,
        modifiers.changed_since.is_some(),
        s.enabled.condstore,
    );
    if attrs.contains(&FetchAttribute::ModSeq) {
        s.enabled.condstore = true;
    }
    // After an implicit \Seen the new FLAGS must be sent (RFC 9051 §6.4.5).
    let mut attrs_with_flags = attrs.clone();
    if !attrs_with_flags.contains(&FetchAttribute::Flags) {
        attrs_with_flags.push(FetchAttribute::Flags);
    }
    let Some(sel) = s.selected.as_mut() else {
        return Flow::Continue;
    };
    let targets = sel.resolve(set, uid_mode, &s.saved);
    if modifiers.vanished
        && let Some(since) = modifiers.changed_since
    {
        let changes = sel.mailbox.changes_since(since);
        let largest = sel.mailbox.status().uidnext.saturating_sub(1);
        let gone: Vec<u32> = changes
            .expunged
            .into_iter()
            .filter(|&u| set.contains(u, largest))
            .collect();
        if let Ok(uids) = SequenceSet::from_numbers(&gone) {
            s.io.data(&Data::Vanished {
                earlier: true,
                uids,
            });
        }
    }
    let sets_seen = !sel.read_only && eval::sets_seen(&attrs);
    // ENVELOPE / BODY / BODYSTRUCTURE come from the mailbox's structure
    // cache when the backend keeps one, so those FETCHes read no message.
    let wants_structure = attrs.iter().any(|a| {
        matches!(
            a,
            FetchAttribute::Envelope | FetchAttribute::Body | FetchAttribute::BodyStructure
        )
    });
    let need_with_cache = eval::fetch::needs_content(&attrs, true);
    let need_without_cache = eval::fetch::needs_content(&attrs, false);
    let mut failed = None;
    let mut unknown_cte = false;
    for chunk in targets.chunks(BATCH) {
        let Some(sel) = s.selected.as_mut() else {
            break;
        };
        let uids: Vec<u32> = chunk.iter().map(|&(_, u)| u).collect();
        let mut infos = sel.mailbox.messages_by_uid(&uids);
        let mut seen_now: Vec<u32> = Vec::new();
        if sets_seen {
            let unseen: Vec<u32> = infos
                .iter()
                .filter(|m| !m.flags.contains(SystemFlags::SEEN))
                .map(|m| m.uid)
                .collect();
            if !unseen.is_empty() {
                match sel
                    .mailbox
                    .store(&unseen, FlagOp::Add, SystemFlags::SEEN, &[], None)
                    .await
                {
                    Ok(r) => {
                        for &u in &r.changed {
                            sel.reported.push((u, r.modseq));
                        }
                        seen_now = r.changed;
                        infos = sel.mailbox.messages_by_uid(&uids);
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
        }
        for info in &infos {
            if modifiers
                .changed_since
                .is_some_and(|since| info.modseq <= since)
            {
                continue;
            }
            let Some(sel) = s.selected.as_ref() else {
                break;
            };
            let Some(seq) = sel.seq_of(info.uid) else {
                continue;
            };
            let cached = if wants_structure {
                match sel.mailbox.cached_structure(info.uid).await {
                    Ok(c) => c,
                    Err(e) => {
                        failed = Some(e);
                        continue;
                    }
                }
            } else {
                None
            };
            let need = if cached.is_some() {
                need_with_cache
            } else {
                need_without_cache
            };
            let raw = match load(&sel.mailbox, info, need).await {
                Ok(r) => r,
                Err(e) => {
                    failed = Some(e);
                    continue;
                }
            };
            let parsed = raw.as_deref().map(ParsedMessage::parse);
            let ctx = FetchContext {
                seq,
                info,
                content: parsed.as_ref(),
                cached: cached.as_ref(),
                recent: sel.is_recent(info.uid),
                zone_minutes: 0,
                savedate_supported: true,
                opts: s.io.opts,
            };
            let which = if seen_now.contains(&info.uid) {
                &attrs_with_flags
            } else {
                &attrs
            };
            let before = s.io.out().len();
            match eval::build_fetch(s.io.out(), &ctx, which) {
                Ok(segments) => {
                    let mut bytes = (s.io.out().len() - before) as u64;
                    bytes += segments
                        .iter()
                        .map(|seg| match seg {
                            Segment::Bytes(b) => b.len() as u64,
                            Segment::Raw(r) => r.len() as u64,
                        })
                        .sum::<u64>();
                    match need {
                        Content::HeaderOnly => {
                            s.stats.fetch_hdr_count += 1;
                            s.stats.fetch_hdr_bytes += bytes;
                        }
                        Content::Full => {
                            s.stats.fetch_body_count += 1;
                            s.stats.fetch_body_bytes += bytes;
                        }
                        Content::None => {}
                    }
                    for seg in segments {
                        match seg {
                            Segment::Bytes(b) => s.io.push_raw(&b),
                            Segment::Raw(r) => {
                                let bytes = parsed
                                    .as_ref()
                                    .and_then(|p| p.raw().get(r))
                                    .unwrap_or_default();
                                s.io.push_raw(bytes);
                            }
                        }
                        if s.io.flush_if_big().await.is_err() {
                            return Flow::Close;
                        }
                    }
                }
                Err(eval::EvalError::UnknownTransferEncoding(_)) => {
                    unknown_cte = true;
                }
                Err(eval::EvalError::MissingContent) => {}
            }
            if s.io.flush_if_big().await.is_err() {
                return Flow::Close;
            }
        }
    }
    match failed {
        Some(e) => storage_no(s, tag, &e, false),
        None if unknown_cte => s.no(
            tag,
            crate::imap::codec::response::ResponseCode::UnknownCte,
            "Unknown Content-Transfer-Encoding.",
        ),
        None => s.ok(tag, "Fetch completed."),
    }
    Flow::Continue
}

//! FETCH / UID FETCH (+ CHANGEDSINCE, VANISHED). Metadata comes from the
//! index; message files are read only when an attribute needs them, for a
//! bounded group of messages per storage job (one pool trip per group, not
//! per message), and output is written group by group, flushed as it grows.

use super::{Flow, messageset_ok, storage_no};
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{
    FetchAttribute, FetchAttributes, FetchModifiers, PartialRange, SequenceSet, Tag,
};
use crate::imap::eval::{self, Content, FetchContext, Segment};
use crate::imap::session::content::{GROUP_MESSAGES, GroupRoom, expected_bytes, load_group};
use crate::imap::session::logout::Stats;
use crate::imap::session::output::{Gone, Output};
use crate::imap::session::selected::Selected;
use crate::imap::session::state::Session;
use crate::message::{CachedStructure, ParsedMessage};
use crate::storage::{
    FlagOp, Mailbox, MessageInfo, Result as StorageResult, StorageError, SystemFlags,
};

/// Messages whose metadata is loaded at once.
const BATCH: usize = 256;

pub async fn fetch(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    uid_mode: bool,
    set: &SequenceSet,
    attributes: &FetchAttributes,
    modifiers: FetchModifiers,
) -> Flow {
    if !messageset_ok(s, tag, uid_mode, set) {
        return Flow::Continue;
    }
    if modifiers.vanished && (!uid_mode || !s.enabled.qresync) {
        s.bad(tag, "VANISHED needs UID FETCH with QRESYNC enabled.");
        return Flow::Continue;
    }
    if modifiers.changed_since.is_some() || attributes_name_modseq(attributes) {
        s.enable_condstore_implicitly(out);
    }
    let attrs = eval::prepare_attributes(
        attributes,
        uid_mode,
        modifiers.changed_since.is_some(),
        s.enabled.condstore,
    );
    // After an implicit \Seen the new FLAGS must be sent (RFC 9051 §6.4.5).
    let mut attrs_with_flags = attrs.clone();
    if !attrs_with_flags.contains(&FetchAttribute::Flags) {
        attrs_with_flags.push(FetchAttribute::Flags);
    }
    // The selected mailbox is borrowed once for the whole answer, beside
    // the counters the answer updates.
    let Session {
        selected: Some(sel),
        saved,
        stats,
        ..
    } = &mut *s
    else {
        return Flow::Continue;
    };
    let targets = sel.resolve(set, uid_mode, saved);
    let targets = match modifiers.partial {
        Some(window) => partial_window(sel, targets, window, modifiers.changed_since),
        None => targets,
    };
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
            out.data(&Data::Vanished {
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
    let plan = Plan {
        attrs: &attrs,
        attrs_with_flags: &attrs_with_flags,
        need_with_cache: eval::fetch::needs_content(&attrs, true),
        need_without_cache: eval::fetch::needs_content(&attrs, false),
    };
    let mut outcome = Outcome::default();
    for chunk in targets.chunks(BATCH) {
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
                        outcome.failed = Some(e);
                        break;
                    }
                }
            }
        }
        // Keywords another session just defined are announced before a
        // FETCH shows them.
        sel.announce_keywords(out);
        let chunk = Chunk {
            infos: &infos,
            seen_now: &seen_now,
        };
        // The messages of the chunk this FETCH answers, with their numbers.
        let answered: Vec<(usize, u32)> = infos
            .iter()
            .enumerate()
            .filter(|(_, info)| {
                modifiers
                    .changed_since
                    .is_none_or(|since| info.modseq > since)
            })
            .filter_map(|(at, info)| sel.seq_of(info.uid).map(|seq| (at, seq)))
            .collect();
        // Messages are answered in groups: the group's content is read in
        // one storage job, then each message is encoded and written. The
        // structures are looked up a group's worth at a time, so the cache
        // misses among them are parsed in one storage job too.
        let mut group: Vec<Pending> = Vec::new();
        let mut room = GroupRoom::default();
        for slice in answered.chunks(GROUP_MESSAGES) {
            let structures: Vec<StorageResult<Option<CachedStructure>>> = if wants_structure {
                let slice_uids: Vec<u32> = slice.iter().map(|&(at, _)| infos[at].uid).collect();
                match sel.mailbox.cached_structures(&slice_uids).await {
                    Ok(all) => all,
                    Err(e) => {
                        outcome.failed = Some(e);
                        continue;
                    }
                }
            } else {
                slice.iter().map(|_| Ok(None)).collect()
            };
            for (&(at, seq), structure) in slice.iter().zip(structures) {
                let cached = match structure {
                    Ok(c) => c,
                    Err(e) => {
                        outcome.failed = Some(e);
                        continue;
                    }
                };
                let need = if cached.is_some() {
                    plan.need_with_cache
                } else {
                    plan.need_without_cache
                };
                let bytes = expected_bytes(need, infos[at].virtual_size);
                if !room.fits(bytes) {
                    let done = std::mem::take(&mut group);
                    if answer_group(sel, stats, out, &plan, &chunk, done, &mut outcome)
                        .await
                        .is_err()
                    {
                        return Flow::Close;
                    }
                    room = GroupRoom::default();
                }
                room.add(bytes);
                group.push(Pending {
                    at,
                    seq,
                    cached,
                    need,
                });
            }
        }
        if answer_group(sel, stats, out, &plan, &chunk, group, &mut outcome)
            .await
            .is_err()
        {
            return Flow::Close;
        }
    }
    let Outcome {
        failed,
        unknown_cte,
    } = outcome;
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

/// The client asked for MODSEQ by name (a CONDSTORE-enabling FETCH).
fn attributes_name_modseq(attributes: &FetchAttributes) -> bool {
    attributes.to_vec().contains(&FetchAttribute::ModSeq)
}

/// RFC 9394 §3.3: only the `window` of the messages the set names (those
/// changed since `changed_since`, when given), counted in UID order.
fn partial_window(
    sel: &Selected,
    targets: Vec<(u32, u32)>,
    window: PartialRange,
    changed_since: Option<u64>,
) -> Vec<(u32, u32)> {
    let named = match changed_since {
        Some(since) => {
            let uids: Vec<u32> = targets.iter().map(|&(_, u)| u).collect();
            let changed: Vec<u32> = sel
                .mailbox
                .messages_by_uid(&uids)
                .into_iter()
                .filter(|m| m.modseq > since)
                .map(|m| m.uid)
                .collect();
            targets
                .into_iter()
                .filter(|(_, u)| changed.binary_search(u).is_ok())
                .collect()
        }
        None => targets,
    };
    window.select(&named).to_vec()
}

/// What every message of this FETCH is answered with.
struct Plan<'a> {
    attrs: &'a [FetchAttribute],
    /// `attrs` plus FLAGS, for messages this FETCH just marked \Seen.
    attrs_with_flags: &'a [FetchAttribute],
    need_with_cache: Content,
    need_without_cache: Content,
}

/// How the FETCH went so far: the last storage error (answered NO at the
/// end, after every message that could be sent was sent).
#[derive(Default)]
struct Outcome {
    failed: Option<StorageError>,
    unknown_cte: bool,
}

/// The messages of a metadata batch and which of them this FETCH just
/// marked `\Seen`.
struct Chunk<'a> {
    infos: &'a [MessageInfo],
    seen_now: &'a [u32],
}

/// A message of the group being collected.
struct Pending {
    /// Index into the chunk's `MessageInfo`s.
    at: usize,
    seq: u32,
    cached: Option<CachedStructure>,
    need: Content,
}

/// Read the group's content in one storage job, then encode and write each
/// message in order.
async fn answer_group(
    sel: &Selected,
    stats: &mut Stats,
    out: &mut impl Output,
    plan: &Plan<'_>,
    chunk: &Chunk<'_>,
    group: Vec<Pending>,
    outcome: &mut Outcome,
) -> Result<(), Gone> {
    if group.is_empty() {
        return Ok(());
    }
    let wants: Vec<(u32, Content)> = group
        .iter()
        .map(|p| (chunk.infos[p.at].uid, p.need))
        .collect();
    let mut loaded: Vec<Option<StorageResult<Option<Vec<u8>>>>> =
        match load_group(&sel.mailbox, &wants).await {
            Ok(all) => all.into_iter().map(Some).collect(),
            Err(e) => {
                // Messages that need no content are still answered.
                outcome.failed = Some(e);
                wants
                    .iter()
                    .map(|&(_, need)| (need == Content::None).then_some(Ok(None)))
                    .collect()
            }
        };
    for (pending, slot) in group.iter().zip(loaded.iter_mut()) {
        let info = &chunk.infos[pending.at];
        let raw = match slot.take() {
            Some(Ok(raw)) => raw,
            // Expunged by another session while this FETCH ran: left out,
            // as when it was gone before (RFC 2180 §4.1.2), and announced
            // when EXPUNGE may be sent; no NO [EXPUNGEISSUED] (Dovecot
            // never answers one).
            Some(Err(StorageError::NoSuchMessage(_)))
                if sel.mailbox.message(info.uid).is_none() =>
            {
                continue;
            }
            Some(Err(e)) => {
                outcome.failed = Some(e);
                continue;
            }
            None => continue,
        };
        let parsed = raw.as_deref().map(ParsedMessage::parse);
        let ctx = FetchContext {
            seq: pending.seq,
            info,
            content: parsed.as_ref(),
            cached: pending.cached.as_ref(),
            recent: sel.is_recent(info.uid),
            zone_minutes: 0,
            savedate_supported: true,
            opts: out.opts(),
        };
        let which = if chunk.seen_now.contains(&info.uid) {
            plan.attrs_with_flags
        } else {
            plan.attrs
        };
        let before = out.buf().len();
        match eval::build_fetch(out.buf(), &ctx, which) {
            Ok(segments) => {
                let mut bytes = (out.buf().len() - before) as u64;
                bytes += segments
                    .iter()
                    .map(|seg| match seg {
                        Segment::Bytes(b) => b.len() as u64,
                        Segment::Raw(r) => r.len() as u64,
                    })
                    .sum::<u64>();
                match pending.need {
                    Content::HeaderOnly => {
                        stats.fetch_hdr_count += 1;
                        stats.fetch_hdr_bytes += bytes;
                    }
                    Content::Full => {
                        stats.fetch_body_count += 1;
                        stats.fetch_body_bytes += bytes;
                    }
                    Content::None => {}
                }
                for seg in segments {
                    match seg {
                        Segment::Bytes(b) => out.push_raw(&b),
                        Segment::Raw(r) => {
                            let bytes = parsed
                                .as_ref()
                                .and_then(|p| p.raw().get(r))
                                .unwrap_or_default();
                            out.push_raw(bytes);
                        }
                    }
                    out.flush_if_big().await?;
                }
            }
            Err(eval::EvalError::UnknownTransferEncoding(_)) => {
                outcome.unknown_cte = true;
            }
            Err(eval::EvalError::MissingContent) => {}
        }
        out.flush_if_big().await?;
    }
    Ok(())
}

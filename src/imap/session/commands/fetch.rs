//! FETCH / UID FETCH (+ CHANGEDSINCE, VANISHED). Metadata comes from the
//! index; message files are read only when an attribute needs them, one
//! message at a time, and output is flushed as it grows.

use super::{Flow, storage_no};
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{FetchAttribute, FetchAttributes, FetchModifiers, SequenceSet, Tag};
use crate::imap::session::fetch_items::{self, MsgView};
use crate::imap::session::state::Session;
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
    let mut attrs = attributes.to_vec();
    if uid_mode && !attrs.contains(&FetchAttribute::Uid) {
        attrs.insert(0, FetchAttribute::Uid);
    }
    if modifiers.changed_since.is_some() && !attrs.contains(&FetchAttribute::ModSeq) {
        attrs.push(FetchAttribute::ModSeq);
    }
    if attrs.contains(&FetchAttribute::ModSeq) {
        s.enabled.condstore = true;
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
    let sets_seen = !sel.read_only && fetch_items::sets_seen(&attrs);
    let content = fetch_items::needs_content(&attrs);
    let mut failed = None;
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
            let raw = if content {
                match sel.mailbox.read_message(info.uid).await {
                    Ok(r) => Some(r),
                    Err(e) => {
                        failed = Some(e);
                        continue;
                    }
                }
            } else {
                None
            };
            let view = MsgView {
                seq,
                info,
                recent: sel.is_recent(info.uid),
                raw: raw.as_deref(),
            };
            let opts = s.io.opts;
            let extra_flags = seen_now.contains(&info.uid);
            fetch_items::write(s.io.out(), &view, &attrs, extra_flags, opts);
            if s.io.flush_if_big().await.is_err() {
                return Flow::Close;
            }
        }
    }
    match failed {
        Some(e) => storage_no(s, tag, &e, false),
        None => s.ok(tag, "Fetch completed."),
    }
    Flow::Continue
}

//! STORE / UID STORE: ±FLAGS(.SILENT), keywords, UNCHANGEDSINCE →
//! MODIFIED (RFC 7162).

use super::{Flow, messageset_ok, storage_no};
use crate::imap::codec::response::{FetchEncoder, FetchItem, ResponseCode};
use crate::imap::codec::types::{Flag, SequenceSet, StoreAction, Tag};
use crate::imap::session::flags;
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;
use crate::storage::{FlagOp, Mailbox, SystemFlags};

#[allow(clippy::too_many_arguments)]
pub async fn store(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    uid_mode: bool,
    set: &SequenceSet,
    unchanged_since: Option<u64>,
    action: StoreAction,
    silent: bool,
    flag_list: &[Flag],
) -> Flow {
    if !messageset_ok(s, tag, uid_mode, set) {
        return Flow::Continue;
    }
    if s.selected.as_ref().is_some_and(|sel| sel.read_only) {
        s.no(tag, ResponseCode::Cannot, "Mailbox is read-only.");
        return Flow::Continue;
    }
    if unchanged_since.is_some() {
        s.enable_condstore_implicitly(out);
    }
    let Some(sel) = s.selected.as_mut() else {
        return Flow::Continue;
    };
    let condstore = s.enabled.condstore;
    let qresync = s.enabled.qresync;
    let targets = sel.resolve(set, uid_mode, &s.saved);
    let uids: Vec<u32> = targets.iter().map(|&(_, u)| u).collect();
    let (sys, keywords) = flags::split(flag_list);
    let op = match action {
        StoreAction::Replace => FlagOp::Replace,
        StoreAction::Add => FlagOp::Add,
        StoreAction::Remove => FlagOp::Remove,
    };
    let mut result = match sel
        .mailbox
        .store(&uids, op, sys, &keywords, unchanged_since)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    for &u in &result.changed {
        sel.reported.push((u, result.modseq));
    }
    // Sorted for binary search below (STORE 1:* touches every message).
    result.changed.sort_unstable();
    result.modified.sort_unstable();
    if sys.contains(SystemFlags::DELETED) && op != FlagOp::Remove {
        s.stats.deleted += result.changed.len() as u64;
    }
    // A keyword this STORE defined is announced before a FETCH shows it.
    sel.announce_keywords(out);
    let opts = out.opts();
    let infos = sel.mailbox.messages_by_uid(&uids);
    for info in &infos {
        if result.modified.binary_search(&info.uid).is_ok() {
            continue;
        }
        let changed = result.changed.binary_search(&info.uid).is_ok();
        if silent && !(condstore && changed) {
            continue;
        }
        let Some(seq) = sel.seq_of(info.uid) else {
            continue;
        };
        let out = out.buf();
        let mut f = FetchEncoder::begin(out, seq);
        // QRESYNC: FETCH caused by flag changes carries the UID (RFC 7162).
        if uid_mode || qresync {
            f.item(out, &FetchItem::Uid(info.uid), opts);
        }
        if !silent {
            let recent = sel.is_recent(info.uid);
            f.item(
                out,
                &FetchItem::Flags(crate::imap::eval::fetch::flag_list(info, recent)),
                opts,
            );
        }
        if condstore {
            f.item(out, &FetchItem::ModSeq(info.modseq), opts);
        }
        f.finish(out);
    }
    if result.modified.is_empty() {
        s.ok(tag, "Store completed.");
    } else {
        let ids: Vec<u32> = if uid_mode {
            result.modified.clone()
        } else {
            result
                .modified
                .iter()
                .filter_map(|&u| sel.seq_of(u))
                .collect()
        };
        match SequenceSet::from_numbers(&ids) {
            Ok(set) => s.ok_code(
                tag,
                ResponseCode::Modified(set),
                "Conditional store failed.",
            ),
            Err(_) => s.ok(tag, "Store completed."),
        }
    }
    Flow::Continue
}

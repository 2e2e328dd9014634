//! COPY and MOVE (and their UID forms) with COPYUID.

use super::{Flow, mailbox_name, messageset_ok, storage_no};
use crate::imap::codec::response::{ResponseCode, Status};
use crate::imap::codec::types::{Mailbox as WireMailbox, SequenceSet, Tag};
use crate::imap::session::output::Output;
use crate::imap::session::selected::Mbox;
use crate::imap::session::state::Session;
use crate::storage::{
    AnyStore, CopyResult, MailStore, Mailbox, MailboxName, SpecialUse, StorageError,
};

pub async fn copy_or_move(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    uid_mode: bool,
    set: &SequenceSet,
    mailbox: &WireMailbox,
    is_move: bool,
) -> Flow {
    if !messageset_ok(s, tag, uid_mode, set) {
        return Flow::Continue;
    }
    let Some(sel) = s.selected.as_ref() else {
        return Flow::Continue;
    };
    if is_move && sel.read_only {
        s.no(tag, ResponseCode::Cannot, "Mailbox is read-only.");
        return Flow::Continue;
    }
    let uids: Vec<u32> = sel
        .resolve(set, uid_mode, &s.saved)
        .into_iter()
        .map(|(_, u)| u)
        .collect();
    let source = sel.mailbox.clone();
    let same = sel.name.clone();
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let dest = if name == same {
        source.clone()
    } else {
        match store.open(&name).await {
            Ok(m) => m,
            Err(e) => {
                storage_no(s, tag, &e, true);
                return Flow::Continue;
            }
        }
    };
    if uids.is_empty() {
        s.ok(tag, "No messages found.");
        return Flow::Continue;
    }
    let result = copy_what_exists(&source, uids, &dest, is_move).await;
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            storage_no(s, tag, &e, true);
            return Flow::Continue;
        }
    };
    count_trashed(s, &store, &name, result.uid_map.len() as u64).await;
    let src: Vec<u32> = result.uid_map.iter().map(|&(a, _)| a).collect();
    let dst: Vec<u32> = result.uid_map.iter().map(|&(_, b)| b).collect();
    // Destination UIDs are not always ascending with the source ones, so
    // the two sets are written in map order when needed.
    let code = match (ordered_set(&src), ordered_set(&dst)) {
        (Some(source), Some(destination)) => Some(ResponseCode::CopyUid {
            uid_validity: result.dest_uidvalidity,
            source,
            destination,
        }),
        _ => None,
    };
    if is_move {
        s.stats.expunged += result.uid_map.len() as u64;
        if let Some(code) = code {
            out.status(None, Status::Ok, Some(code), "Moved UIDs.");
        }
        if let Some(sel) = s.selected.as_mut() {
            sel.pending_expunged = true;
        }
        s.ok(tag, "Move completed.");
    } else {
        match code {
            Some(code) => s.ok_code(tag, code, "Copy completed."),
            None => s.ok(tag, "Copy completed."),
        }
    }
    Flow::Continue
}

/// Copies (or moves) `uids`. Another session may expunge some of them
/// while the copy runs (their files vanish under it): the copy is then
/// tried again with the messages that are still there, as if they had been
/// expunged a moment earlier.
async fn copy_what_exists(
    source: &Mbox,
    mut uids: Vec<u32>,
    dest: &Mbox,
    is_move: bool,
) -> Result<CopyResult, StorageError> {
    let mut tries = 0;
    loop {
        let result = if is_move {
            source.move_to(&uids, dest).await
        } else {
            source.copy_to(&uids, dest).await
        };
        let Err(e) = result else {
            return result;
        };
        let existing: Vec<u32> = source
            .messages_by_uid(&uids)
            .into_iter()
            .map(|m| m.uid)
            .collect();
        // Tried again even when the index still lists them all: the
        // expunge that removed a file may not be applied yet.
        tries += 1;
        if existing.is_empty() || tries >= COPY_TRIES {
            return Err(e);
        }
        uids = existing;
    }
}

/// How often a COPY whose sources are being expunged is tried.
const COPY_TRIES: usize = 3;

/// Counts `%{trashed}`: messages copied or moved into the `\Trash`
/// special-use mailbox. Which mailbox that is gets looked up once a session
/// (a listing per COPY would cost more than the counter is worth), and not
/// at all when `imap_logout_format` does not use it.
async fn count_trashed(s: &mut Session, store: &AnyStore, dest: &MailboxName, copied: u64) {
    if !s.settings.options.logout_format.contains("trashed") {
        return;
    }
    if s.trash_mailbox.is_none() {
        let Ok(all) = store.list().await else {
            return;
        };
        let trash = all
            .into_iter()
            .find(|m| m.special_use == Some(SpecialUse::Trash))
            .map(|m| m.name);
        s.trash_mailbox = Some(trash);
    }
    if let Some(Some(trash)) = &s.trash_mailbox
        && trash == dest
    {
        s.stats.trashed += copied;
    }
}

/// A sequence set for a UID list whose order matters (COPYUID pairs the
/// n-th source with the n-th destination UID): compressed only when
/// ascending.
fn ordered_set(uids: &[u32]) -> Option<SequenceSet> {
    if uids.windows(2).all(|w| w[0] < w[1]) {
        return SequenceSet::from_numbers(uids).ok();
    }
    use crate::imap::codec::types::{SeqBound, SeqRange};
    let ranges: Vec<SeqRange> = uids
        .iter()
        .filter_map(|&u| std::num::NonZeroU32::new(u))
        .map(|n| SeqRange::single(SeqBound::Value(n)))
        .collect();
    SequenceSet::ranges(ranges).ok()
}

//! EXPUNGE and UID EXPUNGE (UIDPLUS).

use super::{Flow, storage_no};
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::{SequenceSet, Tag};
use crate::imap::session::state::Session;
use crate::storage::Mailbox;

pub async fn expunge(s: &mut Session, tag: &Tag, only: Option<&SequenceSet>) -> Flow {
    let Some(sel) = s.selected.as_ref() else {
        return Flow::Continue;
    };
    if sel.read_only {
        s.no(tag, ResponseCode::Cannot, "Mailbox is read-only.");
        return Flow::Continue;
    }
    let largest = sel.uids.last().copied().unwrap_or(0);
    let deleted: Vec<u32> = sel
        .deleted_uids()
        .into_iter()
        .filter(|&uid| only.is_none_or(|set| set.contains(uid, largest)))
        .collect();
    if !deleted.is_empty() {
        let mbox = sel.mailbox.clone();
        match mbox.expunge(&deleted).await {
            Ok(gone) => s.stats.expunged += gone.len() as u64,
            Err(e) => {
                storage_no(s, tag, &e, false);
                return Flow::Continue;
            }
        }
        if let Some(sel) = s.selected.as_mut() {
            sel.pending_expunged = true;
        }
    }
    s.ok(tag, "Expunge completed.");
    Flow::Continue
}

//! CLOSE (expunges `\Deleted` silently when read-write) and UNSELECT.

use super::{Flow, storage_no};
use crate::imap::codec::types::Tag;
use crate::imap::session::state::Session;
use crate::storage::Mailbox;

pub async fn close(s: &mut Session, tag: &Tag, expunge: bool) -> Flow {
    let Some(sel) = s.selected.take() else {
        s.bad(tag, "No mailbox selected.");
        return Flow::Continue;
    };
    if expunge && !sel.read_only {
        let deleted = sel.deleted_uids();
        if !deleted.is_empty() {
            match sel.mailbox.expunge(&deleted).await {
                Ok(gone) => s.stats.expunged += gone.len() as u64,
                Err(e) => {
                    storage_no(s, tag, &e, false);
                    return Flow::Continue;
                }
            }
        }
    }
    s.ok(
        tag,
        if expunge {
            "Close completed."
        } else {
            "Unselect completed."
        },
    );
    Flow::Continue
}

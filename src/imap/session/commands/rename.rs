//! RENAME (children move along; RENAME INBOX moves its messages).

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::{Mailbox as WireMailbox, Tag};
use crate::imap::session::selected;
use crate::imap::session::state::Session;
use crate::storage::MailStore;

pub async fn rename(s: &mut Session, tag: &Tag, from: &WireMailbox, to: &WireMailbox) -> Flow {
    let Some(from) = mailbox_name(s, tag, from) else {
        return Flow::Continue;
    };
    let Some(to) = mailbox_name(s, tag, to) else {
        return Flow::Continue;
    };
    if to.is_inbox() {
        s.no(
            tag,
            ResponseCode::AlreadyExists,
            "Target mailbox already exists.",
        );
        return Flow::Continue;
    }
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    match store.rename(&from, &to).await {
        Ok(()) => {
            selected::after_own_rename(s, &from, &to).await;
            s.ok(tag, "Rename completed.");
        }
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}

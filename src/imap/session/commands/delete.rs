//! DELETE.

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::{Mailbox as WireMailbox, Tag};
use crate::imap::session::state::Session;
use crate::storage::MailStore;

pub async fn delete(s: &mut Session, tag: &Tag, mailbox: &WireMailbox) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    if name.is_inbox() {
        s.no(tag, ResponseCode::Cannot, "INBOX can't be deleted.");
        return Flow::Continue;
    }
    if s.selected.as_ref().is_some_and(|sel| sel.name == name) {
        s.selected = None;
    }
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    match store.delete(&name).await {
        Ok(()) => s.ok(tag, "Delete completed."),
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}

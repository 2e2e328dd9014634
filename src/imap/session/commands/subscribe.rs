//! SUBSCRIBE and UNSUBSCRIBE.

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::types::{Mailbox as WireMailbox, Tag};
use crate::imap::session::state::Session;
use crate::storage::MailStore;

pub async fn subscribe(s: &mut Session, tag: &Tag, mailbox: &WireMailbox, on: bool) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    match store.set_subscribed(&name, on).await {
        Ok(()) if on => s.ok(tag, "Subscribe completed."),
        Ok(()) => s.ok(tag, "Unsubscribe completed."),
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}

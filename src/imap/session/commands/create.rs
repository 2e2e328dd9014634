//! CREATE (with CREATE-SPECIAL-USE, RFC 6154).

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::Flag;
use crate::imap::codec::types::{Mailbox as WireMailbox, Tag};
use crate::imap::session::state::Session;
use crate::storage::{MailStore, SpecialUse};

pub async fn create(s: &mut Session, tag: &Tag, mailbox: &WireMailbox, uses: &[Flag]) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let mut special = None;
    for f in uses {
        let text = match f {
            Flag::Extension(a) => format!("\\{}", a.as_str()),
            Flag::Flagged => "\\Flagged".to_string(),
            _ => String::new(),
        };
        match SpecialUse::parse(&text) {
            Some(u) if special.is_none() => special = Some(u),
            _ => {
                s.no(
                    tag,
                    ResponseCode::UseAttr,
                    "Unsupported special-use attribute.",
                );
                return Flow::Continue;
            }
        }
    }
    if name.is_inbox() {
        s.no(tag, ResponseCode::AlreadyExists, "Mailbox already exists.");
        return Flow::Continue;
    }
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    if let Err(e) = store.create(&name).await {
        storage_no(s, tag, &e, false);
        return Flow::Continue;
    }
    if special.is_some()
        && let Err(e) = store.set_special_use(&name, special).await
    {
        storage_no(s, tag, &e, false);
        return Flow::Continue;
    }
    s.ok(tag, "Create completed.");
    Flow::Continue
}

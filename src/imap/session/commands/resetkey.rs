//! RESETKEY (RFC 4467 §6.2): forgets a mailbox's URLAUTH key, or every
//! mailbox's, so the URLs made with it stop working. The next GENURLAUTH
//! makes a new key.

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::{ResponseCode, Status};
use crate::imap::codec::types::{Atom, Mailbox as WireMailbox, Tag};
use crate::imap::session::state::Session;
use crate::imap::session::urlauth;
use crate::storage::{MailStore, Mailbox};

pub async fn resetkey(
    s: &mut Session,
    tag: &Tag,
    mailbox: Option<&WireMailbox>,
    mechanisms: &[Atom],
) -> Flow {
    if !urlauth::enabled(&s.settings.options) {
        s.bad(tag, "URLAUTH disabled.");
        return Flow::Continue;
    }
    if mechanisms
        .iter()
        .any(|m| !m.eq_ignore_case(urlauth::MECHANISM))
    {
        s.reply(tag, Status::No, None, "Unsupported URLAUTH mechanism.");
        return Flow::Continue;
    }
    let name = match mailbox {
        Some(m) => match mailbox_name(s, tag, m) {
            Some(n) => Some(n),
            None => return Flow::Continue,
        },
        None => None,
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let Some(name) = name else {
        match store
            .set_private_attribute(None, urlauth::KEY_ATTRIBUTE, None)
            .await
        {
            Ok(()) => s.ok(tag, "All keys removed."),
            Err(e) => storage_no(s, tag, &e, false),
        }
        return Flow::Continue;
    };
    let guid = match s.selected.as_ref().filter(|sel| sel.name == name) {
        Some(sel) => sel.mailbox.guid(),
        None => match store.open(&name).await {
            Ok(m) => m.guid(),
            Err(e) => {
                storage_no(s, tag, &e, false);
                return Flow::Continue;
            }
        },
    };
    match store
        .set_private_attribute(Some(&guid), urlauth::KEY_ATTRIBUTE, None)
        .await
    {
        Ok(()) => {
            let code = match Atom::try_from("URLMECH") {
                Ok(atom) => ResponseCode::Other(atom, Some(urlauth::MECHANISM.into())),
                Err(_) => ResponseCode::Cannot,
            };
            s.ok_code(tag, code, "Key removed.");
        }
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}

//! LSUB (with the tb-lsub-flags workaround).

use super::list::full_pattern;
use super::{Flow, storage_no};
use crate::config::ImapWorkaround;
use crate::imap::codec::response::{Data, ListResponse, MailboxAttribute};
use crate::imap::codec::types::{Mailbox as WireMailbox, Tag};
use crate::imap::session::names::{DELIMITER, pattern_matches, to_wire};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;
use crate::storage::{MailStore, MailboxName};

pub async fn lsub(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    reference: &WireMailbox,
    pattern: &[u8],
) -> Flow {
    let utf8 = s.utf8();
    let Some(pat) = full_pattern(s, reference, pattern) else {
        s.ok(tag, "Lsub completed.");
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let subs = match store.subscriptions().await {
        Ok(l) => l,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    // tb-lsub-flags: Thunderbird wants \Noselect on LSUB entries it
    // cannot open.
    let selectable: Option<Vec<MailboxName>> = if s.workaround(ImapWorkaround::TbLsubFlags) {
        store.list().await.ok().map(|l| {
            l.into_iter()
                .filter(|m| m.selectable)
                .map(|m| m.name)
                .collect()
        })
    } else {
        None
    };
    for name in subs {
        if pattern_matches(pat.as_bytes(), name.as_str().as_bytes()) {
            let attributes = match &selectable {
                Some(ok) if !ok.contains(&name) => vec![MailboxAttribute::NoSelect],
                _ => Vec::new(),
            };
            out.data(&Data::Lsub(ListResponse {
                attributes,
                delimiter: Some(DELIMITER),
                mailbox: to_wire(&name, utf8),
                extended: Vec::new(),
            }));
        }
    }
    s.ok(tag, "Lsub completed.");
    Flow::Continue
}

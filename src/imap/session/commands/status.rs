//! STATUS (and the STATUS lines of LIST-STATUS).

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::Data;
use crate::imap::codec::types::StatusItem;
use crate::imap::codec::types::{Mailbox as WireMailbox, Tag};
use crate::imap::session::capability::append_limit;
use crate::imap::session::names::to_wire;
use crate::imap::session::output::Output;
use crate::imap::session::refresh;
use crate::imap::session::state::Session;
use crate::storage::{Mailbox, MailboxName};

pub(super) fn write_status<M: Mailbox>(
    s: &Session,
    out: &mut impl Output,
    name: &MailboxName,
    mbox: &M,
    items: &[StatusItem],
) {
    let st = mbox.status();
    let limit = append_limit(&s.settings.options);
    let values = items
        .iter()
        .map(|&i| {
            let v = match i {
                StatusItem::Messages => u64::from(st.messages),
                StatusItem::UidNext => u64::from(st.uidnext),
                StatusItem::UidValidity => u64::from(st.uidvalidity),
                StatusItem::Unseen => u64::from(st.unseen),
                StatusItem::Deleted => u64::from(st.deleted),
                StatusItem::Size => st.size,
                StatusItem::Recent => u64::from(st.recent),
                StatusItem::HighestModSeq => st.highest_modseq,
                StatusItem::AppendLimit => limit,
            };
            (i, v)
        })
        .collect();
    let utf8 = s.utf8();
    out.data(&Data::Status {
        mailbox: to_wire(name, utf8),
        items: values,
    });
}

pub async fn status(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    mailbox: &WireMailbox,
    items: &[StatusItem],
) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    match store.open_current(&name).await {
        Ok((mbox, stale)) => {
            if let Some(e) = stale {
                refresh::failed(s, &e);
            }
            if items.contains(&StatusItem::HighestModSeq) {
                s.enable_condstore_implicitly(out);
            }
            write_status(s, out, &name, &mbox, items);
            s.ok(tag, "Status completed.");
        }
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}

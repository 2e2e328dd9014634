//! APPEND (MULTIAPPEND, flags, internal date, APPENDUID, TRYCREATE).

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::{AppendMessage, Mailbox as WireMailbox, SequenceSet, Tag};
use crate::imap::session::state::Session;
use crate::imap::session::{dates, flags};
use crate::storage::{AppendRequest, MailStore, Mailbox};

pub async fn append(
    s: &mut Session,
    tag: &Tag,
    mailbox: &WireMailbox,
    messages: Vec<AppendMessage>,
) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let mbox = match s.selected.as_ref().filter(|sel| sel.name == name) {
        Some(sel) => sel.mailbox.clone(),
        None => match store.open(&name).await {
            Ok(m) => m,
            Err(e) => {
                storage_no(s, tag, &e, true);
                return Flow::Continue;
            }
        },
    };
    let requests: Vec<AppendRequest> = messages
        .into_iter()
        .map(|m| {
            let (sys, keywords) = flags::split(&m.flags);
            AppendRequest {
                message: m.data,
                flags: sys,
                keywords,
                internal_date: m.date.as_ref().map(dates::to_unix),
                ..AppendRequest::default()
            }
        })
        .collect();
    if requests.iter().any(|r| r.message.is_empty()) {
        s.no(tag, ResponseCode::Cannot, "Can't save an empty message.");
        return Flow::Continue;
    }
    match mbox.append(requests).await {
        Ok(uids) => {
            s.stats.appended += uids.len() as u64;
            let validity = mbox.status().uidvalidity;
            match SequenceSet::from_numbers(&uids) {
                Ok(set) => s.ok_code(
                    tag,
                    ResponseCode::AppendUid {
                        uid_validity: validity,
                        uids: set,
                    },
                    "Append completed.",
                ),
                Err(_) => s.ok(tag, "Append completed."),
            }
        }
        Err(e) => storage_no(s, tag, &e, true),
    }
    Flow::Continue
}

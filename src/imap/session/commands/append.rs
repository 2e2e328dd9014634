//! APPEND (MULTIAPPEND, CATENATE, flags, internal date, APPENDUID,
//! TRYCREATE).

use super::catenate::{self, CatenateError};
use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::{
    AppendData, AppendMessage, Atom, Mailbox as WireMailbox, SequenceSet, Tag,
};
use crate::imap::session::capability::append_limit;
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
    let mut requests = Vec::with_capacity(messages.len());
    for m in messages {
        let message = match m.data {
            AppendData::Literal { bytes, .. } => bytes,
            AppendData::Catenate(parts) => {
                let limit = append_limit(&s.settings.options);
                match catenate::assemble(s, &store, parts, limit).await {
                    Ok(message) => message,
                    Err(e) => {
                        catenate_no(s, tag, e);
                        return Flow::Continue;
                    }
                }
            }
        };
        let (sys, keywords) = flags::split(&m.flags);
        requests.push(AppendRequest {
            message,
            flags: sys,
            keywords,
            internal_date: m.date.as_ref().map(dates::to_unix),
            ..AppendRequest::default()
        });
    }
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

/// The NO answer when a CATENATE message could not be assembled; nothing
/// of the command is saved (MULTIAPPEND is all or nothing).
fn catenate_no(s: &mut Session, tag: &Tag, e: CatenateError) {
    match e {
        CatenateError::BadUrl { url, reason } => {
            let code = match Atom::try_from("BADURL") {
                Ok(atom) => ResponseCode::Other(atom, Some(url)),
                Err(_) => ResponseCode::Cannot,
            };
            s.no(tag, code, &reason);
        }
        CatenateError::TooBig => s.no(tag, ResponseCode::TooBig, "Message too large."),
        CatenateError::Storage(e) => storage_no(s, tag, &e, false),
    }
}

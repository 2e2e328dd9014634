//! CANCELUPDATE and NOTIFY → wire bytes.

use super::fetch::fetch_attribute;
use super::mailbox;
use crate::imap::codec::response::write_string;
use crate::imap::codec::types::{MailboxFilter, NotifyEvent, NotifyRequest};

pub(super) fn cancel_update(out: &mut Vec<u8>, tags: &[Vec<u8>]) {
    out.extend_from_slice(b"CANCELUPDATE");
    for t in tags {
        out.push(b' ');
        write_string(out, t, false);
    }
}

pub(super) fn notify(out: &mut Vec<u8>, request: &NotifyRequest) {
    let (status, groups) = match request {
        NotifyRequest::None => return out.extend_from_slice(b"NOTIFY NONE"),
        NotifyRequest::Set { status, groups } => (status, groups),
    };
    out.extend_from_slice(b"NOTIFY SET");
    if *status {
        out.extend_from_slice(b" STATUS");
    }
    for g in groups {
        out.extend_from_slice(b" (");
        filter(out, &g.filter);
        out.push(b' ');
        match &g.events {
            None => out.extend_from_slice(b"NONE"),
            Some(events) => {
                out.push(b'(');
                for (i, e) in events.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    out.extend_from_slice(e.name().as_bytes());
                    if let NotifyEvent::MessageNew(atts) = e
                        && !atts.is_empty()
                    {
                        out.extend_from_slice(b" (");
                        for (j, a) in atts.iter().enumerate() {
                            if j > 0 {
                                out.push(b' ');
                            }
                            fetch_attribute(out, a);
                        }
                        out.push(b')');
                    }
                }
                out.push(b')');
            }
        }
        out.push(b')');
    }
}

fn filter(out: &mut Vec<u8>, f: &MailboxFilter) {
    let (name, list) = match f {
        MailboxFilter::Selected => ("selected", None),
        MailboxFilter::SelectedDelayed => ("selected-delayed", None),
        MailboxFilter::Inboxes => ("inboxes", None),
        MailboxFilter::Personal => ("personal", None),
        MailboxFilter::Subscribed => ("subscribed", None),
        MailboxFilter::Subtree(l) => ("subtree", Some(l)),
        MailboxFilter::Mailboxes(l) => ("mailboxes", Some(l)),
    };
    out.extend_from_slice(name.as_bytes());
    if let Some(list) = list {
        out.extend_from_slice(b" (");
        for (i, m) in list.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            mailbox(out, m);
        }
        out.push(b')');
    }
}

//! NOTIFY (RFC 5465 §8) with the rules §5 and §6.1 make errors: MessageNew
//! and MessageExpunge come together, FlagChange and AnnotationChange need
//! both, FETCH items only for the selected mailbox, and at most one of
//! `selected` / `selected-delayed`.

use super::cursor::{Cursor, Fail, PResult};
use super::fetch::fetch_attribute;
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{
    CommandBody, EventGroup, Mailbox, MailboxFilter, NotifyEvent, NotifyRequest,
};

/// After `NOTIFY`: ` NONE` or ` SET [STATUS] groups`.
pub(crate) fn notify(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    if c.keyword("NONE") {
        return Ok(CommandBody::Notify(NotifyRequest::None));
    }
    if !c.keyword("SET") {
        return c.fail(ParseErrorKind::Expected("SET or NONE"));
    }
    c.sp()?;
    let status = c.keyword("STATUS");
    if status {
        c.sp()?;
    }
    let mut groups: Vec<EventGroup> = Vec::new();
    loop {
        let start = c.pos();
        let group = event_group(c)?;
        if group.filter.is_selected() && groups.iter().any(|g| g.filter.is_selected()) {
            return Err(Fail {
                kind: ParseErrorKind::Expected("one selected filter"),
                pos: start,
            });
        }
        groups.push(group);
        if c.peek() != Some(b' ') {
            break;
        }
        c.sp()?;
    }
    Ok(CommandBody::Notify(NotifyRequest::Set { status, groups }))
}

fn event_group(c: &mut Cursor<'_>) -> PResult<EventGroup> {
    c.expect(b'(', "(")?;
    let filter = filter(c)?;
    c.sp()?;
    let start = c.pos();
    let events = if c.keyword("NONE") {
        None
    } else {
        let events = c.paren_list(|c| event(c))?;
        check_events(&filter, &events).map_err(|what| Fail {
            kind: ParseErrorKind::Expected(what),
            pos: start,
        })?;
        Some(events)
    };
    c.expect(b')', ")")?;
    Ok(EventGroup { filter, events })
}

fn filter(c: &mut Cursor<'_>) -> PResult<MailboxFilter> {
    let start = c.pos();
    let name = c.token().to_ascii_uppercase();
    Ok(match name.as_slice() {
        b"SELECTED" => MailboxFilter::Selected,
        b"SELECTED-DELAYED" => MailboxFilter::SelectedDelayed,
        b"INBOXES" => MailboxFilter::Inboxes,
        b"PERSONAL" => MailboxFilter::Personal,
        b"SUBSCRIBED" => MailboxFilter::Subscribed,
        b"SUBTREE" => MailboxFilter::Subtree(mailboxes(c)?),
        b"MAILBOXES" => MailboxFilter::Mailboxes(mailboxes(c)?),
        _ => {
            return Err(Fail {
                kind: ParseErrorKind::Expected("mailbox filter"),
                pos: start,
            });
        }
    })
}

/// `SP (mailbox / "(" mailbox *(SP mailbox) ")")`.
fn mailboxes(c: &mut Cursor<'_>) -> PResult<Vec<Mailbox>> {
    c.sp()?;
    if c.peek() == Some(b'(') {
        c.paren_list(|c| c.mailbox())
    } else {
        Ok(vec![c.mailbox()?])
    }
}

fn event(c: &mut Cursor<'_>) -> PResult<NotifyEvent> {
    let atom = c.atom()?;
    Ok(match atom.as_str().to_ascii_lowercase().as_str() {
        "messagenew" => {
            let fetch = if c.rest().starts_with(b" (") {
                c.sp()?;
                c.paren_list(fetch_attribute)?
            } else {
                Vec::new()
            };
            NotifyEvent::MessageNew(fetch)
        }
        "messageexpunge" => NotifyEvent::MessageExpunge,
        "flagchange" => NotifyEvent::FlagChange,
        "annotationchange" => NotifyEvent::AnnotationChange,
        "mailboxname" => NotifyEvent::MailboxName,
        "subscriptionchange" => NotifyEvent::SubscriptionChange,
        "mailboxmetadatachange" => NotifyEvent::MailboxMetadataChange,
        "servermetadatachange" => NotifyEvent::ServerMetadataChange,
        _ => NotifyEvent::Other(atom),
    })
}

/// The combinations RFC 5465 makes errors, as the text of the BAD.
fn check_events(filter: &MailboxFilter, events: &[NotifyEvent]) -> Result<(), &'static str> {
    let new = events
        .iter()
        .any(|e| matches!(e, NotifyEvent::MessageNew(_)));
    let expunge = events.contains(&NotifyEvent::MessageExpunge);
    if new != expunge {
        return Err("MessageNew and MessageExpunge together");
    }
    let needs_both = events
        .iter()
        .any(|e| matches!(e, NotifyEvent::FlagChange | NotifyEvent::AnnotationChange));
    if needs_both && !new {
        return Err("MessageNew and MessageExpunge with FlagChange");
    }
    let fetches = events
        .iter()
        .any(|e| matches!(e, NotifyEvent::MessageNew(f) if !f.is_empty()));
    if fetches && !filter.is_selected() {
        return Err("FETCH items only for the selected mailbox");
    }
    Ok(())
}

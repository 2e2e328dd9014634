//! NOTIFY (RFC 5465): which events the client wants for which mailboxes.

use super::core::{Atom, Mailbox};
use super::fetch::FetchAttribute;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyRequest {
    /// `NOTIFY NONE`: no events at all.
    None,
    /// `NOTIFY SET [STATUS] groups`.
    Set {
        /// STATUS responses for every watched mailbox before the OK.
        status: bool,
        groups: Vec<EventGroup>,
    },
}

/// `(filter events)`; `events: None` is `NONE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGroup {
    pub filter: MailboxFilter,
    pub events: Option<Vec<NotifyEvent>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxFilter {
    Selected,
    SelectedDelayed,
    Inboxes,
    Personal,
    Subscribed,
    /// The mailboxes and everything below them.
    Subtree(Vec<Mailbox>),
    /// Exactly these mailboxes.
    Mailboxes(Vec<Mailbox>),
}

impl MailboxFilter {
    pub fn is_selected(&self) -> bool {
        matches!(
            self,
            MailboxFilter::Selected | MailboxFilter::SelectedDelayed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyEvent {
    /// With the FETCH items to send for each new message (selected only).
    MessageNew(Vec<FetchAttribute>),
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
    /// An event this server does not know (answered `NO [BADEVENT]`).
    Other(Atom),
}

impl NotifyEvent {
    pub fn name(&self) -> &str {
        match self {
            NotifyEvent::MessageNew(_) => "MessageNew",
            NotifyEvent::MessageExpunge => "MessageExpunge",
            NotifyEvent::FlagChange => "FlagChange",
            NotifyEvent::AnnotationChange => "AnnotationChange",
            NotifyEvent::MailboxName => "MailboxName",
            NotifyEvent::SubscriptionChange => "SubscriptionChange",
            NotifyEvent::MailboxMetadataChange => "MailboxMetadataChange",
            NotifyEvent::ServerMetadataChange => "ServerMetadataChange",
            NotifyEvent::Other(a) => a.as_str(),
        }
    }
}

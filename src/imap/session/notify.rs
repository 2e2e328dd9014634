//! NOTIFY (RFC 5465), the session's state and the delivery of events about
//! mailboxes other than the selected one: `STATUS` when their messages or
//! flags change, `LIST` when mailboxes appear, go, are renamed or
//! (un)subscribed. Events come from the store's notices
//! ([`crate::storage::notify::StoreNotices`]), which every session and
//! delivery on the shard posts to, so nothing is polled. They go out
//! after every command and while idling; the selected mailbox's events are
//! the usual untagged updates ([`super::selected`]).

use std::collections::HashMap;
use std::rc::Rc;

use super::names::{DELIMITER, from_wire, to_wire};
use super::output::Output;
use super::state::Session;
use crate::imap::codec::response::{
    Data, ListExtendedItem, ListResponse, MailboxAttribute, ResponseCode, Status,
};
use crate::imap::codec::types::{
    Atom, CommandBody, EventGroup, FetchAttribute, Mailbox as WireMailbox, MailboxFilter,
    NotifyEvent, StatusItem,
};
use crate::storage::notify::{StoreEvent, StoreNotices};
use crate::storage::{AnyStore, MailStore, Mailbox, MailboxName, MailboxStatus};

/// The events tern sends (the list of `NO [BADEVENT (...)]`).
pub const SUPPORTED_EVENTS: [&str; 5] = [
    "MessageNew",
    "MessageExpunge",
    "FlagChange",
    "MailboxName",
    "SubscriptionChange",
];

/// Which mailboxes a group of events is about, in storage names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// Where mail is delivered: INBOX.
    Inboxes,
    Personal,
    Subscribed,
    Subtree(Vec<MailboxName>),
    Mailboxes(Vec<MailboxName>),
}

/// One `(filter events)` group for mailboxes other than the selected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub mailboxes: Watched,
    /// MessageNew + MessageExpunge.
    pub messages: bool,
    pub flags: bool,
    pub names: bool,
    pub subscriptions: bool,
}

/// What was last reported of a mailbox, to send STATUS only on change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reported {
    messages: u32,
    uidnext: u32,
    uidvalidity: u32,
    unseen: u32,
    highest_modseq: u64,
}

impl From<&MailboxStatus> for Reported {
    fn from(st: &MailboxStatus) -> Self {
        Reported {
            messages: st.messages,
            uidnext: st.uidnext,
            uidvalidity: st.uidvalidity,
            unseen: st.unseen,
            highest_modseq: st.highest_modseq,
        }
    }
}

pub struct NotifyState {
    /// FETCH items for each new message of the selected mailbox
    /// (`selected (MessageNew (...))`).
    pub new_message_fetch: Vec<FetchAttribute>,
    pub watches: Vec<Watch>,
    notices: Rc<StoreNotices>,
    /// Store events up to this number were delivered.
    seen: u64,
    reported: HashMap<MailboxName, Reported>,
    /// Mailbox-list events this session caused itself, not reported back
    /// to it (RFC 5465 §5: the server SHOULD omit them, as Dovecot does).
    own: Vec<StoreEvent>,
}

/// Own events remembered at most (one command causes one).
const OWN_EVENTS: usize = 16;

impl NotifyState {
    /// The state for `groups` (checked by the parser), reading the store's
    /// notices from now on. `None` for a group naming a mailbox that is
    /// not a valid name.
    pub fn new(groups: &[EventGroup], notices: Rc<StoreNotices>, utf8: bool) -> Option<Self> {
        let mut new_message_fetch = Vec::new();
        let mut watches = Vec::new();
        for g in groups {
            let events = g.events.as_deref().unwrap_or(&[]);
            if g.filter.is_selected() {
                for e in events {
                    if let NotifyEvent::MessageNew(atts) = e {
                        new_message_fetch = atts.iter().cloned().map(peek).collect();
                    }
                }
                continue;
            }
            let names = |list: &[crate::imap::codec::types::Mailbox]| {
                list.iter()
                    .map(|m| from_wire(m, utf8))
                    .collect::<Option<Vec<_>>>()
            };
            let mailboxes = match &g.filter {
                MailboxFilter::Inboxes => Watched::Inboxes,
                MailboxFilter::Personal => Watched::Personal,
                MailboxFilter::Subscribed => Watched::Subscribed,
                MailboxFilter::Subtree(l) => Watched::Subtree(names(l)?),
                MailboxFilter::Mailboxes(l) => Watched::Mailboxes(names(l)?),
                MailboxFilter::Selected | MailboxFilter::SelectedDelayed => continue,
            };
            let has = |f: fn(&NotifyEvent) -> bool| events.iter().any(f);
            watches.push(Watch {
                mailboxes,
                messages: has(|e| matches!(e, NotifyEvent::MessageNew(_))),
                flags: has(|e| matches!(e, NotifyEvent::FlagChange)),
                names: has(|e| matches!(e, NotifyEvent::MailboxName)),
                subscriptions: has(|e| matches!(e, NotifyEvent::SubscriptionChange)),
            });
        }
        Some(NotifyState {
            new_message_fetch,
            watches,
            seen: notices.counter(),
            notices,
            reported: HashMap::new(),
            own: Vec::new(),
        })
    }

    /// What IDLE waits on besides the selected mailbox: the store's
    /// notices and the number of the last event delivered.
    pub fn waiting_on(&self) -> (Rc<StoreNotices>, u64) {
        (self.notices.clone(), self.seen)
    }
}

/// The mailbox-list event `body` causes when it succeeds, if any.
pub fn own_event(s: &Session, body: &CommandBody) -> Option<StoreEvent> {
    s.notify.as_ref()?;
    let name = |m: &WireMailbox| from_wire(m, s.utf8());
    Some(match body {
        CommandBody::Create { mailbox, .. } => StoreEvent::Created(name(mailbox)?),
        CommandBody::Delete { mailbox } => StoreEvent::Deleted(name(mailbox)?),
        CommandBody::Rename { from, to } => StoreEvent::Renamed {
            from: name(from)?,
            to: name(to)?,
        },
        CommandBody::Subscribe { mailbox } => StoreEvent::Subscribed(name(mailbox)?),
        CommandBody::Unsubscribe { mailbox } => StoreEvent::Unsubscribed(name(mailbox)?),
        _ => return None,
    })
}

/// Remembers `event` as caused by this session once its command succeeded.
pub fn caused(s: &mut Session, event: Option<StoreEvent>) {
    let succeeded = s.reply.as_ref().is_some_and(|r| r.status == Status::Ok);
    if let (Some(event), Some(state), true) = (event, s.notify.as_mut(), succeeded) {
        if state.own.len() == OWN_EVENTS {
            state.own.remove(0);
        }
        state.own.push(event);
    }
}

impl Session {
    /// What IDLE waits on for NOTIFY, if it is on.
    pub fn notify_wait(&self) -> Option<(Rc<StoreNotices>, u64)> {
        self.notify.as_ref().map(NotifyState::waiting_on)
    }
}

/// The item as it reads without setting `\Seen`: an event must not
/// change the message it reports (RFC 5465 §5.2).
fn peek(att: FetchAttribute) -> FetchAttribute {
    match att {
        FetchAttribute::BodySection {
            section, partial, ..
        } => FetchAttribute::BodySection {
            peek: true,
            section,
            partial,
        },
        FetchAttribute::Binary { part, partial, .. } => FetchAttribute::Binary {
            peek: true,
            part,
            partial,
        },
        other => other,
    }
}

/// The unsupported events among `groups` (answered `NO [BADEVENT]`).
pub fn unsupported(groups: &[EventGroup]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.events.as_deref().unwrap_or(&[]))
        .map(NotifyEvent::name)
        .filter(|n| !SUPPORTED_EVENTS.contains(n))
        .map(str::to_string)
        .collect()
}

pub fn badevent_code() -> ResponseCode {
    let list = SUPPORTED_EVENTS.join(" ");
    match Atom::try_from("BADEVENT") {
        Ok(atom) => ResponseCode::Other(atom, Some(format!("({list})"))),
        Err(_) => ResponseCode::Cannot,
    }
}

impl Watched {
    fn covers(&self, name: &MailboxName, subscriptions: &[MailboxName]) -> bool {
        match self {
            Watched::Inboxes => name.is_inbox(),
            Watched::Personal => true,
            Watched::Subscribed => subscriptions.contains(name),
            Watched::Subtree(roots) => roots.iter().any(|r| name == r || name.is_within(r)),
            Watched::Mailboxes(list) => list.contains(name),
        }
    }
}

/// Sends what happened to other mailboxes since the last delivery.
pub async fn deliver(s: &mut Session, out: &mut impl Output) {
    let Some(state) = s.notify.as_mut() else {
        return;
    };
    let events = match state.notices.since(state.seen) {
        Ok(events) => events,
        Err(_) => {
            // RFC 5465 §5.8: the client must resynchronise; the server
            // behaves as after NOTIFY NONE.
            s.notify = None;
            let code = Atom::try_from("NOTIFICATIONOVERFLOW")
                .map_or(ResponseCode::Limit, |a| ResponseCode::Other(a, None));
            out.status(None, Status::Ok, Some(code), "Too many notifications.");
            return;
        }
    };
    state.seen = state.notices.counter();
    if events.is_empty() {
        return;
    }
    let Ok(store) = s.mail_store().await else {
        return;
    };
    let subscriptions = if needs_subscriptions(s) {
        store.subscriptions().await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut changed: Vec<MailboxName> = Vec::new();
    for event in events {
        if let Some(state) = s.notify.as_mut()
            && let Some(at) = state.own.iter().position(|e| *e == event)
        {
            state.own.remove(at);
            continue;
        }
        match event {
            StoreEvent::Changed(name) => {
                if !changed.contains(&name) {
                    changed.push(name);
                }
            }
            other => list_event(s, out, &store, &other, &subscriptions).await,
        }
    }
    for name in changed {
        status_event(s, out, &store, &name, &subscriptions).await;
    }
}

fn needs_subscriptions(s: &Session) -> bool {
    s.notify.as_ref().is_some_and(|n| {
        n.watches
            .iter()
            .any(|w| w.mailboxes == Watched::Subscribed || w.subscriptions)
    })
}

/// STATUS for a changed mailbox someone watches, when what the watch
/// asks about changed since the last report.
async fn status_event(
    s: &mut Session,
    out: &mut impl Output,
    store: &AnyStore,
    name: &MailboxName,
    subscriptions: &[MailboxName],
) {
    if s.selected.as_ref().is_some_and(|sel| &sel.name == name) {
        return;
    }
    let Some(state) = s.notify.as_ref() else {
        return;
    };
    let (messages, flags) = state
        .watches
        .iter()
        .filter(|w| w.mailboxes.covers(name, subscriptions))
        .fold((false, false), |(m, f), w| (m || w.messages, f || w.flags));
    if !messages && !flags {
        return;
    }
    let Ok(mbox) = store.open(name).await else {
        return;
    };
    let now = Reported::from(&mbox.status());
    let before = state.reported.get(name).copied();
    let news = before.is_none_or(|b| {
        (messages
            && (b.messages != now.messages
                || b.uidnext != now.uidnext
                || b.uidvalidity != now.uidvalidity))
            || (flags && (b.unseen != now.unseen || b.highest_modseq != now.highest_modseq))
    });
    if !news {
        return;
    }
    write_status(s, out, name, &now);
    if let Some(state) = s.notify.as_mut() {
        state.reported.insert(name.clone(), now);
    }
}

fn write_status(s: &Session, out: &mut impl Output, name: &MailboxName, st: &Reported) {
    let mut items = vec![
        (StatusItem::Messages, u64::from(st.messages)),
        (StatusItem::UidNext, u64::from(st.uidnext)),
        (StatusItem::UidValidity, u64::from(st.uidvalidity)),
        (StatusItem::Unseen, u64::from(st.unseen)),
    ];
    if s.enabled.condstore {
        items.push((StatusItem::HighestModSeq, st.highest_modseq));
    }
    out.data(&Data::Status {
        mailbox: to_wire(name, s.utf8()),
        items,
    });
}

/// `NOTIFY SET STATUS`: the STATUS of every watched mailbox (but the
/// selected one) before the tagged OK.
pub async fn initial_status(s: &mut Session, out: &mut impl Output) {
    let Ok(store) = s.mail_store().await else {
        return;
    };
    let Ok(all) = store.list().await else {
        return;
    };
    let subscriptions = if needs_subscriptions(s) {
        store.subscriptions().await.unwrap_or_default()
    } else {
        Vec::new()
    };
    for info in all.into_iter().filter(|i| i.selectable) {
        let name = info.name;
        let watched = s.notify.as_ref().is_some_and(|n| {
            n.watches
                .iter()
                .any(|w| (w.messages || w.flags) && w.mailboxes.covers(&name, &subscriptions))
        });
        if !watched || s.selected.as_ref().is_some_and(|sel| sel.name == name) {
            continue;
        }
        let Ok(mbox) = store.open(&name).await else {
            continue;
        };
        let now = Reported::from(&mbox.status());
        write_status(s, out, &name, &now);
        if let Some(state) = s.notify.as_mut() {
            state.reported.insert(name, now);
        }
    }
}

/// LIST for a mailbox created, deleted, renamed or (un)subscribed, when
/// a watch asks for that kind of event about it.
async fn list_event(
    s: &mut Session,
    out: &mut impl Output,
    store: &AnyStore,
    event: &StoreEvent,
    subscriptions: &[MailboxName],
) {
    let Some(state) = s.notify.as_ref() else {
        return;
    };
    let (name, about_names) = match event {
        StoreEvent::Created(n) | StoreEvent::Deleted(n) => (n, true),
        StoreEvent::Renamed { to, .. } => (to, true),
        StoreEvent::Subscribed(n) | StoreEvent::Unsubscribed(n) => (n, false),
        _ => return,
    };
    let wanted = state.watches.iter().any(|w| {
        (if about_names {
            w.names
        } else {
            w.subscriptions
        }) && (w.mailboxes.covers(name, subscriptions)
            || matches!(event, StoreEvent::Renamed { from, .. }
                    if w.mailboxes.covers(from, subscriptions)))
    });
    if !wanted {
        return;
    }
    let utf8 = s.utf8();
    let mut attributes = Vec::new();
    let mut extended = Vec::new();
    match event {
        StoreEvent::Deleted(_) => attributes.push(MailboxAttribute::NonExistent),
        StoreEvent::Renamed { from, .. } => {
            extended.push(ListExtendedItem::OldName(to_wire(from, utf8)));
        }
        StoreEvent::Subscribed(_) => attributes.push(MailboxAttribute::Subscribed),
        _ => {}
    }
    if !matches!(event, StoreEvent::Deleted(_))
        && let Ok(all) = store.list().await
        && let Some(info) = all.iter().find(|i| &i.name == name)
    {
        if !info.selectable {
            attributes.push(MailboxAttribute::NoSelect);
        }
        attributes.push(if info.has_children {
            MailboxAttribute::HasChildren
        } else {
            MailboxAttribute::HasNoChildren
        });
    }
    out.data(&Data::List(ListResponse {
        attributes,
        delimiter: Some(DELIMITER),
        mailbox: to_wire(name, utf8),
        extended,
    }));
}

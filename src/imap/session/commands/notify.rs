//! NOTIFY (RFC 5465): `NOTIFY NONE` / `NOTIFY SET [STATUS] groups`, and
//! the FETCH of each new message of the selected mailbox that
//! `selected (MessageNew (items))` asks for. Delivery of the other events
//! is [`crate::imap::session::notify`].

use super::Flow;
use crate::imap::codec::types::{
    FetchAttributes, NotifyRequest, SeqBound, SeqRange, SequenceSet, Tag,
};
use crate::imap::session::notify::{NotifyState, badevent_code, initial_status, unsupported};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;
use std::num::NonZeroU32;

pub async fn notify(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    request: &NotifyRequest,
) -> Flow {
    let (status, groups) = match request {
        NotifyRequest::None => {
            s.notify = None;
            s.ok(tag, "NOTIFY completed.");
            return Flow::Continue;
        }
        NotifyRequest::Set { status, groups } => (*status, groups),
    };
    if !unsupported(groups).is_empty() {
        s.no(tag, badevent_code(), "Unsupported NOTIFY events.");
        return Flow::Continue;
    }
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let Some(state) = NotifyState::new(groups, store.notices(), s.utf8()) else {
        s.no(
            tag,
            crate::imap::codec::response::ResponseCode::Cannot,
            "Invalid mailbox name.",
        );
        return Flow::Continue;
    };
    s.notify = Some(state);
    if status {
        initial_status(s, out).await;
    }
    // A NOTIFY SET is also a NOOP (RFC 5465 §3.1): the dispatcher's
    // catch-up and the updates before this answer do that.
    s.ok(tag, "NOTIFY completed.");
    Flow::Continue
}

/// After the EXISTS that announced them: FETCH of the messages above UID
/// `known_last` with the items of `selected (MessageNew (items))`.
pub async fn fetch_new_messages(s: &mut Session, out: &mut impl Output, known_last: u32) {
    let Some(items) = s
        .notify
        .as_ref()
        .map(|n| n.new_message_fetch.clone())
        .filter(|i| !i.is_empty())
    else {
        return;
    };
    let Some(newest) = s.selected.as_ref().and_then(|sel| sel.uids.last().copied()) else {
        return;
    };
    if newest <= known_last {
        return;
    }
    let (Some(start), Some(end)) = (
        NonZeroU32::new(known_last.saturating_add(1)),
        NonZeroU32::new(newest),
    ) else {
        return;
    };
    let Ok(set) = SequenceSet::ranges(vec![SeqRange {
        start: SeqBound::Value(start),
        end: SeqBound::Value(end),
    }]) else {
        return;
    };
    // The FETCH handler leaves its own answer in `reply`; the command
    // being finished keeps its.
    let pending = s.reply.take();
    let Ok(tag) = Tag::try_from("NOTIFY") else {
        s.reply = pending;
        return;
    };
    super::fetch::fetch(
        s,
        out,
        &tag,
        true,
        &set,
        &FetchAttributes::List(items),
        Default::default(),
    )
    .await;
    s.reply = pending;
}

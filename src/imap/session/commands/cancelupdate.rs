//! CANCELUPDATE (RFC 5267 §4.3.5): stop the updates of live results.

use super::Flow;
use crate::imap::codec::response::Status;
use crate::imap::codec::types::Tag;
use crate::imap::session::contexts;
use crate::imap::session::state::Session;

pub fn cancel_update(s: &mut Session, tag: &Tag, tags: &[Vec<u8>]) -> Flow {
    if contexts::cancel(s, tags) {
        s.ok(tag, "Updates cancelled.");
    } else {
        s.reply(tag, Status::No, None, "Unknown tag.");
    }
    Flow::Continue
}

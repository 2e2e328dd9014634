//! CAPABILITY once logged in.

use super::Flow;
use crate::imap::codec::response::Data;
use crate::imap::codec::types::Tag;
use crate::imap::session::capability::{atoms, authed};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;

pub fn capability(s: &mut Session, out: &mut impl Output, tag: &Tag) -> Flow {
    let caps = authed(&s.settings.options);
    out.data(&Data::Capability(atoms(&caps)));
    s.ok(tag, "Capability completed.");
    Flow::Continue
}

//! LOGOUT: BYE and the tagged OK; the driver flushes and closes.

use super::Flow;
use crate::imap::codec::response::Status;
use crate::imap::codec::types::Tag;
use crate::imap::session::output::Output;

pub fn logout(out: &mut impl Output, tag: &Tag) -> Flow {
    out.status(None, Status::Bye, None, "Logging out");
    out.ok(tag, "Logout completed.");
    Flow::Logout
}

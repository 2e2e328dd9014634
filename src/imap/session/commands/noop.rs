//! NOOP and CHECK: the clients' polls.

use super::Flow;
use crate::imap::codec::types::Tag;
use crate::imap::session::state::Session;

pub fn noop(s: &mut Session, tag: &Tag) -> Flow {
    // The dispatcher already looked for other programs' changes; the
    // updates go out before this answer.
    s.ok(tag, "NOOP completed.");
    Flow::Continue
}

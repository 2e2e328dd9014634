//! NOOP and CHECK: the clients' polls.

use super::Flow;
use crate::imap::codec::types::Tag;
use crate::imap::session::state::Session;

pub async fn noop(s: &mut Session, tag: &Tag) -> Flow {
    // NOOP / CHECK are the clients' polls: pick up what other programs (an
    // MDA, a Dovecot still in service) did to a Maildir or mbox.
    if let Some(sel) = s.selected.as_ref()
        && let Err(e) = sel.mailbox.refresh().await
    {
        tracing::warn!("imap: refreshing the mailbox failed: {e}");
    }
    s.ok(tag, "NOOP completed.");
    Flow::Continue
}

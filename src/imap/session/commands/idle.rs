//! IDLE (RFC 2177), the session's half: the continuation request, the
//! updates pushed while idling and the answer to DONE. Waiting for the
//! client, for changes and for timers is the driver's
//! (`crate::imap::driver::idle`).

use super::Flow;
use crate::imap::codec::parse_idle_done;
use crate::imap::codec::types::Tag;
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;
use crate::storage::AnyMailbox;

pub fn idle(out: &mut impl Output, tag: &Tag) -> Flow {
    out.push_raw(b"+ idling\r\n");
    Flow::Idle(tag.clone())
}

impl Session {
    /// The mailbox IDLE watches for changes, if one is selected.
    pub fn idle_watch(&self) -> Option<AnyMailbox> {
        self.selected.as_ref().map(|sel| sel.mailbox.clone())
    }

    /// Everything that changed since the last report, pushed while idling.
    pub async fn idle_changes(&mut self, out: &mut impl Output) {
        self.sync(out, true, true).await;
    }

    /// Looks for changes other programs made (the IDLE poll timer); a
    /// change found is reported by the next [`Session::idle_changes`].
    pub async fn idle_poll(&mut self) {
        crate::imap::session::refresh::selected(self, true).await;
    }

    /// The client ended IDLE with `line` (`None`: it sent something the
    /// framer refused): the tagged answer, after the last updates.
    pub async fn idle_done(&mut self, out: &mut impl Output, tag: &Tag, line: Option<&[u8]>) {
        match line {
            Some(l) if parse_idle_done(l).is_ok() => self.ok(tag, "Idle completed."),
            _ => self.bad(tag, "Expected DONE."),
        }
        self.finish(out, true, true).await;
    }
}

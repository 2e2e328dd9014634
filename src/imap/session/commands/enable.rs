//! ENABLE (RFC 5161): CONDSTORE, QRESYNC, IMAP4rev2, UTF8=ACCEPT.

use super::Flow;
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{Atom, Tag};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;

/// RFC 5161. Unknown extensions are ignored; only newly enabled ones are
/// listed.
pub fn enable(s: &mut Session, out: &mut impl Output, tag: &Tag, caps: &[Atom]) -> Flow {
    let mut enabled = Vec::new();
    for c in caps {
        let name = c.as_str().to_ascii_uppercase();
        let flag = match name.as_str() {
            "CONDSTORE" => &mut s.enabled.condstore,
            "QRESYNC" => {
                // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
                s.enabled.condstore = true;
                &mut s.enabled.qresync
            }
            "IMAP4REV2" => &mut s.enabled.rev2,
            "UTF8=ACCEPT" => &mut s.enabled.utf8,
            _ => continue,
        };
        if !*flag {
            *flag = true;
            enabled.push(c.clone());
        }
    }
    out.set_opts(s.encode_options());
    out.data(&Data::Enabled(enabled));
    s.ok(tag, "Enabled.");
    Flow::Continue
}

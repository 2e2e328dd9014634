//! ID (RFC 2971) once logged in.

use super::Flow;
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{AString, Tag};
use crate::imap::session::id;
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;

/// RFC 2971. The client's fields are logged once per session, as Dovecot
/// does (a client repeating ID cannot flood the log).
pub fn id(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    params: Option<&[(AString, Option<AString>)]>,
) -> Flow {
    let options = &s.settings.options;
    if !s.id_logged {
        s.id_logged = true;
        if let Some(text) = id::log_text(params, &options.id_log) {
            tracing::info!(session = s.id, user = s.user, "imap: ID sent: {text}");
        }
    }
    out.data(&Data::Id(id::reply(&options.id_send)));
    s.ok(tag, "ID completed.");
    Flow::Continue
}

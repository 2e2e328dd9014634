//! Commands valid in any authenticated state: CAPABILITY, NOOP/CHECK,
//! LOGOUT, ID, ENABLE, NAMESPACE.

use super::Flow;
use crate::imap::codec::response::{Data, NamespaceDescription, ResponseCode, Status};
use crate::imap::codec::types::{AString, Atom, Tag};
use crate::imap::session::id;
use crate::imap::session::names::DELIMITER;
use crate::imap::session::prelogin::atoms;
use crate::imap::session::state::Session;

pub fn capability(s: &mut Session, tag: &Tag) -> Flow {
    let caps = crate::imap::session::capability::authed(&s.env.settings.imap.imap_options);
    s.io.data(&Data::Capability(atoms(&caps)));
    s.ok(tag, "Capability completed.");
    Flow::Continue
}

pub fn noop(s: &mut Session, tag: &Tag) -> Flow {
    // The dispatcher already looked for other programs' changes; the
    // updates go out before this answer.
    s.ok(tag, "NOOP completed.");
    Flow::Continue
}

pub fn logout(s: &mut Session, tag: &Tag) -> Flow {
    s.io.status(None, Status::Bye, None, "Logging out");
    s.io.ok(tag, "Logout completed.");
    Flow::Logout
}

/// RFC 2971. The client's fields are logged once per session, as Dovecot
/// does (a client repeating ID cannot flood the log).
pub fn id(s: &mut Session, tag: &Tag, params: Option<&[(AString, Option<AString>)]>) -> Flow {
    let options = &s.env.settings.imap.imap_options;
    if !s.id_logged {
        s.id_logged = true;
        if let Some(text) = id::log_text(params, &options.id_log) {
            tracing::info!(session = s.id, user = s.user, "imap: ID sent: {text}");
        }
    }
    s.io.data(&Data::Id(id::reply(&options.id_send)));
    s.ok(tag, "ID completed.");
    Flow::Continue
}

/// RFC 5161. Unknown extensions are ignored; only newly enabled ones are
/// listed.
pub fn enable(s: &mut Session, tag: &Tag, caps: &[Atom]) -> Flow {
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
    s.io.opts.utf8 = s.utf8();
    s.io.data(&Data::Enabled(enabled));
    s.ok(tag, "Enabled.");
    Flow::Continue
}

pub fn namespace(s: &mut Session, tag: &Tag) -> Flow {
    s.io.data(&Data::Namespace {
        personal: vec![NamespaceDescription {
            prefix: Vec::new(),
            delimiter: Some(DELIMITER),
        }],
        other: Vec::new(),
        shared: Vec::new(),
    });
    s.ok(tag, "Namespace completed.");
    Flow::Continue
}

/// COMPRESS=DEFLATE (RFC 4978): the tagged OK goes out uncompressed, then
/// both directions are compressed.
pub async fn compress(s: &mut Session, tag: &Tag, algorithm: &Atom) -> Flow {
    if !algorithm.eq_ignore_case("DEFLATE") {
        s.bad(tag, "Unknown compression algorithm.");
        return Flow::Continue;
    }
    if s.io.compression_active() {
        s.no(
            tag,
            ResponseCode::CompressionActive,
            "Compression already active.",
        );
        return Flow::Continue;
    }
    s.io.ok(tag, "Begin compression.");
    if s.io.flush().await.is_err() {
        return Flow::Close;
    }
    s.io.start_deflate();
    Flow::Continue
}

//! URLFETCH (RFC 4467 §6.3) with RFC 5524's `(url BINARY BODYPARTSTRUCTURE)`
//! form: the data of URLAUTH URLs, each checked (access, expiry, server,
//! token) and answered on its own, `NIL` when it does not verify. URLs
//! are served from the session user's own mail; another user's URL is
//! `NIL` (see docs/imap-deviations.md).

use super::Flow;
use crate::imap::codec::response::{write_astring, write_body_structure};
use crate::imap::codec::types::{Tag, UrlFetchParams, UrlFetchRequest};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;
use crate::imap::session::url_part::{self, PartData, PartError, PartForm};
use crate::imap::session::urlauth;
use crate::imap::url;
use crate::storage::Mailbox;

pub async fn urlfetch(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    urls: &[UrlFetchRequest],
) -> Flow {
    if !urlauth::enabled(&s.settings.options) {
        s.bad(tag, "URLAUTH disabled.");
        return Flow::Continue;
    }
    for request in urls {
        let answer = fetch(s, request).await;
        let buf = out.buf();
        buf.extend_from_slice(b"* URLFETCH ");
        write_astring(buf, &request.url, false);
        match answer {
            Ok(data) => write_data(buf, request.params, &data),
            Err(reason) => {
                buf.extend_from_slice(b" NIL\r\n");
                let shown = String::from_utf8_lossy(&request.url);
                out.no(
                    None,
                    None,
                    &format!("Failed to fetch URLAUTH \"{shown}\": {reason}."),
                );
            }
        }
        if out.flush_if_big().await.is_err() {
            return Flow::Close;
        }
    }
    s.ok(tag, "URLFETCH completed.");
    Flow::Continue
}

/// ` {n}` data, or RFC 5524's ` (BODYPARTSTRUCTURE (…) BINARY ~{n}…)`.
fn write_data(buf: &mut Vec<u8>, params: Option<UrlFetchParams>, data: &PartData) {
    let Some(params) = params else {
        write_literal(buf, &data.bytes, false);
        buf.extend_from_slice(b"\r\n");
        return;
    };
    buf.extend_from_slice(b" (");
    let mut first = true;
    if let (true, Some(structure)) = (params.body_part_structure, &data.structure) {
        buf.extend_from_slice(b"BODYPARTSTRUCTURE ");
        write_body_structure(buf, structure, true);
        first = false;
    }
    // Only BODYPARTSTRUCTURE asked for: no data.
    let wants_data = params.binary || params.body || !params.body_part_structure;
    if wants_data {
        if !first {
            buf.push(b' ');
        }
        if params.binary {
            buf.extend_from_slice(b"BINARY");
            write_literal(buf, &data.bytes, data.bytes.contains(&0));
        } else {
            buf.extend_from_slice(b"BODY");
            write_literal(buf, &data.bytes, false);
        }
    }
    buf.extend_from_slice(b")\r\n");
}

fn write_literal(buf: &mut Vec<u8>, bytes: &[u8], binary: bool) {
    buf.extend_from_slice(if binary { b" ~{" } else { b" {" });
    buf.extend_from_slice(bytes.len().to_string().as_bytes());
    buf.extend_from_slice(b"}\r\n");
    buf.extend_from_slice(bytes);
}

/// The data of one URL, or why it is `NIL`.
async fn fetch(s: &mut Session, request: &UrlFetchRequest) -> Result<PartData, String> {
    let text = std::str::from_utf8(&request.url).map_err(|_| "Invalid URLAUTH: not UTF-8")?;
    let u = url::parse(text).map_err(|e| format!("Invalid URLAUTH: {e}"))?;
    let owner = urlauth::check_fetch_url(&s.settings.options, &u, &s.user, s.now())?;
    if owner != s.user {
        return Err(format!("Not permitted to fetch URLAUTH for user {owner}"));
    }
    let (Some(mailbox), Some(uid), Some(auth)) = (&u.mailbox, u.uid, &u.urlauth) else {
        return Err("Invalid URL: Must be a full URLAUTH URL".into());
    };
    let given = auth.token.as_deref().unwrap_or_default();
    let store = s
        .mail_store()
        .await
        .map_err(|_| "Internal server error".to_string())?;
    let mbox = match url_part::open_mailbox(s, &store, mailbox, u.uid_validity).await {
        Ok(mbox) => mbox,
        Err(e) => {
            // RFC 4467 §9: check a token against a random key anyway, so
            // the time taken does not tell which mailboxes exist.
            if let Ok(key) = urlauth::random_key() {
                let _ = urlauth::verify(&key, &auth.rump, given);
            }
            return Err(format!("Invalid URLAUTH: {e}"));
        }
    };
    let key = urlauth::mailbox_key(&store, &mbox.guid(), false)
        .await
        .map_err(|_| "Internal server error".to_string())?;
    if !key.is_some_and(|key| urlauth::verify(&key, &auth.rump, given)) {
        return Err("URLAUTH verification failed".into());
    }
    let params = request.params.unwrap_or_default();
    let form = PartForm {
        binary: params.binary,
        structure: params.body_part_structure,
    };
    match url_part::read_part(&mbox, uid, u.section.as_deref(), u.partial, form).await {
        Ok(data) => Ok(data),
        Err(PartError::Storage(e)) => {
            tracing::error!(session = s.id, user = s.user, "imap: URLFETCH: {e}");
            Err("Internal server error".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

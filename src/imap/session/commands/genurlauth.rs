//! GENURLAUTH (RFC 4467 §6.1): signs rump URLs of the user's own messages
//! with the mailbox key (made on first use). Errors are BAD with Dovecot's
//! texts; nothing is answered unless every URL could be signed.

use super::{Flow, storage_no};
use crate::imap::codec::response::write_astring;
use crate::imap::codec::types::{Atom, Tag};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;
use crate::imap::session::url_part::{self, PartError, PartForm};
use crate::imap::session::urlauth;
use crate::imap::url::{self, to_hex};
use crate::storage::{AnyStore, Mailbox, StorageError};

pub async fn genurlauth(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    requests: &[(Vec<u8>, Atom)],
) -> Flow {
    if !urlauth::enabled(&s.settings.options) {
        s.bad(tag, "URLAUTH disabled.");
        return Flow::Continue;
    }
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let mut signed = Vec::with_capacity(requests.len());
    for (rump, mechanism) in requests {
        match sign(s, &store, rump, mechanism).await {
            Ok(url) => signed.push(url),
            Err(Refused::Bad(text)) => {
                s.bad(tag, &text);
                return Flow::Continue;
            }
            Err(Refused::Storage(e)) => {
                storage_no(s, tag, &e, false);
                return Flow::Continue;
            }
        }
    }
    let buf = out.buf();
    buf.extend_from_slice(b"* GENURLAUTH");
    for url in &signed {
        buf.push(b' ');
        write_astring(buf, url.as_bytes(), false);
    }
    buf.extend_from_slice(b"\r\n");
    s.ok(tag, "GENURLAUTH completed.");
    Flow::Continue
}

enum Refused {
    Bad(String),
    Storage(StorageError),
}

impl From<String> for Refused {
    fn from(text: String) -> Self {
        Refused::Bad(text)
    }
}

/// The full URLAUTH URL for `rump`.
async fn sign(
    s: &Session,
    store: &AnyStore,
    rump: &[u8],
    mechanism: &Atom,
) -> Result<String, Refused> {
    if !mechanism.eq_ignore_case(urlauth::MECHANISM) {
        return Err(format!("Unsupported URLAUTH mechanism: {mechanism}").into());
    }
    let text = std::str::from_utf8(rump).map_err(|_| "Invalid URL: not UTF-8".to_string())?;
    let u = url::parse(text).map_err(|e| format!("Invalid URL: {e}"))?;
    let (Some(server), Some(auth), Some(mailbox), Some(uid)) =
        (&u.server, &u.urlauth, &u.mailbox, u.uid)
    else {
        return Err("Invalid URL: Must be an URLAUTH rump URL"
            .to_string()
            .into());
    };
    if auth.mechanism.is_some() {
        return Err("Invalid URL: Must be an URLAUTH rump URL"
            .to_string()
            .into());
    }
    if auth.expire.is_some_and(|t| s.now() > t) {
        return Err("URLAUTH has already expired".to_string().into());
    }
    let user = server
        .user
        .as_deref()
        .ok_or("Invalid URL: Missing user name".to_string())?;
    if user != s.user {
        return Err(format!("Not permitted to generate URLAUTH for user {user}").into());
    }
    urlauth::check_server(&s.settings.options, server)?;
    let part = async {
        let mbox = url_part::open_mailbox(s, store, mailbox, u.uid_validity).await?;
        url_part::read_part(&mbox, uid, u.section.as_deref(), None, PartForm::default()).await?;
        Ok::<_, PartError>(mbox)
    };
    let mbox = match part.await {
        Ok(mbox) => mbox,
        Err(PartError::Storage(e)) => return Err(Refused::Storage(e)),
        Err(e) => return Err(format!("Invalid URL: {e}").into()),
    };
    let key = match urlauth::mailbox_key(store, &mbox.guid(), true).await {
        Ok(Some(key)) => key,
        Ok(None) => return Err(Refused::Storage(StorageError::Internal("no key".into()))),
        Err(e) => return Err(Refused::Storage(e)),
    };
    let token = urlauth::token(&key, &auth.rump);
    // Dovecot writes the mechanism in lower case.
    Ok(format!("{}:internal:{}", auth.rump, to_hex(&token)))
}

//! CATENATE (RFC 4469): an APPEND message assembled from literal text and
//! URLs of messages or parts in the user's own mailboxes. As in Dovecot,
//! the URLs are relative (`/INBOX;UIDVALIDITY=n/;UID=n/;SECTION=x` or
//! `;UID=n…` in the selected mailbox) and carry no URLAUTH.

use crate::imap::codec::types::CatenatePart;
use crate::imap::session::state::Session;
use crate::imap::session::url_part::{self, PartError, PartForm};
use crate::imap::url;
use crate::storage::{AnyStore, StorageError};

/// Why a message could not be assembled.
#[derive(Debug)]
pub enum CatenateError {
    /// `NO [BADURL url] reason`.
    BadUrl {
        url: String,
        reason: String,
    },
    /// Over the APPEND limit: `NO [TOOBIG]`.
    TooBig,
    Storage(StorageError),
}

/// The message `parts` make, at most `limit` bytes.
pub async fn assemble(
    s: &Session,
    store: &AnyStore,
    parts: Vec<CatenatePart>,
    limit: u64,
) -> Result<Vec<u8>, CatenateError> {
    let mut message = Vec::new();
    for part in parts {
        match part {
            CatenatePart::Text(bytes) => message.extend_from_slice(&bytes),
            CatenatePart::Url(text) => {
                let text = String::from_utf8_lossy(&text).into_owned();
                let bytes = resolve(s, store, &text).await.map_err(|e| match e {
                    Resolve::Bad(reason) => CatenateError::BadUrl { url: text, reason },
                    Resolve::Storage(e) => CatenateError::Storage(e),
                })?;
                message.extend_from_slice(&bytes);
            }
        }
        if message.len() as u64 > limit {
            return Err(CatenateError::TooBig);
        }
    }
    Ok(message)
}

enum Resolve {
    Bad(String),
    Storage(StorageError),
}

async fn resolve(s: &Session, store: &AnyStore, text: &str) -> Result<Vec<u8>, Resolve> {
    let invalid = |why: &str| Resolve::Bad(format!("Invalid IMAP URL: {why}"));
    let u = url::parse_reference(text).map_err(|e| invalid(&e.to_string()))?;
    if u.urlauth.is_some() {
        return Err(invalid("`;URLAUTH=' is not allowed in this context"));
    }
    let Some(uid) = u.uid else {
        return Err(invalid("Message UID missing"));
    };
    let mailbox = match (&u.mailbox, &s.selected) {
        (Some(m), _) => m.clone(),
        (None, Some(sel)) => sel.name.as_str().to_string(),
        (None, None) => return Err(invalid("No mailbox selected")),
    };
    let part = async {
        let mbox = url_part::open_mailbox(s, store, &mailbox, u.uid_validity).await?;
        url_part::read_part(
            &mbox,
            uid,
            u.section.as_deref(),
            u.partial,
            PartForm::default(),
        )
        .await
    };
    match part.await {
        Ok(data) => Ok(data.bytes),
        Err(PartError::Storage(e)) => Err(Resolve::Storage(e)),
        Err(e) => Err(Resolve::Bad(e.to_string())),
    }
}

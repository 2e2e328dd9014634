//! What an IMAP URL names in the user's own mail: the mailbox (checked
//! against `;UIDVALIDITY`), the message (`;UID`), and the bytes of its
//! `;SECTION` cut by `;PARTIAL`, as BODY[] or BINARY[] would give them.
//! Shared by CATENATE and URLFETCH.

use super::selected::Mbox;
use super::state::Session;
use crate::imap::codec::url_section;
use crate::imap::url::Partial;
use crate::message::section::resolve;
use crate::message::{BodyStructure, MessageError, ParsedMessage, SectionData};
use crate::storage::{AnyStore, MailStore, Mailbox, MailboxName, StorageError};

/// Why a URL names nothing; the text is what Dovecot answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartError {
    #[error("Mailbox doesn't exist: {0}")]
    NoMailbox(String),
    #[error("Invalid UIDVALIDITY")]
    UidValidity,
    #[error("Message not found")]
    NoMessage,
    #[error("Invalid section")]
    BadSection,
    #[error("Message part not found")]
    NoPart,
    #[error("Unknown Content-Transfer-Encoding")]
    UnknownEncoding,
    /// Storage failed: an internal error, not the client's.
    #[error("{0}")]
    Storage(StorageError),
}

/// The mailbox `name` of `store`, the selected one's view when it is
/// selected, checked against `uid_validity`.
pub async fn open_mailbox(
    s: &Session,
    store: &AnyStore,
    name: &str,
    uid_validity: Option<u32>,
) -> Result<Mbox, PartError> {
    let missing = || PartError::NoMailbox(name.to_string());
    let name = MailboxName::new(name.strip_suffix('/').unwrap_or(name)).map_err(|_| missing())?;
    let mbox = match s.selected.as_ref().filter(|sel| sel.name == name) {
        Some(sel) => sel.mailbox.clone(),
        None => match store.open(&name).await {
            Ok(m) => m,
            Err(StorageError::NoSuchMailbox(_) | StorageError::MailboxGone) => {
                return Err(missing());
            }
            Err(StorageError::Name(_) | StorageError::NotAllowed(_)) => return Err(missing()),
            Err(e) => return Err(PartError::Storage(e)),
        },
    };
    if uid_validity.is_some_and(|v| v != mbox.status().uidvalidity) {
        return Err(PartError::UidValidity);
    }
    Ok(mbox)
}

/// The bytes a URL names and, on request, the structure of that part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartData {
    pub bytes: Vec<u8>,
    /// RFC 5524 BODYPARTSTRUCTURE; `None` when the section is not a MIME
    /// part (HEADER, TEXT, MIME, HEADER.FIELDS).
    pub structure: Option<BodyStructure>,
}

/// How the part is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartForm {
    /// Transfer encoding undone (RFC 5524 BINARY); only for whole MIME
    /// parts.
    pub binary: bool,
    pub structure: bool,
}

/// Message `uid`'s `section` (the whole message when `None`), cut by
/// `partial`.
pub async fn read_part(
    mbox: &Mbox,
    uid: u32,
    section: Option<&str>,
    partial: Option<Partial>,
    form: PartForm,
) -> Result<PartData, PartError> {
    let section = match section {
        Some(text) => url_section(text).ok_or(PartError::BadSection)?,
        None => Default::default(),
    };
    if form.binary && section.text.is_some() {
        return Err(PartError::BadSection);
    }
    if mbox.message(uid).is_none() {
        return Err(PartError::NoMessage);
    }
    let raw = match mbox.read_message(uid).await {
        Ok(raw) => raw,
        Err(StorageError::NoSuchMessage(_)) => return Err(PartError::NoMessage),
        Err(e) => return Err(PartError::Storage(e)),
    };
    let parsed = ParsedMessage::parse(&raw);
    let data = if form.binary {
        parsed.binary(&section.part)
    } else {
        parsed.section(&section)
    }
    .map_err(|e| match e {
        MessageError::UnknownTransferEncoding => PartError::UnknownEncoding,
        _ => PartError::NoPart,
    })?;
    let data: SectionData = match partial {
        Some(p) => data.partial(u64::from(p.offset), p.length.map(u64::from)),
        None => data,
    };
    let structure = match (form.structure, &section.text) {
        (true, None) if section.part.is_empty() => Some(parsed.body_structure()),
        (true, None) => resolve(parsed.root(), &section.part)
            .ok()
            .map(|part| BodyStructure::from_part(&raw, part)),
        _ => None,
    };
    Ok(PartData {
        bytes: data.bytes(&raw).to_vec(),
        structure,
    })
}

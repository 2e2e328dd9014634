//! The storage layer's error type, converted by protocols into their answers.

use super::location::LocationError;
use super::name::NameError;
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("invalid mail location: {0}")]
    Location(#[from] LocationError),
    #[error("invalid mailbox name: {0}")]
    Name(#[from] NameError),
    #[error("mailbox {0} does not exist")]
    NoSuchMailbox(String),
    #[error("mailbox {0} already exists")]
    AlreadyExists(String),
    #[error("mailbox {0} cannot be deleted or renamed this way")]
    NotAllowed(String),
    #[error("mailbox was deleted or renamed while open")]
    MailboxGone,
    #[error("no message with UID {0}")]
    NoSuchMessage(u32),
    #[error("message UID {uid} is corrupt: {reason}")]
    CorruptMessage { uid: u32, reason: String },
    #[error("message UID {uid} uses an unsupported feature: {feature}")]
    Unsupported { uid: u32, feature: &'static str },
    #[error("too many keywords in this mailbox")]
    TooManyKeywords,
    #[error("invalid keyword {0:?}")]
    BadKeyword(String),
    #[error("message is too large")]
    MessageTooLarge,
    #[error("UID space exhausted; the mailbox needs a new UIDVALIDITY")]
    UidsExhausted,
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("internal storage error: {0}")]
    Internal(String),
}

impl StorageError {
    /// True for failures a retry may fix (I/O trouble, internal errors):
    /// LMTP answers 451, IMAP `NO [SERVERBUG]`/`[UNAVAILABLE]`. False for
    /// answers about the request itself (no such mailbox, bad name, …).
    pub fn is_temporary(&self) -> bool {
        matches!(self, StorageError::Io { .. } | StorageError::Internal(_))
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        StorageError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;

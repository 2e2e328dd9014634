//! Message parsing for IMAP: MIME tree, ENVELOPE, BODYSTRUCTURE, section
//! extraction, header lookup, SORT keys and SEARCH text matching.
//!
//! Pure code, no I/O, typed data only: the IMAP wire syntax of these
//! values is written by `imap::codec::response`. Input is the raw message (`&[u8]`, CRLF or bare LF).
//! Start with [`ParsedMessage::parse`]; the submodules hold the pieces.
//! mail-parser is used for RFC 2047 decoding, charsets, dates and HTML to
//! text; the MIME structure, addresses and parameters are parsed here
//! because IMAP needs raw, undecoded values and exact offsets.

pub mod address;
pub mod bodystructure;
pub mod cache;
pub mod envelope;
pub mod header;
pub mod mime;
pub mod parsed;
pub mod search;
pub mod section;
pub mod subject;
pub mod transfer;
pub mod tree;

pub use address::Address;
pub use bodystructure::{BodyFields, BodyStructure, Extension};
pub use cache::CachedStructure;
pub use envelope::Envelope;
pub use parsed::ParsedMessage;
pub use search::SearchKey;
pub use section::{Section, SectionData, SectionText};

/// Errors of the message layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The part number names no part (IMAP: empty data or NO).
    #[error("no such body part")]
    NoSuchPart,
    /// HEADER / TEXT / HEADER.FIELDS on a part that is not message/rfc822.
    #[error("section text needs a message/rfc822 part")]
    NotMessage,
    /// MIME without a part number.
    #[error("MIME section needs a part number")]
    MimeWithoutPart,
    /// BINARY on a part with an unknown Content-Transfer-Encoding
    /// (IMAP: `NO [UNKNOWN-CTE]`).
    #[error("unknown content-transfer-encoding")]
    UnknownTransferEncoding,
    /// A cached structure record could not be decoded (rebuild it).
    #[error("corrupt cached structure: {0}")]
    CorruptCache(&'static str),
}

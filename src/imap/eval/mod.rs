//! Pure evaluation behind SEARCH, SORT, THREAD and FETCH: the session hands
//! in message metadata (and, only when asked for, parsed content) and gets
//! back matches, orderings, thread trees and encoded FETCH responses.
//!
//! Nothing here does I/O or touches storage; every function is total over
//! its inputs.

pub mod date;
pub mod esearch;
pub mod fetch;
pub mod preview;
pub mod search;
pub mod sort;
pub mod thread;

use crate::message::ParsedMessage;
use crate::storage::types::MessageInfo;

pub use esearch::{compact_set, esearch_result, esearch_wanted, saved_result, search_response};
pub use fetch::{FetchContext, Segment, build_fetch, prepare_attributes, sets_seen};
pub use search::{SearchEnv, SearchHits, matches, may_match, search};
pub use sort::sort;
pub use thread::{thread, thread_ordered_subject, thread_references};

/// One message as the evaluators see it.
#[derive(Debug, Clone, Copy)]
pub struct MsgCtx<'m, 'r> {
    /// Message sequence number in the session's view.
    pub seq: u32,
    pub info: &'m MessageInfo,
    /// Parsed content, when the caller loaded it (see the `needs_content`
    /// functions); keys that need content and do not get it do not match.
    pub content: Option<&'m ParsedMessage<'r>>,
}

/// How much of a message an operation has to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Content {
    /// Index metadata (`MessageInfo`) is enough.
    None,
    /// The header block is enough (parse just the header bytes).
    HeaderOnly,
    /// The whole message.
    Full,
}

/// Errors of the evaluation layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// BINARY / BINARY.SIZE on a part with an unknown
    /// Content-Transfer-Encoding: answer `NO [UNKNOWN-CTE]`.
    #[error("unknown content-transfer-encoding in part {0:?}")]
    UnknownTransferEncoding(Vec<u32>),
    /// An item needed message content the caller did not provide (a caller
    /// bug: it must follow `fetch::needs_content`).
    #[error("message content was needed but not provided")]
    MissingContent,
}

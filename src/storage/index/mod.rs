//! tern's own per-mailbox index: a CRC-framed snapshot, an append-only
//! transaction log, and an independent state copy, with recovery rules.
//! Pure code, except [`disk`]: the blocking reads and writes of those
//! files every backend shares.

pub mod cache_file;
pub mod codec;
pub mod disk;
pub mod files;
pub mod recover;
pub mod state;
pub mod summary;

pub use recover::{Recovered, recover};
pub use state::{Entry, KeywordBits, MailboxState, MessageRecord, flag};
pub use summary::{Counts, LiveSummary};

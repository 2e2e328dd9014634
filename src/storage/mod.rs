//! Mail storage: the traits protocols drive, the sdbox backend (Dovecot's
//! on-disk format), tern's self-healing index, and the per-shard cache.
//!
//! Everything here runs on a shard thread: futures are `!Send`, shared state
//! is `Rc`/`RefCell`, and file I/O goes through [`blocking::run`].

pub mod blocking;
pub mod cache;
pub mod error;
pub mod guid;
pub mod index;
pub mod location;
pub mod mutf7;
pub mod name;
pub mod notify;
pub mod sdbox;
pub mod traits;
pub mod types;
pub mod user;

pub use error::{Result, StorageError};
pub use location::{MailFormat, MailLocation};
pub use name::MailboxName;
pub use traits::{MailStore, Mailbox};
pub use types::*;
pub use user::{ShardStorage, UserContext};

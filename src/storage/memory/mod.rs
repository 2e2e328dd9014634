//! A mail store held in memory, for unit tests of the protocol sessions
//! (and benches) that should need neither files nor a glommio reactor.
//!
//! It implements [`MailStore`](crate::storage::MailStore) and
//! [`Mailbox`](crate::storage::Mailbox) with sdbox's semantics, proven by
//! running the storage conformance suite on it beside sdbox, Maildir and
//! mbox: the same index state and entries (UIDVALIDITY, UIDNEXT, modseqs,
//! CONDSTORE/QRESYNC changes, keywords, `\Recent`), shared live views with
//! change notices, COPY/MOVE, RENAME (INBOX too) and DELETE rules,
//! subscriptions, special-use, and the same APPEND size limit.
//!
//! Every future it returns is ready at its first poll except
//! `wait_for_change`, which a plain waker wakes: any executor drives it,
//! `futures_lite::future::block_on` included.
//!
//! It is a plain module, not `cfg(test)`: benches and integration tests
//! (which see the library without `cfg(test)`) use it too. The server never
//! builds one: no `mail_location` maps to it, only [`MemoryStore::new`]
//! does, so it stays off the release binary's code paths.

mod change;
mod mailbox;
mod store;
#[cfg(test)]
mod tests;

pub use mailbox::MemoryMailbox;
pub use store::{MemoryOptions, MemoryStore};

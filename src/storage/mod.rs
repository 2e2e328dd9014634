//! Mail storage: the traits protocols drive, the sdbox backend (Dovecot's
//! on-disk format), tern's self-healing index, and the per-shard cache.
//!
//! Everything here runs on a shard thread: futures are `!Send`, shared state
//! is `Rc`/`RefCell`, and file I/O goes through [`blocking::run`] (batched
//! `std::fs` work on glommio's blocking pool, panics caught).
//!
//! # Using it
//! At shard start: `ShardStorage::new(cache_budget_bytes)`. After login:
//! `shard.open_user(&UserContext { user, home, mail_location })` gives a
//! store implementing [`MailStore`]; `store.open(&name)` gives a shared
//! [`Mailbox`] view (all sessions of the shard on that mailbox share it).
//!
//! # On disk (sdbox)
//! Dovecot's files, byte for byte: `mailboxes/<mUTF-7>/dbox-Mails/u.<uid>`,
//! `subscriptions`, `dovecot-uidvalidity(.XXXXXXXX)`. tern's own files sit
//! beside them: `tern.index` (snapshot), `tern.log` (append-only, the commit
//! point), `tern.state` (an independent copy of both), `tern.special-use`.
//!
//! # On disk (Maildir, mbox)
//! Dovecot's files too (`cur/new/tmp` + `dovecot-uidlist` + `dovecot-keywords`;
//! mbox files with `X-IMAPbase`/`X-UID`/status headers), and they stay
//! authoritative for UIDs, flags and keywords. `indexed::folder` adds
//! modseqs, expunge history and `\Recent` in the same `tern.*` trio (beside
//! `dovecot-uidlist`, or under mbox's `.imap/<name>/`), reconciling with
//! the mail files on every open. `ShardStorage::open_user` returns an
//! [`AnyStore`] for all three formats.
//!
//! # One indexed layer
//! Every backend's mailbox is an [`indexed::IndexedMailbox`]: it answers
//! reads from the index ([`indexed::IndexView`]), runs changes as detached
//! jobs and MOVE as COPY + EXPUNGE, and keeps name, index, summary and
//! change notices in one [`indexed::IndexCore`]. A backend implements
//! [`indexed::Backend`]: its file-level changes and reads. `indexed::folder`
//! is the backend for formats that keep flags in their own files (Maildir,
//! mbox: they implement its `FolderFormat`/`FolderLayout`); `indexed::control`
//! keeps every store's subscriptions and special-use files.
//!
//! # In memory
//! [`MemoryStore`] has the same semantics without files or a reactor (any
//! executor, `futures_lite::future::block_on` included), for session unit
//! tests and benches; [`AnyStore::Memory`] lets the protocol code run on
//! it. No `mail_location` selects it. [`indexed::IndexView`] is the read side
//! (STATUS, FETCH metadata, CHANGEDSINCE) every backend shares.
//!
//! # Guarantees
//! - A change is acknowledged only once durable: mail file written +
//!   fdatasync'd under a temp name, hard-linked to `u.<uid>` (never
//!   replacing), directory fsync'd, log entry appended + fdatasync'd.
//!   Concurrent appends to one mailbox share that commit (group commit).
//! - Every index block carries a CRC32. Losing or damaging any one of the
//!   three tern files loses nothing; losing both snapshots still keeps
//!   UIDVALIDITY, GUID, UIDNEXT, HIGHESTMODSEQ and keyword names (log
//!   header); losing everything keeps every message (rebuilt from `u.*`,
//!   new UIDVALIDITY). UIDNEXT never goes backwards within a UIDVALIDITY.
//! - First open of a store Dovecot wrote imports Dovecot's index (flags,
//!   keywords, UIDVALIDITY, GUID); `export_dovecot_index` hands it back.
//! - sdbox views that share no memory (shards, tern processes, the admin
//!   CLI) and Dovecot's tools may write one mailbox: `refresh` picks their
//!   changes up, and a commit from a view that missed a tern writer's
//!   change writes nothing, reloads and plans again (see
//!   `sdbox::disk_stamp`).

pub mod batch;
pub mod blocking;
pub mod cache;
pub mod dotlock;
pub mod error;
pub mod guid;
pub mod index;
pub mod indexed;
pub mod location;
pub mod maildir;
pub mod mbox;
pub mod memory;
pub mod mutf7;
pub mod name;
pub mod notify;
pub mod sdbox;
pub mod traits;
pub mod types;
pub mod user;

#[cfg(test)]
mod conformance;
#[cfg(test)]
pub(crate) mod dovecot_rig;
#[cfg(test)]
pub(crate) mod testing;

pub use error::{Result, StorageError};
pub use location::{MailFormat, MailLocation};
pub use memory::{MemoryMailbox, MemoryOptions, MemoryStore};
pub use name::MailboxName;
pub use traits::{MailStore, Mailbox};
pub use types::*;
pub use user::{AnyMailbox, AnyStore, ShardStorage, UserContext};

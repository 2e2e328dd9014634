//! The indexed-mailbox layer every backend shares: tern's index state read
//! through one [`view::IndexView`], one way to build a
//! [`MessageInfo`](crate::storage::MessageInfo), one keyword merge, one cut
//! of a message's wire form, and the directory helpers. Backends (sdbox,
//! the memory store, and [`folder`], the engine under Maildir and mbox)
//! keep only what is theirs: files, locks, persistence.

pub mod attributes;
pub mod control;
pub mod core;
pub mod dirs;
pub mod folder;
pub mod keywords;
pub mod mailbox;
pub mod subscriptions;
pub mod uidvalidity;
pub mod view;
pub mod wire;

pub use core::IndexCore;
pub use dirs::{create_dir_0700, unix_now};
pub use keywords::{keyword_names, kw_combine};
pub use mailbox::{Backend, IndexedMailbox, MAX_MESSAGE_BYTES, StoreRequest, acquire_write_lock};
pub use view::{IndexView, message_info};
pub use wire::wire_part;

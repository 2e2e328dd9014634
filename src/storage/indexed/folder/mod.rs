//! The engine shared by the Maildir and mbox backends.
//!
//! Both formats keep flags, keywords and UIDs in the mail files themselves
//! (file names + `dovecot-uidlist`, or mbox status headers), so the format
//! is authoritative. The engine adds what the formats lack: per-message
//! modseqs, the expunge history for QRESYNC, `\Recent`, the per-shard
//! shared view and change notices. It keeps them in tern's own index files
//! (`tern.index`, `tern.log`, `tern.state`, the same crash-safe trio sdbox
//! uses) in the folder's index directory.
//!
//! Order of every change: the format's files first (durably), then tern's
//! log. A crash in between leaves the format ahead of the log; the next open
//! reconciles (new modseqs for whatever differs), so nothing is lost.
//!
//! A backend implements [`FolderFormat`] (one mailbox, blocking calls run
//! on the blocking pool) and [`FolderLayout`] (the mailbox tree).

pub mod mailbox;
pub mod store;

use crate::storage::error::Result;
use crate::storage::guid::Guid;
use crate::storage::name::MailboxName;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use mailbox::{FolderMailbox, FolderShared};
pub use store::FolderStore;

/// One message as the format describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundMessage {
    pub uid: u32,
    pub flags: u8,
    pub keywords: Vec<String>,
    pub internal_date: i64,
    pub save_date: i64,
    /// Bytes as stored, client-visible part only (LF line ends).
    pub physical_size: u64,
    /// RFC822.SIZE (CRLF line ends).
    pub virtual_size: u64,
    pub guid: String,
    pub pop3_uidl: Option<String>,
    pub pop3_order: Option<u32>,
}

/// What a full read of the folder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderScan {
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub mailbox_guid: Option<Guid>,
    /// Ascending by UID.
    pub messages: Vec<FoundMessage>,
    /// Problems healed while reading (logged by the engine).
    pub problems: Vec<String>,
}

/// A message to save (body already with LF line ends).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub body: Vec<u8>,
    pub flags: u8,
    pub keywords: Vec<String>,
    pub internal_date: i64,
    pub guid: Option<String>,
    pub pop3_uidl: Option<String>,
    pub pop3_order: Option<u32>,
    /// mbox envelope sender for the From_ line; `None` = MAILER-DAEMON.
    pub envelope_from: Option<String>,
}

/// New flags and keywords for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagChange {
    pub uid: u32,
    pub flags: u8,
    pub keywords: Vec<String>,
}

/// One mailbox in some format. Every method blocks (file I/O, locks) and is
/// called from `blocking::run`, one at a time per mailbox and shard.
pub trait FolderFormat: Send + Sync + 'static {
    /// Where tern's index files for this mailbox live.
    fn index_dir(&self) -> PathBuf;
    /// A cheap fingerprint of the files (mtimes, sizes): when it differs
    /// from the one taken at the last scan, someone else changed the folder.
    /// Empty while a modification time is too recent to tell a further
    /// change apart (see [`settled`]): the engine then rescans each time.
    fn fingerprint(&self) -> Result<Vec<u64>>;
    /// Read the whole folder (taking ownership of new mail as the format
    /// says, assigning UIDs to unknown messages).
    fn scan(&self) -> Result<FolderScan>;
    /// Save messages durably; returns them with their UIDs.
    fn append(&self, messages: Vec<NewMessage>) -> Result<Vec<FoundMessage>>;
    /// Change flags and keywords durably.
    fn set_flags(&self, changes: &[FlagChange]) -> Result<()>;
    /// Remove messages durably.
    fn expunge(&self, uids: &[u32]) -> Result<()>;
    /// The stored message as clients see it (LF line ends, format-private
    /// headers removed).
    fn read(&self, uid: u32) -> Result<Vec<u8>>;
    /// Keywords the format can hold per mailbox.
    fn max_keywords(&self) -> usize;
    /// The file of `uid`, for formats with one file per message (COPY by
    /// hard link).
    fn message_path(&self, _uid: u32) -> Option<PathBuf> {
        None
    }
    /// Link existing files (same filesystem, same format) in as new
    /// messages. `None`: not supported; the engine reads and appends.
    fn link_in(&self, _sources: &[(PathBuf, FoundMessage)]) -> Option<Result<Vec<FoundMessage>>> {
        None
    }
}

/// A listed mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFolder {
    pub name: MailboxName,
    pub selectable: bool,
}

/// A user's mailbox tree in some format. Blocking methods.
pub trait FolderLayout: Send + Sync + 'static {
    /// Directory for `subscriptions`, `dovecot-uidvalidity`, special-use.
    fn control_dir(&self) -> PathBuf;
    /// The subscriptions file name inside `control_dir`.
    fn subscriptions_file(&self) -> &'static str;
    /// Create the root and INBOX if needed.
    fn init(&self) -> Result<()>;
    /// Reject names this layout cannot store.
    fn check_name(&self, name: &MailboxName) -> Result<()>;
    /// All mailboxes (selectable or not), any order.
    fn list(&self) -> Result<Vec<ListedFolder>>;
    fn create(&self, name: &MailboxName) -> Result<()>;
    /// Delete one mailbox (its children stay).
    fn delete(&self, name: &MailboxName) -> Result<()>;
    /// Rename a mailbox with its children (INBOX: move its mail, keep it).
    fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<()>;
    fn folder(&self, name: &MailboxName) -> Result<Arc<dyn FolderFormat>>;
    fn exists(&self, name: &MailboxName) -> bool;
}

/// How long after a change a file's modification time cannot be trusted to
/// reveal the next one: kernel timestamps are coarse (a second on some
/// filesystems), and over NFS the server's clock is not ours.
pub const SETTLE_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether every modification time (UNIX nanoseconds; 0 = file missing)
/// lies more than [`SETTLE_TIME`] in the past. Until then an outside change
/// could leave the time as it is, so a fingerprint holding it must not be
/// taken as proof that nothing changed (Dovecot's Maildir sync has the same
/// rule).
pub(crate) fn settled(mtimes_ns: &[u64]) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let limit = now.saturating_sub(SETTLE_TIME.as_nanos());
    mtimes_ns.iter().all(|&t| u128::from(t) < limit)
}

/// fsync a directory (durable renames and creates).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    crate::storage::index::disk::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_times_older_than_the_settle_time_are_trusted() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let old = now - 3 * SETTLE_TIME.as_nanos() as u64;
        assert!(settled(&[0, old]), "missing files and old times");
        assert!(!settled(&[old, now]));
        assert!(!settled(&[now + 10_000_000_000]), "a time in the future");
    }
}

//! The interfaces protocols drive. sdbox implements them now; Maildir and
//! mbox will implement the same traits.
//!
//! Futures are deliberately `!Send`: a user's mailboxes live on one shard and
//! share `Rc` state, so `async fn` in traits is used without Send bounds.
#![allow(async_fn_in_trait)]

use super::error::Result;
use super::guid::Guid;
use super::name::MailboxName;
use super::types::{
    AppendRequest, Changes, CopyResult, FlagOp, MailboxInfo, MailboxStatus, MessageInfo,
    MessagePart, SpecialUse, StoreResult, SystemFlags,
};
use crate::message::CachedStructure;

/// One user's mail store.
pub trait MailStore {
    type Mailbox: Mailbox;

    /// Every mailbox, including `\NoSelect` parents, sorted by name.
    async fn list(&self) -> Result<Vec<MailboxInfo>>;
    /// Create a mailbox (parents are created as `\NoSelect` as needed).
    async fn create(&self, name: &MailboxName) -> Result<()>;
    /// Delete a mailbox and its messages. A mailbox with children becomes
    /// `\NoSelect`. INBOX cannot be deleted.
    async fn delete(&self, name: &MailboxName) -> Result<()>;
    /// Rename a mailbox with its children. Renaming INBOX moves its messages
    /// to the new name and leaves an empty INBOX (RFC 9051 §6.3.6).
    async fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<()>;
    async fn subscriptions(&self) -> Result<Vec<MailboxName>>;
    async fn set_subscribed(&self, name: &MailboxName, subscribed: bool) -> Result<()>;
    async fn set_special_use(&self, name: &MailboxName, usage: Option<SpecialUse>) -> Result<()>;
    /// A private attribute of the mailbox with GUID `mailbox` (RFC 5464
    /// `/private/...`, e.g. its URLAUTH key); `None` when unset. Keyed by
    /// GUID: it follows a RENAME and dies with the mailbox.
    async fn private_attribute(&self, mailbox: &Guid, key: &str) -> Result<Option<Vec<u8>>>;
    /// Sets (`Some`) or removes (`None`) a private attribute, durably;
    /// `mailbox` `None` removes `key` from every mailbox. `key` holds no
    /// tab or line break.
    async fn set_private_attribute(
        &self,
        mailbox: Option<&Guid>,
        key: &str,
        value: Option<Vec<u8>>,
    ) -> Result<()>;
    /// Open (or share the already open) mailbox view.
    async fn open(&self, name: &MailboxName) -> Result<Self::Mailbox>;
}

/// A shared, live view of one mailbox. Clones share the same state; changes
/// by any holder are visible to all at once (and announced via
/// [`Mailbox::change_counter`] / [`Mailbox::wait_for_change`]).
pub trait Mailbox: Clone {
    fn name(&self) -> MailboxName;
    fn guid(&self) -> Guid;
    fn status(&self) -> MailboxStatus;
    /// Current UIDs in ascending order (sequence number = index + 1).
    fn uids(&self) -> Vec<u32>;
    /// UID of sequence number `seq` (1-based) in the current view.
    fn uid_at(&self, seq: u32) -> Option<u32>;
    /// Sequence number (1-based) of `uid` in the current view.
    fn seq_of(&self, uid: u32) -> Option<u32>;
    fn message(&self, uid: u32) -> Option<MessageInfo>;
    /// The listed UIDs that exist, in UID order (FETCH of a set).
    fn messages_by_uid(&self, uids: &[u32]) -> Vec<MessageInfo>;
    /// All messages in UID order.
    fn messages(&self) -> Vec<MessageInfo>;
    /// Keywords defined in this mailbox (for FLAGS / PERMANENTFLAGS).
    fn keywords(&self) -> Vec<String>;
    /// How many keywords are defined (keywords are only ever added, so a
    /// session notices new ones by the count without copying the list).
    fn keyword_count(&self) -> usize {
        self.keywords().len()
    }
    /// Increases on every committed change.
    fn change_counter(&self) -> u64;
    /// Resolves once the counter differs from `seen` (IDLE).
    async fn wait_for_change(&self, seen: u64) -> u64;
    fn changes_since(&self, modseq: u64) -> Changes;

    /// Append messages; returns their UIDs. All share one durable commit.
    async fn append(&self, requests: Vec<AppendRequest>) -> Result<Vec<u32>>;
    /// Change flags and keywords. `unchanged_since` is CONDSTORE's modifier.
    async fn store(
        &self,
        uids: &[u32],
        op: FlagOp,
        flags: SystemFlags,
        keywords: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<StoreResult>;
    /// Expunge the given UIDs (those that exist); returns the expunged UIDs.
    async fn expunge(&self, uids: &[u32]) -> Result<Vec<u32>>;
    async fn copy_to(&self, uids: &[u32], dest: &Self) -> Result<CopyResult>;
    async fn move_to(&self, uids: &[u32], dest: &Self) -> Result<CopyResult>;
    /// Take `\Recent` for this session (IMAP4rev1): returns the recent UIDs
    /// and clears them for everyone else.
    async fn claim_recent(&self) -> Result<Vec<u32>>;
    /// The message in wire form (CRLF), `virtual_size` bytes.
    async fn read_message(&self, uid: u32) -> Result<Vec<u8>>;
    /// A byte range of the wire form (BODY[]<start.len>); reads only as
    /// far into the file as the range needs.
    async fn read_range(&self, uid: u32, start: u64, len: u64) -> Result<Vec<u8>>;
    /// The header in wire form, through its terminating empty line
    /// (BODY[HEADER]; the whole message if it has no empty line).
    async fn read_header(&self, uid: u32) -> Result<Vec<u8>>;
    /// `part` of each of `uids`, one result per UID in the order given
    /// (`NoSuchMessage` for a UID that is not in the mailbox). Backends read
    /// the whole batch in one blocking job, so a caller fetching many
    /// messages pays one trip to the blocking pool instead of one per
    /// message; the caller bounds the batch (count and expected bytes). The
    /// outer error is for the batch as a whole (the mailbox is gone).
    async fn read_parts(&self, uids: &[u32], part: MessagePart) -> Result<Vec<Result<Vec<u8>>>> {
        let mut out = Vec::with_capacity(uids.len());
        for &uid in uids {
            out.push(match part {
                MessagePart::Whole => self.read_message(uid).await,
                MessagePart::Header => self.read_header(uid).await,
                MessagePart::Range { start, len } => self.read_range(uid, start, len).await,
            });
        }
        Ok(out)
    }
    /// ENVELOPE + BODYSTRUCTURE of `uid` from the backend's cache, parsing
    /// the message (and caching the result) on a miss. `Ok(None)` means the
    /// backend keeps no cache: the caller parses `read_message` itself.
    async fn cached_structure(&self, uid: u32) -> Result<Option<CachedStructure>> {
        let _ = uid;
        Ok(None)
    }
    /// [`Mailbox::cached_structure`] of each of `uids`, one result per UID
    /// in the order given. A backend with a cache answers hits from memory
    /// and computes all the misses in one blocking job, so a FETCH of many
    /// messages' ENVELOPE/BODYSTRUCTURE pays one pool trip per batch; the
    /// caller bounds the batch. The outer error is for the batch as a whole.
    async fn cached_structures(
        &self,
        uids: &[u32],
    ) -> Result<Vec<Result<Option<CachedStructure>>>> {
        let mut out = Vec::with_capacity(uids.len());
        for &uid in uids {
            out.push(self.cached_structure(uid).await);
        }
        Ok(out)
    }
}

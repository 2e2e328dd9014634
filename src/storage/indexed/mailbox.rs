//! The one [`Mailbox`] implementation: [`IndexedMailbox`] answers every
//! read from the index through [`IndexView`], runs every change as a
//! detached job (see [`blocking::detached`]), and leaves the backend
//! ([`Backend`]) only what touches its files: saving, flag changes,
//! expunges, copies, `\Recent`, and reading message bodies.
//!
//! sdbox, the Maildir/mbox engine and the memory store each name their
//! view `IndexedMailbox<TheirSharedState>`; their own extra methods (admin,
//! resync, mbox's envelope sender) are inherent impls on that type.
#![allow(async_fn_in_trait)]

use super::core::IndexCore;
use super::view::IndexView;
use crate::message::CachedStructure;
use crate::storage::error::{Result, StorageError};
use crate::storage::guid::Guid;
use crate::storage::name::MailboxName;
use crate::storage::traits::Mailbox;
use crate::storage::types::{
    AppendRequest, Changes, CopyResult, FlagOp, MailboxStatus, MessageInfo, MessagePart,
    StoreResult, SystemFlags,
};
use crate::storage::{batch, blocking};
use std::future::Future;
use std::rc::Rc;

/// Largest message any backend accepts for saving (APPEND, LMTP, COPY).
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024 * 1024;

/// Wait for a mailbox's write lock (one change at a time per mailbox).
pub async fn acquire_write_lock(
    lock: &glommio::sync::Semaphore,
) -> Result<glommio::sync::Permit<'_>> {
    lock.acquire_permit(1)
        .await
        .map_err(|_| StorageError::Internal("mailbox lock closed".into()))
}

/// One STORE as a backend receives it (owned: it may wait in a group).
pub struct StoreRequest {
    pub uids: Vec<u32>,
    pub op: FlagOp,
    pub flags: SystemFlags,
    pub keywords: Vec<String>,
    /// CONDSTORE's UNCHANGEDSINCE.
    pub unchanged_since: Option<u64>,
}

/// The state one mailbox's views share, and its file-level operations.
/// `mb` is the view the operation was called on (the backend reaches its
/// own state through `mb.inner`).
pub trait Backend: Sized + 'static {
    /// Name, index, summary, notifier, existence.
    fn core(&self) -> &IndexCore;

    /// How a change runs. Default: as its own task on the shard, so a
    /// caller dropping its future cannot stop it between the durable write
    /// and the in-memory update. A backend without a reactor (memory)
    /// runs it in place.
    async fn run_change<T: 'static>(op: impl Future<Output = Result<T>> + 'static) -> Result<T> {
        blocking::detached(op).await
    }

    async fn append(mb: &IndexedMailbox<Self>, requests: Vec<AppendRequest>) -> Result<Vec<u32>>;
    async fn store(mb: &IndexedMailbox<Self>, request: StoreRequest) -> Result<StoreResult>;
    async fn expunge(mb: &IndexedMailbox<Self>, uids: &[u32]) -> Result<Vec<u32>>;
    async fn copy(
        mb: &IndexedMailbox<Self>,
        uids: &[u32],
        dest: &IndexedMailbox<Self>,
    ) -> Result<CopyResult>;
    async fn claim_recent(mb: &IndexedMailbox<Self>) -> Result<Vec<u32>>;

    async fn read_message(mb: &IndexedMailbox<Self>, uid: u32) -> Result<Vec<u8>>;
    /// A header or range of one message (see [`Mailbox::read_header`],
    /// [`Mailbox::read_range`]).
    async fn read_part(mb: &IndexedMailbox<Self>, uid: u32, part: MessagePart) -> Result<Vec<u8>>;
    async fn read_parts(
        mb: &IndexedMailbox<Self>,
        uids: &[u32],
        part: MessagePart,
    ) -> Result<Vec<Result<Vec<u8>>>>;
    /// `Ok(None)`: no structure cache (the caller parses the message).
    async fn cached_structure(
        mb: &IndexedMailbox<Self>,
        uid: u32,
    ) -> Result<Option<CachedStructure>> {
        let _ = (mb, uid);
        Ok(None)
    }
    async fn cached_structures(
        mb: &IndexedMailbox<Self>,
        uids: &[u32],
    ) -> Result<Vec<Result<Option<CachedStructure>>>> {
        let mut out = Vec::with_capacity(uids.len());
        for &uid in uids {
            out.push(Self::cached_structure(mb, uid).await);
        }
        Ok(out)
    }
}

/// A session's handle on a shared mailbox. Cheap to clone; clones share
/// the state and see each other's changes at once.
pub struct IndexedMailbox<B> {
    pub(crate) inner: Rc<B>,
}

impl<B> Clone for IndexedMailbox<B> {
    fn clone(&self) -> Self {
        IndexedMailbox {
            inner: self.inner.clone(),
        }
    }
}

impl<B: Backend> IndexedMailbox<B> {
    pub(crate) fn new(inner: Rc<B>) -> Self {
        IndexedMailbox { inner }
    }

    /// Tell the store's notices of this mailbox's changes from now on.
    pub fn attach_notices(&self, notices: &Rc<crate::storage::notify::StoreNotices>) {
        self.inner.core().attach(notices);
    }

    /// The mailbox was deleted (or replaced): this view no longer changes.
    pub fn is_gone(&self) -> bool {
        self.inner.core().gone.get()
    }

    /// Same underlying mailbox?
    pub fn same_as(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn check_gone(&self) -> Result<()> {
        if self.is_gone() {
            Err(StorageError::MailboxGone)
        } else {
            Ok(())
        }
    }

    /// The index and its summary, lent to the shared read side.
    pub(crate) fn view<T>(&self, read: impl FnOnce(IndexView<'_>) -> T) -> T {
        let core = self.inner.core();
        let (state, summary) = (core.state.borrow(), core.summary.borrow());
        read(IndexView {
            state: &state,
            summary: &summary,
        })
    }

    /// Before reading `uid`'s file: the mailbox exists and indexes it.
    pub(crate) fn check_readable(&self, uid: u32) -> Result<()> {
        self.check_gone()?;
        if self.inner.core().state.borrow().position(uid).is_none() {
            return Err(StorageError::NoSuchMessage(uid));
        }
        Ok(())
    }

    /// For each listed UID, whether the index has it (a batch read skips
    /// the others).
    pub(crate) fn indexed_mask(&self, uids: &[u32]) -> Vec<bool> {
        let st = self.inner.core().state.borrow();
        uids.iter().map(|&u| st.position(u).is_some()).collect()
    }

    /// A batch read: `read` (run as one blocking job) gets the listed UIDs
    /// the index has, in order, and returns one result each; the answer has
    /// one result per listed UID (`NoSuchMessage` for the others), beside
    /// which UIDs were indexed.
    pub(crate) async fn read_indexed<F>(
        &self,
        uids: &[u32],
        read: F,
    ) -> Result<(Vec<bool>, Vec<Result<Vec<u8>>>)>
    where
        F: FnOnce(Vec<u32>) -> Vec<Result<Vec<u8>>> + Send + 'static,
    {
        self.check_gone()?;
        let indexed = self.indexed_mask(uids);
        let wanted = batch::indexed_only(uids, &indexed);
        let got = if wanted.is_empty() {
            Vec::new()
        } else {
            blocking::run(move || Ok(read(wanted))).await?
        };
        let out = batch::merge_indexed(uids, &indexed, got);
        Ok((indexed, out))
    }

    /// The listed UIDs that exist, sorted, without repeats.
    pub(crate) fn sorted_existing(&self, uids: &[u32]) -> Vec<u32> {
        self.view(|v| v.existing_sorted(uids))
    }
}

impl<B: Backend> Mailbox for IndexedMailbox<B> {
    fn name(&self) -> MailboxName {
        self.inner.core().name()
    }

    fn guid(&self) -> Guid {
        self.inner.core().state.borrow().mailbox_guid
    }

    fn status(&self) -> MailboxStatus {
        self.view(|v| v.status())
    }

    fn uids(&self) -> Vec<u32> {
        self.view(|v| v.uids())
    }

    fn uid_at(&self, seq: u32) -> Option<u32> {
        self.view(|v| v.uid_at(seq))
    }

    fn seq_of(&self, uid: u32) -> Option<u32> {
        self.view(|v| v.seq_of(uid))
    }

    fn message(&self, uid: u32) -> Option<MessageInfo> {
        self.view(|v| v.message(uid))
    }

    fn messages_by_uid(&self, uids: &[u32]) -> Vec<MessageInfo> {
        self.view(|v| v.messages_by_uid(uids))
    }

    fn messages(&self) -> Vec<MessageInfo> {
        self.view(|v| v.messages())
    }

    fn keywords(&self) -> Vec<String> {
        self.inner.core().state.borrow().keywords.clone()
    }

    fn keyword_count(&self) -> usize {
        self.inner.core().state.borrow().keywords.len()
    }

    fn change_counter(&self) -> u64 {
        self.inner.core().notifier.counter()
    }

    async fn wait_for_change(&self, seen: u64) -> u64 {
        self.inner.core().notifier.changed_since(seen).await
    }

    fn changes_since(&self, modseq: u64) -> Changes {
        self.view(|v| v.changes_since(modseq))
    }

    async fn append(&self, requests: Vec<AppendRequest>) -> Result<Vec<u32>> {
        let this = self.clone();
        B::run_change(async move { B::append(&this, requests).await }).await
    }

    async fn store(
        &self,
        uids: &[u32],
        op: FlagOp,
        flags: SystemFlags,
        keywords: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<StoreResult> {
        let this = self.clone();
        let request = StoreRequest {
            uids: uids.to_vec(),
            op,
            flags,
            keywords: keywords.to_vec(),
            unchanged_since,
        };
        B::run_change(async move { B::store(&this, request).await }).await
    }

    async fn expunge(&self, uids: &[u32]) -> Result<Vec<u32>> {
        let (this, uids) = (self.clone(), uids.to_vec());
        B::run_change(async move { B::expunge(&this, &uids).await }).await
    }

    async fn copy_to(&self, uids: &[u32], dest: &Self) -> Result<CopyResult> {
        let (this, uids, dest) = (self.clone(), uids.to_vec(), dest.clone());
        B::run_change(async move { B::copy(&this, &uids, &dest).await }).await
    }

    /// COPY, then EXPUNGE of the sources that were copied (one job).
    async fn move_to(&self, uids: &[u32], dest: &Self) -> Result<CopyResult> {
        let (this, uids, dest) = (self.clone(), uids.to_vec(), dest.clone());
        B::run_change(async move {
            let result = B::copy(&this, &uids, &dest).await?;
            let moved: Vec<u32> = result.uid_map.iter().map(|&(s, _)| s).collect();
            B::expunge(&this, &moved).await?;
            Ok(result)
        })
        .await
    }

    async fn claim_recent(&self) -> Result<Vec<u32>> {
        let this = self.clone();
        B::run_change(async move { B::claim_recent(&this).await }).await
    }

    async fn read_message(&self, uid: u32) -> Result<Vec<u8>> {
        B::read_message(self, uid).await
    }

    async fn read_range(&self, uid: u32, start: u64, len: u64) -> Result<Vec<u8>> {
        B::read_part(self, uid, MessagePart::Range { start, len }).await
    }

    async fn read_header(&self, uid: u32) -> Result<Vec<u8>> {
        B::read_part(self, uid, MessagePart::Header).await
    }

    async fn read_parts(&self, uids: &[u32], part: MessagePart) -> Result<Vec<Result<Vec<u8>>>> {
        B::read_parts(self, uids, part).await
    }

    async fn cached_structure(&self, uid: u32) -> Result<Option<CachedStructure>> {
        B::cached_structure(self, uid).await
    }

    async fn cached_structures(
        &self,
        uids: &[u32],
    ) -> Result<Vec<Result<Option<CachedStructure>>>> {
        B::cached_structures(self, uids).await
    }
}

//! An open sdbox mailbox: the shared in-memory index plus the operations
//! that change it. Every change is made durable (mail file + directory +
//! log fdatasync) before it is applied in memory and announced.
//!
//! Concurrency: all mutations of one mailbox run under its `write_lock`, so
//! UIDs and modseqs are committed in order. Reads take no lock; `RefCell`
//! borrows are never held across an await. Views that share no memory
//! (other shards, processes, Dovecot's tools) are handled by `freshness`:
//! every commit checks, under a directory `flock`, that the view has seen
//! the last tern commit, else reloads and plans again.

mod freshness;
mod group;
mod ops;
mod rebuild;
mod reload;
mod store_plan;
mod structures;

use super::disk_stamp::{self, DiskStamp, Guarded};
use super::dovecot_index::DovecotState;
use super::io::{self, LinkOutcome};
use crate::storage::blocking::{self, detached};
use crate::storage::cache::Cached;
use crate::storage::error::{Result, StorageError};
use crate::storage::index::files::entry_frame;
use crate::storage::index::state::{MAX_KEYWORDS, kw_set};
use crate::storage::index::{Entry, KeywordBits, MailboxState, MessageRecord};
use crate::storage::indexed::{IndexCore, IndexedMailbox, acquire_write_lock, unix_now};
use crate::storage::name::MailboxName;
use crate::storage::types::valid_keyword;
pub use freshness::REFRESH_INTERVAL;
use rebuild::index_bytes;
pub(crate) use rebuild::{init_index, init_index_continuing};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;
pub use structures::CACHE_COMPACT_MIN_DEAD;
use structures::StructureCache;

/// Compact the log into a new snapshot after this many committed entries.
pub const COMPACT_AFTER_ENTRIES: u32 = 2000;
pub use crate::storage::indexed::MAX_MESSAGE_BYTES;

/// What happened when the mailbox was opened (for tests, admin and logs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The index was rebuilt or reconciled with the mail files.
    pub rebuilt: bool,
    pub problems: Vec<String>,
    /// Mail files that were not in the index and were added.
    pub imported: Vec<u32>,
    /// Index records whose mail file had vanished.
    pub dropped: Vec<u32>,
}

pub struct MailboxShared {
    /// Where the mail files are; changes when the mailbox is renamed.
    dir: RefCell<PathBuf>,
    control_dir: PathBuf,
    /// `mail_attachment_dir`, for reading externalised attachments.
    attachment_dir: Option<PathBuf>,
    /// Name, index, summary, notifier, existence.
    core: IndexCore,
    /// What this view last saw on disk; every commit checks it first.
    stamp: Cell<DiskStamp>,
    /// When the disk was last checked (the refresh rate limit).
    last_check: Cell<Option<Instant>>,
    /// Dovecot's index as last imported: later imports are applied as
    /// differences from it.
    dovecot_seen: RefCell<Option<DovecotState>>,
    /// Reloads from disk and index rebuilds so far (tests, admin).
    reloads: Cell<u64>,
    rebuilds: Cell<u64>,
    write_lock: glommio::sync::Semaphore,
    since_compaction: Cell<u32>,
    report: RefCell<OpenReport>,
    /// Appends waiting for `write_lock`; the first to get it commits all.
    pending: RefCell<Vec<PendingAppend>>,
    /// Durable log commits made (group commit makes this < appends).
    commits: Cell<u64>,
    /// `tern.cache` contents (ENVELOPE/BODYSTRUCTURE), loaded on first use.
    structures: RefCell<StructureCache>,
    /// Serialises loading and compacting `tern.cache`.
    structures_lock: glommio::sync::Semaphore,
    /// Stores waiting for `write_lock`; the first to get it commits all.
    pending_stores: RefCell<Vec<store_plan::PendingStore>>,
}

/// Where a grouped append's outcome is left for its caller.
type AppendSlot = Rc<RefCell<Option<Result<Vec<u32>>>>>;

/// An append whose mail files are written and fsynced, waiting to be linked
/// in and committed (group commit: one directory fsync and one log
/// fdatasync for every append queued at that moment).
struct PendingAppend {
    temps: Vec<PathBuf>,
    recs: Vec<(MessageRecord, Vec<String>)>,
    slot: AppendSlot,
}

/// StorageError is not Clone (io::Error); group members get a copy.
fn error_copy(e: &StorageError) -> StorageError {
    match e {
        StorageError::MailboxGone => StorageError::MailboxGone,
        StorageError::UidsExhausted => StorageError::UidsExhausted,
        StorageError::TooManyKeywords => StorageError::TooManyKeywords,
        StorageError::MessageTooLarge => StorageError::MessageTooLarge,
        StorageError::BadKeyword(k) => StorageError::BadKeyword(k.clone()),
        other => StorageError::Internal(other.to_string()),
    }
}

impl Cached for MailboxShared {
    fn memory_estimate(&self) -> usize {
        self.core.memory_estimate()
            + self.structures.borrow().memory_estimate()
            + self
                .dovecot_seen
                .borrow()
                .as_ref()
                .map_or(0, |d| d.messages.len() * 64)
    }
    fn mark_gone(&self) {
        self.core.mark_gone();
    }
}

impl MailboxShared {
    /// Load (healing if needed) the mailbox whose mail files are in `dir`.
    pub(crate) async fn open(
        dir: PathBuf,
        control_dir: PathBuf,
        attachment_dir: Option<PathBuf>,
        name: MailboxName,
    ) -> Result<Rc<Self>> {
        let (d, c) = (dir.clone(), control_dir.clone());
        let loaded = blocking::run(move || reload::open(&d, &c)).await?;
        let (state, report) = (loaded.state, loaded.report);
        if report.rebuilt {
            crate::metrics::index_rebuild();
        }
        Ok(Rc::new(MailboxShared {
            dir: RefCell::new(dir),
            control_dir,
            attachment_dir,
            core: IndexCore::new(name, state),
            stamp: Cell::new(loaded.stamp),
            last_check: Cell::new(Some(Instant::now())),
            dovecot_seen: RefCell::new(loaded.dovecot),
            reloads: Cell::new(0),
            rebuilds: Cell::new(u64::from(report.rebuilt)),
            write_lock: glommio::sync::Semaphore::new(1),
            since_compaction: Cell::new(0),
            report: RefCell::new(report),
            pending: RefCell::new(Vec::new()),
            commits: Cell::new(0),
            structures: RefCell::new(StructureCache::default()),
            structures_lock: glommio::sync::Semaphore::new(1),
            pending_stores: RefCell::new(Vec::new()),
        }))
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.borrow().clone()
    }

    pub(crate) fn current_name(&self) -> MailboxName {
        self.core.name()
    }

    /// The mailbox was renamed: its files are now in `dir`, under `name`.
    /// Holders keep working on it (the caller holds the write lock, so no
    /// change is half-way through the old path).
    pub(crate) fn moved(&self, dir: PathBuf, name: MailboxName) {
        *self.dir.borrow_mut() = dir;
        self.core.rename(name);
    }

    /// Wait until no change is in flight and hold further changes off
    /// (used around directory renames and deletes).
    pub(crate) async fn quiesce(&self) -> Result<glommio::sync::Permit<'_>> {
        acquire_write_lock(&self.write_lock).await
    }
}

/// A session's handle on a shared mailbox. Cheap to clone.
pub type SdboxMailbox = IndexedMailbox<MailboxShared>;

impl SdboxMailbox {
    /// How the last open went (rebuilt? what was wrong?).
    pub fn open_report(&self) -> OpenReport {
        self.inner.report.borrow().clone()
    }

    /// Durable log commits so far (group commit shares them between appends).
    pub fn commit_count(&self) -> u64 {
        self.inner.commits.get()
    }

    /// Write a `dovecot.index` snapshot of the current state for a switch
    /// back to Dovecot (removes Dovecot's stale log and cache files).
    pub async fn export_dovecot_index(&self) -> Result<()> {
        let this = self.clone();
        detached(async move { this.export_now().await }).await
    }

    async fn export_now(&self) -> Result<()> {
        let _permit = self.lock().await?;
        // Hand over what is on disk now, not what this view last saw.
        self.reload_locked().await?;
        let bytes =
            super::dovecot_export::snapshot(&self.inner.core.state.borrow(), unix_now() as u32);
        let dir = self.inner.dir();
        let (dovecot_log, seen) =
            blocking::run(move || reload::export_dovecot(&dir, &bytes)).await?;
        let mut stamp = self.inner.stamp.get();
        stamp.dovecot_log = dovecot_log;
        self.inner.stamp.set(stamp);
        *self.inner.dovecot_seen.borrow_mut() = seen;
        Ok(())
    }

    /// Re-read the directory and rewrite the index (`force-resync`).
    pub async fn force_resync(&self) -> Result<OpenReport> {
        let this = self.clone();
        detached(async move { this.force_resync_now().await }).await
    }

    async fn force_resync_now(&self) -> Result<OpenReport> {
        let _permit = self.lock().await?;
        self.rebuild_locked(vec!["force-resync requested".into()])
            .await
    }

    /// Compact now, as a commit past the threshold would.
    #[cfg(test)]
    pub(crate) async fn compact_now_for_test(&self) -> Result<()> {
        let _permit = self.lock().await?;
        self.compact_locked().await
    }

    async fn lock(&self) -> Result<glommio::sync::Permit<'_>> {
        let permit = acquire_write_lock(&self.inner.write_lock).await?;
        self.check_gone()?;
        Ok(permit)
    }

    /// Durably commit entries planned against the current state (caller
    /// holds the lock), then apply and announce. False: another writer
    /// committed first, nothing was written; reload and plan again (see
    /// [`Self::commit_planned`]).
    ///
    /// Expunged messages' files are unlinked in the same locked job, so a
    /// reader holding the lock never sees a committed expunge with its file
    /// still there, which it could not tell from a UID Dovecot reused.
    async fn try_commit_locked(&self, entries: Vec<Entry>) -> Result<bool> {
        if entries.is_empty() {
            return Ok(true);
        }
        let bytes: Vec<u8> = entries.iter().flat_map(entry_frame).collect();
        let expunged: Vec<u32> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Expunge { uids, .. } => Some(uids.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect();
        let dir = self.inner.dir();
        let expected = self.inner.stamp.get();
        let outcome = blocking::run(move || {
            disk_stamp::write_guarded(&dir, &expected, || {
                io::append_entries(&dir, &bytes)?;
                io::unlink_messages(&dir, &expunged);
                Ok(())
            })
        })
        .await;
        match outcome {
            Ok(Guarded::Done((), stamp)) => {
                self.inner.stamp.set(stamp);
                self.inner.commits.set(self.inner.commits.get() + 1);
                self.apply_committed(&entries);
                self.maybe_compact_locked().await?;
                Ok(true)
            }
            Ok(Guarded::Stale) => Ok(false),
            Err(e) => Err(self.recover_from_failed_commit(e).await),
        }
    }

    /// Plan entries with `plan`, commit them; when another writer got there
    /// first, reload and plan again from what is on disk now. A stale view
    /// therefore never commits over (or compacts away) changes it has not
    /// seen, and acts only on messages it knows.
    async fn commit_planned<T>(
        &self,
        mut plan: impl FnMut(&Self) -> Result<(Vec<Entry>, T)>,
    ) -> Result<T> {
        for _ in 0..freshness::STALE_RETRIES {
            let (entries, out) = plan(self)?;
            if self.try_commit_locked(entries).await? {
                return Ok(out);
            }
            self.reload_locked().await?;
        }
        Err(freshness::busy())
    }

    fn apply_committed(&self, entries: &[Entry]) {
        let n = self
            .inner
            .since_compaction
            .get()
            .saturating_add(entries.len() as u32);
        self.inner.since_compaction.set(n);
        self.inner.core.apply(entries);
    }

    /// Compact when the log has grown enough. The change that triggered it
    /// is already durable, so a failure here is logged, not returned.
    async fn maybe_compact_locked(&self) -> Result<()> {
        // Rewriting the snapshot costs O(messages): for big mailboxes wait
        // until the log holds a fair fraction of that.
        let records = self.inner.core.state.borrow().records.len();
        let threshold = COMPACT_AFTER_ENTRIES.max(u32::try_from(records / 4).unwrap_or(u32::MAX));
        if self.inner.since_compaction.get() >= threshold
            && let Err(e) = self.compact_locked().await
        {
            tracing::warn!(dir = %self.inner.dir().display(), error = %e, "index compaction failed");
        }
        Ok(())
    }

    /// Rewrite all three index files from memory (caller holds the lock).
    /// Skipped when another writer committed since this view last looked:
    /// a stale snapshot would erase that writer's changes.
    async fn compact_locked(&self) -> Result<()> {
        let mut next = self.inner.core.state.borrow().clone();
        next.generation += 1;
        let (i, l, s) = index_bytes(&next);
        let dir = self.inner.dir();
        let expected = self.inner.stamp.get();
        let outcome = blocking::run(move || {
            disk_stamp::write_guarded(&dir, &expected, || {
                io::write_index_files(&dir, &i, &l, &s).map(|_| ())
            })
        })
        .await?;
        match outcome {
            Guarded::Done((), stamp) => {
                self.inner.stamp.set(stamp);
                self.inner.core.state.borrow_mut().generation = next.generation;
                self.inner.since_compaction.set(0);
            }
            Guarded::Stale => {
                tracing::debug!(dir = %self.inner.dir().display(),
                    "compaction skipped: another writer changed the index");
            }
        }
        Ok(())
    }

    /// A commit failed part-way and its partial frame could not be cut off
    /// the log, where it would hide later entries. Rewrite the files from
    /// memory (which never saw the failed change) so the next commit starts
    /// clean.
    async fn recover_from_failed_commit(&self, e: StorageError) -> StorageError {
        if let Err(again) = self.compact_locked().await {
            tracing::warn!(dir = %self.inner.dir().display(), error = %again,
                "could not rewrite the index after a failed commit");
        }
        e
    }

    /// Reconcile the index with the mail files and rewrite it (caller
    /// holds the lock), starting from what is on disk now.
    async fn rebuild_locked(&self, problems: Vec<String>) -> Result<OpenReport> {
        for _ in 0..freshness::STALE_RETRIES {
            let prior = self.inner.core.state.borrow().clone();
            let dir = self.inner.dir();
            let control = self.inner.control_dir.clone();
            let dovecot = self.inner.dovecot_seen.borrow().clone();
            let expected = self.inner.stamp.get();
            let report = OpenReport {
                problems: problems.clone(),
                ..Default::default()
            };
            let outcome = blocking::run(move || {
                reload::rebuild_guarded(&dir, &control, prior, report, dovecot.as_ref(), &expected)
            })
            .await?;
            match outcome {
                Guarded::Done((state, report), stamp) => {
                    self.install_rebuilt(state, report.clone(), stamp);
                    return Ok(report);
                }
                Guarded::Stale => {
                    self.reload_locked().await?;
                }
            }
        }
        Err(freshness::busy())
    }

    /// Take a freshly rebuilt (and written) index as this view's state.
    fn install_rebuilt(&self, state: MailboxState, report: OpenReport, stamp: DiskStamp) {
        self.inner.core.replace(state);
        self.inner.stamp.set(stamp);
        self.inner.since_compaction.set(0);
        self.inner.rebuilds.set(self.inner.rebuilds.get() + 1);
        crate::metrics::index_rebuild();
        *self.inner.report.borrow_mut() = report;
        self.cache_reset();
        self.inner.core.announce();
    }

    /// Keyword entries to define `names`, and their bit indexes.
    fn keyword_bits(
        state: &MailboxState,
        names: &[String],
        entries: &mut Vec<Entry>,
    ) -> Result<KeywordBits> {
        let mut known: Vec<String> = state.keywords.clone();
        let mut bits = KeywordBits::new();
        for k in names {
            if !valid_keyword(k) {
                return Err(StorageError::BadKeyword(k.clone()));
            }
            let idx = match known.iter().position(|x| x.eq_ignore_ascii_case(k)) {
                Some(i) => i,
                None => {
                    if known.len() >= MAX_KEYWORDS {
                        return Err(StorageError::TooManyKeywords);
                    }
                    known.push(k.clone());
                    entries.push(Entry::Keyword(k.clone()));
                    known.len() - 1
                }
            };
            kw_set(&mut bits, idx, true);
        }
        Ok(bits)
    }

    /// Link prepared temp files in as new messages (caller holds the lock).
    /// `recs` carry everything but uid/modseq; keyword names are per message.
    async fn link_new_locked(
        &self,
        temps: Vec<PathBuf>,
        recs: Vec<(MessageRecord, Vec<String>)>,
    ) -> Result<Vec<u32>> {
        // Temps written before a rename of the mailbox moved with it.
        let here = self.inner.dir();
        let temps: Vec<PathBuf> = temps
            .into_iter()
            .map(|t| match t.file_name() {
                Some(file) if t.parent() != Some(here.as_path()) => here.join(file),
                _ => t,
            })
            .collect();
        let mut collided = false;
        for _ in 0..freshness::STALE_RETRIES {
            let (entries, uids) = {
                let st = self.inner.core.state.borrow();
                let mut entries = Vec::new();
                let mut all_names: Vec<String> =
                    recs.iter().flat_map(|(_, k)| k.iter().cloned()).collect();
                all_names.dedup();
                Self::keyword_bits(&st, &all_names, &mut entries)?;
                let mut known = st.keywords.clone();
                for e in &entries {
                    if let Entry::Keyword(k) = e {
                        known.push(k.clone());
                    }
                }
                let first = st.uidnext;
                if u64::from(first) + recs.len() as u64 >= u64::from(u32::MAX) {
                    return Err(StorageError::UidsExhausted);
                }
                let modseq = st.highest_modseq + 1;
                let mut uids = Vec::with_capacity(recs.len());
                for (i, (rec, names)) in recs.iter().enumerate() {
                    let mut rec = rec.clone();
                    rec.uid = first + i as u32;
                    rec.modseq = modseq;
                    rec.keywords = KeywordBits::new();
                    for n in names {
                        if let Some(idx) = known.iter().position(|x| x.eq_ignore_ascii_case(n)) {
                            kw_set(&mut rec.keywords, idx, true);
                        }
                    }
                    uids.push(rec.uid);
                    entries.push(Entry::Append(rec));
                }
                (entries, uids)
            };
            let bytes: Vec<u8> = entries.iter().flat_map(entry_frame).collect();
            let dir = self.inner.dir();
            let expected = self.inner.stamp.get();
            let (t, u) = (temps.clone(), uids.clone());
            let outcome = blocking::run(move || {
                disk_stamp::write_guarded(&dir, &expected, || {
                    io::link_and_commit(&dir, &t, &u, &bytes)
                })
            })
            .await;
            match outcome {
                Ok(Guarded::Done(LinkOutcome::Done, stamp)) => {
                    self.inner.stamp.set(stamp);
                    self.inner.commits.set(self.inner.commits.get() + 1);
                    self.apply_committed(&entries);
                    self.maybe_compact_locked().await?;
                    return Ok(uids);
                }
                Ok(Guarded::Stale) => {
                    // Another tern writer committed: take its changes (its
                    // UIDs among them) and plan again.
                    if let Err(e) = self.reload_locked().await {
                        self.discard_temps(temps).await;
                        return Err(e);
                    }
                }
                Ok(Guarded::Done(LinkOutcome::Collision(uid), _)) if !collided => {
                    // A writer that does not use tern's log (Dovecot) took
                    // the UID: resync with the directory.
                    collided = true;
                    tracing::warn!(dir = %self.inner.dir().display(), uid,
                        "mail file already exists for a new UID; resyncing the index with the directory");
                    if let Err(e) = self
                        .rebuild_locked(vec![format!("u.{uid} existed before it was saved")])
                        .await
                    {
                        self.discard_temps(temps).await;
                        return Err(e);
                    }
                }
                Ok(Guarded::Done(LinkOutcome::Collision(uid), _)) => {
                    self.discard_temps(temps).await;
                    return Err(StorageError::Internal(format!(
                        "u.{uid} still collides after a resync"
                    )));
                }
                Err(e) => {
                    self.discard_temps(temps).await;
                    return Err(self.recover_from_failed_commit(e).await);
                }
            }
        }
        self.discard_temps(temps).await;
        Err(freshness::busy())
    }

    async fn discard_temps(&self, temps: Vec<PathBuf>) {
        let _ = blocking::run(move || {
            io::remove_all(&temps);
            Ok(())
        })
        .await;
    }
}

//! An open sdbox mailbox: the shared in-memory index plus the operations
//! that change it. Every change is made durable (mail file + directory +
//! log fdatasync) before it is applied in memory and announced.
//!
//! Concurrency: all mutations of one mailbox run under its `write_lock`, so
//! UIDs and modseqs are committed in order. Reads take no lock; `RefCell`
//! borrows are never held across an await.

use super::dbox_file::{self, DboxMetadata};
use super::dovecot_index::{self, DovecotState};
use super::io::{self, Journal, LinkOutcome};
use super::uidvalidity;
use crate::storage::blocking;
use crate::storage::cache::Cached;
use crate::storage::error::{Result, StorageError};
use crate::storage::guid::{self, Guid};
use crate::storage::index::files::{
    INDEX_MAGIC, LogHeader, STATE_MAGIC, encode_log_header, encode_snapshot, entry_frame,
};
use crate::storage::index::state::{MAX_KEYWORDS, kw_has, kw_set};
use crate::storage::index::{Entry, KeywordBits, MailboxState, MessageRecord, Recovered, recover};
use crate::storage::name::MailboxName;
use crate::storage::notify::ChangeNotifier;
use crate::storage::traits::Mailbox;
use crate::storage::types::{
    AppendRequest, Changes, CopyResult, FlagOp, MailboxStatus, MessageInfo, StoreResult,
    SystemFlags, valid_keyword,
};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Compact the log into a new snapshot after this many committed entries.
pub const COMPACT_AFTER_ENTRIES: u32 = 2000;
/// Largest message accepted for saving.
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024 * 1024;

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
    dir: PathBuf,
    control_dir: PathBuf,
    name: RefCell<MailboxName>,
    state: RefCell<MailboxState>,
    journal: RefCell<Arc<Journal>>,
    write_lock: glommio::sync::Semaphore,
    notifier: ChangeNotifier,
    gone: Cell<bool>,
    since_compaction: Cell<u32>,
    report: RefCell<OpenReport>,
    /// Appends waiting for `write_lock`; the first to get it commits all.
    pending: RefCell<Vec<PendingAppend>>,
    /// Durable log commits made (group commit makes this < appends).
    commits: Cell<u64>,
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
        self.state.borrow().memory_estimate()
    }
    fn mark_gone(&self) {
        self.gone.set(true);
        self.notifier.bump();
    }
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn index_bytes(state: &MailboxState) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let log = encode_log_header(&LogHeader {
        base_generation: state.generation,
        uidvalidity: state.uidvalidity,
        mailbox_guid: state.mailbox_guid,
    });
    (
        encode_snapshot(state, INDEX_MAGIC),
        log,
        encode_snapshot(state, STATE_MAGIC),
    )
}

/// Write a fresh index for a new, empty mailbox (blocking).
pub(crate) fn init_index(dir: &Path, control_dir: &Path) -> Result<()> {
    let uidv = uidvalidity::allocate(control_dir, unix_now() as u32)?;
    let state = MailboxState::new(uidv, guid::new_guid());
    let (i, l, s) = index_bytes(&state);
    io::write_index_files(dir, &i, &l, &s).map(|_| ())
}

/// Bring `state` in line with the mail files on disk (blocking).
fn reconcile(dir: &Path, state: &mut MailboxState, report: &mut OpenReport) -> Result<()> {
    let uids = io::list_uids(dir)?;
    let missing: Vec<u32> = state
        .records
        .iter()
        .map(|r| r.uid)
        .filter(|u| uids.binary_search(u).is_err())
        .collect();
    if !missing.is_empty() {
        let modseq = state.highest_modseq + 1;
        state.apply(&Entry::Expunge {
            modseq,
            uids: missing.clone(),
        });
        report.dropped = missing;
    }
    let mut leftovers = Vec::new();
    let expunged: std::collections::HashSet<u32> = state.expunged.iter().map(|&(u, _)| u).collect();
    for uid in uids {
        if state.position(uid).is_some() {
            continue;
        }
        if uid < state.uidnext && expunged.contains(&uid) {
            // Expunge committed but the unlink never happened (crash).
            leftovers.push(uid);
            continue;
        }
        match io::read_record(dir, uid, state.highest_modseq + 1) {
            Ok(rec) => {
                state.apply(&Entry::Append(rec));
                report.imported.push(uid);
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), uid, error = %e, "skipping unreadable mail file")
            }
        }
    }
    io::unlink_messages(dir, &leftovers);
    Ok(())
}

/// Flags, keywords, UIDVALIDITY and GUID from Dovecot's own index, for the
/// first open of a mailbox Dovecot wrote (blocking).
fn import_dovecot(dir: &Path) -> Option<DovecotState> {
    let read = |n: &str| std::fs::read(dir.join(n)).ok();
    let (i, l, l2) = (
        read(dovecot_index::INDEX_FILE),
        read(dovecot_index::LOG_FILE),
        read(dovecot_index::LOG2_FILE),
    );
    dovecot_index::import(i.as_deref(), l.as_deref(), l2.as_deref())
}

/// Rebuild from whatever state survived plus the mail files, then write all
/// three index files (blocking). With no tern state at all, Dovecot's index
/// (if any) supplies what the mail files cannot: flags, keywords,
/// UIDVALIDITY, UIDNEXT and the mailbox GUID.
fn rebuild(
    dir: &Path,
    control_dir: &Path,
    prior: Option<MailboxState>,
    first_open: bool,
    mut report: OpenReport,
) -> Result<(MailboxState, Journal, OpenReport)> {
    let mut dovecot = None;
    let mut state = match prior {
        Some(s) => s,
        None => {
            dovecot = if first_open {
                import_dovecot(dir)
            } else {
                None
            };
            match &dovecot {
                Some(d) => {
                    let mut s = MailboxState::new(
                        d.uidvalidity,
                        d.mailbox_guid.unwrap_or_else(guid::new_guid),
                    );
                    s.uidnext = d.next_uid;
                    s.keywords = d.keywords.iter().take(MAX_KEYWORDS).cloned().collect();
                    s
                }
                None => {
                    let uidv = uidvalidity::allocate(control_dir, unix_now() as u32)?;
                    MailboxState::new(uidv, guid::new_guid())
                }
            }
        }
    };
    reconcile(dir, &mut state, &mut report)?;
    if let Some(d) = dovecot {
        for rec in &mut state.records {
            if let Some((flags, kws)) = d.messages.get(&rec.uid) {
                rec.flags = flags & 0x1f;
                for &k in kws.iter().filter(|&&k| k < MAX_KEYWORDS) {
                    kw_set(&mut rec.keywords, k, true);
                }
            }
        }
        report
            .problems
            .push("imported flags and keywords from Dovecot's index".into());
    }
    state.generation += 1;
    report.rebuilt = true;
    let (i, l, s) = index_bytes(&state);
    let journal = io::write_index_files(dir, &i, &l, &s)?;
    Ok((state, journal, report))
}

impl MailboxShared {
    /// Load (healing if needed) the mailbox whose mail files are in `dir`.
    pub(crate) async fn open(
        dir: PathBuf,
        control_dir: PathBuf,
        name: MailboxName,
    ) -> Result<Rc<Self>> {
        let d = dir.clone();
        let c = control_dir.clone();
        let (state, journal, report) = blocking::run(move || {
            let files = io::load_index_files(&d)?;
            let all_missing = files.index.is_none() && files.log.is_none() && files.state.is_none();
            let rec = recover(files.index.as_deref(), files.log.as_deref(), files.state.as_deref());
            let rec = match rec {
                Recovered { state: Some(state), clean: true, .. } => {
                    let journal = io::open_journal(&d)?;
                    return Ok((state, journal, OpenReport::default()));
                }
                other => other,
            };
            if all_missing {
                tracing::info!(dir = %d.display(), "no tern index yet; building it from the mail files");
            } else {
                tracing::warn!(dir = %d.display(), problems = %rec.problems.join("; "),
                    "tern index damaged; rebuilding from the mail files");
            }
            let report = OpenReport { problems: rec.problems, ..Default::default() };
            rebuild(&d, &c, rec.state, all_missing, report)
        })
        .await?;
        Ok(Rc::new(MailboxShared {
            dir,
            control_dir,
            name: RefCell::new(name),
            state: RefCell::new(state),
            journal: RefCell::new(Arc::new(journal)),
            write_lock: glommio::sync::Semaphore::new(1),
            notifier: ChangeNotifier::default(),
            gone: Cell::new(false),
            since_compaction: Cell::new(0),
            report: RefCell::new(report),
            pending: RefCell::new(Vec::new()),
            commits: Cell::new(0),
        }))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A session's handle on a shared mailbox. Cheap to clone.
#[derive(Clone)]
pub struct SdboxMailbox {
    inner: Rc<MailboxShared>,
}

impl SdboxMailbox {
    pub(crate) fn new(inner: Rc<MailboxShared>) -> Self {
        SdboxMailbox { inner }
    }

    /// How the last open went (rebuilt? what was wrong?).
    pub fn open_report(&self) -> OpenReport {
        self.inner.report.borrow().clone()
    }

    /// Durable log commits so far (group commit shares them between appends).
    pub fn commit_count(&self) -> u64 {
        self.inner.commits.get()
    }

    pub fn is_gone(&self) -> bool {
        self.inner.gone.get()
    }

    /// Same underlying mailbox?
    pub fn same_as(&self, other: &SdboxMailbox) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// Write a `dovecot.index` snapshot of the current state for a switch
    /// back to Dovecot (removes Dovecot's stale log and cache files).
    pub async fn export_dovecot_index(&self) -> Result<()> {
        let _permit = self.lock().await?;
        let bytes = super::dovecot_export::snapshot(&self.inner.state.borrow(), unix_now() as u32);
        let dir = self.inner.dir.clone();
        blocking::run(move || io::export_dovecot_index(&dir, &bytes)).await
    }

    /// Re-read the directory and rewrite the index (`force-resync`).
    pub async fn force_resync(&self) -> Result<OpenReport> {
        let _permit = self.lock().await?;
        self.rebuild_locked(vec!["force-resync requested".into()])
            .await
    }

    fn check_gone(&self) -> Result<()> {
        if self.inner.gone.get() {
            Err(StorageError::MailboxGone)
        } else {
            Ok(())
        }
    }

    async fn lock(&self) -> Result<glommio::sync::Permit<'_>> {
        let permit = self
            .inner
            .write_lock
            .acquire_permit(1)
            .await
            .map_err(|_| StorageError::Internal("mailbox lock closed".into()))?;
        self.check_gone()?;
        Ok(permit)
    }

    fn info(&self, state: &MailboxState, rec: &MessageRecord) -> MessageInfo {
        MessageInfo {
            uid: rec.uid,
            flags: SystemFlags(rec.flags),
            keywords: state
                .keywords
                .iter()
                .enumerate()
                .filter(|(i, _)| kw_has(&rec.keywords, *i))
                .map(|(_, k)| k.clone())
                .collect(),
            recent: rec.uid >= state.first_recent_uid,
            modseq: rec.modseq,
            internal_date: rec.internal_date,
            save_date: rec.save_date,
            physical_size: rec.physical_size,
            virtual_size: rec.virtual_size,
            guid: rec.guid.clone(),
            pop3_uidl: rec.pop3_uidl.clone(),
            pop3_order: rec.pop3_order,
        }
    }

    /// Durably commit entries (caller holds the lock), then apply and announce.
    async fn commit_locked(&self, entries: Vec<Entry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = entries.iter().flat_map(entry_frame).collect();
        let journal = self.inner.journal.borrow().clone();
        let dir = self.inner.dir.clone();
        if let Err(e) = blocking::run(move || io::commit(&dir, &journal, &bytes)).await {
            return Err(self.recover_from_failed_commit(e).await);
        }
        self.inner.commits.set(self.inner.commits.get() + 1);
        self.apply_committed(&entries);
        self.maybe_compact_locked().await
    }

    fn apply_committed(&self, entries: &[Entry]) {
        {
            let mut st = self.inner.state.borrow_mut();
            for e in entries {
                st.apply(e);
            }
        }
        let n = self
            .inner
            .since_compaction
            .get()
            .saturating_add(entries.len() as u32);
        self.inner.since_compaction.set(n);
        self.inner.notifier.bump();
    }

    /// Compact when the log has grown enough. The change that triggered it
    /// is already durable, so a failure here is logged, not returned.
    async fn maybe_compact_locked(&self) -> Result<()> {
        // Rewriting the snapshot costs O(messages): for big mailboxes wait
        // until the log holds a fair fraction of that.
        let records = self.inner.state.borrow().records.len();
        let threshold = COMPACT_AFTER_ENTRIES.max(u32::try_from(records / 4).unwrap_or(u32::MAX));
        if self.inner.since_compaction.get() >= threshold
            && let Err(e) = self.compact_locked().await
        {
            tracing::warn!(dir = %self.inner.dir.display(), error = %e, "index compaction failed");
        }
        Ok(())
    }

    /// Rewrite all three index files from memory (caller holds the lock).
    async fn compact_locked(&self) -> Result<()> {
        let mut next = self.inner.state.borrow().clone();
        next.generation += 1;
        let (i, l, s) = index_bytes(&next);
        let dir = self.inner.dir.clone();
        let journal = blocking::run(move || io::write_index_files(&dir, &i, &l, &s)).await?;
        self.inner.state.borrow_mut().generation = next.generation;
        *self.inner.journal.borrow_mut() = Arc::new(journal);
        self.inner.since_compaction.set(0);
        Ok(())
    }

    /// A commit failed part-way: the log may end in a partial frame that
    /// would hide later entries. Rewrite the files from memory (which never
    /// saw the failed change) so the next commit starts clean.
    async fn recover_from_failed_commit(&self, e: StorageError) -> StorageError {
        if let Err(again) = self.compact_locked().await {
            tracing::warn!(dir = %self.inner.dir.display(), error = %again,
                "could not rewrite the index after a failed commit");
        }
        e
    }

    async fn rebuild_locked(&self, problems: Vec<String>) -> Result<OpenReport> {
        let prior = self.inner.state.borrow().clone();
        let dir = self.inner.dir.clone();
        let control = self.inner.control_dir.clone();
        let report = OpenReport {
            problems,
            ..Default::default()
        };
        let (state, journal, report) =
            blocking::run(move || rebuild(&dir, &control, Some(prior), false, report)).await?;
        *self.inner.state.borrow_mut() = state;
        *self.inner.journal.borrow_mut() = Arc::new(journal);
        self.inner.since_compaction.set(0);
        *self.inner.report.borrow_mut() = report.clone();
        self.inner.notifier.bump();
        Ok(report)
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
        for attempt in 0..2 {
            let (entries, uids) = {
                let st = self.inner.state.borrow();
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
            let journal = self.inner.journal.borrow().clone();
            let dir = self.inner.dir.clone();
            let (t, u) = (temps.clone(), uids.clone());
            let outcome =
                blocking::run(move || io::link_and_commit(&dir, &t, &u, &journal, &bytes)).await;
            match outcome {
                Ok(LinkOutcome::Done) => {
                    self.inner.commits.set(self.inner.commits.get() + 1);
                    self.apply_committed(&entries);
                    self.maybe_compact_locked().await?;
                    return Ok(uids);
                }
                Ok(LinkOutcome::Collision(uid)) if attempt == 0 => {
                    tracing::warn!(dir = %self.inner.dir.display(), uid,
                        "mail file already exists for a new UID; resyncing the index with the directory");
                    self.rebuild_locked(vec![format!("u.{uid} existed before it was saved")])
                        .await?;
                }
                Ok(LinkOutcome::Collision(uid)) => {
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
        Err(StorageError::Internal("unreachable append retry".into()))
    }

    async fn discard_temps(&self, temps: Vec<PathBuf>) {
        let _ = blocking::run(move || {
            io::remove_all(&temps);
            Ok(())
        })
        .await;
    }

    fn sorted_existing(&self, uids: &[u32]) -> Vec<u32> {
        let st = self.inner.state.borrow();
        let mut v: Vec<u32> = uids
            .iter()
            .copied()
            .filter(|&u| st.position(u).is_some())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn kw_combine(a: &KeywordBits, b: &KeywordBits, op: FlagOp) -> KeywordBits {
    let n = a.len().max(b.len());
    let mut out = KeywordBits::new();
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        out.push(match op {
            FlagOp::Add => x | y,
            FlagOp::Remove => x & !y,
            FlagOp::Replace => y,
        });
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

impl Mailbox for SdboxMailbox {
    fn name(&self) -> MailboxName {
        self.inner.name.borrow().clone()
    }

    fn guid(&self) -> Guid {
        self.inner.state.borrow().mailbox_guid
    }

    fn status(&self) -> MailboxStatus {
        let st = self.inner.state.borrow();
        let mut s = MailboxStatus {
            messages: st.records.len() as u32,
            uidnext: st.uidnext,
            uidvalidity: st.uidvalidity,
            highest_modseq: st.highest_modseq,
            ..Default::default()
        };
        for r in &st.records {
            s.recent += u32::from(r.uid >= st.first_recent_uid);
            s.unseen += u32::from(r.flags & SystemFlags::SEEN.0 == 0);
            s.deleted += u32::from(r.flags & SystemFlags::DELETED.0 != 0);
            s.size += r.virtual_size;
        }
        s
    }

    fn uids(&self) -> Vec<u32> {
        self.inner
            .state
            .borrow()
            .records
            .iter()
            .map(|r| r.uid)
            .collect()
    }

    fn uid_at(&self, seq: u32) -> Option<u32> {
        let idx = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.inner.state.borrow().records.get(idx).map(|r| r.uid)
    }

    fn seq_of(&self, uid: u32) -> Option<u32> {
        self.inner
            .state
            .borrow()
            .position(uid)
            .map(|i| i as u32 + 1)
    }

    fn messages_by_uid(&self, uids: &[u32]) -> Vec<MessageInfo> {
        let st = self.inner.state.borrow();
        let mut sorted = uids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sorted
            .into_iter()
            .filter_map(|u| st.record(u))
            .map(|r| self.info(&st, r))
            .collect()
    }

    fn message(&self, uid: u32) -> Option<MessageInfo> {
        let st = self.inner.state.borrow();
        st.record(uid).map(|r| self.info(&st, r))
    }

    fn messages(&self) -> Vec<MessageInfo> {
        let st = self.inner.state.borrow();
        st.records.iter().map(|r| self.info(&st, r)).collect()
    }

    fn keywords(&self) -> Vec<String> {
        self.inner.state.borrow().keywords.clone()
    }

    fn change_counter(&self) -> u64 {
        self.inner.notifier.counter()
    }

    async fn wait_for_change(&self, seen: u64) -> u64 {
        self.inner.notifier.changed_since(seen).await
    }

    fn changes_since(&self, modseq: u64) -> Changes {
        let st = self.inner.state.borrow();
        Changes {
            highest_modseq: st.highest_modseq,
            changed: st
                .records
                .iter()
                .filter(|r| r.modseq > modseq)
                .map(|r| self.info(&st, r))
                .collect(),
            expunged: st
                .expunged
                .iter()
                .filter(|&&(_, m)| m > modseq)
                .map(|&(u, _)| u)
                .collect(),
            expunged_complete: modseq >= st.expunge_floor,
        }
    }

    async fn append(&self, requests: Vec<AppendRequest>) -> Result<Vec<u32>> {
        self.check_gone()?;
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let now = unix_now();
        let mut files = Vec::with_capacity(requests.len());
        let mut recs = Vec::with_capacity(requests.len());
        for req in requests {
            if req.message.len() > MAX_MESSAGE_BYTES {
                return Err(StorageError::MessageTooLarge);
            }
            for k in &req.keywords {
                if !valid_keyword(k) {
                    return Err(StorageError::BadKeyword(k.clone()));
                }
            }
            let body = dbox_file::to_lf(&req.message);
            let vsize = dbox_file::virtual_size(&body);
            let guid = req.guid.unwrap_or_else(|| guid::to_hex(&guid::new_guid()));
            let internal = req.internal_date.unwrap_or(now);
            let meta = DboxMetadata {
                guid: Some(guid.clone()),
                received: Some(internal),
                virtual_size: Some(vsize),
                pop3_uidl: req.pop3_uidl.clone(),
                pop3_order: req.pop3_order,
                ..Default::default()
            };
            let bytes = dbox_file::encode(&body, &meta, now.max(0) as u64);
            let body_offset = dbox_file::parse_header(&bytes)
                .map(|h| h.body_offset as u32)
                .unwrap_or(0);
            recs.push((
                MessageRecord {
                    uid: 0,
                    flags: req.flags.0 & SystemFlags(0x1f).0,
                    keywords: KeywordBits::new(),
                    modseq: 0,
                    internal_date: internal,
                    save_date: now,
                    physical_size: body.len() as u64,
                    virtual_size: vsize,
                    body_offset,
                    guid,
                    pop3_uidl: req.pop3_uidl,
                    pop3_order: req.pop3_order,
                },
                req.keywords,
            ));
            files.push(bytes);
        }
        let dir = self.inner.dir.clone();
        let temps = blocking::run(move || io::write_temps(&dir, &files)).await?;
        let slot: AppendSlot = Rc::new(RefCell::new(None));
        self.inner.pending.borrow_mut().push(PendingAppend {
            temps,
            recs,
            slot: slot.clone(),
        });
        let _permit = self
            .inner
            .write_lock
            .acquire_permit(1)
            .await
            .map_err(|_| StorageError::Internal("mailbox lock closed".into()))?;
        if let Some(done) = slot.borrow_mut().take() {
            return done; // committed by an earlier leader's group
        }
        let batch = std::mem::take(&mut *self.inner.pending.borrow_mut());
        let sizes: Vec<usize> = batch.iter().map(|p| p.recs.len()).collect();
        let mut all_temps = Vec::new();
        let mut all_recs = Vec::new();
        let mut slots = Vec::with_capacity(batch.len());
        for p in batch {
            all_temps.extend(p.temps);
            all_recs.extend(p.recs);
            slots.push(p.slot);
        }
        let outcome = match self.check_gone() {
            Ok(()) => self.link_new_locked(all_temps, all_recs).await,
            Err(e) => {
                self.discard_temps(all_temps).await;
                Err(e)
            }
        };
        match outcome {
            Ok(uids) => {
                let mut rest = uids.as_slice();
                for (slot, n) in slots.iter().zip(sizes) {
                    let (mine, tail) = rest.split_at(n.min(rest.len()));
                    *slot.borrow_mut() = Some(Ok(mine.to_vec()));
                    rest = tail;
                }
            }
            Err(e) => {
                for s in &slots {
                    *s.borrow_mut() = Some(Err(error_copy(&e)));
                }
            }
        }
        let mine = slot.borrow_mut().take();
        mine.unwrap_or_else(|| Err(StorageError::Internal("group commit lost an append".into())))
    }

    async fn store(
        &self,
        uids: &[u32],
        op: FlagOp,
        flags: SystemFlags,
        keywords: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<StoreResult> {
        let _permit = self.lock().await?;
        let mut entries = Vec::new();
        let mut result = StoreResult::default();
        let mut changes = Vec::new();
        {
            let st = self.inner.state.borrow();
            let bits = Self::keyword_bits(&st, keywords, &mut entries)?;
            result.modseq = st.highest_modseq + 1;
            for uid in self.sorted_existing(uids) {
                let Some(r) = st.record(uid) else { continue };
                if unchanged_since.is_some_and(|u| r.modseq > u) {
                    result.modified.push(uid);
                    continue;
                }
                let nf = match op {
                    FlagOp::Add => r.flags | flags.0,
                    FlagOp::Remove => r.flags & !flags.0,
                    FlagOp::Replace => flags.0,
                } & 0x1f;
                let nk = kw_combine(&r.keywords, &bits, op);
                if nf != r.flags || nk != r.keywords {
                    changes.push((uid, nf, nk));
                    result.changed.push(uid);
                }
            }
            if changes.is_empty() {
                result.modseq = st.highest_modseq;
            }
        }
        if !changes.is_empty() {
            entries.push(Entry::Flags {
                modseq: result.modseq,
                changes,
            });
        }
        self.commit_locked(entries).await?;
        Ok(result)
    }

    async fn expunge(&self, uids: &[u32]) -> Result<Vec<u32>> {
        let _permit = self.lock().await?;
        let present = self.sorted_existing(uids);
        if present.is_empty() {
            return Ok(present);
        }
        let modseq = self.inner.state.borrow().highest_modseq + 1;
        self.commit_locked(vec![Entry::Expunge {
            modseq,
            uids: present.clone(),
        }])
        .await?;
        let dir = self.inner.dir.clone();
        let gone = present.clone();
        blocking::run(move || {
            io::unlink_messages(&dir, &gone);
            Ok(())
        })
        .await?;
        Ok(present)
    }

    async fn copy_to(&self, uids: &[u32], dest: &Self) -> Result<CopyResult> {
        self.check_gone()?;
        dest.check_gone()?;
        let src_uids = self.sorted_existing(uids);
        let now = unix_now();
        let recs: Vec<(MessageRecord, Vec<String>)> = {
            let st = self.inner.state.borrow();
            src_uids
                .iter()
                .filter_map(|&u| st.record(u))
                .map(|r| {
                    let info = self.info(&st, r);
                    let mut rec = r.clone();
                    rec.save_date = now;
                    (rec, info.keywords)
                })
                .collect()
        };
        if recs.is_empty() {
            return Ok(CopyResult {
                dest_uidvalidity: dest.status().uidvalidity,
                uid_map: Vec::new(),
            });
        }
        let (src_dir, dest_dir) = (self.inner.dir.clone(), dest.inner.dir.clone());
        let linked = src_uids.clone();
        let temps = blocking::run(move || io::link_temps(&src_dir, &linked, &dest_dir)).await?;
        let _permit = match dest.lock().await {
            Ok(p) => p,
            Err(e) => {
                dest.discard_temps(temps).await;
                return Err(e);
            }
        };
        let new_uids = dest.link_new_locked(temps, recs).await?;
        Ok(CopyResult {
            dest_uidvalidity: dest.inner.state.borrow().uidvalidity,
            uid_map: src_uids.into_iter().zip(new_uids).collect(),
        })
    }

    async fn move_to(&self, uids: &[u32], dest: &Self) -> Result<CopyResult> {
        if self.same_as(dest) {
            return Err(StorageError::NotAllowed(self.name().to_string()));
        }
        let result = self.copy_to(uids, dest).await?;
        let moved: Vec<u32> = result.uid_map.iter().map(|&(s, _)| s).collect();
        self.expunge(&moved).await?;
        Ok(result)
    }

    async fn claim_recent(&self) -> Result<Vec<u32>> {
        let _permit = self.lock().await?;
        let (recent, uidnext) = {
            let st = self.inner.state.borrow();
            let recent: Vec<u32> = st
                .records
                .iter()
                .filter(|r| r.uid >= st.first_recent_uid)
                .map(|r| r.uid)
                .collect();
            (recent, st.uidnext)
        };
        if !recent.is_empty() {
            self.commit_locked(vec![Entry::Recent {
                first_recent_uid: uidnext,
            }])
            .await?;
        }
        Ok(recent)
    }

    async fn read_message(&self, uid: u32) -> Result<Vec<u8>> {
        self.check_gone()?;
        if self.inner.state.borrow().position(uid).is_none() {
            return Err(StorageError::NoSuchMessage(uid));
        }
        let dir = self.inner.dir.clone();
        let body = blocking::run(move || io::read_body(&dir, uid)).await?;
        Ok(dbox_file::to_crlf(&body))
    }

    async fn read_range(&self, uid: u32, start: u64, len: u64) -> Result<Vec<u8>> {
        let full = self.read_message(uid).await?;
        let s = (start as usize).min(full.len());
        let e = s
            .saturating_add(len.min(usize::MAX as u64) as usize)
            .min(full.len());
        Ok(full[s..e].to_vec())
    }
}

//! An open Maildir/mbox mailbox: the format's files are authoritative;
//! tern's index adds modseqs, expunge history and `\Recent`. One shared
//! view per shard; every change runs under the mailbox's `write_lock`.

use super::{FlagChange, FolderFormat, FolderScan, FoundMessage, NewMessage};
use crate::storage::blocking::{self, detached};
use crate::storage::cache::Cached;
use crate::storage::error::{Result, StorageError};
use crate::storage::guid;
use crate::storage::index::disk::{self, Journal};
use crate::storage::index::files::{
    INDEX_MAGIC, LogHeader, STATE_MAGIC, encode_log_header, encode_snapshot, entry_frame,
};
use crate::storage::index::state::{MAX_KEYWORDS, kw_set};
use crate::storage::index::{Entry, KeywordBits, MailboxState, MessageRecord, flag, recover};
use crate::storage::indexed::{
    Backend, IndexCore, IndexedMailbox, MAX_MESSAGE_BYTES, StoreRequest, acquire_write_lock,
    create_dir_0700, keyword_names, kw_combine, unix_now, wire_part,
};
use crate::storage::name::MailboxName;
use crate::storage::sdbox::dbox_file;
use crate::storage::traits::Mailbox;
use crate::storage::types::{
    AppendRequest, CopyResult, FlagOp, MessagePart, StoreResult, valid_keyword,
};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Rewrite tern's index snapshot after this many log entries.
const COMPACT_AFTER_ENTRIES: u32 = 2000;

pub struct FolderShared {
    folder: Arc<dyn FolderFormat>,
    index_dir: PathBuf,
    core: IndexCore,
    journal: RefCell<Arc<Journal>>,
    /// The folder's fingerprint when memory last matched it; empty = unknown.
    fingerprint: RefCell<Vec<u64>>,
    write_lock: glommio::sync::Semaphore,
    since_compaction: Cell<u32>,
    problems: RefCell<Vec<String>>,
}

impl Cached for FolderShared {
    fn memory_estimate(&self) -> usize {
        self.core.memory_estimate()
    }
    fn mark_gone(&self) {
        self.core.mark_gone();
    }
}

/// What a refresh found.
enum Refreshed {
    Same,
    /// Outside changes were applied.
    CaughtUp,
    /// The UIDVALIDITY changed: the view starts over.
    Renumbered,
}

/// How tern's state compares with a scan of the format's files.
enum Reconciled {
    Same,
    /// Apply these (modseq = highest + 1) to catch up.
    Entries(Vec<Entry>),
    /// UIDVALIDITY changed or there was no usable state: start over.
    Reset(MailboxState),
}

/// Keyword bits for `names`, defining unknown ones (with `Entry::Keyword`).
fn keyword_bits(
    known: &mut Vec<String>,
    names: &[String],
    entries: &mut Vec<Entry>,
) -> KeywordBits {
    let mut bits = KeywordBits::new();
    for n in names {
        let idx = match known.iter().position(|k| k.eq_ignore_ascii_case(n)) {
            Some(i) => i,
            None if known.len() < MAX_KEYWORDS => {
                known.push(n.clone());
                entries.push(Entry::Keyword(n.clone()));
                known.len() - 1
            }
            None => continue,
        };
        kw_set(&mut bits, idx, true);
    }
    bits
}

fn record_of(m: &FoundMessage, keywords: KeywordBits, modseq: u64) -> MessageRecord {
    MessageRecord {
        uid: m.uid,
        flags: m.flags & flag::ALL,
        keywords,
        modseq,
        internal_date: m.internal_date,
        save_date: m.save_date,
        physical_size: m.physical_size,
        virtual_size: m.virtual_size,
        body_offset: 0,
        guid: m.guid.clone(),
        pop3_uidl: m.pop3_uidl.clone(),
        pop3_order: m.pop3_order,
    }
}

fn reconcile(prior: Option<&MailboxState>, scan: &FolderScan) -> Reconciled {
    let Some(st) = prior.filter(|p| p.uidvalidity == scan.uidvalidity) else {
        let g = scan.mailbox_guid.unwrap_or_else(guid::new_guid);
        let mut st = MailboxState::new(scan.uidvalidity, g);
        let mut known = Vec::new();
        let mut entries = Vec::new();
        for m in &scan.messages {
            let bits = keyword_bits(&mut known, &m.keywords, &mut entries);
            entries.push(Entry::Append(record_of(m, bits, 1)));
        }
        for e in &entries {
            st.apply(e);
        }
        st.uidnext = st.uidnext.max(scan.uidnext);
        // Everything a new view finds is new to tern's sessions.
        st.first_recent_uid = 1;
        return Reconciled::Reset(st);
    };
    let modseq = st.highest_modseq + 1;
    let mut known = st.keywords.clone();
    let mut entries = Vec::new();
    let gone: Vec<u32> = st
        .records
        .iter()
        .map(|r| r.uid)
        .filter(|u| scan.messages.binary_search_by_key(u, |m| m.uid).is_err())
        .collect();
    let mut changes = Vec::new();
    let mut appends = Vec::new();
    for m in &scan.messages {
        let bits = keyword_bits(&mut known, &m.keywords, &mut entries);
        match st.record(m.uid) {
            Some(r) if r.flags == m.flags & flag::ALL && r.keywords == bits => {}
            Some(_) => changes.push((m.uid, m.flags & flag::ALL, bits)),
            None => appends.push(record_of(m, bits, modseq)),
        }
    }
    if !gone.is_empty() {
        entries.push(Entry::Expunge { modseq, uids: gone });
    }
    if !changes.is_empty() {
        entries.push(Entry::Flags { modseq, changes });
    }
    entries.extend(appends.into_iter().map(Entry::Append));
    if scan.uidnext > st.uidnext {
        entries.push(Entry::UidNext(scan.uidnext));
    }
    if entries.is_empty() {
        Reconciled::Same
    } else {
        Reconciled::Entries(entries)
    }
}

fn index_files(state: &MailboxState) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        encode_snapshot(state, INDEX_MAGIC),
        encode_log_header(&LogHeader::of(state)),
        encode_snapshot(state, STATE_MAGIC),
    )
}

fn write_all_index(dir: &Path, state: &MailboxState) -> Result<Journal> {
    let (i, l, s) = index_files(state);
    disk::write_index_files(dir, &i, &l, &s)
}

type Opened = (MailboxState, Journal, Vec<u64>, Vec<String>);

/// Load tern's index, read the folder, reconcile, persist (blocking).
fn open_blocking(f: &dyn FolderFormat) -> Result<Opened> {
    let dir = f.index_dir();
    create_dir_0700(&dir)?;
    let files = disk::load_index_files(&dir)?;
    let had_files = files.index.is_some() || files.log.is_some() || files.state.is_some();
    let rec = recover(
        files.index.as_deref(),
        files.log.as_deref(),
        files.state.as_deref(),
    );
    let mut problems = if had_files && !rec.clean {
        rec.problems.clone()
    } else {
        Vec::new()
    };
    let fp = f.fingerprint()?;
    let scan = f.scan()?;
    problems.extend(scan.problems.iter().cloned());
    if !problems.is_empty() {
        tracing::warn!(dir = %dir.display(), problems = %problems.join("; "),
            "mail folder or tern index needed repair");
    }
    let (state, journal) = match (reconcile(rec.state.as_ref(), &scan), rec.state) {
        (Reconciled::Same, Some(st)) if rec.clean => {
            let j = disk::open_journal(&dir)?;
            (st, j)
        }
        (Reconciled::Same, Some(mut st)) => {
            st.generation += 1;
            let j = write_all_index(&dir, &st)?;
            (st, j)
        }
        (Reconciled::Entries(entries), Some(mut st)) => {
            for e in &entries {
                st.apply(e);
            }
            st.generation += 1;
            let j = write_all_index(&dir, &st)?;
            (st, j)
        }
        (Reconciled::Reset(st), _) => {
            let j = write_all_index(&dir, &st)?;
            (st, j)
        }
        (_, None) => return Err(StorageError::Internal("reconcile without state".into())),
    };
    Ok((state, journal, fp, problems))
}

impl FolderShared {
    pub(crate) async fn open(folder: Arc<dyn FolderFormat>, name: MailboxName) -> Result<Rc<Self>> {
        let f = folder.clone();
        let (state, journal, fp, problems) = blocking::run(move || open_blocking(&*f)).await?;
        Ok(Rc::new(FolderShared {
            index_dir: folder.index_dir(),
            folder,
            core: IndexCore::new(name, state),
            journal: RefCell::new(Arc::new(journal)),
            fingerprint: RefCell::new(fp),
            write_lock: glommio::sync::Semaphore::new(1),
            since_compaction: Cell::new(0),
            problems: RefCell::new(problems),
        }))
    }

    pub(crate) async fn quiesce(&self) -> Result<glommio::sync::Permit<'_>> {
        acquire_write_lock(&self.write_lock).await
    }
}

/// A session's handle on a shared Maildir/mbox mailbox. Cheap to clone.
pub type FolderMailbox = IndexedMailbox<FolderShared>;

impl FolderMailbox {
    /// The mailbox was removed behind our back: every holder must stop.
    pub(crate) fn mark_gone(&self) {
        Cached::mark_gone(&*self.inner);
    }

    /// Append with the SMTP/LMTP envelope sender, which mbox keeps in the
    /// From_ line (`None`: `MAILER-DAEMON`, as for IMAP APPEND).
    pub async fn append_from(
        &self,
        requests: Vec<AppendRequest>,
        envelope_from: Option<String>,
    ) -> Result<Vec<u32>> {
        let this = self.clone();
        detached(async move { this.append_now(requests, envelope_from).await }).await
    }

    /// Problems found and healed when the view was opened or resynced.
    pub fn problems(&self) -> Vec<String> {
        self.inner.problems.borrow().clone()
    }

    /// Pick up changes other programs made to the folder (cheap when there
    /// are none: one fingerprint of the files).
    pub async fn refresh(&self) -> Result<()> {
        let this = self.clone();
        detached(async move { this.refresh_now(false).await }).await
    }

    /// Re-read the whole folder and rewrite tern's index (`force-resync`).
    pub async fn force_resync(&self) -> Result<Vec<String>> {
        let this = self.clone();
        detached(async move {
            this.refresh_now(true).await?;
            let _permit = this.lock().await?;
            this.compact_locked().await?;
            Ok(this.problems())
        })
        .await
    }

    async fn refresh_now(&self, force: bool) -> Result<()> {
        let _permit = self.lock().await?;
        self.refresh_locked(force).await.map(|_| ())
    }

    /// Catch up with what other programs did to the folder (caller holds
    /// the lock). Every change calls this first, so it is computed from the
    /// files as they are and never writes back a stale picture of them.
    /// `Renumbered` when the UIDVALIDITY changed: UIDs a caller took from
    /// the old numbering now name other messages.
    async fn refresh_locked(&self, force: bool) -> Result<Refreshed> {
        let f = self.inner.folder.clone();
        let known = if force {
            Vec::new()
        } else {
            self.inner.fingerprint.borrow().clone()
        };
        let scanned = blocking::run(move || {
            let fp = f.fingerprint()?;
            if !known.is_empty() && fp == known {
                return Ok(None);
            }
            Ok(Some((f.scan()?, fp)))
        })
        .await?;
        let Some((scan, fp)) = scanned else {
            return Ok(Refreshed::Same);
        };
        *self.inner.fingerprint.borrow_mut() = fp;
        if !scan.problems.is_empty() {
            tracing::warn!(dir = %self.inner.index_dir.display(), problems = %scan.problems.join("; "),
                "mail folder needed repair");
            *self.inner.problems.borrow_mut() = scan.problems.clone();
        }
        let outcome = reconcile(Some(&self.inner.core.state.borrow()), &scan);
        match outcome {
            Reconciled::Same => Ok(Refreshed::Same),
            Reconciled::Entries(entries) => {
                self.commit_locked(entries).await?;
                Ok(Refreshed::CaughtUp)
            }
            Reconciled::Reset(st) => {
                tracing::warn!(dir = %self.inner.index_dir.display(), "UIDVALIDITY changed on disk");
                self.inner.core.replace(st);
                self.compact_locked().await?;
                self.inner.core.announce();
                Ok(Refreshed::Renumbered)
            }
        }
    }

    /// `refresh_locked` before a change that names messages by UID.
    async fn refresh_before_change(&self) -> Result<()> {
        match self.refresh_locked(false).await? {
            Refreshed::Renumbered => Err(StorageError::Internal(format!(
                "{}: UIDVALIDITY changed on disk; the UIDs given are stale",
                self.inner.index_dir.display()
            ))),
            Refreshed::Same | Refreshed::CaughtUp => Ok(()),
        }
    }

    async fn lock(&self) -> Result<glommio::sync::Permit<'_>> {
        let permit = self.inner.quiesce().await?;
        self.check_gone()?;
        Ok(permit)
    }

    /// Run a blocking change on the folder, keeping the fingerprint honest:
    /// if someone else changed the folder since we last looked, forget the
    /// fingerprint so the next refresh rescans. (Right after our own change
    /// the times are unsettled anyway, so an outside change made while the
    /// job ran is found by the next refresh too.)
    async fn change_folder<T: Send + 'static>(
        &self,
        job: impl FnOnce(&dyn FolderFormat) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let f = self.inner.folder.clone();
        let known = self.inner.fingerprint.borrow().clone();
        let (out, fp) = blocking::run(move || {
            let before = f.fingerprint().unwrap_or_default();
            let out = job(&*f);
            let after = f.fingerprint().unwrap_or_default();
            let trusted = !known.is_empty() && before == known;
            Ok((out, if trusted { after } else { Vec::new() }))
        })
        .await?;
        *self.inner.fingerprint.borrow_mut() = fp;
        out
    }

    /// Apply entries in memory (the format already holds the change), then
    /// make them durable in tern's log (caller holds the lock).
    async fn commit_locked(&self, entries: Vec<Entry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.inner.core.apply(&entries);
        let bytes: Vec<u8> = entries.iter().flat_map(entry_frame).collect();
        let journal = self.inner.journal.borrow().clone();
        let dir = self.inner.index_dir.clone();
        let n = self.inner.since_compaction.get() + entries.len() as u32;
        self.inner.since_compaction.set(n);
        let committed = blocking::run(move || disk::commit(&dir, &journal, &bytes)).await;
        if committed.is_err() || n >= COMPACT_AFTER_ENTRIES {
            // A failed append may leave a partial frame: rewrite from memory.
            if let Err(e) = self.compact_locked().await {
                tracing::warn!(dir = %self.inner.index_dir.display(), error = %e,
                    "could not write tern's index; the next open resyncs from the mail files");
            }
        }
        Ok(())
    }

    async fn compact_locked(&self) -> Result<()> {
        let mut next = self.inner.core.state.borrow().clone();
        next.generation += 1;
        let dir = self.inner.index_dir.clone();
        let snapshot = next.clone();
        let journal = blocking::run(move || write_all_index(&dir, &snapshot)).await?;
        self.inner.core.state.borrow_mut().generation = next.generation;
        *self.inner.journal.borrow_mut() = Arc::new(journal);
        self.inner.since_compaction.set(0);
        Ok(())
    }

    /// Record newly saved messages (caller holds the lock).
    async fn commit_found(&self, found: &[FoundMessage]) -> Result<Vec<u32>> {
        let mut entries = Vec::new();
        {
            let st = self.inner.core.state.borrow();
            let mut known = st.keywords.clone();
            let modseq = st.highest_modseq + 1;
            for m in found {
                let bits = keyword_bits(&mut known, &m.keywords, &mut entries);
                entries.push(Entry::Append(record_of(m, bits, modseq)));
            }
        }
        self.commit_locked(entries).await?;
        Ok(found.iter().map(|m| m.uid).collect())
    }

    fn check_keywords(&self, names: &[String]) -> Result<()> {
        if let Some(bad) = names.iter().find(|k| !valid_keyword(k)) {
            return Err(StorageError::BadKeyword(bad.clone()));
        }
        let st = self.inner.core.state.borrow();
        let mut known = st.keywords.clone();
        for n in names {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(n)) {
                known.push(n.clone());
            }
        }
        if known.len() > self.inner.folder.max_keywords().min(MAX_KEYWORDS) {
            return Err(StorageError::TooManyKeywords);
        }
        Ok(())
    }

    async fn append_now(
        &self,
        requests: Vec<AppendRequest>,
        envelope_from: Option<String>,
    ) -> Result<Vec<u32>> {
        let now = unix_now();
        let mut msgs = Vec::with_capacity(requests.len());
        for r in requests {
            if r.message.len() > MAX_MESSAGE_BYTES {
                return Err(StorageError::MessageTooLarge);
            }
            self.check_keywords(&r.keywords)?;
            msgs.push(NewMessage {
                body: dbox_file::to_lf(&r.message),
                flags: r.flags.0 & flag::ALL,
                keywords: r.keywords,
                internal_date: r.internal_date.unwrap_or(now),
                guid: r.guid.map(|g| g.replace(['\r', '\n', ' '], "")),
                pop3_uidl: r.pop3_uidl,
                pop3_order: r.pop3_order,
                envelope_from: envelope_from.clone(),
            });
        }
        let _permit = self.lock().await?;
        self.refresh_locked(false).await?;
        let found = self.change_folder(move |f| f.append(msgs)).await?;
        self.commit_found(&found).await
    }

    async fn read_wire(&self, uid: u32) -> Result<Vec<u8>> {
        self.check_readable(uid)?;
        let f = self.inner.folder.clone();
        let stored = blocking::run(move || f.read(uid)).await?;
        Ok(dbox_file::to_crlf(&stored))
    }

    /// `part` of every listed message, read in one blocking job.
    async fn read_parts_now(
        &self,
        uids: &[u32],
        part: MessagePart,
    ) -> Result<Vec<Result<Vec<u8>>>> {
        let f = self.inner.folder.clone();
        let (_, out) = self
            .read_indexed(uids, move |wanted| {
                wanted
                    .iter()
                    .map(|&uid| {
                        f.read(uid)
                            .map(|s| wire_part(&dbox_file::to_crlf(&s), part))
                    })
                    .collect()
            })
            .await?;
        Ok(out)
    }
}

impl Backend for FolderShared {
    fn core(&self) -> &IndexCore {
        &self.core
    }

    async fn append(mb: &FolderMailbox, requests: Vec<AppendRequest>) -> Result<Vec<u32>> {
        mb.append_now(requests, None).await
    }

    async fn store(mb: &FolderMailbox, request: StoreRequest) -> Result<StoreResult> {
        let StoreRequest {
            uids,
            op,
            flags,
            keywords,
            unchanged_since,
        } = request;
        mb.check_keywords(&keywords)?;
        let _permit = mb.lock().await?;
        // Flags are computed from what we hold: hold what is on disk.
        mb.refresh_before_change().await?;
        let mut result = StoreResult::default();
        let mut changes = Vec::new();
        let mut folder_changes = Vec::new();
        let mut entries = Vec::new();
        {
            let st = mb.inner.core.state.borrow();
            let mut known = st.keywords.clone();
            let bits = keyword_bits(&mut known, &keywords, &mut entries);
            result.modseq = st.highest_modseq + 1;
            for uid in mb.sorted_existing(&uids) {
                let Some(r) = st.record(uid) else { continue };
                if unchanged_since.is_some_and(|u| r.modseq > u) {
                    result.modified.push(uid);
                    continue;
                }
                let nf = match op {
                    FlagOp::Add => r.flags | flags.0,
                    FlagOp::Remove => r.flags & !flags.0,
                    FlagOp::Replace => flags.0,
                } & flag::ALL;
                let nk = kw_combine(&r.keywords, &bits, op);
                if nf != r.flags || nk != r.keywords {
                    folder_changes.push(FlagChange {
                        uid,
                        flags: nf,
                        keywords: keyword_names(&known, &nk),
                    });
                    changes.push((uid, nf, nk));
                    result.changed.push(uid);
                }
            }
        }
        if changes.is_empty() {
            result.modseq = mb.inner.core.state.borrow().highest_modseq;
            return Ok(result);
        }
        mb.change_folder(move |f| f.set_flags(&folder_changes))
            .await?;
        entries.push(Entry::Flags {
            modseq: result.modseq,
            changes,
        });
        mb.commit_locked(entries).await?;
        Ok(result)
    }

    async fn expunge(mb: &FolderMailbox, uids: &[u32]) -> Result<Vec<u32>> {
        let _permit = mb.lock().await?;
        mb.refresh_before_change().await?;
        let present = mb.sorted_existing(uids);
        if present.is_empty() {
            return Ok(present);
        }
        let gone = present.clone();
        mb.change_folder(move |f| f.expunge(&gone)).await?;
        let modseq = mb.inner.core.state.borrow().highest_modseq + 1;
        mb.commit_locked(vec![Entry::Expunge {
            modseq,
            uids: present.clone(),
        }])
        .await?;
        Ok(present)
    }

    async fn copy(mb: &FolderMailbox, uids: &[u32], dest: &FolderMailbox) -> Result<CopyResult> {
        mb.check_gone()?;
        dest.check_gone()?;
        // The sources as they are now (renamed or expunged by others).
        {
            let _permit = mb.lock().await?;
            mb.refresh_before_change().await?;
        }
        let src_uids = mb.sorted_existing(uids);
        let infos = mb.messages_by_uid(&src_uids);
        if infos.is_empty() {
            return Ok(CopyResult {
                dest_uidvalidity: dest.status().uidvalidity,
                uid_map: Vec::new(),
            });
        }
        for i in &infos {
            dest.check_keywords(&i.keywords)?;
        }
        let now = unix_now();
        let src = mb.inner.folder.clone();
        let wanted: Vec<FoundMessage> = infos
            .iter()
            .map(|i| FoundMessage {
                uid: i.uid,
                flags: i.flags.0,
                keywords: i.keywords.clone(),
                internal_date: i.internal_date,
                save_date: now,
                physical_size: i.physical_size,
                virtual_size: i.virtual_size,
                guid: i.guid.clone(),
                pop3_uidl: None,
                pop3_order: None,
            })
            .collect();
        // Read the sources before taking the destination's lock (reads
        // never need the source's lock: the format's files are immutable
        // apart from renames, which `read` follows).
        let sources = blocking::run(move || {
            let mut out = Vec::with_capacity(wanted.len());
            for w in wanted {
                match src.message_path(w.uid) {
                    Some(p) => out.push((Some(p), None, w)),
                    None => {
                        let body = src.read(w.uid)?;
                        out.push((None, Some(body), w))
                    }
                }
            }
            Ok(out)
        })
        .await?;
        let _permit = dest.lock().await?;
        dest.refresh_locked(false).await?;
        let found = dest
            .change_folder(move |f| {
                if sources.iter().all(|(p, _, _)| p.is_some()) {
                    let links: Vec<(PathBuf, FoundMessage)> = sources
                        .iter()
                        .filter_map(|(p, _, w)| Some((p.clone()?, w.clone())))
                        .collect();
                    if let Some(done) = f.link_in(&links) {
                        return done;
                    }
                }
                let mut msgs = Vec::with_capacity(sources.len());
                for (p, body, w) in sources {
                    let body = match (body, p) {
                        (Some(b), _) => b,
                        (None, Some(p)) => {
                            std::fs::read(&p).map_err(|e| StorageError::io(&p, e))?
                        }
                        (None, None) => Vec::new(),
                    };
                    msgs.push(NewMessage {
                        body,
                        flags: w.flags,
                        keywords: w.keywords,
                        internal_date: w.internal_date,
                        guid: Some(w.guid),
                        pop3_uidl: None,
                        pop3_order: None,
                        envelope_from: None,
                    });
                }
                f.append(msgs)
            })
            .await?;
        let new_uids = dest.commit_found(&found).await?;
        Ok(CopyResult {
            dest_uidvalidity: dest.inner.core.state.borrow().uidvalidity,
            uid_map: src_uids.into_iter().zip(new_uids).collect(),
        })
    }

    async fn claim_recent(mb: &FolderMailbox) -> Result<Vec<u32>> {
        let _permit = mb.lock().await?;
        let (recent, uidnext) = {
            let st = mb.inner.core.state.borrow();
            let recent = st.recent_uids();
            (recent, st.uidnext)
        };
        if !recent.is_empty() {
            mb.commit_locked(vec![Entry::Recent {
                first_recent_uid: uidnext,
            }])
            .await?;
        }
        Ok(recent)
    }

    async fn read_message(mb: &FolderMailbox, uid: u32) -> Result<Vec<u8>> {
        mb.read_wire(uid).await
    }

    async fn read_part(mb: &FolderMailbox, uid: u32, part: MessagePart) -> Result<Vec<u8>> {
        let wire = mb.read_wire(uid).await?;
        Ok(wire_part(&wire, part))
    }

    async fn read_parts(
        mb: &FolderMailbox,
        uids: &[u32],
        part: MessagePart,
    ) -> Result<Vec<Result<Vec<u8>>>> {
        mb.read_parts_now(uids, part).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(uid: u32, flags: u8, kw: &[&str]) -> FoundMessage {
        FoundMessage {
            uid,
            flags,
            keywords: kw.iter().map(|s| s.to_string()).collect(),
            internal_date: 1,
            save_date: 1,
            physical_size: 3,
            virtual_size: 4,
            guid: format!("g{uid}"),
            pop3_uidl: None,
            pop3_order: None,
        }
    }

    fn scan(uidv: u32, next: u32, m: Vec<FoundMessage>) -> FolderScan {
        FolderScan {
            uidvalidity: uidv,
            uidnext: next,
            mailbox_guid: None,
            messages: m,
            problems: Vec::new(),
        }
    }

    #[test]
    fn reconcile_finds_every_kind_of_outside_change() {
        let Reconciled::Reset(mut st) = reconcile(
            None,
            &scan(7, 3, vec![found(1, 0, &[]), found(2, 0, &["A"])]),
        ) else {
            panic!("expected a reset")
        };
        assert_eq!((st.uidvalidity, st.uidnext, st.records.len()), (7, 3, 2));
        assert_eq!(st.keywords, vec!["A"]);
        assert!(matches!(
            reconcile(
                Some(&st),
                &scan(7, 3, vec![found(1, 0, &[]), found(2, 0, &["a"])])
            ),
            Reconciled::Same
        ));
        let Reconciled::Entries(e) = reconcile(
            Some(&st),
            &scan(
                7,
                5,
                vec![found(2, flag::SEEN, &["A", "B"]), found(4, 0, &[])],
            ),
        ) else {
            panic!("expected entries")
        };
        for x in &e {
            st.apply(x);
        }
        assert_eq!(
            st.records.iter().map(|r| r.uid).collect::<Vec<_>>(),
            vec![2, 4]
        );
        assert_eq!(st.records[0].flags, flag::SEEN);
        assert_eq!(st.records[0].modseq, st.highest_modseq);
        assert_eq!(st.expunged, vec![(1, st.highest_modseq)]);
        assert_eq!(st.uidnext, 5);
        assert!(matches!(
            reconcile(Some(&st), &scan(8, 1, vec![])),
            Reconciled::Reset(_)
        ));
    }
}

//! The [`Mailbox`] operations of an sdbox mailbox.

use super::group::{self, Turn};
use super::store_plan::{PendingStore, StorePlan, StoreSlot};
use super::{
    AppendSlot, MAX_MESSAGE_BYTES, MailboxShared, PendingAppend, SdboxMailbox, error_copy,
};
use crate::message::CachedStructure;
use crate::storage::blocking::{self, detached};
use crate::storage::error::{Result, StorageError};
use crate::storage::guid;
use crate::storage::index::{Entry, KeywordBits, MessageRecord, flag};
use crate::storage::indexed::{Backend, IndexCore, StoreRequest, keyword_names, unix_now};
use crate::storage::sdbox::dbox_file::{self, DboxMetadata};
use crate::storage::sdbox::io;
use crate::storage::traits::Mailbox;
use crate::storage::types::{AppendRequest, CopyResult, MessagePart, StoreResult, valid_keyword};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

impl Backend for MailboxShared {
    fn core(&self) -> &IndexCore {
        &self.core
    }

    async fn append(mb: &SdboxMailbox, requests: Vec<AppendRequest>) -> Result<Vec<u32>> {
        mb.check_gone()?;
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
            // A given GUID (migration, dsync) is kept verbatim, minus line
            // ends, which the metadata format cannot hold.
            let guid = match req.guid {
                Some(g) => g.replace(['\r', '\n'], ""),
                None => guid::to_hex(&guid::new_guid()),
            };
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
                    flags: req.flags.0 & flag::ALL,
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
        let dir = mb.inner.dir();
        let temps = blocking::run(move || io::write_temps(&dir, &files)).await?;
        let slot: AppendSlot = Rc::new(RefCell::new(None));
        mb.inner.pending.borrow_mut().push(PendingAppend {
            temps,
            recs,
            slot: slot.clone(),
        });
        let inner = &mb.inner;
        let (_permit, batch) =
            match group::take_turn(&inner.write_lock, &inner.pending, &slot).await? {
                Turn::Done(done) => return done,
                Turn::Lead(permit, batch) => (permit, batch),
            };
        let sizes: Vec<usize> = batch.iter().map(|p| p.recs.len()).collect();
        let mut all_temps = Vec::new();
        let mut all_recs = Vec::new();
        let mut slots = Vec::with_capacity(batch.len());
        for p in batch {
            all_temps.extend(p.temps);
            all_recs.extend(p.recs);
            slots.push(p.slot);
        }
        let outcome = match mb.check_gone() {
            Ok(()) => mb.link_new_locked(all_temps, all_recs).await,
            Err(e) => {
                mb.discard_temps(all_temps).await;
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

    /// STORE with group commit: every store queued while the lock is held
    /// is planned in arrival order (each seeing the ones before it) and
    /// committed with one log fdatasync by whichever of them gets the lock.
    async fn store(mb: &SdboxMailbox, request: StoreRequest) -> Result<StoreResult> {
        mb.check_gone()?;
        let slot: StoreSlot = Rc::new(RefCell::new(None));
        mb.inner.pending_stores.borrow_mut().push(PendingStore {
            request,
            slot: slot.clone(),
        });
        let inner = &mb.inner;
        let (_permit, batch) =
            match group::take_turn(&inner.write_lock, &inner.pending_stores, &slot).await? {
                Turn::Done(done) => return done,
                Turn::Lead(permit, batch) => (permit, batch),
            };
        let outcome = match mb.check_gone() {
            Ok(()) => mb.commit_planned(|me| Ok(me.plan_stores(&batch))).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(results) => {
                for (p, r) in batch.iter().zip(results) {
                    *p.slot.borrow_mut() = Some(r);
                }
            }
            Err(e) => {
                for p in &batch {
                    *p.slot.borrow_mut() = Some(Err(error_copy(&e)));
                }
            }
        }
        let mine = slot.borrow_mut().take();
        mine.unwrap_or_else(|| Err(StorageError::Internal("group commit lost a store".into())))
    }

    async fn expunge(mb: &SdboxMailbox, uids: &[u32]) -> Result<Vec<u32>> {
        let _permit = mb.lock().await?;
        // Only messages this view knows, as of what is on disk at commit.
        let present = mb
            .commit_planned(|me| {
                let present = me.sorted_existing(uids);
                if present.is_empty() {
                    return Ok((Vec::new(), present));
                }
                let modseq = me.inner.core.state.borrow().highest_modseq + 1;
                let entry = Entry::Expunge {
                    modseq,
                    uids: present.clone(),
                };
                Ok((vec![entry], present))
            })
            .await?;
        if present.is_empty() {
            return Ok(present);
        }
        // The files went with the commit (see `try_commit_locked`).
        mb.cache_forget(&present).await;
        Ok(present)
    }

    async fn copy(mb: &SdboxMailbox, uids: &[u32], dest: &SdboxMailbox) -> Result<CopyResult> {
        mb.check_gone()?;
        dest.check_gone()?;
        // The source's lock while its files are linked: an expunge by
        // another session cannot unlink them between the look at the index
        // and the link (it waits, or was applied before). Released before
        // the destination's lock is taken (it may be the same mailbox).
        let source_permit = mb.lock().await?;
        let src_uids = mb.sorted_existing(uids);
        let now = unix_now();
        let recs: Vec<(MessageRecord, Vec<String>)> = {
            let st = mb.inner.core.state.borrow();
            src_uids
                .iter()
                .filter_map(|&u| st.record(u))
                .map(|r| {
                    let mut rec = r.clone();
                    rec.save_date = now;
                    (rec, keyword_names(&st.keywords, &r.keywords))
                })
                .collect()
        };
        if recs.is_empty() {
            return Ok(CopyResult {
                dest_uidvalidity: dest.status().uidvalidity,
                uid_map: Vec::new(),
            });
        }
        let (src_dir, dest_dir) = (mb.inner.dir(), dest.inner.dir());
        let linked = src_uids.clone();
        let temps = blocking::run(move || io::link_temps(&src_dir, &linked, &dest_dir)).await?;
        drop(source_permit);
        let _permit = match dest.lock().await {
            Ok(p) => p,
            Err(e) => {
                dest.discard_temps(temps).await;
                return Err(e);
            }
        };
        let new_uids = dest.link_new_locked(temps, recs).await?;
        Ok(CopyResult {
            dest_uidvalidity: dest.inner.core.state.borrow().uidvalidity,
            uid_map: src_uids.into_iter().zip(new_uids).collect(),
        })
    }

    async fn claim_recent(mb: &SdboxMailbox) -> Result<Vec<u32>> {
        let _permit = mb.lock().await?;
        mb.commit_planned(|me| {
            let st = me.inner.core.state.borrow();
            let recent = st.recent_uids();
            let entries = if recent.is_empty() {
                Vec::new()
            } else {
                vec![Entry::Recent {
                    first_recent_uid: st.uidnext,
                }]
            };
            Ok((entries, recent))
        })
        .await
    }

    async fn read_message(mb: &SdboxMailbox, uid: u32) -> Result<Vec<u8>> {
        // Detached too: a vanished file triggers a resync that must finish.
        let this = mb.clone();
        detached(async move { this.read_message_now(uid).await }).await
    }

    async fn read_part(mb: &SdboxMailbox, uid: u32, part: MessagePart) -> Result<Vec<u8>> {
        let part = match part {
            MessagePart::Whole => return Self::read_message(mb, uid).await,
            MessagePart::Header => io::WirePart::Header,
            MessagePart::Range { start, len } => io::WirePart::Range { start, len },
        };
        mb.read_part(uid, part).await
    }

    async fn read_parts(
        mb: &SdboxMailbox,
        uids: &[u32],
        part: MessagePart,
    ) -> Result<Vec<Result<Vec<u8>>>> {
        // Detached: a vanished file triggers a resync that must finish.
        let (this, uids) = (mb.clone(), uids.to_vec());
        detached(async move { this.read_parts_now(&uids, part).await }).await
    }

    async fn cached_structure(mb: &SdboxMailbox, uid: u32) -> Result<Option<CachedStructure>> {
        // Detached: a vanished file triggers a resync that must finish.
        let this = mb.clone();
        detached(async move { this.cached_structure_now(uid).await }).await
    }

    async fn cached_structures(
        mb: &SdboxMailbox,
        uids: &[u32],
    ) -> Result<Vec<Result<Option<CachedStructure>>>> {
        // Detached: a vanished file triggers a resync that must finish.
        let (this, uids) = (mb.clone(), uids.to_vec());
        detached(async move { this.cached_structures_now(&uids).await }).await
    }
}

/// The operations proper; [`IndexedMailbox`] runs the changes as detached
/// tasks.
impl SdboxMailbox {
    async fn read_part(&self, uid: u32, part: io::WirePart) -> Result<Vec<u8>> {
        self.check_readable(uid)?;
        let dir = self.inner.dir();
        let att = self.inner.attachment_dir.clone();
        blocking::run(move || io::read_wire(&dir, uid, att.as_deref(), part)).await
    }

    /// The log entries for a group of stores and each one's answer.
    fn plan_stores(&self, batch: &[PendingStore]) -> (Vec<Entry>, Vec<Result<StoreResult>>) {
        let st = self.inner.core.state.borrow();
        let mut plan = StorePlan {
            known: st.keywords.clone(),
            overlay: HashMap::new(),
            highest: st.highest_modseq,
            entries: Vec::new(),
        };
        let results = batch
            .iter()
            .map(|p| plan.add(&st, &self.sorted_existing(&p.request.uids), &p.request))
            .collect();
        (plan.entries, results)
    }

    pub(super) async fn read_message_now(&self, uid: u32) -> Result<Vec<u8>> {
        self.check_readable(uid)?;
        let dir = self.inner.dir();
        let att = self.inner.attachment_dir.clone();
        match blocking::run(move || io::read_body(&dir, uid, att.as_deref())).await {
            Ok(body) => Ok(dbox_file::to_crlf(&body)),
            Err(StorageError::NoSuchMessage(_)) => {
                self.resync_vanished(&[uid]).await?;
                Err(StorageError::NoSuchMessage(uid))
            }
            Err(e) => Err(e),
        }
    }

    /// Every listed message's part in one blocking job. Files that vanished
    /// behind our back resync the mailbox once for the whole batch.
    async fn read_parts_now(
        &self,
        uids: &[u32],
        part: MessagePart,
    ) -> Result<Vec<Result<Vec<u8>>>> {
        let dir = self.inner.dir();
        let att = self.inner.attachment_dir.clone();
        let (indexed, out) = self
            .read_indexed(uids, move |wanted| {
                io::read_parts(&dir, &wanted, att.as_deref(), part)
            })
            .await?;
        let vanished: Vec<u32> = uids
            .iter()
            .zip(&indexed)
            .zip(&out)
            .filter(|&((_, &known), r)| known && matches!(r, Err(StorageError::NoSuchMessage(_))))
            .map(|((&u, _), _)| u)
            .collect();
        if !vanished.is_empty()
            && let Err(e) = self.resync_vanished(&vanished).await
        {
            // The reads themselves are answered; the next open retries.
            tracing::warn!(dir = %self.inner.dir().display(), error = %e,
                "resync after vanished message files failed");
        }
        Ok(out)
    }

    /// Indexed but the files are gone (removed behind our back): resync so
    /// every session sees them expunged.
    ///
    /// A session of this shard expunging them while they were read is no
    /// outside change: once the lock is ours its expunge has been applied,
    /// and only files still indexed really vanished.
    pub(super) async fn resync_vanished(&self, uids: &[u32]) -> Result<()> {
        let _permit = self.lock().await?;
        let still: Vec<u32> = {
            let st = self.inner.core.state.borrow();
            uids.iter()
                .copied()
                .filter(|&u| st.position(u).is_some())
                .collect()
        };
        if still.is_empty() {
            return Ok(());
        }
        tracing::warn!(dir = %self.inner.dir().display(), uids = ?still,
            "indexed message file vanished; resyncing the mailbox");
        let reasons = still.iter().map(|u| format!("u.{u} vanished")).collect();
        self.rebuild_locked(reasons).await?;
        Ok(())
    }
}

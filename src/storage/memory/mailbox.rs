//! One mailbox of the memory store: the same index state and running
//! summary sdbox keeps, plus the messages' wire form. Every change is
//! planned as index entries ([`super::change`]) and applied in one step
//! with no await in between, so no lock is needed and a dropped future can
//! never leave half a change.

use super::change;
use crate::message::{CachedStructure, ParsedMessage};
use crate::storage::error::{Result, StorageError};
use crate::storage::guid;
use crate::storage::index::{Entry, KeywordBits, MailboxState, MessageRecord};
use crate::storage::indexed::{
    Backend, IndexCore, IndexedMailbox, StoreRequest, keyword_names, unix_now, wire_part,
};
use crate::storage::name::MailboxName;
use crate::storage::sdbox::dbox_file;
use crate::storage::types::{AppendRequest, CopyResult, MessagePart, StoreResult};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;

/// Store-wide settings every mailbox reads.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    /// INTERNALDATE/SAVEDATE "now"; `None` reads the clock.
    pub now: Option<i64>,
    pub max_message_bytes: usize,
}

impl Settings {
    fn now(&self) -> i64 {
        self.now.unwrap_or_else(unix_now)
    }
}

/// The state every view of one mailbox shares.
pub struct MailboxShared {
    core: IndexCore,
    /// Wire form (CRLF) of every current message; copies share it.
    bodies: RefCell<HashMap<u32, Rc<[u8]>>>,
    /// ENVELOPE + BODYSTRUCTURE parsed on first request.
    structures: RefCell<HashMap<u32, CachedStructure>>,
    settings: Rc<Settings>,
}

impl MailboxShared {
    pub(super) fn new(name: MailboxName, state: MailboxState, settings: Rc<Settings>) -> Rc<Self> {
        Rc::new(MailboxShared {
            core: IndexCore::new(name, state),
            bodies: RefCell::new(HashMap::new()),
            structures: RefCell::new(HashMap::new()),
            settings,
        })
    }

    /// An empty mailbox with a fresh GUID.
    pub(super) fn empty(name: MailboxName, uidvalidity: u32, settings: Rc<Settings>) -> Rc<Self> {
        Self::new(
            name,
            MailboxState::new(uidvalidity, guid::new_guid()),
            settings,
        )
    }

    /// The empty mailbox that carries on from this one (INBOX after
    /// `RENAME INBOX x`), as sdbox writes it: same UIDVALIDITY, UIDs and
    /// modseqs go on, the old expunges are not itemised, so no UID is
    /// reused and a client that knew the old messages sees them expunged.
    pub(super) fn continuation(&self, name: MailboxName) -> Rc<Self> {
        let prior = self.core.state.borrow();
        let mut state = MailboxState::new(prior.uidvalidity, guid::new_guid());
        state.uidnext = prior.uidnext;
        state.first_recent_uid = prior.uidnext;
        state.highest_modseq = prior.highest_modseq + 1;
        state.expunge_floor = state.highest_modseq;
        Self::new(name, state, self.settings.clone())
    }

    /// Deleted: every holder's next change or read fails.
    pub(super) fn mark_gone(&self) {
        self.core.mark_gone();
    }

    /// Renamed: holders follow it to `name`.
    pub(super) fn moved(&self, name: MailboxName) {
        self.core.rename(name);
    }

    fn check_gone(&self) -> Result<()> {
        if self.core.gone.get() {
            Err(StorageError::MailboxGone)
        } else {
            Ok(())
        }
    }

    /// Apply planned entries and announce them (nothing to announce when
    /// there are none, as an sdbox commit of nothing writes nothing).
    fn commit(&self, entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        self.core.apply(entries);
    }

    /// Add messages (record without uid/modseq, keyword names, wire form).
    fn add(&self, new: Vec<(MessageRecord, Vec<String>, Rc<[u8]>)>) -> Result<Vec<u32>> {
        self.check_gone()?;
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let mut recs = Vec::with_capacity(new.len());
        let mut wires = Vec::with_capacity(new.len());
        for (rec, names, wire) in new {
            recs.push((rec, names));
            wires.push(wire);
        }
        let (entries, uids) = change::plan_append(&self.core.state.borrow(), recs)?;
        self.bodies
            .borrow_mut()
            .extend(uids.iter().copied().zip(wires));
        self.commit(&entries);
        Ok(uids)
    }

    fn wire(&self, uid: u32) -> Result<Rc<[u8]>> {
        self.check_gone()?;
        self.bodies
            .borrow()
            .get(&uid)
            .cloned()
            .ok_or(StorageError::NoSuchMessage(uid))
    }

    fn structure(&self, uid: u32) -> Result<CachedStructure> {
        if let Some(s) = self.structures.borrow().get(&uid) {
            return Ok(s.clone());
        }
        let wire = self.wire(uid)?;
        let parsed = ParsedMessage::parse(&wire).cached_structure();
        self.structures.borrow_mut().insert(uid, parsed.clone());
        Ok(parsed)
    }
}

/// A session's handle on a memory mailbox. Cheap to clone; clones share
/// the state and see each other's changes at once.
pub type MemoryMailbox = IndexedMailbox<MailboxShared>;

impl Backend for MailboxShared {
    fn core(&self) -> &IndexCore {
        &self.core
    }

    /// Every change is ready at its first poll: no task, no reactor.
    async fn run_change<T: 'static>(op: impl Future<Output = Result<T>> + 'static) -> Result<T> {
        op.await
    }

    async fn append(mb: &MemoryMailbox, requests: Vec<AppendRequest>) -> Result<Vec<u32>> {
        let inner = &mb.inner;
        inner.check_gone()?;
        let now = inner.settings.now();
        let mut new = Vec::with_capacity(requests.len());
        for req in requests {
            if req.message.len() > inner.settings.max_message_bytes {
                return Err(StorageError::MessageTooLarge);
            }
            // Stored as sdbox stores it (LF), served as it serves it (CRLF).
            let stored = dbox_file::to_lf(&req.message);
            let wire: Rc<[u8]> = dbox_file::to_crlf(&stored).into();
            let rec = MessageRecord {
                uid: 0,
                flags: req.flags.0,
                keywords: KeywordBits::new(),
                modseq: 0,
                internal_date: req.internal_date.unwrap_or(now),
                save_date: now,
                physical_size: stored.len() as u64,
                virtual_size: wire.len() as u64,
                body_offset: 0,
                guid: match req.guid {
                    Some(g) => g.replace(['\r', '\n'], ""),
                    None => guid::to_hex(&guid::new_guid()),
                },
                pop3_uidl: req.pop3_uidl,
                pop3_order: req.pop3_order,
            };
            new.push((rec, req.keywords, wire));
        }
        inner.add(new)
    }

    async fn store(mb: &MemoryMailbox, request: StoreRequest) -> Result<StoreResult> {
        mb.check_gone()?;
        let req = change::StoreRequest {
            op: request.op,
            flags: request.flags,
            keywords: &request.keywords,
            unchanged_since: request.unchanged_since,
        };
        let existing = mb.sorted_existing(&request.uids);
        let (entries, result) = change::plan_store(&mb.inner.core.state.borrow(), &existing, &req)?;
        mb.inner.commit(&entries);
        Ok(result)
    }

    async fn expunge(mb: &MemoryMailbox, uids: &[u32]) -> Result<Vec<u32>> {
        mb.check_gone()?;
        let present = mb.sorted_existing(uids);
        if present.is_empty() {
            return Ok(present);
        }
        let inner = &mb.inner;
        let modseq = inner.core.state.borrow().highest_modseq + 1;
        inner.commit(&[Entry::Expunge {
            modseq,
            uids: present.clone(),
        }]);
        let mut bodies = inner.bodies.borrow_mut();
        let mut structures = inner.structures.borrow_mut();
        for uid in &present {
            bodies.remove(uid);
            structures.remove(uid);
        }
        Ok(present)
    }

    async fn copy(mb: &MemoryMailbox, uids: &[u32], dest: &MemoryMailbox) -> Result<CopyResult> {
        mb.check_gone()?;
        dest.check_gone()?;
        let src_uids = mb.sorted_existing(uids);
        let now = mb.inner.settings.now();
        let new: Vec<(MessageRecord, Vec<String>, Rc<[u8]>)> = {
            let st = mb.inner.core.state.borrow();
            let bodies = mb.inner.bodies.borrow();
            src_uids
                .iter()
                .filter_map(|&u| Some((st.record(u)?, bodies.get(&u)?.clone())))
                .map(|(r, wire)| {
                    let names = keyword_names(&st.keywords, &r.keywords);
                    let rec = MessageRecord {
                        save_date: now,
                        ..r.clone()
                    };
                    (rec, names, wire)
                })
                .collect()
        };
        let new_uids = dest.inner.add(new)?;
        Ok(CopyResult {
            dest_uidvalidity: dest.inner.core.state.borrow().uidvalidity,
            uid_map: src_uids.into_iter().zip(new_uids).collect(),
        })
    }

    async fn claim_recent(mb: &MemoryMailbox) -> Result<Vec<u32>> {
        mb.check_gone()?;
        let (recent, uidnext) = {
            let st = mb.inner.core.state.borrow();
            let recent = st.recent_uids();
            (recent, st.uidnext)
        };
        if !recent.is_empty() {
            mb.inner.commit(&[Entry::Recent {
                first_recent_uid: uidnext,
            }]);
        }
        Ok(recent)
    }

    async fn read_message(mb: &MemoryMailbox, uid: u32) -> Result<Vec<u8>> {
        Ok(mb.inner.wire(uid)?.to_vec())
    }

    async fn read_part(mb: &MemoryMailbox, uid: u32, part: MessagePart) -> Result<Vec<u8>> {
        let wire = mb.inner.wire(uid)?;
        Ok(wire_part(&wire, part))
    }

    async fn read_parts(
        mb: &MemoryMailbox,
        uids: &[u32],
        part: MessagePart,
    ) -> Result<Vec<Result<Vec<u8>>>> {
        mb.check_gone()?;
        Ok(uids
            .iter()
            .map(|&uid| {
                let wire = mb.inner.wire(uid)?;
                Ok(wire_part(&wire, part))
            })
            .collect())
    }

    async fn cached_structure(mb: &MemoryMailbox, uid: u32) -> Result<Option<CachedStructure>> {
        mb.inner.structure(uid).map(Some)
    }

    async fn cached_structures(
        mb: &MemoryMailbox,
        uids: &[u32],
    ) -> Result<Vec<Result<Option<CachedStructure>>>> {
        mb.check_gone()?;
        Ok(uids
            .iter()
            .map(|&uid| mb.inner.structure(uid).map(Some))
            .collect())
    }
}

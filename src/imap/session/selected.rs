//! The selected mailbox as this session knows it: its own seq→UID list
//! (4 bytes a message), the flags modseq it has reported up to, and the
//! rules for telling the client about other sessions' changes.

use crate::imap::codec::response::{Data, FetchEncoder, FetchItem, ResponseCode, Status};
use crate::imap::codec::types::SequenceSet;
use crate::storage::AnyStore;
use crate::storage::{MailStore, Mailbox, MailboxName, SystemFlags};

use super::flags;
use super::output::Output;
use super::state::Session;

pub type Mbox = <AnyStore as MailStore>::Mailbox;

/// Messages whose metadata is loaded at once when scanning a mailbox.
const SCAN_BATCH: usize = 1024;

/// What the client negotiated that changes untagged updates.
#[derive(Debug, Clone, Copy, Default)]
pub struct Enabled {
    pub condstore: bool,
    pub qresync: bool,
    pub rev2: bool,
    pub utf8: bool,
}

pub struct Selected {
    pub mailbox: Mbox,
    pub name: MailboxName,
    pub read_only: bool,
    /// UIDs in sequence order as the client was told. May still hold UIDs
    /// expunged by others until an EXPUNGE may be sent.
    pub uids: Vec<u32>,
    /// `\Recent` UIDs of this session (sorted): claimed by a read-write
    /// session, merely seen unclaimed by a read-only one (EXAMINE must not
    /// take `\Recent` away, RFC 3501 §6.3.2). May hold claimed UIDs the
    /// view does not show yet.
    pub recent: Vec<u32>,
    /// The last `* n RECENT` count the client was told.
    pub announced_recent: u32,
    /// Flag changes up to this modseq have been reported.
    pub known_modseq: u64,
    /// Storage change counter at the last sync.
    pub seen_counter: u64,
    pub known_keywords: usize,
    /// (uid, modseq) pairs this session reported itself (STORE), skipped
    /// by the next sync.
    pub reported: Vec<(u32, u64)>,
    /// This session's own expunges not yet announced.
    pub pending_expunged: bool,
    /// `\Recent` is shown (IMAP4rev1 only; IMAP4rev2 removed it).
    pub show_recent: bool,
}

impl Selected {
    pub fn new(mailbox: Mbox, name: MailboxName, read_only: bool) -> Selected {
        let status = mailbox.status();
        Selected {
            uids: mailbox.uids(),
            recent: Vec::new(),
            announced_recent: 0,
            known_modseq: status.highest_modseq,
            seen_counter: mailbox.change_counter(),
            known_keywords: mailbox.keywords().len(),
            reported: Vec::new(),
            pending_expunged: false,
            show_recent: true,
            mailbox,
            name,
            read_only,
        }
    }

    /// UIDs flagged `\Deleted` right now (in storage, not just in this
    /// view), scanned in batches so no full message list is built.
    pub fn deleted_uids(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for chunk in self.mailbox.uids().chunks(SCAN_BATCH) {
            for m in self.mailbox.messages_by_uid(chunk) {
                if m.flags.contains(SystemFlags::DELETED) {
                    out.push(m.uid);
                }
            }
        }
        out
    }

    /// Sequence number of the first message without `\Seen` (SELECT's
    /// `OK [UNSEEN n]`).
    pub fn first_unseen(&self) -> Option<u32> {
        for chunk in self.uids.chunks(SCAN_BATCH) {
            for m in self.mailbox.messages_by_uid(chunk) {
                if !m.flags.contains(SystemFlags::SEEN) {
                    return self.seq_of(m.uid);
                }
            }
        }
        None
    }

    pub fn exists(&self) -> u32 {
        self.uids.len() as u32
    }

    pub fn seq_of(&self, uid: u32) -> Option<u32> {
        self.uids.binary_search(&uid).ok().map(|i| i as u32 + 1)
    }

    pub fn is_recent(&self, uid: u32) -> bool {
        self.show_recent && self.recent.binary_search(&uid).is_ok()
    }

    /// `\Recent` messages the client can see (never more than EXISTS).
    pub fn recent_count(&self) -> u32 {
        self.recent
            .iter()
            .filter(|&&u| self.uids.binary_search(&u).is_ok())
            .count() as u32
    }

    /// Takes `\Recent` for `uids` (new to this view): a read-write session
    /// claims every unclaimed message, a read-only one notes those still
    /// unclaimed without taking them.
    pub async fn take_recent(&mut self, uids: &[u32]) {
        if uids.is_empty() {
            return;
        }
        if self.read_only {
            for m in self.mailbox.messages_by_uid(uids) {
                if m.recent {
                    self.recent.push(m.uid);
                }
            }
        } else if let Ok(claimed) = self.mailbox.claim_recent().await {
            self.recent.extend(claimed);
        }
        self.recent.sort_unstable();
        self.recent.dedup();
    }

    /// Tells the client about keywords defined since it last heard (FLAGS
    /// and PERMANENTFLAGS), so no FETCH shows a keyword before the FLAGS
    /// that defines it. Cheap when nothing is new.
    pub fn announce_keywords(&mut self, io: &mut impl Output) {
        if self.mailbox.keyword_count() == self.known_keywords {
            return;
        }
        let keywords = self.mailbox.keywords();
        self.known_keywords = keywords.len();
        io.data(&Data::Flags(flags::defined(&keywords)));
        permanent_flags(io, self.read_only, &keywords);
    }

    /// (seq, uid) pairs named by a set, in sequence order. `saved` is the
    /// SEARCHRES result (UIDs).
    pub fn resolve(&self, set: &SequenceSet, uid_mode: bool, saved: &[u32]) -> Vec<(u32, u32)> {
        resolve_in(&self.uids, set, uid_mode, saved)
    }

    /// True when a sequence-number set names a number past EXISTS (RFC
    /// 9051: BAD), ignoring `*`.
    pub fn seq_set_out_of_range(&self, set: &SequenceSet) -> bool {
        let n = self.exists();
        match set {
            SequenceSet::Saved => false,
            SequenceSet::Ranges(ranges) => ranges.iter().any(|r| {
                let (lo, hi) = r.resolve(n);
                lo > n || hi > n
            }),
        }
    }

    /// Reports changes made by others (and our own expunges). Expunges
    /// are only announced when `allow_expunge`; until then the expunged
    /// UIDs stay in the view so sequence numbers do not move.
    pub async fn sync(
        &mut self,
        io: &mut impl Output,
        allow_expunge: bool,
        allow_new: bool,
        en: Enabled,
    ) {
        let counter = self.mailbox.change_counter();
        if counter == self.seen_counter && !(allow_expunge && self.pending_expunged) {
            return;
        }
        let current = self.mailbox.uids();
        let mut expunged_any = false;
        let removed = removed_uids(&self.uids, &current);
        if !allow_expunge && !removed.is_empty() {
            // Remembered so the next command that may announce them does.
            self.pending_expunged = true;
        }
        if allow_expunge {
            if !removed.is_empty() {
                expunged_any = true;
                if en.qresync {
                    if let Ok(set) = SequenceSet::from_numbers(&removed) {
                        io.data(&Data::Vanished {
                            earlier: false,
                            uids: set,
                        });
                    }
                } else {
                    // Highest first: each number stays valid as sent.
                    for &uid in removed.iter().rev() {
                        if let Some(seq) = self.seq_of(uid) {
                            io.data(&Data::Expunge(seq));
                        }
                    }
                }
                self.uids.retain(|u| removed.binary_search(u).is_err());
                self.recent.retain(|u| removed.binary_search(u).is_err());
            }
            self.pending_expunged = false;
        }
        let last = self.uids.last().copied().unwrap_or(0);
        let start = current.partition_point(|&u| u <= last);
        let added: Vec<u32> = if allow_new {
            current[start..].to_vec()
        } else {
            Vec::new()
        };
        self.announce_keywords(io);
        if !added.is_empty() || expunged_any {
            self.uids.extend_from_slice(&added);
            self.take_recent(&added).await;
            // EXISTS first: RECENT and FETCH never name a message the
            // client was not told exists.
            io.data(&Data::Exists(self.exists()));
            let recent = self.recent_count();
            // As Dovecot: RECENT only when its number changed.
            if !en.rev2 && recent != self.announced_recent {
                self.announced_recent = recent;
                io.data(&Data::Recent(recent));
            }
        }
        // Again: a keyword defined while `\Recent` was claimed (an await)
        // must still come before the FETCH that shows it.
        self.announce_keywords(io);
        self.report_flag_changes(io, &added, en);
        // Held-back new mail keeps the counter stale so it is seen later.
        if allow_new || start == current.len() {
            self.seen_counter = counter;
        }
    }

    fn report_flag_changes(&mut self, io: &mut impl Output, added: &[u32], en: Enabled) {
        let highest = self.mailbox.status().highest_modseq;
        if highest <= self.known_modseq {
            self.reported.clear();
            return;
        }
        let changes = self.mailbox.changes_since(self.known_modseq);
        // Sorted for binary search: both lists can hold every message.
        self.reported.sort_unstable();
        for m in &changes.changed {
            if added.binary_search(&m.uid).is_ok()
                || self.reported.binary_search(&(m.uid, m.modseq)).is_ok()
            {
                continue;
            }
            let Some(seq) = self.seq_of(m.uid) else {
                continue;
            };
            let opts = io.opts();
            let recent = self.is_recent(m.uid);
            let out = io.buf();
            let mut f = FetchEncoder::begin(out, seq);
            f.item(out, &FetchItem::Uid(m.uid), opts);
            f.item(
                out,
                &FetchItem::Flags(crate::imap::eval::fetch::flag_list(m, recent)),
                opts,
            );
            if en.condstore {
                f.item(out, &FetchItem::ModSeq(m.modseq), opts);
            }
            f.finish(out);
        }
        self.known_modseq = changes.highest_modseq.max(highest);
        self.reported.clear();
    }
}

/// `OK [PERMANENTFLAGS (…)]`: none in a read-only mailbox (as Dovecot).
pub fn permanent_flags(io: &mut impl Output, read_only: bool, keywords: &[String]) {
    let (perm, text) = if read_only {
        (Vec::new(), "Read-only mailbox.")
    } else {
        (flags::permanent(keywords), "Flags permitted.")
    };
    io.status(
        None,
        Status::Ok,
        Some(ResponseCode::PermanentFlags(perm)),
        text,
    );
}

/// Where a mailbox named `name` went when `from` was renamed to `to`
/// (children move along; INBOX's messages go to `to`).
pub fn renamed_name(
    name: &MailboxName,
    from: &MailboxName,
    to: &MailboxName,
) -> Option<MailboxName> {
    if name == from {
        return Some(to.clone());
    }
    if from.is_inbox() || !name.is_within(from) {
        return None;
    }
    MailboxName::new(&format!("{}{}", to, &name.as_str()[from.as_str().len()..])).ok()
}

impl Selected {
    /// The new name of the selected mailbox when someone renamed it (the
    /// shared view follows a rename; see `MailStore::rename`).
    fn renamed_to(&self) -> Option<MailboxName> {
        if self.mailbox.is_gone() {
            return None;
        }
        let current = self.mailbox.name();
        (current != self.name).then_some(current)
    }

    /// Carry on after the selected mailbox became `to`. A renamed mailbox
    /// keeps its UIDVALIDITY and UIDs, so the session simply goes on under
    /// the new name. INBOX is different (RFC 9051 §6.3.6): its messages
    /// moved out and INBOX stays, empty; the session stays on INBOX and
    /// sees every message it knew expunged, provided the new INBOX goes on
    /// with the same UIDVALIDITY and later UIDs. Otherwise it stays with
    /// the messages under their new name, which no client can misread.
    async fn settle_rename(&mut self, store: &AnyStore, to: MailboxName) {
        if self.name.is_inbox() {
            let before = self.mailbox.status();
            if let Ok(inbox) = store.open(&MailboxName::inbox()).await {
                let now = inbox.status();
                if !inbox.is_gone()
                    && now.uidvalidity == before.uidvalidity
                    && now.uidnext >= before.uidnext
                {
                    self.mailbox = inbox;
                    // Force the next sync to compare the views.
                    self.seen_counter = u64::MAX;
                    self.pending_expunged = true;
                    return;
                }
            }
        }
        self.name = to;
    }
}

/// Follow a rename of the selected mailbox made by any session (sdbox
/// views move with the mailbox). Cheap when nothing moved.
pub async fn follow_rename(s: &mut Session) {
    let Some(to) = s.selected.as_ref().and_then(Selected::renamed_to) else {
        return;
    };
    let Ok(store) = s.mail_store().await else {
        return;
    };
    if let Some(sel) = s.selected.as_mut() {
        sel.settle_rename(&store, to).await;
    }
}

/// After this session renamed `from` to `to`: a view that could not follow
/// (Maildir, mbox mark it gone) is reopened under the new name when it is
/// the same mailbox (same UIDVALIDITY); then as [`follow_rename`].
pub async fn after_own_rename(s: &mut Session, from: &MailboxName, to: &MailboxName) {
    let Some(sel) = s.selected.as_ref() else {
        return;
    };
    let gone_to = if sel.mailbox.is_gone() {
        renamed_name(&sel.name, from, to)
    } else {
        None
    };
    let Ok(store) = s.mail_store().await else {
        return;
    };
    if let Some(target) = gone_to
        && let Ok(reopened) = store.open(&target).await
        && let Some(sel) = s.selected.as_mut()
        && reopened.status().uidvalidity == sel.mailbox.status().uidvalidity
    {
        sel.mailbox = reopened;
        sel.seen_counter = u64::MAX;
        sel.settle_rename(&store, target).await;
        return;
    }
    follow_rename(s).await;
}

/// (seq, uid) pairs of `uids` (the session's view, ascending) named by a
/// set. Sequence ranges are clipped to the view; UID ranges select the UIDs
/// that exist within them, so a huge range costs no more than the view.
pub fn resolve_in(
    uids: &[u32],
    set: &SequenceSet,
    uid_mode: bool,
    saved: &[u32],
) -> Vec<(u32, u32)> {
    let seq_of = |uid: u32| uids.binary_search(&uid).ok().map(|i| i as u32 + 1);
    let mut out: Vec<(u32, u32)> = Vec::new();
    match set {
        SequenceSet::Saved => {
            for &uid in saved {
                if let Some(seq) = seq_of(uid) {
                    out.push((seq, uid));
                }
            }
        }
        SequenceSet::Ranges(ranges) if uid_mode => {
            let largest = uids.last().copied().unwrap_or(0);
            for r in ranges {
                let (lo, hi) = r.resolve(largest);
                let start = uids.partition_point(|&u| u < lo);
                let end = uids.partition_point(|&u| u <= hi).max(start);
                for (i, &uid) in uids.iter().enumerate().take(end).skip(start) {
                    out.push((i as u32 + 1, uid));
                }
            }
        }
        SequenceSet::Ranges(ranges) => {
            let n = uids.len() as u32;
            for r in ranges {
                let (lo, hi) = r.resolve(n);
                let (lo, hi) = (lo.max(1), hi.min(n));
                for seq in lo..=hi {
                    out.push((seq, uids[seq as usize - 1]));
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// UIDs of `known` missing from `current` (both ascending).
pub fn removed_uids(known: &[u32], current: &[u32]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut j = 0;
    for &u in known {
        while j < current.len() && current[j] < u {
            j += 1;
        }
        if j >= current.len() || current[j] != u {
            out.push(u);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str) -> SequenceSet {
        use crate::imap::codec::types::{SeqBound, SeqRange};
        let bound = |t: &str| match t {
            "*" => SeqBound::Largest,
            n => SeqBound::Value(std::num::NonZeroU32::new(n.parse().unwrap()).unwrap()),
        };
        let ranges = text
            .split(',')
            .map(|r| match r.split_once(':') {
                Some((a, b)) => SeqRange {
                    start: bound(a),
                    end: bound(b),
                },
                None => SeqRange::single(bound(r)),
            })
            .collect();
        SequenceSet::ranges(ranges).unwrap()
    }

    #[test]
    fn sets_resolve_against_the_view() {
        let uids = [3, 7, 9, 20];
        assert_eq!(
            resolve_in(&uids, &set("2:3"), false, &[]),
            vec![(2, 7), (3, 9)]
        );
        assert_eq!(resolve_in(&uids, &set("*"), false, &[]), vec![(4, 20)]);
        assert_eq!(resolve_in(&uids, &set("4:1"), false, &[]).len(), 4);
        assert_eq!(
            resolve_in(&uids, &set("5:10"), true, &[]),
            vec![(2, 7), (3, 9)]
        );
        assert_eq!(resolve_in(&uids, &set("21:*"), true, &[]), vec![(4, 20)]);
        assert_eq!(resolve_in(&uids, &set("1:4294967295"), true, &[]).len(), 4);
        assert_eq!(
            resolve_in(&uids, &SequenceSet::Saved, false, &[9, 10]),
            vec![(3, 9)]
        );
        assert!(resolve_in(&[], &set("1:*"), true, &[]).is_empty());
    }

    #[test]
    fn removed_are_found() {
        assert_eq!(removed_uids(&[1, 2, 3, 5, 8], &[2, 5, 9]), vec![1, 3, 8]);
        assert_eq!(removed_uids(&[], &[1]), Vec::<u32>::new());
        assert_eq!(removed_uids(&[4], &[]), vec![4]);
    }
}

//! The in-memory mailbox index: header, message records sorted by UID, the
//! expunge history for QRESYNC, and the change entries that mutate it.
//! Pure code; the same `apply` replays the on-disk log and updates memory.

use super::codec::{CodecError, Reader, Writer};
use crate::storage::guid::Guid;
use smallvec::SmallVec;

/// Bit i set = keyword i of the mailbox's keyword list.
pub type KeywordBits = SmallVec<[u64; 1]>;
/// Keywords per mailbox; bounds memory and matches what clients use.
pub const MAX_KEYWORDS: usize = 1024;
/// Expunge history kept for QRESYNC; older expunges fall below `expunge_floor`.
pub const MAX_EXPUNGE_HISTORY: usize = 100_000;

pub mod flag {
    //! Flag bits, the same values as Dovecot's index record flags.
    pub const ANSWERED: u8 = 0x01;
    pub const FLAGGED: u8 = 0x02;
    pub const DELETED: u8 = 0x04;
    pub const SEEN: u8 = 0x08;
    pub const DRAFT: u8 = 0x10;
    pub const ALL: u8 = 0x1f;
}

pub fn kw_has(bits: &KeywordBits, i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

pub fn kw_set(bits: &mut KeywordBits, i: usize, on: bool) {
    let word = i / 64;
    if bits.len() <= word {
        if !on {
            return;
        }
        bits.resize(word + 1, 0);
    }
    if on {
        bits[word] |= 1 << (i % 64);
    } else {
        bits[word] &= !(1 << (i % 64));
    }
    while bits.last() == Some(&0) {
        bits.pop();
    }
}

/// Everything tern knows about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub uid: u32,
    pub flags: u8,
    pub keywords: KeywordBits,
    pub modseq: u64,
    /// INTERNALDATE, UNIX seconds.
    pub internal_date: i64,
    /// SAVEDATE, UNIX seconds.
    pub save_date: i64,
    /// Body bytes as stored in the mail file.
    pub physical_size: u64,
    /// RFC822.SIZE (CRLF line ends).
    pub virtual_size: u64,
    /// Where the body starts inside the mail file.
    pub body_offset: u32,
    pub guid: String,
    pub pop3_uidl: Option<String>,
    pub pop3_order: Option<u32>,
}

/// One durable change. The log is a sequence of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Append(MessageRecord),
    Flags {
        modseq: u64,
        changes: Vec<(u32, u8, KeywordBits)>,
    },
    Expunge {
        modseq: u64,
        uids: Vec<u32>,
    },
    Keyword(String),
    Recent {
        first_recent_uid: u32,
    },
    UidNext(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxState {
    /// Bumped at every compaction; ties a log to the snapshot it extends.
    pub generation: u64,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highest_modseq: u64,
    pub mailbox_guid: Guid,
    pub first_recent_uid: u32,
    pub keywords: Vec<String>,
    /// Sorted by UID, unique.
    pub records: Vec<MessageRecord>,
    /// (uid, modseq of the expunge), oldest first.
    pub expunged: Vec<(u32, u64)>,
    /// Expunges with a modseq at or below this are no longer itemised.
    pub expunge_floor: u64,
}

impl MailboxState {
    pub fn new(uidvalidity: u32, mailbox_guid: Guid) -> Self {
        MailboxState {
            generation: 1,
            uidvalidity,
            uidnext: 1,
            highest_modseq: 1,
            mailbox_guid,
            first_recent_uid: 1,
            keywords: Vec::new(),
            records: Vec::new(),
            expunged: Vec::new(),
            expunge_floor: 0,
        }
    }

    /// UIDs of the messages still `\Recent` (records are in UID order,
    /// so they are a suffix).
    pub fn recent_uids(&self) -> Vec<u32> {
        let from = self
            .records
            .partition_point(|r| r.uid < self.first_recent_uid);
        self.records[from..].iter().map(|r| r.uid).collect()
    }

    pub fn position(&self, uid: u32) -> Option<usize> {
        self.records.binary_search_by_key(&uid, |r| r.uid).ok()
    }

    pub fn record(&self, uid: u32) -> Option<&MessageRecord> {
        self.position(uid).map(|i| &self.records[i])
    }

    pub fn keyword_index(&self, name: &str) -> Option<usize> {
        self.keywords
            .iter()
            .position(|k| k.eq_ignore_ascii_case(name))
    }

    pub fn apply(&mut self, entry: &Entry) {
        match entry {
            Entry::Append(rec) => {
                match self.records.binary_search_by_key(&rec.uid, |r| r.uid) {
                    Ok(i) => self.records[i] = rec.clone(),
                    Err(i) => self.records.insert(i, rec.clone()),
                }
                self.uidnext = self.uidnext.max(rec.uid.saturating_add(1));
                self.highest_modseq = self.highest_modseq.max(rec.modseq);
            }
            Entry::Flags { modseq, changes } => {
                for (uid, flags, kw) in changes {
                    if let Some(i) = self.position(*uid) {
                        let r = &mut self.records[i];
                        r.flags = *flags & flag::ALL;
                        r.keywords = kw.clone();
                        r.modseq = *modseq;
                    }
                }
                self.highest_modseq = self.highest_modseq.max(*modseq);
            }
            Entry::Expunge { modseq, uids } => {
                let before = self.records.len();
                self.records.retain(|r| uids.binary_search(&r.uid).is_err());
                if self.records.len() != before {
                    for &u in uids {
                        self.expunged.push((u, *modseq));
                    }
                }
                self.trim_history();
                self.highest_modseq = self.highest_modseq.max(*modseq);
            }
            Entry::Keyword(name) => {
                if self.keyword_index(name).is_none() && self.keywords.len() < MAX_KEYWORDS {
                    self.keywords.push(name.clone());
                }
            }
            Entry::Recent { first_recent_uid } => {
                self.first_recent_uid = self.first_recent_uid.max(*first_recent_uid);
            }
            Entry::UidNext(n) => self.uidnext = self.uidnext.max(*n),
        }
    }

    fn trim_history(&mut self) {
        if self.expunged.len() > MAX_EXPUNGE_HISTORY {
            let cut = self.expunged.len() - MAX_EXPUNGE_HISTORY;
            if let Some(&(_, m)) = self.expunged.get(cut - 1) {
                self.expunge_floor = self.expunge_floor.max(m);
            }
            self.expunged.drain(..cut);
        }
    }

    /// A cheap fingerprint used to check that two copies agree.
    pub fn summary(&self) -> (u32, u32, u64, usize, Guid, usize) {
        (
            self.uidvalidity,
            self.uidnext,
            self.highest_modseq,
            self.records.len(),
            self.mailbox_guid,
            self.keywords.len(),
        )
    }

    /// Approximate heap use, for the shard cache's memory budget.
    pub fn memory_estimate(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.records.len() * (std::mem::size_of::<MessageRecord>() + 40)
            + self.expunged.len() * 16
            + self.keywords.iter().map(|k| k.len() + 24).sum::<usize>()
    }
}

// ---- encoding -------------------------------------------------------------

fn put_kw(w: &mut Writer, kw: &KeywordBits) {
    w.u16(kw.len() as u16);
    for &word in kw {
        w.u64(word);
    }
}

fn get_kw(r: &mut Reader) -> Result<KeywordBits, CodecError> {
    let n = r.u16()? as usize;
    if n > MAX_KEYWORDS / 64 + 1 {
        return Err(CodecError::BadValue("keyword bitmap too long"));
    }
    let mut kw = KeywordBits::new();
    for _ in 0..n {
        kw.push(r.u64()?);
    }
    Ok(kw)
}

fn put_opt_str(w: &mut Writer, v: &Option<String>) {
    match v {
        Some(s) => {
            w.u8(1);
            w.str(s);
        }
        None => w.u8(0),
    }
}

fn get_opt_str(r: &mut Reader) -> Result<Option<String>, CodecError> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(r.str()?)),
        _ => Err(CodecError::BadValue("option tag")),
    }
}

pub fn encode_record(w: &mut Writer, rec: &MessageRecord) {
    w.u32(rec.uid);
    w.u8(rec.flags);
    put_kw(w, &rec.keywords);
    w.u64(rec.modseq);
    w.i64(rec.internal_date);
    w.i64(rec.save_date);
    w.u64(rec.physical_size);
    w.u64(rec.virtual_size);
    w.u32(rec.body_offset);
    w.str(&rec.guid);
    put_opt_str(w, &rec.pop3_uidl);
    match rec.pop3_order {
        Some(o) => {
            w.u8(1);
            w.u32(o);
        }
        None => w.u8(0),
    }
}

pub fn decode_record(r: &mut Reader) -> Result<MessageRecord, CodecError> {
    let uid = r.u32()?;
    if uid == 0 {
        return Err(CodecError::BadValue("uid 0"));
    }
    Ok(MessageRecord {
        uid,
        flags: r.u8()? & flag::ALL,
        keywords: get_kw(r)?,
        modseq: r.u64()?,
        internal_date: r.i64()?,
        save_date: r.i64()?,
        physical_size: r.u64()?,
        virtual_size: r.u64()?,
        body_offset: r.u32()?,
        guid: r.str()?,
        pop3_uidl: get_opt_str(r)?,
        pop3_order: match r.u8()? {
            0 => None,
            1 => Some(r.u32()?),
            _ => return Err(CodecError::BadValue("option tag")),
        },
    })
}

const TAG_APPEND: u8 = 1;
const TAG_FLAGS: u8 = 2;
const TAG_EXPUNGE: u8 = 3;
const TAG_KEYWORD: u8 = 4;
const TAG_RECENT: u8 = 5;
const TAG_UIDNEXT: u8 = 6;

pub fn encode_entry(e: &Entry) -> Vec<u8> {
    let mut w = Writer::default();
    match e {
        Entry::Append(rec) => {
            w.u8(TAG_APPEND);
            encode_record(&mut w, rec);
        }
        Entry::Flags { modseq, changes } => {
            w.u8(TAG_FLAGS);
            w.u64(*modseq);
            w.u32(changes.len() as u32);
            for (uid, flags, kw) in changes {
                w.u32(*uid);
                w.u8(*flags);
                put_kw(&mut w, kw);
            }
        }
        Entry::Expunge { modseq, uids } => {
            w.u8(TAG_EXPUNGE);
            w.u64(*modseq);
            w.u32(uids.len() as u32);
            for u in uids {
                w.u32(*u);
            }
        }
        Entry::Keyword(name) => {
            w.u8(TAG_KEYWORD);
            w.str(name);
        }
        Entry::Recent { first_recent_uid } => {
            w.u8(TAG_RECENT);
            w.u32(*first_recent_uid);
        }
        Entry::UidNext(n) => {
            w.u8(TAG_UIDNEXT);
            w.u32(*n);
        }
    }
    w.buf
}

pub fn decode_entry(data: &[u8]) -> Result<Entry, CodecError> {
    let mut r = Reader::new(data);
    let e = match r.u8()? {
        TAG_APPEND => Entry::Append(decode_record(&mut r)?),
        TAG_FLAGS => {
            let modseq = r.u64()?;
            let n = r.u32()? as usize;
            // Each change is at least 7 bytes: bound the allocation by the input.
            let mut changes = Vec::with_capacity(n.min(data.len() / 7));
            for _ in 0..n {
                changes.push((r.u32()?, r.u8()? & flag::ALL, get_kw(&mut r)?));
            }
            Entry::Flags { modseq, changes }
        }
        TAG_EXPUNGE => {
            let modseq = r.u64()?;
            let n = r.u32()? as usize;
            let mut uids = Vec::with_capacity(n.min(data.len() / 4));
            for _ in 0..n {
                uids.push(r.u32()?);
            }
            if !uids.windows(2).all(|w| w[0] < w[1]) {
                return Err(CodecError::BadValue("expunge uids not sorted"));
            }
            Entry::Expunge { modseq, uids }
        }
        TAG_KEYWORD => Entry::Keyword(r.str()?),
        TAG_RECENT => Entry::Recent {
            first_recent_uid: r.u32()?,
        },
        TAG_UIDNEXT => Entry::UidNext(r.u32()?),
        _ => return Err(CodecError::BadValue("entry tag")),
    };
    if !r.is_empty() {
        return Err(CodecError::BadValue("trailing bytes in entry"));
    }
    Ok(e)
}

/// Encode the header (everything but the records).
pub fn encode_header(s: &MailboxState) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(1); // header version
    w.u64(s.generation);
    w.u32(s.uidvalidity);
    w.u32(s.uidnext);
    w.u64(s.highest_modseq);
    w.bytes(&s.mailbox_guid);
    w.u32(s.first_recent_uid);
    w.u64(s.expunge_floor);
    w.u32(s.keywords.len() as u32);
    for k in &s.keywords {
        w.str(k);
    }
    w.u32(s.expunged.len() as u32);
    for (u, m) in &s.expunged {
        w.u32(*u);
        w.u64(*m);
    }
    w.u32(s.records.len() as u32);
    w.buf
}

/// Decode a header; returns the state (no records yet) and the record count.
pub fn decode_header(data: &[u8]) -> Result<(MailboxState, usize), CodecError> {
    let mut r = Reader::new(data);
    if r.u8()? != 1 {
        return Err(CodecError::BadValue("header version"));
    }
    let generation = r.u64()?;
    let uidvalidity = r.u32()?;
    let uidnext = r.u32()?;
    let highest_modseq = r.u64()?;
    let mut mailbox_guid = [0u8; 16];
    mailbox_guid.copy_from_slice(r.take(16)?);
    let first_recent_uid = r.u32()?;
    let expunge_floor = r.u64()?;
    let nk = r.u32()? as usize;
    if nk > MAX_KEYWORDS {
        return Err(CodecError::BadValue("too many keywords"));
    }
    let mut keywords = Vec::with_capacity(nk);
    for _ in 0..nk {
        keywords.push(r.str()?);
    }
    let ne = r.u32()? as usize;
    let mut expunged = Vec::with_capacity(ne.min(data.len() / 12));
    for _ in 0..ne {
        expunged.push((r.u32()?, r.u64()?));
    }
    let count = r.u32()? as usize;
    if uidvalidity == 0 || uidnext == 0 {
        return Err(CodecError::BadValue("zero uidvalidity or uidnext"));
    }
    let state = MailboxState {
        generation,
        uidvalidity,
        uidnext,
        highest_modseq,
        mailbox_guid,
        first_recent_uid,
        keywords,
        records: Vec::new(),
        expunged,
        expunge_floor,
    };
    Ok((state, count))
}

#[cfg(test)]
pub(crate) fn sample_record(uid: u32) -> MessageRecord {
    MessageRecord {
        uid,
        flags: 0,
        keywords: KeywordBits::new(),
        modseq: u64::from(uid) + 1,
        internal_date: 1_600_000_000 + i64::from(uid),
        save_date: 1_700_000_000,
        physical_size: 100,
        virtual_size: 104,
        body_offset: 46,
        guid: format!("{uid:032x}"),
        pop3_uidl: None,
        pop3_order: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_bits() {
        let mut k = KeywordBits::new();
        kw_set(&mut k, 70, true);
        assert!(kw_has(&k, 70));
        assert!(!kw_has(&k, 6));
        assert_eq!(k.len(), 2);
        kw_set(&mut k, 70, false);
        assert!(k.is_empty());
        kw_set(&mut k, 900, false);
        assert!(k.is_empty());
    }

    #[test]
    fn entries_round_trip() {
        let mut rec = sample_record(7);
        rec.pop3_uidl = Some("abc".into());
        rec.pop3_order = Some(3);
        let mut kw = KeywordBits::new();
        kw_set(&mut kw, 3, true);
        let entries = vec![
            Entry::Append(rec),
            Entry::Flags {
                modseq: 9,
                changes: vec![(7, flag::SEEN, kw)],
            },
            Entry::Expunge {
                modseq: 10,
                uids: vec![1, 7],
            },
            Entry::Keyword("$Label1".into()),
            Entry::Recent {
                first_recent_uid: 8,
            },
            Entry::UidNext(20),
        ];
        for e in &entries {
            assert_eq!(&decode_entry(&encode_entry(e)).unwrap(), e);
        }
        assert!(decode_entry(&[99]).is_err());
        assert!(
            decode_entry(&[TAG_EXPUNGE, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).is_err()
        );
    }

    #[test]
    fn expunge_history_is_bounded() {
        let mut s = MailboxState::new(1, [0; 16]);
        let n = (MAX_EXPUNGE_HISTORY + 10) as u32;
        for uid in 1..=n {
            s.apply(&Entry::Append(sample_record(uid)));
        }
        s.apply(&Entry::Expunge {
            modseq: 5,
            uids: (1..=10).collect(),
        });
        s.apply(&Entry::Expunge {
            modseq: 9,
            uids: (11..=n).collect(),
        });
        assert_eq!(s.expunged.len(), MAX_EXPUNGE_HISTORY);
        assert_eq!(s.expunge_floor, 5);
        assert!(s.records.is_empty());
    }

    #[test]
    fn apply_changes() {
        let mut s = MailboxState::new(42, [1; 16]);
        s.apply(&Entry::Append(sample_record(3)));
        s.apply(&Entry::Append(sample_record(1)));
        assert_eq!(
            s.records.iter().map(|r| r.uid).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(s.uidnext, 4);
        s.apply(&Entry::Flags {
            modseq: 10,
            changes: vec![(3, flag::FLAGGED, KeywordBits::new())],
        });
        assert_eq!(s.record(3).unwrap().flags, flag::FLAGGED);
        assert_eq!(s.highest_modseq, 10);
        s.apply(&Entry::Expunge {
            modseq: 11,
            uids: vec![1],
        });
        assert_eq!(s.records.len(), 1);
        assert_eq!(s.expunged, vec![(1, 11)]);
        s.apply(&Entry::UidNext(2));
        assert_eq!(s.uidnext, 4, "uidnext never goes backwards");
    }
}

//! tern's three per-mailbox index files and their byte layouts.
//!
//! - `tern.index`: snapshot = magic, header frame, one frame per record.
//! - `tern.log`: magic, log-header frame (the snapshot generation it extends,
//!   UIDVALIDITY, mailbox GUID), then one frame per [`Entry`]; fdatasync'd at
//!   every commit: this is the commit point.
//! - `tern.state`: a second, independent copy (snapshot + the same entries),
//!   written in the same job as the log. Any one of the three files may be
//!   lost or damaged without losing flags, keywords, UIDVALIDITY or the GUID.
//!
//! Every frame carries a CRC32 (see [`super::codec`]).

use super::codec::{CodecError, Reader, Writer, next_frame, put_frame};
use super::state::MAX_KEYWORDS;
use super::state::{
    Entry, MailboxState, decode_entry, decode_header, decode_record, encode_entry, encode_header,
    encode_record,
};
use crate::storage::guid::Guid;

pub const INDEX_FILE: &str = "tern.index";
pub const LOG_FILE: &str = "tern.log";
pub const STATE_FILE: &str = "tern.state";

pub const INDEX_MAGIC: &[u8; 8] = b"TERNIDX\x01";
pub const LOG_MAGIC: &[u8; 8] = b"TERNLOG\x01";
pub const STATE_MAGIC: &[u8; 8] = b"TERNSTA\x01";

/// A snapshot (for `tern.index` or the start of `tern.state`).
pub fn encode_snapshot(state: &MailboxState, magic: &[u8; 8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + state.records.len() * 96);
    out.extend_from_slice(magic);
    put_frame(&mut out, &encode_header(state));
    for rec in &state.records {
        let mut w = Writer::default();
        encode_record(&mut w, rec);
        put_frame(&mut out, &w.buf);
    }
    out
}

/// Decode a snapshot; returns the state and the offset just after it.
pub fn decode_snapshot(data: &[u8], magic: &[u8; 8]) -> Result<(MailboxState, usize), CodecError> {
    if data.get(..8) != Some(&magic[..]) {
        return Err(CodecError::BadMagic);
    }
    let mut pos = 8;
    let header = next_frame(data, &mut pos)?.ok_or(CodecError::Short)?;
    let (mut state, count) = decode_header(header)?;
    state.records.reserve(count.min(data.len() / 64));
    let mut last_uid = 0;
    for _ in 0..count {
        let payload = next_frame(data, &mut pos)?.ok_or(CodecError::Short)?;
        let mut r = Reader::new(payload);
        let rec = decode_record(&mut r)?;
        if rec.uid <= last_uid || rec.uid >= state.uidnext {
            return Err(CodecError::BadValue("record uid out of order"));
        }
        last_uid = rec.uid;
        state.records.push(rec);
    }
    Ok((state, pos))
}

/// The log's header repeats what must never be lost or go backwards, so
/// that the log alone (with the mail files) can restore UIDVALIDITY, the
/// GUID, UIDNEXT, HIGHESTMODSEQ and the keyword names if both snapshots die.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHeader {
    pub base_generation: u64,
    pub uidvalidity: u32,
    pub mailbox_guid: Guid,
    pub uidnext: u32,
    pub highest_modseq: u64,
    pub first_recent_uid: u32,
    pub keywords: Vec<String>,
}

impl LogHeader {
    pub fn of(state: &MailboxState) -> Self {
        LogHeader {
            base_generation: state.generation,
            uidvalidity: state.uidvalidity,
            mailbox_guid: state.mailbox_guid,
            uidnext: state.uidnext,
            highest_modseq: state.highest_modseq,
            first_recent_uid: state.first_recent_uid,
            keywords: state.keywords.clone(),
        }
    }

    /// A state with this header's values and no messages.
    pub fn base_state(&self) -> MailboxState {
        let mut s = MailboxState::new(self.uidvalidity, self.mailbox_guid);
        s.generation = self.base_generation;
        s.uidnext = self.uidnext.max(1);
        s.highest_modseq = self.highest_modseq;
        s.first_recent_uid = self.first_recent_uid;
        s.keywords = self.keywords.clone();
        s
    }
}

pub fn encode_log_header(h: &LogHeader) -> Vec<u8> {
    let mut w = Writer::default();
    w.u64(h.base_generation);
    w.u32(h.uidvalidity);
    w.bytes(&h.mailbox_guid);
    w.u32(h.uidnext);
    w.u64(h.highest_modseq);
    w.u32(h.first_recent_uid);
    w.u32(h.keywords.len() as u32);
    for k in &h.keywords {
        w.str(k);
    }
    let mut out = LOG_MAGIC.to_vec();
    put_frame(&mut out, &w.buf);
    out
}

pub fn decode_log_header(data: &[u8]) -> Result<(LogHeader, usize), CodecError> {
    if data.get(..8) != Some(&LOG_MAGIC[..]) {
        return Err(CodecError::BadMagic);
    }
    let mut pos = 8;
    let payload = next_frame(data, &mut pos)?.ok_or(CodecError::Short)?;
    let mut r = Reader::new(payload);
    let base_generation = r.u64()?;
    let uidvalidity = r.u32()?;
    let mut mailbox_guid = [0u8; 16];
    mailbox_guid.copy_from_slice(r.take(16)?);
    let uidnext = r.u32()?;
    let highest_modseq = r.u64()?;
    let first_recent_uid = r.u32()?;
    let n = r.u32()? as usize;
    if n > MAX_KEYWORDS || uidvalidity == 0 {
        return Err(CodecError::BadValue("log header"));
    }
    let mut keywords = Vec::with_capacity(n);
    for _ in 0..n {
        keywords.push(r.str()?);
    }
    let header = LogHeader {
        base_generation,
        uidvalidity,
        mailbox_guid,
        uidnext,
        highest_modseq,
        first_recent_uid,
        keywords,
    };
    Ok((header, pos))
}

/// One entry as appended to the log and the state file.
pub fn entry_frame(e: &Entry) -> Vec<u8> {
    let mut out = Vec::new();
    put_frame(&mut out, &encode_entry(e));
    out
}

/// Decode entries from `pos` to the end. Returns the entries that decoded
/// and, if decoding stopped early, why (torn tail or corruption).
pub fn decode_entries(data: &[u8], mut pos: usize) -> (Vec<Entry>, Option<CodecError>) {
    let mut out = Vec::new();
    loop {
        match next_frame(data, &mut pos) {
            Ok(None) => return (out, None),
            Ok(Some(payload)) => match decode_entry(payload) {
                Ok(e) => out.push(e),
                Err(err) => return (out, Some(err)),
            },
            Err(err) => return (out, Some(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::state::sample_record;

    #[test]
    fn snapshot_round_trip_and_damage() {
        let mut s = MailboxState::new(7, [3; 16]);
        s.keywords.push("$Label1".into());
        for uid in [1, 2, 5] {
            s.apply(&Entry::Append(sample_record(uid)));
        }
        let bytes = encode_snapshot(&s, INDEX_MAGIC);
        let (back, end) = decode_snapshot(&bytes, INDEX_MAGIC).unwrap();
        assert_eq!(back, s);
        assert_eq!(end, bytes.len());
        assert_eq!(
            decode_snapshot(&bytes, STATE_MAGIC).unwrap_err(),
            CodecError::BadMagic
        );
        assert!(decode_snapshot(&bytes[..bytes.len() - 1], INDEX_MAGIC).is_err());
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(
                decode_snapshot(&b, INDEX_MAGIC).is_err(),
                "flip at {i} undetected"
            );
        }
    }

    #[test]
    fn log_round_trip_with_torn_tail() {
        let h = LogHeader {
            base_generation: 4,
            uidvalidity: 9,
            mailbox_guid: [1; 16],
            uidnext: 12,
            highest_modseq: 40,
            first_recent_uid: 3,
            keywords: vec!["$Label1".into()],
        };
        let mut bytes = encode_log_header(&h);
        let e1 = Entry::UidNext(5);
        let e2 = Entry::Keyword("x".into());
        bytes.extend(entry_frame(&e1));
        bytes.extend(entry_frame(&e2));
        let (back, pos) = decode_log_header(&bytes).unwrap();
        assert_eq!(back, h);
        assert_eq!(decode_entries(&bytes, pos), (vec![e1.clone(), e2], None));
        let (partial, err) = decode_entries(&bytes[..bytes.len() - 2], pos);
        assert_eq!(partial, vec![e1]);
        assert_eq!(err, Some(CodecError::Short));
    }
}

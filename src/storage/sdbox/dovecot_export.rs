//! Handover to Dovecot: write a `dovecot.index` snapshot in Dovecot's v7.3
//! format (format doc §7.5, a recipe Dovecot 2.3.19 accepted with no
//! warnings) so flags, keywords, UIDVALIDITY, UIDNEXT and the mailbox GUID
//! survive a switch back. Dovecot's log, cache and backup must be deleted
//! alongside (their indexid would not match); see [`super::io::export_dovecot_index`].

use crate::storage::index::MailboxState;
use crate::storage::index::flag;
use crate::storage::index::state::kw_has;

const BASE_HEADER_SIZE: usize = 120;

fn align(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// One extension header block: the fixed 16 bytes, the name, the data.
fn extension(
    name: &str,
    data: &[u8],
    record_offset: u16,
    record_size: u16,
    record_align: u16,
) -> Vec<u8> {
    let mut out = vec![0u8; 16];
    put_u32(&mut out, 0, data.len() as u32);
    put_u16(&mut out, 8, record_offset);
    put_u16(&mut out, 10, record_size);
    put_u16(&mut out, 12, record_align);
    put_u16(&mut out, 14, name.len() as u16);
    out.extend_from_slice(name.as_bytes());
    out.resize(align(out.len(), 8), 0);
    out.extend_from_slice(data);
    out.resize(align(out.len(), 8), 0);
    out
}

/// Build `dovecot.index` for `state`. `indexid` should be the current time.
pub fn snapshot(state: &MailboxState, indexid: u32) -> Vec<u8> {
    let nkw = state.keywords.len();
    let kw_bytes = nkw.div_ceil(8);
    let record_size = align(5 + kw_bytes, 4).max(8);

    let mut dbox_hdr = vec![0u8; 24];
    dbox_hdr[4..20].copy_from_slice(&state.mailbox_guid);
    // Without these bits Dovecot ignores stored POP3 UIDLs / order.
    let mut pop3_bits = 0u8;
    if state.records.iter().any(|r| r.pop3_uidl.is_some()) {
        pop3_bits |= 0x01;
    }
    if state.records.iter().any(|r| r.pop3_order.is_some()) {
        pop3_bits |= 0x02;
    }
    dbox_hdr[20] = pop3_bits;
    let mut exts = extension("dbox-hdr", &dbox_hdr, 0, 0, 0);
    if nkw > 0 {
        let mut kh = Vec::new();
        kh.extend_from_slice(&(nkw as u32).to_le_bytes());
        let mut names = Vec::new();
        for k in &state.keywords {
            kh.extend_from_slice(&0u32.to_le_bytes());
            kh.extend_from_slice(&(names.len() as u32).to_le_bytes());
            names.extend_from_slice(k.as_bytes());
            names.push(0);
        }
        kh.extend_from_slice(&names);
        exts.extend(extension("keywords", &kh, 5, kw_bytes as u16, 1));
    }

    let header_size = BASE_HEADER_SIZE + exts.len();
    let mut out = vec![0u8; BASE_HEADER_SIZE];
    out[0] = 7;
    out[1] = 3;
    put_u16(&mut out, 2, BASE_HEADER_SIZE as u16);
    put_u32(&mut out, 4, header_size as u32);
    put_u32(&mut out, 8, record_size as u32);
    out[12] = 0x01; // little-endian
    put_u32(&mut out, 16, indexid);
    put_u32(&mut out, 24, state.uidvalidity);
    put_u32(&mut out, 28, state.uidnext);
    put_u32(&mut out, 32, state.records.len() as u32);
    let seen = state
        .records
        .iter()
        .filter(|r| r.flags & flag::SEEN != 0)
        .count();
    let deleted = state
        .records
        .iter()
        .filter(|r| r.flags & flag::DELETED != 0)
        .count();
    put_u32(&mut out, 40, seen as u32);
    put_u32(&mut out, 44, deleted as u32);
    put_u32(&mut out, 48, state.uidnext); // first_recent_uid: nothing recent
    put_u32(&mut out, 52, 1);
    put_u32(&mut out, 56, 1);
    put_u32(&mut out, 60, 1); // log_file_seq; tail = head = 0
    out.extend_from_slice(&exts);
    for r in &state.records {
        let mut rec = vec![0u8; record_size];
        put_u32(&mut rec, 0, r.uid);
        rec[4] = r.flags & flag::ALL;
        for i in 0..nkw {
            if kw_has(&r.keywords, i) {
                rec[5 + i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&rec);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::state::{kw_set, sample_record};
    use crate::storage::index::{Entry, KeywordBits};
    use crate::storage::sdbox::dovecot_index;

    #[test]
    fn round_trips_through_the_importer() {
        let mut s = MailboxState::new(12345, [7; 16]);
        s.keywords = vec!["$Label1".into(), "Custom".into()];
        for uid in [1, 2, 9] {
            s.apply(&Entry::Append(sample_record(uid)));
        }
        s.uidnext = 10;
        let mut kw = KeywordBits::new();
        kw_set(&mut kw, 0, true);
        s.apply(&Entry::Flags {
            modseq: 50,
            changes: vec![(1, flag::SEEN, kw.clone())],
        });
        kw_set(&mut kw, 1, true);
        s.apply(&Entry::Flags {
            modseq: 51,
            changes: vec![(2, flag::ANSWERED | flag::FLAGGED, kw)],
        });
        let bytes = snapshot(&s, 0x6b0ab955);
        assert_eq!(&bytes[..4], &[7, 3, 120, 0]);
        assert_eq!(
            (bytes.len() - u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize) % 8,
            0
        );
        let d = dovecot_index::import(Some(&bytes), None, None).unwrap();
        assert_eq!(
            (d.uidvalidity, d.next_uid, d.mailbox_guid),
            (12345, 10, Some([7; 16]))
        );
        assert_eq!(d.keywords, s.keywords);
        assert_eq!(d.messages[&1], (flag::SEEN, [0usize].into_iter().collect()));
        assert_eq!(
            d.messages[&2],
            (
                flag::ANSWERED | flag::FLAGGED,
                [0usize, 1].into_iter().collect()
            )
        );
        assert!(d.messages[&9].1.is_empty());
    }
}

//! Import of Dovecot's own index (`dovecot.index` + `dovecot.index.log`),
//! read-only, so that taking over a store Dovecot wrote keeps flags,
//! keywords, UIDVALIDITY, UIDNEXT and the mailbox GUID (format doc §7, §9).
//!
//! Only what tern needs is decoded; unknown record types are skipped. Any
//! inconsistency makes the import give up (`None`): the caller then falls
//! back to a plain rebuild from the mail files, as Dovecot itself would.

use std::collections::{BTreeMap, BTreeSet};

pub const INDEX_FILE: &str = "dovecot.index";
pub const LOG_FILE: &str = "dovecot.index.log";
pub const LOG2_FILE: &str = "dovecot.index.log.2";

const BASE_HEADER_MIN: usize = 120;
const LOG_HEADER_MIN: usize = 24;
const MAX_EXTENSIONS: usize = 64;

// Transaction record types (format doc §7.3), after masking the
// external/sync bits.
const T_EXPUNGE: u32 = 0x0000_0001 | 0x0000_cd90;
const T_APPEND: u32 = 0x0000_0002;
const T_FLAG_UPDATE: u32 = 0x0000_0004;
const T_HEADER_UPDATE: u32 = 0x0000_0020;
const T_EXT_INTRO: u32 = 0x0000_0040;
const T_EXT_RESET: u32 = 0x0000_0080;
const T_EXT_HDR_UPDATE: u32 = 0x0000_0100;
const T_KEYWORD_UPDATE: u32 = 0x0000_0400;
const T_KEYWORD_RESET: u32 = 0x0000_0800;
const T_EXPUNGE_GUID: u32 = 0x0000_2000 | 0x0000_cd90;
const T_EXT_HDR_UPDATE32: u32 = 0x0001_0000;
const T_TYPE_MASK: u32 = 0x0fff_ffff;

/// What tern keeps from Dovecot's index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DovecotState {
    pub uidvalidity: u32,
    pub next_uid: u32,
    pub mailbox_guid: Option<[u8; 16]>,
    pub keywords: Vec<String>,
    /// uid → (flags byte, keyword indexes into `keywords`)
    pub messages: BTreeMap<u32, (u8, BTreeSet<usize>)>,
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn align(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

#[derive(Debug, Clone)]
struct Ext {
    name: String,
    header: Vec<u8>,
    record_offset: usize,
    record_size: usize,
}

/// Working state while decoding: the base header bytes are kept so that
/// HEADER_UPDATE records can patch them.
struct Builder {
    base: Vec<u8>,
    exts: Vec<Ext>,
    current_ext: Option<usize>,
    keywords: Vec<String>,
    messages: BTreeMap<u32, (u8, BTreeSet<usize>)>,
    max_appended: u32,
}

impl Builder {
    fn empty() -> Self {
        Builder {
            base: vec![0; BASE_HEADER_MIN],
            exts: Vec::new(),
            current_ext: None,
            keywords: Vec::new(),
            messages: BTreeMap::new(),
            max_appended: 0,
        }
    }

    fn keyword_index(&mut self, name: &str) -> usize {
        match self.keywords.iter().position(|k| k == name) {
            Some(i) => i,
            None => {
                self.keywords.push(name.to_string());
                self.keywords.len() - 1
            }
        }
    }

    fn finish(self) -> Option<DovecotState> {
        let uidvalidity = u32_at(&self.base, 24)?;
        // Appends advance next_uid implicitly; the log has no header update
        // for it [verified against Dovecot 2.3.19's own log].
        let next_uid = u32_at(&self.base, 28)?.max(self.max_appended.saturating_add(1));
        if uidvalidity == 0 {
            return None;
        }
        let mailbox_guid = self
            .exts
            .iter()
            .find(|e| e.name == "dbox-hdr")
            .and_then(|e| e.header.get(4..20))
            .and_then(|g| <[u8; 16]>::try_from(g).ok())
            .filter(|g| g.iter().any(|&b| b != 0));
        Some(DovecotState {
            uidvalidity,
            next_uid,
            mailbox_guid,
            keywords: self.keywords,
            messages: self.messages,
        })
    }
}

/// Parse `dovecot.index`. Returns the builder and (log_file_seq, head offset).
fn parse_index(data: &[u8]) -> Option<(Builder, u32, u32)> {
    if data.first() != Some(&7) || data.get(12) != Some(&1) {
        return None;
    }
    let base_size = usize::from(u16_at(data, 2)?);
    let header_size = u32_at(data, 4)? as usize;
    let record_size = u32_at(data, 8)? as usize;
    let count = u32_at(data, 32)? as usize;
    if base_size < BASE_HEADER_MIN
        || header_size < base_size
        || header_size > data.len()
        || record_size < 8
    {
        return None;
    }
    let mut b = Builder::empty();
    b.base = data[..BASE_HEADER_MIN].to_vec();
    let log_seq = u32_at(data, 60)?;
    let head_offset = u32_at(data, 68)?;
    // Extension headers.
    let mut off = align(base_size, 8);
    while off + 16 <= header_size {
        let hdr_size = u32_at(data, off)? as usize;
        let record_offset = usize::from(u16_at(data, off + 8)?);
        let ext_record_size = usize::from(u16_at(data, off + 10)?);
        let name_size = usize::from(u16_at(data, off + 14)?);
        let name = data.get(off + 16..off + 16 + name_size)?;
        let data_start = off + align(16 + name_size, 8);
        let header = data
            .get(data_start..data_start.checked_add(hdr_size)?)?
            .to_vec();
        b.exts.push(Ext {
            name: String::from_utf8_lossy(name).into_owned(),
            header,
            record_offset,
            record_size: ext_record_size,
        });
        off = data_start + align(hdr_size, 8);
    }
    // Keyword names.
    let kw_ext = b.exts.iter().find(|e| e.name == "keywords").cloned();
    if let Some(kw) = &kw_ext {
        let n = u32_at(&kw.header, 0)? as usize;
        let names_start = 4usize.checked_add(n.checked_mul(8)?)?;
        for i in 0..n {
            let name_off = u32_at(&kw.header, 4 + i * 8 + 4)? as usize;
            let rest = kw.header.get(names_start.checked_add(name_off)?..)?;
            let end = memchr::memchr(0, rest)?;
            b.keywords
                .push(String::from_utf8_lossy(&rest[..end]).into_owned());
        }
    }
    // Records.
    for i in 0..count {
        let rec = data.get(header_size + i * record_size..header_size + (i + 1) * record_size)?;
        let uid = u32_at(rec, 0)?;
        let mut kws = BTreeSet::new();
        if let Some(kw) = &kw_ext {
            let bits = rec.get(kw.record_offset..kw.record_offset + kw.record_size)?;
            for (byte_i, byte) in bits.iter().enumerate() {
                for bit in 0..8 {
                    let idx = byte_i * 8 + bit;
                    if byte & (1 << bit) != 0 && idx < b.keywords.len() {
                        kws.insert(idx);
                    }
                }
            }
        }
        b.messages.insert(uid, (rec[4] & 0x1f, kws));
    }
    Some((b, log_seq, head_offset))
}

/// Log header: (hdr_size, file_seq, prev_file_seq).
fn parse_log_header(data: &[u8]) -> Option<(usize, u32, u32)> {
    if data.first() != Some(&1) {
        return None;
    }
    let hdr_size = usize::from(u16_at(data, 2)?);
    if hdr_size < LOG_HEADER_MIN || hdr_size > data.len() {
        return None;
    }
    Some((hdr_size, u32_at(data, 8)?, u32_at(data, 12)?))
}

fn record_size(b: &[u8]) -> Option<usize> {
    if b[0] & 0x80 == 0 || b[1] & 0x80 == 0 || b[2] & 0x80 == 0 || b[3] & 0x80 == 0 {
        return None;
    }
    let v = (u32::from(b[3] & 0x7f) << 2)
        | (u32::from(b[2] & 0x7f) << 9)
        | (u32::from(b[1] & 0x7f) << 16)
        | (u32::from(b[0] & 0x7f) << 23);
    Some(v as usize)
}

fn uid_ranges(p: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    p.chunks_exact(8)
        .filter_map(|c| Some((u32_at(c, 0)?, u32_at(c, 4)?)))
}

/// Replay log records from `start`. Stops quietly at a torn tail.
fn replay(b: &mut Builder, data: &[u8], start: usize) -> Option<()> {
    let mut off = start;
    while off + 8 <= data.len() {
        let size = record_size(&data[off..off + 4])?;
        if size < 8 || off + size > data.len() {
            break; // unfinished transaction at the tail
        }
        let rtype = u32_at(data, off + 4)? & T_TYPE_MASK;
        let p = &data[off + 8..off + size];
        apply_record(b, rtype, p);
        off += align(size, 4);
    }
    Some(())
}

fn apply_record(b: &mut Builder, rtype: u32, p: &[u8]) {
    match rtype {
        T_APPEND => {
            for c in p.chunks_exact(8) {
                if let Some(uid) = u32_at(c, 0) {
                    b.messages.insert(uid, (c[4] & 0x1f, BTreeSet::new()));
                    b.max_appended = b.max_appended.max(uid);
                }
            }
        }
        T_EXPUNGE => {
            for (a, z) in uid_ranges(p) {
                let gone: Vec<u32> = b.messages.range(a..=z.max(a)).map(|(&u, _)| u).collect();
                for u in gone {
                    b.messages.remove(&u);
                }
            }
        }
        T_EXPUNGE_GUID => {
            for c in p.chunks_exact(20) {
                if let Some(uid) = u32_at(c, 0) {
                    b.messages.remove(&uid);
                }
            }
        }
        T_FLAG_UPDATE => {
            for c in p.chunks_exact(12) {
                let (Some(a), Some(z)) = (u32_at(c, 0), u32_at(c, 4)) else {
                    continue;
                };
                let (add, remove) = (c[8], c[9]);
                for (_, (flags, _)) in b.messages.range_mut(a..=z.max(a)) {
                    *flags = ((*flags | add) & !remove) & 0x1f;
                }
            }
        }
        T_HEADER_UPDATE => {
            let mut o = 0;
            while o + 4 <= p.len() {
                let (Some(at), Some(n)) = (u16_at(p, o), u16_at(p, o + 2)) else {
                    break;
                };
                let (at, n) = (usize::from(at), usize::from(n));
                let Some(bytes) = p.get(o + 4..o + 4 + n) else {
                    break;
                };
                if at + n <= b.base.len() {
                    b.base[at..at + n].copy_from_slice(bytes);
                }
                o = align(o + 4 + n, 4);
            }
        }
        T_EXT_INTRO => {
            let (Some(ext_id), Some(hdr_size), Some(name_size)) =
                (u32_at(p, 0), u32_at(p, 8), u16_at(p, 18))
            else {
                return;
            };
            let name = p
                .get(20..20 + usize::from(name_size))
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            let found = if ext_id != u32::MAX && (ext_id as usize) < b.exts.len() {
                Some(ext_id as usize)
            } else {
                b.exts
                    .iter()
                    .position(|e| !name.is_empty() && e.name == name)
            };
            let idx = match found {
                Some(i) => i,
                None if b.exts.len() >= MAX_EXTENSIONS => {
                    // Bounds memory on a hostile log: real indexes have ~10.
                    b.current_ext = None;
                    return;
                }
                None => {
                    b.exts.push(Ext {
                        name,
                        header: Vec::new(),
                        record_offset: 0,
                        record_size: 0,
                    });
                    b.exts.len() - 1
                }
            };
            let wanted = (hdr_size as usize).min(1 << 16);
            if b.exts[idx].header.len() < wanted {
                b.exts[idx].header.resize(wanted, 0);
            }
            b.current_ext = Some(idx);
        }
        T_EXT_RESET => {
            if let Some(i) = b.current_ext {
                let preserve = p.get(4).copied().unwrap_or(0) != 0;
                if !preserve {
                    b.exts[i].header.iter_mut().for_each(|x| *x = 0);
                }
            }
        }
        T_EXT_HDR_UPDATE | T_EXT_HDR_UPDATE32 => {
            let Some(i) = b.current_ext else { return };
            let wide = rtype == T_EXT_HDR_UPDATE32;
            let head = if wide { 8 } else { 4 };
            let mut o = 0;
            while o + head <= p.len() {
                let (at, n) = if wide {
                    match (u32_at(p, o), u32_at(p, o + 4)) {
                        (Some(a), Some(n)) => (a as usize, n as usize),
                        _ => break,
                    }
                } else {
                    match (u16_at(p, o), u16_at(p, o + 2)) {
                        (Some(a), Some(n)) => (usize::from(a), usize::from(n)),
                        _ => break,
                    }
                };
                let Some(bytes) = p.get(o + head..o + head + n) else {
                    break;
                };
                let hdr = &mut b.exts[i].header;
                if at + n <= 1 << 16 {
                    if hdr.len() < at + n {
                        hdr.resize(at + n, 0);
                    }
                    hdr[at..at + n].copy_from_slice(bytes);
                }
                o = align(o + head + n, 4);
            }
        }
        T_KEYWORD_UPDATE => {
            let (Some(&modify), Some(name_size)) = (p.first(), u16_at(p, 2)) else {
                return;
            };
            let name_size = usize::from(name_size);
            let Some(name) = p.get(4..4 + name_size) else {
                return;
            };
            let name = String::from_utf8_lossy(name).into_owned();
            let idx = b.keyword_index(&name);
            let ranges = p.get(align(4 + name_size, 4)..).unwrap_or(&[]);
            for (a, z) in uid_ranges(ranges) {
                for (_, (_, kws)) in b.messages.range_mut(a..=z.max(a)) {
                    if modify == 0 {
                        kws.insert(idx);
                    } else {
                        kws.remove(&idx);
                    }
                }
            }
        }
        T_KEYWORD_RESET => {
            for (a, z) in uid_ranges(p) {
                for (_, (_, kws)) in b.messages.range_mut(a..=z.max(a)) {
                    kws.clear();
                }
            }
        }
        _ => {}
    }
}

/// Combine whatever of Dovecot's index files exist into one state.
pub fn import(
    index: Option<&[u8]>,
    log: Option<&[u8]>,
    log2: Option<&[u8]>,
) -> Option<DovecotState> {
    let parsed_index = index.and_then(parse_index);
    let log_hdr = log.and_then(parse_log_header);
    let log2_hdr = log2.and_then(parse_log_header);
    match parsed_index {
        Some((mut b, seq, head)) => {
            // Replay from where the snapshot stops: in .log.2 if it is that
            // file, then the whole of .log.
            if let (Some(l2), Some((_, seq2, _))) = (log2, log2_hdr)
                && seq2 == seq
            {
                replay(&mut b, l2, (head as usize).max(LOG_HEADER_MIN))?;
                if let (Some(l), Some((hs, _, _))) = (log, log_hdr) {
                    replay(&mut b, l, hs)?;
                }
            } else if let (Some(l), Some((hs, lseq, _))) = (log, log_hdr) {
                if lseq == seq {
                    replay(&mut b, l, (head as usize).max(hs))?;
                } else if lseq > seq {
                    replay(&mut b, l, hs)?;
                }
            }
            b.finish()
        }
        None => {
            let (l, (hs, _, prev)) = (log?, log_hdr?);
            let mut b = Builder::empty();
            if let (Some(l2), Some((hs2, seq2, _))) = (log2, log2_hdr)
                && prev != 0
                && seq2 == prev
            {
                replay(&mut b, l2, hs2)?;
            }
            replay(&mut b, l, hs)?;
            b.finish()
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn size_field(total: usize) -> [u8; 4] {
        let v = (total / 4) as u32;
        [
            0x80 | ((v >> 21) & 0x7f) as u8,
            0x80 | ((v >> 14) & 0x7f) as u8,
            0x80 | ((v >> 7) & 0x7f) as u8,
            0x80 | (v & 0x7f) as u8,
        ]
    }

    fn rec(out: &mut Vec<u8>, rtype: u32, payload: &[u8]) {
        let total = 8 + align(payload.len(), 4);
        out.extend_from_slice(&size_field(total));
        out.extend_from_slice(&rtype.to_le_bytes());
        out.extend_from_slice(payload);
        out.resize(out.len() + align(payload.len(), 4) - payload.len(), 0);
    }

    /// A log shaped like Dovecot's for the doc's §6 snapshot: INBOX with UIDs
    /// 1, 2, 4; `\Flagged \Seen` on 1; `\Answered $Label1 MyKeyword` on 2.
    pub(crate) fn sample_log() -> Vec<u8> {
        let mut l = vec![1, 3, 40, 0];
        l.extend_from_slice(&0x6b0ab955u32.to_le_bytes()); // indexid
        l.extend_from_slice(&1u32.to_le_bytes()); // file_seq
        l.extend_from_slice(&0u32.to_le_bytes()); // prev_file_seq
        l.resize(40, 0);
        l[32] = 1;
        // EXT_INTRO dbox-hdr, then its header (GUID at 4..20).
        let mut intro = Vec::new();
        intro.extend_from_slice(&u32::MAX.to_le_bytes());
        intro.extend_from_slice(&0u32.to_le_bytes());
        intro.extend_from_slice(&24u32.to_le_bytes());
        intro.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        intro.extend_from_slice(&8u16.to_le_bytes());
        intro.extend_from_slice(b"dbox-hdr");
        rec(&mut l, T_EXT_INTRO, &intro);
        let guid: Vec<u8> = (0..16u8).map(|i| 0x08 + i).collect();
        let mut upd = Vec::new();
        upd.extend_from_slice(&4u16.to_le_bytes());
        upd.extend_from_slice(&16u16.to_le_bytes());
        upd.extend_from_slice(&guid);
        rec(&mut l, T_EXT_HDR_UPDATE, &upd);
        // HEADER_UPDATE uid_validity (24) + next_uid (28).
        let mut h = Vec::new();
        h.extend_from_slice(&24u16.to_le_bytes());
        h.extend_from_slice(&8u16.to_le_bytes());
        h.extend_from_slice(&1795864917u32.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        rec(&mut l, T_HEADER_UPDATE, &h);
        for uid in 1..=4u32 {
            let mut a = uid.to_le_bytes().to_vec();
            a.extend_from_slice(&[0, 0, 0, 0]);
            rec(&mut l, T_APPEND | 0x1000_0000, &a);
            // Like Dovecot: no header update for next_uid; appends imply it.
        }
        let mut f = Vec::new();
        for (a, z, add) in [(1u32, 1u32, 0x0a_u8), (2, 2, 0x01)] {
            f.extend_from_slice(&a.to_le_bytes());
            f.extend_from_slice(&z.to_le_bytes());
            f.extend_from_slice(&[add, 0, 1, 0]);
        }
        rec(&mut l, T_FLAG_UPDATE, &f);
        for name in ["$Label1", "MyKeyword"] {
            let mut k = vec![0, 0];
            k.extend_from_slice(&(name.len() as u16).to_le_bytes());
            k.extend_from_slice(name.as_bytes());
            k.resize(align(k.len(), 4), 0);
            k.extend_from_slice(&2u32.to_le_bytes());
            k.extend_from_slice(&2u32.to_le_bytes());
            rec(&mut l, T_KEYWORD_UPDATE, &k);
        }
        rec(&mut l, T_EXPUNGE, &[3, 0, 0, 0, 3, 0, 0, 0]);
        l
    }

    #[test]
    fn imports_log_only_store() {
        let s = import(None, Some(&sample_log()), None).unwrap();
        assert_eq!(s.uidvalidity, 1795864917);
        assert_eq!(s.next_uid, 5);
        assert_eq!(s.mailbox_guid.unwrap()[0], 0x08);
        assert_eq!(
            s.keywords,
            vec!["$Label1".to_string(), "MyKeyword".to_string()]
        );
        assert_eq!(
            s.messages.keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 4]
        );
        assert_eq!(s.messages[&1].0, 0x0a);
        assert_eq!(s.messages[&2], (0x01, [0usize, 1].into_iter().collect()));
    }

    #[test]
    fn parses_index_snapshot_records() {
        // §7.1/§7.2 ground truth: uid 1 \Flagged|\Seen; uid 2 \Answered + keywords 0, 1.
        let mut idx = vec![0u8; 120];
        idx[0] = 7;
        idx[1] = 3;
        idx[2] = 120;
        idx[8] = 16; // record_size
        idx[12] = 1;
        idx[24..28].copy_from_slice(&0x6b0ab955u32.to_le_bytes());
        idx[28..32].copy_from_slice(&5u32.to_le_bytes());
        idx[32..36].copy_from_slice(&2u32.to_le_bytes());
        idx[60..64].copy_from_slice(&9u32.to_le_bytes());
        // keywords extension: header {count 2, recs, names}
        let mut kh = Vec::new();
        kh.extend_from_slice(&2u32.to_le_bytes());
        kh.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0]);
        kh.extend_from_slice(b"$Label1\0MyKeyword\0");
        let mut ext = Vec::new();
        ext.extend_from_slice(&(kh.len() as u32).to_le_bytes());
        ext.extend_from_slice(&0u32.to_le_bytes());
        ext.extend_from_slice(&5u16.to_le_bytes());
        ext.extend_from_slice(&2u16.to_le_bytes());
        ext.extend_from_slice(&1u16.to_le_bytes());
        ext.extend_from_slice(&8u16.to_le_bytes());
        ext.extend_from_slice(b"keywords");
        ext.extend_from_slice(&kh);
        ext.resize(align(ext.len(), 8), 0);
        idx.extend_from_slice(&ext);
        let header_size = idx.len() as u32;
        idx[4..8].copy_from_slice(&header_size.to_le_bytes());
        idx.extend_from_slice(&[1, 0, 0, 0, 0x0a, 0, 0, 0, 0xd4, 4, 0, 0, 0x81, 1, 0, 0]);
        idx.extend_from_slice(&[2, 0, 0, 0, 0x01, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let s = import(Some(&idx), None, None).unwrap();
        assert_eq!((s.uidvalidity, s.next_uid), (0x6b0ab955, 5));
        assert_eq!(
            s.keywords,
            vec!["$Label1".to_string(), "MyKeyword".to_string()]
        );
        assert_eq!(s.messages[&1], (0x0a, BTreeSet::new()));
        assert_eq!(s.messages[&2], (0x01, [0usize, 1].into_iter().collect()));
        assert_eq!(s.mailbox_guid, None);
    }

    #[test]
    fn total_on_garbage() {
        let log = sample_log();
        let mut seed = 3u32;
        for _ in 0..2000 {
            let mut l = log.clone();
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let p = (seed >> 8) as usize % l.len();
            l[p] = (seed >> 20) as u8;
            l.truncate(l.len() - (seed as usize % 7));
            let _ = import(Some(&l), Some(&l), Some(&l));
            let _ = import(None, Some(&l), None);
        }
        assert!(import(None, None, None).is_none());
    }
}

//! `tern.cache`: parsed ENVELOPE/BODYSTRUCTURE per UID, so FETCH need not
//! re-parse messages. Layout: magic, a CRC frame holding the UIDVALIDITY it
//! belongs to, then one CRC frame per record (`u32 uid` + the bytes of
//! `CachedStructure::encode()`). Append-only; a later record for a UID
//! replaces an earlier one. The file is only a cache: a damaged tail or a
//! wrong UIDVALIDITY loses entries, which are recomputed from the mail file
//! on demand. Pure code; the backend does the I/O.

use super::codec::{CodecError, next_frame, put_frame};
use std::collections::HashMap;

pub const CACHE_FILE: &str = "tern.cache";
pub const CACHE_MAGIC: &[u8; 8] = b"TERNCAC\x01";

/// What a `tern.cache` held, as far as it could be read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoadedCache {
    /// UID → encoded `CachedStructure`; the last record for a UID wins.
    pub entries: HashMap<u32, Vec<u8>>,
    /// Records in the file that no longer count (replaced by a later one).
    pub dead_records: usize,
    /// Why the file could not be read to its end, if it could not.
    pub problem: Option<String>,
}

/// The start of a new cache file.
pub fn encode_cache_header(uidvalidity: u32) -> Vec<u8> {
    let mut out = CACHE_MAGIC.to_vec();
    put_frame(&mut out, &uidvalidity.to_le_bytes());
    out
}

/// One record, ready to append.
pub fn encode_cache_record(uid: u32, structure: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(4 + structure.len());
    payload.extend_from_slice(&uid.to_le_bytes());
    payload.extend_from_slice(structure);
    let mut out = Vec::with_capacity(payload.len() + 8);
    put_frame(&mut out, &payload);
    out
}

/// A whole compacted file holding `entries`, in UID order.
pub fn encode_cache_file<'a>(
    uidvalidity: u32,
    entries: impl IntoIterator<Item = (u32, &'a [u8])>,
) -> Vec<u8> {
    let mut sorted: Vec<(u32, &[u8])> = entries.into_iter().collect();
    sorted.sort_unstable_by_key(|&(uid, _)| uid);
    let mut out = encode_cache_header(uidvalidity);
    for (uid, bytes) in sorted {
        out.extend_from_slice(&encode_cache_record(uid, bytes));
    }
    out
}

/// Read a cache file for a mailbox with `uidvalidity`. Never fails: what
/// cannot be read is reported in `problem` and left out. Records are kept
/// up to the first damaged frame (a torn append damages only the tail).
pub fn decode_cache_file(data: &[u8], uidvalidity: u32) -> LoadedCache {
    let mut loaded = LoadedCache::default();
    if data.get(..8) != Some(&CACHE_MAGIC[..]) {
        loaded.problem = Some("bad magic".into());
        return loaded;
    }
    let mut pos = 8;
    match next_frame(data, &mut pos) {
        Ok(Some(h)) if h == uidvalidity.to_le_bytes() => {}
        Ok(Some(_)) => {
            loaded.problem = Some("written for another UIDVALIDITY".into());
            return loaded;
        }
        Ok(None) => {
            loaded.problem = Some("no header".into());
            return loaded;
        }
        Err(e) => {
            loaded.problem = Some(format!("header: {e}"));
            return loaded;
        }
    }
    loop {
        let at = pos;
        match next_frame(data, &mut pos) {
            Ok(None) => break,
            Ok(Some(payload)) => match parse_record(payload) {
                Ok((uid, bytes)) => {
                    if loaded.entries.insert(uid, bytes.to_vec()).is_some() {
                        loaded.dead_records += 1;
                    }
                }
                Err(e) => {
                    loaded.problem = Some(format!("record at byte {at}: {e}"));
                    break;
                }
            },
            Err(e) => {
                loaded.problem = Some(format!("record at byte {at}: {e}"));
                break;
            }
        }
    }
    loaded
}

fn parse_record(payload: &[u8]) -> Result<(u32, &[u8]), CodecError> {
    let (head, rest) = payload.split_at_checked(4).ok_or(CodecError::Short)?;
    let uid = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    if uid == 0 {
        return Err(CodecError::BadValue("uid 0"));
    }
    Ok((uid, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut f = encode_cache_header(7);
        f.extend(encode_cache_record(1, b"one"));
        f.extend(encode_cache_record(2, b"two"));
        f.extend(encode_cache_record(1, b"uno"));
        f
    }

    #[test]
    fn round_trip_last_record_wins() {
        let l = decode_cache_file(&sample(), 7);
        assert_eq!(l.problem, None);
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.entries[&1], b"uno");
        assert_eq!(l.entries[&2], b"two");
        assert_eq!(l.dead_records, 1);
    }

    #[test]
    fn compacted_file_round_trips() {
        let f = encode_cache_file(9, [(5, &b"e"[..]), (3, &b"c"[..])]);
        let l = decode_cache_file(&f, 9);
        assert_eq!(l.problem, None);
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.entries[&3], b"c");
    }

    #[test]
    fn wrong_uidvalidity_or_magic_gives_nothing() {
        let l = decode_cache_file(&sample(), 8);
        assert!(l.entries.is_empty());
        assert!(l.problem.is_some());
        let l = decode_cache_file(b"garbage!", 7);
        assert!(l.entries.is_empty());
        assert!(l.problem.is_some());
    }

    #[test]
    fn damage_keeps_the_records_before_it() {
        let f = sample();
        // Truncate inside the last record.
        let l = decode_cache_file(&f[..f.len() - 2], 7);
        assert_eq!(l.entries[&1], b"one");
        assert_eq!(l.entries[&2], b"two");
        assert!(l.problem.is_some());
        // Every prefix and every single-byte flip decodes without panicking.
        for cut in 0..f.len() {
            let _ = decode_cache_file(&f[..cut], 7);
        }
        for i in 0..f.len() {
            let mut g = f.clone();
            g[i] ^= 0x5a;
            let l = decode_cache_file(&g, 7);
            assert!(l.problem.is_some(), "flip at {i} went unnoticed");
        }
    }
}

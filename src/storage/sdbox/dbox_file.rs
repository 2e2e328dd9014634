//! The sdbox `u.<uid>` file format (dbox version 2), read and write.
//!
//! Layout: header line (`2 M1e C<hex>\n`), a per-message header of `M` bytes
//! (magic, type `N`, hex body size), the body, then the metadata block
//! `\n\x01\x03\n` + `<KEY><value>\n`… + empty line. Pure code: callers read
//! the bytes (a prefix for the headers, the tail for the metadata).

use thiserror::Error;

/// Size of the per-message header Dovecot writes (`M1e`).
pub const MSG_HEADER_SIZE: usize = 30;
const MSG_MAGIC: [u8; 2] = [0x01, 0x02];
pub const METADATA_MAGIC: [u8; 4] = [0x0a, 0x01, 0x03, 0x0a];
/// Longest header line accepted; Dovecot's are about 20 bytes.
pub const MAX_HEADER_LINE: usize = 512;
/// Longest metadata block accepted (X lines for many attachments can be long).
pub const MAX_METADATA: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DboxError {
    #[error("file header line missing or too long")]
    NoHeaderLine,
    #[error("invalid dbox version")]
    BadVersion,
    #[error("file header has no valid M field")]
    BadHeaderSize,
    #[error("message header is truncated")]
    Truncated,
    #[error("message header has bad magic")]
    BadMagic,
    #[error("message header has a bad size field")]
    BadSize,
    #[error("metadata header has bad magic value")]
    BadMetadataMagic,
    #[error("missing end-of-metadata line")]
    UnterminatedMetadata,
}

/// Where the body lives inside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DboxHeader {
    pub version: u8,
    pub create_time: Option<u64>,
    /// Offset of the first body byte (header line + message header).
    pub body_offset: u64,
    /// Body bytes stored on disk.
    pub body_size: u64,
}

/// The metadata block. Unknown keys are kept so copies preserve them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DboxMetadata {
    pub guid: Option<String>,
    /// INTERNALDATE, UNIX seconds (`R`).
    pub received: Option<i64>,
    /// RFC822.SIZE (`V`).
    pub virtual_size: Option<u64>,
    /// Plaintext size when the stored bytes are transformed (`Z`).
    pub plain_size: Option<u64>,
    pub pop3_uidl: Option<String>,
    pub pop3_order: Option<u32>,
    /// External attachment references (`X`), kept verbatim.
    pub ext_refs: Option<String>,
    pub other: Vec<(u8, String)>,
}

fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        let d = (c as char).to_digit(16)?;
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

/// Parse the header line and per-message header from the file's first bytes
/// (at least `MAX_HEADER_LINE + M` bytes, or the whole file if shorter).
pub fn parse_header(prefix: &[u8]) -> Result<DboxHeader, DboxError> {
    let limit = prefix.len().min(MAX_HEADER_LINE);
    let lf = memchr::memchr(b'\n', &prefix[..limit]).ok_or(DboxError::NoHeaderLine)?;
    let line = &prefix[..lf];
    let version = match line.first() {
        Some(b'1') => 1,
        Some(b'2') => 2,
        _ => return Err(DboxError::BadVersion),
    };
    if line.get(1) != Some(&b' ') {
        return Err(DboxError::BadVersion);
    }
    let mut msg_header_size = None;
    let mut create_time = None;
    for field in line[2..].split(|&b| b == b' ').filter(|f| !f.is_empty()) {
        match field[0] {
            b'M' if msg_header_size.is_none() => msg_header_size = parse_hex(&field[1..]),
            b'C' if create_time.is_none() => create_time = parse_hex(&field[1..]),
            _ => {}
        }
    }
    let m = match msg_header_size {
        Some(m) if m as usize >= MSG_HEADER_SIZE && m <= 4096 => m as usize,
        _ => return Err(DboxError::BadHeaderSize),
    };
    let start = lf + 1;
    let hdr = prefix.get(start..start + m).ok_or(DboxError::Truncated)?;
    if hdr[..2] != MSG_MAGIC || hdr[m - 1] != b'\n' {
        return Err(DboxError::BadMagic);
    }
    let body_size = parse_hex(&hdr[13..29]).ok_or(DboxError::BadSize)?;
    Ok(DboxHeader {
        version,
        create_time,
        body_offset: (start + m) as u64,
        body_size,
    })
}

/// Parse the metadata block from the bytes that follow the body.
pub fn parse_metadata(tail: &[u8]) -> Result<DboxMetadata, DboxError> {
    if tail.len() < METADATA_MAGIC.len() || tail[..4] != METADATA_MAGIC {
        return Err(DboxError::BadMetadataMagic);
    }
    let mut meta = DboxMetadata::default();
    let mut rest = &tail[4..];
    loop {
        // Legacy v1 space padding ends the block even without a final LF.
        if rest.first() == Some(&b' ') {
            return Ok(meta);
        }
        let Some(lf) = memchr::memchr(b'\n', rest) else {
            return Err(DboxError::UnterminatedMetadata);
        };
        let line = &rest[..lf];
        rest = &rest[lf + 1..];
        if line.is_empty() || line[0] == b' ' {
            return Ok(meta);
        }
        let key = line[0];
        let value = String::from_utf8_lossy(&line[1..]).into_owned();
        // The first occurrence of a key wins.
        match key {
            b'G' if meta.guid.is_none() => meta.guid = Some(value),
            b'R' if meta.received.is_none() => {
                meta.received = parse_hex(&line[1..]).map(|v| v as i64)
            }
            b'V' if meta.virtual_size.is_none() => meta.virtual_size = parse_hex(&line[1..]),
            b'Z' if meta.plain_size.is_none() => meta.plain_size = parse_hex(&line[1..]),
            b'P' if meta.pop3_uidl.is_none() => meta.pop3_uidl = Some(value),
            b'O' if meta.pop3_order.is_none() => meta.pop3_order = value.parse().ok(),
            b'X' if meta.ext_refs.is_none() => meta.ext_refs = Some(value),
            b'G' | b'R' | b'V' | b'Z' | b'P' | b'O' | b'X' => {}
            _ => meta.other.push((key, value)),
        }
    }
}

/// Build a complete file exactly as Dovecot writes it: `2 M1e C<hex>`,
/// upper-case size, lower-case metadata, keys in Dovecot's order.
pub fn encode(body: &[u8], meta: &DboxMetadata, create_time: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 128);
    out.extend_from_slice(format!("2 M{MSG_HEADER_SIZE:x} C{create_time:x}\n").as_bytes());
    out.extend_from_slice(&MSG_MAGIC);
    out.extend_from_slice(b"N          ");
    out.extend_from_slice(format!("{:016X}\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&METADATA_MAGIC);
    let mut line = |k: u8, v: &str| {
        out.push(k);
        out.extend_from_slice(v.as_bytes());
        out.push(b'\n');
    };
    if let Some(z) = meta.plain_size {
        line(b'Z', &format!("{z:x}"));
    }
    if let Some(r) = meta.received {
        line(b'R', &format!("{:x}", r.max(0)));
    }
    if let Some(v) = meta.virtual_size {
        line(b'V', &format!("{v:x}"));
    }
    if let Some(p) = &meta.pop3_uidl {
        line(b'P', &sanitize(p));
    }
    if let Some(o) = meta.pop3_order {
        line(b'O', &o.to_string());
    }
    if let Some(g) = &meta.guid {
        line(b'G', &sanitize(g));
    }
    if let Some(x) = &meta.ext_refs {
        line(b'X', &sanitize(x));
    }
    for (k, v) in &meta.other {
        if k.is_ascii_uppercase() {
            line(*k, &sanitize(v));
        }
    }
    out.push(b'\n');
    out
}

fn sanitize(v: &str) -> String {
    v.chars().filter(|&c| c != '\n' && c != '\r').collect()
}

/// Convert line endings to LF, as Dovecot stores them in sdbox.
pub fn to_lf(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'\r' && input.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// Wire form: every bare LF becomes CRLF. Length equals `virtual_size`.
pub fn to_crlf(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 32);
    for (i, &b) in input.iter().enumerate() {
        if b == b'\n' && (i == 0 || input[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// RFC822.SIZE: the size with every line ending counted as CRLF.
pub fn virtual_size(body: &[u8]) -> u64 {
    let bare_lf = body
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' && (i == 0 || body[i - 1] != b'\r'))
        .count();
    (body.len() + bare_lf) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Archive/u.1 sample of the format doc (APPEND with an INTERNALDATE).
    fn dovecot_sample(body: &[u8]) -> Vec<u8> {
        let mut f = b"2 M1e C6b0ab961\n".to_vec();
        f.extend_from_slice(b"\x01\x02N          ");
        f.extend_from_slice(format!("{:016X}\n", body.len()).as_bytes());
        f.extend_from_slice(body);
        f.extend_from_slice(b"\n\x01\x03\nR5ec12740\nV39\nG58006a3861b90a6b6141000083ecc375\n\n");
        f
    }

    #[test]
    fn reads_dovecot_sample() {
        let body = vec![b'x'; 53];
        let f = dovecot_sample(&body);
        let h = parse_header(&f).unwrap();
        assert_eq!(h.version, 2);
        assert_eq!(h.create_time, Some(0x6b0ab961));
        assert_eq!(h.body_offset, 16 + 30);
        assert_eq!(h.body_size, 53);
        let end = (h.body_offset + h.body_size) as usize;
        assert_eq!(&f[h.body_offset as usize..end], &body[..]);
        let m = parse_metadata(&f[end..]).unwrap();
        assert_eq!(m.received, Some(0x5ec12740));
        assert_eq!(m.virtual_size, Some(0x39));
        assert_eq!(m.guid.as_deref(), Some("58006a3861b90a6b6141000083ecc375"));
    }

    #[test]
    fn writes_byte_identical_to_dovecot() {
        let body = vec![b'x'; 53];
        let meta = DboxMetadata {
            guid: Some("58006a3861b90a6b6141000083ecc375".into()),
            received: Some(0x5ec12740),
            virtual_size: Some(0x39),
            ..Default::default()
        };
        assert_eq!(encode(&body, &meta, 0x6b0ab961), dovecot_sample(&body));
    }

    #[test]
    fn accepts_variants() {
        // No C field, M20 (32-byte header with padding), unknown key Q, lower-case size.
        let mut f = b"2 M20\n\x01\x02N          000000000000000a  \n".to_vec();
        f.extend_from_slice(b"0123456789\n\x01\x03\nQfoo\nGnot-hex\n\n");
        let h = parse_header(&f).unwrap();
        assert_eq!(
            (h.body_offset, h.body_size, h.create_time),
            (6 + 32, 10, None)
        );
        let m = parse_metadata(&f[48..]).unwrap();
        assert_eq!(m.guid.as_deref(), Some("not-hex"));
        assert_eq!(m.other, vec![(b'Q', "foo".to_string())]);
        // Legacy v1 space padding ends the block; duplicated key: first wins.
        let m = parse_metadata(b"\n\x01\x03\nR10\nR20\n   padding").unwrap();
        assert_eq!(m.received, Some(16));
    }

    #[test]
    fn rejects_corrupt() {
        assert_eq!(
            parse_header(b"Return-Path: <a@b>\n"),
            Err(DboxError::BadVersion)
        );
        assert_eq!(parse_header(b"2 C5\n"), Err(DboxError::BadHeaderSize));
        assert_eq!(parse_header(b"2 M1e\n\x01\x02N"), Err(DboxError::Truncated));
        assert_eq!(parse_header(b"2 M0\n"), Err(DboxError::BadHeaderSize));
        assert_eq!(parse_header(b"2 M1e"), Err(DboxError::NoHeaderLine));
        let bad_size = b"2 M1e\n\x01\x02N          00000000000000zz\n";
        assert_eq!(parse_header(bad_size), Err(DboxError::BadSize));
        assert_eq!(parse_metadata(b"xx"), Err(DboxError::BadMetadataMagic));
        assert_eq!(
            parse_metadata(b"\n\x01\x03\nR5"),
            Err(DboxError::UnterminatedMetadata)
        );
    }

    #[test]
    fn parsers_are_total() {
        let base = dovecot_sample(b"hello\n");
        let mut seed = 1u32;
        for _ in 0..3000 {
            let mut f = base.clone();
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let pos = (seed >> 8) as usize % f.len();
            f[pos] ^= (seed >> 24) as u8 | 1;
            f.truncate(f.len() - (seed as usize % 5));
            if let Ok(h) = parse_header(&f) {
                let end = (h.body_offset.saturating_add(h.body_size)) as usize;
                if let Some(tail) = f.get(end..) {
                    let _ = parse_metadata(tail);
                }
            }
        }
    }

    #[test]
    fn line_endings() {
        assert_eq!(to_lf(b"a\r\nb\r\n\r"), b"a\nb\n\r");
        assert_eq!(to_crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
        assert_eq!(virtual_size(b"a\nb\r\nc"), 7);
        // The doc's sample: 370 LF bytes with 14 lines -> 384.
        let body: Vec<u8> = (0..14)
            .flat_map(|_| b"abcdefghijklmnopqrstuvwxy\n".to_vec())
            .collect();
        assert_eq!(virtual_size(&body), body.len() as u64 + 14);
    }
}

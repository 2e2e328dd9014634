//! Modified UTF-7 (RFC 3501 §5.1.3): the form IMAP uses on the wire and
//! sdbox/Maildir use for directory names on disk.
//!
//! Decoding is strict (canonical form only) so that one on-disk name maps to
//! exactly one mailbox name and back.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Mutf7Error {
    #[error("byte 0x{0:02x} must not appear unencoded in modified UTF-7")]
    BadDirectByte(u8),
    #[error("unterminated base64 run")]
    Unterminated,
    #[error("invalid base64 character in encoded run")]
    BadBase64,
    #[error("encoded run is not canonical (empty, padded or encodes printable ASCII)")]
    NotCanonical,
    #[error("encoded run is not valid UTF-16")]
    BadUtf16,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn is_direct(c: char) -> bool {
    // Printable US-ASCII except '&' stands for itself.
    ('\x20'..='\x7e').contains(&c) && c != '&'
}

/// Encode a UTF-8 mailbox name as modified UTF-7.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_direct(c) {
            flush_run(&mut pending, &mut out);
            out.push(c);
        } else if c == '&' {
            flush_run(&mut pending, &mut out);
            out.push_str("&-");
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush_run(&mut pending, &mut out);
    out
}

fn flush_run(units: &mut Vec<u16>, out: &mut String) {
    if units.is_empty() {
        return;
    }
    out.push('&');
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let chars = chunk.len() + 1; // 1 byte -> 2 chars, 2 -> 3, 3 -> 4 (no padding)
        for i in 0..chars {
            let idx = ((n >> (18 - 6 * i)) & 0x3f) as usize;
            out.push(ALPHABET[idx] as char);
        }
    }
    out.push('-');
    units.clear();
}

fn b64_value(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

/// Decode a modified UTF-7 name into UTF-8. Rejects non-canonical input.
pub fn decode(encoded: &str) -> Result<String, Mutf7Error> {
    let bytes = encoded.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'&' {
            if !(0x20..=0x7e).contains(&b) {
                return Err(Mutf7Error::BadDirectByte(b));
            }
            out.push(b as char);
            i += 1;
            continue;
        }
        let start = i + 1;
        let Some(rel_end) = bytes[start..].iter().position(|&c| c == b'-') else {
            return Err(Mutf7Error::Unterminated);
        };
        let end = start + rel_end;
        if end == start {
            out.push('&');
            i = end + 1;
            continue;
        }
        decode_run(&bytes[start..end], &mut out)?;
        i = end + 1;
        // Two adjacent runs ("&AOk-&AOk-") are not canonical: they must be merged.
        if bytes.get(i) == Some(&b'&') && bytes.get(i + 1) != Some(&b'-') {
            return Err(Mutf7Error::NotCanonical);
        }
    }
    Ok(out)
}

fn decode_run(run: &[u8], out: &mut String) -> Result<(), Mutf7Error> {
    let mut bits: u32 = 0;
    let mut nbits = 0u32;
    let mut bytes = Vec::with_capacity(run.len());
    for &c in run {
        let v = b64_value(c).ok_or(Mutf7Error::BadBase64)?;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    // Leftover bits must be zero padding of fewer than 6 bits.
    if nbits >= 6 || bits != 0 || bytes.len() % 2 != 0 {
        return Err(Mutf7Error::NotCanonical);
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    let mut decoded = String::new();
    for r in char::decode_utf16(units.iter().copied()) {
        let c = r.map_err(|_| Mutf7Error::BadUtf16)?;
        if is_direct(c) || c == '&' {
            return Err(Mutf7Error::NotCanonical);
        }
        decoded.push(c);
    }
    out.push_str(&decoded);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(encode("Café"), "Caf&AOk-");
        assert_eq!(encode("a&b"), "a&-b");
        assert_eq!(encode("Caf&é"), "Caf&-&AOk-");
        assert_eq!(
            encode("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(
            decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(),
            "~peter/mail/台北/日本語"
        );
        assert_eq!(decode("Caf&AOk-").unwrap(), "Café");
        assert_eq!(decode("&-").unwrap(), "&");
    }

    #[test]
    fn round_trip_non_bmp_and_controls() {
        for s in ["😀 mail", "tab\there", "Ω", "plain", "", "&&", "日本語&x"] {
            assert_eq!(decode(&encode(s)).unwrap(), s, "{s}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode("&AOk"), Err(Mutf7Error::Unterminated));
        assert_eq!(decode("&A!k-"), Err(Mutf7Error::BadBase64));
        assert_eq!(decode("\u{e9}"), Err(Mutf7Error::BadDirectByte(0xc3)));
        // "&AGE-" encodes 'a', which must be written directly.
        assert_eq!(decode("&AGE-"), Err(Mutf7Error::NotCanonical));
        // Non-zero padding bits.
        assert_eq!(decode("&AOl-"), Err(Mutf7Error::NotCanonical));
        // Lone surrogate.
        assert_eq!(decode("&2D0-"), Err(Mutf7Error::BadUtf16));
        assert!(decode("&AOk-&AOk-").is_err());
    }

    #[test]
    fn total_on_arbitrary_bytes() {
        // Any ASCII string either decodes or errors, never panics.
        let mut seed: u32 = 7;
        for _ in 0..5000 {
            let mut s = String::new();
            for _ in 0..(seed % 12) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let alphabet = b"&-AOk+,/ab\x01~";
                let c = alphabet[(seed >> 16) as usize % alphabet.len()];
                s.push(c as char);
            }
            if let Ok(d) = decode(&s) {
                assert_eq!(encode(&d), s);
            }
        }
    }
}

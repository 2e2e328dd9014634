//! Strict base64 (RFC 4648 §4, with padding) for SASL exchanges (RFC 5034).
//!
//! Small enough to keep local: SASL lines are short and the only producer of
//! base64 here is the challenge line. Decoding rejects whitespace, missing
//! padding and misplaced `=`, so a garbled client line is an error, not a
//! silently different credential.

use thiserror::Error;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Why a base64 string was refused.
#[derive(Debug, Error, PartialEq, Eq, Clone, Copy)]
pub enum Base64Error {
    #[error("base64 length is not a multiple of 4")]
    Length,
    #[error("invalid base64 character")]
    Character,
    #[error("misplaced base64 padding")]
    Padding,
}

/// Appends the base64 form of `data` to `out`.
pub fn encode_base64(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b0 = group[0];
        let b1 = group.get(1).copied().unwrap_or(0);
        let b2 = group.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        out.push(ALPHABET[(n >> 18) as usize & 63]);
        out.push(ALPHABET[(n >> 12) as usize & 63]);
        out.push(if group.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if group.len() > 2 {
            ALPHABET[n as usize & 63]
        } else {
            b'='
        });
    }
}

fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes padded base64. The output is never longer than 3/4 of the input.
pub fn decode_base64(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
    if !text.len().is_multiple_of(4) {
        return Err(Base64Error::Length);
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let groups = text.len() / 4;
    for (index, group) in text.chunks_exact(4).enumerate() {
        let last = index + 1 == groups;
        let pad = group.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return Err(Base64Error::Padding);
        }
        let mut n = 0u32;
        for &c in &group[..4 - pad] {
            n = (n << 6) | sextet(c).ok_or(Base64Error::Character)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(data: &[u8]) -> String {
        let mut out = Vec::new();
        encode_base64(data, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc4648_vectors_round_trip() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in vectors {
            assert_eq!(enc(plain.as_bytes()), coded);
            assert_eq!(decode_base64(coded.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn all_byte_values_round_trip() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(decode_base64(enc(&data).as_bytes()).unwrap(), data);
    }

    #[test]
    fn malformed_input_is_refused() {
        assert_eq!(decode_base64(b"Zg="), Err(Base64Error::Length));
        assert_eq!(decode_base64(b"Z g="), Err(Base64Error::Character));
        assert_eq!(decode_base64(b"Zg==Zm8="), Err(Base64Error::Padding));
        assert_eq!(decode_base64(b"Z==="), Err(Base64Error::Padding));
        assert_eq!(decode_base64(b"Zm=v"), Err(Base64Error::Character));
        assert_eq!(
            decode_base64(b"\xff\xff\xff\xff"),
            Err(Base64Error::Character)
        );
    }
}

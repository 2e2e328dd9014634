//! Standard base64 (RFC 4648, with padding) for SASL exchanges, as the codec
//! needs it: append-to-buffer encoding and strict decoding. The work is done
//! by the `base64` crate the rest of the server uses too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub fn encode(input: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + input.len().div_ceil(3) * 4, 0);
    // The buffer was sized for the padded output, so this cannot fail.
    let n = STANDARD.encode_slice(input, &mut out[start..]).unwrap_or(0);
    out.truncate(start + n);
}

/// Decodes padded base64; `None` on any invalid byte, bad length or bad
/// padding.
pub fn decode(input: &[u8]) -> Option<Vec<u8>> {
    STANDARD.decode(input).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for input in [&b""[..], b"f", b"fo", b"foo", b"foob", b"\0user\0pass\xff"] {
            let mut enc = Vec::new();
            encode(input, &mut enc);
            assert_eq!(decode(&enc).as_deref(), Some(input));
        }
        let mut enc = Vec::new();
        encode(b"\0tim\0tanstaaftanstaaf", &mut enc);
        assert_eq!(enc, b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode(b"abc"), None);
        assert_eq!(decode(b"a=bc"), None);
        assert_eq!(decode(b"ab==abcd"), None);
        assert_eq!(decode(b"a==="), None);
        assert_eq!(decode(b"ab!d"), None);
    }
}

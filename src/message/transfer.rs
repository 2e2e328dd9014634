//! Content-transfer decoding, charset decoding and the CRLF-canonical
//! form that IMAP sizes are counted on.
//!
//! Sizes: IMAP sizes (RFC822.SIZE, body octets, partial offsets) are those
//! of the message with every line ending as CRLF. A bare LF therefore counts
//! two octets, exactly like Dovecot's "virtual size". Lines are the number
//! of LF bytes.

use std::borrow::Cow;

use mail_parser::decoders::charsets::map::charset_decoder;

/// Content-Transfer-Encoding of a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// 7bit, 8bit, binary, or absent: the bytes are the content.
    Identity,
    Base64,
    QuotedPrintable,
    /// Anything else: BINARY must answer `[UNKNOWN-CTE]`.
    Unknown,
}

impl TransferEncoding {
    /// Classifies a raw Content-Transfer-Encoding value (`None` = absent).
    pub fn from_header(value: Option<&[u8]>) -> TransferEncoding {
        let Some(value) = value else {
            return TransferEncoding::Identity;
        };
        let v = value.trim_ascii();
        if v.eq_ignore_ascii_case(b"7bit")
            || v.eq_ignore_ascii_case(b"8bit")
            || v.eq_ignore_ascii_case(b"binary")
            || v.is_empty()
        {
            TransferEncoding::Identity
        } else if v.eq_ignore_ascii_case(b"base64") {
            TransferEncoding::Base64
        } else if v.eq_ignore_ascii_case(b"quoted-printable") {
            TransferEncoding::QuotedPrintable
        } else {
            TransferEncoding::Unknown
        }
    }
}

/// Octets of `bytes` once bare LFs are counted as CRLF, and its LF count.
pub fn canonical_size(bytes: &[u8]) -> (u64, u64) {
    let mut lines = 0u64;
    let mut bare = 0u64;
    for i in memchr::memchr_iter(b'\n', bytes) {
        lines += 1;
        if i == 0 || bytes[i - 1] != b'\r' {
            bare += 1;
        }
    }
    (bytes.len() as u64 + bare, lines)
}

/// The bytes with every bare LF turned into CRLF; borrowed when already so.
pub fn to_crlf(bytes: &[u8]) -> Cow<'_, [u8]> {
    let has_bare = memchr::memchr_iter(b'\n', bytes).any(|i| i == 0 || bytes[i - 1] != b'\r');
    if !has_bare {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    Cow::Owned(out)
}

fn base64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Lenient base64: bytes outside the alphabet are skipped, `=` ends the
/// data, a dangling partial group yields what it can. Returns the data and
/// whether the input was clean.
pub fn decode_base64(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut n = 0u8;
    let mut clean = true;
    for &b in input {
        if let Some(v) = base64_value(b) {
            acc = (acc << 6) | u32::from(v);
            n += 1;
            if n == 4 {
                out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
                acc = 0;
                n = 0;
            }
        } else if b == b'=' {
            break;
        } else if !matches!(b, b'\r' | b'\n' | b' ' | b'\t') {
            clean = false;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        1 => clean = false,
        _ => {}
    }
    (out, clean)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Lenient quoted-printable: soft line breaks are removed, trailing blanks
/// before a line end are dropped (RFC 2045 §6.7 rule 3), bad `=` sequences
/// are kept literally. Line ends come out as CRLF.
pub fn decode_quoted_printable(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    let mut clean = true;
    let mut lines = input.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let has_lf = lines.peek().is_some();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = line.trim_ascii_end();
        let mut i = 0;
        let mut soft_break = false;
        while i < line.len() {
            let b = line[i];
            if b == b'=' {
                if i + 1 == line.len() {
                    soft_break = true;
                    break;
                }
                if let (Some(h), Some(l)) = (
                    line.get(i + 1).and_then(|&c| hex_value(c)),
                    line.get(i + 2).and_then(|&c| hex_value(c)),
                ) {
                    out.push((h << 4) | l);
                    i += 3;
                    continue;
                }
                clean = false;
            }
            out.push(b);
            i += 1;
        }
        if has_lf && !soft_break {
            out.extend_from_slice(b"\r\n");
        }
    }
    (out, clean)
}

/// Decodes a part body per its transfer encoding. `None` for an unknown
/// encoding. Identity bodies are given back in CRLF-canonical form.
pub fn decode_transfer(body: &[u8], encoding: TransferEncoding) -> Option<Cow<'_, [u8]>> {
    match encoding {
        TransferEncoding::Identity => Some(to_crlf(body)),
        TransferEncoding::Base64 => Some(Cow::Owned(decode_base64(body).0)),
        TransferEncoding::QuotedPrintable => Some(Cow::Owned(decode_quoted_printable(body).0)),
        TransferEncoding::Unknown => None,
    }
}

/// Decodes bytes in `charset` to text. Without a charset, or with one
/// mail-parser does not know, valid UTF-8 is taken as is and anything else
/// as Windows-1252 (the usual truth behind unlabeled 8-bit mail).
pub fn decode_charset(bytes: &[u8], charset: Option<&[u8]>) -> String {
    let charset = charset.map(|c| c.trim_ascii());
    let is_utf8_label = charset
        .is_some_and(|c| c.eq_ignore_ascii_case(b"utf-8") || c.eq_ignore_ascii_case(b"utf8"));
    // US-ASCII text with 8-bit bytes is read as UTF-8 when it is that
    // (as Dovecot does); 7-bit ISO-2022 / UTF-7 text needs its decoder.
    let ascii_label = charset
        .is_some_and(|c| c.eq_ignore_ascii_case(b"us-ascii") || c.eq_ignore_ascii_case(b"ascii"));
    let stateful = charset.is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        c.starts_with(b"iso-2022") || c.starts_with(b"utf-7") || c.starts_with(b"hz")
    });
    if charset.is_none() || is_utf8_label || ascii_label || (bytes.is_ascii() && !stateful) {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return s.to_owned();
        }
        if is_utf8_label {
            return String::from_utf8_lossy(bytes).into_owned();
        }
    }
    if let Some(decoder) = charset.and_then(charset_decoder) {
        return decoder(bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => charset_decoder(b"windows-1252")
            .map_or_else(|| String::from_utf8_lossy(bytes).into_owned(), |d| d(bytes)),
    }
}

/// `bytes` in the charset named `label` as UTF-8, or `None` when the
/// charset is one the decoders do not know. UTF-8 itself must be valid.
pub fn charset_to_utf8(bytes: &[u8], label: &[u8]) -> Option<String> {
    let label = label.trim_ascii();
    if label.eq_ignore_ascii_case(b"utf-8") || label.eq_ignore_ascii_case(b"utf8") {
        return std::str::from_utf8(bytes).ok().map(str::to_owned);
    }
    charset_decoder(label).map(|decode| decode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_bare_lf_as_crlf() {
        assert_eq!(canonical_size(b"a\r\nb\nc"), (7, 2));
        assert_eq!(canonical_size(b"\n"), (2, 1));
        assert_eq!(canonical_size(b""), (0, 0));
        assert_eq!(&*to_crlf(b"a\nb\r\n"), b"a\r\nb\r\n");
        assert!(matches!(to_crlf(b"a\r\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn encodings_classified() {
        assert_eq!(
            TransferEncoding::from_header(None),
            TransferEncoding::Identity
        );
        assert_eq!(
            TransferEncoding::from_header(Some(b" BASE64 ")),
            TransferEncoding::Base64
        );
        assert_eq!(
            TransferEncoding::from_header(Some(b" Quoted-Printable")),
            TransferEncoding::QuotedPrintable
        );
        assert_eq!(
            TransferEncoding::from_header(Some(b" 8bit")),
            TransferEncoding::Identity
        );
        assert_eq!(
            TransferEncoding::from_header(Some(b" x-uuencode")),
            TransferEncoding::Unknown
        );
    }

    #[test]
    fn base64_clean_and_dirty() {
        assert_eq!(
            decode_base64(b"SGVs\r\nbG8=\r\n"),
            (b"Hello".to_vec(), true)
        );
        assert_eq!(decode_base64(b"SGVsbA"), (b"Hell".to_vec(), true));
        let (data, clean) = decode_base64(b"SG!Vs*bG8");
        assert_eq!(data, b"Hello");
        assert!(!clean);
        assert!(!decode_base64(b"S").1);
    }

    #[test]
    fn quoted_printable() {
        assert_eq!(
            decode_quoted_printable(b"Caf=E9 =\r\nau lait  \r\nx=3d").0,
            b"Caf\xe9 au lait\r\nx="
        );
        let (data, clean) = decode_quoted_printable(b"bad =ZZ end=");
        assert_eq!(data, b"bad =ZZ end");
        assert!(!clean);
        assert_eq!(decode_quoted_printable(b"a\nb\n").0, b"a\r\nb\r\n");
    }

    #[test]
    fn charsets() {
        assert_eq!(decode_charset(b"caf\xe9", Some(b"ISO-8859-1")), "café");
        assert_eq!(decode_charset("café".as_bytes(), Some(b"utf-8")), "café");
        assert_eq!(decode_charset("café".as_bytes(), None), "café");
        assert_eq!(decode_charset(b"caf\xe9", None), "café");
        assert_eq!(decode_charset(b"caf\xe9", Some(b"x-unknown")), "café");
        assert_eq!(decode_charset(b"\xff", Some(b"utf-8")), "\u{fffd}");
    }
}

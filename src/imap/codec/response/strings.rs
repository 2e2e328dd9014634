//! Choosing atom / quoted / literal for strings sent to the client.

use super::write_number;
use crate::imap::codec::types::{Mailbox, is_astring_char};

fn quotable(bytes: &[u8], utf8: bool) -> bool {
    if bytes.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        return false;
    }
    bytes.is_ascii() || (utf8 && std::str::from_utf8(bytes).is_ok())
}

fn write_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &b in bytes {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn write_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'{');
    write_number(out, bytes.len() as u64);
    out.extend_from_slice(b"}\r\n");
    out.extend_from_slice(bytes);
}

/// `string`: quoted where safe (no CR/LF/NUL; 8-bit only as UTF-8 when
/// `utf8`), a literal otherwise.
pub fn write_string(out: &mut Vec<u8>, bytes: &[u8], utf8: bool) {
    if quotable(bytes, utf8) {
        write_quoted(out, bytes);
    } else {
        write_literal(out, bytes);
    }
}

/// `astring`: a bare atom when possible (never the word NIL, which a
/// client could read as nil), else as [`write_string`].
pub fn write_astring(out: &mut Vec<u8>, bytes: &[u8], utf8: bool) {
    if !bytes.is_empty()
        && bytes.iter().all(|&b| is_astring_char(b))
        && !bytes.eq_ignore_ascii_case(b"NIL")
    {
        out.extend_from_slice(bytes);
    } else {
        write_string(out, bytes, utf8);
    }
}

/// `nstring`: NIL or a string.
pub fn write_nstring(out: &mut Vec<u8>, bytes: Option<&[u8]>, utf8: bool) {
    match bytes {
        Some(b) => write_string(out, b, utf8),
        None => out.extend_from_slice(b"NIL"),
    }
}

pub fn write_mailbox(out: &mut Vec<u8>, mailbox: &Mailbox, utf8: bool) {
    write_astring(out, mailbox.as_bytes(), utf8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn astring(b: &[u8], utf8: bool) -> Vec<u8> {
        let mut out = Vec::new();
        write_astring(&mut out, b, utf8);
        out
    }

    #[test]
    fn picks_the_right_form() {
        assert_eq!(astring(b"INBOX", false), b"INBOX");
        assert_eq!(astring(b"a]b", false), b"a]b");
        assert_eq!(astring(b"", false), b"\"\"");
        assert_eq!(astring(b"nil", false), b"\"nil\"");
        assert_eq!(astring(b"a b", false), b"\"a b\"");
        assert_eq!(astring(b"a\"\\", false), b"\"a\\\"\\\\\"");
        assert_eq!(astring(b"a\r\nb", false), b"{4}\r\na\r\nb");
        assert_eq!(
            astring("Entwürfe".as_bytes(), false),
            b"{9}\r\nEntw\xc3\xbcrfe"
        );
        assert_eq!(
            astring("Entwürfe".as_bytes(), true),
            "\"Entwürfe\"".as_bytes()
        );
        assert_eq!(astring(b"\xff", true), b"{1}\r\n\xff");
        let mut out = Vec::new();
        write_nstring(&mut out, None, false);
        assert_eq!(out, b"NIL");
    }
}

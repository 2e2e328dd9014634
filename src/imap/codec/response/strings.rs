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

/// Longest ENVELOPE / BODYSTRUCTURE value sent as a quoted string; longer
/// ones become literals (long quoted strings overflow some clients' line
/// buffers; literals are always safe).
pub const MAX_QUOTED_STRUCTURE_VALUE: usize = 1024;

/// A `string` inside ENVELOPE or BODYSTRUCTURE. Unlike [`write_string`]
/// this does not depend on UTF8=ACCEPT: header values go out as Dovecot
/// sends them, quoted unless they hold CR, LF or 8-bit bytes or are longer
/// than [`MAX_QUOTED_STRUCTURE_VALUE`], a literal otherwise.
///
/// NUL can appear in neither form, so it is replaced by `?`: a mangled byte
/// is better than a protocol error that breaks the whole FETCH response.
pub fn write_structure_string(out: &mut Vec<u8>, value: &[u8]) {
    let needs_literal = value.len() > MAX_QUOTED_STRUCTURE_VALUE
        || value.iter().any(|&b| b == b'\r' || b == b'\n' || b >= 0x80);
    if needs_literal {
        out.push(b'{');
        write_number(out, value.len() as u64);
        out.extend_from_slice(b"}\r\n");
        out.extend(value.iter().map(|&b| if b == 0 { b'?' } else { b }));
    } else {
        out.push(b'"');
        for &b in value {
            match b {
                b'"' | b'\\' => {
                    out.push(b'\\');
                    out.push(b);
                }
                0 => out.push(b'?'),
                _ => out.push(b),
            }
        }
        out.push(b'"');
    }
}

/// NIL or a [`write_structure_string`].
pub fn write_structure_nstring(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(v) => write_structure_string(out, v),
        None => out.extend_from_slice(b"NIL"),
    }
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

    fn structure(v: &[u8]) -> String {
        let mut out = Vec::new();
        write_structure_string(&mut out, v);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn structure_values_quote_and_escape() {
        assert_eq!(structure(b"plain"), "\"plain\"");
        assert_eq!(structure(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(structure(b""), "\"\"");
        let mut out = Vec::new();
        write_structure_nstring(&mut out, None);
        assert_eq!(out, b"NIL");
    }

    #[test]
    fn structure_values_literal_for_crlf_8bit_and_long() {
        assert_eq!(structure(b"a\r\nb"), "{4}\r\na\r\nb");
        assert_eq!(structure("é".as_bytes()), "{2}\r\né");
        let long = vec![b'x'; MAX_QUOTED_STRUCTURE_VALUE + 1];
        assert!(structure(&long).starts_with("{1025}\r\n"));
        let at_limit = vec![b'x'; MAX_QUOTED_STRUCTURE_VALUE];
        assert!(structure(&at_limit).starts_with("\"xx"));
    }

    #[test]
    fn structure_values_replace_nul() {
        assert_eq!(structure(b"a\0b"), "\"a?b\"");
        assert_eq!(structure(b"\0\r\n"), "{3}\r\n?\r\n");
    }
}

//! IMAP string output shared by ENVELOPE and BODYSTRUCTURE.
//!
//! Strings go out as quoted strings when they can, and as literals when a
//! quoted string cannot carry them: CR, LF, 8-bit bytes, or a length above
//! [`MAX_QUOTED_LEN`] (long quoted strings make some clients' line buffers
//! overflow, and literals are always safe).

/// Longest value sent as a quoted string; longer ones become literals.
pub const MAX_QUOTED_LEN: usize = 1024;

/// Writes `NIL`.
pub fn write_nil(out: &mut Vec<u8>) {
    out.extend_from_slice(b"NIL");
}

/// Writes a string as quoted string or literal (see the module docs).
///
/// NUL can appear in neither form, so it is replaced by `?`: a mangled byte
/// is better than a protocol error that breaks the whole FETCH response.
pub fn write_string(out: &mut Vec<u8>, value: &[u8]) {
    let needs_literal = value.len() > MAX_QUOTED_LEN
        || value.iter().any(|&b| b == b'\r' || b == b'\n' || b >= 0x80);
    if needs_literal {
        out.push(b'{');
        out.extend_from_slice(value.len().to_string().as_bytes());
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

/// Writes `NIL` for `None`, else the string.
pub fn write_nstring(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(v) => write_string(out, v),
        None => write_nil(out),
    }
}

/// Writes a decimal number.
pub fn write_number(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(n.to_string().as_bytes());
}

/// Writes `("name" "value" ...)` or `NIL` when there are no parameters.
pub fn write_params(out: &mut Vec<u8>, params: &[(Vec<u8>, Vec<u8>)]) {
    if params.is_empty() {
        write_nil(out);
        return;
    }
    out.push(b'(');
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_string(out, name);
        out.push(b' ');
        write_string(out, value);
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[u8]) -> String {
        let mut out = Vec::new();
        write_string(&mut out, v);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(s(b"plain"), "\"plain\"");
        assert_eq!(s(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(s(b""), "\"\"");
    }

    #[test]
    fn literal_for_crlf_8bit_and_long() {
        assert_eq!(s(b"a\r\nb"), "{4}\r\na\r\nb");
        assert_eq!(s("é".as_bytes()), "{2}\r\né");
        let long = vec![b'x'; MAX_QUOTED_LEN + 1];
        assert!(s(&long).starts_with("{1025}\r\n"));
    }

    #[test]
    fn nul_is_replaced() {
        assert_eq!(s(b"a\0b"), "\"a?b\"");
    }

    #[test]
    fn params_nil_and_list() {
        let mut out = Vec::new();
        write_params(&mut out, &[]);
        assert_eq!(out, b"NIL");
        out.clear();
        write_params(
            &mut out,
            &[
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"2".to_vec()),
            ],
        );
        assert_eq!(out, b"(\"a\" \"1\" \"b\" \"2\")");
    }
}

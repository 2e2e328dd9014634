//! Which synchronizing literals the server accepts (answering `+ OK`,
//! which the driver sends) and which it refuses before the client sends
//! them (RFC 9051 §7.5: the server may refuse by answering instead).

/// Literals announced before login must be small: only LOGIN and
/// AUTHENTICATE take them there.
pub const PRELOGIN_LITERAL_MAX: u64 = 8 * 1024;

/// The command name (second word) of a partial frame, upper-cased.
fn command_word(partial: &[u8]) -> Vec<u8> {
    partial
        .split(|&b| b == b' ')
        .nth(1)
        .map(|w| {
            let end = w
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .unwrap_or(w.len());
            w[..end].to_ascii_uppercase()
        })
        .unwrap_or_default()
}

/// Whether to refuse a synchronizing literal before sending `+`
/// (RFC 9051 §7.5: the server may refuse by answering instead). `None`
/// accepts; `Some(too_big)` refuses.
pub fn literal_verdict(partial: &[u8], len: u64, logged_in: bool, limit: u64) -> Option<bool> {
    let word = command_word(partial);
    if !logged_in {
        let allowed = word == b"LOGIN" || word == b"AUTHENTICATE";
        return (!allowed || len > PRELOGIN_LITERAL_MAX).then_some(false);
    }
    if len > limit {
        return Some(word == b"APPEND");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_refused_by_state_and_size() {
        assert_eq!(literal_verdict(b"a LOGIN {5}\r\n", 5, false, 100), None);
        assert_eq!(literal_verdict(b"a login joe {5}\r\n", 5, false, 100), None);
        assert_eq!(
            literal_verdict(b"a APPEND INBOX {5}\r\n", 5, false, 100),
            Some(false)
        );
        assert_eq!(
            literal_verdict(b"a LOGIN {99999}\r\n", 99_999, false, 1 << 30),
            Some(false)
        );
        assert_eq!(
            literal_verdict(b"a APPEND INBOX {500}\r\n", 500, true, 100),
            Some(true)
        );
        assert_eq!(
            literal_verdict(b"a SEARCH TEXT {500}\r\n", 500, true, 100),
            Some(false)
        );
        assert_eq!(
            literal_verdict(b"a APPEND INBOX {50}\r\n", 50, true, 100),
            None
        );
    }
}

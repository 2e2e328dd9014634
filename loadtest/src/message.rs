//! Generated test messages: valid RFC 5322, CRLF line ends, no line that
//! starts with a dot (so it needs no dot-stuffing for LMTP).

/// A message of about `size` bytes (at least the headers), ending in CRLF.
pub fn make(size: usize, seq: u64, to: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(size + 80);
    m.extend_from_slice(
        format!(
            "From: Load Generator <loadgen@example.org>\r\n\
             To: <{to}>\r\n\
             Subject: load test message {seq}\r\n\
             Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n\
             Message-ID: <{seq}.loadtest@example.org>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        )
        .as_bytes(),
    );
    const LINE: &[u8] =
        b"The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstu\r\n";
    while m.len() + LINE.len() <= size {
        m.extend_from_slice(LINE);
    }
    if !m.ends_with(b"\r\n") {
        m.extend_from_slice(b"\r\n");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let m = make(4096, 7, "u1@example.org");
        assert!(m.len() <= 4096 && m.len() > 4000);
        assert!(m.ends_with(b"\r\n"));
        assert!(!m.windows(3).any(|w| w == b"\n.\r" || w == b"\n.."));
        assert!(m.windows(2).filter(|w| *w == b"\r\n").count() > 40);
        assert!(
            !m.iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && (i == 0 || m[i - 1] != b'\r'))
        );
        let small = make(0, 1, "x");
        assert!(small.ends_with(b"\r\n\r\n"));
    }
}

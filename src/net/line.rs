//! Line framing shared by the POP3 and LMTP command codecs, and the split of
//! a framed line into its command keyword and arguments (pure: no I/O).
//!
//! The framer is fed whatever bytes the socket produced and hands back one
//! complete line at a time. It never holds more than `max_line` bytes, so a
//! client that never sends LF cannot make us allocate: an overlong line is
//! swallowed up to its LF and reported as [`Framed::TooLong`] *at that LF*,
//! which keeps the error reply in step with pipelined commands.
//!
//! The framer only consumes input up to and including the LF that ends a
//! line. Bytes after it stay with the caller, which is what LMTP `DATA` needs:
//! the body that follows a pipelined `DATA` line goes to the body decoder.

/// One framing result.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    /// A complete line, without its CRLF (or bare LF).
    Line(&'a [u8]),
    /// A line longer than the cap ended; its bytes were discarded.
    TooLong,
}

/// Splits a byte stream into lines of at most `max_line` octets, counting
/// the terminating CRLF (the way RFC 2449 and RFC 5321 count).
#[derive(Debug)]
pub struct LineFramer {
    max_line: usize,
    partial: Vec<u8>,
    discarding: bool,
    /// The previous call handed out `partial` as a line; clear it first.
    line_returned: bool,
    /// The last line handed out ended with a bare LF rather than CRLF.
    last_bare_lf: bool,
}

impl LineFramer {
    /// `max_line` includes the CRLF; values below 3 are raised to 3 so that
    /// at least one octet of content fits.
    pub fn new(max_line: usize) -> Self {
        Self {
            max_line: max_line.max(3),
            partial: Vec::new(),
            discarding: false,
            line_returned: false,
            last_bare_lf: false,
        }
    }

    /// True when the last line [`feed`](Self::feed) returned ended with a
    /// bare LF. POP3 accepts that leniency; LMTP refuses such lines, since a
    /// bare LF that one hop ignores and the next honours is how SMTP
    /// smuggling splits one transaction into two.
    pub fn last_line_had_bare_lf(&self) -> bool {
        self.last_bare_lf
    }

    /// Largest line accepted, CRLF included.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// True when part of a line is buffered (or being discarded), i.e. the
    /// peer is in the middle of a command.
    pub fn has_partial_line(&self) -> bool {
        self.discarding || (!self.line_returned && !self.partial.is_empty())
    }

    /// Consumes bytes from `input` until one line is complete or the input is
    /// exhausted. Returns how many bytes were consumed and the line, if one
    /// ended. Call again with `&input[consumed..]` to get the next line.
    pub fn feed<'s>(&'s mut self, input: &[u8]) -> (usize, Option<Framed<'s>>) {
        if self.line_returned {
            self.line_returned = false;
            self.partial.clear();
        }
        match memchr::memchr(b'\n', input) {
            None => {
                self.absorb(input);
                (input.len(), None)
            }
            Some(lf) => {
                self.absorb(&input[..lf]);
                let consumed = lf + 1;
                if self.discarding {
                    self.discarding = false;
                    self.partial.clear();
                    return (consumed, Some(Framed::TooLong));
                }
                self.last_bare_lf = self.partial.last() != Some(&b'\r');
                if !self.last_bare_lf {
                    self.partial.pop();
                }
                // Content plus CRLF must fit, whichever terminator was used.
                if self.partial.len() + 2 > self.max_line {
                    self.partial.clear();
                    return (consumed, Some(Framed::TooLong));
                }
                // The line is lent out; it is cleared on the next call.
                self.line_returned = true;
                (consumed, Some(Framed::Line(&self.partial)))
            }
        }
    }

    fn absorb(&mut self, bytes: &[u8]) {
        if self.discarding {
            return;
        }
        // A line whose buffered part already reaches the cap can only end up
        // too long (even a final CR would leave content + CRLF > cap).
        if self.partial.len() + bytes.len() >= self.max_line {
            self.discarding = true;
            self.partial.clear();
            return;
        }
        self.partial.extend_from_slice(bytes);
    }
}

/// A command keyword, upper-cased into a fixed buffer (no allocation per
/// command line).
#[derive(Debug, Clone, Copy)]
pub struct Keyword<const N: usize> {
    upper: [u8; N],
    len: usize,
}

impl<const N: usize> Keyword<N> {
    pub fn as_bytes(&self) -> &[u8] {
        &self.upper[..self.len]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Splits a framed command line at its first space into the keyword and
/// the rest. `None` when the keyword is longer than `N`, the longest keyword
/// the protocol has, so no command can match it.
pub fn split_keyword<const N: usize>(line: &[u8]) -> Option<(Keyword<N>, &[u8])> {
    let (keyword, rest) = match memchr::memchr(b' ', line) {
        Some(space) => (&line[..space], &line[space + 1..]),
        None => (line, &[][..]),
    };
    let mut upper = [0u8; N];
    upper
        .get_mut(..keyword.len())?
        .iter_mut()
        .zip(keyword)
        .for_each(|(slot, byte)| *slot = byte.to_ascii_uppercase());
    let keyword = Keyword {
        upper,
        len: keyword.len(),
    };
    Some((keyword, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_split_at_the_first_space_and_upper_cased() {
        let (keyword, rest) = split_keyword::<4>(b"retr 1 2").unwrap();
        assert_eq!((keyword.as_bytes(), rest), (&b"RETR"[..], &b"1 2"[..]));
        let (keyword, rest) = split_keyword::<4>(b"NOOP").unwrap();
        assert_eq!((keyword.as_bytes(), rest), (&b"NOOP"[..], &b""[..]));
        let (keyword, rest) = split_keyword::<4>(b" STAT").unwrap();
        assert!(keyword.is_empty());
        assert_eq!(rest, b"STAT");
        assert!(
            split_keyword::<4>(b"STATUS").is_none(),
            "longer than any keyword"
        );
        assert!(split_keyword::<8>(b"STARTTLS").is_some());
    }

    /// Feeds `input` in pieces of `chunk` bytes and collects every frame.
    fn frames(max: usize, input: &[u8], chunk: usize) -> Vec<Option<Vec<u8>>> {
        let mut framer = LineFramer::new(max);
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            let mut rest = piece;
            while !rest.is_empty() {
                let (used, frame) = framer.feed(rest);
                match frame {
                    Some(Framed::Line(l)) => out.push(Some(l.to_vec())),
                    Some(Framed::TooLong) => out.push(None),
                    None => {}
                }
                rest = &rest[used..];
            }
        }
        out
    }

    #[test]
    fn splits_crlf_and_bare_lf_lines() {
        let got = frames(100, b"STAT\r\nLIST 1\nQUIT\r\n", 1000);
        assert_eq!(
            got,
            vec![
                Some(b"STAT".to_vec()),
                Some(b"LIST 1".to_vec()),
                Some(b"QUIT".to_vec())
            ]
        );
    }

    #[test]
    fn bare_lf_is_reported_for_the_last_line() {
        let mut framer = LineFramer::new(100);
        let input = b"A\r\nB\nC\r\r\n";
        let (used, frame) = framer.feed(input);
        assert_eq!(frame, Some(Framed::Line(b"A")));
        assert!(!framer.last_line_had_bare_lf());
        let (used2, frame) = framer.feed(&input[used..]);
        assert_eq!(frame, Some(Framed::Line(b"B")));
        assert!(framer.last_line_had_bare_lf());
        let (_, frame) = framer.feed(&input[used + used2..]);
        // Only the CR right before the LF is the line ending; another stays.
        assert_eq!(frame, Some(Framed::Line(b"C\r")));
        assert!(!framer.last_line_had_bare_lf());
    }

    #[test]
    fn every_chunk_size_gives_the_same_frames() {
        let input = b"USER a\r\nPASS b c\r\n\r\nNOOP\n";
        let whole = frames(20, input, input.len());
        for chunk in 1..input.len() {
            assert_eq!(frames(20, input, chunk), whole, "chunk {chunk}");
        }
        assert_eq!(whole.len(), 4);
    }

    #[test]
    fn cap_counts_the_crlf() {
        // max 6: "abcd\r\n" is exactly 6 octets and fits; "abcde\r\n" does not.
        assert_eq!(frames(6, b"abcd\r\n", 100), vec![Some(b"abcd".to_vec())]);
        assert_eq!(frames(6, b"abcd\n", 100), vec![Some(b"abcd".to_vec())]);
        assert_eq!(frames(6, b"abcde\r\n", 100), vec![None]);
        assert_eq!(frames(6, b"abcde\n", 100), vec![None]);
        for chunk in 1..7 {
            assert_eq!(
                frames(6, b"abcde\r\nok\r\n", chunk),
                vec![None, Some(b"ok".to_vec())]
            );
        }
    }

    #[test]
    fn overlong_line_is_discarded_and_framing_continues() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\r\nNOOP\r\n");
        for chunk in [1, 7, 255, 10_000] {
            assert_eq!(
                frames(255, &input, chunk),
                vec![None, Some(b"NOOP".to_vec())]
            );
        }
    }

    #[test]
    fn memory_stays_bounded_without_lf() {
        let mut framer = LineFramer::new(64);
        for _ in 0..1000 {
            let (used, frame) = framer.feed(&[b'a'; 1000]);
            assert_eq!(used, 1000);
            assert!(frame.is_none());
            assert!(framer.partial.capacity() <= 1024);
        }
        assert!(framer.has_partial_line());
    }

    #[test]
    fn leaves_bytes_after_the_line_to_the_caller() {
        let mut framer = LineFramer::new(100);
        let input = b"DATA\r\nbody bytes";
        let (used, frame) = framer.feed(input);
        assert_eq!(frame, Some(Framed::Line(b"DATA")));
        assert_eq!(&input[used..], b"body bytes");
        assert!(!framer.has_partial_line());
    }

    #[test]
    fn tiny_cap_is_raised() {
        assert_eq!(LineFramer::new(0).max_line(), 3);
        assert_eq!(
            frames(0, b"a\r\nab\r\n", 100),
            vec![Some(b"a".to_vec()), None]
        );
    }
}

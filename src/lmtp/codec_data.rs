//! Streaming LMTP `DATA` body decoder (RFC 5321 §4.5.2 dot-unstuffing).
//!
//! Feed socket bytes in chunks of any size; unstuffed message bytes are
//! appended to the caller's buffer (or spool) and the decoder reports how
//! much input it used, so bytes pipelined after the final `.` stay with the
//! caller for the next command.
//!
//! Line endings: CRLF is kept, a bare LF is accepted and stored as CRLF (the
//! mail store and POP3/IMAP sizes assume CRLF; scripts send bare LF). A bare
//! CR is kept as line content. The body ends only at CRLF `.` CRLF (RFC 5321
//! §4.1.1.4): a `.` line that follows a bare LF, or is itself ended by a bare
//! LF, is message content and is stored as a `.` line. Accepting `\n.\n` as
//! the end would let a client smuggle a second transaction past an MTA that
//! does not (see docs/reliability.md, "LMTP: only CRLF.CRLF ends DATA").
//!
//! Size limit: every decoded byte is counted. Once the count passes the
//! limit nothing more is appended to the output, but decoding continues to
//! the end of the body, because SMTP can only refuse the message after the
//! final `.` (then 552 5.3.4 per recipient). So memory stays bounded by the
//! limit, not by what the client sends.

use thiserror::Error;

/// How far one `feed` call got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataProgress {
    /// Input bytes used; the rest belongs to the next command.
    pub consumed: usize,
    /// The terminating `.` line was seen.
    pub complete: bool,
}

/// The finished body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSummary {
    /// Decoded size in octets (CRLF line endings, dots removed).
    pub size: u64,
}

/// Why a finished body was refused.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum DataError {
    #[error("message size {size} exceeds the limit of {limit} octets")]
    TooLarge { size: u64, limit: u64 },
    #[error("the body ended before its terminating '.' line")]
    Incomplete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line.
    LineStart,
    /// Saw `.` at the start of a line.
    Dot,
    /// Saw `.` CR at the start of a line.
    DotCr,
    /// Inside a line.
    Middle,
    /// Saw CR inside a line (held back until we know if LF follows).
    Cr,
    /// Saw the terminator.
    Done,
}

/// The decoder for one DATA body.
#[derive(Debug, Clone)]
pub struct DataDecoder {
    state: State,
    /// The current line began after CRLF (or is the body's first line), so
    /// a `.` CRLF on it is the terminator.
    after_crlf: bool,
    size: u64,
    limit: Option<u64>,
    over_limit: bool,
}

impl DataDecoder {
    /// `limit` is the largest accepted size in octets (`None`: no limit).
    pub fn new(limit: Option<u64>) -> Self {
        Self {
            state: State::LineStart,
            after_crlf: true,
            size: 0,
            limit,
            over_limit: false,
        }
    }

    /// True once the body passed the limit; the caller may drop what it has
    /// spooled so far (the output stopped growing at that point).
    pub fn is_over_limit(&self) -> bool {
        self.over_limit
    }

    /// Decoded octets so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Decodes from `input`, appending body bytes to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> DataProgress {
        let mut i = 0;
        while i < input.len() {
            if self.state == State::Done {
                break;
            }
            if self.state == State::Middle {
                let rest = &input[i..];
                let run = memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
                self.emit(&rest[..run], out);
                i += run;
                if i == input.len() {
                    break;
                }
            }
            self.byte(input[i], out);
            i += 1;
        }
        DataProgress {
            consumed: i,
            complete: self.state == State::Done,
        }
    }

    /// Checks the finished body: the size limit, and that the terminator was
    /// seen (call when `feed` reported `complete`, or at EOF to learn that
    /// the client hung up mid-body).
    pub fn finish(&self) -> Result<DataSummary, DataError> {
        if self.state != State::Done {
            return Err(DataError::Incomplete);
        }
        match self.limit {
            Some(limit) if self.over_limit => Err(DataError::TooLarge {
                size: self.size,
                limit,
            }),
            _ => Ok(DataSummary { size: self.size }),
        }
    }

    fn byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        match (self.state, byte) {
            (State::LineStart, b'.') => self.state = State::Dot,
            (State::Dot, b'\r') => self.state = State::DotCr,
            (State::DotCr, b'\n') if self.after_crlf => self.state = State::Done,
            // A lone `.` line that is not CRLF `.` CRLF: content, kept whole
            // (stuffing would have doubled it, so no dot is removed).
            (State::DotCr, b'\n') => {
                self.emit(b".", out);
                self.line_end(out, true);
            }
            (State::Dot, b'\n') => {
                self.emit(b".", out);
                self.line_end(out, false);
            }
            // `.` followed by more text: the dot was stuffing; drop it.
            (State::Dot, _) => self.middle_byte(byte, out),
            // `.` CR then not LF: the dot was stuffing and the CR is bare.
            (State::DotCr | State::Cr, _) if byte != b'\n' => {
                self.emit(b"\r", out);
                self.middle_byte(byte, out);
            }
            (State::Cr, _) => self.line_end(out, true),
            (State::LineStart | State::Middle, _) => self.middle_byte(byte, out),
            (State::DotCr | State::Done, _) => {}
        }
    }

    /// A byte inside a line (or the first one of a line that is not `.`).
    fn middle_byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        match byte {
            b'\r' => self.state = State::Cr,
            b'\n' => self.line_end(out, false),
            _ => {
                self.emit(&[byte], out);
                self.state = State::Middle;
            }
        }
    }

    /// Ends a line (stored as CRLF); `crlf` says whether the client sent
    /// CRLF or a bare LF, which decides whether the next line may end DATA.
    fn line_end(&mut self, out: &mut Vec<u8>, crlf: bool) {
        self.emit(b"\r\n", out);
        self.state = State::LineStart;
        self.after_crlf = crlf;
    }

    fn emit(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.size = self.size.saturating_add(bytes.len() as u64);
        if self.over_limit {
            return;
        }
        if self.limit.is_some_and(|limit| self.size > limit) {
            self.over_limit = true;
            return;
        }
        out.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::same_at_every_split;

    /// Decodes `chunks` in order; returns body, consumed total, completion.
    fn decode(
        limit: Option<u64>,
        chunks: &[&[u8]],
    ) -> (Vec<u8>, usize, Result<DataSummary, DataError>) {
        let mut decoder = DataDecoder::new(limit);
        let mut out = Vec::new();
        let mut consumed = 0;
        for chunk in chunks {
            let progress = decoder.feed(chunk, &mut out);
            consumed += progress.consumed;
            if progress.complete {
                break;
            }
        }
        (out, consumed, decoder.finish())
    }

    /// Decodes whole and at every split; all must agree (see
    /// [`same_at_every_split`]). Returns the agreed result.
    fn decode_every_split(
        limit: Option<u64>,
        input: &[u8],
    ) -> (Vec<u8>, usize, Result<DataSummary, DataError>) {
        same_at_every_split(input, |pieces| decode(limit, pieces))
    }

    fn body(input: &[u8]) -> Vec<u8> {
        let (out, _, result) = decode_every_split(None, input);
        assert_eq!(result.map(|s| s.size), Ok(out.len() as u64));
        out
    }

    #[test]
    fn simple_body() {
        assert_eq!(
            body(b"Subject: hi\r\n\r\nhello\r\n.\r\n"),
            b"Subject: hi\r\n\r\nhello\r\n"
        );
    }

    #[test]
    fn empty_body() {
        assert_eq!(body(b".\r\n"), b"");
    }

    #[test]
    fn dots_are_unstuffed() {
        assert_eq!(
            body(b"..\r\n...x\r\na.b\r\n..\r\n.\r\n"),
            b".\r\n..x\r\na.b\r\n.\r\n"
        );
        assert_eq!(body(b".x\r\n.\r\n"), b"x\r\n");
    }

    #[test]
    fn bare_lf_is_normalised() {
        assert_eq!(body(b"a\nb\r\n.\r\n"), b"a\r\nb\r\n");
        assert_eq!(body(b"a\r\nb\n\r\n.\r\n"), b"a\r\nb\r\n\r\n");
        assert_eq!(body(b"\n\r\n.\r\n"), b"\r\n\r\n");
        assert_eq!(body(b"x\n..y\r\n.\r\n"), b"x\r\n.y\r\n");
    }

    /// Only CRLF `.` CRLF ends the body; every other spelling of a lone dot
    /// line is content, so pipelined commands inside it stay message text.
    #[test]
    fn only_crlf_dot_crlf_ends_the_body() {
        for ending in [&b".\n"[..], b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"x\n.\n"] {
            let mut input = ending.to_vec();
            input.extend_from_slice(b"MAIL FROM:<evil@example>\r\n");
            let (out, consumed, result) = decode_every_split(None, &input);
            assert_eq!(result, Err(DataError::Incomplete), "{ending:?}");
            assert_eq!(consumed, input.len(), "{ending:?}");
            assert!(
                out.ends_with(b".\r\nMAIL FROM:<evil@example>\r\n"),
                "{out:?}"
            );
        }
        let (out, _, result) = decode_every_split(None, b"a\n.\nb\r\n.\r\n");
        assert_eq!(out, b"a\r\n.\r\nb\r\n");
        assert!(result.is_ok());
    }

    /// The SMTP-smuggling input of issue 16: one body, never two.
    #[test]
    fn smuggled_transaction_stays_in_the_body() {
        let input = b"Subject: one\r\n\r\nhi\n.\nMAIL FROM:<ceo@bank.example>\nRCPT TO:<alice>\nDATA\nforged\n.\n\r\n.\r\nQUIT\r\n";
        let (out, consumed, result) = decode_every_split(None, input);
        assert!(result.is_ok());
        assert_eq!(&input[consumed..], b"QUIT\r\n");
        assert!(out.ends_with(b"forged\r\n.\r\n\r\n"), "{out:?}");
    }

    #[test]
    fn bare_cr_is_content() {
        assert_eq!(body(b"a\rb\r\n.\r\n"), b"a\rb\r\n");
        assert_eq!(body(b"a\r\r\n.\r\n"), b"a\r\r\n");
        // ".\rX" is a stuffed line whose content starts with a bare CR.
        assert_eq!(body(b".\rX\r\n.\r\n"), b"\rX\r\n");
        assert_eq!(body(b".\r\r\n.\r\n"), b"\r\r\n");
        // "\r.\r\n" is not the terminator: the line starts with CR.
        assert_eq!(body(b"\r.\r\n.\r\n"), b"\r.\r\n");
    }

    #[test]
    fn terminator_needs_a_line_of_its_own() {
        assert_eq!(body(b"a.\r\n.\r\n"), b"a.\r\n");
        assert_eq!(body(b" .\r\n.\r\n"), b" .\r\n");
    }

    #[test]
    fn pipelined_bytes_after_the_end_are_left() {
        let input = b"x\r\n.\r\nQUIT\r\n";
        let (out, consumed, result) = decode_every_split(None, input);
        assert_eq!(out, b"x\r\n");
        assert_eq!(&input[consumed..], b"QUIT\r\n");
        assert!(result.is_ok());
        let mut decoder = DataDecoder::new(None);
        let mut sink = Vec::new();
        let progress = decoder.feed(input, &mut sink);
        assert!(progress.complete);
        // Once complete, further input is not consumed.
        assert_eq!(
            decoder.feed(b"more", &mut sink),
            DataProgress {
                consumed: 0,
                complete: true
            }
        );
    }

    #[test]
    fn incomplete_body_is_reported() {
        assert_eq!(decode(None, &[b"a\r\n.\r"]).2, Err(DataError::Incomplete));
        assert_eq!(decode(None, &[b"a\n.\n"]).2, Err(DataError::Incomplete));
        assert_eq!(decode(None, &[b"a\r\n"]).2, Err(DataError::Incomplete));
        assert_eq!(decode(None, &[b""]).2, Err(DataError::Incomplete));
    }

    #[test]
    fn size_limit_is_checked_after_the_end_and_output_stops_growing() {
        // Body "12345\r\n" is 7 octets.
        let input = b"12345\r\n.\r\n";
        let (out, _, result) = decode_every_split(Some(7), input);
        assert_eq!(out, b"12345\r\n");
        assert_eq!(result, Ok(DataSummary { size: 7 }));
        let (out, consumed, result) = decode_every_split(Some(6), input);
        assert!(out.len() <= 6);
        assert_eq!(consumed, input.len());
        assert_eq!(result, Err(DataError::TooLarge { size: 7, limit: 6 }));
    }

    #[test]
    fn huge_body_never_buffers_beyond_the_cap() {
        let mut decoder = DataDecoder::new(Some(1000));
        let mut out = Vec::new();
        let line = [b'x'; 998];
        for _ in 0..1000 {
            let mut chunk = line.to_vec();
            chunk.extend_from_slice(b"\r\n");
            let progress = decoder.feed(&chunk, &mut out);
            assert!(!progress.complete);
            assert!(out.len() <= 1000);
        }
        assert!(decoder.is_over_limit());
        assert!(decoder.feed(b".\r\n", &mut out).complete);
        assert_eq!(
            decoder.finish(),
            Err(DataError::TooLarge {
                size: 1_000_000,
                limit: 1000
            })
        );
    }

    #[test]
    fn size_tracks_decoded_octets() {
        let mut decoder = DataDecoder::new(None);
        let mut out = Vec::new();
        decoder.feed(b"..ab\nc", &mut out);
        assert_eq!(decoder.size(), 6); // ".ab\r\nc"
        assert_eq!(out, b".ab\r\nc");
        assert_eq!(decoder.size(), out.len() as u64);
    }

    #[test]
    fn round_trip_with_the_pop3_stuffer() {
        use crate::pop3::codec_dotstuff::{DotStuffOptions, DotStuffer};
        let message = b"Subject: t\r\n\r\n.leading\r\n..two\r\n.\r\nend\r\n";
        let mut wire = Vec::new();
        let mut stuffer = DotStuffer::retr(DotStuffOptions::default());
        stuffer.feed(message, &mut wire);
        stuffer.finish(&mut wire);
        assert_eq!(body(&wire), message);
    }
}

#[cfg(test)]
mod round_trip_tests {
    use super::*;
    use crate::pop3::codec_dotstuff::{DotStuffOptions, DotStuffer};
    use crate::testing::XorShift64;

    /// What the POP3 encoder promises to deliver: bare LF → CRLF, bare CR
    /// kept, a final CRLF added (completing a trailing CR).
    fn normalise(message: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, &b) in message.iter().enumerate() {
            if b == b'\n' && (i == 0 || message[i - 1] != b'\r') {
                out.push(b'\r');
            }
            out.push(b);
        }
        if out.last() == Some(&b'\r') {
            out.push(b'\n');
        } else if !out.is_empty() && !out.ends_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// RETR-encode then DATA-decode random messages cut into random chunks:
    /// the decoder must give back exactly the normalised message, and must
    /// stop exactly at the end of the encoded form.
    #[test]
    fn random_messages_survive_stuffing_and_unstuffing() {
        let alphabet = b".\r\n\0a ";
        let mut rng = XorShift64::new(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3000 {
            let message = rng.sequence(40, alphabet);
            let mut wire = Vec::new();
            let mut stuffer = DotStuffer::retr(DotStuffOptions::default());
            let mut rest = &message[..];
            while !rest.is_empty() {
                let take = 1 + rng.below(rest.len());
                stuffer.feed(&rest[..take], &mut wire);
                rest = &rest[take..];
            }
            stuffer.finish(&mut wire);
            wire.extend_from_slice(b"NEXT");

            let mut decoder = DataDecoder::new(None);
            let mut body = Vec::new();
            let mut consumed = 0;
            while consumed < wire.len() {
                let take = 1 + rng.below(wire.len() - consumed);
                let progress = decoder.feed(&wire[consumed..consumed + take], &mut body);
                consumed += progress.consumed;
                if progress.complete {
                    break;
                }
            }
            assert_eq!(body, normalise(&message), "message {message:?}");
            assert_eq!(&wire[consumed..], b"NEXT", "message {message:?}");
            assert_eq!(decoder.finish().map(|s| s.size), Ok(body.len() as u64));
        }
    }
}

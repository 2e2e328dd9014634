//! Streaming RETR/TOP body encoder (RFC 1939 §3 byte-stuffing).
//!
//! Feed the stored message in chunks of any size; each call appends wire
//! bytes to the caller's buffer, so a large message is never held whole.
//! Output per chunk is at most twice the input plus a few bytes.
//!
//! Line endings: CRLF passes through, a bare LF becomes CRLF. A bare CR (one
//! not followed by LF) is passed through unchanged as ordinary line content,
//! as Dovecot does: it cannot end the reply early (the terminator needs
//! CRLF.CRLF) and rewriting it would change the message and its size. A CR
//! as the very last byte is completed to CRLF. To decide this across chunk
//! boundaries a CR is held back until the next byte is seen.
//!
//! A line starting with `.` gets a second `.`; the body always ends with
//! CRLF before the closing `.\r\n`.
//!
//! `TOP n` mode sends the header, the blank line and the first `n` body
//! lines, then reports [`Progress::Complete`] so the caller stops reading.
//!
//! Workarounds (`pop3_client_workarounds`): `outlook-no-nuls` turns NUL into
//! 0x80; `oe-ns-eoh` adds the blank line when the message has no end of
//! header (the whole message is header).

/// Client workarounds that change RETR/TOP output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DotStuffOptions {
    /// `outlook-no-nuls`: NUL → 0x80.
    pub outlook_no_nuls: bool,
    /// `oe-ns-eoh`: add a blank line if the header never ends.
    pub oe_ns_eoh: bool,
}

/// Whether the encoder wants more input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Keep feeding (or call `finish` at end of message).
    NeedMore,
    /// TOP has sent everything it will; further input is ignored.
    Complete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    /// `None` = unlimited (RETR); `Some(k)` = k body lines still to send.
    Body(Option<u32>),
    Done,
}

/// What was sent, for the POP3 logout line and size checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DotStuffSummary {
    /// Message octets sent: after CRLF normalisation and workarounds, before
    /// byte-stuffing, without the closing `.\r\n`.
    pub message_octets: u64,
}

/// The streaming encoder for one RETR or TOP reply body.
#[derive(Debug, Clone)]
pub struct DotStuffer {
    options: DotStuffOptions,
    /// Body lines TOP may send; `None` for RETR.
    body_line_limit: Option<u32>,
    phase: Phase,
    at_line_start: bool,
    pending_cr: bool,
    message_octets: u64,
}

impl DotStuffer {
    /// Encoder for `RETR`: the whole message.
    pub fn retr(options: DotStuffOptions) -> Self {
        Self::new(options, None)
    }

    /// Encoder for `TOP msg body_lines`.
    pub fn top(body_lines: u32, options: DotStuffOptions) -> Self {
        Self::new(options, Some(body_lines))
    }

    fn new(options: DotStuffOptions, body_line_limit: Option<u32>) -> Self {
        Self {
            options,
            body_line_limit,
            phase: Phase::Header,
            at_line_start: true,
            pending_cr: false,
            message_octets: 0,
        }
    }

    /// Encodes the next chunk of the stored message into `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Progress {
        out.reserve(input.len() + input.len() / 16 + 4);
        let mut i = 0;
        while i < input.len() {
            if self.phase == Phase::Done {
                return Progress::Complete;
            }
            // Fast path: in the middle of a line, copy up to the next byte
            // that needs a decision.
            if !self.at_line_start && !self.pending_cr {
                let rest = &input[i..];
                let run = memchr::memchr3(b'\r', b'\n', 0, rest).unwrap_or(rest.len());
                out.extend_from_slice(&rest[..run]);
                self.message_octets += run as u64;
                i += run;
                if i == input.len() {
                    break;
                }
            }
            self.byte(input[i], out);
            i += 1;
        }
        if self.phase == Phase::Done {
            Progress::Complete
        } else {
            Progress::NeedMore
        }
    }

    /// Ends the body: completes the last line, applies `oe-ns-eoh`, and
    /// appends the closing `.\r\n`.
    pub fn finish(mut self, out: &mut Vec<u8>) -> DotStuffSummary {
        if self.phase != Phase::Done {
            if self.pending_cr || !self.at_line_start {
                self.pending_cr = false;
                self.line_end(out);
            }
            if self.phase == Phase::Header && self.options.oe_ns_eoh {
                out.extend_from_slice(b"\r\n");
                self.message_octets += 2;
            }
        }
        out.extend_from_slice(b".\r\n");
        DotStuffSummary {
            message_octets: self.message_octets,
        }
    }

    fn byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        if self.pending_cr {
            self.pending_cr = false;
            if byte == b'\n' {
                self.line_end(out);
                return;
            }
            // A bare CR is kept as line content.
            self.content(b'\r', out);
        }
        match byte {
            b'\r' => self.pending_cr = true,
            b'\n' => self.line_end(out),
            0 if self.options.outlook_no_nuls => self.content(0x80, out),
            _ => self.content(byte, out),
        }
    }

    fn content(&mut self, byte: u8, out: &mut Vec<u8>) {
        if self.at_line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        self.message_octets += 1;
        self.at_line_start = false;
    }

    fn line_end(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\r\n");
        self.message_octets += 2;
        let blank = self.at_line_start;
        self.at_line_start = true;
        self.phase = match self.phase {
            Phase::Header if blank => match self.body_line_limit {
                Some(0) => Phase::Done,
                limit => Phase::Body(limit),
            },
            Phase::Body(Some(left)) if left <= 1 => Phase::Done,
            Phase::Body(Some(left)) => Phase::Body(Some(left - 1)),
            other => other,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::same_at_every_split;

    fn encode(make: impl Fn() -> DotStuffer, chunks: &[&[u8]]) -> (Vec<u8>, u64) {
        let mut encoder = make();
        let mut out = Vec::new();
        for chunk in chunks {
            if encoder.feed(chunk, &mut out) == Progress::Complete {
                break;
            }
        }
        let summary = encoder.finish(&mut out);
        (out, summary.message_octets)
    }

    /// Encodes whole and at every split; all must agree (see
    /// [`same_at_every_split`]). Returns the agreed output.
    fn encode_every_split(make: impl Fn() -> DotStuffer, input: &[u8]) -> Vec<u8> {
        same_at_every_split(input, |pieces| encode(&make, pieces)).0
    }

    fn retr(input: &[u8]) -> Vec<u8> {
        encode_every_split(|| DotStuffer::retr(DotStuffOptions::default()), input)
    }

    fn top(lines: u32, input: &[u8]) -> Vec<u8> {
        encode_every_split(|| DotStuffer::top(lines, DotStuffOptions::default()), input)
    }

    #[test]
    fn plain_message_passes_through() {
        assert_eq!(
            retr(b"Subject: x\r\n\r\nhello\r\n"),
            b"Subject: x\r\n\r\nhello\r\n.\r\n"
        );
    }

    #[test]
    fn leading_dots_are_doubled() {
        assert_eq!(
            retr(b"A: b\r\n\r\n.\r\n..x\r\nmid.dle\r\n.end"),
            b"A: b\r\n\r\n..\r\n...x\r\nmid.dle\r\n..end\r\n.\r\n"
        );
        assert_eq!(retr(b".first"), b"..first\r\n.\r\n");
    }

    #[test]
    fn bare_lf_becomes_crlf() {
        assert_eq!(
            retr(b"A: b\n\nline1\nline2\n"),
            b"A: b\r\n\r\nline1\r\nline2\r\n.\r\n"
        );
        assert_eq!(retr(b"\n.\n"), b"\r\n..\r\n.\r\n");
    }

    #[test]
    fn bare_cr_is_kept_as_content() {
        assert_eq!(retr(b"a\rb\r\n"), b"a\rb\r\n.\r\n");
        // A CR at line start does not hide a following dot from the client:
        // the line starts with CR, so the dot is not at line start.
        assert_eq!(retr(b"x\r\n\r.\r\n"), b"x\r\n\r.\r\n.\r\n");
        assert_eq!(retr(b"a\r\r\n"), b"a\r\r\n.\r\n");
    }

    #[test]
    fn final_crlf_is_added_once() {
        assert_eq!(retr(b"no newline"), b"no newline\r\n.\r\n");
        assert_eq!(retr(b"ends in cr\r"), b"ends in cr\r\n.\r\n");
        assert_eq!(retr(b"ends in lf\n"), b"ends in lf\r\n.\r\n");
        assert_eq!(retr(b""), b".\r\n");
    }

    #[test]
    fn octet_count_excludes_stuffing_and_terminator() {
        let (out, octets) = encode(|| DotStuffer::retr(DotStuffOptions::default()), &[b".a\nb"]);
        assert_eq!(out, b"..a\r\nb\r\n.\r\n");
        assert_eq!(octets, 7); // ".a\r\nb\r\n"
    }

    #[test]
    fn nuls_kept_or_replaced() {
        assert_eq!(retr(b"a\0b\r\n"), b"a\0b\r\n.\r\n");
        let no_nuls = DotStuffOptions {
            outlook_no_nuls: true,
            ..DotStuffOptions::default()
        };
        let out = encode_every_split(|| DotStuffer::retr(no_nuls), b"\0\r\na\0\0b\r\n");
        assert_eq!(out, b"\x80\r\na\x80\x80b\r\n.\r\n");
    }

    #[test]
    fn oe_ns_eoh_adds_missing_header_end() {
        let eoh = DotStuffOptions {
            oe_ns_eoh: true,
            ..DotStuffOptions::default()
        };
        let out = encode_every_split(|| DotStuffer::retr(eoh), b"Subject: only header\r\nFrom: a");
        assert_eq!(out, b"Subject: only header\r\nFrom: a\r\n\r\n.\r\n");
        // Already has a header end: unchanged.
        let out = encode_every_split(|| DotStuffer::retr(eoh), b"Subject: x\r\n\r\nbody");
        assert_eq!(out, b"Subject: x\r\n\r\nbody\r\n.\r\n");
        // A trailing lone CR line counts as the header end.
        let out = encode_every_split(|| DotStuffer::retr(eoh), b"Subject: x\r\n\r");
        assert_eq!(out, b"Subject: x\r\n\r\n.\r\n");
        // Without the workaround the header is sent as is.
        assert_eq!(
            retr(b"Subject: only header"),
            b"Subject: only header\r\n.\r\n"
        );
        let out = encode_every_split(|| DotStuffer::top(3, eoh), b"H: v\n");
        assert_eq!(out, b"H: v\r\n\r\n.\r\n");
    }

    #[test]
    fn top_sends_header_blank_line_and_n_body_lines() {
        let message = b"A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\nl4";
        assert_eq!(top(0, message), b"A: 1\r\nB: 2\r\n\r\n.\r\n");
        assert_eq!(top(1, message), b"A: 1\r\nB: 2\r\n\r\nl1\r\n.\r\n");
        assert_eq!(top(2, message), b"A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
        assert_eq!(
            top(4, message),
            b"A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\nl4\r\n.\r\n"
        );
        assert_eq!(top(100, message), top(4, message));
        assert_eq!(
            top(1, b"A: 1\n\nbody\nmore\n"),
            b"A: 1\r\n\r\nbody\r\n.\r\n"
        );
        assert_eq!(top(5, b"only header"), b"only header\r\n.\r\n");
        assert_eq!(top(0, b"\r\nbody"), b"\r\n.\r\n");
    }

    #[test]
    fn top_reports_completion_so_the_caller_stops_reading() {
        let mut encoder = DotStuffer::top(1, DotStuffOptions::default());
        let mut out = Vec::new();
        assert_eq!(
            encoder.feed(b"H: v\r\n\r\nfirst\r\nsecond", &mut out),
            Progress::Complete
        );
        assert_eq!(encoder.feed(b"ignored\r\n", &mut out), Progress::Complete);
        encoder.finish(&mut out);
        assert_eq!(out, b"H: v\r\n\r\nfirst\r\n.\r\n");
        let mut retr = DotStuffer::retr(DotStuffOptions::default());
        assert_eq!(
            retr.feed(b"a\r\n\r\nb\r\n", &mut Vec::new()),
            Progress::NeedMore
        );
    }

    #[test]
    fn terminator_never_appears_inside_the_body() {
        // Whatever the message, the wire form contains CRLF.CRLF only at the
        // very end: a client cannot be made to stop early.
        let nasty: &[&[u8]] = &[
            b"\r\n.\r\n",
            b"\n.\n",
            b".\r\n.\r\n",
            b"a\r\n.\r\n.\r\nb",
            b"\r\r\n.\r\n\r\n.",
            b"\n\r.\n.",
        ];
        for input in nasty {
            let out = retr(input);
            let mut wire = b"+OK\r\n".to_vec();
            wire.extend_from_slice(&out);
            let first = wire.windows(5).position(|w| w == b"\r\n.\r\n");
            assert_eq!(first, Some(wire.len() - 5), "{input:?} -> {out:?}");
        }
    }

    #[test]
    fn large_message_in_odd_chunks() {
        let mut message = b"Subject: big\r\n\r\n".to_vec();
        for i in 0..5000 {
            message.extend_from_slice(if i % 3 == 0 {
                b".dot line\n"
            } else {
                b"plain line\r\n"
            });
        }
        let whole = encode(|| DotStuffer::retr(DotStuffOptions::default()), &[&message]);
        for size in [1, 2, 3, 7, 64, 4095] {
            let chunks: Vec<&[u8]> = message.chunks(size).collect();
            assert_eq!(
                encode(|| DotStuffer::retr(DotStuffOptions::default()), &chunks),
                whole
            );
        }
        assert!(whole.0.ends_with(b"plain line\r\n.\r\n"));
    }
}

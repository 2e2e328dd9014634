//! Incremental framing: splits the client byte stream into whole commands
//! (a command line plus any literals it announces) *before* the grammar sees
//! them, so neither a huge nor a malformed input can make the parser allocate
//! without bound.
//!
//! The session feeds socket bytes with [`Framer::enqueue`] and calls
//! [`Framer::next_event`] until it answers [`FrameEvent::NeedMore`]. A
//! complete frame holds the command exactly as it was on the wire (lines and
//! literal bodies inline, final CRLF included), which is what
//! [`super::command::parse_command`] takes.

use super::types::Tag;

/// Caps applied while framing. Every byte the framer keeps is counted
/// against one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramingLimits {
    /// Cap on the command text of one frame (all lines, literal bodies not
    /// counted). Dovecot's `imap_max_line_length`; default 64 KiB.
    pub max_line_length: usize,
    /// Cap on a single literal (the APPEND limit).
    pub max_literal_size: u64,
    /// Cap on the sum of all literals of one command (MULTIAPPEND).
    pub max_command_literals: u64,
}

impl Default for FramingLimits {
    fn default() -> Self {
        FramingLimits {
            max_line_length: 64 * 1024,
            max_literal_size: 64 * 1024 * 1024,
            max_command_literals: 256 * 1024 * 1024,
        }
    }
}

/// How a literal was announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralMode {
    /// `{n}`: the server must send a `+` continuation before the data.
    Sync,
    /// `{n+}` (LITERAL+ / LITERAL-): the data follows at once.
    NonSync,
}

/// A literal announcement found at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiteralHeader {
    pub len: u64,
    pub mode: LiteralMode,
    /// `~{n}`: literal8 (APPEND / BINARY), may contain NUL.
    pub binary: bool,
}

/// One complete command as received: lines and literal bodies inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    bytes: Vec<u8>,
}

impl Frame {
    /// The wire bytes of the command, final line ending included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// For raw-line frames (AUTHENTICATE data, IDLE `DONE`): the line without
    /// its CRLF / LF.
    pub fn line(&self) -> &[u8] {
        strip_line_ending(&self.bytes)
    }
}

/// Why a frame was refused. Each variant tells the session what it may
/// answer and whether the connection can go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The command text went past `max_line_length`. The framer skips to the
    /// end of the line (and any non-synchronizing literal it announces); the
    /// session answers `tag BAD` (or `* BAD` without a tag) and goes on.
    #[error("command line too long")]
    LineTooLong { tag: Option<Tag> },
    /// A literal over `max_literal_size` / `max_command_literals`.
    /// Synchronizing: the client will not send it, answer `tag NO [TOOBIG]`
    /// (APPEND) or `tag BAD` and go on. Non-synchronizing: the framer
    /// discards the literal and the rest of the command; answer
    /// `tag BAD [TOOBIG]` (RFC 7888 section 4) and go on.
    #[error("literal of {len} bytes is over the limit")]
    LiteralTooLarge {
        tag: Option<Tag>,
        len: u64,
        mode: LiteralMode,
    },
    /// A literal announcement whose length cannot be read (more than 20
    /// digits, overflow). Synchronizing: answer BAD and go on. Non-sync: the
    /// amount of data that follows is unknown, so the stream cannot be
    /// resynchronized: answer `* BYE` and close.
    #[error("unreadable literal length")]
    BadLiteralLength { tag: Option<Tag>, mode: LiteralMode },
}

impl FrameError {
    /// The tag of the refused command, when one could be read.
    pub fn tag(&self) -> Option<&Tag> {
        match self {
            FrameError::LineTooLong { tag }
            | FrameError::LiteralTooLarge { tag, .. }
            | FrameError::BadLiteralLength { tag, .. } => tag.as_ref(),
        }
    }

    /// True when the stream cannot be resynchronized and the connection
    /// must be closed after `* BYE`.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            FrameError::BadLiteralLength {
                mode: LiteralMode::NonSync,
                ..
            }
        )
    }
}

/// What [`Framer::next_event`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameEvent {
    Complete(Frame),
    /// All buffered input is consumed; enqueue more.
    NeedMore,
    /// A synchronizing literal of `len` bytes was announced and is within
    /// the caps: the session sends `+ ...` and keeps reading.
    NeedContinuation {
        len: u64,
    },
    Error(FrameError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Scanning the current line, which starts at `line_start` in `buf`.
    Line { line_start: usize },
    /// Reading `remaining` bytes of literal data into the frame.
    Literal { remaining: u64 },
    /// Dropping input up to the end of the current line.
    DiscardLine,
    /// Dropping `remaining` bytes of a refused non-sync literal.
    DiscardLiteral { remaining: u64 },
}

/// Longest literal announcement we look for in a discarded line's tail:
/// `~{` + 20 digits + `+}` + CRLF.
const TAIL_LEN: usize = 32;
/// Longest tag we keep for error reports.
const MAX_TAG_CAPTURE: usize = 64;

/// The framing state machine. Owns the input buffer; never grows the
/// current frame past the caps.
#[derive(Debug)]
pub struct Framer {
    limits: FramingLimits,
    /// `buf[..frame_len]` is the frame being built, `buf[frame_len..]` is
    /// unprocessed input.
    buf: Vec<u8>,
    frame_len: usize,
    state: State,
    /// Command text of the frame so far (lines, not literal bodies).
    text_len: usize,
    literals_len: u64,
    /// Next frame is a plain line (AUTHENTICATE data, IDLE DONE): literal
    /// announcements are not interpreted.
    raw_line: bool,
    /// Last bytes of a discarded line, to find a trailing literal header.
    tail: [u8; TAIL_LEN],
    tail_len: usize,
}

impl Framer {
    pub fn new(limits: FramingLimits) -> Self {
        Framer {
            limits,
            buf: Vec::new(),
            frame_len: 0,
            state: State::Line { line_start: 0 },
            text_len: 0,
            literals_len: 0,
            raw_line: false,
            tail: [0; TAIL_LEN],
            tail_len: 0,
        }
    }

    pub fn limits(&self) -> FramingLimits {
        self.limits
    }

    /// Adds input. Call [`Framer::next_event`] until `NeedMore` before
    /// enqueuing more, so buffered-but-unframed input stays bounded by the
    /// caller's read size.
    pub fn enqueue(&mut self, input: &[u8]) {
        self.buf.extend_from_slice(input);
    }

    /// The next frame is read as one plain line: used after `+` challenges
    /// of AUTHENTICATE and during IDLE, where the client sends a bare line.
    pub fn expect_raw_line(&mut self) {
        self.raw_line = true;
    }

    /// The command received so far while a literal is announced (after
    /// `NeedContinuation`): lets the session decide whether to send `+`.
    pub fn partial_frame(&self) -> &[u8] {
        &self.buf[..self.frame_len]
    }

    /// Input received but not yet part of a frame (e.g. to hand over to a
    /// TLS layer after STARTTLS, where it must be empty).
    pub fn pending_input(&self) -> &[u8] {
        &self.buf[self.frame_len..]
    }

    /// Takes the unframed input out (used on STARTTLS / COMPRESS, where the
    /// byte stream changes under the framer).
    pub fn take_pending_input(&mut self) -> Vec<u8> {
        self.buf.split_off(self.frame_len)
    }

    /// Bytes held (partial frame plus unprocessed input), for back-pressure.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Refuses the synchronizing literal just announced by
    /// `NeedContinuation` (e.g. over a per-mailbox APPENDLIMIT): the partial
    /// command is dropped, and since no `+` was sent the client sends no
    /// data, so the next bytes start a new command. Returns the tag of the
    /// dropped command for the `tag NO [TOOBIG]` answer.
    pub fn reject_literal(&mut self) -> Option<Tag> {
        let tag = self.frame_tag();
        self.drop_frame();
        tag
    }

    pub fn next_event(&mut self) -> FrameEvent {
        loop {
            match self.state {
                State::Line { line_start } => {
                    let scan_from = self.frame_len;
                    let Some(rel) = memchr::memchr(b'\n', &self.buf[scan_from..]) else {
                        let line_len = self.buf.len() - line_start;
                        if self.text_len + line_len > self.limits.max_line_length {
                            return self.line_too_long(line_start);
                        }
                        self.frame_len = self.buf.len();
                        return FrameEvent::NeedMore;
                    };
                    let line_end = scan_from + rel + 1;
                    let line_len = line_end - line_start;
                    if self.text_len + line_len > self.limits.max_line_length {
                        return self.line_too_long(line_start);
                    }
                    self.text_len += line_len;
                    self.frame_len = line_end;
                    let header = if self.raw_line {
                        None
                    } else {
                        literal_header(&self.buf[line_start..line_end])
                    };
                    match header {
                        None => return self.finish_frame(),
                        Some(Err(mode)) => {
                            let tag = self.frame_tag();
                            self.drop_frame();
                            if mode == LiteralMode::NonSync {
                                // Unknown length: nothing after this can be
                                // trusted; the caller closes.
                                self.state = State::DiscardLine;
                            }
                            return FrameEvent::Error(FrameError::BadLiteralLength { tag, mode });
                        }
                        Some(Ok(h)) => {
                            let over = h.len > self.limits.max_literal_size
                                || self.literals_len.saturating_add(h.len)
                                    > self.limits.max_command_literals;
                            if over {
                                let tag = self.frame_tag();
                                self.drop_frame();
                                if h.mode == LiteralMode::NonSync {
                                    self.state = State::DiscardLiteral { remaining: h.len };
                                }
                                return FrameEvent::Error(FrameError::LiteralTooLarge {
                                    tag,
                                    len: h.len,
                                    mode: h.mode,
                                });
                            }
                            self.literals_len += h.len;
                            self.state = State::Literal { remaining: h.len };
                            if h.mode == LiteralMode::Sync {
                                return FrameEvent::NeedContinuation { len: h.len };
                            }
                        }
                    }
                }
                State::Literal { remaining } => {
                    let available = (self.buf.len() - self.frame_len) as u64;
                    if available < remaining {
                        self.frame_len = self.buf.len();
                        self.state = State::Literal {
                            remaining: remaining - available,
                        };
                        return FrameEvent::NeedMore;
                    }
                    // `remaining <= available`, which is a usize.
                    self.frame_len += remaining as usize;
                    self.state = State::Line {
                        line_start: self.frame_len,
                    };
                }
                State::DiscardLine => {
                    let Some(rel) = memchr::memchr(b'\n', &self.buf[self.frame_len..]) else {
                        let end = self.buf.len();
                        self.remember_tail(self.frame_len, end);
                        self.buf.truncate(self.frame_len);
                        return FrameEvent::NeedMore;
                    };
                    let end = self.frame_len + rel + 1;
                    self.remember_tail(self.frame_len, end);
                    self.buf.drain(self.frame_len..end);
                    let tail = &self.tail[..self.tail_len];
                    match literal_header(tail) {
                        // The discarded line announced a literal the client
                        // sends without waiting: skip it too.
                        Some(Ok(LiteralHeader {
                            len,
                            mode: LiteralMode::NonSync,
                            ..
                        })) => self.state = State::DiscardLiteral { remaining: len },
                        _ => {
                            self.state = State::Line {
                                line_start: self.frame_len,
                            };
                        }
                    }
                    self.tail_len = 0;
                }
                State::DiscardLiteral { remaining } => {
                    let available = (self.buf.len() - self.frame_len) as u64;
                    if available < remaining {
                        self.buf.truncate(self.frame_len);
                        self.state = State::DiscardLiteral {
                            remaining: remaining - available,
                        };
                        return FrameEvent::NeedMore;
                    }
                    let end = self.frame_len + remaining as usize;
                    self.buf.drain(self.frame_len..end);
                    self.state = State::DiscardLine;
                }
            }
        }
    }

    fn finish_frame(&mut self) -> FrameEvent {
        let rest = self.buf.split_off(self.frame_len);
        let bytes = std::mem::replace(&mut self.buf, rest);
        self.reset_frame();
        FrameEvent::Complete(Frame { bytes })
    }

    fn line_too_long(&mut self, line_start: usize) -> FrameEvent {
        let tag = self.frame_tag();
        // Earlier lines of this frame go; the over-long line itself is
        // dropped by DiscardLine, which also skips a non-sync literal it may
        // announce at its end.
        self.buf.drain(..line_start);
        self.reset_frame();
        self.state = State::DiscardLine;
        FrameEvent::Error(FrameError::LineTooLong { tag })
    }

    /// Drops the partial frame from the buffer, leaving unprocessed input.
    fn drop_frame(&mut self) {
        self.buf.drain(..self.frame_len);
        self.reset_frame();
    }

    fn reset_frame(&mut self) {
        self.frame_len = 0;
        self.text_len = 0;
        self.literals_len = 0;
        self.raw_line = false;
        self.tail_len = 0;
        self.state = State::Line { line_start: 0 };
    }

    fn frame_tag(&self) -> Option<Tag> {
        let end = self.buf.len().min(MAX_TAG_CAPTURE + 1);
        let head = &self.buf[..end];
        let tag_end = head.iter().position(|&b| b == b' ')?;
        Tag::try_from(&head[..tag_end]).ok()
    }

    fn remember_tail(&mut self, start: usize, end: usize) {
        let chunk = &self.buf[start..end];
        if chunk.len() >= TAIL_LEN {
            self.tail.copy_from_slice(&chunk[chunk.len() - TAIL_LEN..]);
            self.tail_len = TAIL_LEN;
            return;
        }
        let keep = (TAIL_LEN - chunk.len()).min(self.tail_len);
        self.tail
            .copy_within(self.tail_len - keep..self.tail_len, 0);
        self.tail[keep..keep + chunk.len()].copy_from_slice(chunk);
        self.tail_len = keep + chunk.len();
    }
}

fn strip_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Finds a literal announcement (`{n}`, `{n+}`, `~{n}`, `~{n+}`) at the end
/// of a line. `Some(Err(mode))` when the braces are there but the number is
/// unreadable.
pub(crate) fn literal_header(line: &[u8]) -> Option<Result<LiteralHeader, LiteralMode>> {
    let line = strip_line_ending(line);
    let body = line.strip_suffix(b"}")?;
    let (body, mode) = match body.strip_suffix(b"+") {
        Some(b) => (b, LiteralMode::NonSync),
        None => (body, LiteralMode::Sync),
    };
    let digits_start = body
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |p| p + 1);
    let digits = &body[digits_start..];
    let before = body[..digits_start].strip_suffix(b"{")?;
    let binary = before.ends_with(b"~");
    if digits.is_empty() || digits.len() > 20 {
        return Some(Err(mode));
    }
    let mut len: u64 = 0;
    for &d in digits {
        len = match len
            .checked_mul(10)
            .and_then(|l| l.checked_add(u64::from(d - b'0')))
        {
            Some(l) => l,
            None => return Some(Err(mode)),
        };
    }
    Some(Ok(LiteralHeader { len, mode, binary }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_limits() -> FramingLimits {
        FramingLimits {
            max_line_length: 40,
            max_literal_size: 10,
            max_command_literals: 15,
        }
    }

    /// Feeds `chunks` one by one and collects every event except NeedMore.
    fn run(limits: FramingLimits, chunks: &[&[u8]]) -> Vec<FrameEvent> {
        let mut framer = Framer::new(limits);
        let mut events = Vec::new();
        for chunk in chunks {
            framer.enqueue(chunk);
            loop {
                match framer.next_event() {
                    FrameEvent::NeedMore => break,
                    e => events.push(e),
                }
            }
        }
        events
    }

    fn complete(bytes: &[u8]) -> FrameEvent {
        FrameEvent::Complete(Frame {
            bytes: bytes.to_vec(),
        })
    }

    #[test]
    fn single_line() {
        let ev = run(FramingLimits::default(), &[b"a1 NOOP\r\n"]);
        assert_eq!(ev, vec![complete(b"a1 NOOP\r\n")]);
    }

    #[test]
    fn two_pipelined_lines_and_partial() {
        let ev = run(FramingLimits::default(), &[b"a NOOP\r\nb NOOP\r\nc NO"]);
        assert_eq!(ev, vec![complete(b"a NOOP\r\n"), complete(b"b NOOP\r\n")]);
    }

    #[test]
    fn sync_literal_asks_for_continuation() {
        let ev = run(
            FramingLimits::default(),
            &[b"a LOGIN {3}\r\n", b"bob {2}\r\n", b"pw\r\n"],
        );
        assert_eq!(
            ev,
            vec![
                FrameEvent::NeedContinuation { len: 3 },
                FrameEvent::NeedContinuation { len: 2 },
                complete(b"a LOGIN {3}\r\nbob {2}\r\npw\r\n"),
            ]
        );
    }

    #[test]
    fn nonsync_and_literal8() {
        let input = b"a APPEND box ~{3+}\r\n\0\r\n {2+}\r\nxy\r\n";
        let ev = run(FramingLimits::default(), &[input]);
        assert_eq!(ev, vec![complete(input)]);
    }

    #[test]
    fn literal_header_forms() {
        let h = literal_header(b"x ~{12+}\r\n");
        assert_eq!(
            h,
            Some(Ok(LiteralHeader {
                len: 12,
                mode: LiteralMode::NonSync,
                binary: true
            }))
        );
        assert_eq!(literal_header(b"x {}\r\n"), Some(Err(LiteralMode::Sync)));
        assert_eq!(literal_header(b"x 12}\r\n"), None);
        assert_eq!(literal_header(b"x \"a\"\r\n"), None);
        assert_eq!(
            literal_header(b"x {99999999999999999999+}\r\n"),
            Some(Err(LiteralMode::NonSync))
        );
    }

    #[test]
    fn line_too_long_then_recovers() {
        let long = [b'x'; 60];
        let mut input = b"t1 ".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\r\nt2 NOOP\r\n");
        let ev = run(small_limits(), &[&input]);
        assert_eq!(
            ev,
            vec![
                FrameEvent::Error(FrameError::LineTooLong {
                    tag: Tag::try_from(&b"t1"[..]).ok()
                }),
                complete(b"t2 NOOP\r\n"),
            ]
        );
    }

    #[test]
    fn line_too_long_skips_its_nonsync_literal() {
        let mut input = b"t1 APPEND ".to_vec();
        input.extend_from_slice(&[b'y'; 50]);
        input.extend_from_slice(b" {5+}\r\n{1}\r\n\r\nt2 NOOP\r\n");
        let ev = run(small_limits(), &[&input]);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert!(matches!(
            ev[0],
            FrameEvent::Error(FrameError::LineTooLong { .. })
        ));
        assert_eq!(ev[1], complete(b"t2 NOOP\r\n"));
    }

    #[test]
    fn sync_literal_too_large_keeps_connection() {
        let ev = run(small_limits(), &[b"t1 APPEND x {11}\r\nt2 NOOP\r\n"]);
        assert_eq!(
            ev,
            vec![
                FrameEvent::Error(FrameError::LiteralTooLarge {
                    tag: Tag::try_from(&b"t1"[..]).ok(),
                    len: 11,
                    mode: LiteralMode::Sync
                }),
                complete(b"t2 NOOP\r\n"),
            ]
        );
    }

    #[test]
    fn nonsync_literal_too_large_is_discarded() {
        let ev = run(
            small_limits(),
            &[b"t1 APPEND x {11+}\r\n0123456789A rest {2+}\r\nzz\r\nt2 NOOP\r\n"],
        );
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert!(matches!(
            ev[0],
            FrameEvent::Error(FrameError::LiteralTooLarge {
                mode: LiteralMode::NonSync,
                len: 11,
                ..
            })
        ));
        assert_eq!(ev[1], complete(b"t2 NOOP\r\n"));
    }

    #[test]
    fn total_literal_cap() {
        let ev = run(small_limits(), &[b"t APPEND x {9+}\r\n123456789 {9}\r\n"]);
        assert!(matches!(
            ev.as_slice(),
            [FrameEvent::Error(FrameError::LiteralTooLarge {
                len: 9,
                ..
            })]
        ));
    }

    #[test]
    fn bad_literal_length_nonsync_is_fatal() {
        let ev = run(
            FramingLimits::default(),
            &[b"t X {99999999999999999999+}\r\n"],
        );
        match &ev[..] {
            [FrameEvent::Error(e)] => assert!(e.is_fatal()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn reject_literal_after_continuation() {
        let mut framer = Framer::new(FramingLimits::default());
        framer.enqueue(b"t1 APPEND x {100}\r\nt2 NOOP\r\n");
        assert_eq!(
            framer.next_event(),
            FrameEvent::NeedContinuation { len: 100 }
        );
        assert_eq!(framer.reject_literal(), Tag::try_from("t1").ok());
        assert_eq!(framer.next_event(), complete(b"t2 NOOP\r\n"));
        assert_eq!(framer.next_event(), FrameEvent::NeedMore);
        assert_eq!(framer.buffered_len(), 0);
    }

    #[test]
    fn raw_line_ignores_braces() {
        let mut framer = Framer::new(FramingLimits::default());
        framer.expect_raw_line();
        framer.enqueue(b"abc{3}\r\nt NOOP {1}\r\n");
        assert_eq!(framer.next_event(), complete(b"abc{3}\r\n"));
        assert_eq!(framer.next_event(), FrameEvent::NeedContinuation { len: 1 });
    }

    #[test]
    fn never_buffers_past_line_cap() {
        let mut framer = Framer::new(small_limits());
        framer.enqueue(b"t1 ");
        assert_eq!(framer.next_event(), FrameEvent::NeedMore);
        let mut saw_error = false;
        for _ in 0..100 {
            framer.enqueue(&[b'z'; 16]);
            loop {
                match framer.next_event() {
                    FrameEvent::NeedMore => break,
                    FrameEvent::Error(FrameError::LineTooLong { .. }) => saw_error = true,
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert!(
                framer.buf.len() <= 40 + 16,
                "buffer grew to {}",
                framer.buf.len()
            );
        }
        assert!(saw_error);
        framer.enqueue(b"\r\nt2 NOOP\r\n");
        assert_eq!(framer.next_event(), complete(b"t2 NOOP\r\n"));
    }

    #[test]
    fn split_at_every_position_gives_same_events() {
        let inputs: [&[u8]; 5] = [
            b"a LOGIN {3}\r\nbob {2+}\r\npw\r\nb NOOP\n",
            b"t1 APPEND x {11+}\r\n0123456789A rest {2+}\r\nzz\r\nt2 NOOP\r\n",
            b"t1 APPEND x {11}\r\nt2 NOOP\r\nt3 ~{3+}\r\n\0\0\0\r\n",
            b"t1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {5+}\r\n{1}\r\n\r\nt2 X\r\n",
            b"t1 X {3+}\r\nab\ncd {1}\r\n\n\r\n",
        ];
        for input in inputs {
            let whole = run(small_limits(), &[input]);
            for cut in 0..=input.len() {
                let (a, b) = input.split_at(cut);
                assert_eq!(
                    run(small_limits(), &[a, b]),
                    whole,
                    "cut at {cut} of {input:?}"
                );
            }
            let bytewise: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(run(small_limits(), &bytewise), whole);
        }
    }
}

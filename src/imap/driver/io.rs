//! The connection's byte pipe: socket input goes through the codec's
//! [`Framer`], responses are encoded into one buffer that is flushed per
//! command (or earlier when a big FETCH literal is being streamed), and
//! bytes in/out are counted for the logout line.

use super::deflate::Deflate;
use crate::imap::codec::response::EncodeOptions;
use crate::imap::codec::types::Tag;
use crate::imap::codec::{Frame, FrameError, FrameEvent, Framer, FramingLimits};
use crate::imap::session::literals::literal_verdict;
use crate::imap::session::output::{FLUSH_THRESHOLD, Gone, Output};
use crate::net::Conn;
use crate::net::conn::ConnError;
use crate::net::driver_io::{Arrival, fill_unless_shutdown, send_in_pieces};
use crate::net::rawlog::Rawlog;
use crate::shard::env::Env;

/// Output buffer capacity a session waiting for input may keep.
const IDLE_OUTPUT_KEPT: usize = 4 * 1024;

/// Most plaintext one inflate step may produce (bounds decompression).
const INFLATE_STEP: usize = 64 * 1024;

/// What the read side produced.
#[derive(Debug)]
pub enum Incoming {
    Frame(Frame),
    /// The framer refused the command; the connection goes on unless the
    /// error is fatal.
    FrameError(FrameError),
    /// A synchronizing literal was refused before `+` was sent; `too_big`
    /// selects `NO [TOOBIG]` (an APPEND over the limit) over BAD.
    LiteralRefused {
        tag: Option<Tag>,
        too_big: bool,
    },
    Shutdown,
    Timeout,
    Closed,
}

pub struct ImapIo {
    pub conn: Conn,
    framer: Framer,
    out: Vec<u8>,
    pub opts: EncodeOptions,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Largest synchronizing literal we send `+` for.
    pub literal_limit: u64,
    /// Before login only LOGIN and AUTHENTICATE may carry literals.
    pub logged_in: bool,
    /// COMPRESS=DEFLATE once active, with compressed input not yet inflated.
    deflate: Option<Deflate>,
    compressed_in: Vec<u8>,
    /// `rawlog_dir`: the plaintext conversation (inflated, before deflate).
    pub rawlog: Option<Rawlog>,
}

impl ImapIo {
    pub fn new(conn: Conn, limits: FramingLimits, pending: Vec<u8>) -> ImapIo {
        let mut framer = Framer::new(limits);
        framer.enqueue(&pending);
        ImapIo {
            conn,
            framer,
            out: Vec::new(),
            opts: EncodeOptions::default(),
            bytes_in: 0,
            bytes_out: 0,
            literal_limit: limits.max_literal_size,
            logged_in: false,
            deflate: None,
            compressed_in: Vec::new(),
            rawlog: None,
        }
    }

    fn log_input(&self, bytes: &[u8]) {
        if let Some(r) = &self.rawlog {
            r.input(bytes);
        }
    }

    /// Everything received of a command not complete yet (its line and
    /// literal so far), for the disconnect log line.
    pub fn unfinished_input(&self) -> Vec<u8> {
        let mut all = self.framer.partial_frame().to_vec();
        all.extend_from_slice(self.framer.pending_input());
        all
    }

    /// Input the framer holds but has not framed yet (carried over a
    /// handoff, dropped on STARTTLS).
    pub fn take_pending_input(&mut self) -> Vec<u8> {
        self.framer.take_pending_input()
    }

    /// Moves the input that has already arrived into the framer (inflating
    /// it under COMPRESS) without waiting for more; true when a whole line is
    /// waiting there, or when the compressed stream is broken (the next read
    /// reports that). IDLE uses it to keep pushing updates while a client's
    /// DONE is only partly here.
    pub fn absorb_arrived_input(&mut self) -> bool {
        let n = self.conn.buffered().len();
        if n > 0 {
            if self.deflate.is_some() {
                self.compressed_in.extend_from_slice(self.conn.buffered());
            } else {
                self.framer.enqueue(self.conn.buffered());
                self.log_input(self.conn.buffered());
                self.bytes_in += n as u64;
            }
            self.conn.consume(n);
        }
        if let Some(z) = self.deflate.as_mut() {
            while !self.compressed_in.is_empty() {
                let mut plain = Vec::new();
                let Ok(used) = z.decompress(&self.compressed_in, &mut plain, INFLATE_STEP) else {
                    return true;
                };
                self.compressed_in.drain(..used);
                if plain.is_empty() {
                    if used == 0 {
                        break;
                    }
                    continue;
                }
                self.framer.enqueue(&plain);
                if let Some(r) = &self.rawlog {
                    r.input(&plain);
                }
                self.bytes_in += plain.len() as u64;
            }
        }
        memchr::memchr(b'\n', self.framer.pending_input()).is_some()
    }

    /// Starts COMPRESS=DEFLATE after its tagged OK was flushed. Input the
    /// client pipelined after the command is already compressed.
    pub fn start_deflate(&mut self) {
        self.compressed_in = self.framer.take_pending_input();
        self.deflate = Some(Deflate::default());
    }

    async fn send(&mut self) -> Result<(), ConnError> {
        if !self.out.is_empty() {
            self.bytes_out += self.out.len() as u64;
            if let Some(r) = &self.rawlog {
                r.output(&self.out);
            }
            let packed;
            let bytes: &[u8] = match self.deflate.as_mut() {
                Some(z) => {
                    let mut buf = Vec::new();
                    if z.compress(&self.out, &mut buf).is_err() {
                        return Err(ConnError::Closed);
                    }
                    packed = buf;
                    &packed
                }
                None => &self.out,
            };
            send_in_pieces(&mut self.conn, bytes).await?;
            if self.out.capacity() > 4 * FLUSH_THRESHOLD {
                self.out = Vec::new();
            } else {
                self.out.clear();
            }
        }
        self.conn.flush().await
    }

    /// Gives back the output buffer's memory once everything was sent: a
    /// session waiting for its client (between commands, in IDLE) keeps no
    /// buffer sized for the last big FETCH.
    pub fn release_idle_output(&mut self) {
        if self.out.is_empty() && self.out.capacity() > IDLE_OUTPUT_KEPT {
            self.out = Vec::new();
        }
    }

    /// The next command frame. Checks for shutdown only while waiting for
    /// input, so a command already received always completes.
    pub async fn next(&mut self, env: &Env) -> Incoming {
        loop {
            match self.framer.next_event() {
                FrameEvent::Complete(f) => return Incoming::Frame(f),
                FrameEvent::Error(e) => return Incoming::FrameError(e),
                FrameEvent::NeedContinuation { len } => {
                    let verdict = literal_verdict(
                        self.framer.partial_frame(),
                        len,
                        self.logged_in,
                        self.literal_limit,
                    );
                    if let Some(too_big) = verdict {
                        let tag = self.framer.reject_literal();
                        return Incoming::LiteralRefused { tag, too_big };
                    }
                    self.out.extend_from_slice(b"+ OK\r\n");
                    if self.send().await.is_err() {
                        return Incoming::Closed;
                    }
                }
                FrameEvent::NeedMore => {
                    self.release_idle_output();
                    if let Some(end) = self.read_more(env).await {
                        return end;
                    }
                }
            }
        }
    }

    /// One bare line (AUTHENTICATE answers, IDLE's DONE).
    pub async fn next_raw_line(&mut self, env: &Env) -> Incoming {
        self.framer.expect_raw_line();
        self.next(env).await
    }

    /// Moves socket input into the framer (inflating it under COMPRESS).
    /// `Some` ends the read.
    async fn read_more(&mut self, env: &Env) -> Option<Incoming> {
        loop {
            if let Some(z) = self.deflate.as_mut()
                && !self.compressed_in.is_empty()
            {
                let mut plain = Vec::new();
                let Ok(used) = z.decompress(&self.compressed_in, &mut plain, INFLATE_STEP) else {
                    return Some(Incoming::Closed);
                };
                self.compressed_in.drain(..used);
                if !plain.is_empty() {
                    self.framer.enqueue(&plain);
                    if let Some(r) = &self.rawlog {
                        r.input(&plain);
                    }
                    self.bytes_in += plain.len() as u64;
                    return None;
                }
            }
            if self.conn.buffered().is_empty() {
                match fill_unless_shutdown(&mut self.conn, env.shutdown.wait()).await {
                    Arrival::Data => {}
                    Arrival::Shutdown => return Some(Incoming::Shutdown),
                    Arrival::Timeout => return Some(Incoming::Timeout),
                    Arrival::Closed => return Some(Incoming::Closed),
                }
            }
            let n = self.conn.buffered().len();
            if self.deflate.is_some() {
                self.compressed_in.extend_from_slice(self.conn.buffered());
                self.conn.consume(n);
                continue;
            }
            self.framer.enqueue(self.conn.buffered());
            self.log_input(self.conn.buffered());
            self.conn.consume(n);
            self.bytes_in += n as u64;
            return None;
        }
    }
}

impl Output for ImapIo {
    fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    fn opts(&self) -> EncodeOptions {
        self.opts
    }

    fn set_opts(&mut self, opts: EncodeOptions) {
        self.opts = opts;
    }

    async fn flush(&mut self) -> Result<(), Gone> {
        self.send().await.map_err(|_| Gone)
    }
}

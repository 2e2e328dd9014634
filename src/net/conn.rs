//! One client connection: a glommio socket, an optional rustls session on
//! top, and the plaintext input not yet consumed by the protocol.
//!
//! Idle connections are the common case for a mail server (IDLE, open
//! desktop clients), so a connection waiting for input holds no read buffer:
//! it waits with a 1-byte `MSG_PEEK` and allocates only once data is there.
//! Waiting that way is also cancel-safe, so a session can race "input" against
//! "mailbox changed" or "shutdown" without losing bytes.

use std::io::{self, Read, Write};
use std::net::SocketAddr; // blocking-ok: a type, no I/O
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpStream, UnixStream};
use rustls::{ServerConfig, ServerConnection};

use super::fd;
use super::login_budget::LoginSlot;
use crate::metrics::{self, Service};

/// Bytes read from the socket per read call.
const READ_CHUNK: usize = 16 * 1024;

/// Longest a closing connection waits for the client to close its side.
const LINGER: Duration = Duration::from_secs(1);
/// An input buffer larger than this is released once it is empty, so an idle
/// session does not keep the memory of its largest command.
const KEEP_INPUT_CAPACITY: usize = 8 * 1024;

/// Where a connection came from and arrived at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerInfo {
    pub remote: Option<SocketAddr>,
    pub local: Option<SocketAddr>,
}

impl PeerInfo {
    /// The remote IP as text, `local` for unix sockets (as Dovecot logs it).
    pub fn remote_ip(&self) -> String {
        self.remote
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "local".to_string())
    }

    /// Dovecot counts a connection whose client IP equals the server IP (a
    /// loopback connection to itself) or a unix socket as secured.
    pub fn is_local(&self) -> bool {
        match (self.remote, self.local) {
            (Some(r), Some(l)) => r.ip() == l.ip(),
            _ => true,
        }
    }
}

enum Transport {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Transport {
    async fn peek1(&self) -> io::Result<usize> {
        let mut b = [0u8; 1];
        let r = match self {
            Transport::Tcp(s) => s.peek(&mut b).await,
            Transport::Unix(s) => s.peek(&mut b).await,
        };
        r.map_err(io::Error::from)
    }

    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.read(buf).await,
            Transport::Unix(s) => s.read(buf).await,
        }
    }

    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Transport::Tcp(s) => s.write_all(buf).await,
            Transport::Unix(s) => s.write_all(buf).await,
        }
    }

    async fn close(&mut self) -> io::Result<()> {
        match self {
            Transport::Tcp(s) => s.close().await,
            Transport::Unix(s) => s.close().await,
        }
    }

    fn has_unread_input(&self) -> bool {
        match self {
            Transport::Tcp(s) => fd::has_unread_input(s),
            // glommio hides a Unix stream's descriptor: linger to be safe
            // (bounded by LINGER, and local clients close at once).
            Transport::Unix(_) => true,
        }
    }

    async fn shutdown_write(&self) -> io::Result<()> {
        let r = match self {
            Transport::Tcp(s) => s.shutdown(std::net::Shutdown::Write).await,
            Transport::Unix(s) => s.shutdown(std::net::Shutdown::Write).await,
        };
        r.map_err(io::Error::from)
    }
}

/// Everything needed to resume a TCP connection on another shard: the socket,
/// the TLS session state, and input that was read but not yet consumed.
/// Plain data, so it is `Send` and can cross the shard mesh.
pub struct ConnParts {
    pub fd: OwnedFd,
    pub tls: Option<Box<ServerConnection>>,
    pub unread: Vec<u8>,
    pub peer: PeerInfo,
    pub idle_timeout: Duration,
    /// The protocol whose byte counters the connection adds to.
    pub counted_as: Option<Service>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("connection closed by peer")]
    Closed,
    #[error("idle timeout")]
    Timeout,
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    #[error("line too long")]
    LineTooLong,
    #[error("this connection cannot move between shards")]
    NotMovable,
}

pub struct Conn {
    /// The place in the pre-login budget until login; first field, so it
    /// is released before the socket closes (the budget may shut down the
    /// descriptor it names, which must not be reused by then).
    login_slot: Option<LoginSlot>,
    /// Absolute deadline to finish logging in (reads time out then).
    login_deadline: Option<Instant>,
    io: Transport,
    tls: Option<Box<ServerConnection>>,
    input: Vec<u8>,
    input_start: usize,
    out: Vec<u8>,
    pub peer: PeerInfo,
    idle_timeout: Duration,
    /// Set after a line overflowed its cap: input is dropped up to the next LF.
    skipping_line: bool,
    /// The protocol whose byte counters this connection's traffic adds to.
    counted_as: Option<Service>,
}

impl Conn {
    pub fn tcp(stream: TcpStream, idle_timeout: Duration) -> Conn {
        let _ = stream.set_nodelay(true);
        let peer = PeerInfo {
            remote: stream.peer_addr().ok(),
            local: stream.local_addr().ok(),
        };
        Conn::new(Transport::Tcp(stream), peer, idle_timeout)
    }

    pub fn unix(stream: UnixStream, idle_timeout: Duration) -> Conn {
        let peer = PeerInfo {
            remote: None,
            local: None,
        };
        Conn::new(Transport::Unix(stream), peer, idle_timeout)
    }

    fn new(io: Transport, peer: PeerInfo, idle_timeout: Duration) -> Conn {
        Conn {
            login_slot: None,
            login_deadline: None,
            io,
            tls: None,
            input: Vec::new(),
            input_start: 0,
            out: Vec::new(),
            peer,
            idle_timeout,
            skipping_line: false,
            counted_as: None,
        }
    }

    /// Counts this connection's socket bytes (TLS records included) as
    /// `service` traffic in the shard's metrics.
    pub fn count_as(&mut self, service: Service) {
        self.counted_as = Some(service);
    }

    fn count_in(&self, n: usize) {
        if let Some(s) = self.counted_as {
            metrics::bytes_in(s, n);
        }
    }

    pub fn set_idle_timeout(&mut self, t: Duration) {
        self.idle_timeout = t;
    }

    /// Starts the pre-login phase: the connection holds `slot` and must
    /// log in within `within`, however slowly the client trickles bytes.
    pub fn start_login(&mut self, slot: Option<LoginSlot>, within: Duration) {
        self.login_slot = slot;
        self.login_deadline = Some(Instant::now() + within);
    }

    /// Login succeeded: the pre-login place is given back and the deadline
    /// lifted.
    pub fn finish_login(&mut self) {
        self.login_slot = None;
        self.login_deadline = None;
    }

    /// The TCP socket's descriptor, for the pre-login budget (-1 for a
    /// unix socket, which is never budgeted).
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        match &self.io {
            Transport::Tcp(s) => s.as_raw_fd(),
            Transport::Unix(_) => -1,
        }
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// "TLSv1.3 TLS13_AES_256_GCM_SHA384" for log lines.
    pub fn tls_description(&self) -> Option<String> {
        let t = self.tls.as_ref()?;
        let v = t.protocol_version().map(|v| format!("{v:?}"))?;
        let c = t
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default();
        Some(format!("{v} {c}"))
    }

    pub fn sni(&self) -> Option<String> {
        self.tls
            .as_ref()
            .and_then(|t| t.server_name().map(|s| s.to_string()))
    }

    /// Plaintext input received but not consumed yet.
    pub fn buffered(&self) -> &[u8] {
        &self.input[self.input_start..]
    }

    pub fn consume(&mut self, n: usize) {
        self.input_start = (self.input_start + n).min(self.input.len());
        if self.input_start == self.input.len() {
            self.input_start = 0;
            if self.input.capacity() > KEEP_INPUT_CAPACITY {
                self.input = Vec::new();
            } else {
                self.input.clear();
            }
        }
    }

    /// Waits (without a buffer) until the socket has data or is closed.
    /// Cancel-safe. Returns immediately when plaintext is already buffered.
    pub async fn readable(&self) -> Result<(), ConnError> {
        if !self.buffered().is_empty() {
            return Ok(());
        }
        self.wait_socket().await
    }

    /// Waits until the socket itself is readable (or the idle timeout),
    /// whatever is buffered already. Cancel-safe.
    pub async fn wait_socket(&self) -> Result<(), ConnError> {
        let mut limit = self.idle_timeout;
        if let Some(deadline) = self.login_deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ConnError::Timeout);
            }
            limit = limit.min(left);
        }
        let wait = async { self.io.peek1().await.map(|_| Ok(())) };
        let timeout = async {
            glommio::timer::sleep(limit).await;
            Ok(Err(ConnError::Timeout))
        };
        futures_lite::future::or(wait, timeout).await?
    }

    /// Reads more input into the buffer. Returns the number of new plaintext
    /// bytes; `Err(Closed)` at end of stream.
    pub async fn fill(&mut self) -> Result<usize, ConnError> {
        loop {
            self.wait_socket().await?;
            if self.input_start > 0 && self.input_start == self.input.len() {
                self.consume(0);
            }
            let got = match self.tls.is_some() {
                false => self.read_plain().await?,
                true => self.read_tls_records().await?,
            };
            if let Some(n) = got {
                return Ok(n);
            }
        }
    }

    async fn read_plain(&mut self) -> Result<Option<usize>, ConnError> {
        let old = self.input.len();
        self.input.resize(old + READ_CHUNK, 0);
        let r = self.io.read(&mut self.input[old..]).await;
        let n = match r {
            Ok(n) => n,
            Err(e) => {
                self.input.truncate(old);
                return Err(e.into());
            }
        };
        self.input.truncate(old + n);
        if n == 0 {
            return Err(ConnError::Closed);
        }
        self.count_in(n);
        Ok(Some(n))
    }

    /// Reads TLS records and decrypts them. `Ok(None)` when the records read
    /// carried no application data (handshake messages, tickets).
    async fn read_tls_records(&mut self) -> Result<Option<usize>, ConnError> {
        let mut raw = vec![0u8; READ_CHUNK];
        let n = self.io.read(&mut raw).await?;
        if n == 0 {
            return Err(ConnError::Closed);
        }
        self.count_in(n);
        self.feed_tls(&raw[..n]).await?;
        let before = self.input.len();
        let Some(tls) = self.tls.as_mut() else {
            return Ok(None);
        };
        let mut chunk = [0u8; 4096];
        loop {
            match tls.reader().read(&mut chunk) {
                Ok(0) => {
                    // close_notify received
                    if self.input.len() == before {
                        return Err(ConnError::Closed);
                    }
                    break;
                }
                Ok(k) => self.input.extend_from_slice(&chunk[..k]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
        let got = self.input.len() - before;
        Ok((got > 0).then_some(got))
    }

    /// Hands ciphertext to rustls and sends whatever it wants to send back
    /// (handshake messages, alerts on error).
    async fn feed_tls(&mut self, mut data: &[u8]) -> Result<(), ConnError> {
        while !data.is_empty() {
            let Some(tls) = self.tls.as_mut() else {
                return Ok(());
            };
            tls.read_tls(&mut data)?;
            if let Err(e) = tls.process_new_packets() {
                // Send the alert rustls queued before giving up.
                let _ = self.flush().await;
                return Err(e.into());
            }
        }
        self.flush().await?;
        Ok(())
    }

    /// Appends bytes to the output; nothing is sent until `flush`.
    pub fn queue(&mut self, data: &[u8]) {
        match self.tls.as_mut() {
            Some(tls) => {
                // rustls accepts plaintext only up to its buffer limit
                // (64 KiB); move the records it has made into our own
                // buffer whenever it stops accepting, so nothing is dropped.
                let mut rest = data;
                while !rest.is_empty() {
                    let n = tls.writer().write(rest).unwrap_or(0);
                    rest = &rest[n..];
                    if n == 0 {
                        if !tls.wants_write() {
                            tracing::error!("TLS writer refused {} bytes", rest.len());
                            break;
                        }
                        while tls.wants_write() {
                            if tls.write_tls(&mut self.out).is_err() {
                                break;
                            }
                        }
                    }
                }
            }
            None => self.out.extend_from_slice(data),
        }
    }

    /// Bytes waiting in the output (plaintext before encryption).
    pub fn queued_len(&self) -> usize {
        self.out.len()
    }

    pub async fn flush(&mut self) -> Result<(), ConnError> {
        if let Some(tls) = self.tls.as_mut() {
            while tls.wants_write() {
                tls.write_tls(&mut self.out)?;
            }
        }
        if !self.out.is_empty() {
            if let Some(s) = self.counted_as {
                metrics::bytes_out(s, self.out.len());
            }
            let r = self.io.write_all(&self.out).await;
            if self.out.capacity() > KEEP_INPUT_CAPACITY {
                self.out = Vec::new();
            } else {
                self.out.clear();
            }
            r?;
        }
        Ok(())
    }

    pub async fn write_all(&mut self, data: &[u8]) -> Result<(), ConnError> {
        self.queue(data);
        self.flush().await
    }

    /// Implicit TLS: run the handshake now.
    pub async fn accept_tls(&mut self, cfg: Arc<ServerConfig>) -> Result<(), ConnError> {
        self.tls = Some(Box::new(ServerConnection::new(cfg)?));
        self.handshake().await
    }

    /// STARTTLS / STLS: the protocol has already sent its "go ahead" reply.
    /// Any plaintext the client pipelined after the command is discarded, so
    /// it cannot be injected into the TLS session (RFC 3207 §4.2 reasoning).
    pub async fn start_tls(&mut self, cfg: Arc<ServerConfig>) -> Result<(), ConnError> {
        self.flush().await?;
        self.input.clear();
        self.input_start = 0;
        self.accept_tls(cfg).await?;
        if let Some(s) = self.counted_as {
            metrics::starttls(s);
        }
        Ok(())
    }

    async fn handshake(&mut self) -> Result<(), ConnError> {
        loop {
            self.flush().await?;
            let handshaking = self.tls.as_ref().is_some_and(|t| t.is_handshaking());
            if !handshaking {
                return Ok(());
            }
            self.wait_socket().await?;
            let mut raw = vec![0u8; READ_CHUNK];
            let n = self.io.read(&mut raw).await?;
            if n == 0 {
                return Err(ConnError::Closed);
            }
            self.count_in(n);
            self.feed_tls(&raw[..n]).await?;
            // Early data after the handshake (a pipelined first command) is
            // left inside rustls and picked up by the next `fill`.
            if let Some(tls) = self.tls.as_mut()
                && !tls.is_handshaking()
            {
                let mut chunk = [0u8; 4096];
                while let Ok(k) = tls.reader().read(&mut chunk) {
                    if k == 0 {
                        break;
                    }
                    self.input.extend_from_slice(&chunk[..k]);
                }
            }
        }
    }

    /// Reads one line (without its CRLF or LF). A line longer than `max` is
    /// skipped up to its end and reported as `LineTooLong`, so the protocol
    /// can answer with an error and carry on.
    pub async fn read_line(&mut self, max: usize) -> Result<Vec<u8>, ConnError> {
        loop {
            let buf = self.buffered();
            if let Some(pos) = memchr::memchr(b'\n', buf) {
                if self.skipping_line {
                    self.skipping_line = false;
                    self.consume(pos + 1);
                    return Err(ConnError::LineTooLong);
                }
                let mut line = buf[..pos].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.consume(pos + 1);
                if line.len() > max {
                    return Err(ConnError::LineTooLong);
                }
                return Ok(line);
            }
            if buf.len() > max {
                let n = buf.len();
                self.consume(n);
                self.skipping_line = true;
            }
            self.fill().await?;
        }
    }

    /// Sends TLS close_notify (if any) and shuts the socket down.
    pub async fn close(mut self) {
        self.login_slot = None;
        if let Some(tls) = self.tls.as_mut() {
            tls.send_close_notify();
        }
        let _ = self.flush().await;
        self.linger().await;
        let _ = self.io.close().await;
    }

    /// A lingering close. A socket closed with client input still unread
    /// is reset: a client in the middle of sending (an APPEND's literal
    /// when the server ends the session, a pipelined command after a BYE)
    /// gets ECONNRESET or EPIPE and may lose the answer it has not read
    /// yet. So the write side is shut first (the client sees the end of
    /// the stream after our last bytes) and its input is read and dropped
    /// until it closes too, for at most [`LINGER`]. Only when input is
    /// waiting: a client that stopped sending (the usual LOGOUT or QUIT)
    /// is closed at once, so nothing it holds (a POP3 lock) is kept.
    async fn linger(&mut self) {
        if !self.io.has_unread_input() || self.io.shutdown_write().await.is_err() {
            return;
        }
        let io = &mut self.io;
        let drain = async {
            let mut sink = [0u8; 4096];
            while let Ok(n) = io.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        };
        futures_lite::future::or(drain, glommio::timer::sleep(LINGER)).await;
    }

    /// Takes the connection apart so it can move to another shard. Only at a
    /// quiescent point: all output flushed, no read in progress.
    pub async fn into_parts(mut self) -> Result<ConnParts, ConnError> {
        // Handoffs happen after login; the slot never crosses shards.
        self.finish_login();
        self.flush().await?;
        let unread = self.buffered().to_vec();
        let Transport::Tcp(stream) = self.io else {
            return Err(ConnError::NotMovable);
        };
        let fd = fd::detach(stream)?;
        Ok(ConnParts {
            fd,
            tls: self.tls,
            unread,
            peer: self.peer,
            idle_timeout: self.idle_timeout,
            counted_as: self.counted_as,
        })
    }

    /// Resumes a connection on the current shard.
    pub fn from_parts(p: ConnParts) -> Conn {
        let stream: TcpStream = fd::attach(p.fd);
        let mut c = Conn::new(Transport::Tcp(stream), p.peer, p.idle_timeout);
        c.tls = p.tls;
        c.input = p.unread;
        c.counted_as = p.counted_as;
        c
    }
}

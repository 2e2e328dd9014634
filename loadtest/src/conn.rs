//! One client connection: TCP (optionally from a rotating 127.0.0.x source),
//! optional TLS, and a line reader with a cap on line length.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_rustls::client::TlsStream;
use glommio::net::TcpStream;

use crate::error::ClientError;
use crate::sys;
use crate::tls::TlsCtx;

/// Longest server line accepted (literals are read separately).
pub const MAX_LINE: usize = 256 * 1024;
const INITIAL_BUF: usize = 4096;

pub enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection already shut")
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Transport::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Transport::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Transport::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_close(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_close(cx),
            Transport::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// Runs `fut`, failing with [`ClientError::Timeout`] after `limit`.
pub async fn with_timeout<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    futures_lite::future::or(fut, async {
        glommio::timer::sleep(limit).await;
        Err(ClientError::Timeout)
    })
    .await
}

/// Opens TCP connections to one target, per generator thread. When the
/// kernel runs out of source ports (EADDRNOTAVAIL) on a loopback target it
/// switches to binding 127.0.0.2…127.0.0.254 in turn: each source address
/// brings its own port range.
pub struct Dialer {
    target: SocketAddr,
    spread: Cell<bool>,
    next_source: Cell<u32>,
}

impl Dialer {
    pub fn new(target: SocketAddr) -> Dialer {
        Dialer {
            target,
            spread: Cell::new(false),
            next_source: Cell::new(0),
        }
    }

    pub fn spreading(&self) -> bool {
        self.spread.get()
    }

    /// Forces the rotating-source mode (tests, or a caller who knows).
    pub fn force_spread(&self) {
        self.spread
            .set(self.target.ip().is_loopback() && self.target.is_ipv4());
    }

    pub async fn dial(&self) -> Result<TcpStream, ClientError> {
        if !self.spread.get() {
            match TcpStream::connect(self.target).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => {
                    let e = io::Error::from(e);
                    let can_spread = self.target.ip().is_loopback() && self.target.is_ipv4();
                    if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) && can_spread {
                        self.spread.set(true);
                    } else {
                        return Err(ClientError::Connect(e));
                    }
                }
            }
        }
        let n = self.next_source.get();
        self.next_source.set(n.wrapping_add(1));
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (n % 253) as u8));
        let sock = sys::start_connect_from(source, self.target).map_err(ClientError::Connect)?;
        // a non-blocking connect on loopback finishes within microseconds;
        // poll it without blocking the executor
        while !sys::is_writable(&sock) {
            glommio::timer::sleep(Duration::from_micros(100)).await;
        }
        if let Some(e) = sock.take_error().map_err(ClientError::Connect)? {
            return Err(ClientError::Connect(e));
        }
        Ok(sys::into_glommio(sock))
    }
}

pub struct Conn {
    io: Transport,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Conn {
    pub fn new(io: Transport) -> Conn {
        Conn {
            io,
            buf: vec![0; INITIAL_BUF],
            start: 0,
            end: 0,
        }
    }

    /// TCP, then TLS at once when `implicit_tls` is given.
    pub async fn open(dialer: &Dialer, implicit_tls: Option<&TlsCtx>) -> Result<Conn, ClientError> {
        let tcp = dialer.dial().await?;
        let mut conn = Conn::new(Transport::Plain(tcp));
        if let Some(tls) = implicit_tls {
            conn.start_tls(tls).await?;
        }
        Ok(conn)
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.io, Transport::Tls(_))
    }

    /// Wraps the connection in TLS (implicit, or after a STARTTLS reply).
    pub async fn start_tls(&mut self, tls: &TlsCtx) -> Result<(), ClientError> {
        if self.start != self.end {
            // bytes after the STARTTLS reply would be plaintext injection
            return Err(ClientError::Protocol("data pipelined before TLS".into()));
        }
        let Transport::Plain(tcp) = std::mem::replace(&mut self.io, Transport::Gone) else {
            return Err(ClientError::Protocol("TLS is already on".into()));
        };
        let s = tls
            .connector
            .connect(tls.server_name.clone(), tcp)
            .await
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        self.io = Transport::Tls(Box::new(s));
        Ok(())
    }

    async fn fill(&mut self) -> Result<(), ClientError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.buf.len() < MAX_LINE {
                let len = (self.buf.len() * 2).min(MAX_LINE);
                self.buf.resize(len, 0);
            } else {
                return Err(ClientError::LineTooLong(MAX_LINE));
            }
        }
        let n = self.io.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(ClientError::Closed);
        }
        self.end += n;
        Ok(())
    }

    /// The next line without its CRLF (or bare LF).
    pub async fn read_line(&mut self) -> Result<&[u8], ClientError> {
        let mut scanned = self.start;
        let nl = loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[scanned..self.end]) {
                break scanned + i;
            }
            let before = self.end - self.start;
            self.fill().await?;
            // fill may have moved the data to the front of the buffer
            scanned = self.start + before;
        };
        let line_start = self.start;
        self.start = nl + 1;
        let mut e = nl;
        if e > line_start && self.buf[e - 1] == b'\r' {
            e -= 1;
        }
        Ok(&self.buf[line_start..e])
    }

    /// Reads and discards `n` bytes (a literal whose content we do not need).
    pub async fn skip(&mut self, mut n: usize) -> Result<(), ClientError> {
        loop {
            let have = (self.end - self.start).min(n);
            self.start += have;
            n -= have;
            if n == 0 {
                return Ok(());
            }
            self.fill().await?;
        }
    }

    pub async fn send(&mut self, data: &[u8]) -> Result<(), ClientError> {
        self.io.write_all(data).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// Sends several pieces with one flush (one TLS record train).
    pub async fn send_parts(&mut self, parts: &[&[u8]]) -> Result<(), ClientError> {
        for p in parts {
            self.io.write_all(p).await?;
        }
        self.io.flush().await?;
        Ok(())
    }

    pub async fn close(mut self) {
        let _ = self.io.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glommio::{LocalExecutorBuilder, Placement};

    #[test]
    fn spread_mode_uses_other_loopback_sources() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = std::thread::spawn(move || {
            let mut peers = Vec::new();
            for _ in 0..3 {
                let (sock, peer) = listener.accept().expect("accept");
                std::io::Write::write_all(&mut &sock, b"hello\r\n").expect("write");
                peers.push(peer.ip());
            }
            peers
        });
        let (spreading, lines) = LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(1 << 20)
            .spawn(move || async move {
                let dialer = Dialer::new(addr);
                dialer.force_spread();
                let mut lines = Vec::new();
                for _ in 0..3 {
                    let mut c = Conn::open(&dialer, None).await.expect("connect");
                    lines.push(c.read_line().await.expect("line").to_vec());
                }
                (dialer.spreading(), lines)
            })
            .expect("executor")
            .join()
            .expect("join");
        let peers = server.join().expect("server");
        assert!(spreading);
        assert!(lines.iter().all(|l| l == b"hello"));
        let want: Vec<IpAddr> = (2..5)
            .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
            .collect();
        assert_eq!(peers, want);
    }

    #[test]
    fn long_lines_are_refused_not_buffered_forever() {
        // a server that sends one endless line
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            if let Ok((sock, _)) = listener.accept() {
                let chunk = vec![b'x'; 64 * 1024];
                for _ in 0..(MAX_LINE / chunk.len() + 2) {
                    if std::io::Write::write_all(&mut &sock, &chunk).is_err() {
                        break;
                    }
                }
            }
        });
        let too_long = crate::testkit::with_conn(addr, |mut conn| async move {
            matches!(conn.read_line().await, Err(ClientError::LineTooLong(_)))
        });
        assert!(too_long);
    }
}

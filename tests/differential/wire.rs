//! One IMAP connection seen as a stream of complete responses: a reader
//! thread frames server output (literals included) so the runner can wait for
//! a tag or a continuation with a timeout, whatever the transport (a TCP
//! socket to tern, the stdin/stdout pipes of a Dovecot `imap` process).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long one wait may take before the runner records a timeout.
pub const WAIT: Duration = Duration::from_secs(8);

pub enum Event {
    /// One complete response, literals inline, without the final CRLF.
    Response(Vec<u8>),
    Eof,
}

/// What ended a wait.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Tagged,
    Continuation,
    Eof,
    Timeout,
}

pub struct Wire {
    writer: Box<dyn Write + Send>,
    rx: mpsc::Receiver<Event>,
    pub closed: bool,
    child: Option<Child>,
    socket: Option<TcpStream>,
}

impl Wire {
    pub fn tcp(stream: TcpStream) -> std::io::Result<Wire> {
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        let writer = stream.try_clone()?;
        Ok(Wire {
            writer: Box::new(writer),
            rx: spawn_reader(reader),
            closed: false,
            child: None,
            socket: Some(stream),
        })
    }

    /// A child process speaking IMAP on its stdin/stdout.
    pub fn child(mut child: Child) -> Wire {
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        Wire {
            writer: Box::new(stdin),
            rx: spawn_reader(stdout),
            closed: false,
            child: Some(child),
            socket: None,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        if self
            .writer
            .write_all(bytes)
            .and_then(|_| self.writer.flush())
            .is_err()
        {
            self.closed = true;
        }
    }

    /// Next response within `limit`; `None` on timeout.
    pub fn next(&mut self, limit: Duration) -> Option<Event> {
        if self.closed {
            return Some(Event::Eof);
        }
        match self.rx.recv_timeout(limit) {
            Ok(Event::Eof) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.closed = true;
                Some(Event::Eof)
            }
            Ok(ev) => Some(ev),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
        }
    }

    /// Reads responses until `stop` says so (or EOF / timeout); returns them
    /// with what ended the wait.
    pub fn until(
        &mut self,
        mut stop: impl FnMut(&[u8]) -> Option<Outcome>,
    ) -> (Vec<Vec<u8>>, Outcome) {
        let deadline = Instant::now() + WAIT;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                None => return (got, Outcome::Timeout),
                Some(Event::Eof) => return (got, Outcome::Eof),
                Some(Event::Response(r)) => {
                    let end = stop(&r);
                    got.push(r);
                    if let Some(outcome) = end {
                        return (got, outcome);
                    }
                }
            }
        }
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        if let Some(s) = &self.socket {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The byte count of a literal announced at the end of `line` (`{12}`,
/// `~{12}`), if any.
pub fn trailing_literal(line: &[u8]) -> Option<usize> {
    let line = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))?;
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = body[open + 1..]
        .strip_suffix(b"+")
        .unwrap_or(&body[open + 1..]);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn spawn_reader(stream: impl Read + Send + 'static) -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stream);
        loop {
            let mut resp = Vec::new();
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => {
                        if !resp.is_empty() || !line.is_empty() {
                            resp.extend_from_slice(&line);
                            let _ = tx.send(Event::Response(resp));
                        }
                        let _ = tx.send(Event::Eof);
                        return;
                    }
                    Ok(_) => {}
                }
                let literal = trailing_literal(&line);
                resp.extend_from_slice(&line);
                match literal {
                    Some(n) => {
                        let mut data = vec![0u8; n];
                        if r.read_exact(&mut data).is_err() {
                            let _ = tx.send(Event::Response(resp));
                            let _ = tx.send(Event::Eof);
                            return;
                        }
                        resp.extend_from_slice(&data);
                    }
                    None => break,
                }
            }
            while resp.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                resp.pop();
            }
            if tx.send(Event::Response(resp)).is_err() {
                return;
            }
        }
    });
    rx
}

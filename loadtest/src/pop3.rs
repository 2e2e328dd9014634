//! A minimal POP3 client (RFC 1939, STLS from RFC 2595, AUTH PLAIN).

use base64::Engine as _;

use crate::args::AuthMech;
use crate::conn::Conn;
use crate::error::ClientError;
use crate::tls::TlsCtx;

pub fn is_ok(line: &[u8]) -> bool {
    line.starts_with(b"+OK")
}

/// `+OK <count> <octets>` → (count, octets).
pub fn parse_stat(line: &[u8]) -> Option<(u32, u64)> {
    let rest = std::str::from_utf8(line.strip_prefix(b"+OK ")?).ok()?;
    let mut it = rest.split_ascii_whitespace();
    let count = it.next()?.parse().ok()?;
    let size = it.next()?.parse().ok()?;
    Some((count, size))
}

pub struct Pop3 {
    pub conn: Conn,
}

impl Pop3 {
    pub async fn greet(mut conn: Conn) -> Result<Pop3, ClientError> {
        let line = conn.read_line().await?;
        if !is_ok(line) {
            return Err(ClientError::refused(line));
        }
        Ok(Pop3 { conn })
    }

    /// One single-line command.
    pub async fn command(&mut self, cmd: &[u8]) -> Result<(), ClientError> {
        self.conn.send_parts(&[cmd, b"\r\n"]).await?;
        let line = self.conn.read_line().await?;
        if is_ok(line) {
            Ok(())
        } else {
            Err(ClientError::refused(line))
        }
    }

    /// A multi-line command; returns the number of data lines (dot-stuffed
    /// lines count once; we never need their content).
    pub async fn multiline(&mut self, cmd: &[u8]) -> Result<u64, ClientError> {
        self.conn.send_parts(&[cmd, b"\r\n"]).await?;
        let line = self.conn.read_line().await?;
        if !is_ok(line) {
            return Err(ClientError::refused(line));
        }
        let mut n = 0;
        loop {
            let line = self.conn.read_line().await?;
            if line == b"." {
                return Ok(n);
            }
            n += 1;
        }
    }

    pub async fn stls(&mut self, tls: &TlsCtx) -> Result<(), ClientError> {
        self.command(b"STLS").await?;
        self.conn.start_tls(tls).await
    }

    pub async fn login(
        &mut self,
        user: &str,
        password: &str,
        mech: AuthMech,
    ) -> Result<(), ClientError> {
        match mech {
            AuthMech::Login => {
                self.command(format!("USER {user}").as_bytes()).await?;
                self.command(format!("PASS {password}").as_bytes()).await
            }
            AuthMech::Plain => {
                let raw = format!("\0{user}\0{password}");
                let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
                self.command(format!("AUTH PLAIN {b64}").as_bytes()).await
            }
        }
    }

    pub async fn stat(&mut self) -> Result<(u32, u64), ClientError> {
        self.conn.send(b"STAT\r\n").await?;
        let line = self.conn.read_line().await?;
        parse_stat(line).ok_or_else(|| ClientError::protocol(line))
    }

    pub async fn quit(mut self) -> Result<(), ClientError> {
        self.command(b"QUIT").await?;
        self.conn.close().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines() {
        assert_eq!(parse_stat(b"+OK 3 4500"), Some((3, 4500)));
        assert_eq!(parse_stat(b"+OK 0 0 extra"), Some((0, 0)));
        assert_eq!(parse_stat(b"-ERR nope"), None);
        assert_eq!(parse_stat(b"+OK x 1"), None);
        assert_eq!(parse_stat(b"+OK 3"), None);
        assert!(is_ok(b"+OK"));
        assert!(!is_ok(b"-ERR"));
    }
}

#[cfg(test)]
mod scripted {
    use super::*;
    use crate::testkit::{Step::*, serve, with_conn};

    #[test]
    fn session_against_a_scripted_server() {
        let (addr, server) = serve(vec![
            Send(b"+OK POP3 ready\r\n"),
            Expect("USER u1"),
            Send(b"+OK\r\n"),
            Expect("PASS pw"),
            Send(b"+OK logged in\r\n"),
            Expect("STAT"),
            Send(b"+OK 2 300\r\n"),
            Expect("UIDL"),
            Send(b"+OK\r\n1 a\r\n2 b\r\n.\r\n"),
            Expect("RETR 1"),
            Send(b"+OK 150 octets\r\nSubject: x\r\n\r\n..dot-stuffed\r\nbody\r\n.\r\n"),
            Expect("RETR 9"),
            Send(b"-ERR no such message\r\n"),
            Expect("QUIT"),
            Send(b"+OK bye\r\n"),
            Close,
        ]);
        let (uidl, retr) = with_conn(addr, |conn| async move {
            let mut p = Pop3::greet(conn).await.expect("greeting");
            p.login("u1", "pw", AuthMech::Login).await.expect("login");
            assert_eq!(p.stat().await.expect("stat"), (2, 300));
            let uidl = p.multiline(b"UIDL").await.expect("uidl");
            let retr = p.multiline(b"RETR 1").await.expect("retr");
            assert!(p.multiline(b"RETR 9").await.is_err());
            p.quit().await.expect("quit");
            (uidl, retr)
        });
        assert_eq!(uidl, 2);
        assert_eq!(retr, 4);
        assert_eq!(server.join().expect("server thread"), Ok(()));
    }
}

//! A minimal IMAP4rev1/rev2 client: just what the scenarios send, and a
//! reader that follows untagged data, literals and the tagged completion.

use std::io::Write as _;

use base64::Engine as _;

use crate::args::AuthMech;
use crate::conn::Conn;
use crate::error::ClientError;
use crate::tls::TlsCtx;

/// A literal announced by the server larger than this is treated as an error
/// (we skip literals without storing them, but a bogus size would hang us).
const MAX_LITERAL: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Tagged(Status),
    /// `* …`
    Untagged,
    /// `+ …`
    Continuation,
    /// a tagged line for another tag, or garbage
    Other,
}

/// What a response line is, for our current `tag`.
pub fn classify(line: &[u8], tag: &[u8]) -> LineKind {
    if line.starts_with(b"* ") || line == b"*" {
        return LineKind::Untagged;
    }
    if line.starts_with(b"+") {
        return LineKind::Continuation;
    }
    let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(b" ")) else {
        return LineKind::Other;
    };
    let word = rest.split(|&b| b == b' ').next().unwrap_or(b"");
    if word.eq_ignore_ascii_case(b"OK") {
        LineKind::Tagged(Status::Ok)
    } else if word.eq_ignore_ascii_case(b"NO") {
        LineKind::Tagged(Status::No)
    } else if word.eq_ignore_ascii_case(b"BAD") {
        LineKind::Tagged(Status::Bad)
    } else {
        LineKind::Other
    }
}

/// The size of a literal that ends this line (`{12}` or `{12+}`).
pub fn trailing_literal(line: &[u8]) -> Option<u64> {
    let body = line.strip_suffix(b"}")?;
    let open = memchr::memrchr(b'{', body)?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `* <n> <word>` → n (e.g. EXISTS, EXPUNGE, RECENT).
pub fn untagged_number(line: &[u8], word: &[u8]) -> Option<u32> {
    let rest = line.strip_prefix(b"* ")?;
    let sp = memchr::memchr(b' ', rest)?;
    let (num, after) = (&rest[..sp], &rest[sp + 1..]);
    let w = after.split(|&b| b == b' ').next()?;
    if !w.eq_ignore_ascii_case(word) || num.is_empty() || num.len() > 10 {
        return None;
    }
    std::str::from_utf8(num).ok()?.parse().ok()
}

/// An IMAP quoted string.
pub fn quote(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    out.push(b'"');
    for &b in s.as_bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

fn has_word(line: &[u8], word: &[u8]) -> bool {
    line.windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word))
}

pub struct Imap {
    pub conn: Conn,
    tag: u32,
    out: Vec<u8>,
    /// Last known message count of the selected mailbox.
    pub exists: u32,
    pub literal_plus: bool,
    pub starttls_offered: bool,
}

impl Imap {
    /// Reads the greeting.
    pub async fn greet(mut conn: Conn) -> Result<Imap, ClientError> {
        let line = conn.read_line().await?;
        if !(line.starts_with(b"* OK") || line.starts_with(b"* PREAUTH")) {
            return Err(ClientError::refused(line));
        }
        let literal_plus = has_word(line, b"LITERAL+");
        let starttls_offered = has_word(line, b"STARTTLS");
        Ok(Imap {
            conn,
            tag: 0,
            out: Vec::with_capacity(256),
            exists: 0,
            literal_plus,
            starttls_offered,
        })
    }

    fn begin(&mut self) {
        self.tag = self.tag.wrapping_add(1);
        self.out.clear();
        let _ = write!(self.out, "a{} ", self.tag);
    }

    fn tag_len(&self) -> usize {
        // "a" + digits, without the space
        memchr::memchr(b' ', &self.out).unwrap_or(self.out.len())
    }

    /// Sends `cmd` and waits for its tagged OK.
    pub async fn command(&mut self, cmd: &[u8]) -> Result<(), ClientError> {
        self.begin();
        self.out.extend_from_slice(cmd);
        self.out.extend_from_slice(b"\r\n");
        self.conn.send(&self.out).await?;
        self.finish().await
    }

    /// Reads until our tagged completion, following untagged data and
    /// skipping literals.
    async fn finish(&mut self) -> Result<(), ClientError> {
        let tag_len = self.tag_len();
        let mut tag = [0u8; 16];
        let n = tag_len.min(16);
        tag[..n].copy_from_slice(&self.out[..n]);
        let tag = &tag[..n];
        let mut continued = false;
        loop {
            let line = self.conn.read_line().await?;
            let literal = trailing_literal(line);
            if !continued {
                match classify(line, tag) {
                    LineKind::Tagged(Status::Ok) => {
                        if has_word(line, b"LITERAL+") {
                            self.literal_plus = true;
                        }
                        return Ok(());
                    }
                    LineKind::Tagged(_) => return Err(ClientError::refused(line)),
                    LineKind::Untagged => {
                        if let Some(n) = untagged_number(line, b"EXISTS") {
                            self.exists = n;
                        } else if untagged_number(line, b"EXPUNGE").is_some() {
                            self.exists = self.exists.saturating_sub(1);
                        } else if line.starts_with(b"* BYE") {
                            return Err(ClientError::refused(line));
                        } else if line.starts_with(b"* CAPABILITY") && has_word(line, b"LITERAL+") {
                            self.literal_plus = true;
                        }
                    }
                    LineKind::Continuation | LineKind::Other => {}
                }
            }
            match literal {
                Some(n) if n > MAX_LITERAL => {
                    return Err(ClientError::Protocol(format!("literal of {n} bytes")));
                }
                Some(n) => {
                    // usize is 64-bit on every target we build for
                    self.conn.skip(n as usize).await?;
                    continued = true;
                }
                None => continued = false,
            }
        }
    }

    /// Sends the command line, waits for `+`, then sends `data`; returns
    /// after the tagged OK. Uses LITERAL+ when the server offers it.
    async fn command_with_literal(&mut self, head: &[u8], data: &[u8]) -> Result<(), ClientError> {
        self.begin();
        self.out.extend_from_slice(head);
        let plus = if self.literal_plus { "+" } else { "" };
        let _ = write!(self.out, " {{{}{plus}}}\r\n", data.len());
        if self.literal_plus {
            let out = std::mem::take(&mut self.out);
            let sent = self.conn.send_parts(&[&out, data, b"\r\n"]).await;
            self.out = out;
            sent?;
            return self.finish().await;
        }
        self.conn.send(&self.out).await?;
        let tag_len = self.tag_len();
        loop {
            let line = self.conn.read_line().await?;
            match classify(line, &self.out[..tag_len]) {
                LineKind::Continuation => break,
                LineKind::Tagged(_) => return Err(ClientError::refused(line)),
                LineKind::Untagged => {
                    if let Some(n) = untagged_number(line, b"EXISTS") {
                        self.exists = n;
                    }
                }
                LineKind::Other => {}
            }
        }
        self.conn.send_parts(&[data, b"\r\n"]).await?;
        self.finish().await
    }

    pub async fn starttls(&mut self, tls: &TlsCtx) -> Result<(), ClientError> {
        self.command(b"STARTTLS").await?;
        self.conn.start_tls(tls).await
    }

    pub async fn login(
        &mut self,
        user: &str,
        password: &str,
        mech: AuthMech,
    ) -> Result<(), ClientError> {
        let mut cmd = Vec::with_capacity(64);
        match mech {
            AuthMech::Login => {
                cmd.extend_from_slice(b"LOGIN ");
                cmd.extend_from_slice(&quote(user));
                cmd.push(b' ');
                cmd.extend_from_slice(&quote(password));
            }
            AuthMech::Plain => {
                // SASL-IR (RFC 4959): the initial response on the command line
                let raw = format!("\0{user}\0{password}");
                cmd.extend_from_slice(b"AUTHENTICATE PLAIN ");
                cmd.extend_from_slice(
                    base64::engine::general_purpose::STANDARD
                        .encode(raw)
                        .as_bytes(),
                );
            }
        }
        self.command(&cmd).await
    }

    pub async fn select(&mut self, mailbox: &str) -> Result<(), ClientError> {
        let mut cmd = b"SELECT ".to_vec();
        cmd.extend_from_slice(&quote(mailbox));
        self.command(&cmd).await
    }

    pub async fn append(&mut self, mailbox: &str, message: &[u8]) -> Result<(), ClientError> {
        let mut head = b"APPEND ".to_vec();
        head.extend_from_slice(&quote(mailbox));
        self.command_with_literal(&head, message).await
    }

    /// Starts IDLE and waits for the server's `+`.
    pub async fn idle_start(&mut self) -> Result<(), ClientError> {
        self.begin();
        self.out.extend_from_slice(b"IDLE\r\n");
        self.conn.send(&self.out).await?;
        let tag_len = self.tag_len();
        loop {
            let line = self.conn.read_line().await?;
            match classify(line, &self.out[..tag_len]) {
                LineKind::Continuation => return Ok(()),
                LineKind::Tagged(_) => return Err(ClientError::refused(line)),
                LineKind::Untagged => {
                    if let Some(n) = untagged_number(line, b"EXISTS") {
                        self.exists = n;
                    }
                }
                LineKind::Other => {}
            }
        }
    }

    /// While idling: waits for the next `* n EXISTS` and returns n.
    pub async fn idle_wait_exists(&mut self) -> Result<u32, ClientError> {
        loop {
            let line = self.conn.read_line().await?;
            if let Some(n) = untagged_number(line, b"EXISTS") {
                self.exists = n;
                return Ok(n);
            }
            if line.starts_with(b"* BYE") || !line.starts_with(b"*") {
                return Err(ClientError::protocol(line));
            }
        }
    }

    /// Ends IDLE and waits for its tagged OK.
    pub async fn idle_done(&mut self) -> Result<(), ClientError> {
        self.conn.send(b"DONE\r\n").await?;
        self.finish().await
    }

    /// LOGOUT; a server that closes right after its BYE is fine too.
    pub async fn logout(mut self) -> Result<(), ClientError> {
        self.begin();
        self.out.extend_from_slice(b"LOGOUT\r\n");
        self.conn.send(&self.out).await?;
        let tag_len = self.tag_len();
        loop {
            let line = match self.conn.read_line().await {
                Ok(l) => l,
                Err(ClientError::Closed) => return Ok(()),
                Err(e) => return Err(e),
            };
            match classify(line, &self.out[..tag_len]) {
                LineKind::Tagged(Status::Ok) => break,
                LineKind::Tagged(_) => return Err(ClientError::refused(line)),
                _ => {}
            }
        }
        self.conn.close().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_lines() {
        assert_eq!(classify(b"a1 OK done", b"a1"), LineKind::Tagged(Status::Ok));
        assert_eq!(classify(b"a1 ok", b"a1"), LineKind::Tagged(Status::Ok));
        assert_eq!(
            classify(b"a1 NO [AUTHENTICATIONFAILED] x", b"a1"),
            LineKind::Tagged(Status::No)
        );
        assert_eq!(classify(b"a1 BAD", b"a1"), LineKind::Tagged(Status::Bad));
        assert_eq!(classify(b"a12 OK", b"a1"), LineKind::Other);
        assert_eq!(classify(b"* 3 EXISTS", b"a1"), LineKind::Untagged);
        assert_eq!(classify(b"+ idling", b"a1"), LineKind::Continuation);
        assert_eq!(classify(b"", b"a1"), LineKind::Other);
        assert_eq!(classify(b"a1", b"a1"), LineKind::Other);
    }

    #[test]
    fn literals() {
        assert_eq!(trailing_literal(b"* 1 FETCH (BODY[] {342}"), Some(342));
        assert_eq!(trailing_literal(b"a APPEND x {5+}"), Some(5));
        assert_eq!(trailing_literal(b"{0}"), Some(0));
        assert_eq!(trailing_literal(b"* OK {}"), None);
        assert_eq!(trailing_literal(b"* OK {1a}"), None);
        assert_eq!(trailing_literal(b"}"), None);
        assert_eq!(trailing_literal(b"{99999999999999999999}"), None);
        assert_eq!(trailing_literal(b"{18446744073709551616}"), None);
    }

    #[test]
    fn numbers_and_quotes() {
        assert_eq!(untagged_number(b"* 23 EXISTS", b"EXISTS"), Some(23));
        assert_eq!(untagged_number(b"* 23 exists", b"EXISTS"), Some(23));
        assert_eq!(untagged_number(b"* 2 EXPUNGE", b"EXISTS"), None);
        assert_eq!(untagged_number(b"* OK [UIDNEXT 4]", b"EXISTS"), None);
        assert_eq!(untagged_number(b"* 99999999999 EXISTS", b"EXISTS"), None);
        assert_eq!(quote("a\"b\\c"), b"\"a\\\"b\\\\c\"".to_vec());
    }

    #[test]
    fn classify_never_panics_on_noise() {
        let mut x = 12345u64;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let line: Vec<u8> = (0..len)
                .map(|i| b"a1 *+{}0123OKNO "[(x >> (i % 60)) as usize % 16])
                .collect();
            let _ = classify(&line, b"a1");
            let _ = trailing_literal(&line);
            let _ = untagged_number(&line, b"EXISTS");
        }
    }
}

#[cfg(test)]
mod scripted {
    use super::*;
    use crate::testkit::{Step::*, serve, with_conn};

    #[test]
    fn session_against_a_scripted_server() {
        let (addr, server) = serve(vec![
            Send(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
            Expect("a1 LOGIN \"u1\" \"p\\\"w\""),
            Send(b"a1 OK [CAPABILITY IMAP4rev1 IDLE] logged in\r\n"),
            Expect("a2 SELECT \"INBOX\""),
            Send(b"* 3 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\na2 OK [READ-WRITE] done\r\n"),
            Expect("a3 FETCH 1 (BODY.PEEK[])"),
            // the literal holds a fake completion that must be skipped
            Send(b"* 1 FETCH (BODY[] {12}\r\na3 OK fake\r\n)\r\n* 4 EXISTS\r\na3 OK done\r\n"),
            Expect("a4 APPEND \"INBOX\" {5}"),
            Send(b"+ go on\r\n"),
            Swallow(7),
            Send(b"a4 OK [APPENDUID 1 5] appended\r\n"),
            Expect("a5 IDLE"),
            Send(b"+ idling\r\n* 5 EXISTS\r\n"),
            Expect("DONE"),
            Send(b"a5 OK idle done\r\n"),
            Expect("a6 STORE 9"),
            Send(b"a6 NO no such message\r\n"),
            Expect("a7 LOGOUT"),
            Send(b"* BYE bye\r\n"),
            Close,
        ]);
        let out = with_conn(addr, |conn| async move {
            let mut imap = Imap::greet(conn).await.expect("greeting");
            assert!(imap.starttls_offered);
            assert!(!imap.literal_plus);
            imap.login("u1", "p\"w", AuthMech::Login)
                .await
                .expect("login");
            imap.select("INBOX").await.expect("select");
            assert_eq!(imap.exists, 3);
            imap.command(b"FETCH 1 (BODY.PEEK[])").await.expect("fetch");
            assert_eq!(imap.exists, 4);
            imap.append("INBOX", b"hello").await.expect("append");
            imap.idle_start().await.expect("idle");
            assert_eq!(imap.idle_wait_exists().await.expect("exists"), 5);
            imap.idle_done().await.expect("done");
            let refused = imap.command(b"STORE 9 +FLAGS (\\Seen)").await;
            assert!(matches!(refused, Err(ClientError::Refused(ref s)) if s.contains("NO")));
            imap.logout().await.is_ok()
        });
        assert!(out, "logout after BYE + close is fine");
        assert_eq!(server.join().expect("server thread"), Ok(()));
    }

    #[test]
    fn literal_plus_and_bad_greeting() {
        let (addr, server) = serve(vec![
            Send(b"* OK [CAPABILITY IMAP4rev2 LITERAL+] hi\r\n"),
            Expect("a1 APPEND \"INBOX\" {3+}"),
            Swallow(5),
            Send(b"a1 OK done\r\n"),
            Close,
        ]);
        with_conn(addr, |conn| async move {
            let mut imap = Imap::greet(conn).await.expect("greeting");
            assert!(imap.literal_plus);
            imap.append("INBOX", b"abc").await.expect("append");
        });
        assert_eq!(server.join().expect("server thread"), Ok(()));

        let (addr, server) = serve(vec![Send(b"* BYE too busy\r\n"), Close]);
        let refused = with_conn(addr, |conn| async move { Imap::greet(conn).await.is_err() });
        assert!(refused);
        assert_eq!(server.join().expect("server thread"), Ok(()));
    }
}

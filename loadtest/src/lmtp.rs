//! A minimal LMTP client (RFC 2033): per-recipient replies after DATA.

use crate::conn::Conn;
use crate::error::ClientError;
use crate::tls::TlsCtx;

/// The reply code of a reply line and whether more lines follow (`250-`).
pub fn reply_code(line: &[u8]) -> Option<(u16, bool)> {
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = line[..3]
        .iter()
        .fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    let more = line.get(3) == Some(&b'-');
    Some((code, more))
}

pub struct Lmtp {
    pub conn: Conn,
}

impl Lmtp {
    pub async fn greet(conn: Conn) -> Result<Lmtp, ClientError> {
        let mut lm = Lmtp { conn };
        // reply() also takes a multi-line greeting
        let code = lm.reply().await?;
        if code != 220 {
            return Err(ClientError::Refused(format!("greeting {code}")));
        }
        Ok(lm)
    }

    /// Reads one (possibly multi-line) reply and returns its code.
    pub async fn reply(&mut self) -> Result<u16, ClientError> {
        loop {
            let line = self.conn.read_line().await?;
            match reply_code(line) {
                Some((_, true)) => {}
                Some((code, false)) => return Ok(code),
                None => return Err(ClientError::protocol(line)),
            }
        }
    }

    async fn expect(&mut self, cmd: &[u8], want: u16) -> Result<(), ClientError> {
        self.conn.send_parts(&[cmd, b"\r\n"]).await?;
        let code = self.reply().await?;
        if code == want {
            Ok(())
        } else {
            Err(ClientError::Refused(format!(
                "{} → {code}",
                String::from_utf8_lossy(cmd)
            )))
        }
    }

    pub async fn lhlo(&mut self, name: &str) -> Result<(), ClientError> {
        self.expect(format!("LHLO {name}").as_bytes(), 250).await
    }

    pub async fn starttls(&mut self, tls: &TlsCtx, name: &str) -> Result<(), ClientError> {
        self.expect(b"STARTTLS", 220).await?;
        self.conn.start_tls(tls).await?;
        self.lhlo(name).await
    }

    /// One transaction: MAIL, RCPT×n, DATA, message; returns how many
    /// recipients got a 250 after the data. `before_final_dot` runs just
    /// before the end-of-data marker leaves (idle-hold stamps the time).
    pub async fn deliver(
        &mut self,
        from: &str,
        rcpts: &[String],
        message: &[u8],
        before_final_dot: impl FnOnce(),
    ) -> Result<usize, ClientError> {
        // pipeline MAIL + RCPTs + DATA (PIPELINING is mandatory in LMTP)
        let mut head = Vec::with_capacity(64 + rcpts.len() * 40);
        head.extend_from_slice(format!("MAIL FROM:<{from}>\r\n").as_bytes());
        for r in rcpts {
            head.extend_from_slice(format!("RCPT TO:<{r}>\r\n").as_bytes());
        }
        head.extend_from_slice(b"DATA\r\n");
        self.conn.send(&head).await?;
        let mail = self.reply().await?;
        let mut accepted = 0;
        for _ in rcpts {
            if self.reply().await? / 100 == 2 {
                accepted += 1;
            }
        }
        let data = self.reply().await?;
        if mail / 100 != 2 || accepted == 0 || data != 354 {
            if data == 354 {
                // the server wants data anyway; end it empty
                self.conn.send(b".\r\n").await?;
                for _ in 0..accepted {
                    self.reply().await?;
                }
            }
            return Err(ClientError::Refused(format!(
                "MAIL {mail}, {accepted}/{} RCPT accepted, DATA {data}",
                rcpts.len()
            )));
        }
        self.conn.send(message).await?;
        before_final_dot();
        self.conn.send(b".\r\n").await?;
        let mut delivered = 0;
        for _ in 0..accepted {
            if self.reply().await? == 250 {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    pub async fn quit(mut self) -> Result<(), ClientError> {
        self.expect(b"QUIT", 221).await?;
        self.conn.close().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes() {
        assert_eq!(reply_code(b"250-PIPELINING"), Some((250, true)));
        assert_eq!(reply_code(b"250 OK"), Some((250, false)));
        assert_eq!(reply_code(b"354"), Some((354, false)));
        assert_eq!(reply_code(b"25"), None);
        assert_eq!(reply_code(b"2x0 OK"), None);
        assert_eq!(reply_code(b""), None);
    }
}

#[cfg(test)]
mod scripted {
    use super::*;
    use crate::testkit::{Step::*, serve, with_conn};

    #[test]
    fn delivery_with_per_recipient_replies() {
        let msg = crate::message::make(200, 1, "a");
        let len = msg.len();
        let (addr, server) = serve(vec![
            Send(b"220-fake LMTP\r\n220 ready\r\n"),
            Expect("LHLO lt"),
            Send(b"250-fake\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n"),
            Expect("MAIL FROM:<s@x>"),
            Expect("RCPT TO:<a>"),
            Expect("RCPT TO:<b>"),
            Expect("RCPT TO:<c>"),
            Expect("DATA"),
            Send(b"250 ok\r\n250 ok\r\n550 no such user\r\n250 ok\r\n354 go\r\n"),
            Swallow(len + 3),
            Send(b"250 2.0.0 <a> saved\r\n452 4.2.2 <b> over quota\r\n"),
            Expect("QUIT"),
            Send(b"221 bye\r\n"),
            Close,
        ]);
        let (delivered, stamped) = with_conn(addr, move |conn| async move {
            let mut lm = Lmtp::greet(conn).await.expect("greeting");
            lm.lhlo("lt").await.expect("lhlo");
            let mut stamped = false;
            let rcpts = vec!["a".to_string(), "b".to_string(), "c".to_string()];
            let n = lm
                .deliver("s@x", &rcpts, &msg, || stamped = true)
                .await
                .expect("deliver");
            lm.quit().await.expect("quit");
            (n, stamped)
        });
        assert_eq!(delivered, 1, "one of the two accepted recipients got 250");
        assert!(stamped);
        assert_eq!(server.join().expect("server thread"), Ok(()));
    }
}

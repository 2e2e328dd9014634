//! Helpers shared by the POP3, LMTP and Postfix integration tests: deliver
//! over LMTP, log in over POP3S, read multi-line replies.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

/// Server settings these tests rely on: the POP3 session lock, and LMTP
/// looking up `alice@anything` as `alice` (the passwd-file has bare names).
pub fn options() -> Options {
    Options {
        extra_config: "pop3_lock_session = yes\n\
                       protocol lmtp {\n  auth_username_format = %Ln\n}\n"
            .into(),
        ..Options::default()
    }
}

/// A raw LMTP client over TCP.
pub struct Lmtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Lmtp {
    pub fn connect(port: u16) -> Lmtp {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        // Each command is one write; without this, Nagle and delayed ACKs
        // add ~40 ms to every lock-step round trip.
        s.set_nodelay(true).unwrap();
        let mut l = Lmtp {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        };
        let greeting = l.reply();
        assert!(greeting[0].starts_with("220 "), "{greeting:?}");
        l.send("LHLO test.example");
        let caps = l.reply();
        assert!(caps.last().unwrap().starts_with("250 "), "{caps:?}");
        l
    }

    pub fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// One reply, all its lines.
    pub fn reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
                lines.push(String::new());
                return lines;
            }
            let line = line.trim_end().to_string();
            let last = line.len() < 4 || line.as_bytes()[3] != b'-';
            lines.push(line);
            if last {
                return lines;
            }
        }
    }

    pub fn line(&mut self) -> String {
        self.reply().pop().unwrap()
    }

    /// One transaction: returns the RCPT replies and the DATA replies (one
    /// per accepted recipient; empty when none was accepted).
    pub fn deliver(
        &mut self,
        from: &str,
        rcpts: &[&str],
        message: &str,
    ) -> (Vec<String>, Vec<String>) {
        self.send(&format!("MAIL FROM:<{from}>"));
        let mail = self.line();
        assert!(mail.starts_with("250"), "{mail}");
        let mut rcpt_replies = Vec::new();
        for r in rcpts {
            self.send(&format!("RCPT TO:<{r}>"));
            rcpt_replies.push(self.line());
        }
        let accepted = rcpt_replies.iter().filter(|r| r.starts_with("250")).count();
        self.send("DATA");
        let go = self.line();
        if accepted == 0 {
            assert!(go.starts_with("5"), "{go}");
            return (rcpt_replies, Vec::new());
        }
        assert!(go.starts_with("354"), "{go}");
        let mut body = String::new();
        for line in message.split_inclusive('\n') {
            if line.starts_with('.') {
                body.push('.');
            }
            body.push_str(line);
        }
        if !body.ends_with('\n') {
            body.push_str("\r\n");
        }
        body.push_str(".\r\n");
        self.send_raw(body.as_bytes());
        let data = (0..accepted).map(|_| self.line()).collect();
        (rcpt_replies, data)
    }

    pub fn quit(mut self) {
        self.send("QUIT");
        assert!(self.line().starts_with("221"));
    }
}

/// Delivers `count` small messages to `rcpt` on one LMTP connection.
pub fn deliver_many(port: u16, rcpt: &str, count: usize) {
    let mut l = Lmtp::connect(port);
    for i in 0..count {
        let msg =
            format!("From: sender@example.org\r\nSubject: message {i}\r\n\r\nbody of {i}\r\n");
        let (rcpts, data) = l.deliver("sender@example.org", &[rcpt], &msg);
        assert!(rcpts[0].starts_with("250"), "{rcpts:?}");
        assert!(data[0].starts_with("250 2.0.0"), "{data:?}");
    }
    l.quit();
}

/// POP3S login; panics unless the login worked.
pub fn pop3s_login(srv: &Server, user: &str, pass: &str) -> Client {
    let mut c = Client::tls(srv.pop3s.port, srv.tls_config());
    assert!(c.line().starts_with("+OK"));
    c.send(&format!("USER {user}"));
    assert!(c.line().starts_with("+OK"));
    c.send(&format!("PASS {pass}"));
    let r = c.line();
    assert!(r.starts_with("+OK"), "login: {r}");
    c
}

pub fn alice(srv: &Server) -> Client {
    pop3s_login(srv, DEMO_USER, DEMO_PASS)
}

/// Reads a multi-line body up to the lone "." (not included).
pub fn multiline(c: &mut Client) -> Vec<String> {
    let mut out = Vec::new();
    let mut empty_run = 0;
    loop {
        let l = c.line();
        if l == "." {
            return out;
        }
        // `Client::line` gives "" at EOF too; a long run means the
        // connection closed mid-reply.
        empty_run = if l.is_empty() { empty_run + 1 } else { 0 };
        assert!(empty_run < 1000, "connection closed mid-reply: {out:?}");
        out.push(l);
    }
}

/// STAT's message count.
pub fn stat(c: &mut Client) -> (usize, u64) {
    c.send("STAT");
    let r = c.line();
    let mut it = r.split_whitespace().skip(1);
    let n = it.next().and_then(|x| x.parse().ok());
    let s = it.next().and_then(|x| x.parse().ok());
    match (r.starts_with("+OK"), n, s) {
        (true, Some(n), Some(s)) => (n, s),
        _ => panic!("STAT: {r}"),
    }
}

/// UIDL listing as (number, uidl).
pub fn uidl(c: &mut Client) -> Vec<(usize, String)> {
    c.send("UIDL");
    assert!(c.line().starts_with("+OK"));
    multiline(c)
        .into_iter()
        .map(|l| {
            let (n, u) = l.split_once(' ').unwrap();
            (n.parse().unwrap(), u.to_string())
        })
        .collect()
}

/// Waits until the server log has a line containing every needle.
pub fn wait_for_log(srv: &Server, needles: &[&str]) -> Option<String> {
    for _ in 0..100 {
        if let Some(l) = srv
            .log_text()
            .lines()
            .find(|l| needles.iter().all(|n| l.contains(n)))
        {
            return Some(l.to_string());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

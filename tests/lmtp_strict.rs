//! LMTP against hostile or unlucky input (issue 16): strict line endings
//! (the SMTP-smuggling input gives one message, never two), bare LF/CR in
//! commands refused, a silent client disconnected, the first delivery to a
//! new user with several RCPTs, and a 1,000-recipient transaction.

mod common;
mod pop3_support;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Options, Server};
use pop3_support::{Lmtp, alice, multiline, options, pop3s_login, stat};

/// Issue 16 item 4, byte for byte: a DATA body that carries `\n.\n` and a
/// second transaction with bare LFs. Only CRLF.CRLF ends DATA, so the
/// server stores one message with the original envelope.
#[test]
fn smuggled_transaction_is_one_message_with_the_original_envelope() {
    let srv = Server::start(options());
    let mut l = Lmtp::connect(srv.lmtp.port);
    l.send("MAIL FROM:<alice@localhost>");
    assert!(l.line().starts_with("250"));
    l.send("RCPT TO:<alice@localhost>");
    assert!(l.line().starts_with("250"));
    l.send("DATA");
    assert!(l.line().starts_with("354"));
    l.send_raw(
        b"From: alice@localhost\r\nSubject: hi\r\n\r\nhello\n.\nMAIL FROM:<ceo@bank.example>\nRCPT TO:<alice@localhost>\nDATA\nFrom: ceo@bank.example\nSubject: forged\n\npay now\n.\n\r\n.\r\n",
    );
    let reply = l.line();
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    // Nothing else is answered: the smuggled commands were message text.
    l.send("NOOP");
    assert!(l.line().starts_with("250 2.0.0 OK"));
    l.quit();

    let mut c = alice(&srv);
    assert_eq!(stat(&mut c).0, 1, "one message, not two");
    c.send("RETR 1");
    assert!(c.line().starts_with("+OK"));
    let msg = multiline(&mut c);
    assert_eq!(msg[0], "Return-Path: <alice@localhost>");
    assert!(
        msg.iter().any(|l| l == "MAIL FROM:<ceo@bank.example>"),
        "{msg:?}"
    );
    c.send("QUIT");
    c.line();
}

/// Bare LF or bare CR in a command line: `500 5.5.2`, and the command has
/// no effect.
#[test]
fn bare_line_ends_in_commands_are_refused() {
    let srv = Server::start(options());
    let mut l = Lmtp::connect(srv.lmtp.port);
    l.send_raw(b"MAIL FROM:<a@example.org>\n");
    assert_eq!(l.line(), "500 5.5.2 Error: bare <LF> received");
    l.send_raw(b"MAIL FROM:<a@example.org>\rRCPT TO:<alice@localhost>\r\n");
    assert_eq!(l.line(), "500 5.5.2 Error: bare <CR> received");
    l.send("RCPT TO:<alice@localhost>");
    assert!(l.line().starts_with("503"), "no MAIL was accepted");
    l.quit();
}

/// A connection that says nothing is closed at `lmtp_idle_timeout`.
#[test]
fn silent_lmtp_client_is_disconnected() {
    let srv = Server::start(Options {
        extra_config: "lmtp_idle_timeout = 2 secs\n".into(),
        ..Options::default()
    });
    let mut s = TcpStream::connect(("127.0.0.1", srv.lmtp.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("not closed within 15 s: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("220 "), "{text}");
    assert!(
        text.contains("421 4.4.2 Disconnected for inactivity"),
        "{text}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}

/// The first delivery to a user whose store does not exist yet, with three
/// RCPTs for that user: the three deliveries race to create the store and
/// all must succeed.
#[test]
fn first_delivery_to_a_new_user_with_three_rcpts() {
    let srv = Server::start(options());
    let mut l = Lmtp::connect(srv.lmtp.port);
    let (rcpts, data) = l.deliver(
        "s@example.org",
        &["alice@localhost", "alice+a@localhost", "alice+b@localhost"],
        "Subject: first\r\n\r\nhello\r\n",
    );
    assert!(rcpts.iter().all(|r| r.starts_with("250")), "{rcpts:?}");
    assert_eq!(data.len(), 3);
    assert!(
        data.iter().all(|d| d.starts_with("250 2.0.0")),
        "{data:?}\n{}",
        srv.log_text()
    );
    l.quit();
    let mut c = alice(&srv);
    assert_eq!(stat(&mut c).0, 3);
    c.send("QUIT");
    c.line();
}

/// One transaction with 1,000 recipients (two new users, 500 each): 1,000
/// replies, all 250, and every copy stored.
#[test]
fn thousand_recipients_all_get_250() {
    let srv = Server::start(options());
    let mut l = Lmtp::connect(srv.lmtp.port);
    let rcpts: Vec<String> = (0..1000)
        .map(|i| {
            let user = if i % 2 == 0 { "alice" } else { "bob" };
            format!("{user}+{i}@localhost")
        })
        .collect();
    let rcpt_refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    let (replies, data) = l.deliver("s@example.org", &rcpt_refs, "Subject: many\r\n\r\nx\r\n");
    assert!(replies.iter().all(|r| r.starts_with("250")), "{replies:?}");
    assert_eq!(data.len(), 1000);
    let failed: Vec<&String> = data
        .iter()
        .filter(|d| !d.starts_with("250 2.0.0"))
        .collect();
    assert!(failed.is_empty(), "{failed:?}\n{}", srv.log_text());
    l.quit();
    for (user, pass) in [("alice", "wonderland"), ("bob", "builder")] {
        let mut c = pop3s_login(&srv, user, pass);
        assert_eq!(stat(&mut c).0, 500, "{user}");
        c.send("QUIT");
        c.line();
    }
}

//! LMTP against the real binary: Python's `smtplib.LMTP` with a
//! multi-recipient transaction (valid and unknown recipients, one reply per
//! accepted recipient), the unix socket, size limits, bare LF, `+detail`
//! folders, malformed input; the delivered messages are read back over
//! POP3S with their trace headers.

mod common;
mod pop3_support;

use std::process::Command;

use common::{Options, Server, python3, require_program};
use pop3_support::{Lmtp, alice, multiline, options, pop3s_login, stat};

/// Runs a Python script with arguments; returns stdout, panics on failure.
fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python3().expect("python3"))
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

const MULTI_RCPT: &str = r#"
import smtplib, sys
host = sys.argv[1]
l = smtplib.LMTP(host, int(sys.argv[2])) if not host.startswith('/') else smtplib.LMTP(host)
code, _ = l.ehlo('client.example')
assert code == 250, code
code, _ = l.mail('sender@example.org')
assert code == 250, code
accepted = 0
for r in ['alice@localhost', 'nobody@localhost', 'bob+news@localhost']:
    code, msg = l.rcpt(r)
    print('rcpt', r, code, msg.decode())
    if code == 250:
        accepted += 1
msg = b'From: sender@example.org\r\nSubject: to many\r\n\r\nhello all\r\n'
code, text = l.data(msg)
print('data', code, text.decode())
for _ in range(accepted - 1):
    code, text = l.getreply()
    print('data', code, text.decode())
l.quit()
"#;

fn check_multi_rcpt_output(out: &str) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("rcpt alice@localhost 250"), "{out}");
    assert!(
        lines[1].starts_with("rcpt nobody@localhost 550 5.1.1"),
        "{out}"
    );
    assert!(lines[2].starts_with("rcpt bob+news@localhost 250"), "{out}");
    // One reply per accepted recipient, in RCPT order.
    assert!(
        lines[3].starts_with("data 250 2.0.0 <alice@localhost>"),
        "{out}"
    );
    assert!(
        lines[4].starts_with("data 250 2.0.0 <bob+news@localhost>"),
        "{out}"
    );
}

fn check_delivered(srv: &Server, user: &str, pass: &str, rcpt: &str) {
    let mut c = pop3s_login(srv, user, pass);
    assert_eq!(stat(&mut c).0, 1);
    c.send("RETR 1");
    assert!(c.line().starts_with("+OK"));
    let msg = multiline(&mut c);
    assert_eq!(msg[0], "Return-Path: <sender@example.org>");
    // Each copy names its own recipient, even in a multi-recipient
    // transaction.
    assert_eq!(msg[1], format!("Delivered-To: {rcpt}"));
    assert!(
        msg[2].starts_with("Received: from client.example"),
        "{msg:?}"
    );
    assert!(
        msg.iter().any(|l| l.contains(&format!("for <{rcpt}>;"))),
        "{msg:?}"
    );
    assert!(msg.iter().any(|l| l == "hello all"), "{msg:?}");
    c.send("DELE 1");
    c.line();
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
}

#[test]
fn smtplib_lmtp_multi_recipient_with_unknown_user() {
    require_program("python3", "python3");
    let srv = Server::start(options());
    let port = srv.lmtp.port.to_string();
    let out = run_python(MULTI_RCPT, &["127.0.0.1", &port]);
    check_multi_rcpt_output(&out);
    check_delivered(&srv, "alice", "wonderland", "alice@localhost");
    check_delivered(&srv, "bob", "builder", "bob+news@localhost");
    // Recipients may live on different shards; each delivery ran on its
    // owner shard and logged it.
    let log = srv.log_text();
    assert_eq!(log.matches("lmtp: saved mail to INBOX").count(), 2, "{log}");

    // The same over the unix socket.
    let socket = srv.dir.path().join("run/lmtp");
    let out = run_python(MULTI_RCPT, &[socket.to_str().unwrap()]);
    check_multi_rcpt_output(&out);
    let mut c = alice(&srv);
    c.send("RETR 1");
    assert!(c.line().starts_with("+OK"));
    let msg = multiline(&mut c);
    // No client IP on a unix socket.
    assert_eq!(msg[2], "Received: from client.example");
}

#[test]
fn limits_bare_lf_and_malformed_input() {
    let srv = Server::start(Options {
        extra_config: "lmtp_max_size = 2k\nprotocol lmtp {\n  auth_username_format = %Ln\n}\n"
            .into(),
        ..Options::default()
    });
    let mut l = Lmtp::connect(srv.lmtp.port);
    l.send("LHLO again.example");
    let caps = l.reply();
    assert!(
        caps.iter()
            .any(|c| c == "250-SIZE 2048" || c == "250 SIZE 2048"),
        "{caps:?}"
    );
    for cap in ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"] {
        assert!(caps.iter().any(|c| c.ends_with(cap)), "{cap}: {caps:?}");
    }
    // Announced size over the limit.
    l.send("MAIL FROM:<s@example.org> SIZE=5000");
    assert!(l.line().starts_with("552 5.3.4"));
    // Sequence errors and garbage get clear 5xx replies.
    l.send("RCPT TO:<alice@localhost>");
    assert!(l.line().starts_with("503"));
    l.send("DATA");
    assert!(l.line().starts_with("503"));
    l.send("HELO x");
    assert!(l.line().starts_with("5"));
    l.send("MAIL FROM:<broken");
    assert!(l.line().starts_with("501"));
    l.send(&format!("NOOP {}", "x".repeat(5000)));
    assert!(l.line().starts_with("500"));

    // A body over the limit: 552 per recipient, nothing stored.
    let big = format!("Subject: big\r\n\r\n{}\r\n", "y".repeat(3000));
    let (_, data) = l.deliver("s@example.org", &["alice@localhost", "bob@localhost"], &big);
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|d| d.starts_with("552 5.3.4")), "{data:?}");

    // Bare LF is stored as CRLF (sizes count CRLF); only CRLF.CRLF ends
    // DATA (tests/lmtp_strict.rs has the smuggling case).
    l.send("MAIL FROM:<s@example.org>");
    assert!(l.line().starts_with("250"));
    l.send("RCPT TO:<alice@localhost>");
    assert!(l.line().starts_with("250"));
    l.send("DATA");
    assert!(l.line().starts_with("354"));
    l.send_raw(b"Subject: lf\n\nline one\n..dot\r\n.\r\n");
    assert!(l.line().starts_with("250 2.0.0"));
    // RSET clears a transaction.
    l.send("MAIL FROM:<s@example.org>");
    l.line();
    l.send("RSET");
    assert!(l.line().starts_with("250"));
    l.send("DATA");
    assert!(l.line().starts_with("503"));
    l.quit();

    let mut c = alice(&srv);
    assert_eq!(stat(&mut c).0, 1, "the oversized message was not stored");
    c.send("RETR 1");
    let ok = c.line();
    let msg = multiline(&mut c);
    let size: usize = msg.iter().map(|l| l.len() + 2).sum::<usize>() - 1; // one stuffed dot
    assert_eq!(ok, format!("+OK {size} octets"));
    assert!(
        msg.ends_with(&["line one".to_string(), "..dot".to_string()]),
        "{msg:?}"
    );
    c.send("QUIT");
    c.line();
}

#[test]
fn detail_goes_to_its_folder_when_configured() {
    let srv = Server::start(Options {
        extra_config: "lmtp_save_to_detail_mailbox = yes\nlda_mailbox_autocreate = yes\n\
                       protocol lmtp {\n  auth_username_format = %Ln\n}\n"
            .into(),
        ..Options::default()
    });
    let mut l = Lmtp::connect(srv.lmtp.port);
    let (_, data) = l.deliver(
        "s@example.org",
        &["alice+lists@localhost"],
        "Subject: x\r\n\r\nx\r\n",
    );
    assert!(data[0].starts_with("250 2.0.0"), "{data:?}");
    let (_, data) = l.deliver(
        "s@example.org",
        &["alice@localhost"],
        "Subject: y\r\n\r\ny\r\n",
    );
    assert!(data[0].starts_with("250 2.0.0"), "{data:?}");
    l.quit();
    // INBOX has only the second message; the first is in `lists`.
    let mut c = alice(&srv);
    assert_eq!(stat(&mut c).0, 1);
    c.send("QUIT");
    c.line();
    let folder = srv.dir.path().join("mail/alice/mailboxes/lists/dbox-Mails");
    let files = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .filter(|e| {
            e.as_ref()
                .map(|e| e.file_name().to_string_lossy().starts_with("u."))
                .unwrap_or(false)
        })
        .count();
    assert_eq!(files, 1);
}

#[test]
fn starttls_then_delivery_records_tls_in_received() {
    let srv = Server::start(options());
    let (mut c, tcp) = common::plain_pair(srv.lmtp.port);
    assert!(c.line().starts_with("220 "));
    c.send("LHLO client.example");
    let caps = c.until("250 ");
    assert!(caps.iter().any(|l| l.ends_with("STARTTLS")), "{caps:?}");
    c.send("STARTTLS");
    assert!(c.line().starts_with("220 "));
    let mut c = c.upgrade(srv.tls_config(), tcp);
    // LHLO again after the handshake (RFC 3207); no STARTTLS any more.
    c.send("LHLO client.example");
    let caps = c.until("250 ");
    assert!(!caps.iter().any(|l| l.ends_with("STARTTLS")), "{caps:?}");
    c.send("MAIL FROM:<s@example.org>");
    assert!(c.line().starts_with("250"));
    c.send("RCPT TO:<alice@localhost>");
    assert!(c.line().starts_with("250"));
    c.send("DATA");
    assert!(c.line().starts_with("354"));
    c.send("Subject: over tls\r\n\r\nsecret\r\n.");
    let r = c.line();
    assert!(r.starts_with("250 2.0.0 <alice@localhost>"), "{r}");
    c.send("QUIT");
    assert!(c.line().starts_with("221"));

    let mut p = alice(&srv);
    p.send("RETR 1");
    assert!(p.line().starts_with("+OK"));
    let msg = multiline(&mut p);
    assert!(msg.iter().any(|l| l.starts_with("\t(using TLS")), "{msg:?}");
    assert!(msg.iter().any(|l| l.contains("with LMTPS")), "{msg:?}");
}

#[test]
fn storage_failure_is_temporary_for_lmtp_and_pop3() {
    // A mail location that cannot be created (nothing can be made under
    // /proc, not even by root): every delivery must be retried by the MTA,
    // never bounced, and POP3 must say [SYS/TEMP].
    let srv = Server::start(Options {
        extra_config: "mail_location = sdbox:/proc/tern-no-such-dir/%n\n\
                       protocol lmtp {\n  auth_username_format = %Ln\n}\n"
            .into(),
        ..Options::default()
    });
    let mut l = Lmtp::connect(srv.lmtp.port);
    let (rcpts, data) = l.deliver(
        "s@example.org",
        &["alice@localhost", "bob@localhost"],
        "Subject: x\r\n\r\nx\r\n",
    );
    assert!(rcpts.iter().all(|r| r.starts_with("250")), "{rcpts:?}");
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|d| d.starts_with("451 4.3.0")), "{data:?}");
    l.quit();

    let mut c = common::Client::tls(srv.pop3s.port, srv.tls_config());
    c.line();
    c.send("USER alice");
    c.line();
    c.send("PASS wonderland");
    let r = c.line();
    assert!(r.starts_with("-ERR [SYS/TEMP]"), "{r}");
    // Still in AUTHORIZATION: the session goes on.
    c.send("NOOP");
    assert!(c.line().starts_with("-ERR"));
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
}

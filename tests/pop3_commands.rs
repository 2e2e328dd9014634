//! POP3 against the real binary on real storage: every command and state
//! rule over POP3S and STLS, UPDATE semantics, a dropped connection, the
//! `[IN-USE]` lock, UIDL stability, and the logout log line. Messages are
//! delivered over LMTP first.

mod common;
mod pop3_support;

use common::{DEMO_PASS, DEMO_USER, Server, plain_pair};
use pop3_support::{Lmtp, alice, deliver_many, multiline, options, stat, uidl, wait_for_log};

const DOTTED: &str =
    "From: a@example.org\r\nSubject: dots\r\n\r\nfirst\r\n.leading dot\r\n..two dots\r\nlast\r\n";

fn deliver_three(srv: &Server) {
    let mut l = Lmtp::connect(srv.lmtp.port);
    for msg in [
        "Subject: one\r\n\r\nbody one\r\n",
        DOTTED,
        "Subject: three\r\n\r\nline 1\r\nline 2\r\nline 3\r\n",
    ] {
        let (_, data) = l.deliver("sender@example.org", &["alice@localhost"], msg);
        assert!(data[0].starts_with("250 2.0.0"), "{data:?}");
    }
    l.quit();
}

#[test]
fn every_transaction_command_over_pop3s() {
    let srv = Server::start(options());
    deliver_three(&srv);
    let mut c = alice(&srv);

    let (count, size) = stat(&mut c);
    assert_eq!(count, 3);
    c.send("LIST");
    assert!(c.line().starts_with("+OK"));
    let list = multiline(&mut c);
    assert_eq!(list.len(), 3, "{list:?}");
    let sizes: Vec<u64> = list
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(sizes.iter().sum::<u64>(), size);
    c.send("LIST 2");
    assert_eq!(c.line(), format!("+OK 2 {}", sizes[1]));
    c.send("LIST 9");
    assert!(c.line().starts_with("-ERR"));

    let uidls = uidl(&mut c);
    assert_eq!(uidls.len(), 3);
    // Dovecot's default %08Xu%08Xv: 16 lower-case hex digits, UID first.
    assert!(
        uidls[0].1.starts_with("00000001") && uidls[0].1.len() == 16,
        "{uidls:?}"
    );
    c.send("UIDL 3");
    assert_eq!(c.line(), format!("+OK 3 {}", uidls[2].1));

    // RETR: the size announced matches what is sent, dots are stuffed,
    // and the trace headers from the LMTP delivery are there.
    c.send("RETR 2");
    let first = c.line();
    assert_eq!(first, format!("+OK {} octets", sizes[1]));
    let body = multiline(&mut c);
    let wire: usize = body.iter().map(|l| l.len() + 2).sum::<usize>()
        - body.iter().filter(|l| l.starts_with("..")).count();
    assert_eq!(wire as u64, sizes[1], "{body:?}");
    assert_eq!(body[0], "Return-Path: <sender@example.org>");
    assert_eq!(body[1], "Delivered-To: alice@localhost");
    assert!(body.contains(&"..leading dot".to_string()), "{body:?}");
    assert!(body.contains(&"...two dots".to_string()), "{body:?}");

    // TOP n 1: headers, blank line, one body line.
    c.send("TOP 3 1");
    assert!(c.line().starts_with("+OK"));
    let top = multiline(&mut c);
    let blank = top.iter().position(|l| l.is_empty()).unwrap();
    assert_eq!(&top[blank + 1..], ["line 1"]);
    c.send("TOP 3 0");
    assert!(c.line().starts_with("+OK"));
    assert_eq!(multiline(&mut c).last().map(String::as_str), Some(""));

    c.send("NOOP");
    assert_eq!(c.line(), "+OK");
    c.send("DELE 1");
    assert!(c.line().starts_with("+OK"));
    c.send("DELE 1");
    assert!(c.line().starts_with("-ERR"), "double DELE");
    c.send("RETR 1");
    assert!(c.line().starts_with("-ERR"), "RETR of a deleted message");
    assert_eq!(stat(&mut c).0, 2);
    c.send("RSET");
    assert!(c.line().starts_with("+OK"));
    assert_eq!(stat(&mut c).0, 3);
    c.send("DELE 1");
    assert!(c.line().starts_with("+OK"));
    c.send("CAPA");
    assert!(c.line().starts_with("+OK"));
    let capa = multiline(&mut c);
    for cap in ["TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"] {
        assert!(capa.iter().any(|l| l == cap), "{cap} missing: {capa:?}");
    }
    assert!(!capa.iter().any(|l| l == "USER"), "no USER after login");
    c.send("USER bob");
    assert!(c.line().starts_with("-ERR"), "USER in TRANSACTION");
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
    assert!(c.at_eof());

    // The logout line counts what happened.
    let line = wait_for_log(&srv, &["Disconnected: Logged out", "del=1/3"])
        .unwrap_or_else(|| panic!("no logout line:\n{}", srv.log_text()));
    assert!(
        line.contains("retr=1/") && line.contains("top=2/"),
        "{line}"
    );

    // UPDATE expunged message 1 only, and the other UIDLs did not change
    // (RETR set \Seen, a flag change, at QUIT).
    let mut c = alice(&srv);
    let after = uidl(&mut c);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].1, uidls[1].1);
    assert_eq!(after[1].1, uidls[2].1);
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
}

#[test]
fn authorization_state_rules_and_stls() {
    let srv = Server::start(options());
    deliver_many(srv.lmtp.port, "alice@localhost", 2);
    let (mut c, tcp) = plain_pair(srv.pop3.port);
    assert!(c.line().starts_with("+OK"));
    // Transaction commands need a login first.
    for cmd in [
        "STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 1", "RSET",
    ] {
        c.send(cmd);
        assert!(c.line().starts_with("-ERR"), "{cmd} before login");
    }
    c.send("PASS x");
    assert!(c.line().starts_with("-ERR"));
    c.send("AUTH PLAIN");
    assert!(
        c.line().starts_with("-ERR [AUTH]"),
        "plaintext AUTH before STLS"
    );
    c.send("STLS");
    assert!(c.line().starts_with("+OK"));
    let mut c = c.upgrade(srv.tls_config(), tcp);
    c.send("STLS");
    assert!(c.line().starts_with("-ERR"), "STLS twice");
    c.send("USER alice");
    assert!(c.line().starts_with("+OK"));
    c.send("PASS wrong");
    assert_eq!(c.line(), "-ERR [AUTH] Authentication failed.");
    // AUTH PLAIN with a continuation line.
    c.send("AUTH PLAIN");
    assert_eq!(c.line(), "+", "empty challenge (trailing space trimmed)");
    c.send("AGFsaWNlAHdvbmRlcmxhbmQ=");
    let r = c.line();
    assert!(r.starts_with("+OK"), "{r}");
    assert_eq!(stat(&mut c).0, 2);
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));

    // AUTH LOGIN and PLAIN with an initial response over POP3S.
    let mut c = common::Client::tls(srv.pop3s.port, srv.tls_config());
    c.line();
    c.send("AUTH LOGIN");
    assert_eq!(c.line(), "+ VXNlcm5hbWU6");
    c.send("YWxpY2U=");
    assert_eq!(c.line(), "+ UGFzc3dvcmQ6");
    c.send("d29uZGVybGFuZA==");
    assert!(c.line().starts_with("+OK"));
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
    let mut c = common::Client::tls(srv.pop3s.port, srv.tls_config());
    c.line();
    c.send("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=");
    assert!(c.line().starts_with("+OK"));
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
}

#[test]
fn dropped_connection_deletes_nothing_and_in_use_lock() {
    let srv = Server::start(options());
    deliver_many(srv.lmtp.port, "alice@localhost", 3);
    let mut c = alice(&srv);
    c.send("DELE 1");
    assert!(c.line().starts_with("+OK"));
    c.send("DELE 2");
    assert!(c.line().starts_with("+OK"));

    // While this session holds the maildrop, a second login is refused.
    let mut second = common::Client::tls(srv.pop3s.port, srv.tls_config());
    second.line();
    second.send(&format!("USER {DEMO_USER}"));
    second.line();
    second.send(&format!("PASS {DEMO_PASS}"));
    let r = second.line();
    assert!(r.starts_with("-ERR [IN-USE]"), "{r}");
    drop(second);

    // Drop the first connection without QUIT.
    drop(c);
    let mut c = None;
    for _ in 0..50 {
        // The lock goes when the server notices the close.
        let mut t = common::Client::tls(srv.pop3s.port, srv.tls_config());
        t.line();
        t.send(&format!("USER {DEMO_USER}"));
        t.line();
        t.send(&format!("PASS {DEMO_PASS}"));
        if t.line().starts_with("+OK") {
            c = Some(t);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let mut c = c.expect("lock released after the drop");
    assert_eq!(stat(&mut c).0, 3, "a dropped connection deleted mail");
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
}

#[test]
fn uidls_survive_a_restart() {
    let mut srv = Server::start(options());
    deliver_many(srv.lmtp.port, "alice@localhost", 5);
    let mut c = alice(&srv);
    let before = uidl(&mut c);
    c.send("RETR 2");
    assert!(c.line().starts_with("+OK"));
    multiline(&mut c);
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
    srv.restart();
    let mut c = alice(&srv);
    let after = uidl(&mut c);
    assert_eq!(before, after);
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
}

#[test]
fn pipelined_login_survives_the_handoff() {
    let srv = Server::start(options());
    deliver_many(srv.lmtp.port, "alice@localhost", 2);
    // Connections land on both shards; those on the wrong one are handed
    // over in the middle of this pipeline.
    for _ in 0..20 {
        let mut c = common::Client::tls(srv.pop3s.port, srv.tls_config());
        assert!(c.line().starts_with("+OK"));
        c.send(&format!(
            "USER {DEMO_USER}\r\nPASS {DEMO_PASS}\r\nSTAT\r\nLIST 2\r\nQUIT"
        ));
        assert_eq!(c.line(), "+OK");
        assert!(c.line().starts_with("+OK Logged in"));
        assert!(c.line().starts_with("+OK 2 "));
        assert!(c.line().starts_with("+OK 2 "));
        assert!(c.line().starts_with("+OK Logging out"));
    }
    assert!(
        srv.log_text().contains("handed off"),
        "no handoff in 20 tries"
    );
}

#[test]
fn large_message_retr_and_top_past_the_first_read() {
    let srv = Server::start(options());
    // ~300 KiB: several output chunks, and past TOP's first read.
    let mut body = String::from("Subject: big\r\n\r\n");
    for i in 0..5000 {
        body.push_str(&format!(".line {i:05} {}\r\n", "z".repeat(48)));
    }
    let mut l = Lmtp::connect(srv.lmtp.port);
    let (_, data) = l.deliver("s@example.org", &["alice@localhost"], &body);
    assert!(data[0].starts_with("250 2.0.0"), "{data:?}");
    l.quit();

    let mut c = alice(&srv);
    c.send("RETR 1");
    let ok = c.line();
    let lines = multiline(&mut c);
    let size: usize = lines.iter().map(|l| l.len() + 2).sum::<usize>()
        - lines.iter().filter(|l| l.starts_with("..")).count();
    let nums: Vec<usize> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("..line ").and_then(|r| r[..5].parse().ok()))
        .collect();
    let bad: Vec<(usize, &String)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("..line") && l.len() != 61)
        .take(5)
        .collect();
    assert!(bad.is_empty(), "odd lines: {bad:?}");
    let gaps: Vec<(usize, usize)> = nums
        .windows(2)
        .filter(|w| w[1] != w[0] + 1)
        .map(|w| (w[0], w[1]))
        .collect();
    assert!(gaps.is_empty(), "{} lines, gaps {gaps:?}", nums.len());
    assert_eq!(ok, format!("+OK {size} octets"));
    assert_eq!(nums.len(), 5000);
    assert_eq!(
        lines.last().unwrap(),
        &format!("..line 04999 {}", "z".repeat(48))
    );

    c.send("TOP 1 3");
    assert!(c.line().starts_with("+OK"));
    let top = multiline(&mut c);
    assert_eq!(top.iter().filter(|l| l.starts_with("..line")).count(), 3);
    // More lines than the first read holds.
    c.send("TOP 1 4000");
    assert!(c.line().starts_with("+OK"));
    let top = multiline(&mut c);
    assert_eq!(top.iter().filter(|l| l.starts_with("..line")).count(), 4000);
    assert_eq!(
        top.last().unwrap(),
        &format!("..line 03999 {}", "z".repeat(48))
    );
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
}

#[test]
fn pipelined_big_replies_arrive_whole() {
    let srv = Server::start(options());
    deliver_many(srv.lmtp.port, "alice@localhost", 300);
    let mut c = alice(&srv);
    // 40 listings of 300 lines each, far more than one TLS buffer.
    c.send(&vec!["LIST"; 40].join("\r\n"));
    for round in 0..40 {
        let head = c.line();
        assert!(head.starts_with("+OK 300"), "round {round}: {head}");
        let lines = multiline(&mut c);
        assert_eq!(lines.len(), 300, "round {round}");
        assert!(lines[299].starts_with("300 "), "round {round}");
    }
    c.send("QUIT");
    assert!(c.line().starts_with("+OK"));
}

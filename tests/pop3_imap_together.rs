//! POP3 and IMAP on one mailbox: UIDLs do not change when an IMAP session
//! changes flags, and messages delivered over LMTP are visible to both.

mod common;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

fn imap(srv: &Server) -> Client {
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    c
}

fn uidl(srv: &Server) -> Vec<String> {
    let mut c = Client::tls(srv.pop3s.port, srv.tls_config());
    assert!(c.line().starts_with("+OK"));
    c.send(&format!("USER {DEMO_USER}"));
    assert!(c.line().starts_with("+OK"));
    c.send(&format!("PASS {DEMO_PASS}"));
    assert!(c.line().starts_with("+OK"));
    c.send("UIDL");
    assert!(c.line().starts_with("+OK"));
    let mut out = Vec::new();
    loop {
        let l = c.line();
        if l == "." || l.is_empty() {
            break;
        }
        out.push(l);
    }
    c.send("QUIT");
    c.line();
    out
}

#[test]
fn uidls_survive_imap_flag_changes() {
    let srv = Server::start(Options::default());
    let mut c = imap(&srv);
    for i in 0..3 {
        let msg = format!("From: a@example.org\r\nSubject: m{i}\r\n\r\nbody {i}\r\n");
        c.send_raw(format!("p{i} APPEND INBOX {{{}+}}\r\n{msg}\r\n", msg.len()).as_bytes());
        let r = c.until(&format!("p{i} ")).pop().unwrap();
        assert!(r.starts_with(&format!("p{i} OK")), "{r}");
    }
    let before = uidl(&srv);
    assert_eq!(before.len(), 3, "{before:?}");
    c.send("s SELECT INBOX");
    c.until("s ");
    c.send("f STORE 1:* +FLAGS (\\Flagged $Label1)");
    assert!(c.until("f ").pop().unwrap().starts_with("f OK"));
    c.send("g STORE 2 -FLAGS (\\Seen)");
    assert!(c.until("g ").pop().unwrap().starts_with("g OK"));
    let after = uidl(&srv);
    assert_eq!(before, after);
    c.send("z LOGOUT");
    c.until("z ");
}

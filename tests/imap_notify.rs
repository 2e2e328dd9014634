//! NOTIFY (RFC 5465) and live searches (RFC 5267) over TLS against the
//! real binary: one session idles with NOTIFY on, another changes other
//! mailboxes and the mailbox list; the idler hears of it at once.

mod common;

use std::time::{Duration, Instant};

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

fn login(srv: &Server) -> Client {
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    let r = ok(&mut c, "L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(r.last().unwrap().contains("NOTIFY"), "{r:?}");
    c
}

fn ok(c: &mut Client, tag: &str, command: &str) -> Vec<String> {
    c.send(&format!("{tag} {command}"));
    let r = c.until(&format!("{tag} "));
    assert!(
        r.last()
            .is_some_and(|l| l.starts_with(&format!("{tag} OK"))),
        "{command}: {r:?}"
    );
    r
}

fn append(c: &mut Client, mailbox: &str, i: usize) {
    let msg = format!("From: a@example.org\r\nSubject: msg {i}\r\n\r\nbody {i}\r\n");
    c.send_raw(format!("A APPEND {mailbox} {{{}+}}\r\n{msg}\r\n", msg.len()).as_bytes());
    let r = c.until("A ");
    assert!(r.last().unwrap().starts_with("A OK"), "{r:?}");
}

/// The next line, which must come within a second.
fn prompt_line(c: &mut Client) -> String {
    let t = Instant::now();
    let l = c.line();
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "{l} took {:?}",
        t.elapsed()
    );
    l
}

#[test]
fn notify_during_idle_reports_other_mailboxes_and_names() {
    let srv = Server::start(Options::default());
    let mut a = login(&srv);
    let mut b = login(&srv);
    ok(&mut a, "a1", "CREATE Lists");
    ok(&mut a, "a2", "SELECT INBOX");
    ok(
        &mut a,
        "a3",
        "NOTIFY SET (selected (MessageNew (UID) MessageExpunge)) \
         (personal (MessageNew MessageExpunge MailboxName))",
    );
    a.send("a4 IDLE");
    assert!(a.line().starts_with("+ idling"));
    append(&mut b, "Lists", 1);
    let l = prompt_line(&mut a);
    assert!(
        l.starts_with("* STATUS Lists (MESSAGES 1 UIDNEXT 2 "),
        "{l}"
    );
    ok(&mut b, "b1", "CREATE Fresh");
    assert_eq!(prompt_line(&mut a), "* LIST (\\HasNoChildren) \"/\" Fresh");
    // New mail in the selected mailbox: EXISTS, then the FETCH asked for.
    append(&mut b, "INBOX", 2);
    assert_eq!(prompt_line(&mut a), "* 1 EXISTS");
    let mut l = prompt_line(&mut a);
    if l == "* 1 RECENT" {
        l = prompt_line(&mut a);
    }
    assert_eq!(l, "* 1 FETCH (UID 1)");
    a.send("DONE");
    let r = a.until("a4 ");
    assert!(r.last().unwrap().starts_with("a4 OK"), "{r:?}");
    // After NOTIFY NONE the idler hears nothing of other mailboxes.
    ok(&mut a, "a5", "NOTIFY NONE");
    append(&mut b, "Lists", 3);
    let r = ok(&mut a, "a6", "NOOP");
    assert!(!r.iter().any(|l| l.contains("STATUS")), "{r:?}");
}

#[test]
fn live_search_follows_another_session() {
    let srv = Server::start(Options::default());
    let mut a = login(&srv);
    let mut b = login(&srv);
    append(&mut a, "INBOX", 1);
    ok(&mut a, "a1", "SELECT INBOX");
    let r = ok(&mut a, "a2", "UID SEARCH RETURN (UPDATE ALL) UNSEEN");
    assert_eq!(r[0], "* ESEARCH (TAG \"a2\") UID ALL 1", "{r:?}");
    a.send("a3 IDLE");
    assert!(a.line().starts_with("+ idling"));
    append(&mut b, "INBOX", 2);
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("ADDTO")) {
        lines.push(prompt_line(&mut a));
    }
    assert!(
        lines.contains(&"* ESEARCH (TAG \"a2\") UID ADDTO (0 2)".to_string()),
        "{lines:?}"
    );
    a.send("DONE");
    assert!(a.until("a3 ").last().unwrap().starts_with("a3 OK"));
    ok(&mut a, "a4", "CANCELUPDATE \"a2\"");
}

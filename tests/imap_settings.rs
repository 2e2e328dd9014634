//! IMAP settings and refusals: imap_client_workarounds (delay-newmail,
//! tb-lsub-flags), imap_capability, mail_max_userip_connections, and
//! literals refused before the `+` continuation.

mod common;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

fn connect(srv: &Server) -> Client {
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c
}

fn cmd(c: &mut Client, tag: &str, command: &str) -> Vec<String> {
    c.send(&format!("{tag} {command}"));
    c.until(&format!("{tag} "))
}

fn login(srv: &Server) -> Client {
    let mut c = connect(srv);
    let r = cmd(&mut c, "L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(r.last().unwrap().starts_with("L OK"), "{r:?}");
    c
}

fn append(c: &mut Client, mailbox: &str) {
    let msg = "Subject: x\r\n\r\nbody\r\n";
    let r = cmd(
        c,
        "A",
        &format!("APPEND {mailbox} {{{}+}}\r\n{msg}", msg.len()),
    );
    assert!(r.last().unwrap().starts_with("A OK"), "{r:?}");
}

#[test]
fn workarounds_capability_and_userip_limit() {
    let srv = Server::start(Options {
        extra_config: "imap_client_workarounds = delay-newmail tb-lsub-flags\n\
                       imap_capability = +XTERNTEST\n\
                       mail_max_userip_connections = 2\n"
            .into(),
        ..Options::default()
    });
    let mut a = login(&srv);
    let mut b = login(&srv);
    // A third session from the same IP is refused after login.
    let mut third = connect(&srv);
    let r = cmd(&mut third, "L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(
        r[0].starts_with("* BYE Maximum number of connections"),
        "{r:?}"
    );

    let r = cmd(&mut a, "c", "CAPABILITY");
    assert!(
        r[0].ends_with(" XTERNTEST") && r[0].contains("IMAP4rev2"),
        "{r:?}"
    );

    // delay-newmail: EXISTS waits for NOOP.
    cmd(&mut a, "s", "SELECT INBOX");
    append(&mut b, "INBOX");
    let r = cmd(&mut a, "f", "FETCH 1:* (UID)");
    assert!(
        r.last().unwrap().starts_with("f BAD"),
        "no message is known yet: {r:?}"
    );
    let r = cmd(&mut a, "l", "LIST \"\" nothing");
    assert!(!r.iter().any(|l| l.contains("EXISTS")), "{r:?}");
    let r = cmd(&mut a, "n", "NOOP");
    assert!(r.iter().any(|l| l == "* 1 EXISTS"), "{r:?}");

    // tb-lsub-flags: subscribed but not selectable gets \Noselect.
    assert!(
        cmd(&mut b, "c1", "CREATE p/q")
            .last()
            .unwrap()
            .starts_with("c1 OK")
    );
    cmd(&mut b, "s1", "SUBSCRIBE p");
    cmd(&mut b, "s2", "SUBSCRIBE p/q");
    let r = cmd(&mut b, "ls", "LSUB \"\" *");
    assert!(
        r.iter().any(|l| l == "* LSUB (\\Noselect) \"/\" p"),
        "{r:?}"
    );
    assert!(r.iter().any(|l| l == "* LSUB () \"/\" p/q"), "{r:?}");
}

#[test]
fn literals_are_refused_before_continuation() {
    let srv = Server::start(Options::default());
    let mut c = connect(&srv);
    // Before login only LOGIN / AUTHENTICATE may send literals.
    c.send("a APPEND INBOX {5}");
    let l = c.line();
    assert!(l.starts_with("a BAD"), "{l}");
    c.send("b NOOP");
    assert!(c.line().starts_with("b OK"));
    let r = cmd(&mut c, "L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(r.last().unwrap().starts_with("L OK"), "{r:?}");
    // Over APPENDLIMIT: NO [TOOBIG], no "+", and the session goes on.
    c.send("d APPEND INBOX {999999999999}");
    let l = c.line();
    assert!(l.starts_with("d NO [TOOBIG]"), "{l}");
    c.send("d2 APPEND INBOX {70000000}");
    let l = c.line();
    assert!(l.starts_with("d2 NO [TOOBIG]"), "{l}");
    c.send("e NOOP");
    assert!(c.line().starts_with("e OK"));
}

#[test]
fn unusable_mail_store_fails_commands_not_login() {
    let srv = Server::start(Options {
        extra_config: "mail_location = sdbox:/dev/null/mail/%n\n".into(),
        ..Options::default()
    });
    let mut c = login(&srv);
    let r = cmd(&mut c, "s", "SELECT INBOX");
    assert!(r.last().unwrap().starts_with("s NO [SERVERBUG]"), "{r:?}");
    let r = cmd(&mut c, "l", "LIST \"\" *");
    assert!(r.last().unwrap().starts_with("l NO [SERVERBUG]"), "{r:?}");
    let r = cmd(&mut c, "n", "NOOP");
    assert!(r.last().unwrap().starts_with("n OK"), "{r:?}");
}

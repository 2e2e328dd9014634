//! RENAME of the selected mailbox (its parent, INBOX) seen from two
//! sessions, APPENDLIMIT from `plugin { quota_max_mail_size }`, and the
//! LIST-EXTENDED REMOTE selection option.

mod common;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

fn login(srv: &Server) -> Client {
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    ok(&mut c, "L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    c
}

fn cmd(c: &mut Client, tag: &str, command: &str) -> Vec<String> {
    c.send(&format!("{tag} {command}"));
    c.until(&format!("{tag} "))
}

fn ok(c: &mut Client, tag: &str, command: &str) -> Vec<String> {
    let r = cmd(c, tag, command);
    assert!(
        r.last()
            .is_some_and(|l| l.starts_with(&format!("{tag} OK"))),
        "{command}: {r:?}"
    );
    r
}

/// APPEND with a non-synchronizing literal; returns every line.
fn append_lines(c: &mut Client, mailbox: &str, subject: &str) -> Vec<String> {
    let msg = format!("Subject: {subject}\r\n\r\nbody of {subject}\r\n");
    cmd(
        c,
        "A",
        &format!("APPEND {mailbox} {{{}+}}\r\n{msg}", msg.len()),
    )
}

/// The tagged answer of an APPEND.
fn append(c: &mut Client, mailbox: &str, subject: &str) -> String {
    append_lines(c, mailbox, subject)
        .last()
        .cloned()
        .unwrap_or_default()
}

fn has(r: &[String], line: &str) -> bool {
    r.iter().any(|l| l == line)
}

fn subjects(c: &mut Client, tag: &str) -> Vec<String> {
    ok(c, tag, "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        .into_iter()
        .filter_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
        .collect()
}

#[test]
fn rename_of_the_selected_mailbox_keeps_both_sessions_working() {
    let srv = Server::start(Options::default());
    let mut a = login(&srv);
    let mut b = login(&srv);
    ok(&mut a, "c", "CREATE Work");
    assert!(append(&mut a, "Work", "one").starts_with("A OK"));
    assert!(append(&mut a, "Work", "two").starts_with("A OK"));
    let sel = ok(&mut a, "s", "SELECT Work");
    let uidvalidity = sel
        .iter()
        .find_map(|l| l.strip_prefix("* OK [UIDVALIDITY "))
        .and_then(|l| l.split(']').next())
        .unwrap()
        .to_string();
    ok(&mut b, "s", "SELECT Work");

    ok(&mut a, "r", "RENAME Work Done");
    // The renaming session goes on in the renamed mailbox.
    assert_eq!(subjects(&mut a, "f"), vec!["one", "two"]);
    ok(&mut a, "st", "STORE 1 +FLAGS (\\Deleted)");
    // Appending to the selected mailbox under its new name: the session
    // hears of the new message right away.
    let r = append_lines(&mut a, "Done", "three");
    let tagged = r.last().unwrap();
    assert!(
        tagged.starts_with(&format!("A OK [APPENDUID {uidvalidity} 3]")),
        "{r:?}"
    );
    assert!(has(&r, "* 3 EXISTS"), "{r:?}");
    let r = ok(&mut a, "e", "EXPUNGE");
    assert!(has(&r, "* 1 EXPUNGE"), "{r:?}");
    assert_eq!(subjects(&mut a, "f2"), vec!["two", "three"]);
    let r = ok(&mut a, "l", "LIST \"\" *");
    assert!(r.iter().any(|l| l.ends_with(" Done")), "{r:?}");
    assert!(!r.iter().any(|l| l.ends_with(" Work")), "{r:?}");

    // The other session sees the changes and keeps working too.
    let r = ok(&mut b, "n", "NOOP");
    assert!(has(&r, "* 1 EXPUNGE"), "{r:?}");
    assert!(has(&r, "* 2 EXISTS"), "{r:?}");
    assert_eq!(subjects(&mut b, "f"), vec!["two", "three"]);
    ok(&mut b, "st", "UID STORE 3 +FLAGS (\\Flagged)");
    let r = ok(&mut a, "n2", "NOOP");
    assert!(
        r.iter()
            .any(|l| l.starts_with("* 2 FETCH") && l.contains("\\Flagged")),
        "{r:?}"
    );
    // Its selected mailbox is Done now: Work is gone.
    let r = append(&mut b, "Work", "lost");
    assert!(r.starts_with("A NO [TRYCREATE]"), "{r}");
    let r = ok(&mut b, "stat", "STATUS Done (MESSAGES UIDNEXT)");
    assert!(has(&r, "* STATUS Done (MESSAGES 2 UIDNEXT 4)"), "{r:?}");
    // Nothing was lost on the way: a fresh session sees the same.
    let mut c = login(&srv);
    ok(&mut c, "s", "SELECT Done");
    assert_eq!(subjects(&mut c, "f"), vec!["two", "three"]);
}

#[test]
fn rename_of_a_selected_maildir_folder_keeps_the_renaming_session_working() {
    let dir = common::TempDir::new("rename-maildir");
    let loc = format!("maildir:{}/%n", dir.path().display());
    let srv = Server::start(Options {
        extra_config: format!("mail_location = {loc}\n"),
        ..Options::default()
    });
    let mut a = login(&srv);
    ok(&mut a, "c", "CREATE Work");
    assert!(append(&mut a, "Work", "one").starts_with("A OK"));
    ok(&mut a, "s", "SELECT Work");
    ok(&mut a, "r", "RENAME Work Done");
    assert_eq!(subjects(&mut a, "f"), vec!["one"]);
    ok(&mut a, "st", "STORE 1 +FLAGS (\\Seen)");
    let r = append_lines(&mut a, "Done", "two");
    assert!(r.last().unwrap().starts_with("A OK"), "{r:?}");
    assert!(has(&r, "* 2 EXISTS"), "{r:?}");
    assert_eq!(subjects(&mut a, "f2"), vec!["one", "two"]);
}

#[test]
fn rename_of_a_parent_moves_the_selected_child() {
    let srv = Server::start(Options::default());
    let mut a = login(&srv);
    let mut b = login(&srv);
    ok(&mut a, "c", "CREATE P/C");
    assert!(append(&mut a, "P/C", "one").starts_with("A OK"));
    ok(&mut a, "s", "SELECT P/C");
    ok(&mut b, "s", "SELECT P/C");
    ok(&mut a, "r", "RENAME P Q");
    assert_eq!(subjects(&mut a, "f"), vec!["one"]);
    // b appends to the child under its new name; both see it.
    let r = append_lines(&mut b, "Q/C", "two");
    assert!(r.last().unwrap().starts_with("A OK [APPENDUID"), "{r:?}");
    assert!(has(&r, "* 2 EXISTS"), "{r:?}");
    let r = ok(&mut a, "n", "NOOP");
    assert!(has(&r, "* 2 EXISTS"), "{r:?}");
    assert_eq!(subjects(&mut b, "f"), vec!["one", "two"]);
    let r = ok(&mut a, "l", "LIST \"\" *");
    assert!(has(&r, "* LIST (\\HasNoChildren) \"/\" Q/C"), "{r:?}");
    assert!(!r.iter().any(|l| l.contains(" P")), "{r:?}");
}

#[test]
fn rename_of_the_selected_inbox_empties_it_for_its_sessions() {
    let srv = Server::start(Options::default());
    let mut a = login(&srv);
    let mut b = login(&srv);
    assert!(append(&mut a, "INBOX", "one").starts_with("A OK"));
    assert!(append(&mut a, "INBOX", "two").starts_with("A OK"));
    ok(&mut a, "s", "SELECT INBOX");
    ok(&mut b, "s", "SELECT INBOX");
    b.send("i IDLE");
    assert!(b.line().starts_with("+ "));

    // RFC 9051 §6.3.6: the messages move to Saved, INBOX stays, empty.
    let r = ok(&mut a, "r", "RENAME INBOX Saved");
    assert!(has(&r, "* 2 EXPUNGE") && has(&r, "* 1 EXPUNGE"), "{r:?}");
    // The idling session is told at once.
    let r = b.until("* 1 EXPUNGE");
    assert!(has(&r, "* 2 EXPUNGE"), "{r:?}");
    b.send("DONE");
    let r = b.until("i ");
    assert!(r.last().unwrap().starts_with("i OK"), "{r:?}");
    // New mail in INBOX reaches both sessions, with a later UID.
    let r = append_lines(&mut b, "INBOX", "three");
    assert!(r.last().unwrap().starts_with("A OK"), "{r:?}");
    assert!(has(&r, "* 1 EXISTS"), "{r:?}");
    let r = ok(&mut a, "n2", "NOOP");
    assert!(has(&r, "* 1 EXISTS"), "{r:?}");
    for c in [&mut a, &mut b] {
        let r = ok(c, "u", "UID FETCH 1:* (UID)");
        assert!(has(&r, "* 1 FETCH (UID 3)"), "{r:?}");
    }
    assert_eq!(subjects(&mut a, "f"), vec!["three"]);
    let r = ok(&mut a, "st", "STATUS Saved (MESSAGES)");
    assert!(has(&r, "* STATUS Saved (MESSAGES 2)"), "{r:?}");
    let mut c = login(&srv);
    ok(&mut c, "s", "SELECT Saved");
    assert_eq!(subjects(&mut c, "f"), vec!["one", "two"]);
}

#[test]
fn appendlimit_comes_from_quota_max_mail_size() {
    let srv = Server::start(Options {
        extra_config: "plugin {\n  quota_max_mail_size = 1k\n}\n".into(),
        ..Options::default()
    });
    let mut c = login(&srv);
    let r = ok(&mut c, "c", "CAPABILITY");
    let caps = r.iter().find(|l| l.starts_with("* CAPABILITY")).unwrap();
    assert!(caps.split(' ').any(|w| w == "APPENDLIMIT=1024"), "{caps}");
    let r = ok(&mut c, "s", "STATUS INBOX (APPENDLIMIT)");
    assert!(has(&r, "* STATUS INBOX (APPENDLIMIT 1024)"), "{r:?}");
    // Over it: a synchronizing literal is refused before "+".
    c.send("a1 APPEND INBOX {1025}");
    let l = c.line();
    assert!(l.starts_with("a1 NO [TOOBIG]"), "{l}");
    // A non-synchronizing one is already on its way: BAD, and skipped.
    let big = "x".repeat(1025);
    c.send(&format!("a2 APPEND INBOX {{1025+}}\r\n{big}"));
    let l = c.line();
    assert!(l.starts_with("a2 BAD [TOOBIG]"), "{l}");
    // The connection goes on; a message at the limit is taken.
    ok(&mut c, "n", "NOOP");
    let head = "Subject: s\r\n\r\n";
    let msg = format!("{head}{}", "y".repeat(1024 - head.len()));
    let r = cmd(
        &mut c,
        "a3",
        &format!("APPEND INBOX {{{}+}}\r\n{msg}", msg.len()),
    );
    assert!(r.last().unwrap().starts_with("a3 OK"), "{r:?}");
}

#[test]
fn appendlimit_default_is_advertised_bare() {
    let srv = Server::start(Options::default());
    let mut c = login(&srv);
    let r = ok(&mut c, "c", "CAPABILITY");
    let caps = r.iter().find(|l| l.starts_with("* CAPABILITY")).unwrap();
    assert!(caps.split(' ').any(|w| w == "APPENDLIMIT"), "{caps}");
    let r = ok(&mut c, "s", "STATUS INBOX (APPENDLIMIT)");
    assert!(
        has(&r, &format!("* STATUS INBOX (APPENDLIMIT {})", 64 << 20)),
        "{r:?}"
    );
}

/// The untagged lines of a LIST, in order.
fn listing(c: &mut Client, tag: &str, command: &str) -> Vec<String> {
    let mut r = ok(c, tag, command);
    r.pop();
    r
}

#[test]
fn list_remote_lists_the_local_mailboxes() {
    let srv = Server::start(Options::default());
    let mut c = login(&srv);
    ok(&mut c, "c1", "CREATE Work/Sub");
    ok(&mut c, "c2", "CREATE Other");
    ok(&mut c, "s1", "SUBSCRIBE Work/Sub");
    let plain = listing(&mut c, "l0", "LIST \"\" *");
    assert!(plain.len() >= 4, "{plain:?}");
    // An extended LIST carries only the attributes it asks for (Dovecot
    // 2.3): the same names, the children attributes with RETURN (CHILDREN).
    assert_eq!(
        listing(&mut c, "l1", "LIST (REMOTE) \"\" * RETURN (CHILDREN)"),
        plain
    );
    assert_eq!(
        listing(&mut c, "l2", "LIST (REMOTE SUBSCRIBED) \"\" *"),
        listing(&mut c, "l3", "LIST (SUBSCRIBED) \"\" *"),
    );
    assert_eq!(
        listing(
            &mut c,
            "l4",
            "LIST (REMOTE) \"\" % RETURN (CHILDREN STATUS (MESSAGES))"
        ),
        listing(
            &mut c,
            "l5",
            "LIST \"\" % RETURN (CHILDREN STATUS (MESSAGES))"
        ),
    );
    assert_eq!(
        listing(
            &mut c,
            "l6",
            "LIST (SUBSCRIBED REMOTE RECURSIVEMATCH) \"\" %"
        ),
        listing(&mut c, "l7", "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %"),
    );
    // The empty pattern still gives the delimiter.
    assert_eq!(
        listing(&mut c, "l8", "LIST (REMOTE) \"\" \"\""),
        vec!["* LIST (\\Noselect) \"/\" \"\"".to_string()]
    );
    // RFC 5258 §3: RECURSIVEMATCH with nothing but REMOTE is an error.
    let r = cmd(&mut c, "l9", "LIST (REMOTE RECURSIVEMATCH) \"\" *");
    assert!(r.last().unwrap().starts_with("l9 BAD"), "{r:?}");
}

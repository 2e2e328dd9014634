//! What the server logs about a session and says about itself:
//! imap_logout_format, imap_id_send, imap_id_log and pop3_logout_format,
//! checked on the real server's log output.

mod common;

use std::time::{Duration, Instant};

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

/// A client that remembers how many bytes it sent (for `%i`).
struct Counted {
    c: Client,
    sent: u64,
}

impl Counted {
    fn imap(srv: &Server) -> Counted {
        let mut c = Client::tls(srv.imaps.port, srv.tls_config());
        assert!(c.line().starts_with("* OK"));
        Counted { c, sent: 0 }
    }

    fn pop3(srv: &Server) -> Counted {
        let mut c = Client::tls(srv.pop3s.port, srv.tls_config());
        assert!(c.line().starts_with("+OK"));
        Counted { c, sent: 0 }
    }

    fn raw(&mut self, bytes: &str) {
        self.c.send_raw(bytes.as_bytes());
        self.sent += bytes.len() as u64;
    }

    fn cmd(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.raw(&format!("{tag} {command}\r\n"));
        let r = self.c.until(&format!("{tag} "));
        assert!(r.last().unwrap().starts_with(&format!("{tag} OK")), "{r:?}");
        r
    }

    fn pop(&mut self, command: &str) -> String {
        self.raw(&format!("{command}\r\n"));
        let first = self.c.line();
        assert!(first.starts_with("+OK"), "{command}: {first}");
        first
    }
}

/// The first log line containing every one of `needles`, waiting for the
/// server to write it (the session ends after the client saw the reply).
fn log_line(srv: &Server, needles: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = srv.log_text();
        if let Some(l) = log.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            return l.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no log line with {needles:?}; log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The number after `name=` in a log line.
fn field(line: &str, name: &str) -> u64 {
    let key = format!(" {name}=");
    let at = line
        .find(&key)
        .unwrap_or_else(|| panic!("{name} in {line}"))
        + key.len();
    line[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {line}"))
}

fn append(c: &mut Counted, mailbox: &str, subject: &str) {
    let msg = format!("Subject: {subject}\r\n\r\nbody of {subject}\r\n");
    c.cmd(
        "A",
        &format!("APPEND {mailbox} {{{}+}}\r\n{msg}", msg.len()),
    );
}

#[test]
fn imap_logout_format_reports_the_session() {
    let srv = Server::start(Options {
        extra_config: "imap_logout_format = in=%i out=%o deleted=%{deleted} expunged=%{expunged} \
                       trashed=%{trashed} appended=%{appended} hdr_count=%{fetch_hdr_count} \
                       hdr_bytes=%{fetch_hdr_bytes} body_count=%{fetch_body_count} \
                       body_bytes=%{fetch_body_bytes} auto=%{autoexpunged} who=%{user}/%s \
                       short=[%z] long=[%{recent}]\n"
            .into(),
        ..Options::default()
    });
    let mut c = Counted::imap(&srv);
    c.cmd("L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    c.cmd("C", "CREATE Bin (USE (\\Trash))");
    for subject in ["one", "two", "three"] {
        append(&mut c, "INBOX", subject);
    }
    c.cmd("S", "SELECT INBOX");
    c.cmd("F1", "FETCH 1 BODY.PEEK[HEADER]");
    c.cmd("F2", "FETCH 2 BODY[]");
    c.cmd("D", "STORE 1 +FLAGS.SILENT (\\Deleted)");
    c.cmd("K", "COPY 3 Bin");
    c.cmd("M", "MOVE 2 Bin");
    c.cmd("X", "EXPUNGE");
    c.raw("Z LOGOUT\r\n");
    c.c.until("Z ");

    let line = log_line(&srv, &["imap: Disconnected: Logged out", "deleted="]);
    let expect = [
        ("in", c.sent),
        ("deleted", 1),
        ("expunged", 2),
        ("trashed", 2),
        ("appended", 3),
        ("hdr_count", 1),
        ("body_count", 1),
        ("auto", 0),
    ];
    for (name, value) in expect {
        assert_eq!(field(&line, name), value, "{name} in {line}");
    }
    for name in ["out", "hdr_bytes", "body_bytes"] {
        assert!(field(&line, name) > 0, "{name} in {line}");
    }
    assert!(line.contains(&format!(" who={DEMO_USER}/imap ")), "{line}");
    // Dovecot: an unknown %x is dropped, an unknown %{name} named.
    assert!(
        line.contains(" short=[] long=[UNSUPPORTED_VARIABLE_recent]"),
        "{line}"
    );
}

#[test]
fn imap_id_send_and_id_log() {
    let srv = Server::start(Options {
        extra_config: "imap_id_send = name * version * vendor \"Example Mail Co\" os * x-nothing * support-email NIL\n\
                       imap_id_log = name version x-evil\n"
            .into(),
        ..Options::default()
    });
    let mut c = Counted::imap(&srv);
    // Before login: our fields answer, the chosen client fields are logged.
    let r = c.cmd(
        "I",
        "ID (\"name\" \"PreLoginClient\" \"version\" \"9\" \"vendor\" \"Secret\")",
    );
    let version = env!("CARGO_PKG_VERSION");
    let expected_start = format!(
        "* ID (\"name\" \"tern\" \"version\" \"{version}\" \"vendor\" \"Example Mail Co\" \"os\" \""
    );
    assert!(r[0].starts_with(&expected_start), "{r:?}");
    assert!(
        r[0].ends_with("\" \"x-nothing\" NIL \"support-email\" NIL)"),
        "{r:?}"
    );
    let os = r[0][expected_start.len()..].split('"').next().unwrap();
    assert!(os.eq_ignore_ascii_case(std::env::consts::OS), "{os}");
    let pre = log_line(&srv, &["ID sent:", "PreLoginClient"]);
    assert!(
        pre.contains("ID sent: name=PreLoginClient, version=9"),
        "{pre}"
    );
    assert!(
        !pre.contains("Secret"),
        "vendor is not in imap_id_log: {pre}"
    );

    // After login: a value with control characters and an overlong one are
    // sanitized; the session logs its first ID only.
    c.cmd("L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    let evil = "a\r\nb\x07c";
    let long = "v".repeat(200);
    let r = c.cmd(
        "J",
        &format!(
            "ID (\"name\" \"PostLogin\" \"version\" \"{long}\" \"x-evil\" {{{}+}}\r\n{evil})",
            evil.len()
        ),
    );
    assert!(r[0].starts_with(&expected_start), "{r:?}");
    let post = log_line(&srv, &["ID sent:", "PostLogin"]);
    assert!(
        post.contains(&format!(
            "ID sent: name=PostLogin, version={}..., x-evil=a??b?c",
            "v".repeat(77)
        )),
        "{post}"
    );
    c.cmd("K", "ID (\"name\" \"SecondTime\")");
    c.cmd("Z", "LOGOUT");
    log_line(&srv, &["imap: Disconnected: Logged out"]);
    assert!(!srv.log_text().contains("SecondTime"), "{}", srv.log_text());
}

#[test]
fn imap_id_defaults_send_name_and_log_nothing() {
    let srv = Server::start(Options::default());
    let mut c = Counted::imap(&srv);
    c.cmd("L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    let r = c.cmd("I", "ID (\"name\" \"QuietClient\")");
    assert_eq!(r[0], "* ID (\"name\" \"tern\")");
    c.cmd("Z", "LOGOUT");
    let line = log_line(&srv, &["imap: Disconnected: Logged out"]);
    // The default imap_logout_format is Dovecot's.
    for name in [
        "in",
        "out",
        "deleted",
        "expunged",
        "trashed",
        "hdr_count",
        "hdr_bytes",
        "body_count",
        "body_bytes",
    ] {
        field(&line, name);
    }
    assert_eq!(field(&line, "in"), c.sent, "{line}");
    assert!(!srv.log_text().contains("QuietClient"));
}

#[test]
fn pop3_logout_format_reports_the_session() {
    let srv = Server::start(Options {
        extra_config: "pop3_logout_format = top=%t/%p, retr=%r/%b, del=%d/%m, size=%s \
                       in=%i out=%o uidl=[%u] who=%{user} bad=[%{nope}]\n"
            .into(),
        ..Options::default()
    });
    let mut imap = Counted::imap(&srv);
    imap.cmd("L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    for subject in ["one", "two"] {
        append(&mut imap, "INBOX", subject);
    }
    imap.cmd("Z", "LOGOUT");

    let mut p = Counted::pop3(&srv);
    p.pop(&format!("USER {DEMO_USER}"));
    p.pop(&format!("PASS {DEMO_PASS}"));
    p.pop("RETR 1");
    p.c.until(".");
    p.pop("TOP 2 0");
    p.c.until(".");
    p.pop("DELE 1");
    p.pop("QUIT");

    let line = log_line(&srv, &["pop3: Disconnected: Logged out"]);
    let size =
        "Subject: one\r\n\r\nbody of one\r\n".len() + "Subject: two\r\n\r\nbody of two\r\n".len();
    let one = "Subject: one\r\n\r\nbody of one\r\n".len();
    let top = "Subject: two\r\n\r\n".len();
    assert!(
        line.contains(&format!(
            "Logged out top=1/{top}, retr=1/{one}, del=1/2, size={size} in={} out=",
            p.sent
        )),
        "{line}"
    );
    assert!(field(&line, "out") > 0, "{line}");
    // %u: message count/hash at login -> after the deletion.
    let uidl = line
        .split("uidl=[")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    let (before, after) = uidl.split_once(" -> ").unwrap_or_else(|| panic!("{line}"));
    assert!(
        before.starts_with("2/") && after.starts_with("1/"),
        "{line}"
    );
    assert_eq!(before.len(), 10, "{line}");
    assert!(
        line.contains(&format!(" who={DEMO_USER} bad=[UNSUPPORTED_VARIABLE_nope]")),
        "{line}"
    );
}

/// A connection that ends without LOGOUT is logged with Dovecot's reason:
/// what was going on (an APPEND cut short, the last command and how long
/// ago), never a bare "Disconnected".
#[test]
fn disconnects_log_their_reason_like_dovecot() {
    let srv = Server::start(Options::default());
    let login = format!("LOGIN {DEMO_USER} {DEMO_PASS}");
    {
        let mut c = Counted::imap(&srv);
        c.cmd("a", &login);
        c.cmd("b", "NOOP");
    }
    let line = log_line(
        &srv,
        &["imap: Disconnected: Connection closed (NOOP finished "],
    );
    assert!(line.contains(" secs ago) in="), "{line}");
    {
        let mut c = Counted::imap(&srv);
        c.cmd("a", &login);
        c.raw("b APPEND INBOX {100}\r\n");
        assert!(c.c.line().starts_with("+ "));
        c.raw("Subject: cut");
        // Let the server read the bytes before the connection goes.
        std::thread::sleep(Duration::from_millis(300));
    }
    log_line(
        &srv,
        &["imap: Disconnected: Connection closed (While APPENDing: 12/100 bytes) in="],
    );
    let log = srv.log_text();
    assert!(
        !log.lines().any(|l| l.contains("imap: Disconnected in=")),
        "a bare Disconnected:\n{log}"
    );
}

//! Python imaplib runs a scripted session against IMAPS: login, list,
//! select, append 100 messages, search, fetch bodies, store flags, copy,
//! move, expunge, logout.

mod common;

use common::{DEMO_PASS, DEMO_USER, Options, Server};

const SCRIPT: &str = r#"
import imaplib, ssl, sys
port, ca, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
M = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx)
typ, _ = M.login(user, pw)
assert typ == "OK", typ
typ, caps = M.capability()
assert b"MOVE" in caps[0] and b"UIDPLUS" in caps[0], caps
assert M.create("Archive")[0] == "OK"
assert M.create("Trash")[0] == "OK"
typ, boxes = M.list()
names = b" ".join(boxes)
assert b"INBOX" in names and b"Archive" in names, boxes
typ, data = M.select("INBOX")
assert typ == "OK" and data == [b"0"], (typ, data)
for i in range(100):
    body = ("From: Sender %d <s%d@example.org>\r\nTo: alice@example.org\r\n"
            "Subject: message number %d\r\nMessage-ID: <m%d@example.org>\r\n\r\n"
            "Hello body %d\r\n" % (i, i, i, i, i)).encode()
    typ, resp = M.append("INBOX", "(\\Flagged)" if i % 10 == 0 else None,
                         imaplib.Time2Internaldate(1700000000 + i), body)
    assert typ == "OK", (typ, resp)
    assert b"APPENDUID" in resp[0], resp
typ, data = M.noop()
typ, data = M.search(None, "ALL")
assert len(data[0].split()) == 100, data
typ, data = M.search(None, "FLAGGED")
assert data[0].split() == [b"1", b"11", b"21", b"31", b"41", b"51", b"61", b"71", b"81", b"91"], data
typ, data = M.search(None, 'SUBJECT', '"number 42"')
assert data[0] == b"43", data
typ, data = M.uid("SEARCH", None, "FROM", "s7@example.org")
assert data[0] == b"8", data
typ, data = M.fetch("5", "(BODY.PEEK[] FLAGS)")
assert typ == "OK" and b"Hello body 4" in data[0][1], data
typ, data = M.fetch("1:3", "(BODY[HEADER.FIELDS (SUBJECT)])")
assert b"message number 2" in data[4][1], data
typ, data = M.fetch("1:3", "(FLAGS)")
assert all(b"\\Seen" in d for d in data), data
typ, data = M.store("4:6", "+FLAGS", "(\\Deleted)")
assert typ == "OK" and b"\\Deleted" in data[0], data
typ, data = M.copy("7:9", "Archive")
assert typ == "OK" and b"COPYUID" in data[0], data
typ, data = M.uid("MOVE", "10:12", "Trash")
assert typ == "OK", (typ, data)
typ, data = M.expunge()
assert typ == "OK", (typ, data)
typ, data = M.search(None, "ALL")
assert len(data[0].split()) == 94, data
typ, data = M.status("Archive", "(MESSAGES UIDNEXT)")
assert b"MESSAGES 3" in data[0], data
typ, data = M.status("Trash", "(MESSAGES)")
assert b"MESSAGES 3" in data[0], data
typ, data = M.fetch("1:*", "(UID RFC822.SIZE)")
assert len(data) == 94, len(data)
M.close()
typ, data = M.logout()
assert typ == "BYE", (typ, data)
print("imaplib session ok")
"#;

#[test]
fn imaplib_scripted_session() {
    let Some(py) = common::python3() else {
        panic!("python3 is required for this test");
    };
    let srv = Server::start(Options::default());
    let ca = srv.dir.path().join("cert.pem");
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(SCRIPT)
        .arg(srv.imaps.port.to_string())
        .arg(&ca)
        .arg(DEMO_USER)
        .arg(DEMO_PASS)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("imaplib session ok"),
        "stdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}",
        srv.log_text()
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = srv.log_text();
    assert!(
        log.lines().any(|l| l.contains("Logged out")
            && l.contains("in=")
            && l.contains("out=")
            && l.contains("expunged=6")
            && l.contains("deleted=3")),
        "no logout line:\n{log}"
    );
}

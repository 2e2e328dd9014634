//! Real POP3 clients against the real binary over POP3S: Python's
//! `poplib` downloads and deletes 500 messages delivered with
//! `smtplib.LMTP`, `curl pop3s://` lists and retrieves, and `fetchmail`
//! pulls a maildrop into an mbox through an MDA.

mod common;
mod pop3_support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{Server, require_program};
use pop3_support::{alice, deliver_many, options, stat};

const POPLIB_500: &str = r#"
import poplib, smtplib, ssl, sys
port_lmtp, port_pop3s, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
l = smtplib.LMTP('127.0.0.1', port_lmtp)
for i in range(500):
    msg = ('From: s@example.org\r\nSubject: number %d\r\n\r\nbody %d\r\n.starts with a dot\r\n' % (i, i)).encode()
    refused = l.sendmail('s@example.org', ['alice@localhost'], msg)
    assert not refused, refused
l.quit()
ctx = ssl.create_default_context(cafile=cafile)
p = poplib.POP3_SSL('localhost', port_pop3s, context=ctx)
p.user('alice')
p.pass_('wonderland')
count, size = p.stat()
assert count == 500, count
resp, listing, _ = p.list()
assert len(listing) == 500
seen = set()
total = 0
for n in range(1, 501):
    resp, lines, octets = p.retr(n)
    assert resp.startswith(b'+OK'), resp
    subject = [x for x in lines if x.startswith(b'Subject: ')][0]
    seen.add(subject)
    assert b'.starts with a dot' in lines, lines
    total += octets
    p.dele(n)
assert len(seen) == 500
p.quit()
p = poplib.POP3_SSL('localhost', port_pop3s, context=ctx)
p.user('alice')
p.pass_('wonderland')
print('after', p.stat()[0])
p.quit()
"#;

#[test]
fn poplib_downloads_and_deletes_500_messages() {
    require_program("python3", "python3");
    let srv = Server::start(options());
    let ca = srv.dir.path().join("cert.pem");
    let out = Command::new("python3")
        .arg("-c")
        .arg(POPLIB_500)
        .arg(srv.lmtp.port.to_string())
        .arg(srv.pop3s.port.to_string())
        .arg(&ca)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        srv.log_text()
    );
    assert_eq!(stdout.trim(), "after 0");
    assert!(
        srv.log_text().contains("retr=500/") && srv.log_text().contains("del=500/500"),
        "logout line"
    );
}

#[test]
fn curl_lists_and_retrieves_over_pop3s() {
    require_program("curl", "curl");
    let srv = Server::start(options());
    deliver_many(srv.lmtp.port, "alice@localhost", 3);
    let ca = srv.dir.path().join("cert.pem");
    let curl = |path: &str| {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(&ca)
            .args(["-u", "alice:wonderland"])
            .arg(format!("pop3s://localhost:{}/{path}", srv.pop3s.port))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "curl {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listing = curl("");
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 3, "{listing}");
    assert!(lines[0].starts_with("1 "), "{listing}");
    let message = curl("2");
    assert!(message.contains("Subject: message 1"), "{message}");
    assert!(
        message.contains("Delivered-To: alice@localhost"),
        "{message}"
    );
}

#[test]
fn fetchmail_pulls_into_an_mbox() {
    require_program("fetchmail", "fetchmail");
    let srv = Server::start(options());
    deliver_many(srv.lmtp.port, "alice@localhost", 5);
    let dir = srv.dir.path();
    let mbox = dir.join("fetched.mbox");
    let mda = dir.join("mda.sh");
    fs::write(
        &mda,
        format!(
            "#!/bin/sh\n{{ echo 'From fetchmail'; cat; echo; }} >> '{}'\n",
            mbox.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&mda, fs::Permissions::from_mode(0o755)).unwrap();
    let rc = dir.join("fetchmailrc");
    fs::write(
        &rc,
        format!(
            "poll localhost with proto POP3 port {port} timeout 20\n  \
             user 'alice' there with password 'wonderland' is 'root' here\n  \
             ssl sslcertck sslcertfile '{ca}'\n  \
             mda '{mda}'\n  fetchall\n",
            port = srv.pop3s.port,
            ca = dir.join("cert.pem").display(),
            mda = mda.display(),
        ),
    )
    .unwrap();
    fs::set_permissions(&rc, fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new("fetchmail")
        .arg("-f")
        .arg(&rc)
        .args(["--nosyslog", "--nodetach", "-v"])
        .env("FETCHMAILHOME", dir)
        .env("HOME", dir)
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "fetchmail failed:\n{text}");
    let got = fs::read_to_string(&mbox).unwrap_or_default();
    assert_eq!(got.matches("From fetchmail").count(), 5, "{text}\n{got}");
    for i in 0..5 {
        assert!(got.contains(&format!("Subject: message {i}")), "{got}");
    }
    // fetchmail deletes what it fetched (no `keep`).
    let mut c = alice(&srv);
    assert_eq!(stat(&mut c).0, 0);
    c.send("QUIT");
    c.line();
}

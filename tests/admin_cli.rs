//! `tern admin mailbox status` and `tern admin force-resync` on a store the
//! server wrote.

mod common;

use std::process::Command;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

fn admin(srv: &Server, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("-c")
        .arg(srv.dir.path().join("tern.conf"))
        .arg("admin")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn status_and_force_resync() {
    let srv = Server::start(Options::default());
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    for i in 0..2 {
        let msg = format!("Subject: m{i}\r\n\r\nbody\r\n");
        c.send_raw(format!("p{i} APPEND INBOX {{{}+}}\r\n{msg}\r\n", msg.len()).as_bytes());
        assert!(
            c.until(&format!("p{i} "))
                .pop()
                .unwrap()
                .starts_with(&format!("p{i} OK"))
        );
    }
    c.send("z LOGOUT");
    c.until("z ");

    let (ok, out) = admin(&srv, &["mailbox", "status", "-u", DEMO_USER, "INBOX"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("messages=2") && out.contains("uidnext=3"),
        "{out}"
    );
    let (ok, out) = admin(&srv, &["force-resync", "-u", DEMO_USER, "INBOX"]);
    assert!(ok, "{out}");
    assert!(out.contains("2 messages"), "{out}");
    let (ok, out) = admin(&srv, &["mailbox", "status", "-u", DEMO_USER, "INBOX"]);
    assert!(ok && out.contains("messages=2"), "{out}");
    let (ok, out) = admin(&srv, &["mailbox", "status", "-u", DEMO_USER, "NoSuchBox"]);
    assert!(!ok, "{out}");
}

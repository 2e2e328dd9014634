//! mbsync (isync) syncs a 1,000-message mailbox down into a local Maildir
//! and back up, twice, with no duplicate and no loss. Fails (with a
//! message) when mbsync is not installed: `apt-get install isync`.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

const MESSAGES: usize = 1000;

fn message(i: usize) -> String {
    format!(
        "From: s{i}@example.org\r\nTo: alice@example.org\r\nSubject: bulk {i}\r\n\
Message-ID: <bulk{i}@example.org>\r\n\r\nbody {i}\r\n"
    )
}

fn maildir_ids(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for sub in ["cur", "new"] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if let Some(l) = text.lines().find(|l| l.starts_with("Message-ID:")) {
                ids.push(l.trim().to_string());
            }
        }
    }
    ids
}

fn server_ids(c: &mut Client, tag: &str) -> Vec<String> {
    c.send(&format!(
        "{tag} FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
    ));
    let mut ids = Vec::new();
    loop {
        let l = c.line();
        if l.starts_with("Message-ID:") {
            ids.push(l.trim().to_string());
        }
        if l.starts_with(&format!("{tag} ")) {
            assert!(l.starts_with(&format!("{tag} OK")), "{l}");
            return ids;
        }
    }
}

fn unique(ids: &[String]) -> bool {
    ids.iter().collect::<HashSet<_>>().len() == ids.len()
}

fn run_mbsync(config: &Path) -> String {
    let out = Command::new("mbsync")
        .arg("-c")
        .arg(config)
        .arg("-a")
        .output()
        .expect("mbsync runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mbsync failed:\n{text}");
    text
}

#[test]
fn mbsync_round_trips_a_thousand_messages_twice() {
    common::require_program("mbsync", "isync");
    let srv = Server::start(Options::default());
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("L LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("L ").last().unwrap().starts_with("L OK"));
    // One MULTIAPPEND with non-synchronizing literals.
    let mut cmd = String::from("A APPEND INBOX");
    for i in 0..MESSAGES {
        let m = message(i);
        cmd.push_str(&format!(" (\\Seen) {{{}+}}\r\n{m}", m.len()));
    }
    c.send(&cmd);
    let r = c.until("A ");
    assert!(r.last().unwrap().starts_with("A OK [APPENDUID"), "{r:?}");

    let base = srv.dir.path();
    let local = base.join("maildir");
    std::fs::create_dir_all(&local).unwrap();
    let config = base.join("mbsyncrc");
    std::fs::write(
        &config,
        format!(
            "IMAPAccount tern\nHost 127.0.0.1\nPort {port}\nUser {DEMO_USER}\nPass {DEMO_PASS}\n\
SSLType IMAPS\nCertificateFile {ca}\n\n\
IMAPStore remote\nAccount tern\n\n\
MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n\
Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
            port = srv.imaps.port,
            ca = base.join("cert.pem").display(),
            local = local.display(),
        ),
    )
    .unwrap();

    // Down: everything arrives once.
    run_mbsync(&config);
    let inbox = local.join("INBOX");
    let down = maildir_ids(&inbox);
    assert_eq!(down.len(), MESSAGES, "first sync down");
    assert!(unique(&down));

    // Up: new local messages reach the server once.
    for i in 0..10 {
        let name = format!("1700000000.local{i}.host");
        std::fs::write(inbox.join("new").join(name), message(MESSAGES + i)).unwrap();
    }
    run_mbsync(&config);
    c.send("S SELECT INBOX");
    assert!(c.until("S ").last().unwrap().starts_with("S OK"));
    let ids = server_ids(&mut c, "F1");
    assert_eq!(ids.len(), MESSAGES + 10, "after upload");
    assert!(unique(&ids));

    // Second round: a flag change and a deletion each way, nothing doubled.
    c.send("D STORE 1 +FLAGS.SILENT (\\Deleted)");
    assert!(c.until("D ").last().unwrap().starts_with("D OK"));
    c.send("E EXPUNGE");
    assert!(c.until("E ").last().unwrap().starts_with("E OK"));
    run_mbsync(&config);
    run_mbsync(&config);
    let local_ids = maildir_ids(&inbox);
    let ids = server_ids(&mut c, "F2");
    assert_eq!(ids.len(), MESSAGES + 9, "server after second round");
    assert_eq!(local_ids.len(), MESSAGES + 9, "local after second round");
    assert!(unique(&ids) && unique(&local_ids));
    let a: HashSet<_> = ids.iter().collect();
    let b: HashSet<_> = local_ids.iter().collect();
    let only_server: Vec<_> = a.difference(&b).collect();
    let only_local: Vec<_> = b.difference(&a).collect();
    assert!(
        only_server.is_empty() && only_local.is_empty(),
        "only on server: {only_server:?}; only local: {only_local:?}"
    );
}

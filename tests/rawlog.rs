//! `rawlog_dir`, Dovecot's capture of one user's conversation: an IMAP
//! and a POP3 session of a user whose directory exists leave `.in`/`.out`
//! files with exactly what was said after login (COMPRESS inflated);
//! a user without the directory leaves nothing.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server, TempDir};

/// Waits until `dir` has a `.in` file whose text contains `needle` and its
/// `.out` file contains `out_needle`; returns both texts.
fn rawlog_with(dir: &Path, needle: &str, out_needle: &str) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for e in fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "in") {
                let input = fs::read_to_string(&p).unwrap_or_default();
                let output = fs::read_to_string(p.with_extension("out")).unwrap_or_default();
                if input.contains(needle) && output.contains(out_needle) {
                    return (input, output);
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no rawlog with {needle:?} in {}: {:?}",
            dir.display(),
            fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn rawlog_captures_imap_and_pop3_sessions_of_a_user_whose_directory_exists() {
    let raw = TempDir::new("rawlog");
    let srv = Server::start(Options {
        extra_config: format!("rawlog_dir = {}/%u\n", raw.path().display()),
        ..Options::default()
    });
    let alice = raw.path().join(DEMO_USER);
    fs::create_dir_all(&alice).unwrap();

    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    c.send("b SELECT INBOX");
    assert!(c.until("b ").pop().unwrap().starts_with("b OK"));
    c.send("c LOGOUT");
    let _ = c.until("c ");
    let (input, output) = rawlog_with(&alice, "c LOGOUT", "c OK");
    assert_eq!(
        input, "b SELECT INBOX\r\nc LOGOUT\r\n",
        "only what came after login"
    );
    assert!(output.starts_with("a OK [CAPABILITY "), "{output}");
    assert!(output.contains("b OK [READ-WRITE] "), "{output}");
    assert!(!output.contains(DEMO_PASS) && !input.contains(DEMO_PASS));

    let mut p = Client::tls(srv.pop3s.port, srv.tls_config());
    assert!(p.line().starts_with("+OK"));
    p.send(&format!("USER {DEMO_USER}"));
    assert!(p.line().starts_with("+OK"));
    p.send(&format!("PASS {DEMO_PASS}"));
    assert!(p.line().starts_with("+OK"));
    p.send("STAT");
    assert!(p.line().starts_with("+OK"));
    p.send("QUIT");
    assert!(p.line().starts_with("+OK"));
    let (input, output) = rawlog_with(&alice, "QUIT\r\n", "+OK");
    assert_eq!(input, "STAT\r\nQUIT\r\n");
    assert!(output.lines().count() >= 3, "{output}");

    // bob has no directory: rawlog is off for him.
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send("a LOGIN bob builder");
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    c.send("b LOGOUT");
    let _ = c.until("b ");
    assert!(!raw.path().join("bob").exists());
    let files = fs::read_dir(&alice).unwrap().count();
    assert_eq!(files, 4, "two sessions of alice, two files each");
}

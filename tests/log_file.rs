//! The server's log file (`log_path`): session lines from the shards go
//! through the log queue and still arrive, the forked auth helper (which
//! has no log writer thread) still logs, and the "tern stopped" line that
//! SIGTERM leads to is written before the process exits.

mod common;

use std::time::{Duration, Instant};

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server, TempDir, require_root};

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits until the log file has a line containing every needle.
fn wait_for_line(path: &std::path::Path, needles: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = read(path);
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

fn imap_login(srv: &Server, user: &str, password: &str) -> String {
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {user} {password}"));
    let r = c.until("a ").pop().unwrap_or_default();
    c.send("z LOGOUT");
    let _ = c.until("z ");
    r
}

fn start_logging_to(log: &std::path::Path) -> Server {
    Server::start(Options {
        extra_config: format!("log_path = {}\n", log.display()),
        ..Options::default()
    })
}

#[test]
fn log_file_gets_shard_lines_and_the_stop_line() {
    let logs = TempDir::new("logfile");
    let log = logs.path().join("tern.log");
    let mut srv = start_logging_to(&log);
    assert!(imap_login(&srv, DEMO_USER, DEMO_PASS).starts_with("a OK"));
    // Written on a shard thread, through the queue.
    wait_for_line(&log, &["imap: Disconnected: Logged out", DEMO_USER]);

    srv.signal(libc::SIGTERM);
    assert_eq!(srv.wait_exit(Duration::from_secs(20)), Some(0));
    let text = read(&log);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains("tern stopped"), "log:\n{text}");
    assert!(!text.contains("log lines dropped"), "log:\n{text}");
}

#[test]
fn log_file_gets_the_auth_helper_lines() {
    require_root("the auth helper is forked only when tern starts as root");
    let logs = TempDir::new("logfile-helper");
    let log = logs.path().join("tern.log");
    let srv = start_logging_to(&log);
    assert!(imap_login(&srv, DEMO_USER, "not-the-password").starts_with("a NO"));
    // Written by the forked helper processes, which cannot use the queue:
    // its writer thread exists only in the server process.
    wait_for_line(&log, &["auth: worker started"]);
    wait_for_line(
        &log,
        &["auth: passwd-file(", DEMO_USER, "Password mismatch"],
    );
}

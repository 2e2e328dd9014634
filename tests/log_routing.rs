//! Where log lines go: Dovecot's `log_path` (errors and warnings),
//! `info_log_path` and `debug_log_path`; and library noise tied to one
//! connection (rustls's WARN for an IP address sent as SNI) stays out of
//! the log however many clients do it.

mod common;

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, DEMO_USER, Options, Server, TempDir, require_program};

fn wait_for(path: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in {}:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The level word of each line (the fmt layer's second field).
fn levels(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect()
}

#[test]
fn errors_info_and_debug_go_to_their_own_files() {
    let logs = TempDir::new("routing");
    let (err, info, debug) = (
        logs.path().join("err.log"),
        logs.path().join("info.log"),
        logs.path().join("debug.log"),
    );
    let srv = Server::start(Options {
        // A '#' without a space before it gives a start-up WARN.
        extra_config: format!(
            "log_path = {}\ninfo_log_path = {}\ndebug_log_path = {}\nlogin_greeting = ready#now\n",
            err.display(),
            info.display(),
            debug.display()
        ),
        ..Options::default()
    });
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} wrong"));
    assert!(c.until("a ").pop().unwrap().starts_with("a NO"));
    c.send("b LOGOUT");
    let _ = c.until("b ");
    let info_text = wait_for(&info, "imap-login: Authentication failed");
    let err_text = wait_for(&err, "Ambiguous '#'");
    assert!(
        levels(&err_text)
            .iter()
            .all(|l| *l == "WARN" || *l == "ERROR"),
        "{err_text}"
    );
    assert!(
        levels(&info_text).iter().all(|l| *l == "INFO"),
        "{info_text}"
    );
    assert!(info_text.contains("tern started"), "{info_text}");
    // The test harness runs with RUST_LOG=info,tern=debug.
    let debug_text = fs::read_to_string(&debug).unwrap_or_default();
    assert!(
        levels(&debug_text)
            .iter()
            .all(|l| *l == "DEBUG" || *l == "TRACE"),
        "{debug_text}"
    );
    assert!(
        !srv.log_text().contains("tern started"),
        "nothing on stderr"
    );
}

#[test]
fn an_ip_address_as_sni_does_not_flood_the_log() {
    require_program("openssl", "openssl");
    let srv = Server::start(Options::default());
    for _ in 0..5 {
        // openssl sends what -servername says, IP address or not (rustls
        // and browsers leave SNI out for addresses).
        let mut child = Command::new("openssl")
            .args(["s_client", "-connect"])
            .arg(format!("127.0.0.1:{}", srv.imaps.port))
            .args(["-servername", "127.0.0.1", "-quiet", "-crlf", "-ign_eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // LOGOUT: the server answers and closes, and openssl exits.
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"a LOGOUT\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("* OK"),
            "the handshake must succeed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Give the log a moment, then look: no line about it, at any level
    // the default filter lets through.
    std::thread::sleep(Duration::from_millis(300));
    let log = srv.log_text();
    assert!(!log.contains("Illegal SNI"), "{log}");
}

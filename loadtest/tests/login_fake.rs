//! The `login` scenario end to end against a tiny in-process fake IMAP
//! server: a few hundred sessions, counts checked on both sides.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use tern_loadtest::args::Cli;

fn handle(sock: TcpStream, logins: &AtomicU64, logouts: &AtomicU64) -> std::io::Result<()> {
    let mut out = sock.try_clone()?;
    let mut input = BufReader::new(sock);
    out.write_all(b"* OK fake IMAP ready\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let tag = words.next().unwrap_or("*").to_string();
        match words.next().map(str::to_ascii_uppercase).as_deref() {
            Some("LOGIN") if line.contains("\"pw\"") => {
                logins.fetch_add(1, Ordering::Relaxed);
                out.write_all(format!("{tag} OK logged in\r\n").as_bytes())?;
            }
            Some("LOGOUT") => {
                logouts.fetch_add(1, Ordering::Relaxed);
                out.write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes())?;
                return Ok(());
            }
            _ => out.write_all(format!("{tag} NO nope\r\n").as_bytes())?,
        }
    }
}

/// Starts the fake server; returns its port and its login counter.
fn fake_server() -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let logins = Arc::new(AtomicU64::new(0));
    let logouts = Arc::new(AtomicU64::new(0));
    {
        let (logins, logouts) = (logins.clone(), logouts.clone());
        std::thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                let (logins, logouts) = (logins.clone(), logouts.clone());
                std::thread::spawn(move || {
                    let _ = handle(sock, &logins, &logouts);
                });
            }
        });
    }
    (port, logins)
}

#[test]
fn login_scenario_counts_sessions() {
    let (port, logins) = fake_server();
    let settings = Cli::try_parse_from([
        "tern-loadtest",
        "login",
        "--port",
        &port,
        "--password",
        "pw",
        "--clients",
        "4",
        "--threads",
        "2",
        "--warmup",
        "0s",
        "--duration",
        "15s",
        "--max-ops",
        "300",
        "--quiet",
    ])
    .unwrap()
    .into_settings()
    .unwrap();
    let out = tern_loadtest::run(settings).unwrap();
    let s = &out.stats;
    assert_eq!(
        s.count("session"),
        300,
        "max-ops bounds the recorded sessions"
    );
    assert!(s.count("login") >= 300 && s.count("login") < 310);
    assert_eq!(s.count("login"), s.count("logout"));
    assert_eq!(s.total_errors(), 0, "errors: {:?}", s.first_errors);
    assert!(logins.load(Ordering::Relaxed) >= 300);
    assert_eq!(logins.load(Ordering::Relaxed), s.count("login"));
    assert_eq!(out.summary.primary_count, 300);
    assert!(out.summary.primary_rate > 0.0);
    assert!(
        out.summary.elapsed.as_secs() < 15,
        "stopped by max-ops, not by duration"
    );
    let table = out.summary.table();
    assert!(table.contains("login: 300 session"));
}

#[test]
fn wrong_password_is_counted_as_login_error() {
    let (port, logins) = fake_server();
    let settings = Cli::try_parse_from([
        "tern-loadtest",
        "login",
        "--port",
        &port,
        "--password",
        "bad",
        "--clients",
        "2",
        "--threads",
        "1",
        "--warmup",
        "0s",
        "--duration",
        "300ms",
        "--quiet",
    ])
    .unwrap()
    .into_settings()
    .unwrap();
    let out = tern_loadtest::run(settings).unwrap();
    assert_eq!(out.stats.count("session"), 0);
    assert!(out.stats.errors("login") > 0);
    assert_eq!(logins.load(Ordering::Relaxed), 0);
    assert!(out.summary.elapsed.as_millis() <= 300);
}

#[test]
fn open_loop_never_exceeds_its_schedule() {
    let (port, logins) = fake_server();
    let settings = Cli::try_parse_from([
        "tern-loadtest",
        "login",
        "--port",
        &port,
        "--password",
        "pw",
        "--clients",
        "4",
        "--threads",
        "2",
        "--rate",
        "200/s",
        "--warmup",
        "0s",
        "--duration",
        "500ms",
        "--quiet",
    ])
    .unwrap()
    .into_settings()
    .unwrap();
    let out = tern_loadtest::run(settings).unwrap();
    let sessions = out.stats.count("session");
    // 200/s over 0.5 s schedules 100 arrivals (50 per thread): never more
    assert!(sessions > 0 && sessions <= 100, "{sessions} sessions");
    assert!(logins.load(Ordering::Relaxed) <= 100);
    assert_eq!(out.stats.total_errors(), 0);
}

//! The budget before login (issue 16 item 2): a flood of idle pre-login
//! connections from a few addresses does not lock out a real client, a
//! client that trickles bytes is closed at the login deadline, and an
//! oversized SASL response still completes its command.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

/// A TCP connection to the server on 127.0.0.1 from `from` (another
/// loopback address).
fn connect_from(from: &str, port: u16) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let local: SocketAddr = format!("{from}:0").parse().unwrap();
    s.bind(&local.into()).unwrap();
    let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    s.connect(&remote.into()).unwrap();
    s.into()
}

/// True when the server closed `s` (EOF or reset) within `wait`; bytes it
/// sent before (a greeting) are skipped.
fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 256];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// 120 idle connections from 127.0.0.2–5 (30 each) against a per-IP cap of
/// 10 and a global cap of 24: at most 24 stay open, and a fresh IMAPS login
/// from 127.0.0.1 still succeeds within a second. Refusals are logged once
/// per burst, not once per connection.
#[test]
fn idle_flood_does_not_lock_out_a_real_login() {
    let srv = Server::start(Options {
        extra_config: "login_max_ip_connections = 10\n\
                       service imap-login {\n  process_limit = 1\n  client_limit = 24\n}\n"
            .into(),
        ..Options::default()
    });
    let mut flood: Vec<TcpStream> = Vec::new();
    for i in 0..120 {
        let from = format!("127.0.0.{}", 2 + i % 4);
        flood.push(connect_from(&from, srv.imap.port));
    }
    // Let the server accept (and refuse or push out) all of them.
    std::thread::sleep(Duration::from_millis(500));

    let started = Instant::now();
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    let done = c.until("a ").pop().unwrap();
    let took = started.elapsed();
    assert!(done.starts_with("a OK"), "{done}");
    assert!(took < Duration::from_secs(1), "login took {took:?}");
    c.send("b LOGOUT");
    c.until("b ");

    let open = flood
        .iter_mut()
        .map(|s| closed_within(s, Duration::from_millis(50)))
        .filter(|closed| !closed)
        .count();
    assert!(open <= 24, "{open} flood connections still open");
    assert!(open >= 4, "only {open} flood connections admitted");
    let log = srv.log_text();
    let refusals = log.matches("connection refused").count();
    assert!(
        (1..=4).contains(&refusals),
        "{refusals} refusal lines:\n{log}"
    );
    assert!(log.contains("login_max_ip_connections = 10"), "{log}");
    assert!(log.contains("descriptor limit raised to"), "{log}");
}

/// A client that sends a byte every 300 ms and never a whole line is closed
/// at `login_timeout`, although it is never idle for long.
#[test]
fn dribbling_client_is_closed_at_the_login_deadline() {
    let srv = Server::start(Options {
        extra_config: "login_timeout = 2 secs\n".into(),
        ..Options::default()
    });
    for port in [srv.imap.port, srv.pop3.port] {
        let mut s = connect_from("127.0.0.2", port);
        let started = Instant::now();
        let mut closed = false;
        while started.elapsed() < Duration::from_secs(10) {
            if s.write_all(b"a").is_err() {
                closed = true;
                break;
            }
            if closed_within(&mut s, Duration::from_millis(300)) {
                closed = true;
                break;
            }
        }
        let took = started.elapsed();
        assert!(closed, "port {port}: still open after {took:?}");
        assert!(
            took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
            "port {port}: closed after {took:?}"
        );
    }
}

/// `AUTHENTICATE PLAIN` answered with a 1 MB response line: the command
/// gets its tagged BAD (not an untagged one that leaves it pending) and the
/// connection can still log in.
#[test]
fn oversized_sasl_response_completes_the_command() {
    let srv = Server::start(Options::default());
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send("a AUTHENTICATE PLAIN");
    assert!(c.line().starts_with("+"));
    let mut big = vec![b'A'; 1 << 20];
    big.extend_from_slice(b"\r\n");
    c.send_raw(&big);
    let reply = c.until("a ").pop().unwrap();
    assert!(reply.starts_with("a BAD "), "{reply}");
    c.send(&format!("b LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("b ").pop().unwrap().starts_with("b OK"));
}

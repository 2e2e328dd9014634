//! TLS session resumption works whichever shard a connection lands on.
//! The kernel spreads connections over the shards (SO_REUSEPORT), so a
//! ticket issued by one shard is usually presented to another; if only the
//! issuing shard could honour it, about half of all reconnects would pay
//! for a full handshake.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::{DEMO_PASS, DEMO_USER, Options, Server};
use rustls::HandshakeKind;

/// One implicit-TLS IMAP session (greeting, LOGIN, LOGOUT); returns how its
/// handshake went.
fn session(port: u16, cfg: &Arc<rustls::ClientConfig>) -> HandshakeKind {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let conn = rustls::ClientConnection::new(cfg.clone(), "localhost".try_into().unwrap()).unwrap();
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, tcp));
    let mut line = String::new();
    let mut next = |tls: &mut BufReader<rustls::StreamOwned<_, _>>| {
        line.clear();
        tls.read_line(&mut line).unwrap();
        line.clone()
    };
    assert!(next(&mut tls).starts_with("* OK"));
    let kind = tls.get_ref().conn.handshake_kind().unwrap();
    // LOGIN moves the connection to the user's shard half of the time; a
    // resumed session must survive that like a full one.
    write!(
        tls.get_mut(),
        "a LOGIN {DEMO_USER} {DEMO_PASS}\r\nb LOGOUT\r\n"
    )
    .unwrap();
    tls.get_mut().flush().unwrap();
    let mut seen = Vec::new();
    loop {
        let l = next(&mut tls);
        if l.is_empty() || l.starts_with("b ") {
            seen.push(l);
            break;
        }
        seen.push(l);
    }
    assert!(
        seen.iter().any(|l| l.starts_with("a OK")),
        "login: {seen:?}"
    );
    assert!(
        seen.last().is_some_and(|l| l.starts_with("b OK")),
        "logout: {seen:?}"
    );
    kind
}

#[test]
fn every_reconnect_resumes_whichever_shard_accepts_it() {
    let srv = Server::start(Options {
        shards: 2,
        ..Options::default()
    });
    // One client configuration = one client-side ticket store, as a mail
    // client reconnecting to its server.
    let cfg = srv.tls_config();
    assert_eq!(session(srv.imaps.port, &cfg), HandshakeKind::Full);
    let kinds: Vec<HandshakeKind> = (0..24).map(|_| session(srv.imaps.port, &cfg)).collect();
    let full = kinds
        .iter()
        .filter(|k| **k != HandshakeKind::Resumed)
        .count();
    assert_eq!(full, 0, "reconnects that did not resume: {kinds:?}");
}

//! The foundation issue's end-to-end checks against the real binary:
//! implicit TLS and STARTTLS on every protocol, connections spread over
//! both shards, login handoff to the owner shard, plaintext refusal,
//! graceful shutdown and certificate reload.

mod common;

use std::time::Duration;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server, plain_pair};

fn imap_login(c: &mut Client, user: &str, pass: &str) -> String {
    c.send(&format!("a1 LOGIN {user} {pass}"));
    c.until("a1 ").pop().unwrap()
}

#[test]
fn implicit_tls_on_imaps_and_pop3s_spreads_over_both_shards() {
    let srv = Server::start(Options::default());
    let cfg = srv.tls_config();
    let mut handles = Vec::new();
    for (port, imap) in [(srv.imaps.port, true), (srv.pop3s.port, false)] {
        for _ in 0..4 {
            let cfg = cfg.clone();
            handles.push(std::thread::spawn(move || {
                for _ in 0..50 {
                    let mut c = Client::tls(port, cfg.clone());
                    let greeting = c.line();
                    if imap {
                        assert!(
                            greeting.starts_with("* OK [CAPABILITY IMAP4rev1"),
                            "{greeting}"
                        );
                        assert!(!greeting.contains("STARTTLS"), "no STARTTLS inside TLS");
                        assert!(greeting.contains("AUTH=PLAIN"), "{greeting}");
                        let r = imap_login(&mut c, DEMO_USER, DEMO_PASS);
                        assert!(r.starts_with("a1 OK"), "{r}");
                        c.send("a2 LOGOUT");
                        assert!(c.until("a2 ").pop().unwrap().starts_with("a2 OK"));
                    } else {
                        assert!(greeting.starts_with("+OK"), "{greeting}");
                        c.send(&format!("USER {DEMO_USER}"));
                        assert!(c.line().starts_with("+OK"));
                        c.send(&format!("PASS {DEMO_PASS}"));
                        let r = c.line();
                        assert!(r.starts_with("+OK"), "{r}");
                        c.send("QUIT");
                        assert!(c.line().starts_with("+OK"));
                    }
                }
            }));
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    // Every login logs the shard that accepted it; both must have served.
    std::thread::sleep(Duration::from_millis(200));
    let log = srv.log_text();
    let logins = |proto: &str, shard: usize| {
        log.lines()
            .filter(|l| {
                l.contains(&format!("{proto}-login: Login"))
                    && l.contains(&format!("shard={shard}"))
            })
            .count()
    };
    for proto in ["imap", "pop3"] {
        let (a, b) = (logins(proto, 0), logins(proto, 1));
        assert_eq!(a + b, 200, "{proto}: {a} + {b} logins\n{log}");
        assert!(a > 0 && b > 0, "{proto}: shard 0 got {a}, shard 1 got {b}");
    }
    // The user lives on one shard: logins accepted elsewhere were handed off.
    assert!(log.contains("handed off"), "no handoff happened:\n{log}");
}

#[test]
fn starttls_on_imap_and_stls_on_pop3() {
    let srv = Server::start(Options::default());
    let cfg = srv.tls_config();

    let (mut c, tcp) = plain_pair(srv.imap.port);
    let g = c.line();
    assert!(g.contains("STARTTLS") && g.contains("LOGINDISABLED"), "{g}");
    // Plaintext login is refused before TLS.
    let r = imap_login(&mut c, DEMO_USER, DEMO_PASS);
    assert!(r.starts_with("a1 NO [PRIVACYREQUIRED]"), "{r}");
    c.send("s1 STARTTLS");
    assert!(c.line().starts_with("s1 OK"));
    let mut c = c.upgrade(cfg.clone(), tcp);
    c.send("c1 CAPABILITY");
    let caps = c.until("c1 ");
    assert!(
        caps[0].contains("AUTH=PLAIN") && !caps[0].contains("STARTTLS"),
        "{caps:?}"
    );
    assert!(imap_login(&mut c, DEMO_USER, DEMO_PASS).starts_with("a1 OK"));

    let (mut c, tcp) = plain_pair(srv.pop3.port);
    assert!(c.line().starts_with("+OK"));
    c.send("USER alice");
    assert!(
        c.line().starts_with("-ERR [AUTH]"),
        "USER refused before STLS"
    );
    c.send("CAPA");
    let capa = c.until(".");
    assert!(capa.iter().any(|l| l == "STLS"), "{capa:?}");
    c.send("STLS");
    assert!(c.line().starts_with("+OK"));
    let mut c = c.upgrade(cfg, tcp);
    c.send(&format!("USER {DEMO_USER}"));
    assert!(c.line().starts_with("+OK"));
    c.send(&format!("PASS {DEMO_PASS}"));
    assert!(c.line().starts_with("+OK"));
}

#[test]
fn wrong_password_is_refused_and_lmtp_greets() {
    let srv = Server::start(Options::default());
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    c.line();
    let r = imap_login(&mut c, DEMO_USER, "wrong");
    assert!(r.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{r}");
    let r = imap_login(&mut c, "../etc", "x");
    assert!(r.starts_with("a1 NO"), "{r}");
    // SASL PLAIN with an initial response (SASL-IR)
    c.send("a2 AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=");
    let r = c.until("a2 ").pop().unwrap();
    assert!(r.starts_with("a2 OK"), "{r}");

    let mut l = Client::plain(srv.lmtp.port);
    assert!(l.line().starts_with("220 "));
    l.send("LHLO client.example");
    let caps = l.until("250 ");
    assert!(caps.iter().any(|x| x.contains("PIPELINING")), "{caps:?}");
    l.send("QUIT");
    assert!(l.line().starts_with("221"));
}

#[test]
fn sigterm_with_open_connections_exits_cleanly() {
    let mut srv = Server::start(Options::default());
    let cfg = srv.tls_config();
    let mut clients = Vec::new();
    for i in 0..100 {
        let mut c = if i % 2 == 0 {
            Client::tls(srv.imaps.port, cfg.clone())
        } else {
            Client::tls(srv.pop3s.port, cfg.clone())
        };
        c.line();
        clients.push((i % 2 == 0, c));
    }
    srv.signal(libc::SIGTERM);
    for (imap, c) in clients.iter_mut() {
        let l = c.line();
        if *imap {
            assert!(l.starts_with("* BYE"), "{l}");
        } else {
            assert!(l.starts_with("-ERR [SYS/TEMP]"), "{l}");
        }
        assert!(c.at_eof());
    }
    assert_eq!(srv.wait_exit(Duration::from_secs(15)), Some(0));
}

/// The certificate the server presents, if a client trusting `cfg`'s CA
/// completes the handshake.
fn peer_cert(port: u16, cfg: std::sync::Arc<rustls::ClientConfig>) -> Option<Vec<u8>> {
    use std::io::Read;
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let conn = rustls::ClientConnection::new(cfg, "localhost".try_into().ok()?).ok()?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    let mut b = [0u8; 1];
    s.read_exact(&mut b).ok()?;
    Some(s.conn.peer_certificates()?[0].to_vec())
}

#[test]
fn sighup_swaps_the_certificate_and_keeps_sessions() {
    let srv = Server::start(Options::default());
    let old_cfg = srv.tls_config();
    let mut old = Client::tls(srv.imaps.port, old_cfg.clone());
    old.line();
    let before = peer_cert(srv.imaps.port, old_cfg.clone()).expect("old certificate served");

    // a user added to the passwd-file can log in only after the reload
    let users = srv.dir.path().join("users");
    let mut text = std::fs::read_to_string(&users).unwrap();
    text.push_str("carol:{PLAIN}newpass::::::\n");
    std::fs::write(&users, text).unwrap();

    let new = common::make_cert();
    std::fs::write(srv.dir.path().join("cert.pem"), &new.cert_pem).unwrap();
    std::fs::write(srv.dir.path().join("key.pem"), &new.key_pem).unwrap();
    srv.signal(libc::SIGHUP);
    let new_cfg = common::client_config(&new.cert_pem);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        if let Some(c) = peer_cert(srv.imaps.port, new_cfg.clone()) {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "new certificate never served"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_ne!(before, after);
    let mut c = Client::tls(srv.imaps.port, new_cfg.clone());
    c.line();
    assert!(imap_login(&mut c, "carol", "newpass").starts_with("a1 OK"));
    // the session opened before the reload still works
    old.send("n1 NOOP");
    assert!(old.line().starts_with("n1 OK"));
}

#[test]
fn python_ssl_verifies_the_chain_and_old_tls_is_refused() {
    let Some(py) = common::python3() else {
        panic!("python3 is required for this test");
    };
    let srv = Server::start(Options::default());
    let ca = srv.dir.path().join("cert.pem");
    let script = r#"
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection(("127.0.0.1", port)) as s:
    with ctx.wrap_socket(s, server_hostname="localhost") as t:
        assert t.recv(100).startswith(b"* OK"), "greeting"
        print("verified", t.version())
for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    try:
        c.set_ciphers("ALL:@SECLEVEL=0")
        c.minimum_version = v
        c.maximum_version = v
    except (ValueError, ssl.SSLError):
        print("refused", v.name, "(client cannot even offer it)")
        continue
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            with c.wrap_socket(s) as t:
                t.recv(10)
        print("ACCEPTED", v.name)
        sys.exit(1)
    except (ssl.SSLError, ConnectionResetError, OSError):
        print("refused", v.name)
"#;
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(srv.imaps.port.to_string())
        .arg(&ca)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("verified TLSv1.3"), "{stdout}");
    assert!(
        stdout.contains("refused TLSv1\n") || stdout.contains("refused TLSv1 "),
        "{stdout}"
    );
    assert!(stdout.contains("refused TLSv1_1"), "{stdout}");
}

#[test]
fn lmtp_answers_on_its_default_unix_socket() {
    use std::io::{BufRead, BufReader, Write};
    let srv = Server::start(Options::default());
    // Dovecot's default `unix_listener lmtp` lives in base_dir.
    let path = srv.dir.path().join("run/lmtp");
    let s = std::os::unix::net::UnixStream::connect(&path).expect("lmtp socket");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("220 "), "{line}");
    w.write_all(b"LHLO mta.example\r\n").unwrap();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line.starts_with("250 ") {
            break;
        }
        assert!(line.starts_with("250-"), "{line}");
    }
    w.write_all(b"QUIT\r\n").unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("221"), "{line}");
}

//! Large responses over TLS: one `queue` call far beyond rustls's internal
//! plaintext buffer (64 KiB) must arrive whole (a FETCH of a big message, a
//! POP3 RETR).

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use tern::net::Conn;
use tern::net::tls::{MinTls, TlsMaterial, server_config};

#[test]
fn four_megabytes_in_one_write_arrive_intact() {
    let cert = common::make_cert();
    let cfg = server_config(&TlsMaterial {
        cert_pem: cert.cert_pem.clone(),
        key_pem: cert.key_pem.clone(),
        client_ca_pem: None,
        min_version: MinTls::Tls12,
    })
    .unwrap();
    let payload: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    let expected = payload.clone();
    let (port_tx, port_rx) = mpsc::channel();
    let server = std::thread::spawn(move || {
        let ex = glommio::LocalExecutorBuilder::default().make().unwrap();
        ex.run(async move {
            let l = tern::net::listener::bind_tcp("127.0.0.1:0".parse().unwrap()).unwrap();
            port_tx.send(l.local_addr().unwrap().port()).unwrap();
            let s = l.accept().await.unwrap();
            let mut conn = Conn::tcp(s, Duration::from_secs(20));
            conn.accept_tls(cfg).await.unwrap();
            conn.write_all(&payload).await.unwrap();
            conn.close().await;
        });
    });
    let port = port_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let client = rustls::ClientConnection::new(
        common::client_config(&cert.cert_pem),
        "localhost".try_into().unwrap(),
    )
    .unwrap();
    let mut tls = rustls::StreamOwned::new(client, tcp);
    let mut got = Vec::new();
    let _ = tls.read_to_end(&mut got);
    server.join().unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "payload corrupted");
}

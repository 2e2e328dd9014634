//! The connection handoff primitive: live TLS connections move from the
//! shard that accepted them to another shard mid-conversation, with input
//! the client pipelined ahead, and nothing is lost or duplicated.

mod common;

use std::cell::Cell;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use tern::net::tls::{MinTls, TlsMaterial, server_config};
use tern::net::{Conn, ConnParts};
use tern::shard::runtime::{ShardSpec, spawn_shards};

const CONNS: usize = 100;
const LINES: usize = 20;
/// Lines answered on the accepting shard before the move.
const BEFORE_MOVE: usize = 3;

async fn echo(conn: &mut Conn, shard: usize, limit: usize) -> usize {
    let mut n = 0;
    while n < limit {
        let Ok(line) = conn.read_line(1024).await else {
            break;
        };
        let reply = format!("{shard}:{}\r\n", String::from_utf8_lossy(&line));
        if conn.write_all(reply.as_bytes()).await.is_err() {
            break;
        }
        n += 1;
    }
    n
}

#[test]
fn hundred_tls_connections_move_between_shards() {
    let cert = common::make_cert();
    let material = TlsMaterial {
        cert_pem: cert.cert_pem.clone(),
        key_pem: cert.key_pem.clone(),
        client_ca_pem: None,
        min_version: MinTls::Tls12,
    };
    let server_cfg = server_config(&material).unwrap();
    let (port_tx, port_rx) = mpsc::channel::<u16>();
    let port_tx = Arc::new(std::sync::Mutex::new(Some(port_tx)));
    let specs = (0..2)
        .map(|i| ShardSpec {
            index: i,
            cpu: None,
            io_memory: 256 << 10,
            ring_depth: 64,
            blocking_threads: 1,
        })
        .collect();
    let handles = spawn_shards::<ConnParts, _, _>(specs, 256, move |ctx, inbox| {
        let server_cfg = server_cfg.clone();
        let port_tx = port_tx.clone();
        async move {
            if ctx.index == 0 {
                let l = tern::net::listener::bind_tcp("127.0.0.1:0".parse().unwrap()).unwrap();
                let port = l.local_addr().unwrap().port();
                port_tx.lock().unwrap().take().unwrap().send(port).unwrap();
                let ctx2 = ctx.clone();
                let mut tasks = Vec::new();
                for _ in 0..CONNS {
                    let stream = l.accept().await.unwrap();
                    let cfg = server_cfg.clone();
                    let ctx = ctx2.clone();
                    tasks.push(glommio::spawn_local(async move {
                        let mut conn = Conn::tcp(stream, Duration::from_secs(30));
                        conn.accept_tls(cfg).await.unwrap();
                        assert_eq!(echo(&mut conn, 0, BEFORE_MOVE).await, BEFORE_MOVE);
                        let parts = conn.into_parts().await.unwrap();
                        assert!(ctx.send_to(1, parts).await.is_ok());
                    }));
                }
                for t in tasks {
                    t.await;
                }
            } else {
                let served = Rc::new(Cell::new(0usize));
                let mut tasks = Vec::new();
                for (_, rx) in inbox {
                    for _ in 0..CONNS {
                        let parts = rx.recv().await.unwrap();
                        let served = served.clone();
                        tasks.push(glommio::spawn_local(async move {
                            let mut conn = Conn::from_parts(parts);
                            let n = echo(&mut conn, 1, LINES - BEFORE_MOVE).await;
                            served.set(served.get() + n);
                            conn.close().await;
                        }));
                    }
                }
                for t in tasks {
                    t.await;
                }
                assert_eq!(served.get(), CONNS * (LINES - BEFORE_MOVE));
            }
        }
    })
    .unwrap();

    let port = port_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let client_cfg = common::client_config(&cert.cert_pem);
    let clients: Vec<_> = (0..CONNS)
        .map(|c| {
            let cfg = client_cfg.clone();
            std::thread::spawn(move || {
                let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let conn =
                    rustls::ClientConnection::new(cfg, "localhost".try_into().unwrap()).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                // Pipeline everything at once, so the move happens with
                // input already buffered on the accepting shard.
                let mut all = String::new();
                for i in 0..LINES {
                    all.push_str(&format!("c{c}-{i}\r\n"));
                }
                tls.write_all(all.as_bytes()).unwrap();
                tls.flush().unwrap();
                let mut r = BufReader::new(tls);
                for i in 0..LINES {
                    let mut line = String::new();
                    r.read_line(&mut line).unwrap();
                    let shard = if i < BEFORE_MOVE { 0 } else { 1 };
                    assert_eq!(line, format!("{shard}:c{c}-{i}\r\n"), "connection {c}");
                }
                let mut rest = String::new();
                assert_eq!(r.read_line(&mut rest).unwrap_or(0), 0, "nothing extra");
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    for h in handles {
        h.join().unwrap();
    }
}

//! A second server on ports that are already served must refuse to start:
//! tern's per-shard SO_REUSEPORT sockets would otherwise let it join the
//! port group and take a share of the first server's connections.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, Options, Server};

#[test]
fn second_server_on_the_same_ports_refuses_to_start() {
    let srv = Server::start(Options::default());
    let conf = srv.dir.path().join("tern.conf");
    let mut second = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["-c", conf.to_str().unwrap(), "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(st) = second.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second server kept running on ports the first one serves");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    use std::io::Read;
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!status.success(), "second server exited with {status}");
    assert!(err.contains("in use"), "stderr: {err}");
    // The first server is untouched.
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
}

/// The same for a unix socket (as a system Dovecot's `/run/dovecot/lmtp`
/// would be when tern runs without `base_dir`): a socket someone answers
/// on is not replaced; the server refuses to start and the first one keeps
/// its socket.
#[test]
fn a_unix_socket_another_process_serves_is_not_taken_over() {
    let srv = Server::start(Options::default());
    let run = srv.dir.path().join("run");
    let socket = run.join("lmtp");
    assert!(std::os::unix::net::UnixStream::connect(&socket).is_ok());
    let conf = srv.dir.path().join("second.conf");
    std::fs::write(
        &conf,
        format!(
            "protocols = lmtp\nshards = 1\nssl = no\nbase_dir = {}\n\
             mail_location = sdbox:{}/mail/%n\n\
             service lmtp {{\n  inet_listener lmtp {{\n    port = 0\n  }}\n}}\n",
            run.display(),
            srv.dir.path().display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["-c", conf.to_str().unwrap(), "serve"])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("served by another running process"),
        "stderr: {err}"
    );
    // The first server still answers on its socket.
    let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    let mut greeting = [0u8; 4];
    use std::io::Read;
    s.read_exact(&mut greeting).unwrap();
    assert_eq!(&greeting, b"220 ");
}

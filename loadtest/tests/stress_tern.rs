//! The `stress` scenario for 5 s against a real tern (the workspace's
//! `tern` binary, started on a loopback port with a temporary sdbox
//! store): sessions share mailboxes, drop connections mid-APPEND, and every
//! response is checked against the client's model. Zero violations, zero
//! unexpected disconnects, zero refused commands.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use tern_loadtest::args::Cli;

/// A directory removed, and a server killed, when the test ends.
struct Tern {
    dir: PathBuf,
    child: Child,
    port: u16,
}

impl Drop for Tern {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `tern` binary next to this test's directory (target/<profile>/).
fn tern_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let bin = profile_dir.join("tern");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build --bin tern)",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn start_tern(users: u32) -> Tern {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "tern-loadtest-stress-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut passwd = String::new();
    for i in 1..=users {
        passwd.push_str(&format!("testuser{i}:{{PLAIN}}pass::::::\n"));
    }
    std::fs::write(dir.join("users"), passwd).expect("users");
    let port = free_port();
    let base = dir.display();
    let conf = format!(
        "protocols = imap\nlisten = 127.0.0.1\nshards = 2\nssl = no\n\
         disable_plaintext_auth = no\nbase_dir = {base}/run\n\
         mail_location = sdbox:{base}/mail/%n\n\
         passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {base}/users\n}}\n\
         userdb {{\n  driver = static\n  args = home={base}/mail/%n\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n}}\n"
    );
    std::fs::write(dir.join("tern.conf"), conf).expect("config");
    let child = Command::new(tern_binary())
        .arg("serve")
        .arg("-c")
        .arg(dir.join("tern.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tern");
    let tern = Tern { dir, child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tern did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    tern
}

#[test]
fn stress_against_tern_finds_nothing() {
    let tern = start_tern(8);
    let port = tern.port.to_string();
    let settings = Cli::try_parse_from([
        "tern-loadtest",
        "stress",
        "--port",
        &port,
        "--users",
        "1-8",
        "--clients",
        "16",
        "--threads",
        "1",
        "--duration",
        "5s",
        "--seed",
        "7",
        "--quiet",
    ])
    .expect("arguments")
    .into_settings()
    .expect("settings");
    let out = tern_loadtest::run(settings).expect("run");
    let s = &out.stats;
    assert_eq!(s.errors("violation"), 0, "{:?}", s.first_errors);
    assert_eq!(s.errors("disconnect"), 0, "{:?}", s.first_errors);
    assert_eq!(s.errors("refused"), 0, "{:?}", s.first_errors);
    assert_eq!(s.total_errors(), 0, "{:?}", s.first_errors);
    // It did work: sessions, shared mailboxes, cut APPENDs.
    assert!(s.count("login") > 20, "{} logins", s.count("login"));
    for op in [
        "fetch",
        "store",
        "append",
        "expunge",
        "copy",
        "drop-in-append",
    ] {
        assert!(s.count(op) > 0, "no {op} ran");
    }
    assert!(out.summary.table().contains("stress violations: 0"));
}

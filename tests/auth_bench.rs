//! Benchmark, not a timed test (run by hand, as root):
//! `cargo test --test auth_bench -- --ignored --nocapture`
//!
//! 200 parallel wrong logins for one user from one IP, while another user
//! logs in from another IP: prints that user's login latency (p50/p99)
//! before and during the storm, and how many PAM conversations the storm
//! cost (the auth cache and the in-flight table should make it one).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Options, Server};

fn run(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

fn connect_from(ip: &str, port: u16) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(
        &format!("{ip}:0")
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    s.connect(
        &format!("127.0.0.1:{port}")
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    let s: TcpStream = s.into();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

/// One plaintext IMAP LOGIN; returns (tagged reply, time from LOGIN to reply).
fn login(ip: &str, port: u16, user: &str, pw: &str) -> (String, Duration) {
    let s = connect_from(ip, port);
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let t = Instant::now();
    (&s).write_all(format!("a LOGIN {user} {pw}\r\n").as_bytes())
        .unwrap();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line.starts_with("a ") {
            return (line.trim_end().to_string(), t.elapsed());
        }
    }
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let p = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    (p(0.5), p(0.99))
}

fn measure(port: u16, user: &str, n: usize) -> (Duration, Duration) {
    let mut times = Vec::new();
    for _ in 0..n {
        let (reply, t) = login("127.0.0.2", port, user, "Good-Pass-1");
        assert!(reply.starts_with("a OK"), "{reply}");
        times.push(t);
    }
    percentiles(times)
}

#[test]
#[ignore = "benchmark: run by hand as root"]
fn storm_of_wrong_logins_vs_other_users() {
    common::require_root("it writes /etc/pam.d and creates users");
    let pid = std::process::id();
    let service = format!("tern-bench-{pid}");
    let pam_file = format!("/etc/pam.d/{service}");
    std::fs::write(
        &pam_file,
        "auth required pam_unix.so\naccount required pam_unix.so\n",
    )
    .unwrap();
    let (good, victim) = (format!("bg{pid}"), format!("bv{pid}"));
    struct Cleanup(Vec<String>, String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            for u in &self.0 {
                let _ = run("userdel", &["-f", u]);
            }
            let _ = std::fs::remove_file(&self.1);
        }
    }
    let _cleanup = Cleanup(vec![good.clone(), victim.clone()], pam_file);
    for u in [&good, &victim] {
        assert!(run("useradd", &["-M", "-s", "/usr/sbin/nologin", u]));
        let mut c = Command::new("chpasswd")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(c.stdin.take().unwrap(), "{u}:Good-Pass-1").unwrap();
        assert!(c.wait().unwrap().success());
    }
    let srv = Server::start(Options {
        disable_plaintext_auth: false,
        auth_blocks: Some(format!(
            "first_valid_uid = 1000\nauth_cache_size = 1M\nauth_cache_negative_ttl = 1 hour\npassdb {{\n  driver = pam\n  args = {service}\n}}\nuserdb {{\n  driver = passwd\n  override_fields = uid=nobody gid=nogroup home=/tmp/tern-bench/%n\n}}\n"
        )),
        ..Options::default()
    });
    let port = srv.imap.port;
    let (b50, b99) = measure(port, &good, 100);
    println!("baseline: p50 {b50:?} p99 {b99:?}");

    let storm_user = victim.clone();
    let storm: Vec<_> = (0..200)
        .map(|_| {
            let u = storm_user.clone();
            std::thread::spawn(move || login("127.0.0.3", port, &u, "Wrong-Guess"))
        })
        .collect();
    let started = Instant::now();
    let (s50, s99) = measure(port, &good, 100);
    println!(
        "during the storm: p50 {s50:?} p99 {s99:?} (measured over {:?})",
        started.elapsed()
    );
    let mut refused = 0;
    for t in storm {
        let (reply, _) = t.join().unwrap();
        refused += usize::from(reply.starts_with("a NO"));
    }
    println!(
        "storm: {refused}/200 refused, done after {:?}",
        started.elapsed()
    );
    let log = srv.log_text();
    let pam_calls = log
        .lines()
        .filter(|l| l.contains(&format!("pam({victim},127.0.0.3)")))
        .count();
    let cached = log
        .lines()
        .filter(|l| l.contains(&format!("cache({victim},127.0.0.3)")))
        .count();
    println!("storm: {pam_calls} PAM conversation(s), {cached} answered from the cache");
    assert_eq!(refused, 200);
    assert_eq!(pam_calls, 1, "{log}");
}

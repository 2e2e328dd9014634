//! What ships in `contrib/`: the systemd unit passes `systemd-analyze
//! verify`, the logrotate snippet rotates a running server's log with no
//! line lost (its postrotate signal reopens the file), and the example
//! `/etc/tern` tree loads.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server, TempDir, require_program};

fn contrib(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path)
}

#[test]
fn systemd_unit_passes_systemd_analyze_verify() {
    require_program("systemd-analyze", "systemd");
    let unit = fs::read_to_string(contrib("tern.service")).unwrap();
    assert!(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));
    assert!(unit.contains("Type=notify"));
    assert!(unit.contains("LimitNOFILE=") && unit.contains("LimitMEMLOCK="));
    // verify checks that ExecStart's program exists: point it at the
    // binary under test instead of /usr/local/bin/tern.
    let dir = TempDir::new("unit");
    let path = dir.path().join("tern.service");
    fs::write(
        &path,
        unit.replace("/usr/local/bin/tern", env!("CARGO_BIN_EXE_tern")),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Lines about the host's other units (systemd-analyze loads the
    // defaults too) are not this unit's business.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("tern.service"))
        .collect();
    assert!(
        out.status.success() && ours.is_empty(),
        "systemd-analyze verify failed:\n{stderr}"
    );
}

#[test]
fn tern_tells_systemd_it_is_ready() {
    // Type=notify needs READY=1 on $NOTIFY_SOCKET once the listeners are
    // bound; a unix datagram socket stands in for systemd.
    let dir = TempDir::new("notify");
    let sock_path = dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let port = common::free_port();
    let conf = dir.path().join("tern.conf");
    fs::write(
        &conf,
        format!(
            "protocols = imap\nlisten = 127.0.0.1\nshards = 1\nssl = no\nbase_dir = {base}/run\n\
             mail_location = sdbox:{base}/mail/%n\n\
             passdb {{\n  driver = static\n  args = password=x\n}}\n\
             userdb {{\n  driver = static\n  args = home={base}/mail/%n\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n",
            base = dir.path().display(),
            port = port.port
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("-c")
        .arg(&conf)
        .arg("serve")
        .env("NOTIFY_SOCKET", &sock_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 512];
    let got = sock.recv(&mut buf);
    // Bound before READY=1: a client connects at once.
    let connected = std::net::TcpStream::connect(("127.0.0.1", port.port)).is_ok();
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let stopping = sock.recv(&mut [0u8; 512]).map(|n| n > 0);
    let _ = child.wait();
    let text = String::from_utf8_lossy(&buf[..got.expect("a notification")]).into_owned();
    assert!(text.lines().any(|l| l == "READY=1"), "{text}");
    assert!(text.contains(&format!("MAINPID={}", child.id())), "{text}");
    assert!(connected, "READY=1 came before the listener was bound");
    assert!(stopping.unwrap_or(false), "no STOPPING=1 at SIGTERM");
}

fn wait_for(path: &Path, needle: &str) -> String {
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

/// One IMAPS login and logout (port and TLS settings only: the server's
/// log receiver cannot be shared with a second thread).
fn login((port, tls): &(u16, std::sync::Arc<rustls::ClientConfig>)) {
    let mut c = Client::tls(*port, tls.clone());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    c.send("z LOGOUT");
    let _ = c.until("z ");
}

const LOGIN_LINE: &str = "imap-login: Login";

#[test]
fn logrotate_snippet_rotates_and_the_reopen_keeps_every_line() {
    require_program("logrotate", "logrotate");
    let logs = TempDir::new("rotate");
    let log = logs.path().join("tern.log");
    let srv = Server::start(Options {
        extra_config: format!("log_path = {}\n", log.display()),
        ..Options::default()
    });
    // The shipped snippet, for this log and this process: only the path,
    // the owner and the signal's target differ.
    let snippet = fs::read_to_string(contrib("logrotate/tern")).unwrap();
    assert!(snippet.contains("--signal=USR1"), "{snippet}");
    let snippet = snippet
        .replace("/var/log/tern/*.log", &log.display().to_string())
        .replace(
            "systemctl kill --kill-whom=main --signal=USR1 tern.service",
            &format!("kill -USR1 {}", srv.pid()),
        )
        .replace("create 0640 root adm", "create 0640");
    let conf = logs.path().join("logrotate.conf");
    fs::write(&conf, snippet).unwrap();

    // Logins before, during and after the rotation: each one's line must
    // be in one of the two files.
    let target = (srv.imaps.port, srv.tls_config());
    for _ in 0..10 {
        login(&target);
    }
    std::thread::scope(|s| {
        let during = s.spawn(|| {
            for _ in 0..10 {
                login(&target);
            }
        });
        let out = Command::new("logrotate")
            .arg("-f")
            .arg("-s")
            .arg(logs.path().join("state"))
            .arg(&conf)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "logrotate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        during.join().unwrap();
    });
    wait_for(&log, "log files reopened");
    for _ in 0..10 {
        login(&target);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let (old, fresh) = loop {
        let old = fs::read_to_string(logs.path().join("tern.log.1")).expect("the rotated file");
        let fresh = fs::read_to_string(&log).unwrap_or_default();
        let total = old.matches(LOGIN_LINE).count() + fresh.matches(LOGIN_LINE).count();
        if total >= 30 || Instant::now() > deadline {
            break (old, fresh);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        old.matches(LOGIN_LINE).count() + fresh.matches(LOGIN_LINE).count(),
        30,
        "--- rotated:\n{old}\n--- new:\n{fresh}"
    );
    assert!(old.matches(LOGIN_LINE).count() >= 10, "{old}");
    let after_reopen = fresh
        .split_once("log files reopened")
        .map_or("", |(_, rest)| rest);
    assert!(after_reopen.matches(LOGIN_LINE).count() >= 10, "{fresh}");
    assert!(!old.contains("log files reopened"), "{old}");
}

#[test]
fn example_etc_tern_tree_loads() {
    // The tree as shipped, with its certificate paths pointing at a test
    // certificate (config loading reads `ssl_cert = <file`).
    let dir = TempDir::new("etc-tern");
    let src = contrib("etc-tern");
    let root = dir.path().display().to_string();
    fs::create_dir_all(dir.path().join("conf.d")).unwrap();
    for entry in fs::read_dir(src.join("conf.d")).unwrap() {
        let entry = entry.unwrap();
        let text = fs::read_to_string(entry.path()).unwrap();
        fs::write(
            dir.path().join("conf.d").join(entry.file_name()),
            text.replace("/etc/tern", &root),
        )
        .unwrap();
    }
    fs::copy(src.join("tern.conf"), dir.path().join("tern.conf")).unwrap();
    let cert = common::make_cert();
    fs::create_dir_all(dir.path().join("tls")).unwrap();
    fs::write(dir.path().join("tls/server.crt"), cert.cert_pem).unwrap();
    fs::write(dir.path().join("tls/server.key"), cert.key_pem).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("-c")
        .arg(dir.path().join("tern.conf"))
        .args(["config", "-n"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "base_dir = /run/tern/",
        "mail_location = sdbox:/var/mail/%n/",
        "ssl = required",
        "driver = pam",
        "unix_listener /var/spool/postfix/private/dovecot-lmtp {",
        "pop3_uidl_format = %08Xu%08Xv",
    ] {
        assert!(stdout.contains(want), "no {want:?} in:\n{stdout}");
    }
}

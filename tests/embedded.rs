//! `tern serve` with no configuration: the embedded default creates its data
//! directory and serves the demo user on the fixed loopback ports. Run as an
//! unprivileged user when the tests run as root, since that is how people
//! try it out (locked-memory limit of a few MiB, no privileges).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Client, TempDir};

#[test]
fn embedded_default_serves_the_demo_user() {
    let dir = TempDir::new("embedded");
    let as_root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if as_root {
        // The unprivileged user must be able to enter the directory.
        let nobody_ok = Command::new("chown")
            .arg("nobody")
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(nobody_ok, "chown nobody failed");
        // setpriv execs the server directly, so signals reach it.
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_tern"))
            .arg("serve")
            .current_dir(dir.path());
        c
    } else {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tern"));
        c.arg("serve").current_dir(dir.path());
        c
    };
    let mut child = cmd
        .env_remove("TERN_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut table = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let done = line.contains("tern: ready");
        table.push(line);
        if done {
            break;
        }
    }
    let text = table.join("\n");
    assert!(text.contains("tern: ready"), "no ready line:\n{text}");
    for port in ["10143", "10993", "10110", "10995", "10024"] {
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{port} missing:\n{text}");
    }
    let password = text
        .lines()
        .find_map(|l| l.split("password: ").nth(1))
        .expect("demo password printed")
        .trim()
        .to_string();
    let cert = std::fs::read_to_string(dir.path().join("tern-data/tern-cert.pem")).unwrap();
    let mut c = Client::tls(10993, common::client_config(&cert));
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN demo {password}"));
    let r = c.until("a ").pop().unwrap();
    assert!(r.starts_with("a OK"), "{r}");

    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let t = std::time::Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "exit status {st:?}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(15), "did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!err.contains("WARN"), "start-up was not clean:\n{err}");
}

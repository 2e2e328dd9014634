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
        assert!(
            text.contains(&format!("127.0.0.1:{port}")),
            "{port} missing:\n{text}"
        );
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
    // The plaintext listeners say that loopback clients need no TLS.
    assert!(text.contains("(after STARTTLS*)"), "{text}");
    assert!(text.contains("from the server's own address"), "{text}");
    // The printed load test line works as printed (shortened to a few
    // logins on one thread).
    run_printed_loadtest_line(&text, &password);

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

fn run_printed_loadtest_line(table: &str, password: &str) {
    use clap::Parser;
    let line = table
        .lines()
        .find(|l| l.contains("cargo run --release -p tern-loadtest --"))
        .unwrap_or_else(|| panic!("no tern-loadtest line:\n{table}"));
    let printed: Vec<&str> = line
        .split_once(" -- ")
        .expect("arguments after --")
        .1
        .split_whitespace()
        .collect();
    assert!(
        printed
            .windows(4)
            .any(|w| w == ["--user", "demo", "--password", password]),
        "{line}"
    );
    let mut args = vec!["tern-loadtest"];
    let mut words = printed.iter();
    while let Some(w) = words.next() {
        if *w == "--clients" || *w == "--duration" {
            words.next();
            continue;
        }
        args.push(*w);
    }
    args.extend([
        "--clients",
        "2",
        "--threads",
        "1",
        "--warmup",
        "0s",
        "--duration",
        "30s",
        "--max-ops",
        "20",
        "--quiet",
    ]);
    let settings = tern_loadtest::args::Cli::try_parse_from(&args)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .into_settings()
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    let out = tern_loadtest::run(settings).expect("load test ran");
    assert_eq!(
        out.stats.total_errors(),
        0,
        "errors: {:?}",
        out.stats.first_errors
    );
    assert!(out.stats.count("login") >= 20, "{}", out.summary.table());
}

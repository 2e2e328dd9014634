//! The OpenMetrics endpoint (`service stats { inet_listener http }`):
//! scraped over real HTTP, parsed by Python's `prometheus_client` (its
//! strict OpenMetrics parser and its classic text parser), and its counters
//! move as a scripted IMAP and LMTP session runs.

mod common;
mod pop3_support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server, free_port, require_program};
use pop3_support::Lmtp;

/// Prints `name|k=v,…|value` for every sample; fails on anything either
/// parser rejects.
const PARSE: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as classic
text = sys.stdin.read()
list(classic(text))
for family in openmetrics(text):
    for s in family.samples:
        labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))
        print(f'{s.name}|{labels}|{s.value}')
"#;

/// One HTTP request on a fresh connection; returns (status line, headers, body).
fn http_get(port: u16, path: &str) -> (String, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: application/openmetrics-text; version=1.0.0,text/plain;q=0.5\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_string(), body.to_string())
}

fn parse(body: &str) -> HashMap<String, f64> {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PARSE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client rejected the exposition: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (key, value) = l.rsplit_once('|')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn scrape(port: u16) -> HashMap<String, f64> {
    let (status, headers, body) = http_get(port, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK", "{headers}\n{body}");
    assert!(
        headers.contains("Content-Type: application/openmetrics-text; version=1.0.0"),
        "{headers}"
    );
    parse(&body)
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    *m.get(key)
        .unwrap_or_else(|| panic!("no sample {key}; have:\n{:#?}", m.keys()))
}

#[test]
fn metrics_endpoint_parses_and_its_counters_follow_a_session() {
    require_program("python3", "python3");
    let check = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .unwrap();
    assert!(
        check.success(),
        "Python's prometheus_client is required (pip install prometheus_client; scripts/test-all.sh installs it)"
    );
    let stats = free_port();
    let srv = Server::start(Options {
        extra_config: format!(
            "service stats {{\n  inet_listener http {{\n    address = 127.0.0.1\n    port = {}\n  }}\n}}\n\
             protocol lmtp {{\n  auth_username_format = %Ln\n}}\n",
            stats.port
        ),
        ..Options::default()
    });
    let before = scrape(stats.port);
    assert_eq!(get(&before, "tern_build_info|version=0.1.0"), 1.0);
    for shard in ["0", "1"] {
        get(&before, &format!("tern_shard_sessions|shard={shard}"));
    }
    assert!(get(&before, "process_resident_memory_bytes|") > 1e6);
    assert!(get(&before, "process_open_fds|") > 3.0);

    // A failed login in plaintext (loopback: Dovecot's same-IP rule).
    let mut c = Client::plain(srv.imap.port);
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} wrong"));
    assert!(c.until("a ").pop().unwrap().starts_with("a NO"));
    c.send("b LOGOUT");
    let _ = c.until("b ");
    // One delivery over LMTP.
    let mut l = Lmtp::connect(srv.lmtp.port);
    let (_, data) = l.deliver(
        "sender@example.org",
        &["alice@localhost"],
        "Subject: counted\r\n\r\nbody\r\n",
    );
    assert!(data[0].starts_with("250"), "{data:?}");
    l.quit();
    // A logged-in IMAPS session.
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    c.send("b SELECT INBOX");
    assert!(c.until("b ").pop().unwrap().starts_with("b OK"));
    c.send("c UID FETCH 1:* (FLAGS BODY.PEEK[])");
    assert!(c.until("c ").pop().unwrap().starts_with("c OK"));
    c.send("d LOGOUT");
    let _ = c.until("d ");

    let after = scrape(stats.port);
    let delta = |key: &str| get(&after, key) - get(&before, key);
    assert_eq!(delta("tern_connections_total|protocol=imap,tls=no"), 1.0);
    assert_eq!(delta("tern_connections_total|protocol=imap,tls=yes"), 1.0);
    assert_eq!(delta("tern_connections_total|protocol=lmtp,tls=no"), 1.0);
    assert_eq!(delta("tern_logins_total|protocol=imap"), 1.0);
    assert_eq!(
        delta("tern_login_failures_total|protocol=imap,reason=auth_failed"),
        1.0
    );
    for command in ["SELECT", "UID FETCH", "LOGOUT"] {
        assert_eq!(
            get(
                &after,
                &format!("tern_imap_command_duration_seconds_count|command={command}")
            ),
            1.0,
            "{command}"
        );
        assert_eq!(
            get(
                &after,
                &format!("tern_imap_command_duration_seconds_bucket|command={command},le=+Inf")
            ),
            1.0
        );
    }
    assert_eq!(delta("tern_lmtp_deliveries_total|result=delivered"), 1.0);
    assert_eq!(
        delta("tern_auth_request_duration_seconds_count|kind=passdb"),
        2.0
    );
    // The IMAP login's and the LMTP recipient's lookups.
    assert!(delta("tern_auth_request_duration_seconds_count|kind=userdb") >= 2.0);
    for p in ["imap", "lmtp"] {
        assert!(delta(&format!("tern_received_bytes_total|protocol={p}")) > 20.0);
        assert!(delta(&format!("tern_sent_bytes_total|protocol={p}")) > 50.0);
    }

    let (status, _, _) = http_get(stats.port, "/");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}

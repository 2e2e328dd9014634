//! curl (libcurl's IMAP client) lists and fetches over imaps.

mod common;

use std::process::Command;

use common::{DEMO_PASS, DEMO_USER, Options, Server};

fn curl(srv: &Server, path: &str, extra: &[&str]) -> (bool, String, String) {
    let ca = srv.dir.path().join("cert.pem");
    let port = srv.imaps.port;
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "--cacert"])
        .arg(&ca)
        .arg("--resolve")
        .arg(format!("localhost:{port}:127.0.0.1"))
        .arg("-u")
        .arg(format!("{DEMO_USER}:{DEMO_PASS}"))
        .args(extra)
        .arg(format!("imaps://localhost:{port}/{path}"))
        .output()
        .expect("curl runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn curl_lists_appends_and_fetches() {
    if Command::new("curl").arg("--version").output().is_err() {
        panic!("curl is required for this test");
    }
    let srv = Server::start(Options::default());
    let msg = srv.dir.path().join("msg.eml");
    std::fs::write(
        &msg,
        "From: c@example.org\r\nSubject: via curl\r\n\r\ncurl body\r\n",
    )
    .unwrap();
    let (ok, out, err) = curl(&srv, "INBOX", &["-T", msg.to_str().unwrap()]);
    assert!(ok, "append: {out}\n{err}\n{}", srv.log_text());
    let (ok, out, err) = curl(&srv, "", &[]);
    assert!(ok && out.contains("INBOX"), "list: {out}\n{err}");
    let (ok, out, err) = curl(&srv, "INBOX;UID=1", &[]);
    assert!(
        ok && out.contains("curl body") && out.contains("Subject: via curl"),
        "fetch: {out}\n{err}"
    );
    let (ok, out, err) = curl(&srv, "INBOX", &["-X", "SEARCH SUBJECT curl"]);
    assert!(ok && out.contains("SEARCH 1"), "search: {out}\n{err}");
}

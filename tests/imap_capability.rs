//! tern's post-login CAPABILITY is at least as rich as Dovecot 2.3's for the
//! extensions the IMAP issue lists. Dovecot's own list is read from the real
//! `imap` binary (installed by scripts/test-all.sh) in PREAUTH mode.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server, TempDir};

/// Dovecot capabilities of extensions tern does not serve yet.
const OUT_OF_SCOPE: &[&str] = &[];

const DOVECOT_IMAP: &str = "/usr/lib/dovecot/imap";

/// Dovecot's list after login, with `extra` added to its config.
fn dovecot_capabilities(extra: &str) -> Option<BTreeSet<String>> {
    if !std::path::Path::new(DOVECOT_IMAP).exists() {
        return None;
    }
    let dir = TempDir::new("dovecot-caps");
    let conf = dir.path().join("d.conf");
    std::fs::write(
        &conf,
        format!(
            "mail_location = maildir:{}/mail\nprotocols = imap\nssl = no\nlog_path = /dev/stderr\n\
             mail_uid = nobody\nmail_gid = nogroup\nfirst_valid_uid = 1\n{}",
            dir.path().display(),
            extra.replace("%d", &dir.path().display().to_string()),
        ),
    )
    .unwrap();
    let _ = Command::new("chmod").arg("777").arg(dir.path()).status();
    // stdin must be a pipe: Dovecot polls it with epoll.
    let mut child = Command::new(DOVECOT_IMAP)
        .arg("-c")
        .arg(&conf)
        .env("USER", "nobody")
        .env("HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take()?;
        let _ = stdin.write_all(b"a LOGOUT\r\n");
    }
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("* PREAUTH [CAPABILITY "))?;
    let caps = line
        .trim_start_matches("* PREAUTH [CAPABILITY ")
        .split(']')
        .next()?;
    Some(caps.split_whitespace().map(str::to_string).collect())
}

#[test]
fn capability_covers_dovecot_23() {
    let Some(dovecot) = dovecot_capabilities("") else {
        panic!("Dovecot's imap binary is needed (scripts/test-all.sh installs dovecot-imapd)");
    };
    assert!(
        dovecot.contains("QRESYNC"),
        "unexpected Dovecot list: {dovecot:?}"
    );
    let caps = tern_capabilities(Options::default());
    let missing: Vec<&String> = dovecot
        .iter()
        .filter(|cap| !OUT_OF_SCOPE.contains(&cap.as_str()) && !caps.contains(*cap))
        .collect();
    assert!(missing.is_empty(), "missing {missing:?}; tern has {caps:?}");
    // and the ones the issue adds beyond Dovecot's default list
    for extra in [
        "IMAP4rev2",
        "SPECIAL-USE",
        "COMPRESS=DEFLATE",
        "MOVE",
        "IDLE",
        "CONTEXT=SORT",
        "PARTIAL",
    ] {
        assert!(caps.contains(extra), "{extra} missing: {caps:?}");
    }
}

/// With `imap_urlauth_host` set, both add URLAUTH and URLAUTH=BINARY
/// (Dovecot also needs an attribute dict to keep the keys in).
#[test]
fn urlauth_capabilities_follow_imap_urlauth_host() {
    let Some(dovecot) = dovecot_capabilities(
        "imap_urlauth_host = localhost\nmail_attribute_dict = file:%d/attributes\n",
    ) else {
        panic!("Dovecot's imap binary is needed (scripts/test-all.sh installs dovecot-imapd)");
    };
    let caps = tern_capabilities(Options {
        extra_config: "imap_urlauth_host = localhost\n".into(),
        ..Options::default()
    });
    for cap in ["URLAUTH", "URLAUTH=BINARY", "CATENATE", "URL-PARTIAL"] {
        assert!(dovecot.contains(cap), "Dovecot lacks {cap}: {dovecot:?}");
        assert!(caps.contains(cap), "tern lacks {cap}: {caps:?}");
    }
    let without = tern_capabilities(Options::default());
    assert!(!without.contains("URLAUTH"), "{without:?}");
}

/// tern's list after LOGIN.
fn tern_capabilities(opts: Options) -> BTreeSet<String> {
    let srv = Server::start(opts);
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    c.send("b CAPABILITY");
    let lines = c.until("b ");
    let caps: BTreeSet<String> = lines
        .iter()
        .find(|l| l.starts_with("* CAPABILITY "))
        .expect("CAPABILITY response")
        .trim_start_matches("* CAPABILITY ")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    caps
}

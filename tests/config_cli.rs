//! `tern config` on the command line: `-n` prints what differs from the
//! defaults in Dovecot syntax, its output loads again to the same settings,
//! and mistakes are reported with file, line and a suggestion.

mod common;

use std::process::Command;

use common::TempDir;

fn tern(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CONF: &str = r#"# a small but varied config
protocols = imap pop3 lmtp
listen = 127.0.0.1, ::1
shards = 2
shard_cpus = 0-1
ssl = required
ssl_min_protocol = TLSv1.3
auth_mechanisms = plain login
mail_location = sdbox:~/mail
login_greeting = "Mail # ready"
imap_max_line_length = 128k
imap_idle_notify_interval = 300 secs
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT /etc/tern/users
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=/var/mail/%n
}
service imap-login {
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
protocol imap {
  imap_client_workarounds = delay-newmail tb-lsub-flags
}
"#;

#[test]
fn config_n_round_trips() {
    let dir = TempDir::new("confcli");
    let a = dir.path().join("a.conf");
    std::fs::write(&a, CONF).unwrap();
    let (ok, first, err) = tern(&["-c", a.to_str().unwrap(), "config", "-n"]);
    assert!(ok, "{err}");
    // normalised values, as doveconf prints them
    for want in [
        "shards = 2\n",
        "imap_max_line_length = 128 k\n",
        "imap_idle_notify_interval = 5 mins\n",
        "login_greeting = \"Mail # ready\"\n",
        "listen = 127.0.0.1, ::1\n",
        "protocol imap {\n  imap_client_workarounds = delay-newmail tb-lsub-flags\n}\n",
    ] {
        assert!(first.contains(want), "missing {want:?} in:\n{first}");
    }
    // defaults are left out
    assert!(!first.contains("disable_plaintext_auth"), "{first}");
    let b = dir.path().join("b.conf");
    std::fs::write(&b, &first).unwrap();
    let (ok, second, err) = tern(&["-c", b.to_str().unwrap(), "config", "-n"]);
    assert!(ok, "{err}");
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&first), body(&second));
    // the full listing includes defaults too
    let (ok, all, _) = tern(&["-c", a.to_str().unwrap(), "config"]);
    assert!(ok);
    assert!(all.contains("disable_plaintext_auth = yes"), "{all}");
}

#[test]
fn unknown_setting_names_file_line_and_suggestion() {
    let dir = TempDir::new("confbad");
    let p = dir.path().join("bad.conf");
    std::fs::write(&p, "protocols = imap\nauth_mechanism = plain\n").unwrap();
    let (ok, _, err) = tern(&["-c", p.to_str().unwrap(), "config", "-n"]);
    assert!(!ok);
    assert!(err.contains(&format!("{} line 2", p.display())), "{err}");
    assert!(err.contains("auth_mechanisms"), "no suggestion: {err}");
    let (ok, _, err) = tern(&["-c", p.to_str().unwrap(), "serve"]);
    assert!(!ok, "serve must refuse a broken config");
    assert!(err.contains("line 2"), "{err}");
}

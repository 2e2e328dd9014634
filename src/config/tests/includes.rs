//! `!include` globs, order, relativity, recursion; `<file` values.

use super::*;

#[test]
fn includes_sorted_relative_and_braced() {
    let dir = TempDir::new();
    dir.write("conf.d/20-b.conf", "hostname = b\n");
    dir.write(
        "conf.d/10-a.conf",
        "hostname = a\nmail_uid = from-a\n!include sub/x.ext\n",
    );
    dir.write("conf.d/sub/x.ext", "mail_gid = from-x\n");
    dir.write("extra/one.conf", "imap_capability = one\n");
    dir.write("extra/two.conf", "imap_capability = two\n");
    let main = dir.write(
        "dovecot.conf",
        "service imap {\n!include svc.conf\n}\n!include conf.d/*.conf\n!include extra/{two,one}.conf\n!include_try local.conf\n!include_try nothing/*.conf\n",
    );
    dir.write("svc.conf", "user = inside\n");
    let c = load(&main).unwrap();
    let s = c.settings();
    assert_eq!(s.hostname, "b", "glob matches are applied in sorted order");
    assert_eq!(s.mail_uid, "from-a");
    assert_eq!(
        s.mail_gid, "from-x",
        "relative to the including file's directory"
    );
    assert_eq!(
        s.imap_capability, "one",
        "brace alternatives keep their written order, as with glibc GLOB_BRACE"
    );
    assert_eq!(
        s.service("imap").unwrap().user,
        "inside",
        "included text joins the open section"
    );
}

#[test]
fn include_errors() {
    let dir = TempDir::new();
    let main = dir.write("a.conf", "hostname = a\n!include none/*.conf\n");
    let err = load(&main).unwrap_err().to_string();
    assert!(
        err.contains("a.conf line 2: !include none/*.conf: No matches"),
        "{err}"
    );

    let main = dir.write("b.conf", "!include missing.conf\n");
    let err = load(&main).unwrap_err().to_string();
    assert!(
        err.contains("b.conf line 1: !include missing.conf: No matches"),
        "{err}"
    );

    dir.write("loop1.conf", "hostname = x\n!include loop2.conf\n");
    dir.write("loop2.conf", "\n!include loop1.conf\n");
    let err = load(&dir.0.join("loop1.conf")).unwrap_err().to_string();
    assert!(
        err.contains("loop2.conf line 2: Recursive include file"),
        "{err}"
    );

    dir.write("bad.conf", "hostname = x\nnope = 1\n");
    let main = dir.write("c.conf", "!include bad.conf\n");
    let err = load(&main).unwrap_err().to_string();
    assert!(
        err.contains("bad.conf line 2: Unknown setting: nope"),
        "{err}"
    );

    let err = load(&dir.0.join("absent.conf")).unwrap_err().to_string();
    assert!(err.starts_with("Error in configuration file"), "{err}");
}

#[test]
fn file_values() {
    let dir = TempDir::new();
    dir.write(
        "certs/server.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    dir.write("key.pem", "PRIVATE\n");
    let main = dir.write(
        "dovecot.conf",
        "ssl_cert = <certs/server.pem\nssl_key =<   key.pem\n",
    );
    let c = load(&main).unwrap();
    let cert = c.settings().ssl_cert.clone().unwrap();
    assert!(cert.contents.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(cert.contents.ends_with("-----END CERTIFICATE-----\n"));
    assert_eq!(cert.path, Some(dir.0.join("certs/server.pem")));
    assert_eq!(
        c.settings().ssl_key.as_ref().map(|k| k.contents.as_str()),
        Some("PRIVATE\n")
    );
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: true,
    });
    assert!(out.contains("ssl_cert = <certs/server.pem\n"), "{out}");
    assert!(out.contains("ssl_key = <key.pem\n"), "{out}");
    let hidden = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    assert!(
        hidden.contains("ssl_key = # hidden, use -P to show it\n"),
        "{hidden}"
    );
    assert!(!format!("{:?}", c.settings()).contains("PRIVATE"));

    let main = dir.write("missing.conf", "\nssl_cert = </does/not/exist.pem\n");
    let err = load(&main).unwrap_err().to_string();
    assert!(
        err.contains("missing.conf line 2: Can't open file"),
        "{err}"
    );
}

#[test]
fn debian_protocols_d_layout() {
    let dir = TempDir::new();
    dir.write(
        "protocols.d/imapd.protocol",
        "protocols = $protocols imap\n",
    );
    dir.write(
        "protocols.d/lmtpd.protocol",
        "protocols = $protocols lmtp\n",
    );
    let main = dir.write(
        "dovecot.conf",
        "!include_try protocols.d/*.protocol\nmanagesieve_max_line_length = 65536\n",
    );
    let c = load(&main).unwrap();
    assert_eq!(c.settings().protocols, vec![Protocol::Imap, Protocol::Lmtp]);
    assert!(
        c.warnings()
            .iter()
            .any(|w| w.contains("managesieve_max_line_length is accepted but ignored"))
    );
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    assert!(out.contains("protocols = \" imap lmtp\"\n"), "{out}");
    assert!(
        out.contains("managesieve_max_line_length = 65536\n"),
        "{out}"
    );
    let all = c.render(RenderOptions {
        non_default_only: false,
        show_secrets: false,
    });
    assert!(
        all.contains("managesieve_max_line_length = 65536\n"),
        "{all}"
    );
    // Without any assignment the upstream default applies.
    assert_eq!(parse("").settings().protocols.len(), 3);
}

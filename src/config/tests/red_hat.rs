//! The §10.1 Red Hat tree: verbatim `doveconf -n` output, effective settings, round trip.

use super::*;

const RH_DOVECOT_CONF: &str = "protocols = imap pop3 lmtp
listen = 192.0.2.1, 2001:db8:1::1
!include conf.d/*.conf
!include_try local.conf
";
const RH_AUTH: &str = "disable_plaintext_auth = yes
auth_mechanisms = plain login
!include auth-system.conf.ext
";
const RH_AUTH_SYSTEM: &str = "passdb {
  driver = pam
}
userdb {
  driver = passwd
  override_fields = uid=vmail gid=vmail home=/var/mail/%n/
}
";
const RH_MAIL: &str = "mail_location = sdbox:/var/mail/%n/
mail_uid = vmail
mail_gid = vmail
first_valid_uid = 1000
last_valid_uid = 0
first_valid_gid = 1000
mail_plugins = quota
";
const RH_MASTER: &str = "service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    group = postfix
    mode = 0600
    user = postfix
  }
  inet_listener lmtp {
    address = 127.0.0.1 ::1
    port = 24
  }
}
";
const RH_SSL: &str = "ssl = required
ssl_cert = </etc/pki/dovecot/certs/server.example.com.crt
ssl_key = </etc/pki/dovecot/private/server.example.com.key
ssl_ca = </etc/pki/dovecot/certs/ca.crt
ssl_dh = </etc/dovecot/dh.pem
ssl_min_protocol = TLSv1.2
ssl_cipher_list = PROFILE=SYSTEM
ssl_prefer_server_ciphers = yes
";
const RH_REPLICATION: &str = "mail_plugins = $mail_plugins notify replication
service replicator {
  process_min_avail = 1                 # start it with dovecot
  unix_listener replicator-doveadm {    # default mode 00 = off; doveadm replicator uses it
    mode = 0600
    user = vmail
  }
}
service aggregator {                    # mail processes report changes here
  fifo_listener replication-notify-fifo {
    user = vmail
  }
  unix_listener replication-notify {
    user = vmail
  }
}
service doveadm {
  inet_listener {                       # where the peer's dsync connects
    port = 12345
  }
}
doveadm_port = 12345                    # default port for tcp:host targets
doveadm_password = replication_password
replication_max_conns = 10
plugin {
  mail_replica = tcp:server2.example.com:12345
}
";
const RH_IMAP: &str = "protocol imap {
  mail_plugins = $mail_plugins imap_quota
  imap_client_workarounds = delay-newmail tb-extra-mailbox-sep tb-lsub-flags
}
";
const RH_POP3: &str = "protocol pop3 {
  pop3_uidl_format = %08Xu%08Xv
  pop3_client_workarounds = outlook-no-nuls oe-ns-eoh
}
";

const RH_EXPECTED: &str = "auth_mechanisms = plain login
doveadm_password = # hidden, use -P to show it
doveadm_port = 12345
first_valid_gid = 1000
first_valid_uid = 1000
listen = 192.0.2.1, 2001:db8:1::1
mail_gid = vmail
mail_location = sdbox:/var/mail/%n/
mail_plugins = quota notify replication
mail_uid = vmail
passdb {
  driver = pam
}
plugin {
  mail_replica = tcp:server2.example.com:12345
}
protocols = imap pop3 lmtp
service aggregator {
  fifo_listener replication-notify-fifo {
    user = vmail
  }
  unix_listener replication-notify {
    user = vmail
  }
}
service doveadm {
  inet_listener {
    port = 12345
  }
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1 ::1
    port = 24
  }
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    group = postfix
    mode = 0600
    user = postfix
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
service replicator {
  process_min_avail = 1
  unix_listener replicator-doveadm {
    mode = 0600
    user = vmail
  }
}
ssl = required
ssl_ca = </etc/pki/dovecot/certs/ca.crt
ssl_cert = </etc/pki/dovecot/certs/server.example.com.crt
ssl_cipher_list = PROFILE=SYSTEM
ssl_dh = # hidden, use -P to show it
ssl_key = # hidden, use -P to show it
ssl_prefer_server_ciphers = yes
userdb {
  driver = passwd
  override_fields = uid=vmail gid=vmail home=/var/mail/%n/
}
protocol imap {
  imap_client_workarounds = delay-newmail tb-extra-mailbox-sep tb-lsub-flags
  mail_plugins = quota notify replication imap_quota
}
protocol pop3 {
  pop3_client_workarounds = outlook-no-nuls oe-ns-eoh
  pop3_uidl_format = %08Xu%08Xv
}
";

/// Writes the §10.1 tree under a temp root; absolute paths resolve under it.
pub(crate) fn red_hat_tree() -> (TempDir, LoadOptions) {
    let dir = TempDir::new();
    dir.write("/etc/dovecot/dovecot.conf", RH_DOVECOT_CONF);
    dir.write("/etc/dovecot/conf.d/10-auth.conf", RH_AUTH);
    dir.write("/etc/dovecot/conf.d/auth-system.conf.ext", RH_AUTH_SYSTEM);
    dir.write("/etc/dovecot/conf.d/10-mail.conf", RH_MAIL);
    dir.write("/etc/dovecot/conf.d/10-master.conf", RH_MASTER);
    dir.write("/etc/dovecot/conf.d/10-ssl.conf", RH_SSL);
    dir.write("/etc/dovecot/conf.d/10-replication.conf", RH_REPLICATION);
    dir.write("/etc/dovecot/conf.d/20-imap.conf", RH_IMAP);
    dir.write("/etc/dovecot/conf.d/20-pop3.conf", RH_POP3);
    dir.write(
        "/etc/pki/dovecot/certs/server.example.com.crt",
        "-----BEGIN CERTIFICATE-----\nSERVER\n-----END CERTIFICATE-----\n",
    );
    dir.write(
        "/etc/pki/dovecot/private/server.example.com.key",
        "-----BEGIN PRIVATE KEY-----\nKEYDATA\n-----END PRIVATE KEY-----\n",
    );
    dir.write(
        "/etc/pki/dovecot/certs/ca.crt",
        "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
    );
    dir.write(
        "/etc/dovecot/dh.pem",
        "-----BEGIN DH PARAMETERS-----\nDH\n-----END DH PARAMETERS-----\n",
    );
    let options = LoadOptions {
        root: Some(dir.0.clone()),
    };
    (dir, options)
}

pub(crate) fn load_red_hat() -> (TempDir, Config) {
    let (dir, options) = red_hat_tree();
    let config = load_with(Path::new("/etc/dovecot/dovecot.conf"), &options).unwrap();
    (dir, config)
}

#[test]
fn red_hat_render_matches_doveconf_n() {
    let (_dir, c) = load_red_hat();
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    let (header, body) = out.split_once('\n').unwrap();
    assert!(
        header.starts_with("# tern ") && header.ends_with(": /etc/dovecot/dovecot.conf"),
        "{header}"
    );
    if body != RH_EXPECTED {
        for (i, (got, want)) in body.lines().zip(RH_EXPECTED.lines()).enumerate() {
            assert_eq!(got, want, "first difference at output line {}", i + 2);
        }
    }
    assert_eq!(body, RH_EXPECTED);
}

#[test]
fn red_hat_effective_settings() {
    let (dir, c) = load_red_hat();
    let s = c.settings();
    assert_eq!(
        s.protocols,
        vec![Protocol::Imap, Protocol::Pop3, Protocol::Lmtp]
    );
    assert_eq!(s.listen, vec!["192.0.2.1", "2001:db8:1::1"]);
    assert_eq!(s.ssl, SslMode::Required);
    assert_eq!(s.ssl_min_protocol, TlsVersion::TlsV1_2);
    assert!(s.disable_plaintext_auth);
    assert_eq!(s.auth_mechanisms, vec!["plain", "login"]);
    assert_eq!(s.first_valid_uid, 1000);
    assert_eq!(s.last_valid_uid, 0);
    let cert = s.ssl_cert.as_ref().unwrap();
    assert_eq!(
        cert.path,
        Some(dir.0.join("etc/pki/dovecot/certs/server.example.com.crt"))
    );
    assert!(cert.contents.contains("SERVER"));
    assert!(s.ssl_key.as_ref().unwrap().contents.contains("KEYDATA"));
    assert_eq!(s.doveadm_password.expose(), "replication_password");
    assert_eq!(s.doveadm_port, 12345);
    assert_eq!(
        s.plugin_setting("mail_replica"),
        Some("tcp:server2.example.com:12345")
    );
    assert_eq!(s.mail_plugins, vec!["quota", "notify", "replication"]);
    assert!(s.imap_client_workarounds.is_empty());
    assert_eq!(s.passdbs.len(), 1);
    assert_eq!(s.passdbs[0].driver, "pam");
    assert_eq!(
        s.userdbs[0].override_fields,
        "uid=vmail gid=vmail home=/var/mail/%n/"
    );

    let lmtp = s.service("lmtp").unwrap();
    assert_eq!(lmtp.inet_listeners.len(), 1);
    assert_eq!(lmtp.inet_listeners[0].port, 24);
    assert_eq!(
        lmtp.inet_listeners[0].address,
        Some(vec!["127.0.0.1".to_string(), "::1".to_string()])
    );
    let postfix = lmtp
        .unix_listeners
        .iter()
        .find(|l| l.path == Path::new("/var/spool/postfix/private/dovecot-lmtp"))
        .unwrap();
    assert_eq!(
        (postfix.mode, postfix.user.as_str(), postfix.group.as_str()),
        (0o600, "postfix", "postfix")
    );
    assert!(
        lmtp.unix_listeners
            .iter()
            .any(|l| l.path == Path::new("/run/dovecot/lmtp") && l.mode == 0o666)
    );
    let replicator = s.service("replicator").unwrap();
    assert_eq!(replicator.process_min_avail, 1);
    assert_eq!(replicator.unix_listeners[0].mode, 0o600);
    assert_eq!(replicator.unix_listeners[0].user, "vmail");
    let doveadm = s.service("doveadm").unwrap();
    assert_eq!(doveadm.inet_listeners[0].name, None);
    assert_eq!(doveadm.inet_listeners[0].port, 12345);

    let imap = c.for_protocol("imap");
    assert_eq!(
        imap.imap_client_workarounds,
        vec![
            ImapWorkaround::DelayNewmail,
            ImapWorkaround::TbExtraMailboxSep,
            ImapWorkaround::TbLsubFlags
        ]
    );
    assert_eq!(
        imap.mail_plugins,
        vec!["quota", "notify", "replication", "imap_quota"]
    );
    assert!(imap.pop3_client_workarounds.is_empty());
    let pop3 = c.for_protocol("pop3");
    assert_eq!(
        pop3.pop3_client_workarounds,
        vec![Pop3Workaround::OutlookNoNuls, Pop3Workaround::OeNsEoh]
    );
    assert_eq!(pop3.mail_plugins, vec!["quota", "notify", "replication"]);
    assert_eq!(c.for_protocol("lmtp"), *s);

    let warnings = c.warnings().join("\n");
    assert!(
        warnings.contains(
            "file /etc/dovecot/conf.d/10-ssl.conf line 5: ssl_dh is accepted but ignored: rustls only does ECDHE"
        ),
        "{warnings}"
    );
    assert!(
        warnings.contains("process_min_avail is accepted but ignored"),
        "{warnings}"
    );
    assert!(
        warnings.contains("mail_plugins is accepted but ignored"),
        "{warnings}"
    );
    assert_eq!(c.warnings().len(), 3, "{warnings}");
}

#[test]
fn red_hat_round_trip() {
    let (dir, c) = load_red_hat();
    let options = LoadOptions {
        root: Some(dir.0.clone()),
    };
    for non_default_only in [true, false] {
        let out = c.render(RenderOptions {
            non_default_only,
            show_secrets: true,
        });
        let again = parse_str_with(&out, Path::new("/etc/dovecot/dovecot.conf"), &options)
            .unwrap_or_else(|e| panic!("{e}\n{out}"));
        assert_eq!(again.settings(), c.settings());
        for proto in ["imap", "pop3", "lmtp"] {
            assert_eq!(again.for_protocol(proto), c.for_protocol(proto), "{proto}");
        }
        assert_eq!(
            again.render(RenderOptions {
                non_default_only,
                show_secrets: true
            }),
            out
        );
    }
}

#[test]
fn trusted_networks_and_bind_addresses() {
    let c = parse("login_trusted_networks = 10.0.0.0/8, 2001:db8::/32 192.0.2.7\n");
    let s = c.settings();
    assert!(s.is_trusted_client("10.1.2.3".parse().unwrap()));
    assert!(s.is_trusted_client("2001:db8::5".parse().unwrap()));
    assert!(s.is_trusted_client("192.0.2.7".parse().unwrap()));
    assert!(!s.is_trusted_client("192.0.2.8".parse().unwrap()));
    let err = parse_err("\nlogin_trusted_networks = 10.0.0.0/8 intranet\n");
    assert!(
        err.contains("line 2: login_trusted_networks: Invalid network 'intranet'"),
        "{err}"
    );

    let imaps = &s.service("imap-login").unwrap().inet_listeners[1];
    let addrs: Vec<String> = s
        .bind_addresses(imaps)
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(addrs, vec!["0.0.0.0:993", "[::]:993"]);

    let (_dir, rh) = load_red_hat();
    let rs = rh.settings();
    let lmtp = &rs.service("lmtp").unwrap().inet_listeners[0];
    let addrs: Vec<String> = rs
        .bind_addresses(lmtp)
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(addrs, vec!["127.0.0.1:24", "[::1]:24"]);
    let imap = &rs.service("imap-login").unwrap().inet_listeners[0];
    let addrs: Vec<String> = rs
        .bind_addresses(imap)
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(addrs, vec!["192.0.2.1:143", "[2001:db8:1::1]:143"]);
}

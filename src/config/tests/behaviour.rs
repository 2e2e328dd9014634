//! Defaults, filters, typed settings, secrets and rendering rules.

use super::*;

#[test]
fn defaults() {
    let c = parse("");
    let s = c.settings();
    assert_eq!(s.login_greeting, "tern ready.");
    assert_eq!(s.ssl, SslMode::Yes);
    assert_eq!(s.listen, vec!["*", "::"]);
    assert_eq!(
        s.protocols,
        vec![Protocol::Imap, Protocol::Pop3, Protocol::Lmtp]
    );
    assert_eq!(s.auth_failure_delay, Duration::from_secs(2));
    assert_eq!(s.auth_cache_size, 0);
    assert_eq!(s.auth_cache_ttl, Duration::from_secs(3600));
    assert_eq!(s.first_valid_uid, 500);
    assert_eq!(s.first_valid_gid, 1);
    assert_eq!(s.mail_max_userip_connections, 10);
    assert_eq!(s.imap_max_line_length, 64 * 1024);
    assert_eq!(s.imap_idle_notify_interval, Duration::from_secs(120));
    assert_eq!(s.pop3_uidl_format, "%08Xu%08Xv");
    assert_eq!(s.recipient_delimiter, "+");
    assert_eq!(s.mail_fsync, FsyncMode::Optimized);
    assert_eq!(s.shards, ShardCount::Auto);
    assert_eq!(s.shard_cpus, None);
    assert_eq!(s.io_ring_depth, 128);
    assert_eq!(s.mail_cache_max_memory, 64 << 20);
    assert_eq!(s.lmtp_max_size, 50 << 20);
    assert_eq!(
        s.replication_full_sync_interval,
        Duration::from_secs(86_400)
    );
    assert!(s.ssl_cert.is_none());
    let ports = |name: &str| -> Vec<(u16, bool)> {
        s.service(name)
            .unwrap()
            .inet_listeners
            .iter()
            .map(|l| (l.port, l.ssl))
            .collect()
    };
    assert_eq!(ports("imap-login"), vec![(143, false), (993, true)]);
    assert_eq!(ports("pop3-login"), vec![(110, false), (995, true)]);
    assert!(ports("lmtp").is_empty());
    assert_eq!(
        s.service("lmtp").unwrap().unix_listeners[0].path,
        Path::new("/run/dovecot/lmtp")
    );
    assert!(c.warnings().is_empty());
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn port_zero_disables_a_default_listener() {
    let c = parse("service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n}\n");
    let imap = c.settings().service("imap-login").unwrap();
    assert_eq!(imap.inet_listeners.len(), 1);
    assert_eq!(imap.inet_listeners[0].port, 993);
}

#[test]
fn own_settings() {
    let c = parse(
        "shards = 4\nshard_cpus = 0-1, 6\nio_ring_depth = 256\nmail_cache_max_memory = 1G\nlmtp_max_size = 10M\n",
    );
    let s = c.settings();
    assert_eq!(s.shards, ShardCount::Fixed(4));
    assert_eq!(s.shard_cpus, Some(vec![0, 1, 6]));
    assert_eq!(s.io_ring_depth, 256);
    assert_eq!(s.mail_cache_max_memory, 1 << 30);
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    assert!(
        out.contains("mail_cache_max_memory = 1 G\n") && out.contains("lmtp_max_size = 10 M\n"),
        "{out}"
    );
}

#[test]
fn normalised_printing() {
    let c = parse(
        "auth_failure_delay = 120 secs\nimap_max_line_length = 128k\nverbose_ssl = Y\nimap_idle_notify_interval = 2 mins\n",
    );
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    assert!(out.contains("auth_failure_delay = 2 mins\n"), "{out}");
    assert!(out.contains("imap_max_line_length = 128 k\n"), "{out}");
    assert!(out.contains("verbose_ssl = yes\n"), "{out}");
    assert!(
        !out.contains("imap_idle_notify_interval"),
        "equal to the default: {out}"
    );
}

#[test]
fn filters_precedence_and_ssl_off() {
    let c = parse(concat!(
        "login_greeting = global\n",
        "protocol imap {\n  login_greeting = imap\n}\n",
        "protocol !imap {\n  login_greeting = not-imap\n}\n",
        "remote 192.0.2.0/24 {\n  login_greeting = remote-net\n  protocol imap {\n    login_greeting = remote-imap\n  }\n}\n",
        "local 198.51.100.1 {\n  login_greeting = local\n}\n",
        "local_name mail.example.org {\n  login_greeting = sni\n}\n",
    ));
    let ctx = |protocol, local: Option<&str>, remote: Option<&str>, sni| FilterContext {
        protocol: Some(protocol),
        local_ip: local.map(|a| a.parse().unwrap()),
        remote_ip: remote.map(|a| a.parse().unwrap()),
        local_name: sni,
    };
    assert_eq!(c.settings().login_greeting, "global");
    assert_eq!(c.for_protocol("imap").login_greeting, "imap");
    assert_eq!(c.for_protocol("pop3").login_greeting, "not-imap");
    assert_eq!(
        c.for_connection(&ctx("pop3", None, Some("192.0.2.9"), None))
            .login_greeting,
        "remote-net"
    );
    assert_eq!(
        c.for_connection(&ctx("imap", None, Some("192.0.2.9"), None))
            .login_greeting,
        "remote-imap"
    );
    assert_eq!(
        c.for_connection(&ctx("imap", Some("198.51.100.1"), Some("192.0.2.9"), None))
            .login_greeting,
        "local"
    );
    assert_eq!(
        c.for_connection(&ctx(
            "imap",
            Some("198.51.100.1"),
            None,
            Some("MAIL.example.org")
        ))
        .login_greeting,
        "sni"
    );
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    let protocol_at = out.find("protocol imap {").unwrap();
    let remote_at = out.find("remote 192.0.2.0/24 {").unwrap();
    let local_at = out.find("local 198.51.100.1 {").unwrap();
    assert!(protocol_at < remote_at && remote_at < local_at, "{out}");

    let off = parse("ssl = no\nprotocol imap {\n  ssl = yes\n}\n");
    assert_eq!(off.for_protocol("imap").ssl, SslMode::No);
    assert!(off.warnings().iter().any(|w| w.contains("global ssl = no")));
}

#[test]
fn secrets_stay_out_of_debug() {
    let c = parse(
        "doveadm_password = hunter2\nssl_key_password = sw0rdfish\npassdb {\n  driver = sql\n  args = password=dbpass\n}\n",
    );
    let debug = format!("{:?}", c.settings());
    assert!(
        !debug.contains("hunter2") && !debug.contains("sw0rdfish") && !debug.contains("dbpass"),
        "{debug}"
    );
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    assert!(
        out.contains("doveadm_password = # hidden, use -P to show it\n"),
        "{out}"
    );
    assert!(!out.contains("hunter2") && !out.contains("dbpass"), "{out}");
    let shown = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: true,
    });
    assert!(shown.contains("doveadm_password = hunter2\n"), "{shown}");
}

#[test]
fn settings_are_shareable() {
    fn assert_traits<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    assert_traits::<Settings>();
    assert_traits::<Config>();
}

#[test]
fn round_trip_of_awkward_values() {
    let c = parse(concat!(
        "login_greeting = \"  padded # hash \\\"q\\\" \"\n",
        "imap_capability = \"$notaref\"\n",
        "hostname = \"<notafile\"\n",
        "postmaster_address = \"'quoted'\"\n",
        "namespace \"odd name\" {\n  separator = /\n  mailbox Trash {\n    auto = subscribe\n    special_use = \\Trash\n  }\n}\n",
        "plugin {\n  quota = maildir:User quota\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n",
        "shard_cpus = 0-3,8\n",
    ));
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: true,
    });
    let again = parse_str(&out, Path::new("/nonexistent/test.conf"))
        .unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert_eq!(again.settings(), c.settings(), "{out}");
    assert!(
        out.contains("namespace \"odd name\" {\n  location = \n"),
        "{out}"
    );
}

#[test]
fn all_settings_render() {
    let c = parse("hostname = mx\n");
    let out = c.render(RenderOptions {
        non_default_only: false,
        show_secrets: false,
    });
    assert!(out.contains("hostname = mx\n"));
    assert!(out.contains("login_greeting = tern ready.\n"));
    assert!(out.contains("auth_cache_ttl = 1 hours\n"), "{out}");
    assert!(out.contains("imap_max_line_length = 64 k\n"));
    assert_eq!(out.lines().count(), 1 + defs::GLOBAL.len());
}

#[test]
fn global_after_filter_warns() {
    let c = parse(
        "protocol imap {\n  mail_max_userip_connections = 20\n}\nmail_max_userip_connections = 5\n",
    );
    assert_eq!(c.for_protocol("imap").mail_max_userip_connections, 20);
    assert_eq!(c.settings().mail_max_userip_connections, 5);
    assert!(
        c.warnings()
            .iter()
            .any(|w| w
                .contains("line 4: mail_max_userip_connections is set globally after a filter"))
    );
}

#[test]
fn obsolete_imaps_protocol() {
    let c = parse("protocols = imaps pop3 lmtp\n");
    let s = c.settings();
    assert_eq!(
        s.protocols,
        vec![Protocol::Imap, Protocol::Pop3, Protocol::Lmtp]
    );
    let ports: Vec<u16> = s
        .service("imap-login")
        .unwrap()
        .inet_listeners
        .iter()
        .map(|l| l.port)
        .collect();
    assert_eq!(ports, vec![993]);
    assert_eq!(s.service("pop3-login").unwrap().inet_listeners.len(), 2);
    assert!(c.warnings().iter().any(|w| w.contains("imaps is obsolete")));
    assert!(parse_str("protocols = imap smtp\n", Path::new("/x.conf")).is_err());
}

#[test]
fn login_services_match_protocol_filters() {
    let c = parse("protocol imap {\n  login_greeting = imap\n}\n");
    assert_eq!(c.for_protocol("imap-login").login_greeting, "imap");
    assert_eq!(c.for_protocol("pop3-login").login_greeting, "tern ready.");
}

#[test]
fn config_debug_hides_raw_values() {
    let c = parse(
        "doveadm_password = hunter2\nplugin {\n  mail_crypt_private_password = s3cret\n  quota = maildir\n}\n",
    );
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("s3cret"),
        "{debug}"
    );
    assert!(debug.contains("\"quota\": \"maildir\""), "{debug}");
    assert_eq!(
        c.settings()
            .plugin
            .get("mail_crypt_private_password")
            .map(String::as_str),
        Some("s3cret")
    );
}

#[test]
fn dovecot_only_sections_are_accepted_with_a_warning() {
    let c = parse(concat!(
        "dict {\n}\n",
        "metric imap_command {\n  filter = event=imap_command_finished\n  group_by = cmd_name\n}\n",
        "event_exporter log {\n  format = json\n}\n",
        "imapc_host = imap.example.org\n",
    ));
    let warnings = c.warnings().join("\n");
    assert!(
        warnings.contains("line 3: metric sections are accepted but ignored"),
        "{warnings}"
    );
    assert!(
        warnings.contains("event_exporter sections are accepted but ignored"),
        "{warnings}"
    );
    assert!(
        warnings.contains("imapc_host is accepted but ignored"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("dict"),
        "an empty dict block says nothing: {warnings}"
    );
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    assert!(
        out.contains("metric imap_command {\n  filter = event=imap_command_finished\n"),
        "{out}"
    );
}

#[test]
fn bare_certificate_path_warns() {
    let c = parse("ssl_cert = /etc/ssl/certs/mail.pem\nssl_key = -----BEGIN PRIVATE KEY-----\n");
    assert!(
        c.warnings()
            .iter()
            .any(|w| w == "ssl_cert is not PEM data; to read a file write ssl_cert = </etc/ssl/certs/mail.pem"),
        "{:?}",
        c.warnings()
    );
    assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
}

#[test]
fn default_settings_and_value_lookup() {
    let defaults = Settings::default();
    assert_eq!(&defaults, parse("").settings());
    assert_eq!(defaults.login_greeting, "tern ready.");
    let c = parse("auth_failure_delay = 120 secs\n");
    assert_eq!(c.value_of("auth_failure_delay").as_deref(), Some("2 mins"));
    assert_eq!(c.value_of("imap_max_line_length").as_deref(), Some("64 k"));
    assert_eq!(c.value_of("no_such_setting"), None);
}

#[test]
fn plugin_settings_iterate_like_a_map() {
    let c = parse("plugin {\n  b = 2\n  a = 1\n}\n");
    let pairs: Vec<(&str, &str)> = (&c.settings().plugin)
        .into_iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(pairs, vec![("a", "1"), ("b", "2")]);
    assert!(c.settings().plugin.contains_key("a"));
}

#[test]
fn template_typos_warn_at_load() {
    let c = parse(
        "pop3_uidl_format = %08Xu%08Xz\nmail_location = maildir:~/Maildir:INDEX=/idx/%{usr}\n",
    );
    let warnings = c.warnings().join("\n");
    assert!(
        warnings.contains("pop3_uidl_format: Unknown variable: z"),
        "{warnings}"
    );
    assert!(
        warnings.contains("mail_location: Unknown variable: usr"),
        "{warnings}"
    );
    // The defaults and the §10.1 values are fine.
    assert!(
        parse("mail_location = sdbox:/var/mail/%n/\n")
            .warnings()
            .is_empty()
    );
}

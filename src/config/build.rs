//! Builds typed `Settings` from a filter view of the parsed tree.

use std::collections::BTreeMap;

use super::ConfigError;
use super::defs::{self, SectionKind};
use super::getter::{Getter, invalid};
use super::services::services;
use super::settings::*;
use super::tree::Section;
use super::values;
use super::vars::{self, VarName};
use super::view::View;

const DB_RESULTS: &[(&str, AuthDbResult)] = &[
    ("return-ok", AuthDbResult::ReturnOk),
    ("return", AuthDbResult::Return),
    ("return-fail", AuthDbResult::ReturnFail),
    ("continue", AuthDbResult::Continue),
    ("continue-ok", AuthDbResult::ContinueOk),
    ("continue-fail", AuthDbResult::ContinueFail),
];

fn auth_db(section: &Section) -> Result<AuthDbSettings, ConfigError> {
    let is_passdb = section.kind == SectionKind::Passdb;
    let table = if is_passdb {
        defs::PASSDB
    } else {
        defs::USERDB
    };
    let g = Getter::for_section(section, table);
    Ok(AuthDbSettings {
        name: g.string("name")?,
        driver: g.string("driver")?,
        args: Secret::new(g.string("args")?),
        default_fields: g.string("default_fields")?,
        override_fields: g.string("override_fields")?,
        deny: is_passdb && g.boolean("deny")?,
        pass: is_passdb && g.boolean("pass")?,
        master: is_passdb && g.boolean("master")?,
        skip: g.choice(
            "skip",
            &[
                ("never", AuthDbSkip::Never),
                ("authenticated", AuthDbSkip::Authenticated),
                ("unauthenticated", AuthDbSkip::Unauthenticated),
                ("found", AuthDbSkip::Found),
                ("notfound", AuthDbSkip::NotFound),
            ],
        )?,
        result_success: g.choice("result_success", DB_RESULTS)?,
        result_failure: g.choice("result_failure", DB_RESULTS)?,
        result_internalfail: g.choice("result_internalfail", DB_RESULTS)?,
        mechanisms: if is_passdb {
            g.list("mechanisms")?
        } else {
            Vec::new()
        },
        username_filter: if is_passdb {
            g.string("username_filter")?
        } else {
            String::new()
        },
    })
}

fn namespace(sections: &[&Section]) -> Result<NamespaceSettings, ConfigError> {
    // Several blocks may describe the same namespace (global + protocol filter): the
    // later ones override key by key, and mailboxes merge by name.
    let lookup = |key: &str| sections.iter().rev().find_map(|s| s.get(key));
    let g = Getter {
        lookup: Box::new(lookup),
        table: defs::NAMESPACE,
        context: format!(
            "namespace {}/",
            sections
                .first()
                .and_then(|s| s.name.clone())
                .unwrap_or_default()
        ),
    };
    let mut mailbox_names: Vec<String> = Vec::new();
    for s in sections {
        for m in s.children_of(SectionKind::Mailbox) {
            let name = m.name.clone().unwrap_or_default();
            if !mailbox_names.contains(&name) {
                mailbox_names.push(name);
            }
        }
    }
    let mut mailboxes = Vec::new();
    for name in mailbox_names {
        let blocks: Vec<&Section> = sections
            .iter()
            .flat_map(|s| s.children_of(SectionKind::Mailbox))
            .filter(|m| m.name.as_deref() == Some(name.as_str()))
            .collect();
        let mg = Getter {
            lookup: Box::new(move |key: &str| blocks.iter().rev().find_map(|s| s.get(key))),
            table: defs::MAILBOX,
            context: format!("mailbox {name}/"),
        };
        mailboxes.push(MailboxSettings {
            auto: mg.choice(
                "auto",
                &[
                    ("no", MailboxAuto::No),
                    ("create", MailboxAuto::Create),
                    ("subscribe", MailboxAuto::Subscribe),
                ],
            )?,
            special_use: mg.list("special_use")?,
            autoexpunge: mg.duration("autoexpunge")?,
            autoexpunge_max_mails: mg.u32("autoexpunge_max_mails")?,
            name,
        });
    }
    Ok(NamespaceSettings {
        name: sections
            .first()
            .and_then(|s| s.name.clone())
            .unwrap_or_default(),
        ns_type: g.choice(
            "type",
            &[
                ("private", NamespaceType::Private),
                ("shared", NamespaceType::Shared),
                ("public", NamespaceType::Public),
            ],
        )?,
        separator: g.string("separator")?,
        prefix: g.string("prefix")?,
        location: g.string("location")?,
        alias_for: g.string("alias_for")?,
        inbox: g.boolean("inbox")?,
        hidden: g.boolean("hidden")?,
        list: g.choice(
            "list",
            &[
                ("yes", NamespaceList::Yes),
                ("no", NamespaceList::No),
                ("children", NamespaceList::Children),
            ],
        )?,
        subscriptions: g.boolean("subscriptions")?,
        ignore_on_failure: g.boolean("ignore_on_failure")?,
        disabled: g.boolean("disabled")?,
        mailboxes,
    })
}

fn protocols(text: &str, warnings: &mut Vec<String>) -> Result<Vec<Protocol>, ConfigError> {
    let mut out = Vec::new();
    for word in values::split_list(text) {
        let protocol = match word {
            "none" => continue,
            "imap" => Protocol::Imap,
            "pop3" => Protocol::Pop3,
            "lmtp" => Protocol::Lmtp,
            "submission" => Protocol::Submission,
            "sieve" => Protocol::Sieve,
            "imaps" | "pop3s" => {
                warnings.push(format!(
                    "protocols: {word} is obsolete; use {} with an ssl inet_listener",
                    &word[..word.len() - 1]
                ));
                if word == "imaps" {
                    Protocol::Imap
                } else {
                    Protocol::Pop3
                }
            }
            "managesieve" => {
                warnings.push("protocols: managesieve is now called sieve".to_string());
                Protocol::Sieve
            }
            other => {
                return Err(ConfigError::Invalid(format!(
                    "protocols: Unknown protocol: {other}"
                )));
            }
        };
        if !out.contains(&protocol) {
            out.push(protocol);
        }
    }
    Ok(out)
}

/// §5.2 variables of the mail-user context.
const MAIL_SHORT: &str = "undhslrpi";
const MAIL_LONG: &[&str] = &[
    "user",
    "username",
    "domain",
    "home",
    "service",
    "lip",
    "rip",
    "local_ip",
    "remote_ip",
    "pid",
    "uid",
    "gid",
    "session",
    "auth_user",
    "auth_username",
    "auth_domain",
    "hostname",
];
/// §7 variables of `pop3_uidl_format`.
const UIDL_SHORT: &str = "uvmfg";
const UIDL_LONG: &[&str] = &["uid", "uidvalidity", "md5", "filename", "guid"];

/// Expands templates with placeholder values so that an unknown variable or a syntax
/// error is reported once at start-up (as a warning: Dovecot only fails at use).
fn check_templates(g: &Getter<'_>, warnings: &mut Vec<String>) -> Result<(), ConfigError> {
    let checks: [(&str, &str, &[&str]); 4] = [
        ("mail_location", MAIL_SHORT, MAIL_LONG),
        ("mail_home", MAIL_SHORT, MAIL_LONG),
        ("postmaster_address", MAIL_SHORT, MAIL_LONG),
        ("pop3_uidl_format", UIDL_SHORT, UIDL_LONG),
    ];
    for (key, short, long) in checks {
        let template = g.string(key)?;
        let lookup = |name: VarName<'_>| -> Option<String> {
            let known = match name {
                VarName::Short(c) => short.contains(c),
                VarName::Long(l) => long.contains(&l),
            };
            known.then(|| "1".to_string())
        };
        if let Err(e) = vars::expand(&template, &lookup) {
            warnings.push(format!("{key}: {e} in \"{template}\""));
        }
    }
    Ok(())
}

/// Builds typed settings for one view; warnings about values are appended.
pub(crate) fn build(view: &View<'_>, warnings: &mut Vec<String>) -> Result<Settings, ConfigError> {
    let values = &view.values;
    let g = Getter {
        lookup: Box::new(move |k| values.get(k).copied()),
        table: defs::GLOBAL,
        context: String::new(),
    };
    let base_dir = g.path("base_dir")?;
    let default_internal_user = g.string("default_internal_user")?;
    let mut ssl = g.choice(
        "ssl",
        &[
            ("no", SslMode::No),
            ("yes", SslMode::Yes),
            ("required", SslMode::Required),
        ],
    )?;
    if view.global_ssl_off && ssl != SslMode::No {
        warnings.push("ssl: a filter enables ssl while the global ssl = no; it stays off".into());
        ssl = SslMode::No;
    }
    let ssl_min_protocol = g.choice(
        "ssl_min_protocol",
        &[
            ("SSLv3", TlsVersion::SslV3),
            ("TLSv1", TlsVersion::TlsV1),
            ("TLSv1.1", TlsVersion::TlsV1_1),
            ("TLSv1.2", TlsVersion::TlsV1_2),
            ("TLSv1.3", TlsVersion::TlsV1_3),
            ("ANY", TlsVersion::Any),
            ("LATEST", TlsVersion::Latest),
        ],
    )?;
    if ssl_min_protocol < TlsVersion::TlsV1_2 {
        warnings.push(
            "ssl_min_protocol: tern (rustls) supports TLS 1.2 and 1.3 only; older versions stay disabled"
                .into(),
        );
    }
    let shards =
        match g.string("shards")?.as_str() {
            "auto" => ShardCount::Auto,
            text => ShardCount::Fixed(text.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(
                || invalid("", "shards", g.explicit("shards"), "Invalid shard count"),
            )?),
        };
    let cpus = g.parse("shard_cpus", values::parse_cpu_list)?;
    let ssl_cert = g.file("ssl_cert")?;
    let ssl_key = g.file("ssl_key")?;
    let ssl_ca = g.file("ssl_ca")?;
    for (key, file) in [
        ("ssl_cert", &ssl_cert),
        ("ssl_key", &ssl_key),
        ("ssl_ca", &ssl_ca),
    ] {
        // A classic Dovecot mistake: without `<` the path itself is taken as PEM text.
        if let Some(FileValue {
            path: None,
            contents,
        }) = file
            && !contents.contains("-----BEGIN")
        {
            warnings.push(format!(
                "{key} is not PEM data; to read a file write {key} = <{}",
                contents.trim()
            ));
        }
    }
    let mut plugin = BTreeMap::new();
    for section in view
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Plugin)
    {
        for (key, value) in &section.settings {
            plugin.insert(key.clone(), value.text.clone());
        }
    }
    let mut namespace_names: Vec<Option<String>> = Vec::new();
    for s in view
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Namespace)
    {
        if !namespace_names.contains(&s.name) {
            namespace_names.push(s.name.clone());
        }
    }
    let mut namespaces = Vec::new();
    for name in namespace_names {
        let blocks: Vec<&Section> = view
            .sections
            .iter()
            .copied()
            .filter(|s| s.kind == SectionKind::Namespace && s.name == name)
            .collect();
        namespaces.push(namespace(&blocks)?);
    }
    let mut passdbs = Vec::new();
    let mut userdbs = Vec::new();
    for section in &view.sections {
        match section.kind {
            SectionKind::Passdb => passdbs.push(auth_db(section)?),
            SectionKind::Userdb => userdbs.push(auth_db(section)?),
            _ => {}
        }
    }
    check_templates(&g, warnings)?;
    Ok(Settings {
        state_dir: g.path("state_dir")?,
        log_path: g.string("log_path")?,
        info_log_path: g.string("info_log_path")?,
        debug_log_path: g.string("debug_log_path")?,
        login_greeting: g.string("login_greeting")?,
        hostname: g.string("hostname")?,
        postmaster_address: g.string("postmaster_address")?,
        protocols: protocols(&g.string("protocols")?, warnings)?,
        listen: g.list("listen")?,
        shutdown_clients: g.boolean("shutdown_clients")?,
        default_login_user: g.string("default_login_user")?,
        ssl,
        ssl_cert,
        ssl_key,
        ssl_key_password: Secret::new(g.string("ssl_key_password")?),
        ssl_ca,
        ssl_min_protocol,
        ssl_cipher_list: g.string("ssl_cipher_list")?,
        ssl_cipher_suites: g.string("ssl_cipher_suites")?,
        ssl_curve_list: g.string("ssl_curve_list")?,
        ssl_prefer_server_ciphers: g.boolean("ssl_prefer_server_ciphers")?,
        ssl_verify_client_cert: g.boolean("ssl_verify_client_cert")?,
        ssl_require_crl: g.boolean("ssl_require_crl")?,
        ssl_cert_username_field: g.string("ssl_cert_username_field")?,
        ssl_client_ca_dir: g.string("ssl_client_ca_dir")?,
        ssl_client_ca_file: g.string("ssl_client_ca_file")?,
        verbose_ssl: g.boolean("verbose_ssl")?,
        disable_plaintext_auth: g.boolean("disable_plaintext_auth")?,
        auth_mechanisms: g.list("auth_mechanisms")?,
        auth_username_format: g.string("auth_username_format")?,
        auth_username_chars: g.string("auth_username_chars")?,
        auth_username_translation: g.string("auth_username_translation")?,
        auth_realms: g.list("auth_realms")?,
        auth_default_realm: g.string("auth_default_realm")?,
        auth_failure_delay: g.duration("auth_failure_delay")?,
        auth_cache_size: g.size("auth_cache_size")?,
        auth_cache_ttl: g.duration("auth_cache_ttl")?,
        auth_cache_negative_ttl: g.duration("auth_cache_negative_ttl")?,
        auth_master_user_separator: g.string("auth_master_user_separator")?,
        auth_anonymous_username: g.string("auth_anonymous_username")?,
        auth_verbose: g.boolean("auth_verbose")?,
        auth_debug: g.boolean("auth_debug")?,
        auth_ssl_require_client_cert: g.boolean("auth_ssl_require_client_cert")?,
        auth_ssl_username_from_cert: g.boolean("auth_ssl_username_from_cert")?,
        passdbs,
        userdbs,
        mail_location: g.string("mail_location")?,
        mail_home: g.string("mail_home")?,
        mail_uid: g.string("mail_uid")?,
        mail_gid: g.string("mail_gid")?,
        mail_privileged_group: g.string("mail_privileged_group")?,
        mail_access_groups: g.string("mail_access_groups")?,
        first_valid_uid: g.u32("first_valid_uid")?,
        last_valid_uid: g.u32("last_valid_uid")?,
        first_valid_gid: g.u32("first_valid_gid")?,
        last_valid_gid: g.u32("last_valid_gid")?,
        mail_plugins: g.list("mail_plugins")?,
        mail_max_userip_connections: g.u32("mail_max_userip_connections")?,
        mail_debug: g.boolean("mail_debug")?,
        mail_fsync: g.choice(
            "mail_fsync",
            &[
                ("optimized", FsyncMode::Optimized),
                ("always", FsyncMode::Always),
                ("never", FsyncMode::Never),
            ],
        )?,
        mail_temp_dir: g.path("mail_temp_dir")?,
        mail_save_crlf: g.boolean("mail_save_crlf")?,
        mail_max_keyword_length: g.u32("mail_max_keyword_length")?,
        mailbox_idle_check_interval: g.duration("mailbox_idle_check_interval")?,
        namespaces,
        plugin: PluginSettings(plugin),
        login_trusted_networks: g.list("login_trusted_networks")?,
        haproxy_trusted_networks: g.list("haproxy_trusted_networks")?,
        haproxy_timeout: g.duration("haproxy_timeout")?,
        imap_client_workarounds: g.workarounds(
            "imap_client_workarounds",
            defs::WorkaroundSet::Imap,
            &[
                ("delay-newmail", ImapWorkaround::DelayNewmail),
                ("tb-extra-mailbox-sep", ImapWorkaround::TbExtraMailboxSep),
                ("tb-lsub-flags", ImapWorkaround::TbLsubFlags),
            ],
        )?,
        imap_capability: g.string("imap_capability")?,
        imap_max_line_length: g.size("imap_max_line_length")?,
        imap_idle_notify_interval: g.duration("imap_idle_notify_interval")?,
        imap_logout_format: g.string("imap_logout_format")?,
        imap_id_send: g.string("imap_id_send")?,
        imap_id_log: g.string("imap_id_log")?,
        rawlog_dir: g.string("rawlog_dir")?,
        imap_metadata: g.boolean("imap_metadata")?,
        imap_literal_minus: g.boolean("imap_literal_minus")?,
        imap_urlauth_host: g.string("imap_urlauth_host")?,
        imap_urlauth_port: g.port("imap_urlauth_port")?,
        pop3_uidl_format: g.string("pop3_uidl_format")?,
        pop3_client_workarounds: g.workarounds(
            "pop3_client_workarounds",
            defs::WorkaroundSet::Pop3,
            &[
                ("outlook-no-nuls", Pop3Workaround::OutlookNoNuls),
                ("oe-ns-eoh", Pop3Workaround::OeNsEoh),
            ],
        )?,
        pop3_lock_session: g.boolean("pop3_lock_session")?,
        pop3_no_flag_updates: g.boolean("pop3_no_flag_updates")?,
        pop3_enable_last: g.boolean("pop3_enable_last")?,
        pop3_reuse_xuidl: g.boolean("pop3_reuse_xuidl")?,
        pop3_save_uidl: g.boolean("pop3_save_uidl")?,
        pop3_logout_format: g.string("pop3_logout_format")?,
        recipient_delimiter: g.string("recipient_delimiter")?,
        lmtp_save_to_detail_mailbox: g.boolean("lmtp_save_to_detail_mailbox")?,
        lmtp_user_concurrency_limit: g.u32("lmtp_user_concurrency_limit")?,
        lmtp_rcpt_check_quota: g.boolean("lmtp_rcpt_check_quota")?,
        lmtp_add_received_header: g.boolean("lmtp_add_received_header")?,
        lmtp_client_workarounds: g.workarounds(
            "lmtp_client_workarounds",
            defs::WorkaroundSet::Lmtp,
            &[
                (
                    "whitespace-before-path",
                    LmtpWorkaround::WhitespaceBeforePath,
                ),
                ("mailbox-for-path", LmtpWorkaround::MailboxForPath),
            ],
        )?,
        lda_mailbox_autocreate: g.boolean("lda_mailbox_autocreate")?,
        lda_mailbox_autosubscribe: g.boolean("lda_mailbox_autosubscribe")?,
        quota_full_tempfail: g.boolean("quota_full_tempfail")?,
        doveadm_port: g.port("doveadm_port")?,
        doveadm_password: Secret::new(g.string("doveadm_password")?),
        dsync_remote_cmd: g.string("dsync_remote_cmd")?,
        replication_max_conns: g.u32("replication_max_conns")?,
        replication_full_sync_interval: g.duration("replication_full_sync_interval")?,
        replication_dsync_parameters: g.string("replication_dsync_parameters")?,
        shards,
        shard_cpus: if cpus.is_empty() { None } else { Some(cpus) },
        io_ring_depth: g.u32("io_ring_depth")?,
        mail_cache_max_memory: g.size("mail_cache_max_memory")?,
        lmtp_max_size: g.size("lmtp_max_size")?,
        login_max_ip_connections: g.u32("login_max_ip_connections")?,
        login_timeout: g.duration("login_timeout")?,
        lmtp_idle_timeout: g.duration("lmtp_idle_timeout")?,
        services: services(
            &view.sections,
            &base_dir,
            &default_internal_user,
            &values::split_list(&g.string("protocols")?),
        )?,
        base_dir,
        default_internal_user,
    })
}

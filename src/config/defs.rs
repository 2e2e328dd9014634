//! Registry of every setting tern knows: name, type, Dovecot 2.3 default, and whether
//! tern accepts it only for compatibility (with the warning to log when it is set).
//!
//! The parser uses it to reject unknown keys and bad values with a file:line, the
//! renderer to decide what differs from the default, and `settings.rs` for defaults.

use super::values::{self, ValueError};

/// Which closed list a workaround setting draws from (§8 of the config doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkaroundSet {
    Imap,
    Pop3,
    Lmtp,
}

impl WorkaroundSet {
    pub fn known(self) -> &'static [&'static str] {
        match self {
            WorkaroundSet::Imap => &["delay-newmail", "tb-extra-mailbox-sep", "tb-lsub-flags"],
            WorkaroundSet::Pop3 => &["outlook-no-nuls", "oe-ns-eoh"],
            WorkaroundSet::Lmtp => &["whitespace-before-path", "mailbox-for-path"],
        }
    }

    /// Names Dovecot still accepts but drops, with the reason it gives.
    pub fn obsolete(self) -> &'static [(&'static str, &'static str)] {
        match self {
            WorkaroundSet::Imap => &[
                ("outlook-idle", "no longer necessary"),
                ("netscape-eoh", "no longer supported"),
            ],
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Bool,
    Uint,
    Octal,
    Size,
    Time,
    Port,
    Enum(&'static [&'static str]),
    /// Free text, printed as written.
    Str,
    /// Space/comma separated list, printed as written (doveconf keeps `*, ::`).
    List,
    /// Workaround list: validated, printed single-space separated, obsolete names dropped.
    Workarounds(WorkaroundSet),
    /// `auto` or a positive number.
    Shards,
    /// `0-3,8`
    CpuList,
    /// IP networks (`10.0.0.0/8 ::1`), printed as written.
    Networks,
}

#[derive(Debug, Clone, Copy)]
pub struct SettingDef {
    pub name: &'static str,
    pub ty: ValueType,
    pub default: &'static str,
    /// Set when tern accepts the key only so Dovecot configs load; the text says why.
    pub ignored: Option<&'static str>,
    /// Printed by `config -n` whenever it was set explicitly, even to the default.
    /// Debian builds of Dovecot default `protocols` to empty, so `doveconf -n` shows it.
    pub always_print: bool,
}

const fn def(name: &'static str, ty: ValueType, default: &'static str) -> SettingDef {
    SettingDef {
        name,
        ty,
        default,
        ignored: None,
        always_print: false,
    }
}

const fn ign(
    name: &'static str,
    ty: ValueType,
    default: &'static str,
    why: &'static str,
) -> SettingDef {
    SettingDef {
        name,
        ty,
        default,
        ignored: Some(why),
        always_print: false,
    }
}

use ValueType::{Bool, CpuList, Enum, List, Octal, Port, Shards, Size, Str, Time, Uint};

const PROCESS_TUNING: &str =
    "tern runs one process with a fixed set of shards; Dovecot process tuning is ignored";
const NO_PLUGINS: &str = "tern has no plugin loader; quota, notify and replication are built in";
const SSL_PROTOCOL_LIST: &[&str] = &[
    "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "ANY", "LATEST",
];
const DB_RESULTS: &[&str] = &[
    "return-ok",
    "return",
    "return-fail",
    "continue",
    "continue-ok",
    "continue-fail",
];

/// Settings allowed at top level and inside filters (`protocol`, `local`, `remote`, `local_name`).
pub static GLOBAL: &[SettingDef] = &[
    // paths, logging, identity
    def("base_dir", Str, "/var/run/dovecot"),
    def("state_dir", Str, "/var/lib/dovecot"),
    def("instance_name", Str, "dovecot"),
    def("log_path", Str, "syslog"),
    def("info_log_path", Str, ""),
    def("debug_log_path", Str, ""),
    def("syslog_facility", Str, "mail"),
    def("log_timestamp", Str, "%b %d %H:%M:%S "),
    def("login_greeting", Str, "tern ready."),
    def(
        "login_log_format_elements",
        Str,
        "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>",
    ),
    def("login_log_format", Str, "%$: %s"),
    def("mail_log_prefix", Str, "%s(%u)<%{pid}><%{session}>: "),
    def("hostname", Str, ""),
    def(
        "postmaster_address",
        Str,
        "postmaster@%{if;%d;ne;;%d;%{hostname}}",
    ),
    SettingDef {
        always_print: true,
        ..def("protocols", List, "imap pop3 lmtp")
    },
    def("listen", List, "*, ::"),
    def("shutdown_clients", Bool, "yes"),
    def("default_internal_user", Str, "dovecot"),
    def("default_internal_group", Str, "dovecot"),
    def("default_login_user", Str, "dovenull"),
    ign("default_process_limit", Uint, "100", PROCESS_TUNING),
    ign("default_client_limit", Uint, "1000", PROCESS_TUNING),
    ign("default_vsz_limit", Size, "256M", PROCESS_TUNING),
    ign("default_idle_kill", Time, "1 min", PROCESS_TUNING),
    ign("version_ignore", Bool, "no", "tern is a single binary"),
    ign(
        "import_environment",
        Str,
        "TZ CORE_OUTOFMEM CORE_ERROR",
        "tern runs one process and keeps its own environment",
    ),
    // TLS
    def("ssl", Enum(&["yes", "no", "required"]), "yes"),
    def("ssl_cert", Str, ""),
    def("ssl_key", Str, ""),
    def("ssl_key_password", Str, ""),
    def("ssl_ca", Str, ""),
    ign(
        "ssl_dh",
        Str,
        "",
        "rustls only does ECDHE key exchange, which already gives forward secrecy",
    ),
    def("ssl_min_protocol", Enum(SSL_PROTOCOL_LIST), "TLSv1.2"),
    ign(
        "ssl_protocols",
        Str,
        "",
        "obsolete since Dovecot 2.3; use ssl_min_protocol",
    ),
    def(
        "ssl_cipher_list",
        Str,
        "ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@STRENGTH",
    ),
    def("ssl_cipher_suites", Str, ""),
    def("ssl_curve_list", Str, ""),
    def("ssl_prefer_server_ciphers", Bool, "no"),
    def("ssl_verify_client_cert", Bool, "no"),
    def("ssl_require_crl", Bool, "yes"),
    def("ssl_cert_username_field", Str, "commonName"),
    def("ssl_client_ca_dir", Str, ""),
    def("ssl_client_ca_file", Str, ""),
    def("ssl_client_cert", Str, ""),
    def("ssl_client_key", Str, ""),
    ign(
        "ssl_alt_cert",
        Str,
        "",
        "tern serves one certificate chain per listener or local_name",
    ),
    ign(
        "ssl_alt_key",
        Str,
        "",
        "tern serves one certificate chain per listener or local_name",
    ),
    ign(
        "ssl_crypto_device",
        Str,
        "",
        "rustls does not use OpenSSL engines",
    ),
    ign(
        "ssl_options",
        Str,
        "",
        "OpenSSL options do not apply to rustls",
    ),
    def("verbose_ssl", Bool, "no"),
    // authentication
    def("disable_plaintext_auth", Bool, "yes"),
    def("auth_mechanisms", List, "plain"),
    def("auth_username_format", Str, "%Lu"),
    def(
        "auth_username_chars",
        Str,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@",
    ),
    def("auth_username_translation", Str, ""),
    def("auth_realms", Str, ""),
    def("auth_default_realm", Str, ""),
    def("auth_failure_delay", Time, "2 secs"),
    def("auth_cache_size", Size, "0"),
    def("auth_cache_ttl", Time, "1 hour"),
    def("auth_cache_negative_ttl", Time, "1 hour"),
    def("auth_cache_verify_password_with_worker", Bool, "no"),
    def("auth_master_user_separator", Str, ""),
    def("auth_anonymous_username", Str, "anonymous"),
    def("auth_verbose", Bool, "no"),
    def("auth_verbose_passwords", Str, "no"),
    def("auth_debug", Bool, "no"),
    def("auth_debug_passwords", Bool, "no"),
    def("auth_ssl_require_client_cert", Bool, "no"),
    def("auth_ssl_username_from_cert", Bool, "no"),
    def("auth_socket_path", Str, "auth-userdb"),
    ign("auth_worker_max_count", Uint, "30", PROCESS_TUNING),
    ign("auth_gssapi_hostname", Str, "", "GSSAPI is not supported"),
    ign("auth_krb5_keytab", Str, "", "GSSAPI is not supported"),
    // mail
    def("mail_location", Str, ""),
    def("mail_home", Str, ""),
    def("mail_uid", Str, ""),
    def("mail_gid", Str, ""),
    def("mail_privileged_group", Str, ""),
    def("mail_access_groups", Str, ""),
    def("mail_full_filesystem_access", Bool, "no"),
    def("first_valid_uid", Uint, "500"),
    def("last_valid_uid", Uint, "0"),
    def("first_valid_gid", Uint, "1"),
    def("last_valid_gid", Uint, "0"),
    ign("mail_plugins", List, "", NO_PLUGINS),
    ign(
        "mail_plugin_dir",
        Str,
        "/usr/lib/dovecot/modules",
        NO_PLUGINS,
    ),
    def("mail_max_userip_connections", Uint, "10"),
    def("mail_debug", Bool, "no"),
    def(
        "mail_fsync",
        Enum(&["optimized", "always", "never"]),
        "optimized",
    ),
    def("mail_temp_dir", Str, "/tmp"),
    def("mail_chroot", Str, ""),
    def("valid_chroot_dirs", Str, ""),
    def("mail_save_crlf", Bool, "no"),
    def("mail_max_keyword_length", Uint, "50"),
    def("mail_cache_min_mail_count", Uint, "0"),
    def("mail_cache_fields", Str, "flags"),
    def("mail_always_cache_fields", Str, ""),
    def("mail_never_cache_fields", Str, "imap.envelope"),
    def("mail_prefetch_count", Uint, "0"),
    def("mail_attribute_dict", Str, ""),
    def("mail_shared_explicit_inbox", Bool, "no"),
    def("mail_server_admin", Str, ""),
    def("mailbox_idle_check_interval", Time, "30 secs"),
    def("mailbox_list_index", Bool, "yes"),
    def("mailbox_list_index_very_dirty_syncs", Bool, "no"),
    ign(
        "mail_nfs_storage",
        Bool,
        "no",
        "NFS mail storage is not supported",
    ),
    ign(
        "mail_nfs_index",
        Bool,
        "no",
        "NFS mail storage is not supported",
    ),
    ign("mmap_disable", Bool, "no", "tern does not mmap index files"),
    ign(
        "dotlock_use_excl",
        Bool,
        "yes",
        "tern does not use dotlocks for its indexes",
    ),
    ign(
        "lock_method",
        Enum(&["fcntl", "flock", "dotlock"]),
        "fcntl",
        "tern's shards own their mailboxes and need no index locks",
    ),
    def("maildir_stat_dirs", Bool, "no"),
    def("maildir_copy_with_hardlinks", Bool, "yes"),
    def("maildir_very_dirty_syncs", Bool, "no"),
    def("mbox_read_locks", Str, "fcntl"),
    def("mbox_write_locks", Str, "dotlock fcntl"),
    def("mbox_lock_timeout", Time, "5 mins"),
    def("mbox_dotlock_change_timeout", Time, "2 mins"),
    def("mbox_dirty_syncs", Bool, "yes"),
    def("mbox_very_dirty_syncs", Bool, "no"),
    def("mbox_lazy_writes", Bool, "yes"),
    def("mbox_min_index_size", Size, "0"),
    // login
    def("login_trusted_networks", ValueType::Networks, ""),
    ign(
        "login_access_sockets",
        Str,
        "",
        "login access sockets are not supported",
    ),
    def("haproxy_trusted_networks", ValueType::Networks, ""),
    def("haproxy_timeout", Time, "3 secs"),
    // IMAP
    def(
        "imap_client_workarounds",
        ValueType::Workarounds(WorkaroundSet::Imap),
        "",
    ),
    def("imap_capability", Str, ""),
    def("imap_max_line_length", Size, "64k"),
    def("imap_idle_notify_interval", Time, "2 mins"),
    def(
        "imap_logout_format",
        Str,
        "in=%i out=%o deleted=%{deleted} expunged=%{expunged} trashed=%{trashed} hdr_count=%{fetch_hdr_count} hdr_bytes=%{fetch_hdr_bytes} body_count=%{fetch_body_count} body_bytes=%{fetch_body_bytes}",
    ),
    def("imap_id_send", Str, "name *"),
    def("imap_id_log", Str, ""),
    def("imap_metadata", Bool, "no"),
    def("imap_literal_minus", Bool, "no"),
    def(
        "imap_fetch_failure",
        Enum(&["disconnect-immediately", "disconnect-after", "no-after"]),
        "disconnect-immediately",
    ),
    ign(
        "imap_hibernate_timeout",
        Time,
        "0",
        "IMAP hibernation is not needed: idle sessions already cost no process",
    ),
    ign("imap_urlauth_host", Str, "", "URLAUTH is not supported"),
    // POP3
    def("pop3_uidl_format", Str, "%08Xu%08Xv"),
    def(
        "pop3_client_workarounds",
        ValueType::Workarounds(WorkaroundSet::Pop3),
        "",
    ),
    def("pop3_lock_session", Bool, "no"),
    def("pop3_no_flag_updates", Bool, "no"),
    def("pop3_enable_last", Bool, "no"),
    def("pop3_reuse_xuidl", Bool, "no"),
    def("pop3_save_uidl", Bool, "no"),
    def("pop3_uidl_duplicates", Enum(&["allow", "rename"]), "allow"),
    def("pop3_deleted_flag", Str, ""),
    def(
        "pop3_delete_type",
        Enum(&["default", "expunge", "flag"]),
        "default",
    ),
    def("pop3_fast_size_lookups", Bool, "no"),
    def(
        "pop3_logout_format",
        Str,
        "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s",
    ),
    // LMTP / LDA
    def("recipient_delimiter", Str, "+"),
    def("lmtp_save_to_detail_mailbox", Bool, "no"),
    def("lmtp_user_concurrency_limit", Uint, "0"),
    def("lmtp_rcpt_check_quota", Bool, "no"),
    def("lmtp_add_received_header", Bool, "yes"),
    def(
        "lmtp_hdr_delivery_address",
        Enum(&["final", "none", "original"]),
        "final",
    ),
    def(
        "lmtp_client_workarounds",
        ValueType::Workarounds(WorkaroundSet::Lmtp),
        "",
    ),
    ign("lmtp_proxy", Bool, "no", "LMTP proxying is not supported"),
    def("lda_mailbox_autocreate", Bool, "no"),
    def("lda_mailbox_autosubscribe", Bool, "no"),
    def("lda_original_recipient_header", Str, ""),
    def("quota_full_tempfail", Bool, "no"),
    def("sendmail_path", Str, "/usr/sbin/sendmail"),
    def("submission_host", Str, ""),
    // doveadm and replication
    def("doveadm_port", Port, "0"),
    def("doveadm_password", Str, ""),
    def("doveadm_socket_path", Str, "doveadm-server"),
    ign("doveadm_worker_count", Uint, "0", PROCESS_TUNING),
    def(
        "dsync_remote_cmd",
        Str,
        "ssh -l%{login} %{host} doveadm dsync-server -u%u -U",
    ),
    def("replication_max_conns", Uint, "10"),
    def("replication_full_sync_interval", Time, "1 days"),
    def("replication_dsync_parameters", Str, "-d -N -l 30 -U"),
    // tern's own
    def("shards", Shards, "auto"),
    def("shard_cpus", CpuList, ""),
    def("io_ring_depth", Uint, "128"),
    def("mail_cache_max_memory", Size, "64M"),
    def("lmtp_max_size", Size, "50M"),
];

/// Dovecot 2.3 settings for features tern does not have. Accepted (with a warning
/// when set) so that existing configuration trees load unchanged.
pub static UNSUPPORTED: &[&str] = &[
    "auth_policy_check_after_auth",
    "auth_policy_check_before_auth",
    "auth_policy_hash_mech",
    "auth_policy_hash_nonce",
    "auth_policy_hash_truncate",
    "auth_policy_log_only",
    "auth_policy_reject_on_fail",
    "auth_policy_report_after_auth",
    "auth_policy_request_attributes",
    "auth_policy_server_api_header",
    "auth_policy_server_timeout_msecs",
    "auth_policy_server_url",
    "auth_proxy_self",
    "auth_stats",
    "auth_use_winbind",
    "auth_winbind_helper_path",
    "director_flush_socket",
    "director_mail_servers",
    "director_servers",
    "director_user_expire",
    "director_username_hash",
    "imap_urlauth_logout_format",
    "imap_urlauth_submit_user",
    "imap_urlauth_stream_user",
    "lmtp_proxy_rawlog_dir",
    "lmtp_rawlog_dir",
    "log_core_filter",
    "log_debug",
    "login_plugin_dir",
    "login_plugins",
    "login_proxy_max_disconnect_delay",
    "login_source_ips",
    "mail_attachment_detection_options",
    "mail_attachment_dir",
    "mail_attachment_fs",
    "mail_attachment_hash",
    "mail_attachment_min_size",
    "mail_max_lock_timeout",
    "mail_sort_max_read_count",
    "mail_vsize_bg_after_count",
    "mailbox_list_index_include_inbox",
    "managesieve_client_workarounds",
    "managesieve_implementation_string",
    "managesieve_logout_format",
    "managesieve_max_compile_errors",
    "managesieve_max_line_length",
    "managesieve_notify_capability",
    "managesieve_sieve_capability",
    "mdbox_preallocate_space",
    "mdbox_rotate_interval",
    "mdbox_rotate_size",
    "ssl_client_require_valid_cert",
    "stats_writer_socket_path",
    "submission_backend_capabilities",
    "submission_client_workarounds",
    "submission_logout_format",
    "submission_max_mail_size",
    "submission_max_recipients",
    "submission_relay_host",
    "submission_relay_master_user",
    "submission_relay_max_idle_time",
    "submission_relay_password",
    "submission_relay_port",
    "submission_relay_rawlog_dir",
    "submission_relay_ssl",
    "submission_relay_ssl_verify",
    "submission_relay_trusted",
    "submission_relay_user",
    "submission_timeout",
    "verbose_proctitle",
];

/// Registry entry for an `UNSUPPORTED` name (string-typed, empty default).
fn unsupported(name: &str) -> Option<&'static SettingDef> {
    static DEFS: std::sync::OnceLock<Vec<SettingDef>> = std::sync::OnceLock::new();
    DEFS.get_or_init(|| {
        UNSUPPORTED
            .iter()
            .map(|n| ign(n, Str, "", "not implemented by tern"))
            .collect()
    })
    .iter()
    .find(|d| d.name == name)
}

/// What `$protocols` stands for before any assignment. Debian builds Dovecot with an
/// empty default and lets `protocols.d/*.protocol` add `protocols = $protocols imap`;
/// using our non-empty default there would silently enable every protocol.
pub const PROTOCOLS_REFERENCE_DEFAULT: &str = "";

/// Dovecot 2.3's built-in unix/fifo listeners, as (service, path). An empty block for
/// one of these changes nothing, so `config -n` omits it as doveconf does.
pub static DEFAULT_FILE_LISTENERS: &[(&str, &str)] = &[
    ("aggregator", "replication-notify"),
    ("aggregator", "replication-notify-fifo"),
    ("anvil", "anvil"),
    ("anvil", "anvil-auth-penalty"),
    ("auth", "auth-client"),
    ("auth", "auth-login"),
    ("auth", "auth-master"),
    ("auth", "auth-userdb"),
    ("auth", "login/login"),
    ("auth", "token-login/tokenlogin"),
    ("auth-worker", "auth-worker"),
    ("config", "config"),
    ("dict", "dict"),
    ("dict-async", "dict-async"),
    ("director", "director-admin"),
    ("director", "director-userdb"),
    ("director", "login/director"),
    ("director", "login/proxy-notify"),
    ("dns-client", "dns-client"),
    ("dns-client", "login/dns-client"),
    ("doveadm", "doveadm-server"),
    ("health-check", "health-check"),
    ("imap", "login/imap"),
    ("imap-hibernate", "imap-hibernate"),
    ("imap-urlauth", "token-login/imap-urlauth"),
    ("imap-urlauth-login", "imap-urlauth"),
    ("imap-urlauth-worker", "imap-urlauth-worker"),
    ("indexer", "indexer"),
    ("indexer-worker", "indexer-worker"),
    ("ipc", "ipc"),
    ("ipc", "login/ipc-proxy"),
    ("lmtp", "lmtp"),
    ("log", "log-errors"),
    ("managesieve", "login/sieve"),
    ("old-stats", "old-stats"),
    ("old-stats", "old-stats-mail"),
    ("old-stats", "old-stats-user"),
    ("pop3", "login/pop3"),
    ("replicator", "replicator"),
    ("replicator", "replicator-doveadm"),
    ("stats", "stats-reader"),
    ("stats", "stats-writer"),
    ("submission", "login/submission"),
    ("tcpwrap", "login/tcpwrap"),
];

pub static SERVICE: &[SettingDef] = &[
    ign("process_min_avail", Uint, "0", PROCESS_TUNING),
    ign("process_limit", Uint, "0", PROCESS_TUNING),
    ign("client_limit", Uint, "0", PROCESS_TUNING),
    ign("service_count", Uint, "0", PROCESS_TUNING),
    ign("vsz_limit", Size, "0", PROCESS_TUNING),
    ign("idle_kill", Time, "0", PROCESS_TUNING),
    ign("drop_priv_before_exec", Bool, "no", PROCESS_TUNING),
    def("user", Str, ""),
    def("group", Str, ""),
    def("privileged_group", Str, ""),
    def("extra_groups", Str, ""),
    ign(
        "chroot",
        Str,
        "",
        "tern is a single process and does not chroot services",
    ),
    ign("executable", Str, "", "tern is a single binary"),
    def("type", Str, ""),
    def("protocol", Str, ""),
];

pub static INET_LISTENER: &[SettingDef] = &[
    def("address", List, ""),
    def("port", Port, "0"),
    def("ssl", Bool, "no"),
    def("haproxy", Bool, "no"),
    def("reuse_port", Bool, "no"),
];

pub static FILE_LISTENER: &[SettingDef] = &[
    def("mode", Octal, "0600"),
    def("user", Str, ""),
    def("group", Str, ""),
];

pub static PASSDB: &[SettingDef] = &[
    def("name", Str, ""),
    def("driver", Str, ""),
    def("args", Str, ""),
    def("default_fields", Str, ""),
    def("override_fields", Str, ""),
    def("deny", Bool, "no"),
    def("pass", Bool, "no"),
    def("master", Bool, "no"),
    def(
        "skip",
        Enum(&["never", "authenticated", "unauthenticated"]),
        "never",
    ),
    def("result_success", Enum(DB_RESULTS), "return-ok"),
    def("result_failure", Enum(DB_RESULTS), "continue"),
    def("result_internalfail", Enum(DB_RESULTS), "continue"),
    def("mechanisms", List, ""),
    def("username_filter", Str, ""),
    def("auth_verbose", Str, "default"),
];

pub static USERDB: &[SettingDef] = &[
    def("name", Str, ""),
    def("driver", Str, ""),
    def("args", Str, ""),
    def("default_fields", Str, ""),
    def("override_fields", Str, ""),
    def("skip", Enum(&["never", "found", "notfound"]), "never"),
    def("result_success", Enum(DB_RESULTS), "return-ok"),
    def("result_failure", Enum(DB_RESULTS), "continue"),
    def("result_internalfail", Enum(DB_RESULTS), "continue"),
    def("auth_verbose", Str, "default"),
];

pub static NAMESPACE: &[SettingDef] = &[
    def("type", Enum(&["private", "shared", "public"]), "private"),
    def("separator", Str, ""),
    def("prefix", Str, ""),
    def("location", Str, ""),
    def("alias_for", Str, ""),
    def("inbox", Bool, "no"),
    def("hidden", Bool, "no"),
    def("list", Enum(&["yes", "no", "children"]), "yes"),
    def("subscriptions", Bool, "yes"),
    def("ignore_on_failure", Bool, "no"),
    def("disabled", Bool, "no"),
    def("order", Uint, "0"),
];

pub static MAILBOX: &[SettingDef] = &[
    def("auto", Enum(&["no", "create", "subscribe"]), "no"),
    def("special_use", Str, ""),
    def("driver", Str, ""),
    def("comment", Str, ""),
    def("autoexpunge", Time, "0"),
    def("autoexpunge_max_mails", Uint, "0"),
];

/// Service names tern accepts in `service NAME { }` (Dovecot's, so existing configs load).
pub static SERVICE_NAMES: &[&str] = &[
    "aggregator",
    "anvil",
    "auth",
    "auth-worker",
    "config",
    "dict",
    "dict-async",
    "director",
    "dns-client",
    "dns_client",
    "doveadm",
    "health-check",
    "imap",
    "imap-hibernate",
    "imap-login",
    "imap-urlauth",
    "imap-urlauth-login",
    "imap-urlauth-worker",
    "indexer",
    "indexer-worker",
    "ipc",
    "lmtp",
    "log",
    "managesieve",
    "managesieve-login",
    "old-stats",
    "pop3",
    "pop3-login",
    "quota-status",
    "replicator",
    "stats",
    "submission",
    "submission-login",
    "tcpwrap",
];

/// What kind of `{ }` block a section is; decides its keys and what may nest in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SectionKind {
    Root,
    Protocol,
    Local,
    Remote,
    LocalName,
    Service,
    InetListener,
    UnixListener,
    FifoListener,
    Passdb,
    Userdb,
    Namespace,
    Mailbox,
    Plugin,
    Dict,
}

/// Which keys a section accepts.
pub enum KeySet {
    Table(&'static [SettingDef]),
    /// Free-form (`plugin { }`): any key, any value.
    Free,
}

impl SectionKind {
    pub const ALL_NAMED: &'static [SectionKind] = &[
        SectionKind::Protocol,
        SectionKind::Local,
        SectionKind::Remote,
        SectionKind::LocalName,
        SectionKind::Service,
        SectionKind::InetListener,
        SectionKind::UnixListener,
        SectionKind::FifoListener,
        SectionKind::Passdb,
        SectionKind::Userdb,
        SectionKind::Namespace,
        SectionKind::Mailbox,
        SectionKind::Plugin,
        SectionKind::Dict,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            SectionKind::Root => "",
            SectionKind::Protocol => "protocol",
            SectionKind::Local => "local",
            SectionKind::Remote => "remote",
            SectionKind::LocalName => "local_name",
            SectionKind::Service => "service",
            SectionKind::InetListener => "inet_listener",
            SectionKind::UnixListener => "unix_listener",
            SectionKind::FifoListener => "fifo_listener",
            SectionKind::Passdb => "passdb",
            SectionKind::Userdb => "userdb",
            SectionKind::Namespace => "namespace",
            SectionKind::Mailbox => "mailbox",
            SectionKind::Plugin => "plugin",
            SectionKind::Dict => "dict",
        }
    }

    pub fn from_keyword(word: &str) -> Option<SectionKind> {
        Self::ALL_NAMED
            .iter()
            .copied()
            .find(|k| k.keyword() == word)
    }

    pub fn is_filter(self) -> bool {
        matches!(
            self,
            SectionKind::Protocol
                | SectionKind::Local
                | SectionKind::Remote
                | SectionKind::LocalName
        )
    }

    /// Keys valid directly inside a section of this kind.
    pub fn keys(self) -> KeySet {
        match self {
            SectionKind::Root
            | SectionKind::Protocol
            | SectionKind::Local
            | SectionKind::Remote
            | SectionKind::LocalName => KeySet::Table(GLOBAL),
            SectionKind::Service => KeySet::Table(SERVICE),
            SectionKind::InetListener => KeySet::Table(INET_LISTENER),
            SectionKind::UnixListener | SectionKind::FifoListener => KeySet::Table(FILE_LISTENER),
            SectionKind::Passdb => KeySet::Table(PASSDB),
            SectionKind::Userdb => KeySet::Table(USERDB),
            SectionKind::Namespace => KeySet::Table(NAMESPACE),
            SectionKind::Mailbox => KeySet::Table(MAILBOX),
            SectionKind::Plugin | SectionKind::Dict => KeySet::Free,
        }
    }

    /// Whether a section name is required after the keyword.
    pub fn name_required(self) -> bool {
        matches!(
            self,
            SectionKind::Protocol
                | SectionKind::Local
                | SectionKind::Remote
                | SectionKind::LocalName
                | SectionKind::Service
                | SectionKind::UnixListener
                | SectionKind::FifoListener
                | SectionKind::Namespace
                | SectionKind::Mailbox
        )
    }

    /// Repeated blocks form an ordered list instead of merging by name.
    pub fn repeatable(self, name: Option<&str>) -> bool {
        match self {
            SectionKind::Passdb | SectionKind::Userdb => true,
            SectionKind::InetListener => name.is_none(),
            _ => false,
        }
    }

    /// Whether `child` may be opened directly inside `self`; `None` = allowed,
    /// otherwise the reason for the error.
    pub fn child_error(self, child: SectionKind) -> Option<&'static str> {
        use SectionKind::*;
        let allowed = match self {
            Root => !matches!(child, InetListener | UnixListener | FifoListener | Mailbox),
            Protocol => matches!(child, Namespace | Plugin),
            Local => matches!(
                child,
                Protocol | LocalName | Remote | Local | Namespace | Plugin
            ),
            Remote => matches!(child, Protocol | Namespace | Plugin),
            LocalName => matches!(child, Protocol | Remote | Namespace | Plugin),
            Service => matches!(child, InetListener | UnixListener | FifoListener),
            Namespace => child == Mailbox,
            InetListener | UnixListener | FifoListener | Passdb | Userdb | Mailbox | Plugin
            | Dict => false,
        };
        if allowed {
            return None;
        }
        Some(match (self, child) {
            (Local | Remote, Passdb | Userdb) => {
                "Auth settings not supported inside local/remote blocks"
            }
            (Protocol, Protocol) => "protocol filter not allowed inside protocol filter",
            (Remote, Local) => "local filter not allowed inside remote filter (put local outside)",
            (_, InetListener | UnixListener | FifoListener) => {
                "listeners belong inside a service section"
            }
            (_, Mailbox) => "mailbox sections belong inside a namespace section",
            _ => "section not allowed here",
        })
    }
}

/// Looks up a key in a table (for the global table, the unsupported names too).
pub fn find(table: &'static [SettingDef], name: &str) -> Option<&'static SettingDef> {
    table.iter().find(|d| d.name == name).or_else(|| {
        if std::ptr::eq(table, GLOBAL) {
            unsupported(name)
        } else {
            None
        }
    })
}

pub fn global(name: &str) -> Option<&'static SettingDef> {
    find(GLOBAL, name)
}

/// Auth settings are not allowed inside `local`/`remote` filters.
pub fn is_auth_setting(name: &str) -> bool {
    name.starts_with("auth_")
}

/// Keys whose values `config -n` hides unless asked to show secrets.
pub fn is_secret(name: &str) -> bool {
    name.ends_with("_password")
        || name.ends_with("_key")
        || name.ends_with("_nonce")
        || name.starts_with("ssl_dh")
}

/// Checks a value against its type and returns the form doveconf prints.
pub fn normalize(ty: ValueType, text: &str) -> Result<String, ValueError> {
    Ok(match ty {
        ValueType::Bool => values::format_bool(values::parse_bool(text)?).to_string(),
        ValueType::Uint => values::parse_uint(text)?.to_string(),
        ValueType::Octal => values::format_octal(values::parse_octal(text)?),
        ValueType::Size => values::format_size(values::parse_size(text)?),
        ValueType::Time => values::format_time_ms(values::parse_time_ms(text)?),
        ValueType::Port => values::parse_port(text)?.to_string(),
        ValueType::Enum(allowed) => {
            if !allowed.contains(&text) {
                return Err(ValueError::Enum {
                    value: text.to_string(),
                    allowed: allowed.join(", "),
                });
            }
            text.to_string()
        }
        ValueType::Str | ValueType::List => text.to_string(),
        ValueType::Workarounds(set) => workarounds(set, text)?.kept.join(" "),
        ValueType::Shards => {
            if text == "auto" {
                text.to_string()
            } else {
                match values::parse_uint(text) {
                    Ok(n) if (1..=4096).contains(&n) => n.to_string(),
                    _ => return Err(ValueError::Shards(text.to_string())),
                }
            }
        }
        ValueType::CpuList => {
            values::parse_cpu_list(text)?;
            text.trim().to_string()
        }
        ValueType::Networks => {
            if let Some(bad) = values::split_list(text)
                .into_iter()
                .find(|w| super::tree::Network::parse(w).is_none())
            {
                return Err(ValueError::Network(bad.to_string()));
            }
            text.to_string()
        }
    })
}

/// A validated workaround list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workarounds {
    /// Known names, lower-cased, without duplicates.
    pub kept: Vec<String>,
    /// Obsolete names that were dropped, each with Dovecot's reason.
    pub dropped: Vec<(String, &'static str)>,
}

pub fn workarounds(set: WorkaroundSet, text: &str) -> Result<Workarounds, ValueError> {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for word in values::split_list(text) {
        let lower = word.to_ascii_lowercase();
        if set.known().contains(&lower.as_str()) {
            if !kept.contains(&lower) {
                kept.push(lower);
            }
        } else if let Some((_, why)) = set.obsolete().iter().find(|(n, _)| *n == lower) {
            dropped.push((lower, *why));
        } else {
            return Err(ValueError::Workaround(word.to_string()));
        }
    }
    Ok(Workarounds { kept, dropped })
}

/// Levenshtein distance, for "did you mean" suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b_chars: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b_chars.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b_chars.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            let insert = current[j] + 1;
            let delete = previous[j + 1] + 1;
            current.push(substitute.min(insert).min(delete));
        }
        previous = current;
    }
    previous[b_chars.len()]
}

/// The closest candidate, if it is close enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_is_valid_for_its_type() {
        for table in [
            GLOBAL,
            SERVICE,
            INET_LISTENER,
            FILE_LISTENER,
            PASSDB,
            USERDB,
            NAMESPACE,
            MAILBOX,
        ] {
            for d in table {
                assert!(
                    normalize(d.ty, d.default).is_ok(),
                    "bad default for {}",
                    d.name
                );
            }
        }
    }

    #[test]
    fn no_duplicate_names() {
        let mut names: Vec<&str> = GLOBAL.iter().map(|d| d.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn brief_settings_are_registered() {
        for name in [
            "base_dir",
            "ssl_dh",
            "auth_username_chars",
            "mail_fsync",
            "shards",
            "shard_cpus",
            "io_ring_depth",
            "mail_cache_max_memory",
            "lmtp_max_size",
            "replication_dsync_parameters",
            "lmtp_user_concurrency_limit",
            "imap_idle_notify_interval",
            "pop3_enable_last",
        ] {
            assert!(global(name).is_some(), "{name} missing");
        }
        assert_eq!(
            global("login_greeting").map(|d| d.default),
            Some("tern ready.")
        );
        assert!(global("ssl_dh").and_then(|d| d.ignored).is_some());
    }

    #[test]
    fn secrets() {
        assert!(is_secret("doveadm_password"));
        assert!(is_secret("ssl_key"));
        assert!(is_secret("ssl_dh"));
        assert!(is_secret("oauth_nonce"));
        assert!(!is_secret("ssl_cert"));
        assert!(!is_secret("ssl_key_file_x"));
    }

    #[test]
    fn workaround_validation() {
        let Workarounds { kept, dropped } = workarounds(
            WorkaroundSet::Imap,
            "delay-newmail,Outlook-Idle tb-lsub-flags",
        )
        .unwrap();
        assert_eq!(kept, vec!["delay-newmail", "tb-lsub-flags"]);
        assert_eq!(
            dropped,
            vec![("outlook-idle".to_string(), "no longer necessary")]
        );
        assert_eq!(
            workarounds(WorkaroundSet::Pop3, "oe-ns-eoh bogus").map(|w| w.kept),
            Err(ValueError::Workaround("bogus".into()))
        );
        assert_eq!(
            normalize(
                ValueType::Workarounds(WorkaroundSet::Pop3),
                "outlook-no-nuls,  oe-ns-eoh"
            )
            .unwrap(),
            "outlook-no-nuls oe-ns-eoh"
        );
    }

    #[test]
    fn normalizing() {
        assert_eq!(normalize(Size, "64k").unwrap(), "64 k");
        assert_eq!(normalize(Time, "120 secs").unwrap(), "2 mins");
        assert_eq!(normalize(Bool, "Y").unwrap(), "yes");
        assert_eq!(normalize(Shards, "auto").unwrap(), "auto");
        assert_eq!(normalize(Shards, "8").unwrap(), "8");
        assert!(normalize(Shards, "0").is_err());
        assert!(normalize(Enum(&["a", "b"]), "c").is_err());
    }

    #[test]
    fn suggestions() {
        let names = GLOBAL.iter().map(|d| d.name);
        assert_eq!(suggest("auth_mechanism", names), Some("auth_mechanisms"));
        assert_eq!(
            suggest("Auth_Mechanisms", GLOBAL.iter().map(|d| d.name)),
            Some("auth_mechanisms")
        );
        assert_eq!(suggest("zzzzzzzz", GLOBAL.iter().map(|d| d.name)), None);
    }
}

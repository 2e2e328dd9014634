//! Typed settings built from the parsed tree: what the server reads.
//!
//! `Settings` is plain data (`Clone + Send + Sync`), cloned into every shard. Secrets are
//! wrapped so that `Debug` output (and therefore logs) never shows them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::defs;
use super::tree::Network;

/// A password or key. `Debug` prints `<hidden>` unless it is empty.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(\"\")")
        } else {
            f.write_str("Secret(<hidden>)")
        }
    }
}

/// `plugin { }` settings. Derefs to the map; `Debug` masks values whose key looks
/// secret (`*_password`, `*_key`, …).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PluginSettings(pub BTreeMap<String, String>);

impl std::ops::Deref for PluginSettings {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::fmt::Debug for PluginSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in &self.0 {
            if defs::is_secret(key) {
                map.entry(key, &"<hidden>");
            } else {
                map.entry(key, value);
            }
        }
        map.finish()
    }
}

/// A value given as `<path` (path set) or inline (path `None`). `Debug` shows the path
/// and the length only: contents may be a private key.
#[derive(Clone, PartialEq, Eq)]
pub struct FileValue {
    pub path: Option<PathBuf>,
    pub contents: String,
}

impl std::fmt::Debug for FileValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileValue")
            .field("path", &self.path)
            .field("contents_len", &self.contents.len())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    No,
    Yes,
    Required,
}

/// `ssl_min_protocol`. rustls speaks TLS 1.2 and 1.3 only, so anything lower acts as 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    SslV3,
    TlsV1,
    TlsV1_1,
    TlsV1_2,
    TlsV1_3,
    /// `ANY`: the lowest the library supports.
    Any,
    /// `LATEST`: only the newest.
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Imap,
    Pop3,
    Lmtp,
    Submission,
    Sieve,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Lmtp => "lmtp",
            Protocol::Submission => "submission",
            Protocol::Sieve => "sieve",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardCount {
    /// One shard per CPU the process may run on.
    Auto,
    Fixed(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncMode {
    Optimized,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapWorkaround {
    DelayNewmail,
    TbExtraMailboxSep,
    TbLsubFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop3Workaround {
    OutlookNoNuls,
    OeNsEoh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LmtpWorkaround {
    WhitespaceBeforePath,
    MailboxForPath,
}

/// passdb `skip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthDbSkip {
    Never,
    Authenticated,
    Unauthenticated,
    Found,
    NotFound,
}

/// passdb/userdb `result_success` / `result_failure` / `result_internalfail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthDbResult {
    ReturnOk,
    Return,
    ReturnFail,
    Continue,
    ContinueOk,
    ContinueFail,
}

/// One `passdb { }` or `userdb { }` block, in configuration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthDbSettings {
    pub name: String,
    pub driver: String,
    /// May contain secrets (`password=` in SQL connect strings).
    pub args: Secret,
    pub default_fields: String,
    pub override_fields: String,
    pub deny: bool,
    pub pass: bool,
    pub master: bool,
    pub skip: AuthDbSkip,
    pub result_success: AuthDbResult,
    pub result_failure: AuthDbResult,
    pub result_internalfail: AuthDbResult,
    /// passdb only; empty = all mechanisms.
    pub mechanisms: Vec<String>,
    /// passdb only.
    pub username_filter: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetListener {
    pub name: Option<String>,
    /// `None` = use the global `listen`.
    pub address: Option<Vec<String>>,
    pub port: u16,
    /// Implicit TLS.
    pub ssl: bool,
    pub haproxy: bool,
    pub reuse_port: bool,
}

/// A `unix_listener` or `fifo_listener`; a relative path is resolved under `base_dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixListener {
    pub path: PathBuf,
    pub mode: u32,
    pub user: String,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    pub name: String,
    pub process_min_avail: u32,
    pub process_limit: u32,
    pub client_limit: u32,
    pub service_count: u32,
    pub vsz_limit: u64,
    pub user: String,
    pub group: String,
    pub chroot: String,
    pub executable: String,
    /// Enabled listeners only: `port = 0` removes one.
    pub inet_listeners: Vec<InetListener>,
    pub unix_listeners: Vec<UnixListener>,
    pub fifo_listeners: Vec<UnixListener>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceType {
    Private,
    Shared,
    Public,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceList {
    Yes,
    No,
    Children,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxAuto {
    No,
    Create,
    Subscribe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSettings {
    pub name: String,
    pub auto: MailboxAuto,
    /// e.g. `\Drafts`, `\Sent`.
    pub special_use: Vec<String>,
    pub autoexpunge: Duration,
    pub autoexpunge_max_mails: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceSettings {
    pub name: String,
    pub ns_type: NamespaceType,
    pub separator: String,
    pub prefix: String,
    pub location: String,
    pub alias_for: String,
    pub inbox: bool,
    pub hidden: bool,
    pub list: NamespaceList,
    pub subscriptions: bool,
    pub ignore_on_failure: bool,
    pub disabled: bool,
    pub mailboxes: Vec<MailboxSettings>,
}

/// Everything the server reads from the configuration, with Dovecot 2.3 defaults.
/// `%` variables are left unexpanded (see `vars`); `$references` are expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    // paths, logging, identity
    pub base_dir: PathBuf,
    pub state_dir: PathBuf,
    pub log_path: String,
    pub info_log_path: String,
    pub debug_log_path: String,
    pub login_greeting: String,
    /// Empty = the system host name.
    pub hostname: String,
    pub postmaster_address: String,
    pub protocols: Vec<Protocol>,
    pub listen: Vec<String>,
    pub shutdown_clients: bool,
    pub default_internal_user: String,
    pub default_login_user: String,
    // TLS
    pub ssl: SslMode,
    pub ssl_cert: Option<FileValue>,
    pub ssl_key: Option<FileValue>,
    pub ssl_key_password: Secret,
    pub ssl_ca: Option<FileValue>,
    pub ssl_min_protocol: TlsVersion,
    /// OpenSSL cipher string for TLS ≤ 1.2; `net/` maps what it can to rustls suites.
    pub ssl_cipher_list: String,
    /// TLS 1.3 suites (OpenSSL names).
    pub ssl_cipher_suites: String,
    pub ssl_curve_list: String,
    pub ssl_prefer_server_ciphers: bool,
    pub ssl_verify_client_cert: bool,
    pub ssl_require_crl: bool,
    pub ssl_cert_username_field: String,
    pub ssl_client_ca_dir: String,
    pub ssl_client_ca_file: String,
    pub verbose_ssl: bool,
    // authentication
    pub disable_plaintext_auth: bool,
    pub auth_mechanisms: Vec<String>,
    pub auth_username_format: String,
    pub auth_username_chars: String,
    pub auth_username_translation: String,
    pub auth_realms: Vec<String>,
    pub auth_default_realm: String,
    pub auth_failure_delay: Duration,
    pub auth_cache_size: u64,
    pub auth_cache_ttl: Duration,
    pub auth_cache_negative_ttl: Duration,
    pub auth_master_user_separator: String,
    pub auth_anonymous_username: String,
    pub auth_verbose: bool,
    pub auth_debug: bool,
    pub auth_ssl_require_client_cert: bool,
    pub auth_ssl_username_from_cert: bool,
    pub passdbs: Vec<AuthDbSettings>,
    pub userdbs: Vec<AuthDbSettings>,
    // mail
    pub mail_location: String,
    pub mail_home: String,
    pub mail_uid: String,
    pub mail_gid: String,
    pub mail_privileged_group: String,
    pub mail_access_groups: String,
    pub first_valid_uid: u32,
    pub last_valid_uid: u32,
    pub first_valid_gid: u32,
    pub last_valid_gid: u32,
    pub mail_plugins: Vec<String>,
    pub mail_max_userip_connections: u32,
    pub mail_debug: bool,
    pub mail_fsync: FsyncMode,
    pub mail_temp_dir: PathBuf,
    pub mail_save_crlf: bool,
    pub mail_max_keyword_length: u32,
    pub mailbox_idle_check_interval: Duration,
    pub namespaces: Vec<NamespaceSettings>,
    /// `plugin { }` (e.g. `mail_replica`, `quota`), merged with matching filters.
    pub plugin: PluginSettings,
    // login
    /// Clients from these networks count as secured and may forward client data.
    pub login_trusted_networks: Vec<Network>,
    pub haproxy_trusted_networks: Vec<Network>,
    pub haproxy_timeout: Duration,
    // IMAP
    pub imap_client_workarounds: Vec<ImapWorkaround>,
    pub imap_capability: String,
    pub imap_max_line_length: u64,
    pub imap_idle_notify_interval: Duration,
    pub imap_logout_format: String,
    pub imap_id_send: String,
    pub imap_id_log: String,
    pub imap_metadata: bool,
    pub imap_literal_minus: bool,
    // POP3
    pub pop3_uidl_format: String,
    pub pop3_client_workarounds: Vec<Pop3Workaround>,
    pub pop3_lock_session: bool,
    pub pop3_no_flag_updates: bool,
    pub pop3_enable_last: bool,
    pub pop3_reuse_xuidl: bool,
    pub pop3_save_uidl: bool,
    pub pop3_logout_format: String,
    // LMTP / LDA
    pub recipient_delimiter: String,
    pub lmtp_save_to_detail_mailbox: bool,
    pub lmtp_user_concurrency_limit: u32,
    pub lmtp_rcpt_check_quota: bool,
    pub lmtp_add_received_header: bool,
    pub lmtp_client_workarounds: Vec<LmtpWorkaround>,
    pub lda_mailbox_autocreate: bool,
    pub lda_mailbox_autosubscribe: bool,
    pub quota_full_tempfail: bool,
    // doveadm and replication
    pub doveadm_port: u16,
    pub doveadm_password: Secret,
    pub dsync_remote_cmd: String,
    pub replication_max_conns: u32,
    pub replication_full_sync_interval: Duration,
    pub replication_dsync_parameters: String,
    // tern's own
    pub shards: ShardCount,
    /// `None` = choose CPUs automatically.
    pub shard_cpus: Option<Vec<usize>>,
    pub io_ring_depth: u32,
    pub mail_cache_max_memory: u64,
    pub lmtp_max_size: u64,
    /// All services, including the defaults (imap-login 143/993, pop3-login 110/995,
    /// lmtp unix socket, doveadm, replicator, aggregator) merged with the config.
    pub services: Vec<ServiceSettings>,
}

impl Settings {
    pub fn service(&self, name: &str) -> Option<&ServiceSettings> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Whether a client address counts as secured by `login_trusted_networks` (§6.1;
    /// TLS and client IP == local IP are the caller's checks).
    pub fn is_trusted_client(&self, ip: IpAddr) -> bool {
        self.login_trusted_networks.iter().any(|n| n.contains(ip))
    }

    /// The socket addresses an inet listener binds: its own `address`, else the global
    /// `listen`. `*` is every IPv4 address, `::` every IPv6 address. Host names are
    /// resolved, which blocks: call at start-up, never on a shard thread.
    pub fn bind_addresses(&self, listener: &InetListener) -> Result<Vec<SocketAddr>, ConfigError> {
        let port = listener.port;
        let words = listener.address.as_ref().unwrap_or(&self.listen);
        let mut out: Vec<SocketAddr> = Vec::new();
        for word in words {
            let resolved: Vec<SocketAddr> = match word.as_str() {
                "*" => vec![SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, port))],
                "::" | "[::]" => vec![SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port))],
                other => {
                    let bare = other
                        .strip_prefix('[')
                        .and_then(|h| h.strip_suffix(']'))
                        .unwrap_or(other);
                    match bare.parse::<IpAddr>() {
                        Ok(ip) => vec![SocketAddr::new(ip, port)],
                        Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&(bare, port))
                            .map_err(|e| {
                                ConfigError::Invalid(format!(
                                    "listen: couldn't resolve {bare}: {e}"
                                ))
                            })?
                            .collect(),
                    }
                }
            };
            for addr in resolved {
                if !out.contains(&addr) {
                    out.push(addr);
                }
            }
        }
        Ok(out)
    }

    /// Plugin setting (`plugin { mail_replica = … }`).
    pub fn plugin_setting(&self, key: &str) -> Option<&str> {
        self.plugin.get(key).map(String::as_str)
    }
}

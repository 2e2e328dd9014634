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

/// Passwords and keys in the config (`ssl_key_password`, passdb `args`).
pub use crate::auth::secret::Secret;

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

impl<'a> IntoIterator for &'a PluginSettings {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
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
    pub args: Secret<String>,
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
    // ---- paths, logging, identity
    /// Runtime directory; relative unix listener paths live here (default `/run/dovecot`).
    pub base_dir: PathBuf,
    /// Persistent state (default `/var/lib/dovecot`).
    pub state_dir: PathBuf,
    /// Error log: a file path, or `syslog` (the default).
    pub log_path: String,
    /// Info log; empty = same as `log_path`.
    pub info_log_path: String,
    /// Debug log; empty = same as `info_log_path`.
    pub debug_log_path: String,
    /// IMAP/POP3 greeting text (default `tern ready.`).
    pub login_greeting: String,
    /// Host name used in greetings and `%{hostname}`; empty = the system host name.
    pub hostname: String,
    /// Sender of bounces and rejects; contains `%` variables (`%d`, `%{hostname}`).
    pub postmaster_address: String,
    /// Enabled protocols; a service of a protocol not listed does not start.
    pub protocols: Vec<Protocol>,
    /// Addresses for inet listeners without their own `address`: `*` = all IPv4,
    /// `::` = all IPv6 (see `bind_addresses`).
    pub listen: Vec<String>,
    /// Whether stopping the server disconnects logged-in clients.
    pub shutdown_clients: bool,
    /// Unprivileged user for internal services (`dovecot`).
    pub default_internal_user: String,
    /// Unprivileged user for pre-login work (`dovenull`).
    pub default_login_user: String,
    // ---- TLS
    /// `no`: no TLS; `yes`: STARTTLS and implicit TLS offered; `required`: no
    /// authentication before TLS (trusted/local clients excepted, §6.1).
    pub ssl: SslMode,
    /// Server certificate PEM; further certificates in it are the chain.
    pub ssl_cert: Option<FileValue>,
    /// Private key PEM.
    pub ssl_key: Option<FileValue>,
    /// Password of an encrypted `ssl_key`.
    pub ssl_key_password: Secret<String>,
    /// CA certificates (and CRLs) to verify *client* certificates; not the server chain.
    pub ssl_ca: Option<FileValue>,
    /// Lowest TLS version; rustls floors it at TLS 1.2.
    pub ssl_min_protocol: TlsVersion,
    /// OpenSSL cipher string for TLS ≤ 1.2; `net/` maps what it can to rustls suites.
    pub ssl_cipher_list: String,
    /// TLS 1.3 suites (OpenSSL names); empty = library default.
    pub ssl_cipher_suites: String,
    /// Key exchange groups (OpenSSL names); empty = library default.
    pub ssl_curve_list: String,
    /// The server's cipher order wins over the client's.
    pub ssl_prefer_server_ciphers: bool,
    /// Ask clients for a certificate (verified against `ssl_ca`).
    pub ssl_verify_client_cert: bool,
    /// Client certificate checks need CRLs in `ssl_ca`.
    pub ssl_require_crl: bool,
    /// Certificate field that gives the user name (`commonName`).
    pub ssl_cert_username_field: String,
    /// CA directory for outgoing TLS (replication over `tcps:`).
    pub ssl_client_ca_dir: String,
    /// CA file for outgoing TLS.
    pub ssl_client_ca_file: String,
    /// Log TLS-level errors and alerts.
    pub verbose_ssl: bool,
    // ---- authentication
    /// Refuse plaintext mechanisms (LOGIN, PLAIN, USER/PASS) on unsecured connections.
    pub disable_plaintext_auth: bool,
    /// SASL mechanisms offered (`plain login …`), lower-case as written.
    pub auth_mechanisms: Vec<String>,
    /// Applied to the login name before lookups (`%Lu` lower-cases it).
    pub auth_username_format: String,
    /// Characters allowed in user names; empty = anything.
    pub auth_username_chars: String,
    /// Character pairs translated in user names (`#@/@`).
    pub auth_username_translation: String,
    /// Realms offered to DIGEST-MD5.
    pub auth_realms: Vec<String>,
    /// Domain appended to names without one.
    pub auth_default_realm: String,
    /// Delay before answering a failed authentication (default 2 s).
    pub auth_failure_delay: Duration,
    /// Authentication cache size in bytes; 0 disables the cache.
    pub auth_cache_size: u64,
    /// Lifetime of positive cache entries (default 1 hour).
    pub auth_cache_ttl: Duration,
    /// Lifetime of negative cache entries (default 1 hour).
    pub auth_cache_negative_ttl: Duration,
    /// Separator for master-user logins (`user*master`); empty = disabled.
    pub auth_master_user_separator: String,
    /// User name for the ANONYMOUS mechanism.
    pub auth_anonymous_username: String,
    /// Log failed authentications.
    pub auth_verbose: bool,
    /// Log authentication debugging.
    pub auth_debug: bool,
    /// Require a valid client certificate before authentication.
    pub auth_ssl_require_client_cert: bool,
    /// Take the user name from the client certificate.
    pub auth_ssl_username_from_cert: bool,
    /// `passdb { }` blocks in order.
    pub passdbs: Vec<AuthDbSettings>,
    /// `userdb { }` blocks in order.
    pub userdbs: Vec<AuthDbSettings>,
    // ---- mail
    /// `FORMAT:ROOT[:KEY=VALUE…]` with `%` variables, e.g. `sdbox:/var/mail/%n/`.
    pub mail_location: String,
    /// Home directory when the userdb gives none (`%` variables).
    pub mail_home: String,
    /// System user for mail access when the userdb gives no uid (name or number).
    pub mail_uid: String,
    /// The same for the group.
    pub mail_gid: String,
    /// Group used temporarily for shared spool directories (`mail`).
    pub mail_privileged_group: String,
    /// Supplementary groups for mail access.
    pub mail_access_groups: String,
    /// Users with a lower uid are refused (uid 0 always is).
    pub first_valid_uid: u32,
    /// Users with a higher uid are refused; 0 = no limit.
    pub last_valid_uid: u32,
    /// The same for the primary gid.
    pub first_valid_gid: u32,
    /// 0 = no limit.
    pub last_valid_gid: u32,
    /// Dovecot plugin names, `$mail_plugins` expanded (accepted; features are built in).
    pub mail_plugins: Vec<String>,
    /// Concurrent sessions per user and client IP, per protocol.
    pub mail_max_userip_connections: u32,
    /// Log mail-access debugging.
    pub mail_debug: bool,
    /// When to fsync mail and index writes.
    pub mail_fsync: FsyncMode,
    /// Directory for temporary files.
    pub mail_temp_dir: PathBuf,
    /// Store messages with CRLF line endings.
    pub mail_save_crlf: bool,
    /// Longest keyword (user flag) name accepted.
    pub mail_max_keyword_length: u32,
    /// How often IDLE checks for changes not notified otherwise.
    pub mailbox_idle_check_interval: Duration,
    /// `namespace NAME { }` blocks (merged with matching filters), in first-seen order.
    pub namespaces: Vec<NamespaceSettings>,
    /// `plugin { }` (e.g. `mail_replica`, `quota`), merged with matching filters.
    pub plugin: PluginSettings,
    // ---- login
    /// Clients from these networks count as secured and may forward client data.
    /// `IP` or `IP/bits` words, validated at load (parsed: `trusted_networks()`).
    pub login_trusted_networks: Vec<String>,
    /// Proxies allowed to send the HAProxy PROXY header (validated like the above).
    pub haproxy_trusted_networks: Vec<String>,
    /// How long to wait for the PROXY header.
    pub haproxy_timeout: Duration,
    // ---- IMAP
    /// Enabled IMAP client workarounds (§8), obsolete names removed.
    pub imap_client_workarounds: Vec<ImapWorkaround>,
    /// Replaces the CAPABILITY list when set; `+EXT` adds to it.
    pub imap_capability: String,
    /// Longest command line accepted, in bytes (default 64 KiB).
    pub imap_max_line_length: u64,
    /// Interval of `* OK Still here` during IDLE (default 2 min).
    pub imap_idle_notify_interval: Duration,
    /// Logout log line (`%i`/`%o` bytes in/out, `%{deleted}`, …).
    pub imap_logout_format: String,
    /// ID fields sent to clients (`name *`).
    pub imap_id_send: String,
    /// ID fields from clients to log.
    pub imap_id_log: String,
    /// Where to capture logged-in sessions' traffic (`%u`, `%n`, `%d`, `%h`
    /// expanded; nothing is written unless the directory exists).
    pub rawlog_dir: String,
    /// Enable METADATA.
    pub imap_metadata: bool,
    /// The host IMAP URLs must name for URLAUTH (`*` = any); empty
    /// disables URLAUTH (GENURLAUTH, URLFETCH, RESETKEY).
    pub imap_urlauth_host: String,
    /// The port those URLs must name (default 143).
    pub imap_urlauth_port: u16,
    /// Advertise LITERAL- instead of LITERAL+.
    pub imap_literal_minus: bool,
    // ---- POP3
    /// UIDL template (§7): `%u` uid, `%v` uidvalidity, `%m` md5, `%f` file, `%g` guid.
    pub pop3_uidl_format: String,
    /// Enabled POP3 client workarounds (§8).
    pub pop3_client_workarounds: Vec<Pop3Workaround>,
    /// Allow only one POP3 session per user at a time.
    pub pop3_lock_session: bool,
    /// Do not mark messages \Seen (nor drop \Recent) on RETR/TOP.
    pub pop3_no_flag_updates: bool,
    /// Support the obsolete LAST command.
    pub pop3_enable_last: bool,
    /// Use an X-UIDL header as the UIDL when present.
    pub pop3_reuse_xuidl: bool,
    /// Store computed UIDLs.
    pub pop3_save_uidl: bool,
    /// Logout log line (`%t` top, `%r` retr, `%d` del, `%s` size, …).
    pub pop3_logout_format: String,
    // ---- LMTP / LDA
    /// Separators between user and detail (`user+detail@`).
    pub recipient_delimiter: String,
    /// Deliver `user+detail` to mailbox `detail`.
    pub lmtp_save_to_detail_mailbox: bool,
    /// Concurrent deliveries per user; 0 = unlimited.
    pub lmtp_user_concurrency_limit: u32,
    /// Check quota at RCPT time.
    pub lmtp_rcpt_check_quota: bool,
    /// Add a Received: header on delivery.
    pub lmtp_add_received_header: bool,
    /// Enabled LMTP client workarounds.
    pub lmtp_client_workarounds: Vec<LmtpWorkaround>,
    /// Create the target mailbox when it does not exist.
    pub lda_mailbox_autocreate: bool,
    /// Subscribe mailboxes created that way.
    pub lda_mailbox_autosubscribe: bool,
    /// Over quota: temporary (4xx) instead of permanent (5xx) failure.
    pub quota_full_tempfail: bool,
    // ---- doveadm and replication
    /// Default port for `tcp:host` replica targets; 0 = none.
    pub doveadm_port: u16,
    /// Shared secret of the replication peers.
    pub doveadm_password: Secret<String>,
    /// Command for `remote:` (ssh) replica targets.
    pub dsync_remote_cmd: String,
    /// Concurrent replication runs.
    pub replication_max_conns: u32,
    /// How often each user gets a full sync (default 1 day).
    pub replication_full_sync_interval: Duration,
    /// Flags Dovecot's replicator passes to dsync (kept for compatibility).
    pub replication_dsync_parameters: String,
    // ---- tern's own
    /// Number of shards (executors).
    pub shards: ShardCount,
    /// CPUs to pin shards to (`0-3,8`); `None` = choose automatically.
    pub shard_cpus: Option<Vec<usize>>,
    /// io_uring submission queue depth per shard (default 128).
    pub io_ring_depth: u32,
    /// Per-shard memory for cached mail data, bytes (default 64 MiB).
    pub mail_cache_max_memory: u64,
    /// Largest message LMTP accepts, bytes (default 50 MiB).
    pub lmtp_max_size: u64,
    /// Not-yet-logged-in connections per client IP (0 = no cap).
    pub login_max_ip_connections: u32,
    /// Absolute deadline to finish logging in.
    pub login_timeout: std::time::Duration,
    /// Idle timeout of an LMTP connection.
    pub lmtp_idle_timeout: std::time::Duration,
    /// All services, including the defaults (imap-login 143/993, pop3-login 110/995,
    /// lmtp unix socket, doveadm, replicator, aggregator) merged with the config.
    pub services: Vec<ServiceSettings>,
}

/// Dovecot 2.3 defaults (as for an empty configuration), with tern's own additions.
/// Convenient in tests of other modules.
impl Default for Settings {
    fn default() -> Settings {
        let root = super::tree::Section::new(
            super::defs::SectionKind::Root,
            None,
            super::tree::Location {
                file: std::sync::Arc::from(std::path::Path::new("<defaults>")),
                line: 0,
            },
        );
        let view = super::view::View::new(&root, &super::view::FilterContext::default());
        // Only the compiled-in defaults are involved; the `defaults` test builds them.
        super::build::build(&view, &mut Vec::new())
            .expect("compiled-in defaults form valid settings")
    }
}

impl Settings {
    pub fn service(&self, name: &str) -> Option<&ServiceSettings> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Whether a client address counts as secured by `login_trusted_networks` (§6.1;
    /// TLS and client IP == local IP are the caller's checks).
    pub fn is_trusted_client(&self, ip: IpAddr) -> bool {
        self.trusted_networks().iter().any(|n| n.contains(ip))
    }

    /// `login_trusted_networks` parsed. The words were validated at load, so none is
    /// dropped in practice.
    pub fn trusted_networks(&self) -> Vec<Network> {
        self.login_trusted_networks
            .iter()
            .filter_map(|w| Network::parse(w))
            .collect()
    }

    /// `haproxy_trusted_networks` parsed.
    pub fn haproxy_networks(&self) -> Vec<Network> {
        self.haproxy_trusted_networks
            .iter()
            .filter_map(|w| Network::parse(w))
            .collect()
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

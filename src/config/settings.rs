//! Typed settings built from the parsed tree: what the server reads.
//!
//! `Settings` is plain data (`Clone + Send + Sync`), cloned into every shard. Secrets are
//! wrapped so that `Debug` output (and therefore logs) never shows them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::defs::{self, SectionKind, SettingDef};
use super::tree::{Network, Section, Value};
use super::values;

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

/// Which connection a settings view is for. Filters that need a field that is `None`
/// do not match.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterContext<'a> {
    pub protocol: Option<&'a str>,
    pub local_ip: Option<IpAddr>,
    pub remote_ip: Option<IpAddr>,
    /// TLS SNI name.
    pub local_name: Option<&'a str>,
}

/// How specific a filter chain is; larger wins (§4.1: local_name, local, remote, protocol).
pub(crate) type Specificity = (u8, u16, u16, u8);

/// The specificity after entering `child` from a chain with specificity `spec`.
pub(crate) fn extend_specificity(spec: Specificity, child: &Section) -> Specificity {
    let mut s = spec;
    match child.kind {
        SectionKind::LocalName => s.0 = 1,
        SectionKind::Local => s.1 = s.1.max(network_bits(child)),
        SectionKind::Remote => s.2 = s.2.max(network_bits(child)),
        _ => s.3 = 1,
    }
    s
}

fn filter_matches(section: &Section, ctx: &FilterContext<'_>) -> bool {
    let name = section.name.as_deref().unwrap_or("");
    // Login services match their protocol's filter (`imap-login` sees `protocol imap`).
    let protocol = ctx.protocol.map(|p| p.strip_suffix("-login").unwrap_or(p));
    match section.kind {
        SectionKind::Protocol => match (name.strip_prefix('!'), protocol) {
            (Some(excluded), Some(p)) => p != excluded,
            (None, Some(p)) => p == name,
            (_, None) => false,
        },
        SectionKind::Local => ctx
            .local_ip
            .is_some_and(|ip| section.networks.iter().any(|n| n.contains(ip))),
        SectionKind::Remote => ctx
            .remote_ip
            .is_some_and(|ip| section.networks.iter().any(|n| n.contains(ip))),
        SectionKind::LocalName => ctx.local_name.is_some_and(|sni| {
            name.split_whitespace().any(|n| {
                n.eq_ignore_ascii_case(sni)
                    || n.strip_prefix("*.").is_some_and(|suffix| {
                        sni.len() > suffix.len() + 1
                            && sni[sni.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                            && sni.as_bytes()[sni.len() - suffix.len() - 1] == b'.'
                    })
            })
        }),
        _ => false,
    }
}

fn network_bits(section: &Section) -> u16 {
    section
        .networks
        .iter()
        .map(|n| u16::from(n.bits) + 1)
        .max()
        .unwrap_or(1)
}

fn collect_filters<'a>(
    node: &'a Section,
    ctx: &FilterContext<'_>,
    spec: Specificity,
    out: &mut Vec<(Specificity, &'a Section)>,
) {
    for child in node.children.iter().filter(|c| c.kind.is_filter()) {
        if !filter_matches(child, ctx) {
            continue;
        }
        let s = extend_specificity(spec, child);
        out.push((s, child));
        collect_filters(child, ctx, s, out);
    }
}

/// The global settings overlaid with every matching filter, least specific first.
pub(crate) struct View<'a> {
    values: BTreeMap<&'a str, &'a Value>,
    /// Non-filter sections: the root's, then those inside matching filters.
    sections: Vec<&'a Section>,
    /// Global value of `ssl`, which filters may not turn on when it is `no`.
    global_ssl_off: bool,
}

impl<'a> View<'a> {
    pub(crate) fn new(root: &'a Section, ctx: &FilterContext<'_>) -> View<'a> {
        let mut values: BTreeMap<&str, &Value> =
            root.settings.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let global_ssl_off = values.get("ssl").is_some_and(|v| v.text == "no");
        let mut sections: Vec<&Section> = root
            .children
            .iter()
            .filter(|c| !c.kind.is_filter())
            .collect();
        let mut filters = Vec::new();
        collect_filters(root, ctx, (0, 0, 0, 0), &mut filters);
        filters.sort_by_key(|(spec, _)| *spec);
        for (_, filter) in filters {
            for (key, value) in &filter.settings {
                values.insert(key.as_str(), value);
            }
            sections.extend(filter.children.iter().filter(|c| !c.kind.is_filter()));
        }
        View {
            values,
            sections,
            global_ssl_off,
        }
    }
}

/// Typed access to one section's keys, falling back to the registry defaults.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<&'a Value> + 'a>;

struct Getter<'a> {
    lookup: Lookup<'a>,
    table: &'static [SettingDef],
    context: String,
}

fn invalid(
    context: &str,
    key: &str,
    value: Option<&Value>,
    reason: impl std::fmt::Display,
) -> ConfigError {
    match value {
        Some(v) => ConfigError::At {
            file: v.at.file.to_path_buf(),
            line: v.at.line,
            reason: format!("{context}{key}: {reason}"),
        },
        None => ConfigError::Invalid(format!("{context}{key}: {reason}")),
    }
}

impl<'a> Getter<'a> {
    fn for_section(section: &'a Section, table: &'static [SettingDef]) -> Getter<'a> {
        Getter {
            lookup: Box::new(move |k| section.get(k)),
            table,
            context: format!("{}/", section.header()),
        }
    }

    fn explicit(&self, key: &str) -> Option<&'a Value> {
        (self.lookup)(key)
    }

    fn raw(&self, key: &str) -> Result<(String, Option<&'a Value>), ConfigError> {
        if let Some(v) = self.explicit(key) {
            return Ok((v.text.clone(), Some(v)));
        }
        match defs::find(self.table, key) {
            Some(def) => Ok((def.default.to_string(), None)),
            None => Err(ConfigError::Invalid(format!(
                "internal: no definition for {key}"
            ))),
        }
    }

    fn parse<T, E: std::fmt::Display>(
        &self,
        key: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, ConfigError> {
        let (text, value) = self.raw(key)?;
        f(&text).map_err(|e| invalid(&self.context, key, value, e))
    }

    fn string(&self, key: &str) -> Result<String, ConfigError> {
        Ok(self.raw(key)?.0)
    }

    fn path(&self, key: &str) -> Result<PathBuf, ConfigError> {
        Ok(PathBuf::from(self.raw(key)?.0))
    }

    fn list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        let text = self.raw(key)?.0;
        Ok(values::split_list(&text)
            .into_iter()
            .map(str::to_string)
            .collect())
    }

    fn networks(&self, key: &str) -> Result<Vec<Network>, ConfigError> {
        self.parse(key, |t| {
            values::split_list(t)
                .into_iter()
                .map(|w| {
                    Network::parse(w).ok_or_else(|| values::ValueError::Network(w.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
        })
    }

    fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        self.parse(key, values::parse_bool)
    }

    fn u32(&self, key: &str) -> Result<u32, ConfigError> {
        self.parse(key, |t| {
            values::parse_uint(t).and_then(|n| {
                u32::try_from(n).map_err(|_| values::ValueError::Number(t.to_string()))
            })
        })
    }

    fn size(&self, key: &str) -> Result<u64, ConfigError> {
        self.parse(key, values::parse_size)
    }

    fn duration(&self, key: &str) -> Result<Duration, ConfigError> {
        self.parse(key, |t| values::parse_time_ms(t).map(Duration::from_millis))
    }

    fn port(&self, key: &str) -> Result<u16, ConfigError> {
        self.parse(key, values::parse_port)
    }

    fn octal(&self, key: &str) -> Result<u32, ConfigError> {
        self.parse(key, values::parse_octal)
    }

    fn choice<T: Copy>(&self, key: &str, options: &[(&str, T)]) -> Result<T, ConfigError> {
        self.parse(key, |t| {
            options
                .iter()
                .find(|(name, _)| *name == t)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("Invalid value '{t}'"))
        })
    }

    fn file(&self, key: &str) -> Result<Option<FileValue>, ConfigError> {
        let (text, value) = self.raw(key)?;
        let path = value
            .and_then(|v| v.file.as_ref())
            .map(|f| f.resolved.clone());
        if text.is_empty() && path.is_none() {
            return Ok(None);
        }
        Ok(Some(FileValue {
            path,
            contents: text,
        }))
    }

    fn workarounds<T: Copy>(
        &self,
        key: &str,
        set: defs::WorkaroundSet,
        map: &[(&str, T)],
    ) -> Result<Vec<T>, ConfigError> {
        let names = self.parse(key, |t| defs::workarounds(set, t))?.kept;
        Ok(names
            .iter()
            .filter_map(|n| map.iter().find(|(name, _)| name == n).map(|(_, v)| *v))
            .collect())
    }
}

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

fn inet_listener(name: Option<&str>, port: u16, ssl: bool) -> InetListener {
    InetListener {
        name: name.map(str::to_string),
        address: None,
        port,
        ssl,
        haproxy: false,
        reuse_port: false,
    }
}

fn file_listener(path: &str, mode: u32, user: &str) -> UnixListener {
    UnixListener {
        path: PathBuf::from(path),
        mode,
        user: user.to_string(),
        group: String::new(),
    }
}

fn empty_service(name: &str) -> ServiceSettings {
    ServiceSettings {
        name: name.to_string(),
        process_min_avail: 0,
        process_limit: 0,
        client_limit: 0,
        service_count: 0,
        vsz_limit: 0,
        user: String::new(),
        group: String::new(),
        chroot: String::new(),
        executable: String::new(),
        inet_listeners: Vec::new(),
        unix_listeners: Vec::new(),
        fifo_listeners: Vec::new(),
    }
}

/// §4.2: the listeners Dovecot has when the config does not mention them.
fn default_services(internal_user: &str) -> Vec<ServiceSettings> {
    let mut imap = empty_service("imap-login");
    imap.inet_listeners = vec![
        inet_listener(Some("imap"), 143, false),
        inet_listener(Some("imaps"), 993, true),
    ];
    let mut pop3 = empty_service("pop3-login");
    pop3.inet_listeners = vec![
        inet_listener(Some("pop3"), 110, false),
        inet_listener(Some("pop3s"), 995, true),
    ];
    let mut lmtp = empty_service("lmtp");
    lmtp.unix_listeners = vec![file_listener("lmtp", 0o666, "")];
    let mut doveadm = empty_service("doveadm");
    doveadm.unix_listeners = vec![file_listener("doveadm-server", 0o600, "")];
    let mut replicator = empty_service("replicator");
    replicator.unix_listeners = vec![file_listener("replicator-doveadm", 0, internal_user)];
    let mut aggregator = empty_service("aggregator");
    aggregator.fifo_listeners = vec![file_listener("replication-notify-fifo", 0o600, "")];
    aggregator.unix_listeners = vec![file_listener("replication-notify", 0o600, "")];
    vec![imap, pop3, lmtp, doveadm, replicator, aggregator]
}

fn apply_file_listener(listener: &mut UnixListener, section: &Section) -> Result<(), ConfigError> {
    let g = Getter::for_section(section, defs::FILE_LISTENER);
    if g.explicit("mode").is_some() {
        listener.mode = g.octal("mode")?;
    }
    if g.explicit("user").is_some() {
        listener.user = g.string("user")?;
    }
    if g.explicit("group").is_some() {
        listener.group = g.string("group")?;
    }
    Ok(())
}

fn apply_service(service: &mut ServiceSettings, section: &Section) -> Result<(), ConfigError> {
    let g = Getter::for_section(section, defs::SERVICE);
    for (key, slot) in [
        ("process_min_avail", &mut service.process_min_avail),
        ("process_limit", &mut service.process_limit),
        ("client_limit", &mut service.client_limit),
        ("service_count", &mut service.service_count),
    ] {
        if g.explicit(key).is_some() {
            *slot = g.u32(key)?;
        }
    }
    if g.explicit("vsz_limit").is_some() {
        service.vsz_limit = g.size("vsz_limit")?;
    }
    for (key, slot) in [
        ("user", &mut service.user),
        ("group", &mut service.group),
        ("chroot", &mut service.chroot),
        ("executable", &mut service.executable),
    ] {
        if g.explicit(key).is_some() {
            *slot = g.string(key)?;
        }
    }
    let service_name = section.name.as_deref();
    for child in section
        .children
        .iter()
        .filter(|c| c.is_significant(service_name))
    {
        match child.kind {
            SectionKind::InetListener => {
                let existing = child.name.as_ref().and_then(|name| {
                    service
                        .inet_listeners
                        .iter()
                        .position(|l| l.name.as_ref() == Some(name))
                });
                let index = match existing {
                    Some(i) => i,
                    None => {
                        service
                            .inet_listeners
                            .push(inet_listener(child.name.as_deref(), 0, false));
                        service.inet_listeners.len() - 1
                    }
                };
                let listener = &mut service.inet_listeners[index];
                let lg = Getter::for_section(child, defs::INET_LISTENER);
                if lg.explicit("address").is_some() {
                    let list = lg.list("address")?;
                    listener.address = if list.is_empty() { None } else { Some(list) };
                }
                if lg.explicit("port").is_some() {
                    listener.port = lg.port("port")?;
                }
                if lg.explicit("ssl").is_some() {
                    listener.ssl = lg.boolean("ssl")?;
                }
                if lg.explicit("haproxy").is_some() {
                    listener.haproxy = lg.boolean("haproxy")?;
                }
                if lg.explicit("reuse_port").is_some() {
                    listener.reuse_port = lg.boolean("reuse_port")?;
                }
            }
            SectionKind::UnixListener | SectionKind::FifoListener => {
                let list = if child.kind == SectionKind::UnixListener {
                    &mut service.unix_listeners
                } else {
                    &mut service.fifo_listeners
                };
                let path = PathBuf::from(child.name.clone().unwrap_or_default());
                let index = match list.iter().position(|l| l.path == path) {
                    Some(i) => i,
                    None => {
                        list.push(UnixListener {
                            path,
                            mode: 0o600,
                            user: String::new(),
                            group: String::new(),
                        });
                        list.len() - 1
                    }
                };
                apply_file_listener(&mut list[index], child)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn services(
    root_sections: &[&Section],
    base_dir: &std::path::Path,
    internal_user: &str,
    protocol_words: &[&str],
) -> Result<Vec<ServiceSettings>, ConfigError> {
    let mut services = default_services(internal_user);
    // Obsolete `protocols = imaps` without `imap` meant: implicit TLS only, so the
    // plaintext default listener goes (a config can still add it back explicitly).
    for (obsolete, plain, service) in [
        ("imaps", "imap", "imap-login"),
        ("pop3s", "pop3", "pop3-login"),
    ] {
        if protocol_words.contains(&obsolete)
            && !protocol_words.contains(&plain)
            && let Some(s) = services.iter_mut().find(|s| s.name == service)
        {
            s.inet_listeners
                .retain(|l| l.name.as_deref() != Some(plain));
        }
    }
    for section in root_sections
        .iter()
        .filter(|s| s.kind == SectionKind::Service && s.is_significant(None))
    {
        let name = section.name.clone().unwrap_or_default();
        let index = match services.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                services.push(empty_service(&name));
                services.len() - 1
            }
        };
        apply_service(&mut services[index], section)?;
    }
    for service in &mut services {
        service.inet_listeners.retain(|l| l.port != 0);
        for listener in service
            .unix_listeners
            .iter_mut()
            .chain(service.fifo_listeners.iter_mut())
        {
            if listener.path.is_relative() {
                listener.path = base_dir.join(&listener.path);
            }
        }
    }
    Ok(services)
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
        ssl_cert: g.file("ssl_cert")?,
        ssl_key: g.file("ssl_key")?,
        ssl_key_password: Secret::new(g.string("ssl_key_password")?),
        ssl_ca: g.file("ssl_ca")?,
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
        login_trusted_networks: g.networks("login_trusted_networks")?,
        haproxy_trusted_networks: g.networks("haproxy_trusted_networks")?,
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
        imap_metadata: g.boolean("imap_metadata")?,
        imap_literal_minus: g.boolean("imap_literal_minus")?,
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

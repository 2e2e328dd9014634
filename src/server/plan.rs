//! What the server will do, resolved from the settings before any shard
//! starts: addresses resolved, certificates read, CPUs chosen. Shards get
//! this plan and never look at the raw configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::net::tls::{MinTls, TlsMaterial};
use crate::shard::env::{Protocol, ProtocolSettingsSet};

#[derive(Debug, Clone)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix { path: PathBuf, mode: u32 },
}

#[derive(Debug, Clone)]
pub struct ListenerPlan {
    pub protocol: Protocol,
    /// The `inet_listener` / `unix_listener` name, for the table and logs.
    pub name: String,
    pub addr: ListenAddr,
    /// Implicit TLS (imaps, pop3s) rather than plaintext with STARTTLS.
    pub implicit_tls: bool,
}

/// Where certificate material comes from, so SIGHUP can read it again.
#[derive(Debug, Clone)]
pub enum PemSource {
    File(PathBuf),
    Inline(String),
}

impl PemSource {
    pub fn read(&self) -> std::io::Result<String> {
        match self {
            // blocking-ok: main thread, start-up and SIGHUP only
            PemSource::File(p) => std::fs::read_to_string(p),
            PemSource::Inline(s) => Ok(s.clone()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TlsPlan {
    pub cert: PemSource,
    pub key: PemSource,
    pub client_ca: Option<PemSource>,
    pub min_version: MinTls,
}

impl TlsPlan {
    pub fn load(&self) -> Result<TlsMaterial, String> {
        let read = |what: &str, s: &PemSource| {
            s.read().map_err(|e| match s {
                PemSource::File(p) => format!("{what}: can't read {}: {e}", p.display()),
                PemSource::Inline(_) => format!("{what}: {e}"),
            })
        };
        Ok(TlsMaterial {
            cert_pem: read("ssl_cert", &self.cert)?,
            key_pem: read("ssl_key", &self.key)?,
            client_ca_pem: match &self.client_ca {
                Some(c) => Some(read("ssl_ca", c)?),
                None => None,
            },
            min_version: self.min_version,
        })
    }
}

/// One passdb/userdb source the built-in authenticator reads.
#[derive(Debug, Clone)]
pub enum AuthSource {
    /// Dovecot passwd-file: path, default scheme, username format.
    PasswdFile {
        path: PathBuf,
        default_scheme: String,
    },
    /// `driver = static` with `args = password=…`.
    Static { password: String },
}

/// The userdb as the built-in authenticator applies it: `static` args or
/// `override_fields`, with `%` variables expanded per user.
#[derive(Debug, Clone, Default)]
pub struct UserdbPlan {
    /// `home=` template (e.g. `/var/mail/%n`); empty = from the passwd-file.
    pub home: String,
    /// `mail=` template overriding `mail_location` for these users.
    pub mail: Option<String>,
}

/// The pre-login budget's settings; the limits themselves are fixed at
/// start, once the open-files limit is known.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginPlan {
    /// `service imap-login { process_limit client_limit }`.
    pub imap: (u32, u32),
    /// `service pop3-login { process_limit client_limit }`.
    pub pop3: (u32, u32),
    /// `login_max_ip_connections`.
    pub max_per_ip: u32,
}

impl LoginPlan {
    /// The limits of `protocol`'s login service with `open_files`
    /// descriptors; `None` for LMTP, which has no login.
    pub fn limits(
        &self,
        protocol: Protocol,
        open_files: u64,
    ) -> Option<crate::net::login_budget::LoginLimits> {
        let (processes, clients) = match protocol {
            Protocol::Imap => self.imap,
            Protocol::Pop3 => self.pop3,
            Protocol::Lmtp => return None,
        };
        Some(crate::net::login_budget::LoginLimits::new(
            processes,
            clients,
            self.max_per_ip,
            open_files,
        ))
    }
}

#[derive(Debug, Clone)]
pub struct ServerPlan {
    /// CPU of each shard (`None` = unpinned).
    pub shard_cpus: Vec<Option<usize>>,
    pub io_memory: usize,
    pub ring_depth: usize,
    pub blocking_threads: usize,
    /// What the privileged auth helper serves when tern starts as root
    /// (passdb/userdb chains, cache, uid limits, mail_uid/mail_gid);
    /// otherwise `auth_sources` feed the in-process authenticator.
    pub auth_helper: crate::auth::helper::HelperConfig,
    pub listeners: Vec<ListenerPlan>,
    pub tls: Option<TlsPlan>,
    pub protocols: ProtocolSettingsSet,
    pub auth_sources: Vec<AuthSource>,
    pub userdb: UserdbPlan,
    /// `mail_cache_max_memory`, split evenly over the shards.
    pub mail_cache_max_memory: usize,
    /// `auth_username_format`: lower-case the login name (Dovecot's `%Lu`).
    pub lowercase_usernames: bool,
    /// How long in-flight sessions get to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// The pre-login connection budget as configured.
    pub login_limits: LoginPlan,
    pub log_path: Option<PathBuf>,
    /// `service stats { inet_listener http { … } }`: where the OpenMetrics
    /// endpoint listens (empty: no endpoint, Dovecot's default).
    pub metrics_listeners: Vec<SocketAddr>,
}

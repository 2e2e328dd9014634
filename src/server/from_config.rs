//! From the Dovecot-syntax settings to a `ServerPlan`: which sockets to
//! bind, which certificate to load, how many shards on which CPUs, and the
//! per-protocol settings the front ends use.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::config::{FileValue, Settings, ShardCount, SslMode, TlsVersion};
use crate::net::tls::MinTls;
use crate::shard::env::{Protocol, ProtocolSettings, ProtocolSettingsSet};
use crate::shard::placement;
use crate::shard::runtime::io_memory_per_shard;

use super::plan::{
    AuthSource, ListenAddr, ListenerPlan, LoginPlan, PemSource, ServerPlan, TlsPlan, UserdbPlan,
};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("listen address {0:?}: {1}")]
    Address(String, String),
    #[error("ssl = {0} but ssl_cert or ssl_key is empty")]
    MissingCertificate(&'static str),
    #[error("shard placement: {0}")]
    Placement(#[from] placement::PlacementError),
    #[error("login_trusted_networks: {0:?} is not an IP network")]
    TrustedNetwork(String),
    #[error("auth: {0}")]
    Auth(#[from] crate::auth::helper::HelperConfigError),
    #[error("plugin quota_max_mail_size: {0}")]
    QuotaMaxMailSize(String),
}

/// Dovecot's quota plugin setting that caps a saved message (and is
/// advertised as `APPENDLIMIT=<n>`); 0 or unset means no limit of its own.
fn quota_max_mail_size(s: &Settings) -> Result<Option<u64>, PlanError> {
    let Some(text) = s.plugin_setting("quota_max_mail_size") else {
        return Ok(None);
    };
    match crate::config::parse_size(text) {
        Ok(0) => Ok(None),
        Ok(n) => Ok(Some(n)),
        Err(e) => Err(PlanError::QuotaMaxMailSize(e.to_string())),
    }
}

/// Pre-login clients get a short idle timeout; RFC 9051 §5.4 asks for at
/// least 30 minutes once a client is authenticated.
const PREAUTH_IDLE: Duration = Duration::from_secs(180);
const AUTHED_IDLE: Duration = Duration::from_secs(30 * 60);

/// `(process_limit, client_limit)` of a login service (0: Dovecot's default).
fn login_service_limits(s: &Settings, service: &str) -> (u32, u32) {
    s.service(service)
        .map_or((0, 0), |svc| (svc.process_limit, svc.client_limit))
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for its length; gethostname NUL-terminates on
    // success when the name fits.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn parse_networks(list: &[String]) -> Result<Vec<(IpAddr, u8)>, PlanError> {
    list.iter()
        .map(|n| {
            let (ip, bits) = match n.split_once('/') {
                Some((ip, b)) => (ip, b.parse::<u8>().ok()),
                None => (n.as_str(), None),
            };
            let ip: IpAddr = ip
                .parse()
                .map_err(|_| PlanError::TrustedNetwork(n.clone()))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            Ok((ip, bits.unwrap_or(max).min(max)))
        })
        .collect()
}

fn protocol_settings(s: &Settings, p: Protocol) -> Result<ProtocolSettings, PlanError> {
    let max_line_length = match p {
        Protocol::Imap => s.imap_max_line_length.clamp(1024, 16 << 20) as usize,
        // RFC 2449 allows 255 octets; clients send a little more at times.
        Protocol::Pop3 => 2048,
        // RFC 5321 says 512 for commands; be lenient with long addresses.
        Protocol::Lmtp => 4096,
    };
    Ok(ProtocolSettings {
        hostname: if s.hostname.is_empty() {
            hostname()
        } else {
            s.hostname.clone()
        },
        greeting: s.login_greeting.clone(),
        tls_available: s.ssl != SslMode::No,
        tls_required: s.ssl == SslMode::Required,
        disable_plaintext_auth: s.disable_plaintext_auth,
        auth_mechanisms: s.auth_mechanisms.clone(),
        username_format: s.auth_username_format.clone(),
        pop3_uidl_format: s.pop3_uidl_format.clone(),
        pop3_outlook_no_nuls: s
            .pop3_client_workarounds
            .contains(&crate::config::Pop3Workaround::OutlookNoNuls),
        pop3_oe_ns_eoh: s
            .pop3_client_workarounds
            .contains(&crate::config::Pop3Workaround::OeNsEoh),
        pop3_lock_session: s.pop3_lock_session,
        pop3_no_flag_updates: s.pop3_no_flag_updates,
        pop3_enable_last: s.pop3_enable_last,
        pop3_logout_format: s.pop3_logout_format.clone(),
        recipient_delimiter: s.recipient_delimiter.clone(),
        lmtp_save_to_detail_mailbox: s.lmtp_save_to_detail_mailbox,
        lda_mailbox_autocreate: s.lda_mailbox_autocreate,
        lmtp_add_received_header: s.lmtp_add_received_header,
        lmtp_max_size: s.lmtp_max_size,
        login_trusted_networks: parse_networks(&s.login_trusted_networks)?,
        // LMTP has no login; its clients are held to Dovecot's lmtp idle
        // timeout from the first byte.
        idle_timeout_preauth: match p {
            Protocol::Lmtp => s.lmtp_idle_timeout,
            _ => PREAUTH_IDLE,
        },
        idle_timeout_authed: match p {
            Protocol::Lmtp => s.lmtp_idle_timeout,
            _ => AUTHED_IDLE,
        },
        login_timeout: s.login_timeout,
        max_line_length,
        auth_failure_delay: s.auth_failure_delay,
        mail_location: s.mail_location.clone(),
        mail_attachment_dir: String::new(),
        max_userip_connections: s.mail_max_userip_connections,
        rawlog_dir: s.rawlog_dir.clone(),
        imap_options: crate::shard::env::ImapOptions {
            client_workarounds: s.imap_client_workarounds.clone(),
            capability: s.imap_capability.clone(),
            idle_notify_interval: s.imap_idle_notify_interval,
            append_limit: quota_max_mail_size(s)?,
            logout_format: s.imap_logout_format.clone(),
            id_send: s.imap_id_send.clone(),
            id_log: s.imap_id_log.clone(),
            idle_check_interval: s.mailbox_idle_check_interval,
            special_use: configured_special_use(s),
            urlauth_host: s.imap_urlauth_host.clone(),
            urlauth_port: s.imap_urlauth_port,
        },
    })
}

/// The special-use attribute of every `mailbox` block that names one
/// (the first recognised one, as LIST shows a single attribute), with the
/// namespace's separator turned into tern's `/`.
fn configured_special_use(s: &Settings) -> Vec<(String, crate::storage::SpecialUse)> {
    let mut out = Vec::new();
    for ns in &s.namespaces {
        for mb in &ns.mailboxes {
            let Some(usage) = mb
                .special_use
                .iter()
                .find_map(|u| crate::storage::SpecialUse::parse(u))
            else {
                continue;
            };
            let name = match ns.separator.chars().next() {
                Some(sep) if sep != '/' => mb.name.replace(sep, "/"),
                _ => mb.name.clone(),
            };
            out.push((name, usage));
        }
    }
    out
}

/// `*` = every IPv4 address, `::` = every IPv6 address, `[::1]` and plain
/// IPs as written, host names resolved once at start-up.
fn resolve(addr: &str, port: u16) -> Result<Vec<SocketAddr>, PlanError> {
    let a = addr.trim();
    let ip = match a {
        "*" => Some(IpAddr::from([0, 0, 0, 0])),
        "::" | "[::]" => Some(IpAddr::from([0u16; 8])),
        _ => a.trim_start_matches('[').trim_end_matches(']').parse().ok(),
    };
    if let Some(ip) = ip {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    (a, port)
        .to_socket_addrs()
        .map(|it| it.collect())
        .map_err(|e| PlanError::Address(a.to_string(), e.to_string()))
}

fn pem_source(v: &FileValue) -> PemSource {
    match &v.path {
        Some(p) => PemSource::File(p.clone()),
        None => PemSource::Inline(v.contents.clone()),
    }
}

/// Reads the passdb `args` of a passwd-file: `[scheme=X] [username_format=Y] PATH`.
fn passwd_file_source(args: &str, config_dir: &Path) -> Option<AuthSource> {
    let mut scheme = "CRYPT".to_string();
    let mut path = None;
    for tok in args.split_whitespace() {
        if let Some(s) = tok.strip_prefix("scheme=") {
            scheme = s.to_string();
        } else if tok.contains('=') {
            // username_format and friends: handled by the auth issue
        } else {
            path = Some(tok.to_string());
        }
    }
    let path = PathBuf::from(path?);
    let path = if path.is_absolute() {
        path
    } else {
        config_dir.join(path)
    };
    Some(AuthSource::PasswdFile {
        path,
        default_scheme: scheme,
    })
}

/// The userdb fields the built-in authenticator applies: `static` args,
/// then `override_fields` (which win). `tern admin` resolves users with it
/// too, so both find the same home.
pub(crate) fn userdb_plan(s: &Settings) -> UserdbPlan {
    let mut userdb = UserdbPlan::default();
    for db in &s.userdbs {
        let mut fields: Vec<&str> = Vec::new();
        if db.driver == "static" {
            fields.extend(db.args.expose().split_whitespace());
        }
        fields.extend(db.override_fields.split_whitespace());
        for f in fields {
            if let Some(h) = f.strip_prefix("home=") {
                userdb.home = h.to_string();
            } else if let Some(m) = f.strip_prefix("mail=") {
                userdb.mail = Some(m.to_string());
            }
        }
    }
    userdb
}

pub fn plan(cfg: &Config, config_path: &Path) -> Result<ServerPlan, PlanError> {
    let s = cfg.settings();
    let config_dir = config_path.parent().unwrap_or(Path::new("."));

    // Listeners of the enabled protocols.
    let mut listeners = Vec::new();
    for (proto, service) in [
        (Protocol::Imap, "imap-login"),
        (Protocol::Pop3, "pop3-login"),
        (Protocol::Lmtp, "lmtp"),
    ] {
        if !s.protocols.contains(&proto.config()) {
            continue;
        }
        let Some(svc) = s.service(service) else {
            continue;
        };
        for l in &svc.inet_listeners {
            if l.port == 0 {
                continue;
            }
            if l.ssl && s.ssl == SslMode::No {
                tracing::warn!(
                    "{service}: listener {} has ssl = yes but ssl = no globally; skipped",
                    l.name.as_deref().unwrap_or("")
                );
                continue;
            }
            let addrs = l.address.as_ref().unwrap_or(&s.listen);
            for a in addrs
                .iter()
                .flat_map(|a| a.split([',', ' ']))
                .filter(|a| !a.is_empty())
            {
                for sa in resolve(a, l.port)? {
                    listeners.push(ListenerPlan {
                        protocol: proto,
                        name: l.name.clone().unwrap_or_default(),
                        addr: ListenAddr::Tcp(sa),
                        implicit_tls: l.ssl,
                    });
                }
            }
        }
        if proto == Protocol::Lmtp {
            for u in &svc.unix_listeners {
                let path = if u.path.is_absolute() {
                    u.path.clone()
                } else {
                    s.base_dir.join(&u.path)
                };
                listeners.push(ListenerPlan {
                    protocol: proto,
                    name: u.path.display().to_string(),
                    addr: ListenAddr::Unix { path, mode: u.mode },
                    implicit_tls: false,
                });
            }
        }
    }

    let metrics_listeners = metrics_listeners(s)?;

    let tls = match s.ssl {
        SslMode::No => None,
        mode => {
            let name = if mode == SslMode::Required {
                "required"
            } else {
                "yes"
            };
            match (&s.ssl_cert, &s.ssl_key) {
                (Some(c), Some(k)) if !c.contents.is_empty() && !k.contents.is_empty() => {
                    Some(TlsPlan {
                        cert: pem_source(c),
                        key: pem_source(k),
                        client_ca: s
                            .ssl_ca
                            .as_ref()
                            .filter(|_| s.ssl_verify_client_cert)
                            .map(pem_source),
                        min_version: match s.ssl_min_protocol {
                            TlsVersion::TlsV1_3 | TlsVersion::Latest => MinTls::Tls13,
                            _ => MinTls::Tls12,
                        },
                    })
                }
                _ if listeners.iter().any(|l| l.implicit_tls) => {
                    return Err(PlanError::MissingCertificate(name));
                }
                _ => None,
            }
        }
    };

    let mut auth_sources = Vec::new();
    for db in &s.passdbs {
        match db.driver.as_str() {
            "passwd-file" => match passwd_file_source(db.args.expose(), config_dir) {
                Some(src) => auth_sources.push(src),
                None => tracing::warn!("passdb passwd-file without a file name; skipped"),
            },
            "static" => {
                let pw = db
                    .args
                    .expose()
                    .split_whitespace()
                    .find_map(|t| t.strip_prefix("password="))
                    .unwrap_or("");
                auth_sources.push(AuthSource::Static {
                    password: pw.to_string(),
                });
            }
            // Served by the auth helper, which runs only when tern is
            // started as root (server::run warns otherwise).
            "pam" => {}
            other => tracing::warn!(
                "passdb driver {other:?} is not served by the in-process authenticator"
            ),
        }
    }

    let userdb = userdb_plan(s);

    let shards = match s.shards {
        ShardCount::Auto => None,
        ShardCount::Fixed(n) => Some(n),
    };
    let cpus = placement::plan(shards, s.shard_cpus.as_deref(), &placement::allowed_cpus())?;
    let n = cpus.len();

    // Not a typed setting: read it by name (Dovecot 2.3 key, empty default).
    let attachment_dir = cfg.value_of("mail_attachment_dir").unwrap_or_default();
    let with_attachments = |mut p: ProtocolSettings| {
        p.mail_attachment_dir = attachment_dir.clone();
        p
    };

    Ok(ServerPlan {
        shard_cpus: cpus.into_iter().map(Some).collect(),
        io_memory: io_memory_per_shard(n),
        ring_depth: s.io_ring_depth.max(8) as usize,
        blocking_threads: 4,
        // auth helper (see auth::helper): its whole configuration.
        auth_helper: crate::auth::helper::HelperConfig::from_settings(s, config_dir)?,
        listeners,
        tls,
        protocols: ProtocolSettingsSet {
            imap: with_attachments(protocol_settings(
                &cfg.for_protocol("imap"),
                Protocol::Imap,
            )?),
            pop3: with_attachments(protocol_settings(
                &cfg.for_protocol("pop3"),
                Protocol::Pop3,
            )?),
            lmtp: with_attachments(protocol_settings(
                &cfg.for_protocol("lmtp"),
                Protocol::Lmtp,
            )?),
        },
        auth_sources,
        userdb,
        mail_cache_max_memory: usize::try_from(s.mail_cache_max_memory).unwrap_or(usize::MAX),
        lowercase_usernames: s.auth_username_format.contains("%L"),
        shutdown_grace: Duration::from_secs(10),
        login_limits: LoginPlan {
            imap: login_service_limits(s, "imap-login"),
            pop3: login_service_limits(s, "pop3-login"),
            max_per_ip: s.login_max_ip_connections,
        },
        log_path: match s.log_path.as_str() {
            "" | "syslog" | "/dev/stderr" => None,
            p => Some(PathBuf::from(p)),
        },
        metrics_listeners,
    })
}

/// Dovecot 2.3's OpenMetrics endpoint: `service stats { inet_listener http
/// { address = … port = 9900 } }`. Not there by default; the address
/// defaults to `listen`, as for every inet listener.
fn metrics_listeners(s: &Settings) -> Result<Vec<SocketAddr>, PlanError> {
    let Some(svc) = s.service("stats") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for l in svc.inet_listeners.iter().filter(|l| l.port != 0) {
        let addrs = l.address.as_ref().unwrap_or(&s.listen);
        for a in addrs
            .iter()
            .flat_map(|a| a.split([',', ' ']))
            .filter(|a| !a.is_empty())
        {
            out.extend(resolve(a, l.port)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(
            resolve("*", 143).unwrap(),
            vec!["0.0.0.0:143".parse().unwrap()]
        );
        assert_eq!(
            resolve("::", 143).unwrap(),
            vec!["[::]:143".parse().unwrap()]
        );
        assert_eq!(
            resolve("[::1]", 993).unwrap(),
            vec!["[::1]:993".parse().unwrap()]
        );
        assert_eq!(
            resolve("127.0.0.1", 24).unwrap(),
            vec!["127.0.0.1:24".parse().unwrap()]
        );
    }

    #[test]
    fn quota_max_mail_size_sets_the_append_limit() {
        let settings = |text: &str| {
            crate::config::parse_str(text, Path::new("/nonexistent/test.conf"))
                .unwrap()
                .for_protocol("imap")
        };
        let limit = |text: &str| quota_max_mail_size(&settings(text));
        assert_eq!(limit("").unwrap(), None);
        assert_eq!(
            limit("plugin {\n  quota_max_mail_size = 10M\n}\n").unwrap(),
            Some(10 << 20)
        );
        assert_eq!(
            limit("plugin {\n  quota_max_mail_size = 0\n}\n").unwrap(),
            None
        );
        assert!(matches!(
            limit("plugin {\n  quota_max_mail_size = lots\n}\n"),
            Err(PlanError::QuotaMaxMailSize(_))
        ));
    }

    #[test]
    fn metrics_endpoint_only_when_service_stats_has_an_inet_listener() {
        let plan_of = |text: &str| {
            let cfg = crate::config::parse_str(text, Path::new("/nonexistent/test.conf")).unwrap();
            metrics_listeners(cfg.settings()).unwrap()
        };
        assert!(plan_of("").is_empty(), "off unless configured");
        assert_eq!(
            plan_of(
                "service stats {\n  inet_listener http {\n    address = 127.0.0.1\n    port = 9900\n  }\n}\n"
            ),
            vec!["127.0.0.1:9900".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            plan_of(
                "listen = ::1\nservice stats {\n  inet_listener http {\n    port = 9900\n  }\n}\n"
            ),
            vec!["[::1]:9900".parse::<SocketAddr>().unwrap()]
        );
    }

    #[test]
    fn trusted_networks() {
        let n = parse_networks(&["10.0.0.0/8".into(), "::1".into()]).unwrap();
        assert_eq!(n[0], ("10.0.0.0".parse().unwrap(), 8));
        assert_eq!(n[1], ("::1".parse().unwrap(), 128));
        assert!(parse_networks(&["nonsense".into()]).is_err());
    }

    #[test]
    fn passwd_file_args() {
        let s = passwd_file_source(
            "scheme=PLAIN username_format=%n users",
            Path::new("/etc/tern"),
        );
        match s {
            Some(AuthSource::PasswdFile {
                path,
                default_scheme,
            }) => {
                assert_eq!(path, PathBuf::from("/etc/tern/users"));
                assert_eq!(default_scheme, "PLAIN");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[cfg(test)]
mod red_hat {
    use super::*;

    /// The Red Hat procedure's snippets (config doc §10.1) take effect: the
    /// listeners, TLS policy and auth settings they describe are what the
    /// server would run.
    #[test]
    fn red_hat_snippets_take_effect() {
        let (_dir, cfg) = crate::config::tests::load_red_hat();
        let p = plan(&cfg, Path::new("/etc/dovecot/dovecot.conf")).unwrap();
        let tcp = |proto: Protocol| -> Vec<(String, bool)> {
            let mut v: Vec<_> = p
                .listeners
                .iter()
                .filter(|l| l.protocol == proto)
                .filter_map(|l| match &l.addr {
                    ListenAddr::Tcp(a) => Some((a.to_string(), l.implicit_tls)),
                    ListenAddr::Unix { .. } => None,
                })
                .collect();
            v.sort();
            v
        };
        let s = |a: &str, tls| (a.to_string(), tls);
        assert_eq!(
            tcp(Protocol::Imap),
            vec![
                s("192.0.2.1:143", false),
                s("192.0.2.1:993", true),
                s("[2001:db8:1::1]:143", false),
                s("[2001:db8:1::1]:993", true),
            ]
        );
        assert_eq!(
            tcp(Protocol::Pop3),
            vec![
                s("192.0.2.1:110", false),
                s("192.0.2.1:995", true),
                s("[2001:db8:1::1]:110", false),
                s("[2001:db8:1::1]:995", true),
            ]
        );
        assert_eq!(
            tcp(Protocol::Lmtp),
            vec![s("127.0.0.1:24", false), s("[::1]:24", false)]
        );
        let unix: Vec<_> = p
            .listeners
            .iter()
            .filter_map(|l| match &l.addr {
                ListenAddr::Unix { path, mode } => Some((path.clone(), *mode)),
                ListenAddr::Tcp(_) => None,
            })
            .collect();
        assert!(
            unix.contains(&(
                PathBuf::from("/var/spool/postfix/private/dovecot-lmtp"),
                0o600
            )),
            "{unix:?}"
        );
        let imap = &p.protocols.imap;
        assert!(imap.tls_required && imap.tls_available && imap.disable_plaintext_auth);
        assert_eq!(imap.auth_mechanisms, vec!["plain", "login"]);
        let tls = p.tls.as_ref().expect("TLS planned");
        assert_eq!(tls.min_version, MinTls::Tls12);
        assert!(matches!(&tls.cert, PemSource::File(f) if f.ends_with("server.example.com.crt")));
        // ssl_ca only verifies client certificates, which this config does not ask for
        assert!(tls.client_ca.is_none());
        // `ssl_dh` is accepted and ignored with one warning
        assert!(
            cfg.warnings().iter().any(|w| w.contains("ssl_dh")),
            "{:?}",
            cfg.warnings()
        );
    }
}

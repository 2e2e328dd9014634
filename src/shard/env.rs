//! What a protocol session may use from its shard: identity, the shutdown
//! event, the current TLS configuration, settings, password checks, and the
//! handoff to the shard that owns a user. Protocols see only this, never the
//! server's bootstrap or the sockets of other sessions.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;

use super::event::LocalEvent;
use crate::net::ConnParts;

pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Which protocol a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Imap,
    Pop3,
    Lmtp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Lmtp => "lmtp",
        }
    }
}

/// Settings the protocol front ends need, already resolved for the protocol.
#[derive(Debug, Clone)]
pub struct ProtocolSettings {
    pub hostname: String,
    pub greeting: String,
    /// `ssl = no`: no TLS at all.
    pub tls_available: bool,
    /// `ssl = required`: no authentication of any kind before TLS.
    pub tls_required: bool,
    pub disable_plaintext_auth: bool,
    pub auth_mechanisms: Vec<String>,
    pub login_trusted_networks: Vec<(IpAddr, u8)>,
    pub idle_timeout_preauth: Duration,
    pub idle_timeout_authed: Duration,
    pub max_line_length: usize,
    pub auth_failure_delay: Duration,
}

/// Outcome of a password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Canonical user name (after auth_username_format).
    Ok { user: String },
    /// Wrong password or unknown user: one answer for both, so the reply
    /// does not tell which.
    Failed { reason: String },
    /// The backend could not answer (helper down, PAM unavailable).
    TempFail { reason: String },
}

/// A request to check a user's password.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub service: Protocol,
    pub user: String,
    pub password: crate::shard::env::Secret,
    pub remote_ip: Option<IpAddr>,
    pub local_ip: Option<IpAddr>,
    pub secured: bool,
    pub mechanism: &'static str,
}

/// Keeps a password out of `Debug` output and logs.
#[derive(Clone, Default)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hidden>")
    }
}

/// Password checking, as the shard sees it. Implementations must not block
/// the shard (they talk to the auth helper or run in the blocking pool).
pub trait Authenticator {
    fn authenticate<'a>(&'a self, req: AuthRequest) -> LocalFuture<'a, AuthOutcome>;
    /// Does the user exist (LMTP RCPT)? `None` = temporary failure.
    fn user_exists<'a>(&'a self, user: &'a str) -> LocalFuture<'a, Option<Option<String>>>;
}

/// A connection on its way to another shard, with the protocol's own state.
pub struct Handoff {
    pub protocol: Protocol,
    pub conn: ConnParts,
    pub state: Box<dyn Any + Send>,
}

/// Sends a handoff to a shard; `false` if it could not be delivered (the
/// connection is then closed: its state cannot be recovered).
pub type HandoffFn = dyn Fn(usize, Handoff) -> LocalFuture<'static, bool>;

pub struct Env {
    pub shard: usize,
    pub shards: usize,
    pub shutdown: Rc<LocalEvent>,
    pub settings: Arc<ProtocolSettingsSet>,
    tls: RefCell<Option<Arc<ServerConfig>>>,
    pub auth: Rc<dyn Authenticator>,
    handoff: Box<HandoffFn>,
    session_counter: Cell<u64>,
}

/// Per-protocol settings.
#[derive(Debug, Clone)]
pub struct ProtocolSettingsSet {
    pub imap: ProtocolSettings,
    pub pop3: ProtocolSettings,
    pub lmtp: ProtocolSettings,
}

impl ProtocolSettingsSet {
    pub fn get(&self, p: Protocol) -> &ProtocolSettings {
        match p {
            Protocol::Imap => &self.imap,
            Protocol::Pop3 => &self.pop3,
            Protocol::Lmtp => &self.lmtp,
        }
    }
}

impl Env {
    pub fn new(
        shard: usize,
        shards: usize,
        settings: Arc<ProtocolSettingsSet>,
        tls: Option<Arc<ServerConfig>>,
        auth: Rc<dyn Authenticator>,
        handoff: Box<HandoffFn>,
    ) -> Rc<Env> {
        Rc::new(Env {
            shard,
            shards,
            shutdown: LocalEvent::new(),
            settings,
            tls: RefCell::new(tls),
            auth,
            handoff,
            session_counter: Cell::new(0),
        })
    }

    pub fn tls(&self) -> Option<Arc<ServerConfig>> {
        self.tls.borrow().clone()
    }

    pub fn set_tls(&self, cfg: Option<Arc<ServerConfig>>) {
        *self.tls.borrow_mut() = cfg;
    }

    /// A short id for log lines, unique per process run.
    pub fn new_session_id(&self) -> String {
        let n = self.session_counter.get() + 1;
        self.session_counter.set(n);
        format!("{}{:x}", char::from(b'a' + (self.shard % 26) as u8), n)
    }

    /// The shard that owns `user`.
    pub fn owner_of(&self, user: &str) -> usize {
        super::owner::owner_shard(user, self.shards)
    }

    pub async fn handoff(&self, to: usize, h: Handoff) -> bool {
        (self.handoff)(to, h).await
    }

    /// Dovecot's "secured" (§6.1 of the config doc): TLS, a trusted network,
    /// or a connection from the server's own address.
    pub fn is_secured(&self, p: Protocol, tls: bool, peer: &crate::net::PeerInfo) -> bool {
        if tls || peer.is_local() {
            return true;
        }
        let Some(rip) = peer.remote.map(|a| a.ip()) else {
            return true;
        };
        self.settings
            .get(p)
            .login_trusted_networks
            .iter()
            .any(|&(net, bits)| ip_in_net(rip, net, bits))
    }
}

pub fn ip_in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = u32::from(bits.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = u32::from(bits.min(128));
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(ip_in_net(ip("10.1.2.3"), ip("10.0.0.0"), 8));
        assert!(!ip_in_net(ip("11.1.2.3"), ip("10.0.0.0"), 8));
        assert!(ip_in_net(ip("2001:db8::5"), ip("2001:db8::"), 32));
        assert!(!ip_in_net(ip("2001:db9::5"), ip("2001:db8::"), 32));
        assert!(ip_in_net(ip("1.2.3.4"), ip("0.0.0.0"), 0));
        assert!(!ip_in_net(ip("1.2.3.4"), ip("::"), 0));
    }
}

/// What a session's read loop got.
#[derive(Debug)]
pub enum Input {
    Line(Vec<u8>),
    TooLong,
    Shutdown,
    Closed,
    Timeout,
    Error(String),
}

impl Env {
    /// Reads the next line, unless the server starts shutting down first
    /// (checked between commands only, so a command in progress finishes).
    pub async fn next_line(&self, conn: &mut crate::net::Conn, max: usize) -> Input {
        use crate::net::conn::ConnError;
        if self.shutdown.is_set() {
            return Input::Shutdown;
        }
        let ready = async { Some(conn.readable().await) };
        let stop = async {
            self.shutdown.wait().await;
            None
        };
        match futures_lite::future::or(ready, stop).await {
            None => return Input::Shutdown,
            Some(Err(ConnError::Timeout)) => return Input::Timeout,
            Some(Err(ConnError::Closed)) => return Input::Closed,
            Some(Err(e)) => return Input::Error(e.to_string()),
            Some(Ok(())) => {}
        }
        match conn.read_line(max).await {
            Ok(l) => Input::Line(l),
            Err(ConnError::LineTooLong) => Input::TooLong,
            Err(ConnError::Timeout) => Input::Timeout,
            Err(ConnError::Closed) => Input::Closed,
            Err(e) => Input::Error(e.to_string()),
        }
    }
}

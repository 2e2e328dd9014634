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
use super::store_key::store_key;
use crate::config::vars::VarTable;
use crate::net::ConnParts;

pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Which protocol a session speaks: the subset of the configuration's
/// protocols that tern serves, so matches on it need no arm for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Imap,
    Pop3,
    Lmtp,
}

impl Protocol {
    /// The same protocol as `protocols =` names it.
    pub fn config(self) -> crate::config::Protocol {
        match self {
            Protocol::Imap => crate::config::Protocol::Imap,
            Protocol::Pop3 => crate::config::Protocol::Pop3,
            Protocol::Lmtp => crate::config::Protocol::Lmtp,
        }
    }

    pub fn name(self) -> &'static str {
        self.config().name()
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
    /// `auth_username_format` for this protocol (LMTP applies it to RCPT
    /// addresses before the userdb lookup, e.g. `%Ln` for system users).
    pub username_format: String,
    /// `pop3_uidl_format`.
    pub pop3_uidl_format: String,
    /// `pop3_client_workarounds = outlook-no-nuls`.
    pub pop3_outlook_no_nuls: bool,
    /// `pop3_client_workarounds = oe-ns-eoh`.
    pub pop3_oe_ns_eoh: bool,
    /// `pop3_lock_session`: one POP3 session per maildrop (`[IN-USE]`).
    pub pop3_lock_session: bool,
    /// `pop3_no_flag_updates`: do not set `\Seen` on retrieved messages.
    pub pop3_no_flag_updates: bool,
    /// `pop3_enable_last`: accept the obsolete LAST command.
    pub pop3_enable_last: bool,
    /// `pop3_logout_format`: the end-of-session log line's counters.
    pub pop3_logout_format: String,
    /// `recipient_delimiter`: every character is a `+detail` delimiter.
    pub recipient_delimiter: String,
    /// `lmtp_save_to_detail_mailbox`: `user+folder` goes to `folder`.
    pub lmtp_save_to_detail_mailbox: bool,
    /// `lda_mailbox_autocreate`: create a missing detail mailbox.
    pub lda_mailbox_autocreate: bool,
    /// `lmtp_add_received_header`.
    pub lmtp_add_received_header: bool,
    /// `lmtp_max_size` in octets; 0 means no limit of its own.
    pub lmtp_max_size: u64,
    pub login_trusted_networks: Vec<(IpAddr, u8)>,
    pub idle_timeout_preauth: Duration,
    pub idle_timeout_authed: Duration,
    /// `login_timeout`: the whole pre-login phase (IMAP, POP3) must end
    /// within this, however the client trickles its bytes.
    pub login_timeout: Duration,
    pub max_line_length: usize,
    pub auth_failure_delay: Duration,
    /// `mail_location` template (`%u %n %d %h` not yet expanded).
    pub mail_location: String,
    /// `mail_attachment_dir` template (empty: attachments stay in the mail files).
    pub mail_attachment_dir: String,
    /// `mail_max_userip_connections` (0 = unlimited), per protocol.
    pub max_userip_connections: u32,
    /// `rawlog_dir` template (empty: no rawlog), see `crate::net::rawlog`.
    pub rawlog_dir: String,
    /// IMAP-only settings (defaults for other protocols).
    pub imap_options: ImapOptions,
}

/// Settings only the IMAP session reads.
#[derive(Debug, Clone)]
pub struct ImapOptions {
    pub client_workarounds: Vec<crate::config::ImapWorkaround>,
    /// `imap_capability`: empty = built-in list; `+X Y` appends.
    pub capability: String,
    pub idle_notify_interval: Duration,
    /// `plugin { quota_max_mail_size }`: the APPENDLIMIT to advertise and
    /// enforce; `None` keeps the built-in cap (bare `APPENDLIMIT`).
    pub append_limit: Option<u64>,
    /// `imap_logout_format`: the end-of-session log line's counters.
    pub logout_format: String,
    /// `imap_id_send`: the ID fields sent (`name *` = built-in value).
    pub id_send: String,
    /// `imap_id_log`: the client's ID fields logged (`*` = all).
    pub id_log: String,
    /// `mailbox_idle_check_interval`: how often IDLE looks for changes
    /// other programs made to a Maildir/mbox ("0" disables).
    pub idle_check_interval: Duration,
    /// `namespace { mailbox NAME { special_use = \X } }`: the special-use
    /// attribute LIST shows for NAME (storage path form, `/`-separated)
    /// unless the mailbox has its own (CREATE … USE).
    pub special_use: Vec<(String, crate::storage::SpecialUse)>,
    /// `imap_urlauth_host`: the host URLAUTH URLs must name (`*`: any);
    /// empty disables URLAUTH, as in Dovecot.
    pub urlauth_host: String,
    /// `imap_urlauth_port`: the port they must name (143 when they name
    /// none).
    pub urlauth_port: u16,
}

impl Default for ImapOptions {
    fn default() -> Self {
        ImapOptions {
            client_workarounds: Vec::new(),
            capability: String::new(),
            idle_notify_interval: Duration::from_secs(120),
            append_limit: None,
            logout_format: "in=%i out=%o".to_string(),
            id_send: "name *".to_string(),
            special_use: Vec::new(),
            id_log: String::new(),
            idle_check_interval: Duration::from_secs(30),
            urlauth_host: String::new(),
            urlauth_port: 143,
        }
    }
}

/// Counts logged-in sessions per (protocol, user, remote IP). A user lives
/// on one shard, so a shard-local table sees all of that user's sessions.
#[derive(Default)]
pub struct UserIpTable {
    counts: RefCell<std::collections::HashMap<UserIpKey, u32>>,
}

type UserIpKey = (Protocol, String, Option<IpAddr>);

/// Holds one slot in the `UserIpTable`; dropping it frees the slot.
pub struct UserIpSlot {
    table: Rc<UserIpTable>,
    key: UserIpKey,
}

impl Drop for UserIpSlot {
    fn drop(&mut self) {
        let mut counts = self.table.counts.borrow_mut();
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

impl UserIpTable {
    /// Takes a slot unless `limit` (non-zero) sessions of this user from this
    /// IP already exist.
    pub fn acquire(
        self: &Rc<Self>,
        p: Protocol,
        user: &str,
        ip: Option<IpAddr>,
        limit: u32,
    ) -> Option<UserIpSlot> {
        let key = (p, user.to_string(), ip);
        let mut counts = self.counts.borrow_mut();
        let n = counts.entry(key.clone()).or_insert(0);
        if limit != 0 && *n >= limit {
            if *n == 0 {
                counts.remove(&key);
            }
            return None;
        }
        *n += 1;
        Some(UserIpSlot {
            table: self.clone(),
            key,
        })
    }
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
    pub password: crate::auth::secret::Secret,
    pub remote_ip: Option<IpAddr>,
    pub local_ip: Option<IpAddr>,
    pub secured: bool,
    pub mechanism: &'static str,
}

/// What the userdb says about a user: where the mail lives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    /// Canonical user name.
    pub user: String,
    /// Home directory; may be empty.
    pub home: String,
    /// A per-user `mail_location` (userdb `mail` field), if the userdb gave one.
    pub mail: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Result of a userdb lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLookup {
    Found(UserInfo),
    NotFound,
    /// The userdb could not answer (LMTP answers 451, IMAP `NO [UNAVAILABLE]`).
    TempFail(String),
}

/// Password checking and user lookup, as the shard sees it. Implementations
/// must not block the shard (they talk to the auth helper or run in the
/// blocking pool).
pub trait Authenticator {
    fn authenticate<'a>(&'a self, req: AuthRequest) -> LocalFuture<'a, AuthOutcome>;
    /// userdb lookup (after login on the owner shard; LMTP RCPT).
    fn lookup_user<'a>(&'a self, user: &'a str) -> LocalFuture<'a, UserLookup>;
}

/// A connection on its way to another shard, with the protocol's own state.
pub struct Handoff {
    pub protocol: Protocol,
    pub conn: ConnParts,
    pub state: Box<dyn Any + Send>,
}

/// Work to run on another shard (e.g. an LMTP delivery on the recipient's
/// owner shard). It gets that shard's `Env`; results travel back through
/// whatever channel the closure captured.
pub type RemoteTask = Box<dyn FnOnce(Rc<Env>) -> LocalFuture<'static, ()> + Send>;

/// What shards send each other over the mesh.
pub enum ShardMsg {
    Handoff(Handoff),
    Run(RemoteTask),
}

/// Sends a message to a shard; `false` if it could not be delivered (for a
/// handoff the connection is then closed: its state cannot be recovered).
pub type SendFn = dyn Fn(usize, ShardMsg) -> LocalFuture<'static, bool>;

pub struct Env {
    pub shard: usize,
    pub shards: usize,
    pub shutdown: Rc<LocalEvent>,
    pub settings: Arc<ProtocolSettingsSet>,
    tls: RefCell<Option<Arc<ServerConfig>>>,
    pub auth: Rc<dyn Authenticator>,
    /// This shard's mail storage caches.
    pub storage: Rc<crate::storage::ShardStorage>,
    /// Logged-in sessions per user and IP (`mail_max_userip_connections`).
    pub userip: Rc<UserIpTable>,
    send: Box<SendFn>,
    session_counter: Cell<u64>,
    /// Store keys this shard opened although another shard owns them,
    /// already reported (one WARN per store, not per open).
    foreign_stores: RefCell<std::collections::HashSet<String>>,
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
        storage: Rc<crate::storage::ShardStorage>,
        send: Box<SendFn>,
    ) -> Rc<Env> {
        Rc::new(Env {
            shard,
            shards,
            shutdown: LocalEvent::new(),
            settings,
            tls: RefCell::new(tls),
            auth,
            storage,
            userip: Rc::new(UserIpTable::default()),
            send,
            session_counter: Cell::new(0),
            foreign_stores: RefCell::new(std::collections::HashSet::new()),
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

    /// The shard that owns the store `info` resolves to for protocol `p`
    /// (see [`super::store_key`]): every spelling of a user that the
    /// userdb maps to one store gets the same answer.
    pub fn owner_of_store(&self, info: &UserInfo, p: Protocol) -> usize {
        if self.shards <= 1 {
            return 0;
        }
        super::owner::owner_shard(&self.store_key(info, p), self.shards)
    }

    /// The identity of the store `info` resolves to for protocol `p`: the
    /// same for every spelling of the user (see [`super::store_key`]).
    pub fn store_key(&self, info: &UserInfo, p: Protocol) -> String {
        match self.user_context(p, info) {
            Ok(ctx) => store_key(&info.user, &info.home, &ctx.mail_location),
            Err(_) => info.user.clone(),
        }
    }

    pub async fn handoff(&self, to: usize, h: Handoff) -> bool {
        (self.send)(to, ShardMsg::Handoff(h)).await
    }

    /// Runs `task` on shard `to` (on this shard directly when `to` is us).
    pub async fn run_on(self: &Rc<Self>, to: usize, task: RemoteTask) -> bool {
        if to == self.shard {
            task(self.clone()).await;
            return true;
        }
        (self.send)(to, ShardMsg::Run(task)).await
    }

    /// What storage needs to open `info`'s mail store for protocol `p`.
    pub fn user_context(
        &self,
        p: Protocol,
        info: &UserInfo,
    ) -> Result<crate::storage::UserContext, String> {
        let settings = self.settings.get(p);
        user_context(
            &settings.mail_location,
            &settings.mail_attachment_dir,
            p.name(),
            info,
        )
    }

    /// Opens the user's mail store on this shard.
    pub async fn open_mail(
        &self,
        p: Protocol,
        info: &UserInfo,
    ) -> Result<crate::storage::AnyStore, String> {
        let ctx = self.user_context(p, info)?;
        self.report_foreign_store(&ctx);
        self.storage
            .open_user(&ctx)
            .await
            .map_err(|e| e.to_string())
    }

    /// Two shards serving one store keep two caches that do not see each
    /// other's commits, so a store opened here although another shard owns
    /// it (a route that bypassed `owner_of_store`, a misconfiguration) is
    /// reported, once per store. True when this call logged.
    pub(crate) fn report_foreign_store(&self, ctx: &crate::storage::UserContext) -> bool {
        if self.shards <= 1 {
            return false;
        }
        let key = store_key(&ctx.user, &ctx.home, &ctx.mail_location);
        let owner = super::owner::owner_shard(&key, self.shards);
        if owner == self.shard || self.foreign_stores.borrow().contains(&key) {
            return false;
        }
        tracing::warn!(
            user = ctx.user,
            store = key,
            shard = self.shard,
            owner,
            "storage: store opened on a shard that does not own it; its changes may stay unseen by the owner's sessions"
        );
        self.foreign_stores.borrow_mut().insert(key);
        true
    }

    /// Starts the rawlog of a logged-in `p` session of `info`'s user when
    /// `rawlog_dir` is set and its expansion exists (Dovecot's rule).
    pub async fn start_rawlog(
        &self,
        p: Protocol,
        info: &UserInfo,
        session: &str,
    ) -> Option<crate::net::rawlog::Rawlog> {
        let template = &self.settings.get(p).rawlog_dir;
        if template.is_empty() {
            return None;
        }
        let dir = VarTable::for_user(&info.user)
            .with(Some('h'), "home", info.home.clone())
            .with(Some('s'), "service", p.name())
            .expand(template)
            .map_err(|e| tracing::warn!(session, "rawlog_dir: {e}"))
            .ok()?;
        let rawlog = crate::net::rawlog::Rawlog::start(std::path::Path::new(&dir), session).await?;
        tracing::info!(
            session,
            user = info.user,
            "{}: rawlog: {}",
            p.name(),
            rawlog.in_path.with_extension("{in,out}").display()
        );
        Some(rawlog)
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
        self.is_trusted_network(p, rip)
    }

    /// `rip` is in `login_trusted_networks` (a proxy, webmail): such
    /// clients are not capped per IP before login.
    pub fn is_trusted_network(&self, p: Protocol, rip: IpAddr) -> bool {
        self.settings
            .get(p)
            .login_trusted_networks
            .iter()
            .any(|&(net, bits)| ip_in_net(rip, net, bits))
    }
}

/// What storage needs to open `info`'s store: `mail_location` (the
/// userdb's `mail` field wins over the `mail_location` setting) and
/// `mail_attachment_dir` with `%u %n %d %h %s` expanded. Shards and the
/// admin CLI both resolve stores through this, so they agree on the store
/// (and so on its owner shard) for every user.
pub fn user_context(
    mail_location: &str,
    mail_attachment_dir: &str,
    service: &str,
    info: &UserInfo,
) -> Result<crate::storage::UserContext, String> {
    let template = info.mail.as_deref().unwrap_or(mail_location);
    let vars = VarTable::for_user(&info.user)
        .with(Some('h'), "home", info.home.clone())
        .with(Some('s'), "service", service);
    Ok(crate::storage::UserContext {
        user: info.user.clone(),
        home: info.home.clone(),
        mail_location: vars
            .expand(template)
            .map_err(|e| format!("mail_location: {e}"))?,
        mail_attachment_dir: vars
            .expand(mail_attachment_dir)
            .map_err(|e| format!("mail_attachment_dir: {e}"))?,
    })
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
    fn userip_slots_are_limited_and_freed() {
        let t = Rc::new(UserIpTable::default());
        let ip = Some("10.0.0.1".parse().unwrap());
        let a = t.acquire(Protocol::Imap, "alice", ip, 2).unwrap();
        let _b = t.acquire(Protocol::Imap, "alice", ip, 2).unwrap();
        assert!(t.acquire(Protocol::Imap, "alice", ip, 2).is_none());
        // other IP, other protocol, other user: separate counts
        assert!(t.acquire(Protocol::Imap, "alice", None, 2).is_some());
        assert!(t.acquire(Protocol::Pop3, "alice", ip, 2).is_some());
        assert!(t.acquire(Protocol::Imap, "bob", ip, 2).is_some());
        drop(a);
        assert!(t.acquire(Protocol::Imap, "alice", ip, 2).is_some());
        assert!(
            t.acquire(Protocol::Imap, "alice", ip, 0).is_some(),
            "0 = unlimited"
        );
    }

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

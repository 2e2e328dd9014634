//! What every shard runs: bind its listeners, accept and serve sessions,
//! resume sessions handed over by other shards, and follow the main
//! thread's shutdown and reload requests.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::channels::shared_channel::ConnectedReceiver;
use rustls::ServerConfig;

use crate::net::burst_log::BurstLog;
use crate::net::login_budget::{LoginBudget, Refusal, ShardLogins};
use crate::net::{Conn, listener};
use crate::shard::env::{Authenticator, Env, Handoff, Protocol, ProtocolSettingsSet, ShardMsg};
use crate::shard::published::{Cached, Published};
use crate::shard::repoll::{REPOLL_PERIOD, repolled};
use crate::shard::{Control, ShardContext};

use super::local_auth::{LocalAuth, UserTables};
use super::plan::{ListenAddr, ServerPlan};

/// Everything the main thread shares with the shards.
pub struct Shared {
    pub plan: Arc<ServerPlan>,
    pub control: Arc<Control>,
    pub tls: Arc<Published<Option<Arc<ServerConfig>>>>,
    pub users: Arc<Published<UserTables>>,
    /// auth helper: each shard takes its socket (empty: in-process auth).
    pub auth_sockets: std::sync::Mutex<Vec<Option<std::os::fd::OwnedFd>>>,
    /// Set once privileges are dropped: shards bind first, accept after.
    pub may_accept: std::sync::atomic::AtomicBool,
    /// Every shard's counters, for the metrics endpoint.
    pub metrics: Arc<crate::metrics::Registry>,
    /// The pre-login budgets of imap-login and pop3-login.
    pub login_budgets: LoginBudgets,
}

/// One pre-login budget per login service, shared by every shard.
pub struct LoginBudgets {
    pub imap: Arc<LoginBudget>,
    pub pop3: Arc<LoginBudget>,
}

impl LoginBudgets {
    fn get(&self, protocol: Protocol) -> Option<&Arc<LoginBudget>> {
        match protocol {
            Protocol::Imap => Some(&self.imap),
            Protocol::Pop3 => Some(&self.pop3),
            Protocol::Lmtp => None,
        }
    }
}

/// A listener's share of a login budget: the shared counters and this
/// shard's own list of pre-login connections.
#[derive(Clone)]
struct LoginGate {
    budget: Arc<LoginBudget>,
    shard: Rc<ShardLogins>,
    refusals: Rc<BurstLog>,
}

impl Shared {
    /// This shard's end of its auth helper socket, if the helper runs.
    fn take_auth_socket(&self, shard: usize) -> Option<std::os::fd::OwnedFd> {
        let mut sockets = self.auth_sockets.lock().unwrap_or_else(|e| e.into_inner());
        sockets.get_mut(shard).and_then(Option::take)
    }

    /// The auth helper's client for this shard; `None` when the helper
    /// does not run (in-process authentication).
    fn helper_client(&self, shard: usize) -> Option<Result<Rc<dyn Authenticator>, String>> {
        let fd = self.take_auth_socket(shard)?;
        let settings = super::auth_client::ClientSettings::new(
            &self.plan.auth_helper,
            self.plan.protocols.imap.login_trusted_networks.clone(),
        );
        Some(
            super::auth_client::HelperClient::new(fd, settings)
                .map(|c| c as Rc<dyn Authenticator>)
                .map_err(|e| format!("auth helper socket: {e}")),
        )
    }
}

/// How often a shard looks at the control flags. Shutdown and reload are
/// rare; 50 ms is well inside what an operator notices.
const CONTROL_POLL: Duration = Duration::from_millis(50);

/// Counts the sessions a shard serves, so shutdown can wait for them.
#[derive(Default)]
struct Sessions {
    active: Cell<usize>,
}

struct SessionGuard(Rc<Sessions>);

impl SessionGuard {
    fn new(s: &Rc<Sessions>) -> SessionGuard {
        s.active.set(s.active.get() + 1);
        crate::metrics::session_started();
        SessionGuard(s.clone())
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.active.set(self.0.active.get() - 1);
        crate::metrics::session_ended();
    }
}

pub async fn run(
    ctx: Rc<ShardContext<ShardMsg>>,
    inbox: Vec<(usize, ConnectedReceiver<ShardMsg>)>,
    shared: Arc<Shared>,
) {
    let plan = shared.plan.clone();
    shared.metrics.install(ctx.index);
    let tls = Rc::new(Cached::new(shared.tls.clone()));
    let shard_tls = || (*tls.get()).clone().map(per_shard_tls);
    let auth: Rc<dyn Authenticator> = LocalAuth::new(
        shared.users.clone(),
        plan.lowercase_usernames,
        plan.userdb.clone(),
        plan.protocols.imap.auth_failure_delay,
    );
    let storage = Rc::new(crate::storage::ShardStorage::new(
        plan.mail_cache_max_memory / ctx.count.max(1),
    ));
    let handoff_ctx = ctx.clone();
    // auth helper (started as root): its client replaces the in-process one.
    let auth = match shared.helper_client(ctx.index) {
        None => auth,
        Some(Ok(client)) => client,
        Some(Err(e)) => {
            shared.control.report_start_error(e);
            shared.control.mark_ready();
            return;
        }
    };
    let auth: Rc<dyn Authenticator> = Rc::new(super::metrics_listener::TimedAuth(auth));
    let env = Env::new(
        ctx.index,
        ctx.count,
        Arc::new(plan.protocols.clone()) as Arc<ProtocolSettingsSet>,
        shard_tls(),
        auth,
        storage,
        Box::new(move |to, h| {
            let c = handoff_ctx.clone();
            Box::pin(async move { c.send_to(to, h).await.is_ok() })
        }),
    );
    let sessions = Rc::new(Sessions::default());
    // One gate per login service on this shard (shared by its listeners).
    let gates: Vec<(Protocol, LoginGate)> = [Protocol::Imap, Protocol::Pop3]
        .into_iter()
        .filter_map(|p| {
            let budget = shared.login_budgets.get(p)?.clone();
            Some((
                p,
                LoginGate {
                    budget,
                    shard: Rc::new(ShardLogins::default()),
                    refusals: Rc::new(BurstLog::default()),
                },
            ))
        })
        .collect();
    let gate_for = |p: Protocol| gates.iter().find(|(q, _)| *q == p).map(|(_, g)| g.clone());

    // Bind. TCP listeners exist on every shard (SO_REUSEPORT); a unix socket
    // path can only be bound once, so shard 0 takes those.
    let mut accepts = Vec::new();
    let mut failed = false;
    for l in &plan.listeners {
        let spawn = match &l.addr {
            ListenAddr::Tcp(addr) => match listener::bind_tcp(*addr) {
                Ok(sock) => Some(Box::pin(accept_tcp(
                    sock,
                    l.protocol,
                    l.implicit_tls,
                    gate_for(l.protocol),
                    env.clone(),
                    sessions.clone(),
                ))
                    as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>),
                Err(e) => {
                    shared.control.report_start_error(format!(
                        "{} listener {}: bind {addr}: {e}",
                        l.protocol.name(),
                        l.name
                    ));
                    failed = true;
                    None
                }
            },
            ListenAddr::Unix { path, mode } if ctx.index == 0 => {
                match listener::bind_unix(path, *mode) {
                    Ok(sock) => {
                        Some(
                            Box::pin(accept_unix(sock, l.protocol, env.clone(), sessions.clone()))
                                as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
                        )
                    }
                    Err(e) => {
                        shared.control.report_start_error(format!(
                            "{} unix listener {}: {e}",
                            l.protocol.name(),
                            path.display()
                        ));
                        failed = true;
                        None
                    }
                }
            }
            ListenAddr::Unix { .. } => None,
        };
        if let Some(fut) = spawn {
            accepts.push(fut);
        }
    }
    // The metrics endpoint: one small responder, on the first shard.
    if ctx.index == 0 {
        for addr in &plan.metrics_listeners {
            match listener::bind_tcp(*addr) {
                Ok(sock) => accepts.push(Box::pin(super::metrics_listener::serve(
                    sock,
                    shared.metrics.clone(),
                    env.clone(),
                ))
                    as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>),
                Err(e) => {
                    shared
                        .control
                        .report_start_error(format!("stats listener http: bind {addr}: {e}"));
                    failed = true;
                }
            }
        }
    }
    shared.control.mark_ready();
    if failed {
        return;
    }
    // Accept only once the main thread has dropped privileges.
    while !shared.may_accept.load(std::sync::atomic::Ordering::Acquire) {
        if shared.control.shutdown_requested() {
            return;
        }
        glommio::timer::sleep(Duration::from_millis(2)).await;
    }
    let tasks: Vec<_> = accepts.into_iter().map(glommio::spawn_local).collect();

    for (_peer, rx) in inbox {
        let env = env.clone();
        let sessions = sessions.clone();
        glommio::spawn_local(async move {
            // A handoff or delivery must not wait for an unrelated wake-up
            // (see shard::repoll).
            while let Some(msg) = repolled(rx.recv(), REPOLL_PERIOD).await {
                let guard = SessionGuard::new(&sessions);
                let env = env.clone();
                glommio::spawn_local(async move {
                    match msg {
                        ShardMsg::Handoff(h) => resume(h, env).await,
                        ShardMsg::Run(task) => task(env).await,
                    }
                    drop(guard);
                })
                .detach();
            }
        })
        .detach();
    }

    // Follow the main thread.
    let mut reload_seen = shared.control.reload_generation();
    while !shared.control.shutdown_requested() {
        glommio::timer::sleep(CONTROL_POLL).await;
        let g = shared.control.reload_generation();
        if g != reload_seen {
            reload_seen = g;
            env.set_tls(shard_tls());
        }
    }

    // Shutdown: stop accepting, tell sessions (they finish the command in
    // progress, say BYE and close), wait for them up to the grace period.
    env.shutdown.set();
    for t in tasks {
        t.cancel().await;
    }
    let deadline = Instant::now() + plan.shutdown_grace;
    while sessions.active.get() > 0 && Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(10)).await;
    }
    if sessions.active.get() > 0 {
        tracing::warn!(
            shard = ctx.index,
            left = sessions.active.get(),
            "shutdown grace period over; closing sessions"
        );
    }
}

/// Each shard gets its own copy of the TLS configuration with its own
/// session cache (TLS 1.2 session ids): rustls's cache is behind a mutex,
/// and one cache shared by all shards would put that lock on every
/// handshake. Tickets (TLS 1.3, and 1.2 clients that ask for them) come from
/// the ticketer the copies share, so they resume on any shard.
fn per_shard_tls(cfg: Arc<ServerConfig>) -> Arc<ServerConfig> {
    let mut local = (*cfg).clone();
    local.session_storage = rustls::server::ServerSessionMemoryCache::new(1024);
    Arc::new(local)
}

async fn accept_tcp(
    sock: glommio::net::TcpListener,
    protocol: Protocol,
    implicit_tls: bool,
    gate: Option<LoginGate>,
    env: Rc<Env>,
    sessions: Rc<Sessions>,
) {
    let start = move |stream: glommio::net::TcpStream, env: Rc<Env>| {
        let gate = gate.clone();
        async move {
            let idle = env.settings.get(protocol).idle_timeout_preauth;
            let mut conn = Conn::tcp(stream, idle);
            conn.count_as(protocol.into());
            crate::metrics::connection_accepted(protocol.into(), implicit_tls);
            if let Some(gate) = gate
                && !admit(&gate, protocol, &mut conn, &env)
            {
                conn.close().await;
                return;
            }
            start_session(conn, protocol, implicit_tls, env).await;
        }
    };
    accept_each("accept", || sock.accept(), start, env, sessions).await;
}

/// Takes a place in the pre-login budget for `conn` (and starts its login
/// deadline); false when it is refused.
fn admit(gate: &LoginGate, protocol: Protocol, conn: &mut Conn, env: &Env) -> bool {
    let settings = env.settings.get(protocol);
    let rip = conn.peer.remote.map(|a| a.ip());
    let capped_ip = rip.filter(|ip| !env.is_trusted_network(protocol, *ip));
    match gate.budget.admit(&gate.shard, capped_ip, conn.raw_fd()) {
        Ok(slot) => {
            conn.start_login(Some(slot), settings.login_timeout);
            true
        }
        Err(refusal) => {
            if let Some(more) = gate.refusals.note(Instant::now()) {
                let limits = gate.budget.limits();
                let why = match refusal {
                    Refusal::IpFull => format!(
                        "too many connections from this IP before login (login_max_ip_connections = {})",
                        limits.max_per_ip
                    ),
                    Refusal::Full => format!(
                        "too many connections before login ({} allowed)",
                        limits.max_connections
                    ),
                };
                tracing::warn!(
                    rip = %conn.peer.remote_ip(),
                    "{}-login: connection refused: {why}; {more} more refused since the last such line",
                    protocol.name()
                );
            }
            false
        }
    }
}

async fn start_session(mut conn: Conn, protocol: Protocol, implicit_tls: bool, env: Rc<Env>) {
    if implicit_tls {
        let Some(cfg) = env.tls() else {
            return;
        };
        if let Err(e) = conn.accept_tls(cfg).await {
            tracing::info!(
                rip = %conn.peer.remote_ip(),
                "{}-login: TLS handshake failed: {e}",
                protocol.name()
            );
            return;
        }
    }
    serve(protocol, conn, env).await;
}

async fn accept_unix(
    sock: glommio::net::UnixListener,
    protocol: Protocol,
    env: Rc<Env>,
    sessions: Rc<Sessions>,
) {
    let start = move |stream: glommio::net::UnixStream, env: Rc<Env>| async move {
        let idle = env.settings.get(protocol).idle_timeout_preauth;
        let mut conn = Conn::unix(stream, idle);
        conn.count_as(protocol.into());
        crate::metrics::connection_accepted(protocol.into(), false);
        serve(protocol, conn, env).await;
    };
    accept_each("unix accept", || sock.accept(), start, env, sessions).await;
}

/// Accepts connections for ever, starting each in a task of its own that
/// counts as a session until it ends.
async fn accept_each<S, Accepted, Started>(
    what: &str,
    mut accept: impl FnMut() -> Accepted,
    start: impl Fn(S, Rc<Env>) -> Started,
    env: Rc<Env>,
    sessions: Rc<Sessions>,
) where
    Accepted: Future<Output = glommio::Result<S, ()>>,
    Started: Future<Output = ()> + 'static,
{
    let failures = BurstLog::default();
    loop {
        let stream = match accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning,
                // and say so once per burst, not once per attempt.
                if let Some(more) = failures.note(Instant::now()) {
                    tracing::warn!(
                        shard = env.shard,
                        "{what} failed: {e} ({more} more failures since the last such line)"
                    );
                }
                glommio::timer::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let guard = SessionGuard::new(&sessions);
        let session = start(stream, env.clone());
        glommio::spawn_local(async move {
            session.await;
            drop(guard);
        })
        .detach();
    }
}

async fn serve(protocol: Protocol, conn: Conn, env: Rc<Env>) {
    match protocol {
        Protocol::Imap => crate::imap::login::serve(conn, env).await,
        Protocol::Pop3 => crate::pop3::login::serve(conn, env).await,
        Protocol::Lmtp => crate::lmtp::front::serve(conn, env).await,
    }
}

async fn resume(h: Handoff, env: Rc<Env>) {
    let conn = Conn::from_parts(h.conn);
    match h.protocol {
        Protocol::Imap => match h.state.downcast::<crate::imap::login::ImapHandoff>() {
            Ok(s) => crate::imap::login::resume(conn, *s, env).await,
            Err(_) => tracing::error!("handoff: IMAP state of the wrong type"),
        },
        Protocol::Pop3 => match h.state.downcast::<crate::pop3::login::Pop3Handoff>() {
            Ok(s) => crate::pop3::login::resume(conn, *s, env).await,
            Err(_) => tracing::error!("handoff: POP3 state of the wrong type"),
        },
        Protocol::Lmtp => tracing::error!("handoff: LMTP sessions do not move"),
    }
}

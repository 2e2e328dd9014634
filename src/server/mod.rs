//! Bootstrap: from a plan to running shards; signals, reload, shutdown.

pub mod auth_client;
pub mod from_config;
pub mod local_auth;
mod metrics_listener;
mod notify;
pub mod plan;
pub mod privileges;
pub mod shard_main;
pub mod signals;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::net::login_budget::LoginBudget;
use crate::net::tls;
use crate::shard::Control;
use crate::shard::env::Protocol;
use crate::shard::env::ShardMsg;
use crate::shard::published::Published;
use crate::shard::runtime::{ShardSpec, spawn_shards};

use plan::ServerPlan;
use shard_main::Shared;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Tls(String),
    #[error("auth: {0}")]
    Auth(String),
    #[error("starting shards: {0}")]
    Start(String),
    #[error("signals: {0}")]
    Signals(std::io::Error),
    #[error("privileges: {0}")]
    Privileges(#[from] privileges::PrivilegeError),
}

/// Raises the open-files soft limit to the hard limit: every client is a
/// descriptor, and the common default of 1024 is far too low for a mail
/// server. Returns (soft, hard) after the change.
pub fn raise_nofile_limit() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain struct in/out.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (0, 0);
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    (lim.rlim_cur, lim.rlim_max)
}

fn login_budget(
    plan: &ServerPlan,
    protocol: Protocol,
    open_files: u64,
    shards: usize,
) -> Arc<LoginBudget> {
    let limits = plan.login_limits.limits(protocol, open_files).unwrap_or(
        crate::net::login_budget::LoginLimits {
            max_connections: usize::MAX,
            max_per_ip: 0,
        },
    );
    LoginBudget::new(limits, shards)
}

fn build_tls(plan: &ServerPlan) -> Result<Option<Arc<rustls::ServerConfig>>, ServerError> {
    let Some(t) = &plan.tls else {
        return Ok(None);
    };
    let material = t.load().map_err(ServerError::Tls)?;
    tls::server_config(&material)
        .map(Some)
        .map_err(|e| ServerError::Tls(e.to_string()))
}

/// Runs the server until SIGTERM/SIGINT. `on_ready` is called once every
/// shard has bound its listeners (the CLI prints the connection table).
pub fn run(plan: ServerPlan, on_ready: impl FnOnce(&ServerPlan)) -> Result<(), ServerError> {
    let (soft, hard) = raise_nofile_limit();
    let shards = plan.shard_cpus.len();
    let login_budgets = shard_main::LoginBudgets {
        imap: login_budget(&plan, Protocol::Imap, soft, shards),
        pop3: login_budget(&plan, Protocol::Pop3, soft, shards),
    };
    tracing::info!(
        open_files = soft,
        hard_limit = hard,
        imap_prelogin = login_budgets.imap.limits().max_connections,
        pop3_prelogin = login_budgets.pop3.limits().max_connections,
        per_ip = plan.login_limits.max_per_ip,
        "descriptor limit raised to {soft}; connections before login capped"
    );
    if soft < 4096 {
        tracing::warn!(
            "open-files limit is only {soft}: each connection needs one; raise LimitNOFILE / ulimit -n"
        );
    }
    for l in &plan.listeners {
        if let crate::server::plan::ListenAddr::Tcp(addr) = &l.addr {
            crate::net::listener::ensure_port_free(*addr).map_err(|e| {
                ServerError::Start(format!(
                    "{} listener {}: {addr}: {e} (is another server running?)",
                    l.protocol.name(),
                    l.name
                ))
            })?;
        }
    }
    for addr in &plan.metrics_listeners {
        crate::net::listener::ensure_port_free(*addr).map_err(|e| {
            ServerError::Start(format!(
                "stats listener http: {addr}: {e} (is another server running?)"
            ))
        })?;
    }
    // Block the signals before any thread starts, so only the main thread's
    // sigwait sees them.
    let signals = signals::Signals::block().map_err(ServerError::Signals)?;

    // --- auth helper and privileges (see privileges.rs) ---
    // Forked now, while the process is single-threaded and root.
    let (helper, helper_sockets, run_as) = start_auth(&plan)?;
    // --- end auth helper ---

    let tls_cfg = build_tls(&plan)?;
    let users = local_auth::load_tables(&plan.auth_sources).map_err(ServerError::Auth)?;
    let control = Control::new();
    let shared = Arc::new(Shared {
        plan: Arc::new(plan.clone()),
        control: control.clone(),
        tls: Published::new(tls_cfg),
        users: Published::new(users),
        auth_sockets: std::sync::Mutex::new(helper_sockets),
        may_accept: std::sync::atomic::AtomicBool::new(false),
        metrics: Arc::new(crate::metrics::Registry::new(plan.shard_cpus.len())),
        login_budgets,
    });

    let specs: Vec<ShardSpec> = plan
        .shard_cpus
        .iter()
        .enumerate()
        .map(|(i, cpu)| ShardSpec {
            index: i,
            cpu: *cpu,
            io_memory: plan.io_memory,
            ring_depth: plan.ring_depth,
            blocking_threads: plan.blocking_threads,
        })
        .collect();
    let nshards = specs.len();
    let s2 = shared.clone();
    let handles = spawn_shards::<ShardMsg, _, _>(specs, 1024, move |ctx, inbox| {
        shard_main::run(ctx, inbox, s2.clone())
    })
    .map_err(|e| ServerError::Start(e.to_string()))?;

    // Wait until every shard has bound (or failed to bind) its listeners.
    let started = Instant::now();
    while control.ready_count() < nshards as u64 {
        if started.elapsed() > Duration::from_secs(30) {
            control.request_shutdown();
            return Err(ServerError::Start(
                "shards did not start within 30 s".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let errors = control.start_errors();
    if !errors.is_empty() {
        control.request_shutdown();
        for h in handles {
            let _ = h.join();
        }
        return Err(ServerError::Start(errors.join("; ")));
    }
    // --- privileges: listeners are bound, nothing accepted yet ---
    if let Some(to) = run_as {
        if let Err(e) = privileges::drop_to(to) {
            control.request_shutdown();
            for h in handles {
                let _ = h.join();
            }
            return Err(ServerError::Privileges(e));
        }
        tracing::info!(uid = to.uid, gid = to.gid, "dropped privileges");
    } else if privileges::is_root() {
        tracing::warn!(
            "running as root: set mail_uid/mail_gid (or uid/gid in the userdb override_fields) to drop privileges"
        );
    }
    shared
        .may_accept
        .store(true, std::sync::atomic::Ordering::Release);
    // --- end privileges ---
    on_ready(&plan);
    tracing::info!(shards = nshards, "tern started");
    notify::notify(&format!(
        "READY=1\nMAINPID={}\nSTATUS=serving with {nshards} shard(s)",
        std::process::id()
    ));

    loop {
        match signals.wait(Duration::from_millis(500)) {
            Some(signals::Event::Reload) => reload(&shared),
            Some(signals::Event::ReopenLogs) => match crate::logging::reopen() {
                Ok(()) => tracing::info!("log files reopened"),
                Err(e) => tracing::error!("reopening the log files: {e}"),
            },
            Some(signals::Event::Shutdown) => break,
            None => {}
        }
    }
    notify::notify("STOPPING=1");
    tracing::info!("shutting down: no new connections, finishing sessions");
    control.request_shutdown();
    // The shards bound their own wait by the grace period; this bound covers
    // a shard that is stuck anyway.
    let deadline = Instant::now() + plan.shutdown_grace + Duration::from_secs(5);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for h in handles {
            let _ = h.join();
        }
        let _ = done_tx.send(());
    });
    let left = deadline.saturating_duration_since(Instant::now());
    if done_rx.recv_timeout(left).is_err() {
        tracing::warn!("shards did not stop in time; exiting anyway");
    }
    drop(helper);
    tracing::info!("tern stopped");
    Ok(())
}

/// Started as root: fork the auth helper (one socket per shard) and find
/// the user to become. Otherwise: the in-process authenticator serves
/// passwd-file and static, and PAM / NSS drivers cannot work.
#[allow(clippy::type_complexity)]
fn start_auth(
    plan: &ServerPlan,
) -> Result<
    (
        Option<crate::auth::helper::HelperProcess>,
        Vec<Option<std::os::fd::OwnedFd>>,
        Option<privileges::RunAs>,
    ),
    ServerError,
> {
    let cfg = &plan.auth_helper;
    if !privileges::is_root() {
        if cfg.needs_system_access() {
            tracing::warn!(
                "passdb pam / userdb passwd need the auth helper, which runs only when tern starts as root; those users cannot log in"
            );
        }
        return Ok((None, Vec::new(), None));
    }
    let (over_uid, over_gid) = cfg.override_owner();
    let (user, group) = if cfg.mail_uid.is_empty() {
        (over_uid, over_gid)
    } else {
        (Some(cfg.mail_uid.as_str()), Some(cfg.mail_gid.as_str()))
    };
    let run_as = privileges::resolve(user, group).map_err(ServerError::Privileges)?;
    let mut helper = crate::auth::helper::start(cfg.clone(), plan.shard_cpus.len())
        .map_err(|e| ServerError::Auth(e.to_string()))?;
    let sockets = std::mem::take(&mut helper.shard_ends)
        .into_iter()
        .map(Some)
        .collect();
    Ok((Some(helper), sockets, run_as))
}

/// SIGHUP: read certificates and passwd-files again. Sessions in progress
/// keep their TLS state; new connections get the new certificate.
fn reload(shared: &Shared) {
    match build_tls(&shared.plan) {
        Ok(cfg) => shared.tls.publish(cfg),
        Err(e) => tracing::error!("reload: keeping the old certificate: {e}"),
    }
    match local_auth::load_tables(&shared.plan.auth_sources) {
        Ok(t) => shared.users.publish(t),
        Err(e) => tracing::error!("reload: keeping the old user tables: {e}"),
    }
    shared.control.bump_reload();
    tracing::info!("reloaded certificates and user tables");
}

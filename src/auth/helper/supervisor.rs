//! Forks the helper supervisor, which forks (and re-forks) the worker.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use super::config::HelperConfig;
use super::sys::{self, Forked};

#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("the auth helper must be forked before any thread starts ({0} threads running)")]
    NotSingleThreaded(usize),
    #[error("creating the shard sockets: {0}")]
    Socket(std::io::Error),
    #[error("forking the auth helper: {0}")]
    Fork(std::io::Error),
}

/// The running helper, as the main process sees it.
#[derive(Debug)]
pub struct HelperProcess {
    pub supervisor_pid: i32,
    /// One socket per shard, in shard order; each shard takes its own.
    pub shard_ends: Vec<OwnedFd>,
}

impl Drop for HelperProcess {
    fn drop(&mut self) {
        // The helper follows us anyway (our socket ends close); this ends it
        // when the server stops without exiting (tests, restarts). The
        // worker follows the supervisor the same way.
        sys::kill_child(self.supervisor_pid);
    }
}

/// A worker that lived shorter than this is restarted with back-off, so
/// a crash loop (bad PAM module) does not spin.
const STABLE_AFTER: Duration = Duration::from_secs(2);
const FIRST_RESTART_DELAY: Duration = Duration::from_millis(50);
const MAX_RESTART_DELAY: Duration = Duration::from_secs(5);

/// Creates one socket pair per shard and forks the supervisor. Must be
/// called while the process has one thread.
pub fn start(cfg: HelperConfig, shards: usize) -> Result<HelperProcess, HelperError> {
    let threads = sys::thread_count();
    if threads > 1 {
        return Err(HelperError::NotSingleThreaded(threads));
    }
    let mut shard_ends = Vec::with_capacity(shards);
    let mut helper_ends = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (a, b) = sys::seqpacket_pair().map_err(HelperError::Socket)?;
        shard_ends.push(a);
        helper_ends.push(b);
    }
    let server = sys::own_pid();
    match sys::fork().map_err(HelperError::Fork)? {
        Forked::Parent { child } => {
            drop(helper_ends);
            tracing::info!(pid = child, "auth: helper started");
            Ok(HelperProcess {
                supervisor_pid: child,
                shard_ends,
            })
        }
        Forked::Child => {
            drop(shard_ends);
            sys::set_process_name("tern-auth-sup");
            if sys::die_with_parent(server).is_err() {
                std::process::exit(1);
            }
            sys::ignore_termination_signals();
            sys::unblock_all_signals();
            supervise(&helper_ends, cfg)
        }
    }
}

fn supervise(sockets: &[OwnedFd], cfg: HelperConfig) -> ! {
    let me = sys::own_pid();
    let mut delay = FIRST_RESTART_DELAY;
    loop {
        let started = Instant::now();
        let child = match sys::fork() {
            Ok(Forked::Child) => {
                sys::set_process_name("tern-auth");
                if sys::die_with_parent(me).is_err() {
                    std::process::exit(1);
                }
                super::worker::run(sockets, cfg)
            }
            Ok(Forked::Parent { child }) => child,
            Err(e) => {
                tracing::error!("auth: cannot fork the worker: {e}");
                std::thread::sleep(MAX_RESTART_DELAY);
                continue;
            }
        };
        let status = sys::wait_for(child);
        // PR_SET_PDEATHSIG does not reach us once the server has dropped
        // root (the kernel checks the dying parent's credentials against
        // ours), so the server's death shows as its socket ends closing:
        // the worker then exits, and we must follow instead of restarting.
        if sys::all_peers_closed(sockets) {
            std::process::exit(0);
        }
        match status {
            Ok(status) => tracing::error!(
                "auth: worker {child} ended ({}); restarting it",
                sys::describe_status(status)
            ),
            Err(e) => {
                tracing::error!("auth: waiting for worker {child}: {e}");
                std::process::exit(1);
            }
        }
        if started.elapsed() >= STABLE_AFTER {
            delay = FIRST_RESTART_DELAY;
        } else {
            std::thread::sleep(delay);
            delay = (delay * 2).min(MAX_RESTART_DELAY);
        }
    }
}

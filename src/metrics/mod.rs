//! Counters for the OpenMetrics endpoint (`service stats { inet_listener
//! http { … } }`, Dovecot 2.3's way of configuring it).
//!
//! Each shard counts into its own [`ShardMetrics`], reached through a
//! thread-local set when the shard starts, with `Relaxed` atomics: the hot
//! path takes no lock and touches no memory another core writes. A scrape
//! sums the shards ([`Registry::render`]). Code that runs outside a shard
//! (unit tests, `tern admin`) records nothing.

mod counters;
mod histogram;
pub mod http;
mod imap_commands;
pub mod process;
mod render;

#[cfg(test)]
mod tests;

use std::cell::OnceCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use counters::{LoginResult, Service, ShardMetrics};
pub use histogram::{BOUNDS_SECONDS, Histogram};
pub use imap_commands::{IMAP_COMMANDS, imap_command_index};
pub use process::ProcessStats;

/// Which of a delivery's outcomes to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryResult {
    Delivered,
    TemporaryFailure,
    Failed,
}

/// Which auth request was timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// A password check (passdb).
    Passdb,
    /// A user lookup (userdb).
    Userdb,
}

/// Index rebuilds happen in storage, on whichever thread runs the job;
/// they are rare, so one process-wide counter does.
static INDEX_REBUILDS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CURRENT: OnceCell<Arc<ShardMetrics>> = const { OnceCell::new() };
}

/// Every shard's counters, created before the shards start.
pub struct Registry {
    shards: Vec<Arc<ShardMetrics>>,
}

impl Registry {
    pub fn new(shards: usize) -> Registry {
        Registry {
            shards: (0..shards.max(1))
                .map(|_| Arc::new(ShardMetrics::default()))
                .collect(),
        }
    }

    /// Makes shard `index`'s counters the calling thread's.
    pub fn install(&self, index: usize) {
        if let Some(m) = self.shards.get(index) {
            let m = m.clone();
            CURRENT.with(|c| {
                let _ = c.set(m);
            });
        }
    }

    pub fn shards(&self) -> &[Arc<ShardMetrics>] {
        &self.shards
    }

    /// The OpenMetrics text of every counter, summed over the shards.
    pub fn render(&self, process: &ProcessStats) -> String {
        render::render(self, process, INDEX_REBUILDS.load(Ordering::Relaxed))
    }
}

fn with(f: impl FnOnce(&ShardMetrics)) {
    CURRENT.with(|c| {
        if let Some(m) = c.get() {
            f(m);
        }
    });
}

/// A connection was accepted (`tls`: implicit TLS, imaps/pop3s).
pub fn connection_accepted(service: Service, tls: bool) {
    with(|m| m.connection(service, tls));
}

/// A STARTTLS/STLS handshake completed.
pub fn starttls(service: Service) {
    with(|m| m.starttls(service));
}

pub fn login(service: Service, result: LoginResult) {
    with(|m| m.login(service, result));
}

/// Bytes read from a client's socket (TLS records included).
pub fn bytes_in(service: Service, n: usize) {
    with(|m| m.bytes_in(service, n));
}

/// Bytes written to a client's socket (TLS records included).
pub fn bytes_out(service: Service, n: usize) {
    with(|m| m.bytes_out(service, n));
}

/// One IMAP command (index from [`imap_command_index`]) took `took`.
pub fn imap_command(index: usize, took: Duration) {
    with(|m| m.imap_command(index, took));
}

pub fn auth_request(kind: AuthKind, took: Duration) {
    with(|m| m.auth_request(kind, took));
}

pub fn lmtp_delivery(result: DeliveryResult) {
    with(|m| m.lmtp_delivery(result));
}

pub fn session_started() {
    with(|m| m.sessions_add(1));
}

pub fn session_ended() {
    with(|m| m.sessions_add(-1));
}

pub fn index_rebuild() {
    INDEX_REBUILDS.fetch_add(1, Ordering::Relaxed);
}

//! One shard's counters.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use super::histogram::Histogram;
use super::imap_commands::IMAP_COMMANDS;
use super::{AuthKind, DeliveryResult};

/// The protocol a counter is about (the metrics' own copy, so `net` can
/// count bytes without knowing the shard layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Imap,
    Pop3,
    Lmtp,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Imap, Service::Pop3, Service::Lmtp];

    pub fn label(self) -> &'static str {
        match self {
            Service::Imap => "imap",
            Service::Pop3 => "pop3",
            Service::Lmtp => "lmtp",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl From<crate::shard::env::Protocol> for Service {
    fn from(p: crate::shard::env::Protocol) -> Service {
        match p {
            crate::shard::env::Protocol::Imap => Service::Imap,
            crate::shard::env::Protocol::Pop3 => Service::Pop3,
            crate::shard::env::Protocol::Lmtp => Service::Lmtp,
        }
    }
}

/// How a login ended. Wrong passwords and unknown users are one outcome,
/// as the protocols answer them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginResult {
    Ok,
    /// Wrong password or unknown user.
    AuthFailed,
    /// The passdb/userdb could not answer.
    TempFail,
    /// `mail_max_userip_connections` reached.
    UseripLimit,
}

impl LoginResult {
    pub const FAILURES: [LoginResult; 3] = [
        LoginResult::AuthFailed,
        LoginResult::TempFail,
        LoginResult::UseripLimit,
    ];

    pub fn label(self) -> &'static str {
        match self {
            LoginResult::Ok => "ok",
            LoginResult::AuthFailed => "auth_failed",
            LoginResult::TempFail => "tempfail",
            LoginResult::UseripLimit => "userip_limit",
        }
    }
}

impl DeliveryResult {
    pub const ALL: [DeliveryResult; 3] = [
        DeliveryResult::Delivered,
        DeliveryResult::TemporaryFailure,
        DeliveryResult::Failed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DeliveryResult::Delivered => "delivered",
            DeliveryResult::TemporaryFailure => "tempfail",
            DeliveryResult::Failed => "failed",
        }
    }
}

impl AuthKind {
    pub const ALL: [AuthKind; 2] = [AuthKind::Passdb, AuthKind::Userdb];

    pub fn label(self) -> &'static str {
        match self {
            AuthKind::Passdb => "passdb",
            AuthKind::Userdb => "userdb",
        }
    }
}

fn counters<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

pub struct ShardMetrics {
    /// [service][implicit TLS]
    connections: [[AtomicU64; 2]; 3],
    starttls: [AtomicU64; 3],
    /// [service][LoginResult as index]
    logins: [[AtomicU64; 4]; 3],
    bytes_in: [AtomicU64; 3],
    bytes_out: [AtomicU64; 3],
    imap_commands: Vec<Histogram>,
    auth: [Histogram; 2],
    lmtp_deliveries: [AtomicU64; 3],
    sessions: AtomicI64,
}

impl Default for ShardMetrics {
    fn default() -> ShardMetrics {
        ShardMetrics {
            connections: std::array::from_fn(|_| counters()),
            starttls: counters(),
            logins: std::array::from_fn(|_| counters()),
            bytes_in: counters(),
            bytes_out: counters(),
            imap_commands: IMAP_COMMANDS.iter().map(|_| Histogram::default()).collect(),
            auth: std::array::from_fn(|_| Histogram::default()),
            lmtp_deliveries: counters(),
            sessions: AtomicI64::new(0),
        }
    }
}

impl ShardMetrics {
    pub fn connection(&self, s: Service, tls: bool) {
        add(&self.connections[s.index()][usize::from(tls)], 1);
    }

    pub fn starttls(&self, s: Service) {
        add(&self.starttls[s.index()], 1);
    }

    pub fn login(&self, s: Service, r: LoginResult) {
        add(&self.logins[s.index()][r as usize], 1);
    }

    pub fn bytes_in(&self, s: Service, n: usize) {
        add(&self.bytes_in[s.index()], n as u64);
    }

    pub fn bytes_out(&self, s: Service, n: usize) {
        add(&self.bytes_out[s.index()], n as u64);
    }

    pub fn imap_command(&self, index: usize, took: Duration) {
        if let Some(h) = self.imap_commands.get(index) {
            h.record(took);
        }
    }

    pub fn auth_request(&self, kind: AuthKind, took: Duration) {
        self.auth[kind as usize].record(took);
    }

    pub fn lmtp_delivery(&self, r: DeliveryResult) {
        add(&self.lmtp_deliveries[r as usize], 1);
    }

    pub fn sessions_add(&self, n: i64) {
        self.sessions.fetch_add(n, Ordering::Relaxed);
    }

    // Readers for the scrape.

    pub fn connections(&self, s: Service, tls: bool) -> u64 {
        self.connections[s.index()][usize::from(tls)].load(Ordering::Relaxed)
    }

    pub fn starttls_count(&self, s: Service) -> u64 {
        self.starttls[s.index()].load(Ordering::Relaxed)
    }

    pub fn logins(&self, s: Service, r: LoginResult) -> u64 {
        self.logins[s.index()][r as usize].load(Ordering::Relaxed)
    }

    pub fn bytes(&self, s: Service) -> (u64, u64) {
        (
            self.bytes_in[s.index()].load(Ordering::Relaxed),
            self.bytes_out[s.index()].load(Ordering::Relaxed),
        )
    }

    pub fn imap_command_histogram(&self, index: usize) -> Option<&Histogram> {
        self.imap_commands.get(index)
    }

    pub fn auth_histogram(&self, kind: AuthKind) -> &Histogram {
        &self.auth[kind as usize]
    }

    pub fn lmtp_deliveries(&self, r: DeliveryResult) -> u64 {
        self.lmtp_deliveries[r as usize].load(Ordering::Relaxed)
    }

    /// Sessions open on this shard now (never negative on a scrape that
    /// races a session's end).
    pub fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::Relaxed).max(0) as u64
    }
}

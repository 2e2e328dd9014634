//! The budget of connections that have not logged in yet (IMAP, POP3).
//!
//! Descriptors are the one resource a client gets for free before it proves
//! who it is, so they are rationed: at most `max_per_ip` pre-login
//! connections per client address, and at most `max_connections` in all
//! (`service imap-login { process_limit × client_limit }`, further capped by
//! half the open-files limit so logged-in sessions and the stores' own files
//! keep the other half). The global cap is kept as an equal share per shard
//! (the kernel spreads connections evenly over the shards' SO_REUSEPORT
//! sockets): when a shard's share is used up, a new connection pushes out
//! that shard's oldest pre-login connection, as Dovecot's login processes
//! do, so a flood of idle connections delays a real client by one accept,
//! never locks it out. A connection leaves the budget when it logs in (or
//! closes).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Limits of one login service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Pre-login connections in all, over every shard.
    pub max_connections: usize,
    /// Pre-login connections per client IP (0 = no cap).
    pub max_per_ip: u32,
}

impl LoginLimits {
    /// `process_limit × client_limit` of the login service (0 = Dovecot's
    /// defaults 100 and 1000), capped by half of `open_files`.
    pub fn new(process_limit: u32, client_limit: u32, max_per_ip: u32, open_files: u64) -> Self {
        let processes = if process_limit == 0 {
            100
        } else {
            process_limit
        };
        let clients = if client_limit == 0 {
            1000
        } else {
            client_limit
        };
        let configured = u64::from(processes) * u64::from(clients);
        let half = (open_files / 2).max(16);
        LoginLimits {
            max_connections: usize::try_from(configured.min(half)).unwrap_or(usize::MAX),
            max_per_ip,
        }
    }
}

/// One login service's counters, shared by every shard.
#[derive(Debug)]
pub struct LoginBudget {
    limits: LoginLimits,
    /// Each shard's share of `max_connections`.
    per_shard: usize,
    total: AtomicUsize,
    /// Held only to bump a counter; never across an await.
    per_ip: Mutex<HashMap<IpAddr, u32>>,
}

/// This shard's pre-login connections, oldest first (ids grow), so the
/// oldest can be pushed out. Shard-local: no locking.
#[derive(Debug, Default)]
pub struct ShardLogins {
    next_id: Cell<u64>,
    /// Slots held on this shard, including pushed-out ones still closing.
    held: Cell<usize>,
    /// Connections that may still be pushed out, by age.
    live: RefCell<BTreeMap<u64, RawFd>>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its address already has `max_per_ip` pre-login connections.
    IpFull,
    /// This shard's share is used up and none of it can be pushed out
    /// (defensive: every admitted connection can be, until it logs in).
    Full,
}

/// A connection's place in the budget; dropping it (at login or close)
/// gives the place back.
#[derive(Debug)]
pub struct LoginSlot {
    budget: Arc<LoginBudget>,
    shard: Rc<ShardLogins>,
    id: u64,
    ip: Option<IpAddr>,
}

impl LoginBudget {
    /// The budget of a login service served by `shards` shards.
    pub fn new(limits: LoginLimits, shards: usize) -> Arc<Self> {
        Arc::new(LoginBudget {
            limits,
            per_shard: limits.max_connections.div_ceil(shards.max(1)).max(1),
            total: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
        })
    }

    pub fn limits(&self) -> LoginLimits {
        self.limits
    }

    /// Pre-login connections counted now (all shards).
    pub fn in_use(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Admits the connection on socket `fd` from `ip` (`None`: not capped
    /// per address, e.g. a trusted network). May shut down this shard's
    /// oldest pre-login connection to make room; its session then sees end
    /// of input and closes.
    pub fn admit(
        self: &Arc<Self>,
        shard: &Rc<ShardLogins>,
        ip: Option<IpAddr>,
        fd: RawFd,
    ) -> Result<LoginSlot, Refusal> {
        if let Some(ip) = ip
            && self.limits.max_per_ip > 0
        {
            let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
            let count = per_ip.entry(ip).or_insert(0);
            if *count >= self.limits.max_per_ip {
                return Err(Refusal::IpFull);
            }
            *count += 1;
        }
        let id = shard.next_id.get();
        shard.next_id.set(id + 1);
        let held_before = shard.held.get();
        shard.held.set(held_before + 1);
        // From here on the slot's Drop undoes both counts.
        let slot = LoginSlot {
            budget: self.clone(),
            shard: shard.clone(),
            id,
            ip: ip.filter(|_| self.limits.max_per_ip > 0),
        };
        self.total.fetch_add(1, Ordering::AcqRel);
        if held_before >= self.per_shard {
            let oldest = shard.live.borrow_mut().pop_first();
            let Some((_, victim)) = oldest else {
                return Err(Refusal::Full);
            };
            super::fd::shutdown_socket(victim);
        }
        shard.live.borrow_mut().insert(id, fd);
        Ok(slot)
    }
}

impl Drop for LoginSlot {
    fn drop(&mut self) {
        self.shard.live.borrow_mut().remove(&self.id);
        self.shard.held.set(self.shard.held.get().saturating_sub(1));
        self.budget.total.fetch_sub(1, Ordering::AcqRel);
        if let Some(ip) = self.ip {
            let mut per_ip = self.budget.per_ip.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = per_ip.get_mut(&ip) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([127, 0, 0, last]))
    }

    #[test]
    fn limits_follow_the_login_service_and_the_descriptor_limit() {
        assert_eq!(LoginLimits::new(0, 0, 5, 1 << 30).max_connections, 100_000);
        assert_eq!(LoginLimits::new(2, 10, 5, 1 << 30).max_connections, 20);
        assert_eq!(LoginLimits::new(0, 0, 5, 20_000).max_connections, 10_000);
    }

    #[test]
    fn per_ip_cap_refuses_and_returns_places() {
        let limits = LoginLimits {
            max_connections: 100,
            max_per_ip: 2,
        };
        let budget = LoginBudget::new(limits, 1);
        let shard = Rc::new(ShardLogins::default());
        let a = budget.admit(&shard, ip(2), -1).unwrap();
        let _b = budget.admit(&shard, ip(2), -1).unwrap();
        assert_eq!(
            budget.admit(&shard, ip(2), -1).unwrap_err(),
            Refusal::IpFull
        );
        let _other = budget.admit(&shard, ip(3), -1).unwrap();
        let _uncapped = budget.admit(&shard, None, -1).unwrap();
        assert_eq!(budget.in_use(), 4);
        drop(a);
        assert_eq!(budget.in_use(), 3);
        assert!(budget.admit(&shard, ip(2), -1).is_ok());
    }

    /// When the shard's share is used up the oldest pre-login connection is
    /// shut down (its reader sees end of input) and the new one admitted.
    #[test]
    fn full_budget_pushes_out_the_oldest() {
        let limits = LoginLimits {
            max_connections: 4,
            max_per_ip: 0,
        };
        let budget = LoginBudget::new(limits, 2);
        let shard = Rc::new(ShardLogins::default());
        let pairs: Vec<(UnixStream, UnixStream)> =
            (0..3).map(|_| UnixStream::pair().unwrap()).collect();
        let _first = budget.admit(&shard, None, pairs[0].0.as_raw_fd()).unwrap();
        let _second = budget.admit(&shard, None, pairs[1].0.as_raw_fd()).unwrap();
        let _third = budget.admit(&shard, None, pairs[2].0.as_raw_fd()).unwrap();
        let mut buf = [0u8; 1];
        // The oldest was shut down: its peer reads end of file.
        assert_eq!((&pairs[0].1).read(&mut buf).unwrap(), 0);
        pairs[1].1.set_nonblocking(true).unwrap();
        assert!((&pairs[1].1).read(&mut buf).is_err(), "second still open");
        assert_eq!(
            budget.in_use(),
            3,
            "the pushed-out one counts until it closes"
        );
        // Another shard has its own share.
        let other = Rc::new(ShardLogins::default());
        let _a = budget.admit(&other, None, -1).unwrap();
        let _b = budget.admit(&other, None, -1).unwrap();
        assert_eq!(budget.in_use(), 5);
    }
}

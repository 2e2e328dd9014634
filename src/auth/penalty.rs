//! Per-remote-IP authentication penalty, like Dovecot's anvil penalty:
//! each failure from an address doubles the delay before its next attempt
//! is processed (2 s, 4 s, 8 s, capped at 15 s); a success clears it.
//! Sans-io: the caller passes the time and applies the delay with a timer.
//!
//! IPv6 clients are grouped by /48, since one host can rotate through a
//! whole /64 for free. Retrying the *same* wrong credentials does not
//! raise the penalty (mail clients do that on their own), which the
//! caller signals with a fingerprint of the credentials.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// Leading bits of an IPv6 address that identify one penalised client.
const IPV6_PREFIX_BITS: u32 = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PenaltySettings {
    /// Delay after the first failure.
    pub initial: Duration,
    /// Cap of the doubling.
    pub max: Duration,
    /// A record untouched for this long is forgotten.
    pub expire_after: Duration,
    /// Most addresses tracked; the least recently updated is dropped first.
    pub max_entries: usize,
}

impl Default for PenaltySettings {
    /// Dovecot 2.3's values.
    fn default() -> Self {
        PenaltySettings {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(15),
            expire_after: Duration::from_secs(3600),
            max_entries: 100_000,
        }
    }
}

#[derive(Debug)]
struct Record {
    failures: u32,
    last_update: Instant,
    last_fingerprint: Option<u64>,
    stamp: u64,
}

#[derive(Debug)]
pub struct PenaltyTracker {
    settings: PenaltySettings,
    records: HashMap<IpAddr, Record>,
    lru: BTreeMap<u64, IpAddr>,
    next_stamp: u64,
}

/// The address a penalty is kept under: IPv4 as is (also when mapped into
/// IPv6), IPv6 cut to its /48.
pub fn penalty_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mask = u128::MAX << (128 - IPV6_PREFIX_BITS);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        },
    }
}

impl PenaltyTracker {
    pub fn new(settings: PenaltySettings) -> Self {
        PenaltyTracker {
            settings,
            records: HashMap::new(),
            lru: BTreeMap::new(),
            next_stamp: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// How long to wait before processing an attempt from `ip`.
    pub fn delay(&self, ip: IpAddr, now: Instant) -> Duration {
        match self.records.get(&penalty_key(ip)) {
            Some(r) if !self.expired(r, now) => self.delay_for(r.failures),
            _ => Duration::ZERO,
        }
    }

    /// Counts a failed login. `fingerprint` identifies the credentials
    /// (e.g. a keyed hash); the same ones twice in a row count once.
    pub fn record_failure(&mut self, ip: IpAddr, fingerprint: Option<u64>, now: Instant) {
        let key = penalty_key(ip);
        let stamp = self.bump();
        let settings = self.settings;
        if let Some(record) = self.records.get_mut(&key) {
            let expired =
                now.saturating_duration_since(record.last_update) >= settings.expire_after;
            if expired {
                record.failures = 0;
                record.last_fingerprint = None;
            }
            let repeat = fingerprint.is_some() && fingerprint == record.last_fingerprint;
            if !repeat || record.failures == 0 {
                record.failures = record.failures.saturating_add(1);
            }
            record.last_fingerprint = fingerprint;
            record.last_update = now;
            self.lru.remove(&record.stamp);
            record.stamp = stamp;
            self.lru.insert(stamp, key);
            return;
        }
        if settings.max_entries == 0 {
            return;
        }
        while self.records.len() >= settings.max_entries {
            let Some((_, oldest)) = self.lru.pop_first() else {
                break;
            };
            self.records.remove(&oldest);
        }
        self.lru.insert(stamp, key);
        self.records.insert(
            key,
            Record {
                failures: 1,
                last_update: now,
                last_fingerprint: fingerprint,
                stamp,
            },
        );
    }

    /// A successful login clears the address's penalty.
    pub fn record_success(&mut self, ip: IpAddr) {
        if let Some(record) = self.records.remove(&penalty_key(ip)) {
            self.lru.remove(&record.stamp);
        }
    }

    /// Drops expired records; call now and then (e.g. once a minute).
    pub fn prune(&mut self, now: Instant) {
        let expire_after = self.settings.expire_after;
        let stale: Vec<IpAddr> = self
            .records
            .iter()
            .filter(|(_, r)| now.saturating_duration_since(r.last_update) >= expire_after)
            .map(|(ip, _)| *ip)
            .collect();
        for ip in stale {
            if let Some(r) = self.records.remove(&ip) {
                self.lru.remove(&r.stamp);
            }
        }
    }

    fn expired(&self, record: &Record, now: Instant) -> bool {
        now.saturating_duration_since(record.last_update) >= self.settings.expire_after
    }

    fn delay_for(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        // initial · 2^(failures-1), without overflow, capped.
        let doublings = (failures - 1).min(31);
        self.settings
            .initial
            .checked_mul(1u32 << doublings)
            .map_or(self.settings.max, |d| d.min(self.settings.max))
    }

    fn bump(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn delay_doubles_and_caps_then_success_clears() {
        let t0 = Instant::now();
        let mut p = PenaltyTracker::new(PenaltySettings::default());
        let client = ip("192.0.2.1");
        assert_eq!(p.delay(client, t0), Duration::ZERO);
        let expected = [2, 4, 8, 15, 15];
        for (i, secs) in expected.into_iter().enumerate() {
            p.record_failure(client, Some(i as u64), t0);
            assert_eq!(p.delay(client, t0), Duration::from_secs(secs));
        }
        assert_eq!(p.delay(ip("192.0.2.2"), t0), Duration::ZERO);
        p.record_success(client);
        assert_eq!(p.delay(client, t0), Duration::ZERO);
        assert!(p.is_empty());
    }

    #[test]
    fn same_credentials_again_do_not_raise_the_penalty() {
        let t0 = Instant::now();
        let mut p = PenaltyTracker::new(PenaltySettings::default());
        let client = ip("198.51.100.9");
        for _ in 0..5 {
            p.record_failure(client, Some(42), t0);
        }
        assert_eq!(p.delay(client, t0), Duration::from_secs(2));
        p.record_failure(client, None, t0);
        p.record_failure(client, None, t0);
        assert_eq!(p.delay(client, t0), Duration::from_secs(8));
    }

    #[test]
    fn ipv6_grouped_by_48_and_mapped_ipv4_unwrapped() {
        assert_eq!(penalty_key(ip("2001:db8:1:2:3::4")), ip("2001:db8:1::"));
        assert_eq!(penalty_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        let t0 = Instant::now();
        let mut p = PenaltyTracker::new(PenaltySettings::default());
        p.record_failure(ip("2001:db8:1:aaaa::1"), None, t0);
        assert_eq!(
            p.delay(ip("2001:db8:1:bbbb::2"), t0),
            Duration::from_secs(2)
        );
        assert_eq!(p.delay(ip("2001:db8:2::1"), t0), Duration::ZERO);
    }

    #[test]
    fn records_expire_and_the_table_is_bounded() {
        let t0 = Instant::now();
        let settings = PenaltySettings {
            max_entries: 3,
            ..PenaltySettings::default()
        };
        let mut p = PenaltyTracker::new(settings);
        let a = ip("10.0.0.1");
        p.record_failure(a, None, t0);
        p.record_failure(a, None, t0);
        let later = t0 + settings.expire_after;
        assert_eq!(p.delay(a, later), Duration::ZERO);
        p.record_failure(a, None, later);
        assert_eq!(p.delay(a, later), Duration::from_secs(2), "count restarted");
        for i in 2..=5 {
            p.record_failure(ip(&format!("10.0.0.{i}")), None, later);
        }
        assert_eq!(p.len(), 3);
        assert_eq!(p.delay(a, later), Duration::ZERO, "oldest evicted");
        p.prune(later + settings.expire_after);
        assert!(p.is_empty());
    }

    #[test]
    fn very_many_failures_do_not_overflow() {
        let mut p = PenaltyTracker::new(PenaltySettings {
            max: Duration::MAX,
            ..PenaltySettings::default()
        });
        let t0 = Instant::now();
        for i in 0..100 {
            p.record_failure(ip("192.0.2.7"), Some(i), t0);
        }
        // The exponent stops at 2^31 instead of overflowing.
        assert_eq!(
            p.delay(ip("192.0.2.7"), t0),
            Duration::from_secs(2) * (1u32 << 31)
        );
    }
}

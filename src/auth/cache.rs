//! Passdb result cache (`auth_cache_size`, `auth_cache_ttl`,
//! `auth_cache_negative_ttl`), sans-io: the caller passes the time.
//!
//! Entries are keyed by an HMAC of (user, password) under a per-process
//! key, so a login storm repeating the same credentials costs one PAM call
//! per TTL, and the cache never holds a password or a fast unkeyed hash of
//! one. A changed password takes effect when the old entry expires or the
//! user is flushed, as with Dovecot's cache.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What the passdb said last time for these credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached<V> {
    /// Right password; `V` is whatever the caller needs again (canonical
    /// name, userdb record).
    Success(V),
    WrongPassword,
    UnknownUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// Entry limit; the least recently used entry goes first. 0 disables.
    pub max_entries: usize,
    /// Lifetime of a `Success`.
    pub ttl: Duration,
    /// Lifetime of a `WrongPassword` / `UnknownUser`.
    pub negative_ttl: Duration,
}

impl Default for CacheSettings {
    /// Dovecot 2.3 TTLs (1 h each) with caching off, as `auth_cache_size = 0`.
    fn default() -> Self {
        CacheSettings {
            max_entries: 0,
            ttl: Duration::from_secs(3600),
            negative_ttl: Duration::from_secs(3600),
        }
    }
}

type Key = [u8; 32];

#[derive(Debug)]
struct Entry<V> {
    user: String,
    value: Cached<V>,
    /// `None` when `now + ttl` does not fit in an `Instant` (never expires).
    expires: Option<Instant>,
    /// Position in the LRU order.
    stamp: u64,
}

#[derive(Debug)]
pub struct PassdbCache<V> {
    settings: CacheSettings,
    hmac_key: Key,
    entries: HashMap<Key, Entry<V>>,
    lru: BTreeMap<u64, Key>,
    next_stamp: u64,
}

impl<V: Clone> PassdbCache<V> {
    /// `hmac_key` should be random per process (the caller owns the RNG so
    /// this stays deterministic under test).
    pub fn new(settings: CacheSettings, hmac_key: [u8; 32]) -> Self {
        PassdbCache {
            settings,
            hmac_key,
            entries: HashMap::new(),
            lru: BTreeMap::new(),
            next_stamp: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The cached verdict for these credentials, if fresh.
    pub fn get(&mut self, user: &str, password: &[u8], now: Instant) -> Option<Cached<V>> {
        let key = self.key_of(user, password);
        let entry = self.entries.get(&key)?;
        if entry.expires.is_some_and(|expires| now >= expires) {
            self.remove(&key);
            return None;
        }
        let value = entry.value.clone();
        self.touch(key);
        Some(value)
    }

    /// Remembers a passdb verdict. Temporary failures must not be cached.
    pub fn insert(&mut self, user: &str, password: &[u8], value: Cached<V>, now: Instant) {
        if self.settings.max_entries == 0 {
            return;
        }
        let ttl = match value {
            Cached::Success(_) => self.settings.ttl,
            Cached::WrongPassword | Cached::UnknownUser => self.settings.negative_ttl,
        };
        let key = self.key_of(user, password);
        self.remove(&key);
        while self.entries.len() >= self.settings.max_entries {
            let Some((_, oldest)) = self.lru.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        let stamp = self.bump();
        self.lru.insert(stamp, key);
        self.entries.insert(
            key,
            Entry {
                user: user.to_string(),
                value,
                expires: now.checked_add(ttl),
                stamp,
            },
        );
    }

    /// Drops every entry of one user (password changed, account locked).
    /// Returns how many went. Linear: meant for admin commands.
    pub fn flush_user(&mut self, user: &str) -> usize {
        let keys: Vec<Key> = self
            .entries
            .iter()
            .filter(|(_, e)| e.user == user)
            .map(|(k, _)| *k)
            .collect();
        for key in &keys {
            self.remove(key);
        }
        keys.len()
    }

    pub fn flush_all(&mut self) {
        self.entries.clear();
        self.lru.clear();
    }

    fn key_of(&self, user: &str, password: &[u8]) -> Key {
        // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
        Hmac::<Sha256>::new_from_slice(&self.hmac_key)
            .map(|mac| {
                mac.chain_update((user.len() as u64).to_be_bytes())
                    .chain_update(user.as_bytes())
                    .chain_update(password)
                    .finalize()
                    .into_bytes()
                    .into()
            })
            // HMAC accepts any key length; this arm cannot run.
            .unwrap_or_default()
    }

    fn bump(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp
    }

    fn touch(&mut self, key: Key) {
        let stamp = self.bump();
        if let Some(entry) = self.entries.get_mut(&key) {
            self.lru.remove(&entry.stamp);
            entry.stamp = stamp;
            self.lru.insert(stamp, key);
        }
    }

    fn remove(&mut self, key: &Key) {
        if let Some(entry) = self.entries.remove(key) {
            self.lru.remove(&entry.stamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max_entries: usize) -> PassdbCache<&'static str> {
        PassdbCache::new(
            CacheSettings {
                max_entries,
                ttl: Duration::from_secs(60),
                negative_ttl: Duration::from_secs(10),
            },
            [7; 32],
        )
    }

    #[test]
    fn hit_until_ttl_then_miss() {
        let t0 = Instant::now();
        let mut c = cache(10);
        c.insert("jane", b"pw", Cached::Success("jane@x"), t0);
        c.insert("jane", b"bad", Cached::WrongPassword, t0);
        assert_eq!(c.get("jane", b"pw", t0), Some(Cached::Success("jane@x")));
        assert_eq!(c.get("jane", b"bad", t0), Some(Cached::WrongPassword));
        assert_eq!(c.get("jane", b"other", t0), None);
        let later = t0 + Duration::from_secs(11);
        assert_eq!(
            c.get("jane", b"bad", later),
            None,
            "negative TTL is shorter"
        );
        assert_eq!(c.get("jane", b"pw", later), Some(Cached::Success("jane@x")));
        assert_eq!(c.get("jane", b"pw", t0 + Duration::from_secs(60)), None);
        assert!(c.is_empty());
    }

    #[test]
    fn user_and_password_boundaries_do_not_collide() {
        let t0 = Instant::now();
        let mut c = cache(10);
        c.insert("ab", b"c", Cached::Success("ab"), t0);
        assert_eq!(c.get("a", b"bc", t0), None);
        assert_eq!(c.get("ab", b"c", t0), Some(Cached::Success("ab")));
    }

    #[test]
    fn least_recently_used_goes_first() {
        let t0 = Instant::now();
        let mut c = cache(2);
        c.insert("a", b"1", Cached::UnknownUser, t0);
        c.insert("b", b"2", Cached::UnknownUser, t0);
        assert!(c.get("a", b"1", t0).is_some());
        c.insert("c", b"3", Cached::UnknownUser, t0);
        assert_eq!(c.len(), 2);
        assert!(c.get("b", b"2", t0).is_none(), "b was least recently used");
        assert!(c.get("a", b"1", t0).is_some());
        assert!(c.get("c", b"3", t0).is_some());
    }

    #[test]
    fn flush_and_disabled_cache() {
        let t0 = Instant::now();
        let mut c = cache(10);
        c.insert("a", b"1", Cached::Success("a"), t0);
        c.insert("a", b"2", Cached::WrongPassword, t0);
        c.insert("b", b"1", Cached::Success("b"), t0);
        assert_eq!(c.flush_user("a"), 2);
        assert_eq!(c.len(), 1);
        c.flush_all();
        assert!(c.is_empty());
        let mut off = cache(0);
        off.insert("a", b"1", Cached::Success("a"), t0);
        assert_eq!(off.get("a", b"1", t0), None);
    }

    #[test]
    fn huge_ttl_does_not_overflow() {
        let t0 = Instant::now();
        let mut c = PassdbCache::new(
            CacheSettings {
                max_entries: 1,
                ttl: Duration::MAX,
                negative_ttl: Duration::MAX,
            },
            [0; 32],
        );
        c.insert("a", b"1", Cached::Success(()), t0);
        assert_eq!(
            c.get("a", b"1", t0 + Duration::from_secs(1 << 40)),
            Some(Cached::Success(()))
        );
    }

    #[test]
    fn reinsert_replaces_without_growing() {
        let t0 = Instant::now();
        let mut c = cache(10);
        for _ in 0..5 {
            c.insert("a", b"1", Cached::WrongPassword, t0);
        }
        c.insert("a", b"1", Cached::Success("a"), t0);
        assert_eq!(c.len(), 1);
        assert_eq!(c.lru.len(), 1);
        assert_eq!(c.get("a", b"1", t0), Some(Cached::Success("a")));
    }
}

//! 128-bit GUIDs for messages and mailboxes, without a random-number crate.
//!
//! std's `RandomState` is seeded from the OS once per thread; hashing a
//! process-wide counter plus the clock through two fresh states gives 128
//! unpredictable-enough, unique bits (uniqueness is what GUIDs need).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub type Guid = [u8; 16];

pub fn new_guid() -> Guid {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut out = [0u8; 16];
    for (i, half) in out.chunks_mut(8).enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        h.write_usize(i);
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

/// 32 lowercase hex digits, as Dovecot writes GUIDs.
pub fn to_hex(g: &Guid) -> String {
    g.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(s: &str) -> Option<Guid> {
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_and_hex_round_trip() {
        let a = new_guid();
        let b = new_guid();
        assert_ne!(a, b);
        let h = to_hex(&a);
        assert_eq!(h.len(), 32);
        assert!(
            h.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(from_hex(&h), Some(a));
        assert_eq!(from_hex("xyz"), None);
        assert_eq!(from_hex(&"g".repeat(32)), None);
    }
}

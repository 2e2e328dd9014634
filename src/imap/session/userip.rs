//! `mail_max_userip_connections`: sessions per (user, remote IP). A user
//! lives on one shard, so a shard-local count is exact.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;

type Key = (String, Option<IpAddr>);

thread_local! {
    static SESSIONS: RefCell<HashMap<Key, u32>> = RefCell::new(HashMap::new());
}

/// Holds one slot; released on drop.
#[derive(Debug)]
pub struct Slot {
    key: Key,
}

/// Takes a slot unless `max` (non-zero) are already held.
pub fn acquire(user: &str, ip: Option<IpAddr>, max: u32) -> Option<Slot> {
    let key = (user.to_string(), ip);
    SESSIONS.with(|m| {
        let mut m = m.borrow_mut();
        let n = m.entry(key.clone()).or_insert(0);
        if max != 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot { key })
    })
}

impl Drop for Slot {
    fn drop(&mut self) {
        SESSIONS.with(|m| {
            let mut m = m.borrow_mut();
            if let Some(n) = m.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    m.remove(&self.key);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_released() {
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        let a = acquire("u-slot-test", ip, 2);
        let b = acquire("u-slot-test", ip, 2);
        assert!(a.is_some() && b.is_some());
        assert!(acquire("u-slot-test", ip, 2).is_none());
        assert!(
            acquire("u-slot-test", None, 2).is_some(),
            "other IP counts apart"
        );
        drop(a);
        assert!(acquire("u-slot-test", ip, 2).is_some());
        assert!(acquire("u-slot-test", ip, 0).is_some(), "0 = unlimited");
    }
}

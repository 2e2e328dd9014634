//! The per-shard registry of open mailboxes: sessions on one mailbox share
//! one in-memory view. Bounded by a memory budget, least recently used
//! first; a mailbox still held by a session is never evicted. `!Send` by
//! construction: one registry per shard, no locks.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What the registry needs from a cached mailbox.
pub trait Cached {
    fn memory_estimate(&self) -> usize;
    /// The mailbox was deleted or renamed: holders must stop using it.
    fn mark_gone(&self);
}

struct Slot<T> {
    value: Rc<T>,
    last_use: u64,
}

pub struct MailboxRegistry<T: Cached> {
    budget_bytes: usize,
    slots: RefCell<HashMap<PathBuf, Slot<T>>>,
    tick: Cell<u64>,
    /// Per-mailbox open gates: two sessions opening one mailbox share one
    /// load, while opens of other mailboxes proceed in parallel.
    gates: RefCell<HashMap<PathBuf, Rc<glommio::sync::Semaphore>>>,
}

impl<T: Cached> MailboxRegistry<T> {
    /// `budget_bytes` is `mail_cache_max_memory` for this shard.
    pub fn new(budget_bytes: usize) -> Rc<Self> {
        Rc::new(MailboxRegistry {
            budget_bytes,
            slots: RefCell::new(HashMap::new()),
            tick: Cell::new(0),
            gates: RefCell::new(HashMap::new()),
        })
    }

    fn next_tick(&self) -> u64 {
        self.tick.set(self.tick.get() + 1);
        self.tick.get()
    }

    pub fn get(&self, key: &Path) -> Option<Rc<T>> {
        let tick = self.next_tick();
        let mut slots = self.slots.borrow_mut();
        let slot = slots.get_mut(key)?;
        slot.last_use = tick;
        Some(slot.value.clone())
    }

    pub fn insert(&self, key: PathBuf, value: Rc<T>) {
        let tick = self.next_tick();
        self.slots.borrow_mut().insert(
            key,
            Slot {
                value,
                last_use: tick,
            },
        );
        self.enforce_budget();
    }

    /// The gate to hold while loading `key` (see [`Self::release_gate`]).
    pub fn gate(&self, key: &Path) -> Rc<glommio::sync::Semaphore> {
        self.gates
            .borrow_mut()
            .entry(key.to_path_buf())
            .or_insert_with(|| Rc::new(glommio::sync::Semaphore::new(1)))
            .clone()
    }

    /// Forget the gate once nobody else is waiting on it.
    pub fn release_gate(&self, key: &Path, gate: Rc<glommio::sync::Semaphore>) {
        // Two references: the map's and the caller's.
        if Rc::strong_count(&gate) <= 2 {
            self.gates.borrow_mut().remove(key);
        }
    }

    /// Every cached mailbox at or below `prefix`.
    pub fn cached_under(&self, prefix: &Path) -> Vec<Rc<T>> {
        self.slots
            .borrow()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, s)| s.value.clone())
            .collect()
    }

    /// Drop (and mark gone) every cached mailbox at or below `prefix`.
    pub fn evict_under(&self, prefix: &Path) {
        let mut slots = self.slots.borrow_mut();
        let keys: Vec<PathBuf> = slots
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for k in keys {
            if let Some(slot) = slots.remove(&k) {
                slot.value.mark_gone();
            }
        }
    }

    /// Re-file every cached mailbox at or below `from` under `to` (a
    /// rename); returns each with its new key so the caller can tell it
    /// where it now lives. Nothing is marked gone.
    pub fn move_under(&self, from: &Path, to: &Path) -> Vec<(PathBuf, Rc<T>)> {
        let mut slots = self.slots.borrow_mut();
        let keys: Vec<PathBuf> = slots
            .keys()
            .filter(|k| k.starts_with(from))
            .cloned()
            .collect();
        let mut moved = Vec::with_capacity(keys.len());
        for k in keys {
            let (Some(slot), Ok(rest)) = (slots.remove(&k), k.strip_prefix(from)) else {
                continue;
            };
            let key = if rest.as_os_str().is_empty() {
                to.to_path_buf()
            } else {
                to.join(rest)
            };
            moved.push((key.clone(), slot.value.clone()));
            slots.insert(key, slot);
        }
        moved
    }

    pub fn len(&self) -> usize {
        self.slots.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn memory_used(&self) -> usize {
        self.slots
            .borrow()
            .values()
            .map(|s| s.value.memory_estimate())
            .sum()
    }

    fn enforce_budget(&self) {
        let mut used = self.memory_used();
        let mut slots = self.slots.borrow_mut();
        while used > self.budget_bytes {
            let victim = slots
                .iter()
                .filter(|(_, s)| Rc::strong_count(&s.value) == 1)
                .min_by_key(|(_, s)| s.last_use)
                .map(|(k, _)| k.clone());
            let Some(key) = victim else { break };
            if let Some(slot) = slots.remove(&key) {
                used = used.saturating_sub(slot.value.memory_estimate());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(usize, Cell<bool>);
    impl Cached for Fake {
        fn memory_estimate(&self) -> usize {
            self.0
        }
        fn mark_gone(&self) {
            self.1.set(true);
        }
    }

    #[test]
    fn lru_respects_budget_and_holders() {
        let ex = glommio::LocalExecutorBuilder::default().make().unwrap();
        ex.run(async {
            let reg = MailboxRegistry::<Fake>::new(250);
            let held = Rc::new(Fake(100, Cell::new(false)));
            reg.insert("/a".into(), held.clone());
            reg.insert("/b".into(), Rc::new(Fake(100, Cell::new(false))));
            assert!(reg.get(Path::new("/b")).is_some());
            reg.insert("/c".into(), Rc::new(Fake(100, Cell::new(false))));
            // /a is oldest but held by a session, so /b goes.
            assert!(reg.get(Path::new("/a")).is_some());
            assert!(reg.get(Path::new("/b")).is_none());
            assert_eq!(reg.len(), 2);
            reg.evict_under(Path::new("/a"));
            assert!(held.1.get());
            assert_eq!(reg.len(), 1);
        });
    }

    #[test]
    fn rename_refiles_a_subtree_without_marking_it_gone() {
        let ex = glommio::LocalExecutorBuilder::default().make().unwrap();
        ex.run(async {
            let reg = MailboxRegistry::<Fake>::new(1 << 20);
            let parent = Rc::new(Fake(1, Cell::new(false)));
            reg.insert("/m/p".into(), parent.clone());
            reg.insert("/m/p/c".into(), Rc::new(Fake(1, Cell::new(false))));
            reg.insert("/m/pq".into(), Rc::new(Fake(1, Cell::new(false))));
            let mut moved: Vec<PathBuf> = reg
                .move_under(Path::new("/m/p"), Path::new("/m/n"))
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            moved.sort();
            assert_eq!(moved, vec![PathBuf::from("/m/n"), PathBuf::from("/m/n/c")]);
            assert!(reg.get(Path::new("/m/p")).is_none());
            assert!(reg.get(Path::new("/m/n/c")).is_some());
            // A sibling sharing the name prefix stays where it is.
            assert!(reg.get(Path::new("/m/pq")).is_some());
            assert!(!parent.1.get());
        });
    }
}

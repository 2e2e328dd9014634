//! A value the main thread replaces now and then (certificates, passwd
//! files on SIGHUP) and every shard reads constantly. Readers check one
//! atomic generation number per use and take the lock only in the rare case
//! that the value changed since they last looked, so the lock stays off the
//! hot path.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct Published<T> {
    generation: AtomicU64,
    value: Mutex<Arc<T>>,
}

impl<T> Published<T> {
    pub fn new(v: T) -> Arc<Published<T>> {
        Arc::new(Published {
            generation: AtomicU64::new(1),
            value: Mutex::new(Arc::new(v)),
        })
    }

    pub fn publish(&self, v: T) {
        let mut g = self.value.lock().unwrap_or_else(|p| p.into_inner());
        *g = Arc::new(v);
        // Bump after the store, under the lock: a reader that sees the new
        // generation is guaranteed to find the new value.
        self.generation.fetch_add(1, Ordering::Release);
    }

    fn load(&self) -> (u64, Arc<T>) {
        let g = self.value.lock().unwrap_or_else(|p| p.into_inner());
        (self.generation.load(Ordering::Acquire), g.clone())
    }
}

/// A shard's view of a `Published` value.
pub struct Cached<T> {
    source: Arc<Published<T>>,
    seen: RefCell<(u64, Arc<T>)>,
}

impl<T> Cached<T> {
    pub fn new(source: Arc<Published<T>>) -> Cached<T> {
        let seen = source.load();
        Cached {
            source,
            seen: RefCell::new(seen),
        }
    }

    pub fn get(&self) -> Arc<T> {
        let current = self.source.generation.load(Ordering::Acquire);
        if current != self.seen.borrow().0 {
            *self.seen.borrow_mut() = self.source.load();
        }
        self.seen.borrow().1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_new_values() {
        let p = Published::new(1);
        let c = Cached::new(p.clone());
        assert_eq!(*c.get(), 1);
        p.publish(2);
        assert_eq!(*c.get(), 2);
        let t = std::thread::spawn({
            let p = p.clone();
            move || p.publish(3)
        });
        t.join().unwrap();
        assert_eq!(*c.get(), 3);
    }
}

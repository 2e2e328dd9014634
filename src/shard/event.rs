//! A shard-local, one-shot broadcast event (e.g. "shutting down"): any
//! number of tasks await it, one `set` wakes them all. `!Send` by design.
//!
//! It is storage's change notifier used once: "set" is the first (and only)
//! change, so the waker bookkeeping lives in one place.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::storage::notify::ChangeNotifier;

#[derive(Default)]
pub struct LocalEvent {
    notifier: ChangeNotifier,
}

impl LocalEvent {
    pub fn new() -> Rc<LocalEvent> {
        Rc::new(LocalEvent::default())
    }

    pub fn is_set(&self) -> bool {
        self.notifier.counter() != 0
    }

    pub fn set(&self) {
        if !self.is_set() {
            self.notifier.bump();
        }
    }

    pub fn wait(self: &Rc<Self>) -> Wait {
        Wait { ev: self.clone() }
    }
}

/// Owns its event (unlike a `ChangeWait`, which borrows), so it can be held
/// across awaits and moved into spawned tasks.
pub struct Wait {
    ev: Rc<LocalEvent>,
}

impl Future for Wait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut unset = self.ev.notifier.changed_since(0);
        Pin::new(&mut unset).poll(cx).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_all_waiters() {
        let ex = glommio::LocalExecutorBuilder::default().make().unwrap();
        ex.run(async {
            let ev = LocalEvent::new();
            let a = glommio::spawn_local({
                let ev = ev.clone();
                async move { ev.wait().await }
            });
            let b = glommio::spawn_local({
                let ev = ev.clone();
                async move { ev.wait().await }
            });
            glommio::yield_if_needed().await;
            assert!(!ev.is_set());
            ev.set();
            a.await;
            b.await;
            assert!(ev.is_set());
            ev.wait().await; // already set: immediate
        });
    }
}

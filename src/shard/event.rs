//! A shard-local, one-shot broadcast event (e.g. "shutting down"): any
//! number of tasks await it, one `set` wakes them all. `!Send` by design.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
pub struct LocalEvent {
    set: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

impl LocalEvent {
    pub fn new() -> Rc<LocalEvent> {
        Rc::new(LocalEvent::default())
    }

    pub fn is_set(&self) -> bool {
        self.set.get()
    }

    pub fn set(&self) {
        if self.set.replace(true) {
            return;
        }
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }

    pub fn wait(self: &Rc<Self>) -> Wait {
        Wait { ev: self.clone() }
    }
}

pub struct Wait {
    ev: Rc<LocalEvent>,
}

impl Future for Wait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.ev.set.get() {
            return Poll::Ready(());
        }
        let mut w = self.ev.waiters.borrow_mut();
        if !w.iter().any(|x| x.will_wake(cx.waker())) {
            w.push(cx.waker().clone());
        }
        Poll::Pending
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

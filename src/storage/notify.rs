//! Shard-local change notices: a monotonically increasing counter per mailbox
//! plus wakers, so sessions in IDLE learn of EXISTS/EXPUNGE/FLAGS changes made
//! by other sessions on the same shard. `!Send` and lock-free by construction.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
pub struct ChangeNotifier {
    counter: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
}

impl ChangeNotifier {
    pub fn counter(&self) -> u64 {
        self.counter.get()
    }

    /// Record one change and wake every waiter.
    pub fn bump(&self) {
        self.counter.set(self.counter.get() + 1);
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for w in waiters {
            w.wake();
        }
    }

    /// Resolves with the new counter once it differs from `seen`.
    pub fn changed_since(&self, seen: u64) -> ChangeWait<'_> {
        ChangeWait {
            notifier: self,
            seen,
        }
    }
}

pub struct ChangeWait<'a> {
    notifier: &'a ChangeNotifier,
    seen: u64,
}

impl Future for ChangeWait<'_> {
    type Output = u64;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let now = self.notifier.counter.get();
        if now != self.seen {
            return Poll::Ready(now);
        }
        let mut w = self.notifier.waiters.borrow_mut();
        if !w.iter().any(|x| x.will_wake(cx.waker())) {
            w.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn wakes_waiter() {
        let ex = glommio::LocalExecutorBuilder::default().make().unwrap();
        let got = ex.run(async {
            let n = Rc::new(ChangeNotifier::default());
            let n2 = n.clone();
            let waiter = glommio::spawn_local(async move { n2.changed_since(0).await });
            glommio::yield_if_needed().await;
            glommio::executor().yield_now().await;
            n.bump();
            waiter.await
        });
        assert_eq!(got, 1);
    }
}

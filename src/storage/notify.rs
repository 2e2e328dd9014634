//! Shard-local change notices: a monotonically increasing counter per mailbox
//! plus wakers, so sessions in IDLE learn of EXISTS/EXPUNGE/FLAGS changes made
//! by other sessions on the same shard; and per mail store, a bounded log of
//! what happened to any of its mailboxes (IMAP NOTIFY watches mailboxes other
//! than the selected one). `!Send` and lock-free by construction.

use super::name::MailboxName;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::{Rc, Weak};
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

/// Something that happened to one of a store's mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreEvent {
    /// Messages came, went or changed flags.
    Changed(MailboxName),
    Created(MailboxName),
    Deleted(MailboxName),
    Renamed {
        from: MailboxName,
        to: MailboxName,
    },
    Subscribed(MailboxName),
    Unsubscribed(MailboxName),
}

/// More events happened than the log keeps since a reader last looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("store notices overflowed")]
pub struct Overflow;

/// Events kept for readers that are behind; older ones are dropped and a
/// reader that needed them gets [`Overflow`].
const STORE_LOG_LEN: usize = 4096;

/// One mail store's notices: every session and delivery on this shard
/// that opens the store shares it (see [`NoticeRegistry`]).
#[derive(Default)]
pub struct StoreNotices {
    notifier: ChangeNotifier,
    /// (number, event), numbers consecutive, the newest last.
    log: RefCell<VecDeque<(u64, StoreEvent)>>,
}

impl StoreNotices {
    /// The number of the latest event (0 before the first).
    pub fn counter(&self) -> u64 {
        self.notifier.counter()
    }

    pub fn post(&self, event: StoreEvent) {
        {
            let mut log = self.log.borrow_mut();
            if log.len() == STORE_LOG_LEN {
                log.pop_front();
            }
            log.push_back((self.notifier.counter() + 1, event));
        }
        self.notifier.bump();
    }

    /// The events after number `seen`, oldest first.
    pub fn since(&self, seen: u64) -> Result<Vec<StoreEvent>, Overflow> {
        let log = self.log.borrow();
        let now = self.notifier.counter();
        if seen >= now {
            return Ok(Vec::new());
        }
        match log.front() {
            Some((first, _)) if *first <= seen + 1 => Ok(log
                .iter()
                .filter(|(n, _)| *n > seen)
                .map(|(_, e)| e.clone())
                .collect()),
            _ => Err(Overflow),
        }
    }

    /// Resolves once an event after number `seen` was posted.
    pub fn changed_since(&self, seen: u64) -> ChangeWait<'_> {
        self.notifier.changed_since(seen)
    }
}

/// The shard's [`StoreNotices`], one per store root, alive while a store
/// or mailbox holds it.
#[derive(Default)]
pub struct NoticeRegistry {
    stores: RefCell<HashMap<PathBuf, Weak<StoreNotices>>>,
}

impl NoticeRegistry {
    pub fn for_root(&self, root: PathBuf) -> Rc<StoreNotices> {
        let mut stores = self.stores.borrow_mut();
        if let Some(live) = stores.get(&root).and_then(Weak::upgrade) {
            return live;
        }
        stores.retain(|_, w| w.strong_count() > 0);
        let fresh = Rc::new(StoreNotices::default());
        stores.insert(root, Rc::downgrade(&fresh));
        fresh
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

    fn name(n: &str) -> MailboxName {
        MailboxName::new(n).unwrap()
    }

    #[test]
    fn store_log_reads_from_a_point_and_overflows() {
        let notices = StoreNotices::default();
        assert_eq!(notices.since(0), Ok(vec![]));
        notices.post(StoreEvent::Changed(name("a")));
        notices.post(StoreEvent::Created(name("b")));
        assert_eq!(notices.counter(), 2);
        assert_eq!(notices.since(1), Ok(vec![StoreEvent::Created(name("b"))]));
        assert_eq!(notices.since(2), Ok(vec![]));
        for _ in 0..STORE_LOG_LEN {
            notices.post(StoreEvent::Changed(name("a")));
        }
        assert_eq!(notices.since(1), Err(Overflow));
        assert_eq!(notices.since(3).map(|e| e.len()), Ok(STORE_LOG_LEN - 1));
    }

    #[test]
    fn registry_shares_while_alive() {
        let registry = NoticeRegistry::default();
        let a = registry.for_root(PathBuf::from("/m/a"));
        let again = registry.for_root(PathBuf::from("/m/a"));
        assert!(Rc::ptr_eq(&a, &again));
        let b = registry.for_root(PathBuf::from("/m/b"));
        assert!(!Rc::ptr_eq(&a, &b));
        drop((a, again));
        let fresh = registry.for_root(PathBuf::from("/m/a"));
        assert_eq!(fresh.counter(), 0);
    }

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

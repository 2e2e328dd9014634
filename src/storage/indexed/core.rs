//! What every open mailbox holds the same way, whatever its backend: its
//! name, the index state with its running summary, the change notifier its
//! sessions wait on, and whether it still exists. Only the backend's
//! shard thread touches it; no borrow is held across an await.

use crate::storage::index::{Entry, LiveSummary, MailboxState};
use crate::storage::name::MailboxName;
use crate::storage::notify::{ChangeNotifier, StoreEvent, StoreNotices};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

pub struct IndexCore {
    /// Follows renames.
    pub name: RefCell<MailboxName>,
    pub state: RefCell<MailboxState>,
    /// Counters and modseq order of `state`, kept in step with it.
    pub summary: RefCell<LiveSummary>,
    pub notifier: ChangeNotifier,
    /// Deleted (or replaced behind our back): views no longer change.
    pub gone: Cell<bool>,
    /// The store's notices, told of every announced change (NOTIFY).
    store_notices: RefCell<Weak<StoreNotices>>,
}

impl IndexCore {
    pub fn new(name: MailboxName, state: MailboxState) -> Self {
        IndexCore {
            name: RefCell::new(name),
            summary: RefCell::new(LiveSummary::recount(&state)),
            state: RefCell::new(state),
            notifier: ChangeNotifier::default(),
            gone: Cell::new(false),
            store_notices: RefCell::new(Weak::new()),
        }
    }

    /// Report this mailbox's changes to its store's notices too (done by
    /// every open; the store's notices are the same for every opener).
    pub fn attach(&self, notices: &Rc<StoreNotices>) {
        let mut current = self.store_notices.borrow_mut();
        if !current.ptr_eq(&Rc::downgrade(notices)) {
            *current = Rc::downgrade(notices);
        }
    }

    /// Wake the mailbox's waiters and tell the store's notices.
    pub fn announce(&self) {
        self.notifier.bump();
        let notices = self.store_notices.borrow().upgrade();
        if let Some(n) = notices {
            n.post(StoreEvent::Changed(self.name()));
        }
    }

    pub fn name(&self) -> MailboxName {
        self.name.borrow().clone()
    }

    /// Apply committed entries (summary first, as it needs the state before
    /// each one) and announce them.
    pub fn apply(&self, entries: &[Entry]) {
        {
            let mut st = self.state.borrow_mut();
            let mut summary = self.summary.borrow_mut();
            for e in entries {
                summary.before_apply(&st, e);
                st.apply(e);
            }
        }
        self.announce();
    }

    /// Take a state built from scratch (rebuild, reload, new UIDVALIDITY).
    /// Not announced: the caller does that once it is done.
    pub fn replace(&self, state: MailboxState) {
        *self.summary.borrow_mut() = LiveSummary::recount(&state);
        *self.state.borrow_mut() = state;
    }

    /// The mailbox was renamed: holders follow it to `name`.
    pub fn rename(&self, name: MailboxName) {
        *self.name.borrow_mut() = name;
        self.notifier.bump();
    }

    /// The mailbox was deleted or replaced: every holder must stop.
    pub fn mark_gone(&self) {
        self.gone.set(true);
        self.notifier.bump();
    }

    pub fn memory_estimate(&self) -> usize {
        self.state.borrow().memory_estimate() + self.summary.borrow().memory_estimate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::state::sample_record;

    #[test]
    fn apply_keeps_the_summary_in_step_and_announces() {
        let core = IndexCore::new(MailboxName::inbox(), MailboxState::new(1, [0; 16]));
        core.apply(&[Entry::Append(sample_record(1))]);
        assert_eq!(core.state.borrow().records.len(), 1);
        assert_eq!(
            core.summary.borrow().counts(&core.state.borrow()).messages,
            1
        );
        assert_eq!(core.notifier.counter(), 1);
        core.replace(MailboxState::new(2, [0; 16]));
        assert_eq!(core.summary.borrow().counts(&core.state.borrow()).size, 0);
        core.mark_gone();
        assert!(core.gone.get() && core.notifier.counter() == 2);
    }

    #[test]
    fn attached_store_notices_hear_of_changes() {
        let core = IndexCore::new(MailboxName::inbox(), MailboxState::new(1, [0; 16]));
        let notices = Rc::new(StoreNotices::default());
        core.attach(&notices);
        core.apply(&[Entry::Append(sample_record(1))]);
        assert_eq!(
            notices.since(0),
            Ok(vec![StoreEvent::Changed(MailboxName::inbox())])
        );
    }
}

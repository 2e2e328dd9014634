//! Group commit: a change queues itself, then waits for the write lock.
//! The first to get the lock leads: it takes the whole queue and commits
//! it at once; the others find their answer left in their slot.

use crate::storage::error::Result;
use crate::storage::indexed::acquire_write_lock;
use std::cell::RefCell;

/// What a queued change finds once it holds the write lock.
pub(super) enum Turn<'a, P, T> {
    /// An earlier leader committed it; here is its answer.
    Done(Result<T>),
    /// This caller leads: commit `batch` (its own change among them) while
    /// holding the permit.
    Lead(glommio::sync::Permit<'a>, Vec<P>),
}

/// Wait for `lock`, then answer from `slot` or take the `queue`.
pub(super) async fn take_turn<'a, P, T>(
    lock: &'a glommio::sync::Semaphore,
    queue: &RefCell<Vec<P>>,
    slot: &RefCell<Option<Result<T>>>,
) -> Result<Turn<'a, P, T>> {
    let permit = acquire_write_lock(lock).await?;
    if let Some(done) = slot.borrow_mut().take() {
        return Ok(Turn::Done(done));
    }
    Ok(Turn::Lead(permit, std::mem::take(&mut *queue.borrow_mut())))
}

//! Running filesystem work off the shard thread.
//!
//! glommio's blocking pool hangs the awaiting future forever when a closure
//! panics (glommio#37), so every job is wrapped in `catch_unwind` and a panic
//! becomes an ordinary error.

use super::error::{Result, StorageError};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Run `job` on the executor's blocking pool. Batch related syscalls into one
/// job: the pool is small and shared with PAM.
pub async fn run<T, F>(job: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    #[cfg(test)]
    JOBS_STARTED.with(|n| n.set(n.get() + 1));
    let outcome = glommio::executor()
        .spawn_blocking(move || catch_unwind(AssertUnwindSafe(job)))
        .await;
    match outcome {
        Ok(r) => r,
        Err(_) => Err(StorageError::Internal(
            "blocking storage job panicked".into(),
        )),
    }
}

#[cfg(test)]
thread_local! {
    static JOBS_STARTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Blocking jobs this (shard) thread has started: lets tests check that a
/// batch operation costs one pool trip, not one per item.
#[cfg(test)]
pub fn jobs_started() -> u64 {
    JOBS_STARTED.with(|n| n.get())
}

/// Run a state-changing operation as its own task: a caller that drops its
/// future (a client disconnecting mid-command) must not stop it between the
/// durable write and the in-memory update, or memory and disk would part.
pub async fn detached<T: 'static>(
    op: impl std::future::Future<Output = Result<T>> + 'static,
) -> Result<T> {
    glommio::spawn_local(op)
        .detach()
        .await
        .unwrap_or_else(|| Err(StorageError::Internal("storage task was cancelled".into())))
}

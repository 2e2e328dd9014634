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

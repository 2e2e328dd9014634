//! Process-wide control from the main thread (signals) to the shards.
//! The main thread only flips atomics; each shard polls them on a short
//! timer and turns a change into a shard-local event, so no lock or
//! cross-thread waker sits on a shard's path.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct Control {
    shutdown: AtomicBool,
    /// Bumped on every reload (SIGHUP); shards compare it with the value they
    /// last applied.
    reload_generation: AtomicU64,
    /// The shards that finished starting (listeners bound).
    ready: AtomicU64,
    /// Errors shards hit while starting, reported by the main thread.
    start_errors: Mutex<Vec<String>>,
}

impl Control {
    pub fn new() -> Arc<Control> {
        Arc::new(Control {
            shutdown: AtomicBool::new(false),
            reload_generation: AtomicU64::new(0),
            ready: AtomicU64::new(0),
            start_errors: Mutex::new(Vec::new()),
        })
    }

    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
    }

    pub fn shutdown_requested(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    pub fn bump_reload(&self) -> u64 {
        self.reload_generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    pub fn reload_generation(&self) -> u64 {
        self.reload_generation.load(Ordering::Acquire)
    }

    pub fn mark_ready(&self) {
        self.ready.fetch_add(1, Ordering::AcqRel);
    }

    pub fn ready_count(&self) -> u64 {
        self.ready.load(Ordering::Acquire)
    }

    pub fn report_start_error(&self, e: String) {
        // start-up only; a poisoned lock still holds usable data
        let mut v = self.start_errors.lock().unwrap_or_else(|p| p.into_inner());
        v.push(e);
    }

    pub fn start_errors(&self) -> Vec<String> {
        self.start_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

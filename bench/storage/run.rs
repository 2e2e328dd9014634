//! Timing helpers for the storage benchmark: run N operations with K in
//! flight on the current glommio executor, collect per-operation latencies,
//! and empty the page cache for cold-cache runs.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What one measured run gives.
#[derive(Debug, Clone)]
pub struct Sample {
    pub ops: usize,
    pub wall: Duration,
    /// Per-operation latencies in microseconds, sorted.
    pub latencies_us: Vec<f64>,
}

impl Sample {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64().max(1e-9)
    }
    pub fn median_us(&self) -> f64 {
        crate::common::quantile(&self.latencies_us, 0.5)
    }
    pub fn p99_us(&self) -> f64 {
        crate::common::quantile(&self.latencies_us, 0.99)
    }
}

/// Runs `op(0..total)` with `in_flight` workers on the current executor.
pub async fn concurrently<F, Fut>(total: usize, in_flight: usize, op: F) -> Sample
where
    F: Fn(usize) -> Fut + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let next = Rc::new(Cell::new(0usize));
    let lat = Rc::new(RefCell::new(Vec::with_capacity(total)));
    let start = Instant::now();
    let workers: Vec<_> = (0..in_flight.max(1))
        .map(|_| {
            let next = next.clone();
            let lat = lat.clone();
            let op = op.clone();
            glommio::spawn_local(async move {
                loop {
                    let i = next.get();
                    if i >= total {
                        break;
                    }
                    next.set(i + 1);
                    let t = Instant::now();
                    op(i).await;
                    lat.borrow_mut().push(t.elapsed().as_secs_f64() * 1e6);
                }
            })
        })
        .collect();
    for w in workers {
        w.await;
    }
    let wall = start.elapsed();
    let mut latencies_us = std::mem::take(&mut *lat.borrow_mut());
    latencies_us.sort_by(f64::total_cmp);
    Sample {
        ops: total,
        wall,
        latencies_us,
    }
}

/// Flushes dirty pages and drops the page, dentry and inode caches, so the
/// next read comes from the device. Needs root; returns false otherwise.
/// (This affects the whole machine: it is done only a few times per run.)
pub fn drop_page_cache() -> bool {
    let synced = std::process::Command::new("sync")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    synced && std::fs::write("/proc/sys/vm/drop_caches", b"3\n").is_ok()
}

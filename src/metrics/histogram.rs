//! A latency histogram with fixed buckets, lock-free: one `Relaxed`
//! counter per bucket, so recording is a binary search and an add.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets in seconds (Prometheus `le`), from 100 µs
/// (a cached FETCH) to 10 s (a big SEARCH, a slow PAM); slower ones land
/// in `+Inf`.
pub const BOUNDS_SECONDS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The same bounds in microseconds, for bucketing without floats.
const BOUNDS_MICROS: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

pub struct Histogram {
    /// Not cumulative: bucket i counts observations in (bound[i-1], bound[i]];
    /// the last one is everything above the last bound.
    buckets: [AtomicU64; BOUNDS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_micros: AtomicU64::new(0),
        }
    }
}

/// A histogram's counts as a scrape reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Cumulative counts per bound, then the `+Inf` one (= the count).
    pub cumulative: Vec<u64>,
    pub sum_seconds: f64,
}

impl Snapshot {
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

impl Histogram {
    pub fn record(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let i = BOUNDS_MICROS.partition_point(|&b| b < micros);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Adds this histogram's counts into `into` (summing over shards).
    pub fn add_to(&self, into: &mut Snapshot) {
        if into.cumulative.is_empty() {
            into.cumulative = vec![0; self.buckets.len()];
        }
        let mut running = 0;
        for (slot, b) in into.cumulative.iter_mut().zip(&self.buckets) {
            running += b.load(Ordering::Relaxed);
            *slot += running;
        }
        into.sum_seconds += self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
    }
}

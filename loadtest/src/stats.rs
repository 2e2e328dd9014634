//! Per-operation latency histograms (microseconds) and error counts. Each
//! generator thread keeps its own [`Stats`]; they are merged at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Highest latency tracked exactly: one hour, in µs.
const MAX_MICROS: u64 = 3_600_000_000;
/// Distinct error messages kept (later new ones are only counted).
const KEPT_ERRORS: usize = 20;

#[derive(Debug, Clone)]
pub struct OpStats {
    pub hist: Histogram<u64>,
    pub errors: u64,
}

impl OpStats {
    fn new() -> OpStats {
        OpStats {
            // 3 significant digits: ±0.1 % at any latency. Constant bounds
            // that hdrhistogram accepts, so this cannot fail at run time.
            hist: Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant bounds"),
            errors: 0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub ops: BTreeMap<&'static str, OpStats>,
    /// Distinct error messages and how often each happened.
    pub first_errors: BTreeMap<String, u64>,
    /// A free-form figure worth a line of its own (e.g. server RSS).
    pub notes: BTreeMap<&'static str, f64>,
}

impl Stats {
    pub fn record(&mut self, op: &'static str, latency: Duration) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.ops
            .entry(op)
            .or_insert_with(OpStats::new)
            .hist
            .saturating_record(us.min(MAX_MICROS));
    }

    pub fn error(&mut self, op: &'static str, msg: impl FnOnce() -> String) {
        self.ops.entry(op).or_insert_with(OpStats::new).errors += 1;
        self.keep_error(format!("{op}: {}", msg()), 1);
    }

    pub fn merge(&mut self, other: Stats) {
        for (name, o) in other.ops {
            let mine = self.ops.entry(name).or_insert_with(OpStats::new);
            // same bounds on both sides, so add cannot fail on range
            let _ = mine.hist.add(&o.hist);
            mine.errors += o.errors;
        }
        for (e, n) in other.first_errors {
            self.keep_error(e, n);
        }
        for (k, v) in other.notes {
            *self.notes.entry(k).or_insert(0.0) += v;
        }
    }

    fn keep_error(&mut self, msg: String, n: u64) {
        if let Some(c) = self.first_errors.get_mut(&msg) {
            *c += n;
        } else if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.insert(msg, n);
        }
    }

    pub fn count(&self, op: &str) -> u64 {
        self.ops.get(op).map_or(0, |o| o.hist.len())
    }

    pub fn errors(&self, op: &str) -> u64 {
        self.ops.get(op).map_or(0, |o| o.errors)
    }

    pub fn total_errors(&self) -> u64 {
        self.ops.values().map(|o| o.errors).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_and_merge() {
        let mut a = Stats::default();
        a.record("login", Duration::from_micros(100));
        a.record("login", Duration::from_secs(100_000)); // clamped, not lost
        a.error("login", || "NO".into());
        let mut b = Stats::default();
        b.record("login", Duration::from_micros(300));
        b.record("logout", Duration::ZERO);
        b.error("connect", || "refused".into());
        a.merge(b);
        assert_eq!(a.count("login"), 3);
        assert_eq!(a.count("logout"), 1);
        assert_eq!(a.errors("login"), 1);
        assert_eq!(a.errors("connect"), 1);
        assert_eq!(a.total_errors(), 2);
        assert_eq!(a.first_errors.len(), 2);
        assert!(a.ops["login"].hist.max() >= MAX_MICROS - MAX_MICROS / 1000);
    }

    #[test]
    fn kept_errors_are_bounded() {
        let mut s = Stats::default();
        for i in 0..1000 {
            s.error("x", || format!("e{i}"));
        }
        for _ in 0..5 {
            s.error("x", || "e3".into());
        }
        assert_eq!(s.errors("x"), 1005);
        assert_eq!(s.first_errors.len(), KEPT_ERRORS);
        assert_eq!(s.first_errors["x: e3"], 6);
    }
}

//! Rate limiting for log lines about events that come in bursts (accept
//! failures when descriptors run out, refused connections during a flood):
//! the first event of a burst is logged, the rest are counted and reported
//! with the next line, at most one line per interval.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// One line per this interval at most.
pub const BURST_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Counts events and says when one should be logged.
#[derive(Debug, Default)]
pub struct BurstLog {
    last_logged: Cell<Option<Instant>>,
    suppressed: Cell<u64>,
}

impl BurstLog {
    /// Records one event at `now`. `Some(n)` when it should be logged, `n`
    /// being how many were left unlogged since the previous line.
    pub fn note(&self, now: Instant) -> Option<u64> {
        let due = self
            .last_logged
            .get()
            .is_none_or(|last| now.duration_since(last) >= BURST_LOG_INTERVAL);
        if !due {
            self.suppressed.set(self.suppressed.get() + 1);
            return None;
        }
        self.last_logged.set(Some(now));
        Some(self.suppressed.replace(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count_of_the_rest() {
        let log = BurstLog::default();
        let t0 = Instant::now();
        assert_eq!(log.note(t0), Some(0));
        for i in 1..=1000 {
            assert_eq!(log.note(t0 + Duration::from_millis(i)), None);
        }
        assert_eq!(log.note(t0 + BURST_LOG_INTERVAL), Some(1000));
        assert_eq!(log.note(t0 + BURST_LOG_INTERVAL), None);
        assert_eq!(log.note(t0 + BURST_LOG_INTERVAL * 3), Some(1));
    }
}

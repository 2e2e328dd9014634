//! State shared by all generator threads ([`Shared`], Send + Sync) and the
//! per-thread context ([`Ctx`], !Send, lives on one executor).

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::args::Settings;
use crate::conn::{Dialer, with_timeout};
use crate::error::ClientError;
use crate::stats::Stats;
use crate::tls::TlsCtx;

/// A failed step: which operation, and why.
#[derive(Debug)]
pub struct Failed {
    pub op: &'static str,
    pub err: ClientError,
}

pub struct Shared {
    pub settings: Settings,
    pub tls: Option<TlsCtx>,
    pub started: Instant,
    /// Nanoseconds after `started`: the measured window. idle-hold moves it
    /// once its connections are up.
    measure_from_ns: AtomicU64,
    measure_until_ns: AtomicU64,
    stop: AtomicBool,
    stopped_at_ns: AtomicU64,
    /// Primary operations finished (warm-up included), for the progress line.
    pub done: AtomicU64,
    /// Primary operations recorded (for --max-ops).
    pub measured: AtomicU64,
    pub errors: AtomicU64,
    /// idle-hold: per watched user slot, when a delivery's final dot left
    /// (ns after `started`, 0 = nothing pending).
    pub delivered_at: Vec<AtomicU64>,
    /// idle-hold: connections that reached IDLE / that gave up.
    pub idle_ready: AtomicU64,
    pub idle_failed: AtomicU64,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Shared {
    pub fn new(settings: Settings, tls: Option<TlsCtx>, watched_slots: usize) -> Shared {
        let (from, until) = if settings.scenario == crate::args::Scenario::IdleHold {
            // opened by start_window_now() once the connections are idling
            (u64::MAX, u64::MAX)
        } else {
            let from = ns(settings.warmup);
            (from, from.saturating_add(ns(settings.duration)))
        };
        Shared {
            settings,
            tls,
            started: Instant::now(),
            measure_from_ns: AtomicU64::new(from),
            measure_until_ns: AtomicU64::new(until),
            stop: AtomicBool::new(false),
            stopped_at_ns: AtomicU64::new(0),
            done: AtomicU64::new(0),
            measured: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            delivered_at: (0..watched_slots).map(|_| AtomicU64::new(0)).collect(),
            idle_ready: AtomicU64::new(0),
            idle_failed: AtomicU64::new(0),
        }
    }

    pub fn now_ns(&self) -> u64 {
        ns(self.started.elapsed())
    }

    pub fn at(&self, t: Instant) -> u64 {
        ns(t.saturating_duration_since(self.started))
    }

    pub fn measure_from(&self) -> u64 {
        self.measure_from_ns.load(Ordering::Relaxed)
    }

    pub fn measure_until(&self) -> u64 {
        self.measure_until_ns.load(Ordering::Relaxed)
    }

    /// Starts the measured window now (idle-hold, after set-up).
    pub fn start_window_now(&self) {
        let now = self.now_ns();
        self.measure_from_ns.store(now, Ordering::Relaxed);
        self.measure_until_ns.store(
            now.saturating_add(ns(self.settings.duration)),
            Ordering::Relaxed,
        );
    }

    pub fn measuring(&self, t_ns: u64) -> bool {
        t_ns >= self.measure_from()
    }

    pub fn request_stop(&self) {
        if !self.stop.swap(true, Ordering::Relaxed) {
            self.stopped_at_ns.store(self.now_ns(), Ordering::Relaxed);
        }
    }

    /// Stop requested, or the window is over.
    pub fn stopping(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        if self.now_ns() >= self.measure_until() {
            self.request_stop();
            return true;
        }
        false
    }

    /// The measured window as it actually ran.
    pub fn window(&self) -> Duration {
        let from = self.measure_from();
        let stopped = self.stopped_at_ns.load(Ordering::Relaxed);
        let end = if stopped > 0 { stopped } else { self.now_ns() };
        let end = end.min(self.measure_until());
        Duration::from_nanos(end.saturating_sub(from))
    }

    /// Counts one finished primary operation. Returns whether it falls in
    /// the measured window and under --max-ops (then it is recorded).
    pub fn count_primary(&self, started_ns: u64) -> bool {
        self.done.fetch_add(1, Ordering::Relaxed);
        if !self.measuring(started_ns) {
            return false;
        }
        let k = self.measured.fetch_add(1, Ordering::Relaxed) + 1;
        match self.settings.max_ops {
            Some(max) if k >= max => {
                self.request_stop();
                k == max
            }
            _ => true,
        }
    }
}

/// Per-thread context.
pub struct Ctx {
    pub shared: Arc<Shared>,
    pub thread: usize,
    pub stats: RefCell<Stats>,
    pub dialer: Dialer,
    pub lmtp_dialer: Dialer,
    /// open loop: next arrival number on this thread
    pub seq: Cell<u64>,
    /// open loop: time between arrivals on this thread
    pub interval: Option<Duration>,
    /// generated message shared by this thread's workers
    pub message: Vec<u8>,
}

impl Ctx {
    pub fn new(shared: Arc<Shared>, thread: usize, threads: usize) -> Ctx {
        let s = &shared.settings;
        let interval = s
            .rate
            .map(|r| Duration::from_secs_f64(threads as f64 / r.max(1e-9)));
        let message = crate::message::make(s.msg_size, thread as u64, "loadtest@example.org");
        let dialer = Dialer::new(s.target);
        let lmtp_dialer = Dialer::new(s.lmtp_target);
        if s.spread_sources {
            dialer.force_spread();
            lmtp_dialer.force_spread();
        }
        Ctx {
            dialer,
            lmtp_dialer,
            thread,
            stats: RefCell::new(Stats::default()),
            seq: Cell::new(0),
            interval,
            message,
            shared,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    pub fn implicit_tls(&self) -> Option<&TlsCtx> {
        match self.settings().tls {
            crate::args::TlsMode::Implicit => self.shared.tls.as_ref(),
            _ => None,
        }
    }

    pub fn starttls(&self) -> Option<&TlsCtx> {
        match self.settings().tls {
            crate::args::TlsMode::Starttls => self.shared.tls.as_ref(),
            _ => None,
        }
    }

    /// Records `op` as taking from `start` to now, if `start` is inside the
    /// measured window.
    pub fn record(&self, op: &'static str, start: Instant) {
        if self.shared.measuring(self.shared.at(start)) {
            self.stats.borrow_mut().record(op, start.elapsed());
        }
    }

    pub fn fail(&self, f: Failed) {
        self.shared.errors.fetch_add(1, Ordering::Relaxed);
        if self.shared.measuring(self.shared.now_ns()) {
            self.stats.borrow_mut().error(f.op, || f.err.to_string());
        }
    }

    /// Runs one timed step with the per-operation timeout.
    pub async fn step<T>(
        &self,
        op: &'static str,
        fut: impl std::future::Future<Output = Result<T, ClientError>>,
    ) -> Result<T, Failed> {
        let t = Instant::now();
        match with_timeout(self.settings().timeout, fut).await {
            Ok(v) => {
                self.record(op, t);
                Ok(v)
            }
            Err(err) => Err(Failed { op, err }),
        }
    }
}

impl Shared {
    /// Only an explicit stop (idle-hold waits through set-up, before its
    /// window exists).
    pub fn stopping_hard(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Cli;
    use clap::Parser as _;

    fn shared(args: &[&str]) -> Shared {
        let mut v = vec!["tern-loadtest"];
        v.extend_from_slice(args);
        let s = Cli::try_parse_from(v)
            .expect("clap")
            .into_settings()
            .expect("settings");
        Shared::new(s, None, 0)
    }

    #[test]
    fn max_ops_records_exactly_n_and_stops() {
        let sh = shared(&["login", "--warmup", "0s", "--max-ops", "3"]);
        let at = sh.now_ns();
        let recorded: Vec<bool> = (0..5).map(|_| sh.count_primary(at)).collect();
        assert_eq!(recorded, vec![true, true, true, false, false]);
        assert!(sh.stopping());
        assert_eq!(sh.done.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn warmup_operations_are_counted_but_not_recorded() {
        let sh = shared(&["login", "--warmup", "1h", "--duration", "1s"]);
        assert!(!sh.count_primary(sh.now_ns()));
        assert_eq!(sh.done.load(Ordering::Relaxed), 1);
        assert_eq!(sh.measured.load(Ordering::Relaxed), 0);
        assert!(!sh.stopping());
        assert_eq!(sh.window(), Duration::ZERO);
    }

    #[test]
    fn idle_hold_window_opens_on_demand() {
        let sh = shared(&["idle-hold", "--duration", "1h"]);
        assert!(!sh.measuring(sh.now_ns()));
        assert!(!sh.stopping(), "set-up must not count as the window");
        sh.start_window_now();
        assert!(sh.measuring(sh.now_ns()));
        assert!(!sh.stopping());
        sh.request_stop();
        assert!(sh.stopping() && sh.stopping_hard());
        assert!(sh.window() < Duration::from_secs(60));
    }
}

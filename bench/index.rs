//! The storage index on a 100,000-message sdbox INBOX, through the Mailbox
//! trait: UID ⇄ sequence lookups, message records, status, and flag
//! updates (each one a durable commit: log append + fdatasync).
//!
//! The store lives on tmpfs (see `common::cpu_bench_base`) so the figures
//! are the index's CPU cost; `bench/storage.rs` measures the same
//! operations on disk.

#[path = "common/mod.rs"]
mod common;

use criterion::{Criterion, Throughput};
use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tern::storage::{FlagOp, Mailbox, SystemFlags};

const MESSAGES: usize = 100_000;

/// Deterministic spread over `0..n` (a multiplicative hash of `k`).
fn spread(k: u64, n: usize) -> usize {
    (k.wrapping_mul(2_654_435_761) % n as u64) as usize
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let ex = common::shard_executor();
    let base = common::cpu_bench_base();
    let started = Instant::now();
    let fx = ex.run(common::store::filled_inbox(&base, "index", MESSAGES, 600));
    eprintln!(
        "fixture: {MESSAGES} messages appended in {:.1} s under {}",
        started.elapsed().as_secs_f64(),
        base.display()
    );
    let inbox = &fx.inbox;
    let uids = inbox.uids();
    let n = uids.len();

    let mut g = c.benchmark_group("index_100k");
    let k = Cell::new(0u64);
    let next = || {
        k.set(k.get() + 1);
        k.get()
    };
    g.bench_function("seq_of_uid", |b| {
        b.iter(|| inbox.seq_of(black_box(uids[spread(next(), n)])))
    });
    g.bench_function("uid_at_seq", |b| {
        b.iter(|| inbox.uid_at(black_box(spread(next(), n) as u32 + 1)))
    });
    g.bench_function("message_by_uid", |b| {
        b.iter(|| inbox.message(black_box(uids[spread(next(), n)])))
    });
    g.bench_function("status", |b| b.iter(|| inbox.status()));
    let window: Vec<u32> = uids[n - 100..].to_vec();
    g.throughput(Throughput::Elements(100));
    g.bench_function("messages_by_uid_100", |b| {
        b.iter(|| inbox.messages_by_uid(black_box(&window)).len())
    });
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("uids_all", |b| b.iter(|| inbox.uids().len()));
    g.bench_function("messages_all", |b| b.iter(|| inbox.messages().len()));
    g.throughput(Throughput::Elements(1));
    let highest = inbox.status().highest_modseq;
    g.bench_function("changes_since_recent", |b| {
        b.iter(|| {
            inbox
                .changes_since(black_box(highest.saturating_sub(10)))
                .changed
                .len()
        })
    });

    // Flag updates: each call changes one message's flags (alternating
    // between \Seen and \Seen \Flagged on each pass over the mailbox), so
    // every call is a real commit.
    let round = Cell::new(0u64);
    g.bench_function("store_one_uid", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let r = round.get();
                    round.set(r + 1);
                    let uid = uids[spread(r, n)];
                    let flags = if (r / n as u64).is_multiple_of(2) {
                        SystemFlags::SEEN | SystemFlags::FLAGGED
                    } else {
                        SystemFlags::SEEN
                    };
                    let res = inbox
                        .store(&[uid], FlagOp::Replace, flags, &[], None)
                        .await
                        .unwrap_or_else(|e| panic!("store failed: {e}"));
                    black_box(res);
                }
                start.elapsed()
            })
        })
    });
    let batch = Cell::new(0u64);
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("store_1000_uids", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let r = batch.get();
                    batch.set(r + 1);
                    // Add then remove on the same range, so both change it.
                    let from = spread(r / 2, n - 1_000);
                    let op = if r.is_multiple_of(2) {
                        FlagOp::Add
                    } else {
                        FlagOp::Remove
                    };
                    let res = inbox
                        .store(
                            &uids[from..from + 1_000],
                            op,
                            SystemFlags::ANSWERED,
                            &[],
                            None,
                        )
                        .await
                        .unwrap_or_else(|e| panic!("store failed: {e}"));
                    black_box(res);
                }
                start.elapsed()
            })
        })
    });
    g.finish();
    c.final_summary();
    drop(fx);
}

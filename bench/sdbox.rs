//! sdbox append and read of small messages through the Mailbox trait.
//! Every append is durable (mail file fdatasync'd, linked, directory and
//! log synced); on tmpfs (see `common::cpu_bench_base`) this measures the
//! code path, `bench/storage.rs` the disk.

#[path = "common/mod.rs"]
mod common;

use criterion::{Criterion, Throughput};
use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tern::storage::{AppendRequest, Mailbox, SystemFlags};

const PREFILLED: usize = 1_000;
const SIZE: usize = 2_048;

fn request(i: usize) -> AppendRequest {
    AppendRequest {
        message: common::messages::small(i, SIZE),
        flags: SystemFlags::NONE,
        ..Default::default()
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let ex = common::shard_executor();
    let base = common::cpu_bench_base();
    let fx = ex.run(common::store::filled_inbox(&base, "sdbox", PREFILLED, SIZE));
    let inbox = &fx.inbox;
    let uids = inbox.uids();
    let counter = Cell::new(PREFILLED);

    let mut g = c.benchmark_group("sdbox_2k");
    g.throughput(Throughput::Elements(1));
    g.bench_function("append_1", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let i = counter.get();
                    counter.set(i + 1);
                    let r = inbox.append(vec![request(i)]).await;
                    black_box(r.unwrap_or_else(|e| panic!("append: {e}")));
                }
                start.elapsed()
            })
        })
    });
    g.throughput(Throughput::Elements(10));
    g.bench_function("append_10_one_commit", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let i = counter.get();
                    counter.set(i + 10);
                    let reqs = (i..i + 10).map(request).collect();
                    let r = inbox.append(reqs).await;
                    black_box(r.unwrap_or_else(|e| panic!("append: {e}")));
                }
                start.elapsed()
            })
        })
    });
    g.throughput(Throughput::Elements(1));
    let k = Cell::new(0usize);
    let next_uid = || {
        k.set(k.get() + 1);
        uids[(k.get() * 7_919) % uids.len()]
    };
    g.bench_function("read_message", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let r = inbox.read_message(next_uid()).await;
                    black_box(r.unwrap_or_else(|e| panic!("read: {e}")).len());
                }
                start.elapsed()
            })
        })
    });
    g.bench_function("read_header", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let r = inbox.read_header(next_uid()).await;
                    black_box(r.unwrap_or_else(|e| panic!("read: {e}")).len());
                }
                start.elapsed()
            })
        })
    });
    // Sixteen reads in flight, as a FETCH of many bodies could issue them
    // (the blocking pool has four threads).
    g.throughput(Throughput::Elements(16));
    g.bench_function("read_message_16_concurrent", |b| {
        b.iter_custom(|iters| {
            ex.run(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..16)
                        .map(|_| {
                            let mb = inbox.clone();
                            let uid = next_uid();
                            glommio::spawn_local(async move { mb.read_message(uid).await })
                        })
                        .collect();
                    for t in tasks {
                        black_box(t.await.unwrap_or_else(|e| panic!("read: {e}")).len());
                    }
                }
                start.elapsed()
            })
        })
    });
    g.finish();
    c.final_summary();
    drop(fx);
}

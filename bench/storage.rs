//! Storage benchmark for issue 3's acceptance (not a criterion bench):
//! append and read of 10,000 small messages, open of a 100,000-message
//! mailbox with a cold and a warm cache, flag updates on it, and glommio's
//! io_uring file API against the blocking pool on 10,000 small files.
//!
//! Run: `cargo bench --bench storage` (about 2-4 minutes on 2 vCPUs) or
//! `cargo bench --bench storage -- --quick` (one tenth of the sizes).
//! Prints a markdown table and writes it to
//! `bench/results/storage-<date>.md`. Files go under `TERN_BENCH_DISK_DIR`
//! (default: the temp dir) and are removed afterwards. Cold-cache rows need
//! root (`/proc/sys/vm/drop_caches`).

#[path = "common/mod.rs"]
mod common;
#[path = "storage/io_styles.rs"]
mod io_styles;
#[path = "storage/phases.rs"]
mod phases;
#[path = "storage/report.rs"]
mod report;
#[path = "storage/run.rs"]
mod run;

use report::{Comparison, Report};
use run::drop_page_cache;
use std::time::Instant;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick {
        phases::Scale {
            appends: 1_000,
            sequential_appends: 200,
            big_mailbox: 10_000,
            flag_updates: 60,
        }
    } else {
        phases::Scale {
            appends: 10_000,
            sequential_appends: 1_000,
            big_mailbox: 100_000,
            flag_updates: 300,
        }
    };
    let io_files = scale.appends;
    let io_rounds = if quick { 1 } else { 2 };
    let disk = common::disk_bench_base();
    let fast = common::cpu_bench_base();
    let (date, time) = report::now_utc();
    let mut rep = Report {
        header: format!(
            "# tern storage benchmark, {date} {time}{}\n\n{}- build: `cargo bench` profile (release), \
             allocator: {}\n- shard executor: glommio, 1 MiB io_memory, blocking pool of 4 unbound threads\n\
             - command: `cargo bench --bench storage{}`\n",
            if quick { " (quick)" } else { "" },
            common::machine::describe(&disk),
            if cfg!(feature = "jemalloc") {
                "jemalloc"
            } else {
                "system"
            },
            if quick { " -- --quick" } else { "" },
        ),
        a_label: "std::fs on the blocking pool (jobs of 100 files, 4 in flight)".into(),
        b_label: format!(
            "glommio io_uring BufferedFile ({} files in flight)",
            io_styles::URING_IN_FLIGHT
        ),
        ..Default::default()
    };
    eprint!("{}", rep.header);
    let started = Instant::now();
    let ex = common::shard_executor();

    ex.run(phases::append_and_read(&disk, &scale, &mut rep));
    ex.run(phases::big_mailbox(&fast, &disk, &scale, &mut rep));
    ex.run(io_style_comparison(&disk, io_files, io_rounds, &mut rep));

    rep.notes.push(format!(
        "total run time {:.0} s; loadavg at the end: {}",
        started.elapsed().as_secs_f64(),
        common::machine::loadavg()
    ));
    let md = rep.markdown();
    println!("{md}");
    match report::write(&md, &date, quick) {
        Ok(path) => eprintln!("written to {}", path.display()),
        Err(e) => eprintln!("could not write the results file: {e}"),
    }
}

/// A B A B … over `rounds`; each side writes its own fresh directory.
async fn io_style_comparison(
    base: &std::path::Path,
    files: usize,
    rounds: usize,
    rep: &mut Report,
) {
    eprintln!(
        "I/O styles: {files} files of {} bytes, {rounds} round(s)",
        io_styles::FILE_SIZE
    );
    let mut write = Comparison {
        operation: format!("create + write + fdatasync + close, {files} files"),
        a_runs: vec![],
        b_runs: vec![],
    };
    let mut warm = Comparison {
        operation: "open + read + close, page cache warm".into(),
        a_runs: vec![],
        b_runs: vec![],
    };
    let mut cold = Comparison {
        operation: "open + read + close, page cache cold".into(),
        a_runs: vec![],
        b_runs: vec![],
    };
    for round in 0..rounds {
        let a_dir = common::ScratchDir::new(base, &format!("io-a{round}"));
        let b_dir = common::ScratchDir::new(base, &format!("io-b{round}"));
        let a = io_styles::write_blocking(a_dir.path(), files).await;
        let b = io_styles::write_uring(b_dir.path(), files).await;
        eprintln!(
            "  round {round} write: A {:.0}/s, B {:.0}/s",
            a.per_second(),
            b.per_second()
        );
        write.a_runs.push(a.per_second());
        write.b_runs.push(b.per_second());
        let a = io_styles::read_blocking(a_dir.path(), files).await;
        let b = io_styles::read_uring(b_dir.path(), files).await;
        eprintln!(
            "  round {round} warm read: A {:.0}/s, B {:.0}/s",
            a.per_second(),
            b.per_second()
        );
        warm.a_runs.push(a.per_second());
        warm.b_runs.push(b.per_second());
        if drop_page_cache() {
            let a = io_styles::read_blocking(a_dir.path(), files).await;
            drop_page_cache();
            let b = io_styles::read_uring(b_dir.path(), files).await;
            eprintln!(
                "  round {round} cold read: A {:.0}/s, B {:.0}/s",
                a.per_second(),
                b.per_second()
            );
            cold.a_runs.push(a.per_second());
            cold.b_runs.push(b.per_second());
        }
    }
    rep.comparisons.push(write);
    rep.comparisons.push(warm);
    if !cold.a_runs.is_empty() {
        rep.comparisons.push(cold);
    }
}

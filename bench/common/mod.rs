//! Fixtures shared by tern's benchmarks: sample messages, scratch
//! directories, a glommio executor set up like a shard's, and the machine
//! description every result must carry (see bench/README.md).
//!
//! Each bench target includes this with `#[path = "common/mod.rs"] mod
//! common;` and uses only part of it.
#![allow(dead_code)]

pub mod machine;
pub mod messages;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A glommio executor configured like a server shard: small registered I/O
/// memory (fits a non-root memlock limit) and a 4-thread blocking pool,
/// which is where the storage layer runs its file work.
pub fn shard_executor() -> glommio::LocalExecutor {
    glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .io_memory(1 << 20)
        .blocking_thread_pool_placement(glommio::PoolPlacement::Unbound(4))
        .make()
        .unwrap_or_else(|e| panic!("cannot start a glommio executor: {e}"))
}

/// Where benchmarks that measure CPU cost put their files: tmpfs when the
/// machine has one, so fsync latency does not drown the code under test.
/// `TERN_BENCH_FAST_DIR` overrides.
pub fn cpu_bench_base() -> PathBuf {
    if let Some(dir) = std::env::var_os("TERN_BENCH_FAST_DIR") {
        return dir.into();
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Where benchmarks that measure the disk put their files (the mail store
/// of a real server is on disk). `TERN_BENCH_DISK_DIR` overrides.
pub fn disk_bench_base() -> PathBuf {
    std::env::var_os("TERN_BENCH_DISK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// A scratch directory removed when dropped.
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    pub fn new(base: &Path, label: &str) -> ScratchDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("tern-bench-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        ScratchDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Median of a sample (sorted in place); 0 for an empty one.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if !values.len().is_multiple_of(2) {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The `q`-quantile (0..=1) of a sorted sample.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

// The server binary runs on jemalloc; benchmarks measure the same.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

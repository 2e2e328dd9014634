//! Issue 3 asks which I/O style suits many small mail files: glommio's
//! io_uring file API or std::fs on the blocking pool. tern's storage does
//! all file work through the blocking pool (`storage::blocking::run`) and
//! offers no switch, so both styles are measured here directly, on the
//! same file pattern as an sdbox save: create a new file, write it,
//! fdatasync, close; then open, read whole, close.
//!
//! - A (blocking pool): std::fs in `spawn_blocking` jobs of 100 files,
//!   4 jobs in flight (the pool has 4 threads), as `storage::blocking` and
//!   `sdbox::io::write_temps` batch them.
//! - B (io_uring): `glommio::io::BufferedFile`, 32 files in flight on the
//!   shard thread itself.

use super::run::{Sample, concurrently};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub const FILE_SIZE: usize = 4 * 1024;
const JOB_FILES: usize = 100;
const POOL_JOBS_IN_FLIGHT: usize = 4;
pub const URING_IN_FLIGHT: usize = 32;

fn file_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("u.{}", i + 1))
}

fn content(i: usize) -> Vec<u8> {
    let mut v = crate::common::messages::small(i, FILE_SIZE);
    v.resize(FILE_SIZE, b'\n');
    v
}

fn write_one_std(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_data()
}

/// Runs a blocking job on the executor's pool, a panic becoming an error
/// (glommio#37: a panicking job would hang its awaiting future).
async fn pool<T: Send + 'static>(job: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> T {
    let r = glommio::executor()
        .spawn_blocking(move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)))
        .await;
    match r {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("blocking I/O job failed: {e}"),
        Err(_) => panic!("blocking I/O job panicked"),
    }
}

/// Per-file latency is not meaningful for batched jobs: the sample's
/// latencies are per job of JOB_FILES files.
pub async fn write_blocking(dir: &Path, files: usize) -> Sample {
    let dir = Rc::new(dir.to_path_buf());
    let jobs = files.div_ceil(JOB_FILES);
    let mut s = concurrently(jobs, POOL_JOBS_IN_FLIGHT, move |j| {
        let dir = (*dir).clone();
        async move {
            pool(move || {
                for i in j * JOB_FILES..((j + 1) * JOB_FILES).min(files) {
                    write_one_std(&file_path(&dir, i), &content(i))?;
                }
                Ok(())
            })
            .await
        }
    })
    .await;
    s.ops = files;
    s
}

pub async fn read_blocking(dir: &Path, files: usize) -> Sample {
    let dir = Rc::new(dir.to_path_buf());
    let jobs = files.div_ceil(JOB_FILES);
    let mut s = concurrently(jobs, POOL_JOBS_IN_FLIGHT, move |j| {
        let dir = (*dir).clone();
        async move {
            let bytes = pool(move || {
                let mut total = 0;
                for i in j * JOB_FILES..((j + 1) * JOB_FILES).min(files) {
                    total += std::fs::read(file_path(&dir, i))?.len();
                }
                Ok(total)
            })
            .await;
            assert!(bytes > 0);
        }
    })
    .await;
    s.ops = files;
    s
}

pub async fn write_uring(dir: &Path, files: usize) -> Sample {
    let dir = Rc::new(dir.to_path_buf());
    concurrently(files, URING_IN_FLIGHT, move |i| {
        let path = file_path(&dir, i);
        async move {
            let r: glommio::Result<(), ()> = async {
                let f = glommio::io::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .buffered_open(&path)
                    .await?;
                f.write_at(content(i), 0).await?;
                f.fdatasync().await?;
                f.close().await
            }
            .await;
            if let Err(e) = r {
                panic!("io_uring write of {} failed: {e}", path.display());
            }
        }
    })
    .await
}

pub async fn read_uring(dir: &Path, files: usize) -> Sample {
    let dir = Rc::new(dir.to_path_buf());
    concurrently(files, URING_IN_FLIGHT, move |i| {
        let path = file_path(&dir, i);
        async move {
            let r: glommio::Result<usize, ()> = async {
                let f = glommio::io::BufferedFile::open(&path).await?;
                let data = f.read_at(0, FILE_SIZE).await?;
                let n = data.len();
                f.close().await?;
                Ok(n)
            }
            .await;
            match r {
                Ok(n) => assert_eq!(n, FILE_SIZE),
                Err(e) => panic!("io_uring read of {} failed: {e}", path.display()),
            }
        }
    })
    .await
}

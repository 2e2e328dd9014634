//! Where the server's log lines go, without making a shard thread wait for
//! the disk.
//!
//! `tern serve` logs through a [`LogSink`]: until [`LogSink::start_queue`]
//! every line is one direct `write(2)` (start-up, and the forked auth helper,
//! which must be forked while the process has one thread); afterwards lines
//! go to a bounded in-memory queue drained by one writer thread. A full
//! queue drops the line instead of waiting; the writer thread later logs
//! "N log lines dropped". [`LogSink::stop_queue`] writes what is queued
//! before the process exits.

mod drop_report;
mod sink;

pub use sink::{LineWriter, LogSink, QUEUE_LINES};

use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot open log_path {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot duplicate the log output: {0}")]
    Duplicate(std::io::Error),
}

/// Opens the log file for appending (one `write(2)` per line, so lines
/// from several processes do not mix).
pub fn open_file(path: &Path) -> Result<File, LogError> {
    // blocking-ok: start-up, before any shard runs
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| LogError::Open {
            path: path.display().to_string(),
            source,
        })
}

/// Standard error as a plain file descriptor: writing through `&File`
/// takes no lock, unlike `std::io::Stderr`, whose lock a forked child may
/// find held by a thread that no longer exists there.
pub fn stderr_file() -> Result<File, LogError> {
    std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(File::from)
        .map_err(LogError::Duplicate)
}

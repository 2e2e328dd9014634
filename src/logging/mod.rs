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
//!
//! Like Dovecot, errors and warnings go to `log_path`, informational lines
//! to `info_log_path` and debug lines to `debug_log_path` (each defaulting
//! to the one before); `log_path = syslog` sends them to syslog with
//! `syslog_facility`. SIGUSR1 reopens the files ([`LogRouter::reopen`]).

mod drop_report;
mod router;
mod sink;
pub mod syslog;

pub use router::{LogRouter, LogTargets, Target};
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
    #[error("cannot reach syslog: {0}")]
    Syslog(std::io::Error),
    #[error("syslog_facility {0:?} is not a syslog facility")]
    Facility(String),
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

/// The router the process logs through, for [`reopen`] (the subscriber
/// itself is process-global too).
static INSTALLED: std::sync::OnceLock<LogRouter> = std::sync::OnceLock::new();

/// Remembers the process's router (the first one wins).
pub fn install(router: LogRouter) {
    let _ = INSTALLED.set(router);
}

/// SIGUSR1: opens the log files again by name, as after logrotate moved
/// them. A no-op when logging to standard error or syslog.
pub fn reopen() -> Result<(), LogError> {
    match INSTALLED.get() {
        Some(r) => r.reopen(),
        None => Ok(()),
    }
}

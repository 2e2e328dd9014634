//! tern-loadtest: a thread-per-core load generator for IMAP, POP3 and LMTP
//! servers. See loadtest/README.md for usage and the scenario definitions.

pub mod args;
pub mod conn;
pub mod ctx;
pub mod error;
pub mod imap;
pub mod lmtp;
pub mod message;
pub mod mix;
pub mod pop3;
pub mod report;
pub mod rss;
pub mod runner;
pub mod scenarios;
pub mod stats;
pub mod stress;
pub mod sys;
#[cfg(test)]
pub mod testkit;
pub mod tls;

use clap::Parser as _;

pub use runner::{Outcome, run};

/// The binary's whole life: parse, run, print, write JSON. Returns the exit
/// status (0 ok, 1 the run had errors, 2 bad arguments or set-up).
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let cli = match args::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let settings = match cli.into_settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tern-loadtest: {e}");
            return 2;
        }
    };
    let json = settings.json.clone();
    let outcome = match run(settings) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tern-loadtest: {e}");
            return 2;
        }
    };
    print!("{}", outcome.summary.table());
    if let Some(path) = json
        && let Err(e) = std::fs::write(&path, outcome.summary.json())
    {
        eprintln!("tern-loadtest: cannot write {}: {e}", path.display());
        return 2;
    }
    if outcome.summary.primary_count == 0 || outcome.stats.total_errors() > 0 {
        1
    } else {
        0
    }
}

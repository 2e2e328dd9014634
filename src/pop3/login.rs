//! The entry points the shard runtime calls for POP3 connections: a new
//! connection (`serve`) and one handed over after login (`resume`). The
//! work happens in `driver`.

pub use super::driver::{Pop3Handoff, resume, serve};

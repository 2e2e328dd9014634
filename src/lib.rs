//! tern: a thread-per-core IMAP / POP3 / LMTP mail server.
pub mod auth;
pub mod cli;
pub mod config;
pub mod imap;
pub mod lmtp;
pub mod logging;
pub mod message;
pub mod metrics;
pub mod net;
pub mod pop3;
pub mod server;
pub mod shard;
pub mod storage;
#[cfg(test)]
pub(crate) mod testing;

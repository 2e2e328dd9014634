//! tern: a thread-per-core IMAP / POP3 / LMTP mail server.
pub mod auth;
pub mod cli;

//! tern: a thread-per-core IMAP / POP3 / LMTP mail server.
pub mod cli;
pub mod imap;

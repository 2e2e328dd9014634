//! The IMAP entry points the shard runtime calls: a new connection
//! ([`serve`]) and a connection handed off after login ([`resume`]). The
//! implementation is the driver in [`super::driver`].

pub use super::driver::{ImapHandoff, resume, serve};

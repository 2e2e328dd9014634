//! The IMAP entry points the shard runtime calls: a new connection
//! ([`serve`]) and a connection handed off after login ([`resume`]). The
//! implementation is the session in [`super::session`].

pub use super::session::{ImapHandoff, resume, serve};

//! IMAP4rev2 / IMAP4rev1: the sans-io codec ([`codec`]), pure evaluation
//! of SEARCH, SORT, THREAD and FETCH ([`eval`]), the session state machine
//! with one file per command ([`session`], `session/commands/`), and the
//! driver that alone owns the connection, TLS, deflate, timers and the
//! clock (`driver/`). [`login`] holds the entry points the shards call.
pub mod codec;
mod driver;
pub mod eval;
pub mod login;
pub mod session;
pub mod url;

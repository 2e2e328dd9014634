//! IMAP4rev2 / IMAP4rev1: the sans-io codec, pure evaluation (SEARCH,
//! SORT, THREAD, FETCH building), and the session state machine with its
//! pre-login front end.
pub mod codec;
mod driver;
pub mod eval;
pub mod login;
pub mod session;

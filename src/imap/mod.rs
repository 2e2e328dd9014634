//! IMAP4rev2 / IMAP4rev1: the sans-io codec, the pre-login front end and
//! (next) the session state machine.
pub mod codec;
pub mod eval;
pub mod login;

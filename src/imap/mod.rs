//! IMAP4rev2 / IMAP4rev1 protocol: the sans-io codec (and, later, the session).
pub mod codec;

//! LMTP delivery (RFC 2033).

pub mod front;

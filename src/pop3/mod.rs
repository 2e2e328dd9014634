//! POP3 (RFC 1939, 2449, 2595, 5034).

pub mod login;

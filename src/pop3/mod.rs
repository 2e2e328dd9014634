//! POP3 (RFC 1939, 2449, 2595, 5034): the sans-io protocol layer.
pub mod codec_line;

//! LMTP (RFC 2033, with RFC 5321 syntax): the sans-io protocol layer.
//!
//! `codec` parses command lines (framed by `crate::pop3::codec_line`),
//! `codec_path` parses addresses and splits `+detail`, `codec_data` decodes
//! DATA bodies, `codec_reply` builds replies and `codec_headers` the trace
//! headers added on delivery, and `session` is the LHLO / MAIL / RCPT /
//! DATA state machine that drives them through actions the I/O driver
//! carries out (recipient lookup, delivery). Nothing here does I/O.
pub mod codec;
pub mod codec_data;
pub mod codec_headers;
pub mod codec_path;
pub mod codec_reply;
pub mod front;
pub mod session;

//! LMTP (RFC 2033, with RFC 5321 syntax): the sans-io protocol layer.
//!
//! `codec` parses command lines (framed by `crate::net::line`),
//! `codec_path` parses addresses and splits `+detail`, `codec_data` decodes
//! DATA bodies, `codec_reply` builds replies and `codec_headers` the trace
//! headers added on delivery, and `session` is the LHLO / MAIL / RCPT /
//! DATA state machine that drives them through actions the I/O driver
//! carries out (recipient lookup, delivery). Nothing in those does I/O.
//!
//! `driver` is that I/O driver (userdb lookups, spooling, per-recipient
//! delivery on the owner shard through `driver_deliver`); `front` holds the
//! entry point the shard runtime calls.
pub mod codec;
pub mod codec_data;
pub mod codec_headers;
pub mod codec_path;
pub mod codec_reply;
pub mod driver;
pub mod driver_deliver;
#[cfg(test)]
pub(crate) mod driver_testenv;
pub mod front;
pub mod session;

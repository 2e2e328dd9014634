//! POP3 (RFC 1939, 2449, 2595, 5034): the sans-io protocol layer.
//!
//! `crate::net::line` frames lines, `codec` parses commands,
//! `codec_response` builds replies, `codec_dotstuff` streams RETR/TOP
//! bodies, `codec_uidl` formats UIDLs, `session_maildrop` holds the
//! login-time snapshot, and `session` is the AUTHORIZATION / TRANSACTION /
//! UPDATE state machine that drives them through actions the I/O driver
//! carries out. Nothing in those does I/O.
//!
//! `driver` is that I/O driver: login on the accepting shard, handoff to
//! the owner shard, maildrop access through `driver_maildrop` (storage) and
//! the PLAIN/LOGIN mechanisms in `driver_sasl`. `login` holds the entry
//! points the shard runtime calls.
pub mod codec;
pub mod codec_dotstuff;
pub mod codec_response;
pub mod codec_uidl;
pub mod driver;
pub mod driver_maildrop;
pub mod driver_sasl;
pub mod login;
pub mod logout;
pub mod session;
pub mod session_maildrop;

//! POP3 (RFC 1939, 2449, 2595, 5034): the sans-io protocol layer.
//!
//! `codec_line` frames lines, `codec` parses commands, `codec_response`
//! builds replies, `codec_dotstuff` streams RETR/TOP bodies, `codec_uidl`
//! formats UIDLs, `session_maildrop` holds the login-time snapshot, and
//! `session` is the AUTHORIZATION / TRANSACTION / UPDATE state machine that
//! drives them through actions the I/O driver carries out. Nothing here
//! does I/O.
pub mod codec;
pub mod codec_base64;
pub mod codec_dotstuff;
pub mod codec_line;
pub mod codec_response;
pub mod codec_uidl;
pub mod login;
pub mod session;
pub mod session_maildrop;

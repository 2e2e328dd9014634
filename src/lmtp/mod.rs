//! LMTP (RFC 2033, with RFC 5321 syntax): the sans-io protocol layer.
pub mod codec;
pub mod codec_data;
pub mod codec_path;
pub mod codec_reply;

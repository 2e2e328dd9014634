//! The IMAP session: the pre-login front end (any shard), the handoff to
//! the user's owner shard, and the authenticated/selected state machine
//! that drives storage. Wire format lives in [`crate::imap::codec`].

pub mod capability;
mod commands;
mod content;
mod dates;
mod deflate;
mod flags;
mod id;
mod io;
mod logout;
mod names;
mod os_info;
mod prelogin;
mod refresh;
mod selected;
mod state;
mod userdb;

pub use prelogin::serve;
pub use state::resume;

/// The session state that travels with a connection to the owner shard.
#[derive(Debug)]
pub struct ImapHandoff {
    pub session: String,
    pub user: String,
    /// The user's userdb record, looked up on the accepting shard (it
    /// decides the owner shard).
    pub info: crate::shard::env::UserInfo,
    /// Tag of the LOGIN/AUTHENTICATE command, answered by the owner shard
    /// once the user's mail store is ready there.
    pub tag: String,
    /// Client input already read from the socket but not yet framed
    /// (pipelined commands after LOGIN).
    pub pending: Vec<u8>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

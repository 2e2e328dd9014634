//! The IMAP driver: the only code under `src/imap` that touches the
//! connection (glommio, sockets, TLS, COMPRESS=DEFLATE), timers and the
//! clock. It frames client input, feeds parsed commands to the sans-io
//! [`crate::imap::session`], sends what the session wrote and carries out
//! the [`crate::imap::session::Flow`] it asks for (IDLE waits, starting
//! compression, closing). Before login it runs the pre-login front end on
//! any shard and hands the connection to the user's owner shard.

mod authed;
mod deflate;
mod disconnect;
mod idle;
mod io;
mod prelogin;
mod userdb;

pub use authed::resume;
pub use prelogin::serve;

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

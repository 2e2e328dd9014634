//! The privileged auth helper: a process forked at start-up, while the
//! server is still single-threaded and root, before shards start and
//! before the main process drops its privileges.
//!
//! ```text
//! tern (main, shards; drops to mail_uid)
//!  └─ tern-auth-sup   (root) keeps the helper ends of the shard sockets,
//!      │                     restarts the worker when it dies
//!      └─ tern-auth   (root) reads requests, runs PAM/NSS/passwd-file
//!                            on a bounded thread pool
//! ```
//!
//! One SOCK_SEQPACKET socket pair per shard carries the frames of
//! `auth::protocol`, one frame per packet, pipelined by request id. The
//! supervisor holds the helper ends, so a restarted worker serves the very
//! same sockets: shards never reconnect. A new worker first sends a
//! `HELLO_ID` failure on every socket; the shard then fails whatever it was
//! still waiting for (lost with the old worker) with a temporary error.
//! Requests the old worker had not read yet stay queued in the socket and
//! are answered by the new one (a packet is read whole or not at all).
//! Both helper processes die with their parent: PR_SET_PDEATHSIG while the
//! server is still root, and the supervisor also leaves when the server's
//! socket ends close (the death signal is not delivered once the server
//! has dropped root).

pub mod config;
pub mod engine;
mod supervisor;
#[allow(unsafe_code)] // the FFI module, see its header
pub mod sys;
mod worker;

pub use config::{HelperConfig, HelperConfigError};
pub use supervisor::{HelperError, HelperProcess, start};

/// Request id that no shard uses: a response with it announces a new
/// worker.
pub const HELLO_ID: u32 = 0;
